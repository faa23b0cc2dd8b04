#!/usr/bin/env python3
"""Write captures/hostile.pcap: crafted SIP traffic that no real stack would send.

Run as ``python3 captures/make_hostile.py`` (stdlib only, no root needed). The output
is byte-for-byte the same on every run: fixed timestamps, fixed IP IDs, fixed junk.

Every packet is Ethernet / IPv4 / UDP on the loopback address 127.0.0.1, to or from
port 5060, with correct IPv4 and UDP checksums. Its point is to prove that sipsniff
never trusts wire text: markup, HTML, terminal escapes, NUL bytes and invalid UTF-8 in
headers must be shown as inert text, and junk must be reported, not crash anything.
The frames (numbered from 1 as Wireshark does) are listed in FRAMES at the end of the
file and in captures/README.md.
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent / "hostile.pcap"

LINKTYPE_ETHERNET = 1
SNAPLEN = 262144
T0 = 1_700_000_000  # 2023-11-14T22:13:20Z, fixed so the file is deterministic

UAC = ("127.0.0.1", 5061)
UAS = ("127.0.0.1", 5060)

SCRIPT = b"<script>alert(1)</script>"
MARKUP = b"[bold red]HACK[/bold red]"
ANSI = b"\x1b[2J\x1b[31m"
OSC_TITLE = b"\x1b]0;pwned\x07"  # xterm "set window title"
NULS = b"nul\x00inside\x00"
BAD_UTF8 = b"\xff\xfe"


def checksum(data: bytes) -> int:
    """RFC 1071 Internet checksum."""
    if len(data) % 2:
        data += b"\x00"
    total: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def ip4(addr: str) -> bytes:
    return bytes(int(part) for part in addr.split("."))


def udp_frame(src: tuple[str, int], dst: tuple[str, int], payload: bytes, ip_id: int) -> bytes:
    """Ethernet II + IPv4 (DF, TTL 64) + UDP with payload; lengths and checksums correct."""
    udp_len = 8 + len(payload)
    total_len = 20 + udp_len
    if total_len > 0xFFFF:
        raise ValueError(f"datagram too big for IPv4: {total_len} bytes")
    pseudo = ip4(src[0]) + ip4(dst[0]) + struct.pack("!BBH", 0, 17, udp_len)
    udp = struct.pack("!HHHH", src[1], dst[1], udp_len, 0) + payload
    udp_sum = checksum(pseudo + udp) or 0xFFFF
    udp = udp[:6] + struct.pack("!H", udp_sum) + udp[8:]
    ip = struct.pack(
        "!BBHHHBBH4s4s", 0x45, 0, total_len, ip_id, 0x4000, 64, 17, 0, ip4(src[0]), ip4(dst[0])
    )
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    ether = b"\x00" * 12 + b"\x08\x00"  # Linux lo: zero MACs, IPv4
    return ether + ip + udp


def sip(
    start_line: bytes, headers: list[bytes], body: bytes = b"", content_length: int | None = None
) -> bytes:
    """A SIP message with CRLF line ends; Content-Length is the body's unless overridden."""
    cl = len(body) if content_length is None else content_length
    lines = [start_line, *headers, b"Content-Length: %d" % cl]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


# --- the hostile call: INVITE / 100 / 486 / ACK, complete and well framed -----------------
CALL_ID = b"hostile-call-1@127.0.0.1"
VIA = b"Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-hostile-1-inv"
FROM = b'From: "' + SCRIPT + b'" <sip:mallory@127.0.0.1>;tag=hostile-uac-1'
TO = b'To: "' + MARKUP + b'" <sip:bob@127.0.0.1>'
TO_TAGGED = TO + b";tag=hostile-uas-1"

SDP = (
    b"\r\n".join(
        [
            b"v=0",
            b"o=mallory 1 1 IN IP4 127.0.0.1",
            b"s=<img src=x onerror=alert(1)> " + MARKUP,
            b"c=IN IP4 127.0.0.1",
            b"t=0 0",
            b"m=audio 49170 RTP/AVP 0",
            b"a=rtpmap:0 PCMU/8000",
            b"a=tool:" + ANSI + b"evil" + OSC_TITLE,
        ]
    )
    + b"\r\n"
)

INVITE = sip(
    b"INVITE sip:bob@127.0.0.1:5060 SIP/2.0",
    [
        VIA,
        b"Max-Forwards: 70",
        FROM,
        TO,
        b"Call-ID: " + CALL_ID,
        b"CSeq: 1 INVITE",
        b"Contact: <sip:mallory@127.0.0.1:5061>",
        b"Subject: " + MARKUP + b" " + SCRIPT,
        b"User-Agent: " + ANSI + b"EvilPhone/1.0" + OSC_TITLE + b"\x1b[0m",
        b"X-Nul: " + NULS + b"end",
        b"X-Bad-UTF8: " + BAD_UTF8 + b" not utf-8 " + BAD_UTF8,
        b'X-Html: <a href="javascript:alert(1)">click</a> &amp; &#x3c;',
        b"Content-Type: application/sdp",
    ],
    SDP,
)

TRYING = sip(
    b"SIP/2.0 100 Trying",
    [
        VIA,
        FROM,
        TO,
        b"Call-ID: " + CALL_ID,
        b"CSeq: 1 INVITE",
    ],
)

BUSY = sip(
    b"SIP/2.0 486 Busy Here",
    [
        VIA,
        FROM,
        TO_TAGGED,
        b"Call-ID: " + CALL_ID,
        b"CSeq: 1 INVITE",
        b'Warning: 399 127.0.0.1 "' + SCRIPT + b" " + MARKUP + b'"',
        b"Server: " + MARKUP + b" " + ANSI + b"EvilPBX" + b"\x1b[0m",
        b'Reason: Q.850;cause=17;text="' + SCRIPT + b'"',
    ],
)

ACK = sip(
    b"ACK sip:bob@127.0.0.1:5060 SIP/2.0",
    [
        VIA,
        b"Max-Forwards: 70",
        FROM,
        TO_TAGGED,
        b"Call-ID: " + CALL_ID,
        b"CSeq: 1 ACK",
    ],
)

# --- an OPTIONS whose Call-ID itself is markup + HTML (legal: Call-ID "word" allows <>[]/) --
EVIL_CALL_ID = MARKUP + SCRIPT + b"@127.0.0.1"
OPT_VIA = b"Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-hostile-2-opt"
OPT_FROM = b'From: "' + NULS + BAD_UTF8 + b'" <sip:mallory@127.0.0.1>;tag=hostile-uac-2'
OPT_TO = b"To: <sip:127.0.0.1:5060>"
OPTIONS = sip(
    b"OPTIONS sip:127.0.0.1:5060 SIP/2.0",
    [
        OPT_VIA,
        b"Max-Forwards: 70",
        OPT_FROM,
        OPT_TO,
        b"Call-ID: " + EVIL_CALL_ID,
        b"CSeq: 1 OPTIONS",
        b"Accept: application/sdp",
    ],
)
OPTIONS_OK = sip(
    b"SIP/2.0 200 OK",
    [
        OPT_VIA,
        OPT_FROM,
        OPT_TO + b";tag=hostile-uas-2",
        b"Call-ID: " + EVIL_CALL_ID,
        b"CSeq: 1 OPTIONS",
        b"Allow: INVITE, ACK, CANCEL, BYE, OPTIONS",
    ],
)

# --- one header of 60,000 bytes in a single UDP datagram (above any Ethernet MTU) ----------
HUGE_UA = b"HugeAgent/" + b"A" * 59_990  # exactly 60,000 bytes
assert len(HUGE_UA) == 60_000
HUGE = sip(
    b"OPTIONS sip:127.0.0.1:5060 SIP/2.0",
    [
        b"Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-hostile-3-opt",
        b"Max-Forwards: 70",
        b"From: <sip:mallory@127.0.0.1>;tag=hostile-uac-3",
        b"To: <sip:127.0.0.1:5060>",
        b"Call-ID: huge-header-1@127.0.0.1",
        b"CSeq: 1 OPTIONS",
        b"User-Agent: " + HUGE_UA,
    ],
)

# --- garbage sent to port 5060 -----------------------------------------------------------
JUNK = bytes((i * 37 + 11) % 256 for i in range(512))  # fixed "random" binary bytes
HTTP = (
    b"GET /index.html HTTP/1.1\r\nHost: 127.0.0.1:5060\r\nUser-Agent: curl/8.0\r\n"
    b"Accept: */*\r\n\r\n"
)
TRUNC_BODY = b"v=0\r\no=mallory 3 3 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
TRUNCATED = sip(
    b"INVITE sip:bob@127.0.0.1:5060 SIP/2.0",
    [
        b"Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-hostile-4-inv",
        b"Max-Forwards: 70",
        b"From: <sip:mallory@127.0.0.1>;tag=hostile-uac-4",
        b"To: <sip:bob@127.0.0.1>",
        b"Call-ID: truncated-1@127.0.0.1",
        b"CSeq: 1 INVITE",
        b"Content-Type: application/sdp",
    ],
    TRUNC_BODY,
    content_length=500,
)  # claims 500 bytes, carries far fewer
BAD_START = sip(
    b"INVITE sip:bob@127.0.0.1:5060 SIP/9.9 " + MARKUP,
    [
        b"Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-hostile-5-inv",
        b"From: <sip:mallory@127.0.0.1>;tag=hostile-uac-5",
        b"To: <sip:bob@127.0.0.1>",
        b"Call-ID: bad-start-1@127.0.0.1",
        b"CSeq: 1 INVITE",
    ],
)
BAD_STATUS = sip(
    b"SIP/2.0 2OO " + SCRIPT,
    [
        b"Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-hostile-5-inv",
        b"Call-ID: bad-start-1@127.0.0.1",
        b"CSeq: 1 INVITE",
    ],
)
KEEPALIVE = b"\r\n\r\n"
EMPTY = b""

JUNK_SRC = ("127.0.0.1", 40000)

# (seconds after T0, source, destination, payload, what it is)
FRAMES: list[tuple[float, tuple[str, int], tuple[str, int], bytes, str]] = [
    (
        0.000,
        UAC,
        UAS,
        INVITE,
        "INVITE, From display name <script>, To display name rich markup, "
        "ANSI/OSC escapes, NUL bytes, invalid UTF-8, hostile SDP",
    ),
    (0.010, UAS, UAC, TRYING, "100 Trying"),
    (0.500, UAS, UAC, BUSY, "486 Busy Here with hostile Warning/Server/Reason"),
    (0.510, UAC, UAS, ACK, "ACK for the 486 (the call is complete: rejected busy)"),
    (
        1.000,
        UAC,
        UAS,
        OPTIONS,
        "OPTIONS whose Call-ID is markup + <script>, From with NUL/0xff 0xfe",
    ),
    (1.010, UAS, UAC, OPTIONS_OK, "200 OK to that OPTIONS"),
    (2.000, UAC, UAS, HUGE, "OPTIONS with a 60,000-byte User-Agent in one 60 kB datagram"),
    (3.000, JUNK_SRC, UAS, JUNK, "512 bytes of binary junk"),
    (3.100, (JUNK_SRC[0], 40001), UAS, HTTP, "an HTTP GET request"),
    (3.200, UAC, UAS, TRUNCATED, "INVITE whose Content-Length (500) exceeds its body"),
    (3.300, UAC, UAS, BAD_START, "request line with version SIP/9.9 and trailing markup"),
    (3.400, UAS, UAC, BAD_STATUS, "status line with status code '2OO' (letters O)"),
    (3.500, UAC, UAS, KEEPALIVE, "CRLF CRLF keep-alive"),
    (3.600, (JUNK_SRC[0], 40002), UAS, EMPTY, "empty UDP datagram"),
]


def build() -> bytes:
    out = bytearray(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, SNAPLEN, LINKTYPE_ETHERNET))
    for n, (offset, src, dst, payload, _what) in enumerate(FRAMES, start=1):
        frame = udp_frame(src, dst, payload, ip_id=0x1000 + n)
        usec_total = round(offset * 1_000_000)
        sec, usec = T0 + usec_total // 1_000_000, usec_total % 1_000_000
        out += struct.pack("<IIII", sec, usec, len(frame), len(frame)) + frame
    return bytes(out)


def main() -> int:
    data = build()
    OUT.write_bytes(data)
    print(f"wrote {OUT} ({len(data)} bytes, {len(FRAMES)} frames)")
    for n, (offset, src, dst, payload, what) in enumerate(FRAMES, start=1):
        print(
            f"{n:4d} {offset:6.3f}  {src[0]}:{src[1]} -> {dst[0]}:{dst[1]}  "
            f"{len(payload):6d} B  {what}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
