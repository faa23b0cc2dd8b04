"""TCP stream reassembly: ordered, de-duplicated bytes per direction.

Strategy: each direction of a connection is a ``_Flow`` with the next expected
sequence number.  In-order data is delivered at once; retransmitted bytes are
trimmed; out-of-order segments wait in a small map until the hole is filled.
A stream whose SYN was not captured starts at its first data segment (the SIP
framer resynchronises on the next start line).  If waiting data exceeds
``MAX_REASM_BYTES`` the hole is declared lost: a ``tcp-gap`` diagnostic is
raised and delivery resumes after it, flagged ``gap=True``.

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

from ..diagnostics import Diagnostic, Stage, Trigger
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

_FlowKey = tuple[str, int, str, int]


class _Flow:
    __slots__ = ("closed", "fin", "gap", "index", "next_seq", "waiting", "waiting_bytes")

    def __init__(self, index: int) -> None:
        self.index = index
        self.next_seq = -1
        self.waiting: dict[int, tuple[bytes, int, int]] = {}
        self.waiting_bytes = 0
        self.gap = False
        self.fin = -1
        """Sequence number just past the last byte, once a FIN was seen (-1 before)."""
        self.closed = False
        """FIN reached (or RST seen) and the end delivered; only retransmissions follow."""


def _not_after(end: int, ref: int) -> bool:
    """Is sequence number ``end`` at or before ``ref`` (modulo 2**32)?"""
    return (ref - end) & _MASK < 0x80000000


class TcpReassembler:
    """Turns TCP segments into in-order ``Payload`` chunks."""

    def __init__(self, report: Callable[[Diagnostic], None]) -> None:
        self._report = report
        self._flows: OrderedDict[_FlowKey, _Flow] = OrderedDict()
        self._holes: set[_FlowKey] = set()
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
            flow = self._flows[key] = _Flow(self._next_index)
            self._next_index += 1
        else:
            self._flows.move_to_end(key)
        out: list[Payload] = []
        if flags & _SYN:
            flow.next_seq = (seq + 1) & _MASK
            seq = flow.next_seq
        if flags & _FIN:
            flow.fin = (seq + len(data)) & _MASK
        if data:
            if flow.next_seq < 0:
                flow.next_seq = seq
            rel = (seq - flow.next_seq) & _MASK
            if rel >= 0x80000000:  # before next_seq: (partly) retransmitted
                back = 0x100000000 - rel
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
                        flow.waiting[seq] = (data, frame, ts)
                        self._holes.add(key)
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
                self._holes.discard(key)
                continue
            oldest = min(t for _d, _f, t in flow.waiting.values())
            if now - oldest < HOLE_TIMEOUT_NS:
                continue
            self._holes.discard(key)
            src, dst = Endpoint(key[0], key[1]), Endpoint(key[2], key[3])
            while flow.waiting:
                self._skip_hole(flow, src, dst, 0, now, out)
            if flow.fin >= 0 and _not_after(flow.fin, flow.next_seq):
                self._close(flow, src, dst, 0, now, out)
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
                # trim waiting segments that overlap what was just delivered
                for s in list(waiting):
                    rel = (s - flow.next_seq) & _MASK
                    if rel >= 0x80000000:
                        data, f, t = waiting.pop(s)
                        flow.waiting_bytes -= len(data)
                        back = 0x100000000 - rel
                        if back < len(data):
                            # two trimmed segments may now start at the same place: keep
                            # the longer, or the bytes past the shorter one are lost
                            rest = data[back:]
                            held = waiting.get(flow.next_seq)
                            if held is None or len(held[0]) < len(rest):
                                waiting[flow.next_seq] = (rest, f, t)
                                flow.waiting_bytes += len(rest) - (len(held[0]) if held else 0)
                if flow.next_seq not in waiting:
                    return
                continue
            flow.waiting_bytes -= len(item[0])
            # frame 0: after a skipped hole, each segment counts from its own frame
            self._deliver(flow, src, dst, item[0], frame or item[1], ts or item[2], out)

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
        nxt = min(flow.waiting, key=lambda s: (s - flow.next_seq) & _MASK)
        missing = (nxt - flow.next_seq) & _MASK
        first_frame = flow.waiting[nxt][1]
        self._report(
            Diagnostic(
                frame=first_frame,
                stage=Stage.REASSEMBLY,
                trigger=Trigger.TCP_GAP,
                detail=f"TCP {src} -> {dst}: {missing} bytes never captured"
                + ("; stream closed" if closing else f"; {flow.waiting_bytes} bytes waited"),
            )
        )
        flow.next_seq = nxt
        flow.gap = True
        self._drain(flow, src, dst, 0, 0, out)

    def _abandon(self, flow: _Flow, frame: int, why: str) -> None:
        if flow.waiting:
            self._report(
                Diagnostic(
                    frame=frame,
                    stage=Stage.REASSEMBLY,
                    trigger=Trigger.REASM_OVERFLOW,
                    detail=f"{why}; {flow.waiting_bytes} out-of-order bytes dropped",
                )
            )
