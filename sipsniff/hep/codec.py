"""Decode HEPv1/v2/v3 and encode HEPv3, without I/O.

Every length is checked against the bytes actually present; any lie raises
``HepError`` with what was wrong and where, so the caller can make one Diagnostic.
"""

from __future__ import annotations

import ipaddress
import struct
import zlib
from dataclasses import dataclass

__all__ = ["MAX_INFLATED", "HepError", "HepPacket", "decode", "encode"]

MAX_INFLATED = 1 << 20
"""Bound on a compressed payload once inflated (a zip bomb must not eat memory)."""

_MAGIC = b"HEP3"
_CHUNK_HDR = 6


class HepError(ValueError):
    """The bytes are not a well-formed HEP packet."""


@dataclass(frozen=True, slots=True)
class HepPacket:
    """One HEP packet: the captured payload and how it travelled."""

    version: int
    family: int
    """2 = IPv4, 10 = IPv6 (socket AF numbers as HEP uses them)."""
    ip_proto: int
    src_ip: str
    dst_ip: str
    src_port: int
    dst_port: int
    payload: bytes
    ts_sec: int | None = None
    ts_usec: int | None = None
    proto_type: int = 1
    """1 = SIP."""
    capture_id: int | None = None
    auth_key: bytes | None = None
    correlation_id: bytes | None = None
    node_name: bytes | None = None


def _ip(raw: bytes, what: str) -> str:
    try:
        return str(ipaddress.ip_address(raw))
    except ValueError as e:  # pragma: no cover - 4/16 bytes are always valid
        raise HepError(f"bad {what} address") from e


def _inflate(raw: bytes) -> bytes:
    d = zlib.decompressobj()
    try:
        out = d.decompress(raw, MAX_INFLATED + 1)
    except zlib.error as e:
        raise HepError(f"compressed payload: {e}") from e
    if len(out) > MAX_INFLATED:
        raise HepError(f"compressed payload inflates beyond {MAX_INFLATED} bytes")
    return out


def _decode_v3(data: bytes) -> HepPacket:
    if len(data) < 6:
        raise HepError(f"HEPv3 header truncated: {len(data)} of 6 bytes")
    (total,) = struct.unpack_from("!H", data, 4)
    if total < 6 or total > len(data):
        raise HepError(f"HEPv3 total length {total} but {len(data)} bytes present")
    f: dict[int, bytes] = {}
    off = 6
    while off < total:
        if total - off < _CHUNK_HDR:
            raise HepError(f"chunk header at offset {off} truncated")
        vendor, ctype, clen = struct.unpack_from("!HHH", data, off)
        if clen < _CHUNK_HDR or off + clen > total:
            raise HepError(f"chunk type {ctype} at offset {off}: length {clen} exceeds packet")
        if vendor == 0:
            f[ctype] = data[off + _CHUNK_HDR : off + clen]
        off += clen

    def u(ctype: int, size: int, name: str) -> int | None:
        v = f.get(ctype)
        if v is None:
            return None
        if len(v) != size:
            raise HepError(f"chunk {ctype} ({name}) has {len(v)} bytes, expected {size}")
        return int.from_bytes(v, "big")

    family = u(1, 1, "ip family")
    if family is None:
        raise HepError("HEPv3 without ip family chunk")
    ip_proto = u(2, 1, "ip proto") or 0
    if family == 2:
        s, d, size = f.get(3), f.get(4), 4
    elif family == 10:
        s, d, size = f.get(5), f.get(6), 16
    else:
        raise HepError(f"unknown ip family {family}")
    if s is None or d is None or len(s) != size or len(d) != size:
        raise HepError(f"missing or bad address chunks for family {family}")
    if 16 in f:
        payload = _inflate(f[16])
    elif 15 in f:
        payload = f[15]
    else:
        raise HepError("HEPv3 without payload chunk")
    return HepPacket(
        version=3,
        family=family,
        ip_proto=ip_proto,
        src_ip=_ip(s, "source"),
        dst_ip=_ip(d, "destination"),
        src_port=u(7, 2, "source port") or 0,
        dst_port=u(8, 2, "destination port") or 0,
        payload=payload,
        ts_sec=u(9, 4, "timestamp seconds"),
        ts_usec=u(10, 4, "timestamp microseconds"),
        proto_type=u(11, 1, "proto type") or 0,
        capture_id=u(12, 4, "capture id"),
        auth_key=f.get(14),
        correlation_id=f.get(17),
        node_name=f.get(19),
    )


def _decode_v12(data: bytes) -> HepPacket:
    version = data[0]
    if len(data) < 4:
        raise HepError(f"HEPv{version} header truncated: {len(data)} bytes")
    hlen, family, proto = data[1], data[2], data[3]
    addr = 4 if family == 2 else 16 if family == 10 else 0
    if not addr:
        raise HepError(f"HEPv{version}: unknown ip family {family}")
    want = 8 + 2 * addr + (12 if version == 2 else 0)
    if hlen != want:
        raise HepError(f"HEPv{version} header length {hlen}, expected {want}")
    if len(data) < hlen:
        raise HepError(f"HEPv{version} header truncated: {len(data)} of {hlen} bytes")
    sport, dport = struct.unpack_from("!HH", data, 4)
    src = _ip(data[8 : 8 + addr], "source")
    dst = _ip(data[8 + addr : 8 + 2 * addr], "destination")
    ts_sec = ts_usec = cid = None
    if version == 2:
        ts_sec, ts_usec, cid = struct.unpack_from("<IIH", data, 8 + 2 * addr)
    return HepPacket(
        version, family, proto, src, dst, sport, dport, data[hlen:], ts_sec, ts_usec, 1, cid
    )


def decode(data: bytes) -> HepPacket:
    """Decode one HEP packet, raising ``HepError`` on anything malformed."""
    if data[:4] == _MAGIC:
        return _decode_v3(data)
    if data[:1] in (b"\x01", b"\x02"):
        return _decode_v12(data)
    raise HepError("not HEP: no HEP3 magic and version byte is not 1 or 2")


def _chunk(ctype: int, value: bytes) -> bytes:
    return struct.pack("!HHH", 0, ctype, _CHUNK_HDR + len(value)) + value


def encode(p: HepPacket) -> bytes:
    """Encode as HEPv3 (whatever ``p.version`` says)."""
    a4 = p.family == 2
    parts = [
        _chunk(1, bytes([p.family])),
        _chunk(2, bytes([p.ip_proto])),
        _chunk(3 if a4 else 5, ipaddress.ip_address(p.src_ip).packed),
        _chunk(4 if a4 else 6, ipaddress.ip_address(p.dst_ip).packed),
        _chunk(7, struct.pack("!H", p.src_port)),
        _chunk(8, struct.pack("!H", p.dst_port)),
    ]
    if p.ts_sec is not None:
        parts.append(_chunk(9, struct.pack("!I", p.ts_sec)))
    if p.ts_usec is not None:
        parts.append(_chunk(10, struct.pack("!I", p.ts_usec)))
    parts.append(_chunk(11, bytes([p.proto_type])))
    if p.capture_id is not None:
        parts.append(_chunk(12, struct.pack("!I", p.capture_id)))
    for ctype, v in ((14, p.auth_key), (17, p.correlation_id), (19, p.node_name)):
        if v is not None:
            parts.append(_chunk(ctype, v))
    parts.append(_chunk(15, p.payload))
    body = b"".join(parts)
    total = 6 + len(body)
    if total > 0xFFFF:
        raise HepError(f"HEPv3 packet of {total} bytes exceeds 65535")
    return _MAGIC + struct.pack("!H", total) + body
