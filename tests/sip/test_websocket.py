"""WebSocket framing (RFC 6455) for SIP over WebSocket (RFC 7118).

Proves the frame parser byte by byte (masked, fragmented, several frames per
chunk, extended lengths), that bad lengths give one diagnostic and the stream
resynchronises, and that both engines agree on a synthetic capture.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from factories import make_invite, make_response
from factories_pcap import TcpStream, pcap

from sipsniff.capture.sources import read_frames
from sipsniff.decode.payload import Endpoint, Payload, Transport
from sipsniff.diagnostics import Diagnostic, Trigger
from sipsniff.pipeline import Pipeline
from sipsniff.sip.framing import SipFramer
from sipsniff.sip.message import SipMessage
from sipsniff.sip.websocket import MAX_WS_MESSAGE, WsMessage, WsProblem, WsStream

UPGRADE = (
    b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Protocol: sip\r\n\r\n"
)
SWITCHED = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"
KEY = b"\x37\xfa\x21\x3d"


def ws_frame(payload: bytes, opcode: int = 1, *, fin: bool = True, key: bytes = b"") -> bytes:
    """One RFC 6455 frame, masked when ``key`` is given."""
    n = len(payload)
    b1 = 0x80 if key else 0
    if n < 126:
        head = bytes((opcode | (0x80 if fin else 0), b1 | n))
    elif n < 1 << 16:
        head = bytes((opcode | (0x80 if fin else 0), b1 | 126)) + struct.pack("!H", n)
    else:
        head = bytes((opcode | (0x80 if fin else 0), b1 | 127)) + struct.pack("!Q", n)
    if key:
        payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    return head + key + payload


def feed_bytewise(ws: WsStream, data: bytes) -> list[WsMessage | WsProblem]:
    out: list[WsMessage | WsProblem] = []
    for i in range(len(data)):
        out += ws.feed(data[i : i + 1], i + 1)
    return out


@pytest.mark.parametrize("key", [b"", KEY])
@pytest.mark.parametrize("size", [10, 200, 70_000])
def test_frames_byte_by_byte(key: bytes, size: int) -> None:
    body = make_invite() + b"x" * size
    stream = UPGRADE + ws_frame(b"", 9, key=key) + ws_frame(body, key=key)
    ws = WsStream()
    out = feed_bytewise(ws, stream)
    assert out == [WsMessage(len(stream), body)]  # the frame of the last byte
    assert ws.pings == 1 and ws.size() == 0


def test_fragmented_and_multi_frame_chunk() -> None:
    a, b = make_invite(), make_response(200, "OK")
    stream = (
        SWITCHED
        + ws_frame(a[:10], 1, fin=False, key=KEY)
        + ws_frame(b"", 10)
        + ws_frame(a[10:30], 0, fin=False)
        + ws_frame(a[30:], 0, key=KEY)
        + ws_frame(b, 2)
        + ws_frame(b"\x03\xe8", 8)
    )
    ws = WsStream()
    assert ws.feed(stream, 7) == [WsMessage(7, a), WsMessage(7, b)]
    assert (ws.pongs, ws.closes) == (1, 1)


def test_not_an_upgrade_is_handed_back() -> None:
    ws = WsStream()
    assert ws.feed(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nrest", 1) == []
    assert ws.rejected == b"GET / HTTP/1.1\r\nHost: x\r\n\r\nrest"


def test_lying_length_reports_once_and_resynchronises() -> None:
    good = make_invite()
    lie = b"\x81\x7f" + struct.pack("!Q", MAX_WS_MESSAGE + 1) + b"junk" * 50
    ws = WsStream()
    out = feed_bytewise(ws, SWITCHED + lie + ws_frame(good, key=KEY))
    problems = [e for e in out if isinstance(e, WsProblem)]
    assert len(problems) == 1 and "over" in problems[0].detail
    assert [e.data for e in out if isinstance(e, WsMessage)] == [good]
    assert ws.size() <= 21 + 14


def test_reserved_opcode_and_truncation() -> None:
    ws = WsStream()
    out = ws.feed(SWITCHED + b"\x83\x02ab" + ws_frame(make_invite()), 3)
    assert isinstance(out[0], WsProblem) and "reserved opcode" in out[0].detail
    assert isinstance(out[1], WsMessage)
    ws.feed(ws_frame(make_invite())[:40], 4)
    (problem,) = ws.close(5)
    assert problem.frame == 5 and "never completed" in problem.detail


def _payloads(framer: SipFramer, chunks: list[bytes], transport: Transport) -> list[SipMessage]:
    c, s = Endpoint("192.0.2.1", 40000), Endpoint("192.0.2.2", 8080)
    out: list[SipMessage] = []
    for i, chunk in enumerate(chunks):
        out += framer.feed(Payload(i + 1, 0, c, s, transport, chunk, 1, end=i == len(chunks) - 1))
    return out


@pytest.mark.parametrize(("carrier", "shown"), [(Transport.TCP, "WS"), (Transport.TLS, "WSS")])
def test_framer_hook(carrier: Transport, shown: str) -> None:
    diags: list[Diagnostic] = []
    framer = SipFramer(diags.append)
    data = UPGRADE + ws_frame(make_invite(), key=KEY) + ws_frame(b"\x81", 1, key=KEY)[:3]
    msgs = _payloads(framer, [data[:20], data[20:200], data[200:]], carrier)
    assert [(m.frame, m.method, str(m.transport)) for m in msgs] == [(3, "INVITE", shown)]
    assert [d.trigger for d in diags] == [Trigger.WEBSOCKET]
    assert len(framer.budget) == 0  # the stream ended: nothing held


def test_oversized_message_one_diagnostic() -> None:
    diags: list[Diagnostic] = []
    framer = SipFramer(diags.append)
    half = b"x" * (MAX_WS_MESSAGE // 2)
    more = ws_frame(half, 0, fin=False)
    chunks = [SWITCHED, ws_frame(half, fin=False), more, more, ws_frame(make_response(200, "OK"))]
    msgs = _payloads(framer, chunks, Transport.TCP)
    assert [m.status for m in msgs] == [200]
    assert [(d.frame, d.trigger) for d in diags] == [(4, Trigger.WEBSOCKET)]


def _capture(tmp_path: Path) -> Path:
    conn = TcpStream(Endpoint("192.0.2.1", 40000), Endpoint("192.0.2.2", 8080))
    inv, ok = make_invite(), make_response(200, "OK")
    up = UPGRADE + ws_frame(inv, key=KEY)
    down = SWITCHED + ws_frame(ok[:50], 1, fin=False) + ws_frame(ok[50:], 0)
    packets = [
        *conn.handshake(),
        *conn.segments(up, [30, len(UPGRADE) + 5]),
        *conn.segments(down, [len(SWITCHED) + 3, len(down) - 4], reply=True),
    ]
    path = tmp_path / "ws.pcap"
    path.write_bytes(pcap(packets))
    return path


def test_pipeline_both_engines(tmp_path: Path) -> None:
    path = _capture(tmp_path)
    seen = {}
    for eng in ("python", "native"):
        out: list[SipMessage] = []
        pipe = Pipeline(engine_name=eng, on_message=out.append)
        for _ in pipe.run(read_frames([path], pipe._report)):
            pass
        seen[eng] = [(m.frame, m.method or m.status, str(m.transport)) for m in out]
        assert not pipe.diagnostics
    assert seen["python"] == [(6, "INVITE", "WS"), (9, 200, "WS")]
    assert seen["native"] == seen["python"]


def test_a_stream_ending_inside_the_handshake_is_reported() -> None:
    from sipsniff.sip.websocket import WsStream

    ws = WsStream()
    assert ws.feed(b"GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n", 4) == []
    (problem,) = ws.close(7)
    assert problem.frame == 7 and "never completed" in problem.detail
