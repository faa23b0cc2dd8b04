"""Message framing: find where SIP messages start and end in datagrams and streams.

Strategy (RFC 3261 section 18.3): over UDP a datagram is one message and the
body runs to Content-Length or the datagram's end; over TCP Content-Length is
mandatory and frames the body.  ``frame_one`` answers one of three ways, like
h11's readers: a message length, ``NEED_DATA``, or ``NOT_SIP``.

Rules:
- Keep-alive CRLFs (RFC 5626 section 3.5.1) between messages are skipped.
- A stream whose beginning is lost, or that carries junk, resynchronises on the
  next start line; the skipped bytes are reported.
- No message may exceed ``MAX_SIP_MESSAGE``; a larger one is reported and
  skipped, so a hostile Content-Length cannot make us buffer without end.
"""

from __future__ import annotations

import re
import zlib
from collections import OrderedDict
from collections.abc import Callable
from typing import Final

from ..decode.payload import Payload, Transport
from ..diagnostics import DecodeError, Diagnostic, Stage, Trigger
from .grammar import RESYNC, START_LINE
from .message import SipMessage, parse_datagram

__all__ = ["MAX_SIP_MESSAGE", "MAX_STREAMS", "NEED_DATA", "NOT_SIP", "SipFramer", "frame_one"]

# Kamailio and OpenSIPS read buffers are 64 KiB (BUF_SIZE 65535) and sngrep caps
# payloads at 10 KiB (MAX_SIP_PAYLOAD); 256 KiB leaves room for large SDP/MIME
# bodies while bounding what one hostile stream can make us hold.
MAX_SIP_MESSAGE: Final = 256 * 1024
# Concurrent TCP streams with a partial message buffered (least recent evicted).
MAX_STREAMS: Final = 16_384

NEED_DATA: Final = -1
"""``frame_one`` result: the buffer holds the beginning of a message only."""
NOT_SIP: Final = -2
"""``frame_one`` result: the buffer does not start with a SIP start line."""
_TOO_BIG: Final = -3

# Ports that carried SIP (plus the registered ones): junk there is reported.
_WELL_KNOWN_PORTS = (5060, 5061)
_MAX_SIP_PORTS = 1024
# A line that tries to be a SIP start line: a token, a space, then SIP/ somewhere.
_SIPISH = re.compile(rb"(?:[A-Za-z]{2,20} [^\r\n]*SIP/|SIP/)")

_CL = re.compile(rb"\n(?:content-length|l)[ \t]*:[ \t]*([0-9]+)", re.IGNORECASE)
_CALL_ID = re.compile(rb"\n(?:call-id|i)[ \t]*:[ \t]*([^\r\n]*)", re.IGNORECASE)


def shard_of(message: bytes, count: int) -> int:
    """Which of ``count`` shards owns a message: a stable hash of its Call-ID line.

    Every worker of a sharded analysis computes this on the same bytes, so each
    message is parsed by exactly one of them and a call's messages meet in one
    tracker.  A message without a Call-ID goes to shard 0, like every other one.
    """
    m = _CALL_ID.search(message)
    return zlib.crc32(m.group(1).rstrip()) % count if m else 0


def frame_one(buf: bytes, pos: int = 0) -> int:
    """Length of the complete message at ``buf[pos:]``, or NEED_DATA / NOT_SIP.

    Content-Length is required for streams; when it is missing the body is
    taken as empty (and the parser lists the problem).
    """
    if START_LINE.match(buf, pos) is None:
        if buf.find(b"\n", pos, pos + 2048) < 0 and len(buf) - pos < 2048:
            # could still become a start line once more bytes arrive
            return NEED_DATA if _could_start(buf[pos:]) else NOT_SIP
        return NOT_SIP
    end = buf.find(b"\r\n\r\n", pos)
    if end < 0:
        return NEED_DATA if len(buf) - pos <= MAX_SIP_MESSAGE else _TOO_BIG
    end += 4
    m = _CL.search(buf, pos, end)
    length = int(m.group(1)) if m else 0
    total = end - pos + length
    if total > MAX_SIP_MESSAGE:
        return _TOO_BIG
    if len(buf) - pos < total:
        return NEED_DATA
    return total


def _could_start(frag: bytes) -> bool:
    """True when ``frag`` is a plausible prefix of a start line."""
    if not frag:
        return True
    if frag.startswith(b"SIP/2.0"[: len(frag)]) or frag.startswith(b"SIP/2.0 "):
        return True
    head = frag.split(b" ", 1)[0]
    return head.isalpha() and head.isupper() and len(head) <= 20


def _partial_sip(buf: bytes) -> bool:
    """Is this leftover the start of a SIP message (not junk kept while resynchronising)?"""
    rest = buf.lstrip(b"\r\n")
    return bool(rest) and frame_one(rest) == NEED_DATA


class _Stream:
    __slots__ = ("buf", "dropping", "first_frame", "marks", "synced")

    def __init__(self) -> None:
        self.buf = b""
        self.first_frame = 0
        self.synced = False
        self.dropping = False
        """Discarding the rest of an oversized header block: no resync reports."""
        self.marks: list[tuple[int, int]] = []
        """(end offset in ``buf``, frame) of each chunk appended: which frames carried
        which bytes, so a message can name all its segments."""

    def frames_of(self, start: int, end: int) -> tuple[int, ...]:
        """Frames whose bytes overlap ``buf[start:end]``, in order."""
        out: list[int] = []
        prev = 0
        for stop, frame in self.marks:
            if stop > start and prev < end and (not out or out[-1] != frame):
                out.append(frame)
            prev = stop
            if prev >= end:
                break
        return tuple(out)


class SipFramer:
    """Turns payloads into SIP messages; one buffer per TCP stream direction."""

    def __init__(
        self, report: Callable[[Diagnostic], None], shard: tuple[int, int] | None = None
    ) -> None:
        self._report = report
        self._shard = shard
        """(index, count): parse only the messages ``shard_of`` gives this index; the
        framing itself (and what it reports) is done by every shard alike, and
        reported by shard 0 only."""
        self._primary = shard is None or shard[0] == 0
        self._streams: OrderedDict[int, _Stream] = OrderedDict()
        self.messages = 0
        self.malformed = 0
        self.not_sip = 0
        """UDP datagrams and TCP stream bytes that were not SIP (RTP, DNS, keep-alives...)."""
        self._sip_ports: set[int] = set(_WELL_KNOWN_PORTS)

    def _diag(self, frame: int, trigger: Trigger, detail: str) -> None:
        self._report(Diagnostic(frame=frame, stage=Stage.SIP, trigger=trigger, detail=detail))

    def _framing_diag(self, frame: int, trigger: Trigger, detail: str) -> None:
        """A problem of the bytes around messages: every shard sees it, shard 0 reports it."""
        if self._primary:
            self._diag(frame, trigger, detail)

    def _foreign(self, message: bytes) -> bool:
        """Does another shard parse this message?  (Only asked when sharded.)"""
        sh = self._shard
        assert sh is not None
        return shard_of(message, sh[1]) != sh[0]

    def _parse(
        self, data: bytes, p: Payload, out: list[SipMessage], segments: tuple[int, ...] = ()
    ) -> None:
        if self._shard is not None and self._foreign(data):
            return
        try:
            msg = parse_datagram(data, p.frame, p.ts_ns, p.src, p.dst, p.transport)[0]
            if len(segments) > 1:
                msg = msg._replace(segments=segments)
        except DecodeError as exc:
            self.malformed += 1
            self._diag(p.frame, Trigger.BAD_START_LINE, str(exc))
            return
        self._accept(msg, p, out)

    def _accept(self, msg: SipMessage, p: Payload, out: list[SipMessage]) -> None:
        self.messages += 1
        if msg.problems:
            self.malformed += 1
            trigger = (
                Trigger.MISSING_HEADER
                if msg.problems[0].startswith("missing")
                else Trigger.CONTENT_LENGTH
                if msg.problems[0].startswith("Content-Length")
                else Trigger.BAD_SIP_HEADER
            )
            self._diag(
                p.frame,
                trigger,
                f"{msg.label or '?'} Call-ID {msg.call_id[:60]!r}: "
                + "; ".join(msg.problems[:3])
                + (f" (+{len(msg.problems) - 3} more)" if len(msg.problems) > 3 else ""),
            )
        out.append(msg)

    def feed(self, p: Payload) -> list[SipMessage]:
        """Frame and parse what this payload completes."""
        out: list[SipMessage] = []
        if p.transport == Transport.UDP:
            self._datagram(p, out)
        else:
            self._stream(p, out)
        return out

    def _datagram(self, p: Payload, out: list[SipMessage]) -> None:
        data = p.data
        start = START_LINE.match(data)
        if start is None:
            if self._primary:
                self.not_sip += 1
                if data.strip(b"\r\n\x00 ") != b"":  # not a keep-alive (RFC 5626 CRLF, NAT zeros)
                    self._junk(p, data)
            return
        ports = self._sip_ports
        if len(ports) < _MAX_SIP_PORTS and (p.src.port not in ports or p.dst.port not in ports):
            ports.update((p.src.port, p.dst.port))
        if self._shard is not None and self._foreign(data):
            # The first message's shard takes the whole datagram (almost always one
            # message), so trailing messages are framed and counted exactly once.
            return
        while True:
            try:
                msg, end = parse_datagram(data, p.frame, p.ts_ns, p.src, p.dst, p.transport, start)
            except DecodeError as exc:  # pragma: no cover - START_LINE matched above
                self.malformed += 1
                self._diag(p.frame, Trigger.BAD_START_LINE, str(exc))
                return
            self._accept(msg, p, out)
            n = len(data)
            if end >= n:
                return
            rest = data[end:].lstrip(b"\r\n")
            if not rest.strip(b"\x00 \t"):
                return
            start = START_LINE.match(rest)
            if start is None:
                self._diag(
                    p.frame,
                    Trigger.NOT_SIP,
                    f"{len(rest)} trailing bytes after the SIP message in a UDP datagram",
                )
                return
            data = rest

    def _junk(self, p: Payload, data: bytes) -> None:
        """Report a datagram that is not SIP but looks like it, or sits on a SIP port.

        RTP, DNS and the rest pass silently (counted in ``not_sip``); a broken start
        line, or anything on a port that carries SIP, is what a scanner or a broken
        stack sends and deserves a line.
        """
        first = data[:120].split(b"\n", 1)[0].rstrip(b"\r")
        if _SIPISH.match(first):
            self.malformed += 1
            self._diag(p.frame, Trigger.BAD_START_LINE, f"not a valid SIP start line: {first!r}")
        elif p.dst.port in self._sip_ports or p.src.port in self._sip_ports:
            port = p.dst.port if p.dst.port in self._sip_ports else p.src.port
            self._diag(
                p.frame,
                Trigger.NOT_SIP,
                f"{len(data)} bytes on SIP port {port} are not a SIP message "
                f"(starting {data[:24]!r})",
            )

    def _stream(self, p: Payload, out: list[SipMessage]) -> None:
        streams = self._streams
        st = streams.get(p.stream)
        if st is None:
            if not p.data:
                return
            if len(streams) >= MAX_STREAMS:
                sid, old = streams.popitem(last=False)
                if old.buf:
                    self._framing_diag(
                        old.first_frame,
                        Trigger.REASM_OVERFLOW,
                        f"too many TCP streams: {len(old.buf)} buffered bytes of stream {sid} dropped",
                    )
            st = streams[p.stream] = _Stream()
        else:
            streams.move_to_end(p.stream)
        if p.gap and st.buf:
            self._framing_diag(
                st.first_frame,
                Trigger.TCP_GAP,
                f"{len(st.buf)} bytes of an unfinished message lost before a capture gap",
            )
            st.buf = b""
            st.marks = []
        if p.gap:
            # The gap is already reported (reassembly's tcp-gap, and above when it cut
            # a message): skipping to the next start line needs no line of its own.
            st.synced = False
            st.dropping = True
        data = p.data
        if data:
            if not st.buf:
                st.first_frame = p.frame
            st.buf = st.buf + data if st.buf else data
            st.marks.append((len(st.buf), p.frame))
            self._drain(st, p, out)
        if p.end:
            if _partial_sip(st.buf):
                self._framing_diag(
                    st.first_frame,
                    Trigger.TRUNCATED,
                    f"TCP stream {p.src} -> {p.dst} closed inside a message "
                    f"({len(st.buf)} bytes never completed)",
                )
            del streams[p.stream]

    def _drain(self, st: _Stream, p: Payload, out: list[SipMessage]) -> None:
        buf = st.buf
        pos = 0
        n = len(buf)
        while pos < n:
            while pos < n and buf[pos] in (13, 10):
                pos += 1  # keep-alive CRLFs
            if pos >= n:
                break
            length = frame_one(buf, pos)
            if length > 0:
                st.synced = True
                st.dropping = False
                self._parse(buf[pos : pos + length], p, out, st.frames_of(pos, pos + length))
                pos += length
                continue
            if length == NEED_DATA:
                break
            if length == _TOO_BIG:
                self._framing_diag(
                    p.frame,
                    Trigger.OVERSIZED,
                    f"SIP message over {MAX_SIP_MESSAGE} bytes on TCP {p.src} -> {p.dst}; skipped",
                )
                # Drop it and resynchronise quietly on the next start line: the bytes
                # up to it belong to the message just reported.  A hostile
                # Content-Length must not swallow the rest of the stream.
                st.synced = False
                st.dropping = True
                m = RESYNC.search(buf, pos + 1)
                pos = m.start() if m else max(pos + 1, n - 64)
                if m is None:
                    break
                continue
            # NOT_SIP or oversized: look for the next start line
            m = RESYNC.search(buf, pos + 1)
            skipped_to = m.start() if m else max(pos, n - 64)
            if (skipped_to > pos or m is None) and self._primary:
                self.not_sip += 1
                if (st.synced or m is not None) and not st.dropping:
                    self._diag(
                        p.frame,
                        Trigger.TCP_RESYNC,
                        f"{skipped_to - pos} non-SIP bytes skipped on TCP {p.src} -> {p.dst}",
                    )
            pos = skipped_to
            if m is None:
                break
        st.buf = buf[pos:]
        st.marks = [(end - pos, f) for end, f in st.marks if end > pos]
        if st.buf and len(st.buf) > MAX_SIP_MESSAGE:
            self._framing_diag(
                p.frame,
                Trigger.OVERSIZED,
                f"{len(st.buf)} bytes without a complete SIP message on TCP {p.src} -> {p.dst}",
            )
            st.buf = b""
            st.marks = []
        st.first_frame = p.frame

    def flush(self) -> None:
        """End of capture: report partial messages left in stream buffers."""
        for st in self._streams.values():
            if _partial_sip(st.buf):
                self._framing_diag(
                    st.first_frame,
                    Trigger.TRUNCATED,
                    f"capture ended inside a TCP message ({len(st.buf)} bytes never completed)",
                )
        self._streams.clear()
