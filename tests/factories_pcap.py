"""Byte builders for capture and decode tests: link layers, IP, UDP/TCP, pcap and pcapng files.

Strategy: every builder returns plain ``bytes`` so tests can compose layers
the way the wire does (``eth(ipv4(udp(sip)))``), write them with ``pcap()`` or
``pcapng()``, or hand them straight to the decoder as a ``Frame``.  Checksums
are left at zero: sipsniff (like Wireshark by default) does not verify them.

Rules:
- No scapy: the builders must be as transparent as the decoder they test, and
  scapy is banned outside ``capture/live.py``.
- Crafted binary fixtures are built here in code rather than checked in, so
  each test names what it proves next to the bytes that prove it.
"""

from __future__ import annotations

import ipaddress
import itertools
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sipsniff.capture.frame import Frame, LinkType
from sipsniff.decode.payload import Endpoint

__all__ = [
    "ACK",
    "C4",
    "C6",
    "FIN",
    "PSH",
    "RST",
    "S4",
    "S6",
    "SYN",
    "Packet",
    "TcpStream",
    "epb",
    "eth",
    "frame",
    "idb",
    "ipv4",
    "ipv4_fragments",
    "ipv6",
    "ipv6_ext",
    "ipv6_fragments",
    "loopback",
    "obsolete_pb",
    "other_block",
    "pcap",
    "pcapng",
    "shb",
    "sll",
    "sll2",
    "spb",
    "tcp",
    "udp",
    "udp_packet",
]

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
ETH_IPV4, ETH_IPV6, ETH_ARP = 0x0800, 0x86DD, 0x0806
PROTO_TCP, PROTO_UDP, PROTO_IPIP, PROTO_IPV6, PROTO_FRAG = 6, 17, 4, 41, 44

C4, S4 = Endpoint("192.0.2.10", 5061), Endpoint("192.0.2.20", 5060)
C6, S6 = Endpoint("2001:db8::10", 5061), Endpoint("2001:db8::20", 5060)


# -- link layers ------------------------------------------------------------
def eth(payload: bytes, ethertype: int = ETH_IPV4, vlans: Sequence[tuple[int, int]] = ()) -> bytes:
    """Ethernet II; ``vlans`` are ``(tpid, vid)`` tags, outermost first (0x88a8 then 0x8100)."""
    tags = b"".join(struct.pack("!HH", tpid, vid) for tpid, vid in vlans)
    return (
        b"\x02\x00\x00\x00\x00\x02"
        + b"\x02\x00\x00\x00\x00\x01"
        + tags
        + (struct.pack("!H", ethertype) + payload)
    )


def sll(payload: bytes, protocol: int = ETH_IPV4) -> bytes:
    """Linux cooked capture v1: 16-byte header ending with the protocol (an ethertype)."""
    return struct.pack("!HHH8sH", 0, 772, 6, b"\x02\x00\x00\x00\x00\x01\x00\x00", protocol) + (
        payload
    )


def sll2(payload: bytes, protocol: int = ETH_IPV4) -> bytes:
    """Linux cooked capture v2: 20-byte header starting with the protocol."""
    return struct.pack("!HHIHBB8s", protocol, 0, 1, 772, 0, 6, b"\x02" + b"\x00" * 7) + payload


def loopback(payload: bytes, family: int = 2, order: str = "<") -> bytes:
    """BSD null/loopback: a 4-byte address family in host (``<``) or network (``>``) order."""
    return struct.pack(order + "I", family) + payload


# -- network layer ----------------------------------------------------------
def _addr(ip: str) -> bytes:
    return ipaddress.ip_address(ip).packed


def ipv4(
    payload: bytes,
    src: str = C4.ip,
    dst: str = S4.ip,
    proto: int = PROTO_UDP,
    *,
    ident: int = 1,
    frag_offset: int = 0,
    more: bool = False,
    total: int | None = None,
    options: bytes = b"",
    version_ihl: int | None = None,
) -> bytes:
    """An IPv4 header (checksum zero) and payload; ``frag_offset`` is in bytes (multiple of 8)."""
    ihl = 5 + len(options) // 4
    flags = (0x2000 if more else 0) | (frag_offset // 8)
    length = 20 + len(options) + len(payload) if total is None else total
    vihl = (0x40 | ihl) if version_ihl is None else version_ihl
    head = struct.pack(
        "!BBHHHBBH4s4s", vihl, 0, length, ident, flags, 64, proto, 0, _addr(src), _addr(dst)
    )
    return head + options + payload


def ipv6(
    payload: bytes,
    src: str = C6.ip,
    dst: str = S6.ip,
    nxt: int = PROTO_UDP,
    *,
    plen: int | None = None,
) -> bytes:
    """An IPv6 header and payload (``payload`` may start with extension headers)."""
    length = len(payload) if plen is None else plen
    return struct.pack("!IHBB16s16s", 0x60000000, length, nxt, 64, _addr(src), _addr(dst)) + (
        payload
    )


def ipv6_ext(nxt: int, kind: int, size: int = 8) -> bytes:
    """One IPv6 extension header of ``size`` bytes (hop-by-hop 0, routing 43, dest opts 60, AH 51).

    Args:
        nxt: the next-header value it carries.
        kind: its own type, which decides how its length byte is counted.
        size: total length in bytes (a multiple of 8; of 4 for AH).
    """
    hdr_len = size // 4 - 2 if kind == 51 else size // 8 - 1
    return struct.pack("!BB", nxt, hdr_len) + b"\x00" * (size - 2)


def ipv4_fragments(
    inner: bytes,
    size: int,
    src: str = C4.ip,
    dst: str = S4.ip,
    proto: int = PROTO_UDP,
    ident: int = 0x1234,
) -> list[bytes]:
    """Split an IPv4 payload (a UDP datagram, say) into fragments of ``size`` bytes (x8)."""
    return [
        ipv4(piece, src, dst, proto, ident=ident, frag_offset=off, more=more)
        for off, piece, more in _pieces(inner, size)
    ]


def _pieces(inner: bytes, size: int) -> list[tuple[int, bytes, bool]]:
    """``(offset, bytes, more fragments follow)`` for each fragment of ``size`` (x8) bytes."""
    assert size % 8 == 0
    return [
        (off, inner[off : off + size], off + size < len(inner))
        for off in range(0, len(inner), size)
    ]


def ipv6_fragments(
    inner: bytes,
    size: int,
    src: str = C6.ip,
    dst: str = S6.ip,
    nxt: int = PROTO_UDP,
    ident: int = 0xABCDEF,
) -> list[bytes]:
    """Split an IPv6 payload into fragments, each behind a fragment extension header."""
    return [
        ipv6(struct.pack("!BBHI", nxt, 0, off | int(more), ident) + piece, src, dst, PROTO_FRAG)
        for off, piece, more in _pieces(inner, size)
    ]


# -- transport layer --------------------------------------------------------
def udp(
    payload: bytes, sport: int = C4.port, dport: int = S4.port, length: int | None = None
) -> bytes:
    """A UDP header (checksum zero) and payload."""
    ulen = 8 + len(payload) if length is None else length
    return struct.pack("!HHHH", sport, dport, ulen, 0) + payload


def tcp(
    payload: bytes,
    sport: int = C4.port,
    dport: int = S4.port,
    seq: int = 1000,
    flags: int = ACK | PSH,
    *,
    ack: int = 0,
    options: bytes = b"",
    data_offset: int | None = None,
) -> bytes:
    """A TCP header (checksum zero) and payload."""
    words = (20 + len(options)) // 4 if data_offset is None else data_offset
    head = struct.pack(
        "!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack, words << 4, flags, 65535, 0, 0
    )
    return head + options + payload


def udp_packet(data: bytes, src: Endpoint = C4, dst: Endpoint = S4) -> bytes:
    """An IPv4 or IPv6 packet (no link layer) carrying one UDP datagram."""
    if ":" in src.ip:
        return ipv6(udp(data, src.port, dst.port), src.ip, dst.ip)
    return ipv4(udp(data, src.port, dst.port), src.ip, dst.ip)


@dataclass
class TcpStream:
    """Both directions of one connection, tracking sequence numbers like a real stack.

    ``segment(data)`` returns a raw IP packet for the next in-order bytes;
    ``at(data, seq)`` builds a segment at an explicit sequence number, to replay,
    reorder or overlap.
    """

    client: Endpoint = C4
    server: Endpoint = S4
    isn: tuple[int, int] = (1000, 9000)
    next_seq: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.next_seq = [self.isn[0] + 1, self.isn[1] + 1]

    def _ends(self, reply: bool) -> tuple[Endpoint, Endpoint]:
        return (self.server, self.client) if reply else (self.client, self.server)

    def _ip(self, seg: bytes, src: Endpoint, dst: Endpoint) -> bytes:
        if ":" in src.ip:
            return ipv6(seg, src.ip, dst.ip, PROTO_TCP)
        return ipv4(seg, src.ip, dst.ip, PROTO_TCP)

    def handshake(self) -> list[bytes]:
        c, s = self.client, self.server
        return [
            self._ip(tcp(b"", c.port, s.port, self.isn[0], SYN), c, s),
            self._ip(tcp(b"", s.port, c.port, self.isn[1], SYN | ACK), s, c),
            self._ip(tcp(b"", c.port, s.port, self.isn[0] + 1, ACK), c, s),
        ]

    def at(self, data: bytes, seq: int, *, reply: bool = False, flags: int = ACK | PSH) -> bytes:
        src, dst = self._ends(reply)
        return self._ip(tcp(data, src.port, dst.port, seq, flags), src, dst)

    def segment(self, data: bytes, *, reply: bool = False, flags: int = ACK | PSH) -> bytes:
        d = int(reply)
        seq = self.next_seq[d]
        self.next_seq[d] = (seq + len(data) + (1 if flags & (SYN | FIN) else 0)) & 0xFFFFFFFF
        return self.at(data, seq, reply=reply, flags=flags)

    def segments(self, data: bytes, cuts: Iterable[int], *, reply: bool = False) -> list[bytes]:
        """Cut ``data`` at the given offsets and return one segment per piece, in order."""
        bounds = [0, *sorted(set(cuts) - {0, len(data)}), len(data)]
        return [self.segment(data[a:b], reply=reply) for a, b in itertools.pairwise(bounds)]


# -- frames and files -------------------------------------------------------
@dataclass(frozen=True)
class Packet:
    """One record for a capture file."""

    data: bytes
    ts_ns: int = 1_700_000_000_000_000_000
    orig_len: int | None = None
    iface: int = 0


def frame(
    data: bytes, number: int = 1, linktype: int = LinkType.RAW, ts_ns: int = 0, orig_len: int = 0
) -> Frame:
    """A Frame for feeding the decoder directly (raw IP by default)."""
    return Frame(number, ts_ns, linktype, data, orig_len or len(data))


def pcap(
    packets: Iterable[Packet | bytes],
    *,
    linktype: int = LinkType.RAW,
    order: str = "<",
    nanos: bool = False,
    snaplen: int = 262_144,
) -> bytes:
    """A classic pcap file: either byte order, microsecond or nanosecond timestamps."""
    magic = 0xA1B23C4D if nanos else 0xA1B2C3D4
    out = [struct.pack(order + "IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype)]
    for i, p in enumerate(packets):
        if isinstance(p, bytes):
            p = Packet(p, ts_ns=1_700_000_000_000_000_000 + i * 10_000_000)
        sec, frac = divmod(p.ts_ns, 1_000_000_000)
        if not nanos:
            frac //= 1000
        orig = len(p.data) if p.orig_len is None else p.orig_len
        out.append(struct.pack(order + "IIII", sec, frac, len(p.data), orig) + p.data)
    return b"".join(out)


def _block(btype: int, body: bytes, order: str) -> bytes:
    body += b"\x00" * (-len(body) % 4)
    length = 12 + len(body)
    return struct.pack(order + "II", btype, length) + body + struct.pack(order + "I", length)


def _option(code: int, value: bytes, order: str) -> bytes:
    return struct.pack(order + "HH", code, len(value)) + value + b"\x00" * (-len(value) % 4)


def shb(order: str = "<") -> bytes:
    """A section header block (version 1.0, unknown section length)."""
    bom = struct.pack(order + "I", 0x1A2B3C4D)
    return _block(0x0A0D0D0A, bom + struct.pack(order + "HHq", 1, 0, -1), order)


def idb(linktype: int, tsresol: int | None = None, order: str = "<") -> bytes:
    """An interface description block; ``tsresol`` is the raw if_tsresol option byte."""
    body = struct.pack(order + "HHI", linktype, 0, 262_144)
    if tsresol is not None:
        body += _option(9, bytes([tsresol]), order) + _option(0, b"", order)
    return _block(1, body, order)


def epb(
    iface: int, ts_units: int, data: bytes, orig_len: int | None = None, order: str = "<"
) -> bytes:
    """An enhanced packet block; ``ts_units`` counts in the interface's resolution."""
    orig = len(data) if orig_len is None else orig_len
    head = struct.pack(
        order + "IIIII", iface, ts_units >> 32, ts_units & 0xFFFFFFFF, len(data), orig
    )
    return _block(
        6, head + data + b"\x00" * (-len(data) % 4) + _option(1, b"a comment", order), order
    )


def spb(data: bytes, order: str = "<") -> bytes:
    """A simple packet block (no timestamp, interface 0)."""
    return _block(3, struct.pack(order + "I", len(data)) + data, order)


def obsolete_pb(iface: int, ts_units: int, data: bytes, order: str = "<") -> bytes:
    """A Packet Block (type 2), obsolete but still written by some old tools."""
    head = struct.pack(
        order + "HHIIII", iface, 0, ts_units >> 32, ts_units & 0xFFFFFFFF, len(data), len(data)
    )
    return _block(2, head + data, order)


def other_block(btype: int, body: bytes = b"\x00" * 8, order: str = "<") -> bytes:
    """Any other block (name resolution 4, interface statistics 5, custom 0xBAD)."""
    return _block(btype, body, order)


def pcapng(
    interfaces: Sequence[tuple[int, int | None]],
    packets: Iterable[tuple[int, int, bytes]],
    *,
    order: str = "<",
) -> bytes:
    """One section: interfaces as ``(linktype, tsresol)``, packets as ``(iface, ts_units, data)``."""
    out = [shb(order)]
    out += [idb(lt, res, order) for lt, res in interfaces]
    out += [epb(i, ts, d, order=order) for i, ts, d in packets]
    return b"".join(out)
