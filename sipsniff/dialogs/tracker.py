"""DialogTracker: groups SIP messages into calls and publishes finished ones.

Theory of operation: ``feed(msg)`` files the message under its Call-ID,
marks retransmissions, and moves the open call to the back of one of four
*tiers*, each an insertion-ordered dict with one idle timeout.  Because every
call in a tier shares a timeout, ``expire(now)`` only ever looks at the front
of each tier, so expiry is O(finished calls), never O(open calls).

Tiers (capture time, never the wall clock):

========== ====================================================== ==========
tier       when                                                   idle limit
========== ====================================================== ==========
finished   final response to the latest request / BYE answered    T4 = 5 s
waiting    a request with no response at all                      64*T1 = 32 s
ringing    provisional responses only                             Timer C, 180 s
established answered, no BYE yet                                 4 h
========== ====================================================== ==========

Capture duplicates (a SPAN port or a capture on two interfaces records the
same packet twice, microseconds to milliseconds apart) are not retransmissions:
a message whose bytes, source and destination equal an earlier one's within
``DUPLICATE_WINDOW_NS`` is left out of the call and counted, so no rule reads a
mirrored copy as a peer repeating itself.

The 5 s linger absorbs retransmissions of the last messages (RFC 3261
Timer I/K = T4 for UDP).  ``MAX_OPEN_DIALOGS`` bounds the table; past it the
least recently active call is published early, flagged ``evicted``, and counted.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence

from ..diagnostics import Diagnostic, Stage, Trigger
from ..sip.message import SipMessage
from .call import Call
from .outcome import snapshot

__all__ = [
    "DUPLICATE_WINDOW_NS",
    "MAX_DUPLICATE_FRAMES",
    "MAX_OPEN_DIALOGS",
    "TIER_TIMEOUTS_NS",
    "DialogTracker",
    "OpenCall",
]

_S = 1_000_000_000
# sngrep keeps 20,000 dialogs by default (-l).  An open dialog costs about 7 KB
# (measured by `make bench` on a scanner flood: parsed message, raw bytes, SDP,
# transaction sets), so 15,000 keeps a flood of never-finished Call-IDs near
# 100 MB.  Past it the least recently active call is published early, never lost.
MAX_OPEN_DIALOGS = 15_000
TIER_TIMEOUTS_NS = (5 * _S, 32 * _S, 180 * _S, 4 * 3600 * _S)
_FINISHED, _WAITING, _RINGING, _ESTABLISHED = 0, 1, 2, 3
# A real retransmission comes after T1 at the earliest (500 ms by default, RFC
# 3261 17.1.1.1; stacks that lower it stay above 100 ms), while a mirrored copy of
# the same packet follows within a millisecond or two even on a busy switch.
# 50 ms leaves room for slow mirroring and stays far below any T1.
DUPLICATE_WINDOW_NS = 50_000_000
# The frames of a call's capture duplicates kept for display (all are counted).
MAX_DUPLICATE_FRAMES = 64


class OpenCall:
    """Mutable builder for one Call-ID; lives only inside the tracker."""

    __slots__ = (
        "answered",
        "by_bytes",
        "bye_done",
        "call_id",
        "dup_count",
        "dup_frames",
        "last_ts",
        "messages",
        "pending",
        "retrans",
        "seen_req",
        "seen_resp",
        "tier",
    )

    def __init__(self, call_id: str) -> None:
        self.call_id = call_id
        self.messages: list[SipMessage] = []
        self.retrans: set[int] = set()
        self.seen_req: set[tuple[str, int, str, str, int]] = set()
        self.seen_resp: set[tuple[str, int, str, int, str, str, int]] = set()
        self.tier = _WAITING
        self.last_ts = 0
        self.answered = False
        self.pending: dict[tuple[str, str, int], int] = {}
        """Open transactions: (branch, method, cseq) -> highest status so far (0 = none)."""
        self.bye_done = False
        self.by_bytes: dict[tuple[object, ...], int] = {}
        """(source, destination, size, hash of the bytes) -> index of the latest such message."""
        self.dup_count = 0
        self.dup_frames: list[int] = []

    def duplicate(self, msg: SipMessage) -> bool:
        """Is ``msg`` a capture duplicate of a message already filed (and so counted here)?"""
        raw = msg.raw
        key = (msg.src, msg.dst, len(raw), hash(raw))
        j = self.by_bytes.get(key)
        if j is not None:
            prev = self.messages[j]
            if abs(msg.ts_ns - prev.ts_ns) <= DUPLICATE_WINDOW_NS and prev.raw == raw:
                self.dup_count += 1
                if len(self.dup_frames) < MAX_DUPLICATE_FRAMES:
                    self.dup_frames.append(msg.frame)
                return True
        self.by_bytes[key] = len(self.messages)
        return False

    def add(self, msg: SipMessage) -> None:
        if self.duplicate(msg):
            self.last_ts = max(self.last_ts, msg.ts_ns)
            return
        idx = len(self.messages)
        self.messages.append(msg)
        self.last_ts = msg.ts_ns
        if msg.status == 0:
            key = (msg.branch, msg.cseq_num, msg.method, msg.src.ip, msg.src.port)
            if key in self.seen_req:
                self.retrans.add(idx)
                return
            self.seen_req.add(key)
            if msg.method != "ACK":
                self.pending[(msg.branch, msg.method, msg.cseq_num)] = 0
        else:
            rkey = (
                msg.branch,
                msg.cseq_num,
                msg.cseq_method,
                msg.status,
                msg.to_tag,
                msg.src.ip,
                msg.src.port,
            )
            if rkey in self.seen_resp:
                self.retrans.add(idx)
                return
            self.seen_resp.add(rkey)
            tkey = (msg.branch, msg.cseq_method, msg.cseq_num)
            if tkey in self.pending:
                if msg.status >= 200:
                    del self.pending[tkey]
                else:
                    self.pending[tkey] = msg.status
            if msg.status < 300 and msg.status >= 200:
                if msg.cseq_method == "INVITE":
                    self.answered = True
                elif msg.cseq_method == "BYE":
                    self.bye_done = True
            elif msg.status >= 300 and msg.cseq_method == "BYE":
                self.bye_done = True
        self.tier = self._tier()

    def _tier(self) -> int:
        if self.bye_done:
            return _FINISHED
        if self.answered:
            return _ESTABLISHED
        if not self.pending:
            return _FINISHED
        if any(self.pending.values()):
            return _RINGING
        return _WAITING


class DialogTracker:
    """Sans-I/O: ``feed(msg)``, ``expire(now)``, ``flush()``; each returns finished calls."""

    def __init__(self, report: Callable[[Diagnostic], None], max_open: int | None = None) -> None:
        self._report = report
        self.max_open = max_open or MAX_OPEN_DIALOGS
        """Open-dialog bound (``MAX_OPEN_DIALOGS`` unless the user chose another)."""
        self._tiers: tuple[OrderedDict[str, OpenCall], ...] = tuple(
            OrderedDict() for _ in TIER_TIMEOUTS_NS
        )
        self._where: dict[str, OpenCall] = {}
        self.evicted = 0
        self.calls = 0
        self.last_ts = 0

    @property
    def open_count(self) -> int:
        return len(self._where)

    def feed(self, msg: SipMessage) -> Sequence[Call]:
        """File one message; returns calls finished early to respect the table bound."""
        cid = msg.call_id
        oc = self._where.get(cid)
        out: Sequence[Call] = ()
        if oc is None:
            if len(self._where) >= self.max_open:
                out = (self._evict(msg.frame),)
            oc = self._where[cid] = OpenCall(cid)
            tier = oc.tier
        else:
            tier = oc.tier
            del self._tiers[tier][cid]
        oc.add(msg)
        if oc.tier == tier:
            self._tiers[tier][cid] = oc
        else:
            self._tiers[oc.tier][cid] = oc
        if msg.ts_ns > self.last_ts:
            self.last_ts = msg.ts_ns
        return out

    def _evict(self, frame: int) -> Call:
        oldest: OpenCall | None = None
        for tier in self._tiers:
            if tier:
                cand = next(iter(tier.values()))
                if oldest is None or cand.last_ts < oldest.last_ts:
                    oldest = cand
        assert oldest is not None
        self._remove(oldest)
        self.evicted += 1
        if self.evicted == 1 or self.evicted % 10_000 == 0:
            self._report(
                Diagnostic(
                    frame=frame,
                    stage=Stage.DIALOGS,
                    trigger=Trigger.DIALOG_EVICTED,
                    detail=f"more than {self.max_open} open dialogs: the least recently "
                    f"active is published early ({self.evicted} so far)",
                )
            )
        return snapshot(oldest, now=self.last_ts, evicted=True)

    def _remove(self, oc: OpenCall) -> None:
        del self._tiers[oc.tier][oc.call_id]
        del self._where[oc.call_id]
        self.calls += 1

    def expire(self, now: int) -> list[Call]:
        """Publish calls idle past their tier's limit at capture time ``now``."""
        out: list[Call] = []
        for tier, limit in zip(self._tiers, TIER_TIMEOUTS_NS, strict=True):
            while tier:
                oc = next(iter(tier.values()))
                if now - oc.last_ts < limit:
                    break
                self._remove(oc)
                out.append(snapshot(oc, now=now))
        return out

    def flush(self) -> list[Call]:
        """End of capture: publish every open call, oldest activity first."""
        rest = sorted(self._where.values(), key=lambda oc: oc.messages[0].ts_ns)
        out = []
        for oc in rest:
            self._remove(oc)
            out.append(snapshot(oc, now=self.last_ts))
        return out
