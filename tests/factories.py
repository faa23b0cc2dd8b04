"""Record builders for tests: SIP message bytes, parsed messages, pcap files, calls."""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from pathlib import Path

from sipsniff.decode.payload import Endpoint, Transport
from sipsniff.dialogs.call import Call
from sipsniff.dialogs.tracker import DialogTracker
from sipsniff.sip.message import SipMessage, parse_message

A = Endpoint("127.0.0.1", 5061)
B = Endpoint("127.0.0.1", 5060)

SDP_OFFER = (
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio 6000 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n"
)


def sip_bytes(
    start: str,
    *,
    call_id: str = "call-1@test",
    cseq: str = "1 INVITE",
    branch: str = "z9hG4bK-1",
    from_tag: str = "ft1",
    to_tag: str = "",
    body: str = "",
    extra: Sequence[str] = (),
    content_type: str = "application/sdp",
    vias: Sequence[str] = (),
) -> bytes:
    """A well-formed SIP message with the usual mandatory headers."""
    to = "<sip:bob@127.0.0.1>" + (f";tag={to_tag}" if to_tag else "")
    lines = [start]
    for v in vias or (f"SIP/2.0/UDP 127.0.0.1:5061;branch={branch}",):
        lines.append(f"Via: {v}")
    lines += [
        f'From: "Alice" <sip:alice@127.0.0.1>;tag={from_tag}',
        f"To: {to}",
        f"Call-ID: {call_id}",
        f"CSeq: {cseq}",
        "Max-Forwards: 70",
        "Contact: <sip:alice@127.0.0.1:5061>",
        *extra,
    ]
    if body:
        lines.append(f"Content-Type: {content_type}")
    lines.append(f"Content-Length: {len(body.encode())}")
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


def msg(
    data: bytes,
    *,
    frame: int = 1,
    t: float = 0.0,
    src: Endpoint = A,
    dst: Endpoint = B,
    transport: Transport = Transport.UDP,
) -> SipMessage:
    """Parse bytes into a SipMessage with the given frame, time (s) and addresses."""
    return parse_message(
        data, frame=frame, ts_ns=int(t * 1e9), src=src, dst=dst, transport=transport
    )


def make_invite(**kw: object) -> bytes:
    return sip_bytes("INVITE sip:bob@127.0.0.1 SIP/2.0", body=SDP_OFFER, **kw)  # type: ignore[arg-type]


def make_response(code: int, reason: str, **kw: object) -> bytes:
    kw.setdefault("to_tag", "tt1")
    return sip_bytes(f"SIP/2.0 {code} {reason}", **kw)  # type: ignore[arg-type]


def make_call(messages: Iterable[SipMessage]) -> Call:
    """Run messages through a tracker and return the single resulting call."""
    tracker = DialogTracker(lambda d: None)
    out: list[Call] = []
    for m in messages:
        out.extend(tracker.feed(m))
    out.extend(tracker.flush())
    assert len(out) == 1, f"expected one call, got {len(out)}"
    return out[0]


def ipv4_udp_frame(payload: bytes, src: Endpoint = A, dst: Endpoint = B) -> bytes:
    """An Ethernet/IPv4/UDP frame (checksums zero) carrying ``payload``."""
    import socket

    udp = struct.pack("!HHHH", src.port, dst.port, 8 + len(payload), 0) + payload
    ip = struct.pack(
        "!BBHHHBBH4s4s",
        0x45,
        0,
        20 + len(udp),
        1,
        0,
        64,
        17,
        0,
        socket.inet_aton(src.ip),
        socket.inet_aton(dst.ip),
    )
    return b"\x00" * 12 + b"\x08\x00" + ip + udp


def write_pcap(
    path: Path, frames: Iterable[bytes], *, linktype: int = 1, t0: float = 1_700_000_000.0
) -> Path:
    """Write a classic little-endian microsecond pcap, one frame per 10 ms."""
    with open(path, "wb") as fp:
        fp.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, linktype))
        for i, data in enumerate(frames):
            ts = t0 + i * 0.01
            sec = int(ts)
            usec = round((ts - sec) * 1e6)
            fp.write(struct.pack("<IIII", sec, usec, len(data), len(data)) + data)
    return path
