"""SCTP (RFC 9260): DATA chunks to user messages, fragments reassembled.

IMS cores and SIGTRAN carry SIP over SCTP.  A packet holds a common header and
chunks; each DATA chunk holds a piece of one user message of one stream: the
B and E flags mark its first and last piece, and the pieces of one message
have consecutive TSNs.  A user message is one SIP message (RFC 4168), so what
leaves here is framed like a UDP datagram (``Transport.SCTP``).

Rules:
- Sans-I/O; time comes from frames.  Nothing of SIP.
- Whole messages (B and E set, in DATA or RFC 8260 I-DATA) go straight out; pieces wait per association
  direction and stream until the E piece closes an unbroken TSN run.  A TSN
  already delivered (a retransmitted chunk) is delivered once.
- Pieces held are counted in the shared ``ReassemblyBudget``; each message is
  bounded by ``MAX_USER_MESSAGE``, each direction by ``MAX_PIECES``.  Going over
  a bound drops the message with one ``sctp`` diagnostic, never silently.
- Chunk lengths are checked against the packet; a lying length ends the walk
  with a diagnostic (the chunks before it are kept).
"""

from __future__ import annotations

import struct
from collections import OrderedDict
from collections.abc import Callable

from ..diagnostics import Diagnostic, Stage, Trigger
from .budget import FRAGMENT_COST, ReassemblyBudget
from .payload import Endpoint, Payload, Transport

__all__ = ["MAX_PIECES", "MAX_USER_MESSAGE", "SctpReassembler"]

_COMMON = struct.Struct("!HHII")
_CHUNK = struct.Struct("!BBH")
_DATA, _IDATA = 0, 64
_DATA_HDR = struct.Struct("!IHHI")
# The largest SIP message sipsniff frames (``framing.MAX_SIP_MESSAGE`` is of the
# same order); SCTP user messages carrying SIP are a few kilobytes.
MAX_USER_MESSAGE = 1 << 20
# Pieces waiting in one stream direction: a 1 MiB message in 1,400-byte chunks
# is 750 pieces.
MAX_PIECES = 1024
# Directions with pieces waiting, least recently grown dropped first past it.
_MAX_OPEN = 4096
# TSNs remembered per direction to drop retransmitted chunks.
_SEEN_TSNS = 4096

_Key = tuple[str, int, str, int, int]


class _Waiting:
    """The pieces of one stream direction's unfinished messages, by TSN."""

    __slots__ = ("first_frame", "pieces", "size")

    def __init__(self) -> None:
        self.pieces: dict[int, tuple[int, bytes]] = {}
        """TSN -> (flags, data)."""
        self.size = 0
        self.first_frame = 0


class SctpReassembler:
    """``packet(src, dst, data, off, end, frame, ts)`` -> the user messages it completes."""

    def __init__(self, report: Callable[[Diagnostic], None], budget: ReassemblyBudget) -> None:
        self._report = report
        self._budget = budget
        self._open: OrderedDict[_Key, _Waiting] = OrderedDict()
        self._seen: dict[tuple[str, int, str, int], OrderedDict[int, None]] = {}
        self.chunks = 0
        self.messages = 0
        self.dropped = 0

    def _diag(self, frame: int, detail: str) -> None:
        self._report(
            Diagnostic(frame=frame, stage=Stage.DECODE, trigger=Trigger.SCTP, detail=detail)
        )

    def packet(
        self, src: str, dst: str, data: bytes, off: int, end: int, frame: int, ts: int
    ) -> list[Payload]:
        end = min(end, len(data))
        if end - off < _COMMON.size:
            self._diag(frame, "SCTP common header truncated")
            return []
        sport, dport, _vtag, _ck = _COMMON.unpack_from(data, off)
        a, b = Endpoint(src, sport), Endpoint(dst, dport)
        out: list[Payload] = []
        pos = off + _COMMON.size
        while pos + 4 <= end:
            ctype, flags, clen = _CHUNK.unpack_from(data, pos)
            if clen < 4 or pos + clen > end:
                self._diag(
                    frame,
                    f"SCTP chunk type {ctype} at byte {pos - off} claims {clen} bytes, "
                    f"{end - pos} left: the rest of the packet is skipped",
                )
                break
            if ctype == _DATA:
                if clen < 16:
                    self._diag(frame, f"SCTP DATA chunk of {clen} bytes (16 at least)")
                else:
                    tsn, stream, _ssn, _ppid = _DATA_HDR.unpack_from(data, pos + 4)
                    self.chunks += 1
                    user = data[pos + 16 : pos + clen]
                    msg = self._piece(a, b, tsn, stream, flags, user, frame)
                    if msg is not None:
                        self.messages += 1
                        out.append(Payload(frame, ts, a, b, Transport.SCTP, msg))
            elif ctype == _IDATA:
                # RFC 8260 I-DATA: pieces of messages may interleave, so TSN runs do
                # not delimit them; whole messages are delivered, pieces reported
                if clen < 20:
                    self._diag(frame, f"SCTP I-DATA chunk of {clen} bytes (20 at least)")
                elif flags & 0x3 == 0x3:
                    self.chunks += 1
                    self.messages += 1
                    out.append(
                        Payload(frame, ts, a, b, Transport.SCTP, data[pos + 20 : pos + clen])
                    )
                else:
                    self.chunks += 1
                    self.dropped += 1
                    self._diag(
                        frame, "SCTP I-DATA piece of an interleaved message: not reassembled"
                    )
            pos += (clen + 3) & ~3
        return out

    def _piece(
        self, a: Endpoint, b: Endpoint, tsn: int, stream: int, flags: int, user: bytes, frame: int
    ) -> bytes | None:
        seen = self._seen.setdefault((a.ip, a.port, b.ip, b.port), OrderedDict())
        if tsn in seen:
            return None  # a retransmitted chunk: its message went out already (or waits)
        seen[tsn] = None
        if len(seen) > _SEEN_TSNS:
            seen.popitem(last=False)
        if flags & 0x3 == 0x3:
            return user
        key: _Key = (a.ip, a.port, b.ip, b.port, stream)
        w = self._open.get(key)
        if w is None:
            if len(self._open) >= _MAX_OPEN:
                old_key, old = self._open.popitem(last=False)
                self._drop(old_key, old, frame, "too many SCTP streams with pieces waiting")
            w = self._open[key] = _Waiting()
            w.first_frame = frame
        else:
            self._open.move_to_end(key)
        w.pieces[tsn] = (flags, user)
        w.size += len(user) + FRAGMENT_COST
        if len(w.pieces) > MAX_PIECES or w.size > MAX_USER_MESSAGE:
            del self._open[key]
            self._drop(key, w, frame, f"an SCTP user message over {MAX_USER_MESSAGE} bytes")
            return None
        msg = self._complete(w, tsn)
        if not w.pieces:
            del self._open[key]
            self._budget.hold(w, 0, self._evicted, frame)
        else:
            self._budget.hold(w, w.size, self._evicted, frame)
        return msg

    def _complete(self, w: _Waiting, tsn: int) -> bytes | None:
        """The message that ``tsn`` completes, taken out of ``w`` (None: not yet)."""
        lo = tsn
        while True:  # back to the B piece
            flags = w.pieces[lo][0]
            if flags & 0x2:
                break
            prev = (lo - 1) & 0xFFFFFFFF
            if prev not in w.pieces:
                return None
            lo = prev
        parts, hi = [], lo
        while True:  # forward to the E piece
            flags, data = w.pieces[hi]
            parts.append(data)
            if flags & 0x1:
                break
            hi = (hi + 1) & 0xFFFFFFFF
            if hi not in w.pieces:
                return None
        t = lo
        while True:
            _, data = w.pieces.pop(t)
            w.size -= len(data) + FRAGMENT_COST
            if t == hi:
                break
            t = (t + 1) & 0xFFFFFFFF
        return b"".join(parts)

    def _drop(self, key: _Key, w: _Waiting, frame: int, why: str) -> None:
        self._budget.hold(w, 0, self._evicted, frame)
        self._forget(key, w, frame, why)

    def _forget(self, key: _Key, w: _Waiting, frame: int, why: str) -> None:
        self.dropped += 1
        self._diag(
            frame,
            f"{why}: {len(w.pieces)} pieces from {key[0]}:{key[1]} stream {key[4]} "
            f"(first in frame {w.first_frame}) dropped",
        )

    def _evicted(self, w: _Waiting, frame: int) -> None:
        for key, v in self._open.items():
            if v is w:
                del self._open[key]
                self._forget(key, w, frame, "reassembly memory is full")
                return

    def flush(self, frame: int = 0) -> None:
        """End of input: say what never completed."""
        for key, w in list(self._open.items()):
            self._budget.hold(w, 0, self._evicted, frame)
            self._forget(key, w, w.first_frame, "capture ended inside an SCTP user message")
        self._open.clear()
