"""WebSocket framing (RFC 6455) for SIP over WebSocket (RFC 7118), sans-I/O.

Why: a WebSocket SIP leg is a TCP stream whose messages sit inside frames
(a 2-14 byte header, client payloads masked), so the SIP stream framer cannot
see them.  ``WsStream`` turns one stream direction's bytes into whole
WebSocket messages; the caller parses each as one SIP message, as a datagram.

Strategy: the stream starts with an HTTP Upgrade (``GET`` with ``Upgrade:
websocket``, or ``HTTP/1.1 101``); it is skipped up to CRLF CRLF, then frames
are read from a ``bytearray`` consumed from the front.  Continuation frames are
joined; ping, pong and close frames are counted and dropped.

Rules:
- A handshake that is not an upgrade is handed back (``rejected``): those
  bytes are not WebSocket and the caller frames them as plain TCP.
- No message may exceed ``MAX_WS_MESSAGE``; no handshake ``MAX_HANDSHAKE``.
- A protocol error (reserved opcode or bits, oversized or lying length, a bad
  control frame) is one problem; the stream then resynchronises on the next
  frame header whose payload starts with a SIP start line, scanning without
  buffering more than a header's worth of bytes.
"""

from __future__ import annotations

import re
from typing import Final, NamedTuple

__all__ = [
    "MAX_HANDSHAKE",
    "MAX_WS_MESSAGE",
    "WsMessage",
    "WsProblem",
    "WsStream",
    "is_upgrade_start",
]

MAX_WS_MESSAGE: Final = 1024 * 1024
"""Largest reassembled message (RFC 7118 sets none; SIP framing allows 256 KiB)."""
MAX_HANDSHAKE: Final = 16 * 1024
"""Largest HTTP Upgrade request or response header."""

_HANDSHAKE, _FRAMES, _RESYNC = 0, 1, 2
# What resynchronising keeps: a frame header (14 bytes) and 8 payload bytes, minus one.
_RESYNC_TAIL: Final = 21
_LEAD = re.compile(rb"[\x01\x02\x81\x82]")
_SIP_START = re.compile(rb"SIP/2\.0 |[A-Z]{2,16} ")
_UPGRADE = re.compile(rb"\r\nupgrade[ \t]*:[ \t]*websocket", re.IGNORECASE)


class WsMessage(NamedTuple):
    """A complete text or binary message; ``frame`` carried its last byte."""

    frame: int
    data: bytes


class WsProblem(NamedTuple):
    """A protocol error, truncation or oversized message, at ``frame``."""

    frame: int
    detail: str


def is_upgrade_start(data: bytes) -> bool:
    """Could a stream starting with ``data`` be an HTTP Upgrade request or response?"""
    head = data[:7]
    return bool(head) and (b"GET ".startswith(head[:4]) or b"HTTP/1.".startswith(head))


def _unmask(payload: bytes, key: bytes) -> bytes:
    """XOR with the 4-byte key, as one big-integer operation (linear, no Python loop)."""
    n = len(payload)
    if not n:
        return payload
    pad = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(pad, "big")).to_bytes(n, "big")


class _Head(NamedTuple):
    fin: bool
    opcode: int
    size: int
    """Header length, mask key included."""
    length: int
    key: bytes


def _head(buf: bytearray, pos: int) -> _Head | None:
    """The frame header at ``buf[pos:]``, or None while incomplete."""
    n = len(buf) - pos
    if n < 2:
        return None
    b0, b1 = buf[pos], buf[pos + 1]
    length = b1 & 0x7F
    size = 2 + (2 if length == 126 else 8 if length == 127 else 0) + (4 if b1 & 0x80 else 0)
    if n < size:
        return None
    if length == 126:
        length = int.from_bytes(buf[pos + 2 : pos + 4], "big")
    elif length == 127:
        length = int.from_bytes(buf[pos + 2 : pos + 10], "big")
    key = bytes(buf[pos + size - 4 : pos + size]) if b1 & 0x80 else b""
    return _Head(bool(b0 & 0x80), b0 & 0x7F, size, length, key)


class WsStream:
    """One direction of a WebSocket connection: bytes in, messages and problems out."""

    def __init__(self) -> None:
        self.buf = bytearray()
        self.state = _HANDSHAKE
        self.parts: list[bytes] = []
        self.parts_size = 0
        self.rejected: bytes | None = None
        """Set when the handshake was no upgrade: the bytes held, to frame as plain TCP."""
        self.pings = 0
        self.pongs = 0
        self.closes = 0

    def size(self) -> int:
        """What a memory budget counts: the unread bytes and the unfinished message."""
        return len(self.buf) + self.parts_size

    def drop(self) -> int:
        """Forget what is buffered (budget eviction, capture gap); resynchronise after."""
        n = self.size()
        self.buf = bytearray()
        self.parts, self.parts_size = [], 0
        if self.state != _HANDSHAKE:
            self.state = _RESYNC
        return n

    def close(self, frame: int) -> list[WsProblem]:
        """The stream ended: report a frame or message never completed."""
        out: list[WsProblem] = []
        if self.state == _HANDSHAKE and self.buf:
            out.append(
                WsProblem(
                    frame,
                    f"stream ended inside an HTTP request or response that never completed "
                    f"({len(self.buf)} bytes, no blank line): not SIP, not WebSocket",
                )
            )
        if self.state == _FRAMES and (self.buf or self.parts):
            out.append(
                WsProblem(
                    frame,
                    f"WebSocket stream ended inside a frame or message "
                    f"({self.size()} bytes never completed)",
                )
            )
        self.drop()
        return out

    def feed(self, data: bytes, frame: int) -> list[WsMessage | WsProblem]:
        """Read ``data``; return the messages it completes and the problems it shows."""
        out: list[WsMessage | WsProblem] = []
        buf = self.buf
        buf += data
        pos = 0
        while True:
            if self.state == _HANDSHAKE:
                end = buf.find(b"\r\n\r\n")
                if end < 0:
                    if len(buf) > MAX_HANDSHAKE:
                        self._reject()
                    return out
                head = bytes(buf[: end + 2])
                if not (
                    (head.startswith(b"GET ") and _UPGRADE.search(head))
                    or head.startswith((b"HTTP/1.1 101", b"HTTP/1.0 101"))
                ):
                    self._reject()
                    return out
                pos = end + 4
                self.state = _FRAMES
            if self.state == _RESYNC:
                pos = self._resync(pos)
                if self.state == _RESYNC:
                    break
            h = _head(buf, pos)
            if h is None:
                break
            problem = self._check(h)
            if problem:
                out.append(WsProblem(frame, problem + "; resynchronising on the next SIP frame"))
                self.parts, self.parts_size = [], 0
                self.state = _RESYNC
                pos += 1
                continue
            if len(buf) - pos < h.size + h.length:
                break
            payload = bytes(buf[pos + h.size : pos + h.size + h.length])
            pos += h.size + h.length
            if h.key:
                payload = _unmask(payload, h.key)
            self._frame(h, payload, frame, out)
        del buf[:pos]
        return out

    def _reject(self) -> None:
        self.rejected = bytes(self.buf)
        self.buf = bytearray()

    def _check(self, h: _Head) -> str:
        op = h.opcode & 0x0F
        if h.opcode & 0x70:
            return f"WebSocket frame with reserved bits {h.opcode >> 4 & 7:#x} (extension not supported)"
        if 3 <= op <= 7 or op >= 11:
            return f"WebSocket frame with reserved opcode {op:#x}"
        if op >= 8 and (not h.fin or h.length > 125):
            return f"WebSocket control frame {op:#x} fragmented or longer than 125 bytes"
        if h.length >= 1 << 63:
            return f"WebSocket frame length {h.length} has its top bit set"
        if op < 8 and self.parts_size + h.length > MAX_WS_MESSAGE:
            return (
                f"WebSocket message over {MAX_WS_MESSAGE} bytes "
                f"({self.parts_size + h.length}: oversized or a lying length)"
            )
        return ""

    def _frame(
        self, h: _Head, payload: bytes, frame: int, out: list[WsMessage | WsProblem]
    ) -> None:
        op = h.opcode & 0x0F
        if op == 8:
            self.closes += 1
            return
        if op == 9:
            self.pings += 1
            return
        if op == 10:
            self.pongs += 1
            return
        if op == 0 and not self.parts:
            out.append(
                WsProblem(
                    frame,
                    f"WebSocket continuation frame ({h.length} bytes) without a first frame; dropped",
                )
            )
            return
        if op != 0 and self.parts:
            out.append(
                WsProblem(
                    frame,
                    f"WebSocket message started before the previous one ended; "
                    f"{self.parts_size} bytes of it dropped",
                )
            )
            self.parts, self.parts_size = [], 0
        if h.fin:
            data = b"".join((*self.parts, payload)) if self.parts else payload
            self.parts, self.parts_size = [], 0
            out.append(WsMessage(frame, data))
        else:
            self.parts.append(payload)
            self.parts_size += len(payload)

    def _resync(self, pos: int) -> int:
        """Find the next data frame whose payload starts a SIP message; keep a bounded tail."""
        buf = self.buf
        while True:
            m = _LEAD.search(buf, pos)
            if m is None:
                return max(pos, len(buf) - _RESYNC_TAIL)
            at = m.start()
            h = _head(buf, at)
            if h is None or len(buf) - at < h.size + min(h.length, 8):
                return at  # wait for more bytes here
            if h.length <= MAX_WS_MESSAGE and h.length >= 8:
                first = bytes(buf[at + h.size : at + h.size + 8])
                if h.key:
                    first = _unmask(first, h.key)
                if _SIP_START.match(first):
                    self.state = _FRAMES
                    return at
            pos = at + 1
