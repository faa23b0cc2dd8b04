"""IPv4 and IPv6 fragment reassembly, bounded and expired by capture time.

Strategy: fragments are kept per datagram key ``(version, src, dst, id, proto)``
as a list of ``(offset, bytes)``.  The datagram is complete when the last
fragment (more-fragments flag clear) is known and the pieces cover 0..end with
no hole.  The reassembled datagram is attributed to the frame that completed
it, which is what Wireshark calls "reassembled in".

Cost: linear in the fragments.  What the pieces cover is kept as a short
sorted list of disjoint intervals, merged as each fragment arrives, so "is it
complete?" is answered without looking at the pieces; they are sorted and
copied once, when it is (duplicates used to make every arrival re-sort them all).

Bounds: ``MAX_PENDING_DATAGRAMS`` open datagrams and ``MAX_DATAGRAM`` bytes
each; older datagrams are evicted first, and anything evicted or expired is
reported, never dropped silently.  What they hold (duplicates included) is
counted in a ``ReassemblyBudget`` shared with TCP and SIP framing; a datagram
the budget evicts is dropped with a ``frag-overflow`` diagnostic.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Callable

from ..diagnostics import Diagnostic, Stage, Trigger
from .budget import FRAGMENT_COST, ReassemblyBudget

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
    __slots__ = (
        "ends",
        "first_frame",
        "first_ts",
        "key",
        "last_empty",
        "pieces",
        "size",
        "starts",
        "total",
    )

    def __init__(self, key: _Key, frame: int, ts: int) -> None:
        self.key = key
        self.first_frame = frame
        self.first_ts = ts
        self.pieces: list[tuple[int, bytes]] = []
        self.total = -1
        self.size = 0
        self.starts: list[int] = []
        self.ends: list[int] = []
        """What the pieces cover: disjoint, non-adjacent [start, end) intervals, sorted."""
        self.last_empty = 0
        """The largest offset of an empty piece (it must lie inside the coverage too)."""

    def cover(self, start: int, end: int) -> None:
        """Merge ``[start, end)`` into the coverage."""
        if end <= start:
            self.last_empty = max(self.last_empty, start)
            return
        starts, ends = self.starts, self.ends
        i = bisect_left(ends, start)  # first interval ending at or after start
        j = bisect_right(starts, end)  # past the last one starting at or before end
        if i < j:
            start = min(start, starts[i])
            end = max(end, ends[j - 1])
        starts[i:j] = [start]
        ends[i:j] = [end]

    def complete(self) -> bool:
        """Do the pieces cover 0..total with no hole (nor a piece past a hole)?"""
        if self.total < 0:
            return False
        if not self.starts:
            return self.total == 0 and self.last_empty == 0
        return (
            len(self.starts) == 1
            and self.starts[0] == 0
            and self.ends[0] >= self.total
            and self.last_empty <= self.ends[0]
        )


class Reassembler:
    """Collects fragments and returns whole datagrams."""

    def __init__(
        self, report: Callable[[Diagnostic], None], budget: ReassemblyBudget | None = None
    ) -> None:
        self._report = report
        self.budget = budget if budget is not None else ReassemblyBudget()
        """Shared with the other reassembly stages (may be replaced before the first fragment)."""
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
            p = self._pending[key] = _Pending(key, frame, ts)
        end = offset + len(data)
        if end > MAX_DATAGRAM:
            del self._pending[key]
            self._drop(p, Trigger.FRAG_OVERFLOW, f"fragment ends at byte {end}, past the IP limit")
            return None
        p.pieces.append((offset, data))
        p.size += len(data)
        p.cover(offset, end)
        if not more:
            p.total = end
        if not p.complete():
            self.budget.hold(p, p.size + FRAGMENT_COST * len(p.pieces), self._evicted, frame)
            return None
        p.pieces.sort(key=lambda piece: piece[0])
        out = bytearray(p.total)
        for off, chunk in p.pieces:
            out[off : off + len(chunk)] = chunk
        del self._pending[key]
        self.budget.release(p)
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

    def _evicted(self, p: _Pending, frame: int) -> None:
        """The budget gave up on this datagram: forget it, say so."""
        if self._pending.get(p.key) is p:
            del self._pending[p.key]
            self._drop(
                p,
                Trigger.FRAG_OVERFLOW,
                f"reassembly memory budget ({self.budget.limit} bytes) exceeded at frame {frame}",
            )

    def _drop(self, p: _Pending, trigger: Trigger, why: str) -> None:
        self.budget.release(p)
        self._report(
            Diagnostic(
                frame=p.first_frame,
                stage=Stage.REASSEMBLY,
                trigger=trigger,
                detail=f"{why} ({len(p.pieces)} fragments, {p.size} bytes dropped)",
            )
        )
