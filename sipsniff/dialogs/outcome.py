"""Turn an open call into its frozen ``Call`` snapshot: transactions, outcome, timings.

Strategy: one pass over the messages builds transactions keyed by top Via
branch and CSeq method (RFC 3261 section 17.1.3: "the branch parameter in the
top Via header ... and the method in the CSeq"); ACK to a non-2xx final
response shares its INVITE's branch and is attached to that transaction.
Then the outcome is read from the final response of the initial request's
transactions through the tables in ``states``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..sip.headers import parse_name_addr
from ..sip.message import SipMessage
from .call import Call, Timings, Transaction
from .states import KIND_BY_METHOD, OUTCOME_BY_CLASS, OUTCOME_BY_CODE, CallKind, CallState

if TYPE_CHECKING:
    from .tracker import OpenCall

__all__ = ["TIMER_B_NS", "snapshot"]

# Timer B / Timer F = 64*T1 = 32 s: a client gives up on a request after this.
TIMER_B_NS = 32 * 1_000_000_000
# Transmissions of an unanswered UDP request after which its sender has given
# up in practice (0, 0.5, 1.5, 3.5, 7.5, 15.5 s; Timer B fires at 32 s).
_GIVE_UP_TRANSMISSIONS = 6
# Timer C: a proxy gives up on a ringing INVITE after more than 3 minutes.
TIMER_C_NS = 180 * 1_000_000_000
_MS = 1e6


class _Txn:
    __slots__ = ("ack", "branch", "cseq", "final", "method", "requests", "responses")

    def __init__(self, method: str, branch: str, cseq: int) -> None:
        self.method = method
        self.branch = branch
        self.cseq = cseq
        self.requests: list[int] = []
        self.responses: list[int] = []
        self.final = 0
        self.ack = -1


def _transactions(msgs: list[SipMessage]) -> list[_Txn]:
    txns: dict[tuple[str, str, int], _Txn] = {}
    order: list[_Txn] = []
    for i, m in enumerate(msgs):
        if m.status == 0:
            method = m.method
            if method == "ACK":
                t = txns.get((m.branch, "INVITE", m.cseq_num))
                if t is not None and t.final >= 300:
                    if t.ack < 0:
                        t.ack = i
                    continue
        else:
            method = m.cseq_method
        key = (m.branch, method, m.cseq_num)
        t = txns.get(key)
        if t is None:
            t = txns[key] = _Txn(method, m.branch, m.cseq_num)
            order.append(t)
        if m.status == 0:
            t.requests.append(i)
        else:
            t.responses.append(i)
            if m.status >= 200:
                t.final = m.status
    return order


def _initial_method(msgs: list[SipMessage]) -> str:
    for m in msgs:
        if m.status == 0 and m.method not in ("ACK", "CANCEL"):
            return m.method
    return msgs[0].cseq_method or msgs[0].method


def _outcome(
    msgs: list[SipMessage], txns: list[_Txn], method: str, now: int
) -> tuple[CallState, int]:
    initial = [t for t in txns if t.method == method]
    for t in initial:
        if 200 <= t.final < 300:
            return CallState.ANSWERED, t.final
    cancelled = any(t.method == "CANCEL" for t in txns)
    finals = [t for t in initial if t.final >= 300]
    if finals:
        code = finals[-1].final
        if cancelled and code == 487:
            return CallState.CANCELLED, code
        state = OUTCOME_BY_CODE.get(code) or OUTCOME_BY_CLASS.get(code // 100, CallState.REJECTED)
        return state, code
    if cancelled:
        return CallState.CANCELLED, 0
    if initial and initial[-1].requests:
        last = initial[-1]
        sent = msgs[last.requests[0]].ts_ns
        # Timer B/F (32 s) when nothing answered; Timer C (> 3 min) after a provisional.
        limit = TIMER_C_NS if last.responses else TIMER_B_NS
        if now - sent >= limit:
            return CallState.TIMED_OUT, 0
        if not last.responses and len(last.requests) >= _GIVE_UP_TRANSMISSIONS:
            # The sixth transmission goes out 15.5 s in (T1 doubling); stacks give
            # up after it or the next one, so nothing can answer any more.
            return CallState.TIMED_OUT, 0
    return CallState.IN_PROGRESS, 0


def _timings(msgs: list[SipMessage], retrans: set[int], kind: CallKind) -> tuple[Timings, str]:
    if kind != CallKind.CALL:
        first = next((m for m in msgs if m.status == 0), None)
        # the first 2xx to that method after it (a challenged REGISTER's setup runs
        # to the 2xx of the retry, as RFC 6076 RRD counts it); a capture that starts
        # mid-exchange holds answers to requests it never saw: those do not count
        final = first and next(
            (
                m
                for m in msgs
                if 200 <= m.status < 300
                and m.cseq_method == first.method
                and m.ts_ns >= first.ts_ns
            ),
            None,
        )
        setup = (final.ts_ns - first.ts_ns) / _MS if first and final else None
        return Timings(setup=setup), ""
    t0 = None
    caller = None
    first_1xx = pdd = setup = ack = bye = bye_done = None
    ended_by = ""
    bye_cseq = -1
    for i, m in enumerate(msgs):
        if m.status == 0:
            if m.method == "INVITE" and t0 is None:
                t0 = m.ts_ns
                caller = m.src
            elif m.method == "ACK" and setup is not None and ack is None:
                ack = m.ts_ns
            elif m.method == "BYE" and bye is None and i not in retrans:
                bye = m.ts_ns
                bye_cseq = m.cseq_num
                ended_by = "caller" if m.src == caller else "callee"
            continue
        if t0 is None:
            continue
        if m.cseq_method == "INVITE":
            if m.status < 200:
                if first_1xx is None:
                    first_1xx = m.ts_ns
                if pdd is None and m.status in (180, 183):
                    pdd = m.ts_ns
            elif m.status < 300 and setup is None:
                setup = m.ts_ns
        elif (
            m.cseq_method == "BYE"
            and m.status >= 200
            and bye_done is None
            and m.cseq_num == bye_cseq
        ):
            bye_done = m.ts_ns

    def ms(a: int | None, b: int | None) -> float | None:
        # a later event stamped earlier is a clock that stepped back (merged or
        # reordered captures, flagged as a time jump), not a negative delay
        return None if a is None or b is None or b < a else (b - a) / _MS

    return (
        Timings(
            first_provisional=ms(t0, first_1xx),
            post_dial_delay=ms(t0, pdd),
            setup=ms(t0, setup),
            duration=ms(ack, bye),
            teardown=ms(bye, bye_done),
        ),
        ended_by,
    )


def snapshot(oc: OpenCall, *, now: int, evicted: bool = False) -> Call:
    """Build the frozen Call for an open call, judging timeouts at capture time ``now``."""
    msgs = oc.messages
    method = _initial_method(msgs)
    kind = KIND_BY_METHOD.get(method, CallKind.OTHER)
    txns = _transactions(msgs)
    state, final = _outcome(msgs, txns, method, now)
    timings, ended_by = _timings(msgs, oc.retrans, kind)
    first_req = next((m for m in msgs if m.status == 0), msgs[0])
    fa = parse_name_addr(first_req.headers.get("from") or "")
    ta = parse_name_addr(first_req.headers.get("to") or "")
    return Call(
        call_id=oc.call_id,
        kind=kind,
        state=state,
        final_status=final,
        from_uri=fa.uri,
        to_uri=ta.uri,
        from_user=fa.user,
        to_user=ta.user,
        from_display=fa.display,
        request_user=first_req.request_user,
        start_ns=msgs[0].ts_ns,
        end_ns=msgs[-1].ts_ns,
        messages=tuple(msgs),
        retransmissions=frozenset(oc.retrans),
        transactions=tuple(
            Transaction(
                method=t.method,
                branch=t.branch,
                cseq=t.cseq,
                requests=tuple(t.requests),
                responses=tuple(t.responses),
                final_status=t.final,
                ack=t.ack,
            )
            for t in txns
        ),
        timings=timings,
        ended_by=ended_by,
        evicted=evicted,
        capture_duplicates=oc.dup_count,
        duplicate_frames=tuple(oc.dup_frames),
        message_count=len(msgs),
    )
