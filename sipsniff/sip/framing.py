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

Cost: linear in the stream's bytes, whatever the segment sizes.  A stream's
unfinished message lives in a ``bytearray`` that segments are appended to and
finished messages are cut from the front of (CPython makes both amortised
O(1) per byte, bpo-19087, as h11's receive buffer notes); a segment that
arrives on an empty buffer is framed in place, without a copy.  The search for
the end of the header resumes where the previous segment's search stopped,
and once the header is complete its Content-Length is remembered, so a large
body in small segments is never scanned again.  Which frames carried which
bytes (``marks``) is kept in two arrays consumed from the front.

Memory: each stream's unfinished message (and its marks) is counted in a
``ReassemblyBudget`` shared with TCP and IP reassembly; when the budget evicts
a stream, the message is dropped with one ``reasm-overflow`` diagnostic and the
stream resynchronises quietly on the next start line, as after a capture gap.
The tail of at most 64 bytes kept while resynchronising (a start line may
begin in it) is not counted: it is bounded per stream, and counting it made an
evicted stream's tail, back after every segment, the next one evicted, again
and again (66,000 times on a capture of 1,500 stuffed streams).
"""

from __future__ import annotations

import re
import zlib
from array import array
from collections import OrderedDict
from collections.abc import Callable
from typing import Final

from ..decode.budget import ReassemblyBudget
from ..decode.payload import DATAGRAM_TRANSPORTS, Endpoint, Payload, Transport
from ..diagnostics import DecodeError, Diagnostic, Stage, Trigger
from .grammar import RESYNC, START_LINE
from .message import SipMessage, parse_datagram
from .websocket import WsMessage, WsStream, is_upgrade_start

__all__ = [
    "MAX_SIP_MESSAGE",
    "MAX_STREAMS",
    "NEED_DATA",
    "NOT_SIP",
    "Parser",
    "SipFramer",
    "frame_one",
]

Parser = Callable[[bytes, int, int, Endpoint, Endpoint, str], tuple[SipMessage, int]]
"""``parse_datagram``'s shape: (data, frame, ts_ns, src, dst, transport) -> (message, end)."""

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

# ``_Stream.total`` before a message's header is complete.
_NO_START_LINE: Final = -1
_IN_HEADER: Final = 0
# Budget cost of one mark (two 8-byte array items).
_MARK_COST: Final = 16

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


def frame_one(buf: bytes | bytearray, pos: int = 0) -> int:
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


def _could_start(frag: bytes | bytearray) -> bool:
    """True when ``frag`` is a plausible prefix of a start line."""
    if not frag:
        return True
    if frag.startswith(b"SIP/2.0"[: len(frag)]) or frag.startswith(b"SIP/2.0 "):
        return True
    head = frag.split(b" ", 1)[0]
    return head.isalpha() and head.isupper() and len(head) <= 20


def _partial_sip(buf: bytes | bytearray) -> bool:
    """Is this leftover the start of a SIP message (not junk kept while resynchronising)?"""
    rest = buf.lstrip(b"\r\n")
    return bool(rest) and frame_one(rest) == NEED_DATA


class _Stream:
    __slots__ = (
        "at",
        "base",
        "buf",
        "charged",
        "dropping",
        "ends",
        "first_frame",
        "frames",
        "head",
        "junk",
        "scan",
        "sid",
        "synced",
        "total",
        "ws",
    )

    def __init__(self, sid: int) -> None:
        self.sid = sid
        self.buf = bytearray()
        """What a segment left unfinished: the start of a message (or junk kept while
        resynchronising); empty between messages."""
        self.first_frame = 0
        self.synced = False
        self.dropping = False
        """Discarding the rest of an oversized header block: no resync reports."""
        self.base = 0
        """Stream offset of ``buf[0]``: marks hold stream offsets, so cutting the front
        of ``buf`` moves none of them."""
        self.ends = array("q")
        self.frames = array("q")
        """The marks: stream offset where each chunk appended ends, and its frame.  Which
        frames carried which bytes, so a message can name all its segments."""
        self.head = 0
        """First mark not wholly consumed."""
        self.at = -1
        """Where in ``buf`` the message starts that ``scan`` and ``total`` describe."""
        self.scan = 0
        """How far ``buf`` was searched (for the start line's end, then the header's)."""
        self.total = _NO_START_LINE
        """The message's length once its header is complete (``_IN_HEADER`` before)."""
        self.junk = False
        """``buf`` is the tail kept while resynchronising, not the start of a message."""
        self.charged = 0
        """What the budget counts for this stream."""
        self.ws: WsStream | None = None
        """Set when the stream began with an HTTP Upgrade: WebSocket frames, not SIP."""

    def clear(self) -> None:
        self.buf = bytearray()
        self.base = 0
        self.ends = array("q")
        self.frames = array("q")
        self.head = 0
        self.at = -1

    def append(self, data: bytes, frame: int) -> None:
        buf = self.buf
        buf += data
        self.ends.append(self.base + len(buf))
        self.frames.append(frame)

    def keep(self, data: bytes, pos: int, frame: int) -> None:
        """Keep ``data[pos:]``, left by a segment framed in place on an empty buffer."""
        self.buf = bytearray(memoryview(data)[pos:])
        self.base = 0
        self.ends = array("q", (len(self.buf),))
        self.frames = array("q", (frame,))
        self.head = 0
        self.at = self.at - pos if self.at >= pos else -1
        self.scan -= pos

    def consume(self, n: int) -> None:
        """Cut the first ``n`` bytes (framed or skipped)."""
        del self.buf[:n]
        base = self.base = self.base + n
        self.at = self.at - n if self.at >= n else -1
        self.scan -= n
        ends, head = self.ends, self.head
        while head < len(ends) and ends[head] <= base:
            head += 1
        if head > 64 and 2 * head > len(ends):
            del ends[:head]
            del self.frames[:head]
            head = 0
        self.head = head

    def frames_of(self, start: int, end: int) -> tuple[int, ...]:
        """Frames whose bytes overlap ``buf[start:end]``, in order.

        Messages are asked for in stream order, so the marks before ``end`` are
        passed for good.
        """
        a, b = self.base + start, self.base + end
        ends, frames = self.ends, self.frames
        out: list[int] = []
        n = len(ends)
        i = self.head
        while i < n:
            stop = ends[i]
            if stop > a and (not out or out[-1] != frames[i]):
                out.append(frames[i])
            if stop >= b:
                break
            i += 1
        while self.head < n and ends[self.head] <= b:
            self.head += 1
        return tuple(out)

    def size(self) -> int:
        """What the budget counts: the bytes and the marks of an unfinished message."""
        if self.ws is not None:
            return self.ws.size()
        if not self.buf or self.junk:
            return 0
        return len(self.buf) + _MARK_COST * (len(self.ends) - self.head)


def _frame_at(st: _Stream, buf: bytes | bytearray, pos: int) -> int:
    """``frame_one(buf, pos)``, resuming where the last call for the same message stopped.

    ``buf`` only grows at its end between calls for one message (``consume``
    and ``keep`` shift ``at`` and ``scan`` with it), so what was searched need
    not be searched again: a start line ends with a newline, and the header
    with the first CRLF CRLF after it.  The answers are ``frame_one``'s.
    """
    n = len(buf)
    if st.at != pos:
        st.at = pos
        st.scan = pos
        st.total = _NO_START_LINE
    total = st.total
    if total > 0:
        return total if n - pos >= total else NEED_DATA
    if total == _NO_START_LINE:
        if buf.find(b"\n", st.scan) < 0:
            # no line end yet, so no start line (START_LINE ends with one)
            st.scan = n
            if n - pos < 2048:
                return NEED_DATA if _could_start(buf[pos:]) else NOT_SIP
            return NOT_SIP
        if START_LINE.match(buf, pos) is None:
            return NOT_SIP  # a complete first line that is not a start line
        st.total = _IN_HEADER
        st.scan = pos
    end = buf.find(b"\r\n\r\n", max(st.scan - 3, pos))
    if end < 0:
        st.scan = n
        return NEED_DATA if n - pos <= MAX_SIP_MESSAGE else _TOO_BIG
    end += 4
    m = _CL.search(buf, pos, end)
    total = end - pos + (int(m.group(1)) if m else 0)
    if total > MAX_SIP_MESSAGE:
        return _TOO_BIG
    st.total = total
    return total if n - pos >= total else NEED_DATA


class SipFramer:
    """Turns payloads into SIP messages; one buffer per TCP stream direction."""

    def __init__(
        self,
        report: Callable[[Diagnostic], None],
        shard: tuple[int, int] | None = None,
        *,
        budget: ReassemblyBudget | None = None,
        parse: Parser = parse_datagram,
    ) -> None:
        self._report = report
        self._parse_message = parse
        """Parses one complete message (``parse_datagram``'s contract); the native
        engine passes its own, which hands unusual messages back to the reference."""
        self.budget = budget if budget is not None else ReassemblyBudget()
        """Counts the stream buffers, shared with TCP and IP reassembly (may be replaced
        before the first payload)."""
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
            msg = self._parse_message(data, p.frame, p.ts_ns, p.src, p.dst, p.transport)[0]
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
        if p.transport in DATAGRAM_TRANSPORTS:
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
                    f"{len(rest)} trailing bytes after the SIP message in a "
                    + (
                        f"{p.transport} WebSocket message"
                        if p.transport in (Transport.WS, Transport.WSS)
                        else f"{p.transport} datagram"
                    ),
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
                self.budget.release(old)
                if old.buf:
                    self._framing_diag(
                        old.first_frame,
                        Trigger.REASM_OVERFLOW,
                        f"too many TCP streams: {len(old.buf)} buffered bytes of stream {sid} dropped",
                    )
            st = streams[p.stream] = _Stream(p.stream)
            if is_upgrade_start(p.data):
                st.ws = WsStream()
        else:
            streams.move_to_end(p.stream)
        if st.ws is not None:
            self._websocket(st, p, out)
            return
        if p.gap and st.buf:
            self._framing_diag(
                st.first_frame,
                Trigger.TCP_GAP,
                f"{len(st.buf)} bytes of an unfinished message lost before a capture gap",
            )
            st.clear()
        if p.gap:
            # The gap is already reported (reassembly's tcp-gap, and above when it cut
            # a message): skipping to the next start line needs no line of its own.
            st.synced = False
            st.dropping = True
        data = p.data
        if data:
            if not st.buf:
                st.first_frame = p.frame
                self._drain(st, data, p, out)  # framed in place: no copy
            else:
                st.append(data, p.frame)
                self._drain(st, st.buf, p, out)
        if p.end:
            if _partial_sip(st.buf):
                self._framing_diag(
                    st.first_frame,
                    Trigger.TRUNCATED,
                    f"TCP stream {p.src} -> {p.dst} closed inside a message "
                    f"({len(st.buf)} bytes never completed)",
                )
            del streams[p.stream]
            self.budget.release(st)
        elif st.charged or st.buf:
            size = st.size()
            if size != st.charged:
                st.charged = size
                self.budget.hold(st, size, self._evicted, p.frame)

    def _websocket(self, st: _Stream, p: Payload, out: list[SipMessage]) -> None:
        """A WebSocket stream: each text or binary message is parsed as one datagram."""
        ws = st.ws
        assert ws is not None
        st.first_frame = p.frame
        if p.gap:
            ws.drop()  # the gap is already reported (tcp-gap); resynchronise quietly
        transport = Transport.WSS if p.transport == Transport.TLS else Transport.WS
        for ev in ws.feed(p.data, p.frame) if p.data else ():
            if isinstance(ev, WsMessage):
                self._datagram(p._replace(frame=ev.frame, transport=transport, data=ev.data), out)
            else:
                self._framing_diag(
                    ev.frame, Trigger.WEBSOCKET, f"{ev.detail} on {p.src} -> {p.dst}"
                )
        if ws.rejected is not None:
            # not an upgrade: frame the bytes held as plain TCP
            held, st.ws = ws.rejected, None
            self._stream(p._replace(data=held, gap=False), out)
            return
        if p.end:
            for problem in ws.close(p.frame):
                self._framing_diag(problem.frame, Trigger.WEBSOCKET, problem.detail)
            del self._streams[p.stream]
            self.budget.release(st)
            return
        size = ws.size()
        if size != st.charged:
            st.charged = size
            self.budget.hold(st, size, self._evicted, p.frame)

    def _evicted(self, st: _Stream, frame: int) -> None:
        """The budget gave up on this stream's unfinished message: drop it, say so."""
        st.charged = 0
        if st.ws is not None:
            dropped = st.ws.drop()
            if dropped:
                self._framing_diag(
                    frame,
                    Trigger.WEBSOCKET,
                    f"reassembly memory budget ({self.budget.limit} bytes) exceeded: "
                    f"{dropped} buffered bytes of WebSocket stream {st.sid} dropped",
                )
            return
        if not st.buf:
            return
        self._framing_diag(
            st.frames[st.head],
            Trigger.REASM_OVERFLOW,
            f"reassembly memory budget ({self.budget.limit} bytes) exceeded at frame {frame}: "
            f"{len(st.buf)} buffered bytes of an unfinished message on TCP stream {st.sid} dropped",
        )
        st.clear()
        # the rest of the message is skipped up to the next start line, quietly
        st.synced = False
        st.dropping = True

    def _drain(
        self, st: _Stream, buf: bytes | bytearray, p: Payload, out: list[SipMessage]
    ) -> None:
        """Frame what ``buf`` holds: ``st.buf`` itself, or a segment on an empty buffer."""
        framed = buf is st.buf
        junk = False
        pos = 0
        n = len(buf)
        while pos < n:
            while pos < n and buf[pos] in (13, 10):
                pos += 1  # keep-alive CRLFs
            if pos >= n:
                break
            length = _frame_at(st, buf, pos)
            if length > 0:
                st.synced = True
                st.dropping = False
                if framed:
                    msg = bytes(buf[pos : pos + length])
                    self._parse(msg, p, out, st.frames_of(pos, pos + length))
                else:
                    self._parse(bytes(buf[pos : pos + length]), p, out)
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
                    junk = True
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
                junk = True
                break
        st.junk = junk
        if n - pos > MAX_SIP_MESSAGE:
            self._framing_diag(
                p.frame,
                Trigger.OVERSIZED,
                f"{n - pos} bytes without a complete SIP message on TCP {p.src} -> {p.dst}",
            )
            st.clear()
        elif pos >= n:
            if framed:
                st.clear()
            else:
                st.at = -1
        elif framed:
            if pos:
                st.consume(pos)
        else:
            assert isinstance(buf, bytes)
            st.keep(buf, pos, p.frame)
        st.first_frame = p.frame

    def flush(self) -> None:
        """End of capture: report partial messages left in stream buffers."""
        for st in self._streams.values():
            if st.ws is not None:
                for problem in st.ws.close(st.first_frame):
                    self._framing_diag(problem.frame, Trigger.WEBSOCKET, problem.detail)
            elif _partial_sip(st.buf):
                self._framing_diag(
                    st.first_frame,
                    Trigger.TRUNCATED,
                    f"capture ended inside a TCP message ({len(st.buf)} bytes never completed)",
                )
            self.budget.release(st)
        self._streams.clear()
