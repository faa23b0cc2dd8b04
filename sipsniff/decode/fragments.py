"""IPv4 and IPv6 fragment reassembly, bounded and expired by capture time.

Strategy: fragments are kept per datagram key ``(version, src, dst, id, proto)``
as a list of ``(offset, bytes)``.  The datagram is complete when the last
fragment (more-fragments flag clear) is known and the pieces cover 0..end with
no hole.  The reassembled datagram is attributed to the frame that completed
it, which is what Wireshark calls "reassembled in".

Bounds: ``MAX_PENDING_DATAGRAMS`` open datagrams and ``MAX_DATAGRAM`` bytes
each; older datagrams are evicted first, and anything evicted or expired is
reported, never dropped silently.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

from ..diagnostics import Diagnostic, Stage, Trigger

__all__ = ["FRAG_TIMEOUT_NS", "MAX_DATAGRAM", "MAX_PENDING_DATAGRAMS", "Reassembler"]

# Linux keeps fragment queues 30 s (net.ipv4.ipfrag_time); RFC 791 suggests 15 s.
FRAG_TIMEOUT_NS = 30 * 1_000_000_000
# An IPv4 datagram cannot exceed 65535 bytes; IPv6 without jumbograms neither.
MAX_DATAGRAM = 65_535 + 40
# Linux's ipfrag_high_thresh is 4 MB; a few thousand open datagrams is far more
# than a SIP capture needs and bounds memory to a few hundred MB in the worst case.
MAX_PENDING_DATAGRAMS = 2048

_Key = tuple[int, bytes, bytes, int, int]


class _Pending:
    __slots__ = ("first_frame", "first_ts", "pieces", "size", "total")

    def __init__(self, frame: int, ts: int) -> None:
        self.first_frame = frame
        self.first_ts = ts
        self.pieces: list[tuple[int, bytes]] = []
        self.total = -1
        self.size = 0


class Reassembler:
    """Collects fragments and returns whole datagrams."""

    def __init__(self, report: Callable[[Diagnostic], None]) -> None:
        self._report = report
        self._pending: OrderedDict[_Key, _Pending] = OrderedDict()

    def add(
        self, key: _Key, offset: int, more: bool, data: bytes, frame: int, ts: int
    ) -> bytes | None:
        """Add one fragment; return the whole payload when this fragment completes it."""
        p = self._pending.get(key)
        if p is None:
            if len(self._pending) >= MAX_PENDING_DATAGRAMS:
                _, old = self._pending.popitem(last=False)
                self._drop(old, Trigger.FRAG_OVERFLOW, "too many datagrams awaiting fragments")
            p = self._pending[key] = _Pending(frame, ts)
        end = offset + len(data)
        if end > MAX_DATAGRAM:
            del self._pending[key]
            self._drop(p, Trigger.FRAG_OVERFLOW, f"fragment ends at byte {end}, past the IP limit")
            return None
        p.pieces.append((offset, data))
        p.size += len(data)
        if not more:
            p.total = end
        if p.total < 0 or p.size < p.total:
            return None
        p.pieces.sort(key=lambda piece: piece[0])
        out = bytearray(p.total)
        covered = 0
        for off, chunk in p.pieces:
            if off > covered:
                return None  # hole: overlapping duplicates inflated size
            out[off : off + len(chunk)] = chunk
            covered = max(covered, off + len(chunk))
        if covered < p.total:
            return None
        del self._pending[key]
        return bytes(out[: p.total])

    def expire(self, now: int) -> None:
        """Report and forget datagrams whose first fragment is older than the timeout."""
        while self._pending:
            key, p = next(iter(self._pending.items()))
            if now - p.first_ts < FRAG_TIMEOUT_NS:
                break
            del self._pending[key]
            self._drop(p, Trigger.FRAG_EXPIRED, "fragments never completed a datagram")

    def flush(self) -> None:
        """Report every incomplete datagram at the end of the capture."""
        for p in self._pending.values():
            self._drop(p, Trigger.FRAG_EXPIRED, "capture ended before all fragments arrived")
        self._pending.clear()

    def _drop(self, p: _Pending, trigger: Trigger, why: str) -> None:
        self._report(
            Diagnostic(
                frame=p.first_frame,
                stage=Stage.REASSEMBLY,
                trigger=trigger,
                detail=f"{why} ({len(p.pieces)} fragments, {p.size} bytes dropped)",
            )
        )
