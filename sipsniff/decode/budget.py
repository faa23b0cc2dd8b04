"""One memory allowance shared by every reassembly buffer: TCP, IP fragments, SIP framing.

Why: each reassembly stage bounds what one holder may keep (256 KiB of
out-of-order bytes per TCP direction, one IP datagram, one SIP message) and how
many holders it tracks (65,536 TCP directions, 2,048 datagrams, 16,384 framing
streams), but the product of the two is gigabytes: 1,500 interleaved streams,
each an unfinished 250 KB SIP header, made the analyzer hold 470 MB.  A capture
is not a receiver and has no window to close, so the only defence is to give
up on something, say so, and go on.

Strategy: a holder (a TCP direction's waiting segments, a datagram's fragments,
a SIP stream's unfinished message) calls ``hold`` whenever what it keeps
changes, with its new size: the payload bytes plus a fixed cost per item for
the Python objects around them (``SEGMENT_COST``, ``FRAGMENT_COST``; a 1-byte
segment costs far more than a byte).  When the total passes the limit, the
holders that have gone longest without growing are evicted first (least
recently grown: the oldest data nobody is adding to) until the total fits; the
holder that just grew goes last, so one holder larger than the whole budget is
dropped too and the bound is strict.  An eviction forgets the holder here, then
calls the holder's callback with the frame that caused it; the callback drops
the bytes and reports one diagnostic with its frame number, and the budget
counts it (``evictions``, ``evicted_bytes``).

Rules:
- Holders call ``hold`` only from a consistent state (after a segment, a
  fragment or a payload is fully handled), because the call may evict any
  holder, the caller included.
- A callback must not call ``hold`` for the holder being evicted: it is already
  forgotten, and would be counted again.
- Normal traffic stays far below the limit, so the budget never changes what is
  reported for it.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Final, TypeVar

__all__ = ["FRAGMENT_COST", "REASSEMBLY_BUDGET", "SEGMENT_COST", "ReassemblyBudget"]

# Default total for all reassembly buffers of one pipeline.  Real SIP captures
# hold a few kilobytes at a time (a message waiting for its last segment); 64 MiB
# is ample for a busy trunk with losses and bounds a hostile capture to a size any
# machine running an analyzer has.
REASSEMBLY_BUDGET: Final = 64 * 1024 * 1024
# What CPython spends around one held item besides its payload, measured with
# tracemalloc: a waiting TCP segment is a bytes header (33), a 5-tuple (80), a dict
# entry, a heap entry (a 2-tuple and a list slot) and five ints, about 400 bytes;
# an IP fragment a bytes header, a 2-tuple, a list slot and an int, about 130.
SEGMENT_COST: Final = 400
FRAGMENT_COST: Final = 130

_T = TypeVar("_T")


class ReassemblyBudget:
    """Counts what reassembly holds; evicts the least recently grown holders over ``limit``."""

    __slots__ = ("_held", "evicted_bytes", "evictions", "limit", "peak", "used")

    def __init__(self, limit: int = REASSEMBLY_BUDGET) -> None:
        self.limit = limit
        self.used = 0
        """Bytes held now, by every holder together."""
        self.peak = 0
        """The largest ``used`` seen once evictions were done (never above ``limit``)."""
        self.evictions = 0
        self.evicted_bytes = 0
        self._held: OrderedDict[object, tuple[int, Callable[[Any, int], None]]] = OrderedDict()
        """holder -> (bytes, eviction callback), least recently grown first."""

    def hold(self, owner: _T, size: int, evict: Callable[[_T, int], None], frame: int) -> None:
        """``owner`` holds ``size`` bytes now (0: nothing); ``frame`` is the one that made it so.

        Growing moves ``owner`` to the back of the eviction order and, over the
        limit, evicts from the front until the total fits.
        """
        held = self._held
        entry = held.get(owner)
        old = entry[0] if entry is not None else 0
        if size <= 0:
            if entry is not None:
                del held[owner]
                self.used -= old
            return
        held[owner] = (size, evict)
        self.used += size - old
        if size > old:
            held.move_to_end(owner)
            if self.used > self.limit:
                self._evict(frame)
        if self.used > self.peak:
            self.peak = self.used

    def release(self, owner: object) -> None:
        """``owner`` holds nothing any more (delivered, completed, closed, forgotten)."""
        entry = self._held.pop(owner, None)
        if entry is not None:
            self.used -= entry[0]

    def holds(self, owner: object) -> int:
        """What ``owner`` is counted for now (0 when nothing)."""
        entry = self._held.get(owner)
        return entry[0] if entry is not None else 0

    def __len__(self) -> int:
        """Holders counted now."""
        return len(self._held)

    def _evict(self, frame: int) -> None:
        held = self._held
        while self.used > self.limit and held:
            owner, (size, evict) = held.popitem(last=False)
            self.used -= size
            self.evictions += 1
            self.evicted_bytes += size
            evict(owner, frame)
