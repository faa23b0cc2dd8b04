"""TCP stream reassembly: ordered, de-duplicated bytes per direction.

Strategy: each direction of a connection is a ``_Flow`` with the next expected
sequence number.  In-order data is delivered at once; retransmitted bytes are
trimmed; out-of-order segments wait in a map by sequence number until the hole
is filled.  A stream whose SYN was not captured starts at its first data
segment (the SIP framer resynchronises on the next start line).  If waiting
data exceeds ``MAX_REASM_BYTES`` the hole is declared lost: a ``tcp-gap``
diagnostic is raised and delivery resumes after it, flagged ``gap=True``.

Cost: linear in the segments (n log n at worst).  Besides the map, each flow
keeps a heap of its waiting segments by stream position (the sequence number
unwrapped: it never wraps, so the heap order is TCP's order), which answers the
two questions that used to scan every waiting segment: which segment comes
first after a hole (to skip it), and which ones a delivery overtook (to trim
them).  Entries of segments that left the map stay in the heap until they reach
its top and are dropped there.  A SYN that moves the next sequence number of a
flow with waiting data (a new connection on the same ports) makes the next use
recompute every position, one pass over what waits (the old code made such a
pass on every delivery); TCP's modular order is kept exactly, also for
segments left behind by the jump.

Memory: what waits is counted in a ``ReassemblyBudget`` shared with the other
reassembly stages; when the budget evicts a flow, its waiting segments are
dropped as if never captured (one ``reasm-overflow`` diagnostic) and the holes
they leave are later skipped like any other.

A FIN closes its direction only once every byte before it has been delivered
(a FIN captured ahead of the last data segment waits for it).  A closed
direction stays in the table, so a retransmission of its last segments is
recognised as such instead of opening a new stream that would deliver the same
bytes twice; a SYN (or data past the FIN) on the same addresses starts a new
stream.

This module never looks at the bytes it delivers: deciding what is SIP is the
SIP framer's job.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from heapq import heapify, heappop, heappush

from ..diagnostics import Diagnostic, Stage, Trigger
from .budget import SEGMENT_COST, ReassemblyBudget
from .payload import Endpoint, Payload, Transport

__all__ = ["HOLE_TIMEOUT_NS", "MAX_REASM_BYTES", "MAX_TCP_FLOWS", "TcpReassembler"]

# Out-of-order bytes held per direction before a hole is declared lost.  Linux's
# default tcp_rmem maximum is 6 MB, but a capture is not a receiver: by the
# time 256 KiB have passed a hole, the missing segment was not captured.
MAX_REASM_BYTES = 256 * 1024
# A hole not filled after this much capture time was not captured (TCP's RTO is
# 1 s initially, RFC 6298; a few doublings stay under 5 s).
HOLE_TIMEOUT_NS = 5 * 1_000_000_000
# Open directions tracked at once; the least recently active is evicted first.
MAX_TCP_FLOWS = 65_536

_SYN, _FIN, _RST = 0x02, 0x01, 0x04
_MASK = 0xFFFFFFFF
_HALF = 0x80000000
_WRAP = 0x100000000

_FlowKey = tuple[str, int, str, int]
_Waiting = tuple[bytes, int, int, int, int]
"""A segment behind a hole: (data, frame, ts, stream position, arrival order)."""


class _Flow:
    __slots__ = (
        "arrivals",
        "charged",
        "closed",
        "fin",
        "gap",
        "heap",
        "index",
        "key",
        "next_seq",
        "pos",
        "reanchor",
        "waiting",
        "waiting_bytes",
    )

    def __init__(self, index: int, key: _FlowKey) -> None:
        self.index = index
        self.key = key
        self.next_seq = -1
        self.pos = 0
        """Stream position of ``next_seq``: the sequence number without wrapping."""
        self.waiting: dict[int, _Waiting] = {}
        """Out-of-order segments by sequence number (dict order: arrival, which breaks
        ties between overlapping copies the way it always did)."""
        self.heap: list[tuple[int, int]] = []
        """(stream position, sequence number) of each waiting segment, and stale ones."""
        self.arrivals = 0
        """Arrival order given to the next new map entry (ties in ``_trim``)."""
        self.reanchor = False
        """A SYN moved ``next_seq`` while segments waited: positions need recomputing."""
        self.waiting_bytes = 0
        self.charged = 0
        """What the budget counts for this flow."""
        self.gap = False
        self.fin = -1
        """Sequence number just past the last byte, once a FIN was seen (-1 before)."""
        self.closed = False
        """FIN reached (or RST seen) and the end delivered; only retransmissions follow."""


def _not_after(end: int, ref: int) -> bool:
    """Is sequence number ``end`` at or before ``ref`` (modulo 2**32)?"""
    return (ref - end) & _MASK < _HALF


class TcpReassembler:
    """Turns TCP segments into in-order ``Payload`` chunks."""

    def __init__(
        self, report: Callable[[Diagnostic], None], budget: ReassemblyBudget | None = None
    ) -> None:
        self._report = report
        self.budget = budget if budget is not None else ReassemblyBudget()
        """Shared with the other reassembly stages (may be replaced before the first segment)."""
        self._flows: OrderedDict[_FlowKey, _Flow] = OrderedDict()
        self._holes: dict[_FlowKey, None] = {}
        """Flows with a hole, in the order their first hole appeared: a dict, not a
        set, so expiry visits them in an order that does not hang on string hashes
        (a set made the output change with PYTHONHASHSEED)."""
        """Flows holding out-of-order data, checked by ``expire``."""
        self._next_index = 1
        self.retransmitted_segments = 0
        """Segments whose bytes had all been delivered already (counted, not an error)."""

    def segment(
        self,
        src: Endpoint,
        dst: Endpoint,
        seq: int,
        flags: int,
        data: bytes,
        frame: int,
        ts: int,
    ) -> list[Payload]:
        """Feed one segment; return the chunks it makes deliverable, in order."""
        key = (src.ip, src.port, dst.ip, dst.port)
        flow = self._flows.get(key)
        if flow is not None and flow.closed:
            if not flags & _SYN and (not data or _not_after(seq + len(data), flow.next_seq)):
                # a retransmission of the closed stream's last bytes (or of its FIN/RST)
                self._flows.move_to_end(key)
                if data:
                    self.retransmitted_segments += 1
                return []
            del self._flows[key]  # a new connection on the same addresses and ports
            flow = None
        if flow is None:
            if flags & _RST or (not data and not flags & _SYN):
                return []
            if len(self._flows) >= MAX_TCP_FLOWS:
                _, old = self._flows.popitem(last=False)
                self._abandon(old, frame, "too many open TCP streams; oldest evicted")
            flow = self._flows[key] = _Flow(self._next_index, key)
            self._next_index += 1
        else:
            self._flows.move_to_end(key)
        out: list[Payload] = []
        if flags & _SYN:
            nxt = (seq + 1) & _MASK
            if flow.waiting and nxt != flow.next_seq:
                flow.reanchor = True
            flow.next_seq = seq = nxt
        if flags & _FIN:
            flow.fin = (seq + len(data)) & _MASK
        if data:
            if flow.next_seq < 0:
                flow.next_seq = seq
            rel = (seq - flow.next_seq) & _MASK
            if rel >= _HALF:  # before next_seq: (partly) retransmitted
                back = _WRAP - rel
                if back >= len(data):
                    self.retransmitted_segments += 1
                    data = b""
                else:
                    data = data[back:]
                    rel = 0
            if data:
                if rel == 0:
                    self._deliver(flow, src, dst, data, frame, ts, out)
                    self._drain(flow, src, dst, frame, ts, out)
                else:
                    # keep the longer copy: a retransmission may carry more (repacketised)
                    held = flow.waiting.get(seq)
                    if held is None or len(held[0]) < len(data):
                        if held is None:
                            pos, order = flow.pos + rel, flow.arrivals
                            flow.arrivals += 1
                            heappush(flow.heap, (pos, seq))
                        else:
                            pos, order = held[3], held[4]
                        flow.waiting[seq] = (data, frame, ts, pos, order)
                        self._holes[key] = None
                        flow.waiting_bytes += len(data) - (len(held[0]) if held else 0)
                        if flow.waiting_bytes > MAX_REASM_BYTES:
                            self._skip_hole(flow, src, dst, frame, ts, out)
        if flags & _RST:
            # the connection is gone: nothing will fill the holes any more
            while flow.waiting:
                self._skip_hole(flow, src, dst, frame, ts, out, closing=True)
            self._close(flow, src, dst, frame, ts, out)
        elif flow.fin >= 0 and not flow.waiting and _not_after(flow.fin, flow.next_seq):
            self._close(flow, src, dst, frame, ts, out)  # every byte before the FIN delivered
        if flow.charged or flow.waiting:
            self._account(flow, frame)
        return out

    def _close(
        self, flow: _Flow, src: Endpoint, dst: Endpoint, frame: int, ts: int, out: list[Payload]
    ) -> None:
        flow.closed = True
        flow.waiting_bytes = 0
        out.append(Payload(frame, ts, src, dst, Transport.TCP, b"", flow.index, False, True))

    def expire(self, now: int) -> list[Payload]:
        """Give up on holes older than ``HOLE_TIMEOUT_NS`` of capture time.

        A segment the sender retransmits arrives within its RTO (at most a few
        seconds); one that never comes was not captured, and what waits behind it
        must not reach the dialog layer minutes late.
        """
        out: list[Payload] = []
        for key in list(self._holes):
            flow = self._flows.get(key)
            if flow is None or not flow.waiting:
                del self._holes[key]
                continue
            oldest = min(w[2] for w in flow.waiting.values())
            if now - oldest < HOLE_TIMEOUT_NS:
                continue
            del self._holes[key]
            src, dst = Endpoint(key[0], key[1]), Endpoint(key[2], key[3])
            while flow.waiting:
                self._skip_hole(flow, src, dst, 0, now, out)
            if flow.fin >= 0 and _not_after(flow.fin, flow.next_seq):
                self._close(flow, src, dst, 0, now, out)
            self._account(flow, 0)
        return out

    def flush(self) -> list[Payload]:
        """End of capture: deliver what waits behind holes, then close every stream."""
        out: list[Payload] = []
        for key, flow in self._flows.items():
            if flow.closed:
                continue
            src, dst = Endpoint(key[0], key[1]), Endpoint(key[2], key[3])
            while flow.waiting:
                self._skip_hole(flow, src, dst, 0, 0, out, closing=True)
            self._account(flow, 0)
            out.append(Payload(0, 0, src, dst, Transport.TCP, b"", flow.index, False, True))
        self._flows.clear()
        return out

    def _deliver(
        self,
        flow: _Flow,
        src: Endpoint,
        dst: Endpoint,
        data: bytes,
        frame: int,
        ts: int,
        out: list[Payload],
    ) -> None:
        out.append(Payload(frame, ts, src, dst, Transport.TCP, data, flow.index, flow.gap, False))
        flow.gap = False
        flow.next_seq = (flow.next_seq + len(data)) & _MASK
        flow.pos += len(data)

    def _drain(
        self,
        flow: _Flow,
        src: Endpoint,
        dst: Endpoint,
        frame: int,
        ts: int,
        out: list[Payload],
    ) -> None:
        # Segments released by a filled hole are attributed to the frame that filled it.
        waiting = flow.waiting
        while waiting:
            item = waiting.pop(flow.next_seq, None)
            if item is None:
                if not self._trim(flow):
                    return
                continue
            flow.waiting_bytes -= len(item[0])
            # frame 0: after a skipped hole, each segment counts from its own frame
            self._deliver(flow, src, dst, item[0], frame or item[1], ts or item[2], out)

    def _trim(self, flow: _Flow) -> bool:
        """Trim waiting segments that overlap what was just delivered.

        Returns whether one of them now starts at ``next_seq``.  They sit at the
        top of the heap (positions before ``pos``); they are handled in arrival
        order, so that of two trimmed to the same start the longer one, or at
        equal length the earlier one, is kept.
        """
        if flow.reanchor:
            self._reanchor(flow)
        heap, waiting, pos = flow.heap, flow.waiting, flow.pos
        behind: dict[int, int] = {}
        while heap and heap[0][0] < pos:
            p, s = heappop(heap)
            held = waiting.get(s)
            if held is not None and held[3] == p:
                behind[s] = held[4]
        if not behind:
            return False
        nxt = flow.next_seq
        for s in sorted(behind, key=behind.__getitem__):
            data, f, t, p, _order = waiting.pop(s)
            flow.waiting_bytes -= len(data)
            back = pos - p
            if back < len(data):
                # two trimmed segments may now start at the same place: keep
                # the longer, or the bytes past the shorter one are lost
                rest = data[back:]
                held = waiting.get(nxt)
                if held is None or len(held[0]) < len(rest):
                    if held is None:
                        order = flow.arrivals
                        flow.arrivals += 1
                        heappush(heap, (pos, nxt))
                    else:
                        order = held[4]
                    waiting[nxt] = (rest, f, t, pos, order)
                    flow.waiting_bytes += len(rest) - (len(held[0]) if held else 0)
        return nxt in waiting

    def _reanchor(self, flow: _Flow) -> None:
        """Recompute every waiting position from ``next_seq`` (after a SYN moved it)."""
        nxt, pos, waiting = flow.next_seq, flow.pos, flow.waiting
        heap: list[tuple[int, int]] = []
        for s, (data, f, t, _p, order) in list(waiting.items()):
            rel = (s - nxt) & _MASK
            p = pos + (rel if rel < _HALF else rel - _WRAP)
            waiting[s] = (data, f, t, p, order)
            heap.append((p, s))
        heapify(heap)
        flow.heap = heap
        flow.reanchor = False

    def _first_waiting(self, flow: _Flow) -> int:
        """Sequence number of the waiting segment that comes first after ``next_seq``."""
        if flow.reanchor:
            self._reanchor(flow)
        heap, waiting = flow.heap, flow.waiting
        while True:
            p, s = heap[0]
            held = waiting.get(s)
            if held is not None and held[3] == p:
                break
            heappop(heap)  # stale: the segment left the map
        if p >= flow.pos:
            return s
        # Segments before next_seq (only right after a SYN moved it): TCP's order, and
        # positions recomputed once next_seq has moved to it (skipping may take the
        # ones behind more than 2**31 from it, where their order flips).
        nxt = flow.next_seq
        flow.reanchor = True
        return min(waiting, key=lambda s: (s - nxt) & _MASK)

    def _skip_hole(
        self,
        flow: _Flow,
        src: Endpoint,
        dst: Endpoint,
        frame: int,
        ts: int,
        out: list[Payload],
        closing: bool = False,
    ) -> None:
        nxt = self._first_waiting(flow)
        missing = (nxt - flow.next_seq) & _MASK
        held = flow.waiting[nxt]
        self._report(
            Diagnostic(
                frame=held[1],
                stage=Stage.REASSEMBLY,
                trigger=Trigger.TCP_GAP,
                detail=f"TCP {src} -> {dst}: {missing} bytes never captured"
                + ("; stream closed" if closing else f"; {flow.waiting_bytes} bytes waited"),
            )
        )
        flow.next_seq = nxt
        flow.pos = held[3]
        flow.gap = True
        self._drain(flow, src, dst, 0, 0, out)

    def _account(self, flow: _Flow, frame: int) -> None:
        """Tell the budget what ``flow`` holds now."""
        size = flow.waiting_bytes + SEGMENT_COST * len(flow.waiting) if flow.waiting else 0
        if size != flow.charged:
            flow.charged = size
            self.budget.hold(flow, size, self._evicted, frame)

    def _evicted(self, flow: _Flow, frame: int) -> None:
        """The budget gave up on this flow's waiting segments: drop them, say so."""
        flow.charged = 0
        if not flow.waiting:
            return
        nxt = flow.next_seq
        first = min(flow.waiting.items(), key=lambda item: (item[0] - nxt) & _MASK)[1][1]
        key = flow.key
        self._report(
            Diagnostic(
                frame=first,
                stage=Stage.REASSEMBLY,
                trigger=Trigger.REASM_OVERFLOW,
                detail=f"reassembly memory budget ({self.budget.limit} bytes) exceeded at "
                f"frame {frame}: {flow.waiting_bytes} out-of-order bytes of TCP "
                f"{Endpoint(key[0], key[1])} -> {Endpoint(key[2], key[3])} dropped",
            )
        )
        flow.waiting.clear()
        flow.heap = []
        flow.reanchor = False
        flow.waiting_bytes = 0

    def _abandon(self, flow: _Flow, frame: int, why: str) -> None:
        self.budget.release(flow)
        flow.charged = 0
        if flow.waiting:
            self._report(
                Diagnostic(
                    frame=frame,
                    stage=Stage.REASSEMBLY,
                    trigger=Trigger.REASM_OVERFLOW,
                    detail=f"{why}; {flow.waiting_bytes} out-of-order bytes dropped",
                )
            )
