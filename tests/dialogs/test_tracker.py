"""DialogTracker: grouping by Call-ID, retransmissions, tiers expired by capture time, bounds."""

from __future__ import annotations

import pytest
from factories import sip_bytes

from sipsniff.decode.payload import Endpoint, Transport
from sipsniff.diagnostics import Diagnostic, Stage, Trigger
from sipsniff.dialogs import tracker as tracker_mod
from sipsniff.dialogs.call import Call
from sipsniff.dialogs.states import CallState
from sipsniff.dialogs.tracker import TIER_TIMEOUTS_NS, DialogTracker
from sipsniff.sip.message import SipMessage, parse_message

A = Endpoint("192.0.2.10", 5061)
B = Endpoint("192.0.2.20", 5060)
S = 1_000_000_000
FINISHED, WAITING, RINGING, ESTABLISHED = TIER_TIMEOUTS_NS


def m(
    t_s: float,
    start: str,
    *,
    call_id: str = "c1",
    cseq: str = "1 INVITE",
    branch: str = "z9hG4bK-1",
    reply: bool = False,
    frame: int = 0,
    src: Endpoint | None = None,
) -> SipMessage:
    data = sip_bytes(start, call_id=call_id, cseq=cseq, branch=branch, to_tag="tt" if reply else "")
    s, d = (B, A) if reply else (A, B)
    return parse_message(
        data, frame=frame, ts_ns=round(t_s * S), src=src or s, dst=d, transport=Transport.UDP
    )


INVITE = "INVITE sip:bob@x SIP/2.0"


def run(tracker: DialogTracker, *msgs: SipMessage) -> list[Call]:
    out: list[Call] = []
    for msg in msgs:
        out += tracker.feed(msg)
    return out


def test_messages_are_grouped_by_call_id_in_capture_order() -> None:
    t = DialogTracker(lambda d: None)
    run(
        t,
        m(0, INVITE, call_id="a", frame=1),
        m(0.1, INVITE, call_id="b", frame=2),
        m(0.2, "SIP/2.0 180 Ringing", call_id="a", reply=True, frame=3),
        m(0.3, "SIP/2.0 486 Busy Here", call_id="b", reply=True, frame=4),
    )
    assert t.open_count == 2
    calls = {c.call_id: c for c in t.flush()}
    assert calls["a"].frames == (1, 3)
    assert calls["b"].frames == (2, 4)
    assert t.open_count == 0
    assert t.calls == 2


def test_flush_publishes_oldest_first() -> None:
    t = DialogTracker(lambda d: None)
    run(t, m(5, INVITE, call_id="late"), m(1, INVITE, call_id="early"))
    assert [c.call_id for c in t.flush()] == ["early", "late"]


@pytest.mark.parametrize(
    ("msgs", "retrans"),
    [
        ([(0, INVITE, False), (0.5, INVITE, False)], {1}),
        (
            [
                (0, INVITE, False),
                (0.1, "SIP/2.0 180 Ringing", True),
                (0.2, "SIP/2.0 180 Ringing", True),
            ],
            {2},
        ),
        (
            [
                (0, INVITE, False),
                (0.1, "SIP/2.0 100 Trying", True),
                (0.2, "SIP/2.0 180 Ringing", True),
            ],
            set(),
        ),
    ],
    ids=["request-resent", "response-resent", "different-responses"],
)
def test_retransmissions_are_marked(msgs: list[tuple[float, str, bool]], retrans: set[int]) -> None:
    t = DialogTracker(lambda d: None)
    run(t, *(m(ts, start, reply=reply) for ts, start, reply in msgs))
    (c,) = t.flush()
    assert c.retransmissions == frozenset(retrans)


def test_same_request_from_another_address_is_not_a_retransmission() -> None:
    """A forking proxy's copy of the INVITE, or a looped request, is a message of its own."""
    t = DialogTracker(lambda d: None)
    run(t, m(0, INVITE), m(0.1, INVITE, src=Endpoint("192.0.2.30", 5060)))
    assert t.flush()[0].retransmissions == frozenset()


def test_cancel_is_not_a_retransmission_of_its_invite() -> None:
    t = DialogTracker(lambda d: None)
    run(t, m(0, INVITE), m(1, "CANCEL sip:bob@x SIP/2.0", cseq="1 CANCEL"))
    assert t.flush()[0].retransmissions == frozenset()


# -- tiers: when a call is published ----------------------------------------------------------
def test_finished_call_lingers_for_retransmissions_then_is_published() -> None:
    t = DialogTracker(lambda d: None)
    run(t, m(0, INVITE), m(0.3, "SIP/2.0 486 Busy Here", reply=True))
    assert t.expire(round(0.3 * S) + FINISHED - 1) == []
    # a late retransmission inside the linger joins the same call
    run(t, m(1, "SIP/2.0 486 Busy Here", reply=True))
    (c,) = t.expire(S + FINISHED)
    assert (c.state, c.final_status, len(c.messages), c.retransmissions) == (
        CallState.REJECTED,
        486,
        3,
        frozenset({2}),
    )


def test_answered_call_stays_open_until_its_bye_is_answered() -> None:
    t = DialogTracker(lambda d: None)
    run(
        t,
        m(0, INVITE),
        m(0.7, "SIP/2.0 200 OK", reply=True),
        m(0.8, "ACK sip:bob@x SIP/2.0", cseq="1 ACK", branch="z9hG4bK-ack"),
    )
    assert t.expire(3600 * S) == [], "an established call may last hours"
    run(t, m(3600, "BYE sip:bob@x SIP/2.0", cseq="2 BYE", branch="z9hG4bK-bye"))
    assert t.expire(3700 * S) == []
    run(t, m(3700, "SIP/2.0 200 OK", cseq="2 BYE", branch="z9hG4bK-bye", reply=True))
    (c,) = t.expire(3700 * S + FINISHED)
    assert c.state == CallState.ANSWERED
    assert c.timings.duration == pytest.approx(3599.2 * 1000)


def test_established_call_without_a_bye_expires_after_hours() -> None:
    t = DialogTracker(lambda d: None)
    run(t, m(0, INVITE), m(0.7, "SIP/2.0 200 OK", reply=True))
    assert t.expire(round(0.7 * S) + ESTABLISHED - 1) == []
    assert len(t.expire(round(0.7 * S) + ESTABLISHED)) == 1


def test_waiting_and_ringing_tiers() -> None:
    t = DialogTracker(lambda d: None)
    run(t, m(0, INVITE, call_id="silent"), m(0, INVITE, call_id="ringing"))
    run(t, m(1, "SIP/2.0 180 Ringing", call_id="ringing", reply=True))
    assert [c.call_id for c in t.expire(WAITING)] == ["silent"]
    assert t.expire(S + RINGING - 1) == []
    assert [c.call_id for c in t.expire(S + RINGING)] == ["ringing"]


def test_expire_is_driven_by_capture_time_only() -> None:
    t = DialogTracker(lambda d: None)
    run(t, m(1_000_000, INVITE))  # a capture from long ago or far ahead: no wall clock involved
    assert t.expire(1_000_000 * S) == []
    assert t.open_count == 1
    assert t.last_ts == 1_000_000 * S


# -- bound ----------------------------------------------------------------------------------
def test_open_dialog_bound_publishes_the_least_recent_early(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tracker_mod, "MAX_OPEN_DIALOGS", 3)
    diags: list[Diagnostic] = []
    t = DialogTracker(diags.append)
    early: list[Call] = []
    for i in range(5):
        early += t.feed(m(i, INVITE, call_id=f"c{i}", frame=i + 1))
    assert [(c.call_id, c.evicted) for c in early] == [("c0", True), ("c1", True)]
    assert t.evicted == 2
    assert t.open_count == 3
    assert diags == [
        Diagnostic(
            frame=4,
            stage=Stage.DIALOGS,
            trigger=Trigger.DIALOG_EVICTED,
            detail="more than 3 open dialogs: the least recently active is published early (1 so far)",
        )
    ]
    assert [c.call_id for c in t.flush()] == ["c2", "c3", "c4"]
