"""Call snapshots: kind, state and final code, transactions, timings; then the bundled captures."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest
from factories import make_call, sip_bytes
from helpers import capture

from sipsniff.capture.sources import read_frames
from sipsniff.decode.decoder import Decoder
from sipsniff.decode.payload import Endpoint, Transport
from sipsniff.dialogs.call import Call, Timings
from sipsniff.dialogs.outcome import TIMER_B_NS
from sipsniff.dialogs.states import CallKind, CallState
from sipsniff.dialogs.tracker import DialogTracker
from sipsniff.sip.framing import SipFramer
from sipsniff.sip.message import SipMessage, parse_message

CALLER = Endpoint("192.0.2.10", 5061)
CALLEE = Endpoint("192.0.2.20", 5060)
MS = 1_000_000


def at(ms: float, data: bytes, *, reply: bool = False, frame: int = 0) -> SipMessage:
    """A message at ``ms`` milliseconds, caller -> callee (or back with ``reply``)."""
    src, dst = (CALLEE, CALLER) if reply else (CALLER, CALLEE)
    return parse_message(
        data, frame=frame, ts_ns=round(ms * MS), src=src, dst=dst, transport=Transport.UDP
    )


def req(
    method: str,
    *,
    cseq: int = 1,
    branch: str = "z9hG4bK-inv",
    to_tag: str = "",
    uri: str = "sip:bob@example.com",
    **kw: str,
) -> bytes:
    return sip_bytes(
        f"{method} {uri} SIP/2.0", cseq=f"{cseq} {method}", branch=branch, to_tag=to_tag, **kw
    )  # type: ignore[arg-type]


def resp(
    code: int,
    reason: str,
    *,
    method: str = "INVITE",
    cseq: int = 1,
    branch: str = "z9hG4bK-inv",
    to_tag: str = "callee",
) -> bytes:
    return sip_bytes(
        f"SIP/2.0 {code} {reason}", cseq=f"{cseq} {method}", branch=branch, to_tag=to_tag
    )


def answered_call(*, bye_from_callee: bool = False) -> list[SipMessage]:
    bye = (
        at(
            2710,
            req("BYE", cseq=1, branch="z9hG4bK-bye", to_tag="ft1", from_tag="callee"),
            reply=True,
        )
        if bye_from_callee
        else at(2710, req("BYE", cseq=2, branch="z9hG4bK-bye", to_tag="callee"))
    )
    bye_ok = (
        at(2725, resp(200, "OK", method="BYE", cseq=1, branch="z9hG4bK-bye"))
        if bye_from_callee
        else at(2725, resp(200, "OK", method="BYE", cseq=2, branch="z9hG4bK-bye"), reply=True)
    )
    return [
        at(0, req("INVITE")),
        at(12, resp(100, "Trying", to_tag=""), reply=True),
        at(205, resp(180, "Ringing"), reply=True),
        at(707, resp(200, "OK"), reply=True),
        at(715, req("ACK", branch="z9hG4bK-ack", to_tag="callee")),
        bye,
        bye_ok,
    ]


# -- states and codes ---------------------------------------------------------------------------
def test_answered_call_with_its_timings() -> None:
    c = make_call(answered_call())
    assert (c.kind, c.state, c.final_status, c.failed) == (
        CallKind.CALL,
        CallState.ANSWERED,
        200,
        False,
    )
    assert c.timings == Timings(
        first_provisional=12.0, post_dial_delay=205.0, setup=707.0, duration=1995.0, teardown=15.0
    )
    assert c.ended_by == "caller"
    assert (c.start_ns, c.end_ns, c.duration_s) == (0, 2725 * MS, 2.725)
    assert (c.from_uri, c.from_user, c.from_display) == ("sip:alice@127.0.0.1", "alice", "Alice")
    assert (c.to_uri, c.to_user, c.request_user) == ("sip:bob@127.0.0.1", "bob", "bob")
    assert c.retransmissions == frozenset()
    assert c.message_count == len(c.messages) == 7


def test_call_ended_by_the_callee() -> None:
    c = make_call(answered_call(bye_from_callee=True))
    assert (c.ended_by, c.timings.teardown) == ("callee", 15.0)


def test_183_session_progress_counts_for_post_dial_delay() -> None:
    c = make_call(
        [
            at(0, req("INVITE")),
            at(5, resp(100, "Trying", to_tag=""), reply=True),
            at(40, resp(183, "Session Progress"), reply=True),
            at(90, resp(180, "Ringing"), reply=True),
            at(500, resp(200, "OK"), reply=True),
        ]
    )
    assert (c.timings.first_provisional, c.timings.post_dial_delay, c.timings.setup) == (
        5.0,
        40.0,
        500.0,
    )
    assert c.timings.duration is None


def test_transactions_group_requests_and_responses() -> None:
    c = make_call(answered_call())
    assert [
        (t.method, t.cseq, t.requests, t.responses, t.final_status) for t in c.transactions
    ] == [
        ("INVITE", 1, (0,), (1, 2, 3), 200),
        ("ACK", 1, (4,), (), 0),
        ("BYE", 2, (5,), (6,), 200),
    ]


@pytest.mark.parametrize(
    ("code", "reason", "state"),
    [
        (486, "Busy Here", CallState.REJECTED),
        (603, "Decline", CallState.REJECTED),
        (404, "Not Found", CallState.REJECTED),
        (302, "Moved Temporarily", CallState.REJECTED),
        (503, "Service Unavailable", CallState.REJECTED),
        (600, "Busy Everywhere", CallState.REJECTED),
        (408, "Request Timeout", CallState.TIMED_OUT),
        (487, "Request Terminated", CallState.CANCELLED),
    ],
)
def test_final_response_decides_the_state_and_code(
    code: int, reason: str, state: CallState
) -> None:
    c = make_call(
        [
            at(0, req("INVITE")),
            at(10, resp(100, "Trying", to_tag=""), reply=True),
            at(300, resp(code, reason), reply=True),
            at(310, req("ACK", to_tag="callee")),  # same branch: the non-2xx ACK
        ]
    )
    assert (c.state, c.final_status) == (state, code)
    assert c.failed
    (t,) = c.transactions
    assert (t.requests, t.responses, t.ack, t.final_status) == ((0,), (1, 2), 3, code)
    assert c.timings.setup is None


def test_cancelled_call() -> None:
    c = make_call(
        [
            at(0, req("INVITE")),
            at(200, resp(180, "Ringing"), reply=True),
            at(1200, req("CANCEL")),
            at(1201, resp(200, "OK", method="CANCEL"), reply=True),
            at(1202, resp(487, "Request Terminated"), reply=True),
            at(1210, req("ACK", to_tag="callee")),
        ]
    )
    assert (c.state, c.final_status) == (CallState.CANCELLED, 487)
    assert [t.method for t in c.transactions] == ["INVITE", "CANCEL"]
    assert c.transactions[0].ack == 5


def test_cancel_without_a_final_response_is_cancelled() -> None:
    c = make_call([at(0, req("INVITE")), at(300, req("CANCEL"))])
    assert (c.state, c.final_status) == (CallState.CANCELLED, 0)


def test_challenge_then_success_is_answered() -> None:
    c = make_call(
        [
            at(0, req("INVITE")),
            at(5, resp(407, "Proxy Authentication Required"), reply=True),
            at(6, req("ACK", to_tag="callee")),
            at(20, req("INVITE", cseq=2, branch="z9hG4bK-inv2")),
            at(820, resp(200, "OK", cseq=2, branch="z9hG4bK-inv2"), reply=True),
        ]
    )
    assert (c.state, c.final_status) == (CallState.ANSWERED, 200)
    assert c.timings.setup == 820.0, "setup counts from the first INVITE"


def test_rejected_re_invite_does_not_undo_an_answered_call() -> None:
    msgs = [
        *answered_call()[:5],
        at(900, req("INVITE", cseq=2, branch="z9hG4bK-reinv", to_tag="callee")),
        at(905, resp(491, "Request Pending", cseq=2, branch="z9hG4bK-reinv"), reply=True),
    ]
    assert make_call(msgs).state == CallState.ANSWERED


def test_unanswered_request_times_out_after_timer_b_in_capture_time() -> None:
    tracker = DialogTracker(lambda d: None)
    tracker.feed(at(0, req("INVITE")))
    assert tracker.expire(TIMER_B_NS - 1) == []
    (c,) = tracker.expire(TIMER_B_NS)
    assert (c.state, c.final_status, c.failed) == (CallState.TIMED_OUT, 0, True)


def test_ringing_call_times_out_after_timer_c() -> None:
    tracker = DialogTracker(lambda d: None)
    tracker.feed(at(0, req("INVITE")))
    tracker.feed(at(100, resp(180, "Ringing"), reply=True))
    assert tracker.expire(179_000 * MS) == []
    (c,) = tracker.expire(181_000 * MS)
    assert c.state == CallState.TIMED_OUT


def test_call_still_open_when_the_capture_ends_is_in_progress() -> None:
    c = make_call([at(0, req("INVITE")), at(100, resp(180, "Ringing"), reply=True)])
    assert (c.state, c.final_status, c.failed) == (CallState.IN_PROGRESS, 0, False)


# -- kinds -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "kind"),
    [
        ("REGISTER", CallKind.REGISTRATION),
        ("OPTIONS", CallKind.OPTIONS),
        ("SUBSCRIBE", CallKind.SUBSCRIPTION),
        ("NOTIFY", CallKind.SUBSCRIPTION),
        ("PUBLISH", CallKind.SUBSCRIPTION),
        ("MESSAGE", CallKind.MESSAGE),
        ("INFO", CallKind.OTHER),
        ("FOO", CallKind.OTHER),
    ],
)
def test_kind_comes_from_the_first_request(method: str, kind: CallKind) -> None:
    c = make_call(
        [
            at(0, req(method, branch="z9hG4bK-x")),
            at(30, resp(200, "OK", method=method, branch="z9hG4bK-x"), reply=True),
        ]
    )
    assert (c.kind, c.state, c.final_status) == (kind, CallState.ANSWERED, 200)
    assert c.timings == Timings(setup=30.0)


def test_registration_challenged_then_accepted() -> None:
    c = make_call(
        [
            at(0, req("REGISTER", branch="z9hG4bK-r1")),
            at(3, resp(401, "Unauthorized", method="REGISTER", branch="z9hG4bK-r1"), reply=True),
            at(10, req("REGISTER", cseq=2, branch="z9hG4bK-r2")),
            at(14, resp(200, "OK", method="REGISTER", cseq=2, branch="z9hG4bK-r2"), reply=True),
        ]
    )
    assert (c.kind, c.state, c.final_status) == (CallKind.REGISTRATION, CallState.ANSWERED, 200)
    assert [t.final_status for t in c.transactions] == [401, 200]


def test_registration_rejected() -> None:
    c = make_call(
        [
            at(0, req("REGISTER", branch="z9hG4bK-r1")),
            at(3, resp(403, "Forbidden", method="REGISTER", branch="z9hG4bK-r1"), reply=True),
        ]
    )
    assert (c.kind, c.state, c.final_status) == (CallKind.REGISTRATION, CallState.REJECTED, 403)


def test_capture_starting_with_a_response_uses_its_cseq_method() -> None:
    c = make_call([at(0, resp(200, "OK", method="OPTIONS", branch="z9hG4bK-o"), reply=True)])
    assert c.kind == CallKind.OPTIONS


# -- retransmissions -----------------------------------------------------------------------------------
def test_retransmissions_are_marked_and_do_not_make_transactions() -> None:
    c = make_call(
        [
            at(0, req("INVITE")),
            at(500, req("INVITE")),  # Timer A
            at(600, resp(180, "Ringing"), reply=True),
            at(700, resp(200, "OK"), reply=True),
            at(1200, resp(200, "OK"), reply=True),  # 2xx retransmitted until the ACK
            at(1210, req("ACK", branch="z9hG4bK-ack", to_tag="callee")),
        ]
    )
    assert c.retransmissions == frozenset({1, 4})
    assert c.transactions[0].requests == (0, 1)
    assert (c.state, c.timings.setup, c.timings.post_dial_delay) == (
        CallState.ANSWERED,
        700.0,
        600.0,
    )


# -- the bundled captures (real SIP stacks: SIPp on loopback) --------------------------------------
def calls_in(path: Path) -> dict[str, Call]:
    """Run capture -> decode -> SIP -> dialogs (no annotation) and key the calls by Call-ID."""
    decoder, framer, tracker = (
        Decoder(lambda d: None),
        SipFramer(lambda d: None),
        DialogTracker(lambda d: None),
    )
    calls: list[Call] = []

    def take(payloads: Iterable[object]) -> None:
        for p in payloads:
            for m in framer.feed(p):  # type: ignore[arg-type]
                calls.extend(tracker.feed(m))

    for frame in read_frames([path], lambda d: None):
        take(decoder.feed(frame))
        calls.extend(tracker.expire(frame.ts_ns))
    take(decoder.flush())
    calls.extend(tracker.flush())
    return {c.call_id: c for c in calls}


EXPECTED: dict[str, dict[str, tuple[CallKind, CallState, int]]] = {
    "call_ok.pcap": {"ok-1@127.0.0.1": (CallKind.CALL, CallState.ANSWERED, 200)},
    "call_tcp.pcap": {"tcp-1@127.0.0.1": (CallKind.CALL, CallState.ANSWERED, 200)},
    "call_busy.pcap": {"busy-1@127.0.0.1": (CallKind.CALL, CallState.REJECTED, 486)},
    "call_503.pcap": {"unavail-1@127.0.0.1": (CallKind.CALL, CallState.REJECTED, 503)},
    "call_cancel.pcap": {"cancel-1@127.0.0.1": (CallKind.CALL, CallState.CANCELLED, 487)},
    "register_auth.pcap": {"reg-1@127.0.0.1": (CallKind.REGISTRATION, CallState.ANSWERED, 200)},
    "call_declined.pcap": {
        "decline-1@127.0.0.1": (CallKind.CALL, CallState.REJECTED, 603),
        "busyall-1@127.0.0.1": (CallKind.CALL, CallState.REJECTED, 600),
    },
    "auth_rejected.pcap": {
        "authbad-1@127.0.0.1": (CallKind.CALL, CallState.REJECTED, 407),
        "authnone-1@127.0.0.1": (CallKind.REGISTRATION, CallState.REJECTED, 401),
    },
    "call_loop.pcap": {
        "hops-1@127.0.0.3": (CallKind.CALL, CallState.REJECTED, 483),
        "loop-1@127.0.0.3": (CallKind.CALL, CallState.REJECTED, 482),
    },
    "call_ack_missing.pcap": {"noack-1@127.0.0.1": (CallKind.CALL, CallState.ANSWERED, 200)},
    "server_unavailable.pcap": {
        f"overload-{i}@127.0.0.1": (CallKind.CALL, CallState.REJECTED, 503) for i in (1, 2, 3)
    },
    "demo.pcap": {
        "demo-reg-1@127.0.0.21": (CallKind.REGISTRATION, CallState.ANSWERED, 200),
        "demo-ping-1@127.0.0.30": (CallKind.OPTIONS, CallState.ANSWERED, 200),
        **{
            f"demo-call-{i}@127.0.0.21": (CallKind.CALL, CallState.ANSWERED, 200) for i in (1, 2, 3)
        },
        "demo-busy-1@127.0.0.22": (CallKind.CALL, CallState.REJECTED, 486),
        "demo-cancel-1@127.0.0.23": (CallKind.CALL, CallState.CANCELLED, 487),
        "demo-503-1@127.0.0.22": (CallKind.CALL, CallState.REJECTED, 503),
    },
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bundled_capture_kinds_states_and_codes(name: str) -> None:
    calls = calls_in(capture(name))
    got = {cid: (c.kind, c.state, c.final_status) for cid, c in calls.items()}
    assert got == EXPECTED[name]


# SIPp scenario timing (captures/scenarios/uas_call.xml): 100 at once, 180 after a 200 ms
# pause, 200 after 500 ms more; the UAC holds the call for -d ms (captures/record.sh).
HOLD_MS = {
    "call_ok.pcap": {"ok-1@127.0.0.1": 1500},
    "call_tcp.pcap": {"tcp-1@127.0.0.1": 1500},
    "call_nat.pcap": {"nat-1@127.0.0.1": 1000, "zeroaddr-1@127.0.0.1": 1000},
    "demo.pcap": {f"demo-call-{i}@127.0.0.21": 2500 for i in (1, 2, 3)},
}


@pytest.mark.parametrize("name", sorted(HOLD_MS))
def test_bundled_capture_timings_follow_the_scenario(name: str) -> None:
    calls = calls_in(capture(name))
    for cid, hold in HOLD_MS[name].items():
        c = calls[cid]
        t = c.timings
        assert c.state == CallState.ANSWERED
        assert t.first_provisional is not None and 0 <= t.first_provisional < 50
        assert t.post_dial_delay is not None and 200 <= t.post_dial_delay < 260
        assert t.setup is not None and 700 <= t.setup < 780
        assert t.duration is not None and hold <= t.duration < hold + 150
        assert t.teardown is not None and 0 <= t.teardown < 50
        assert c.ended_by == "caller"
        assert t.first_provisional < t.post_dial_delay < t.setup


def test_bundled_cancel_has_ringing_but_no_setup() -> None:
    c = calls_in(capture("call_cancel.pcap"))["cancel-1@127.0.0.1"]
    assert c.timings.post_dial_delay is not None and 200 <= c.timings.post_dial_delay < 260
    assert (c.timings.setup, c.timings.duration) == (None, None)


def test_bundled_ack_missing_marks_the_200_retransmissions() -> None:
    c = calls_in(capture("call_ack_missing.pcap"))["noack-1@127.0.0.1"]
    oks = [i for i, m in enumerate(c.messages) if m.status == 200 and m.cseq_method == "INVITE"]
    assert len(oks) >= 2
    assert c.retransmissions >= set(oks[1:])
    assert oks[0] not in c.retransmissions
    assert c.timings.duration is None, "no ACK, so no ACK -> BYE duration"
    assert c.ended_by == "callee", "the UAS gave up waiting for the ACK and hung up"


def test_bundled_no_response_retransmissions_are_marked() -> None:
    c = calls_in(capture("call_no_response.pcap"))["noresp-1@127.0.0.1"]
    assert [m.method for m in c.messages] == ["INVITE"] * len(c.messages)
    assert c.retransmissions == frozenset(range(1, len(c.messages)))
    assert len(c.transactions) == 1


def test_bundled_no_response_is_timed_out() -> None:
    """The capture was made to show an unanswered call, but its last packet is the sixth
    transmission (15.5 s), before Timer B: the call used to read in-progress at flush."""
    c = calls_in(capture("call_no_response.pcap"))["noresp-1@127.0.0.1"]
    assert c.state == CallState.TIMED_OUT


def test_setup_never_measures_an_answer_to_an_unseen_request() -> None:
    """A capture that starts mid-exchange: the first 2xx answers a REGISTER it never saw."""
    msgs = [
        at(0, resp(200, "OK", cseq=1, method="REGISTER", to_tag="t"), reply=True, frame=1),
        at(30, req("REGISTER", cseq=2, branch="z9hG4bK-r2"), frame=2),
        at(
            42,
            resp(200, "OK", cseq=2, method="REGISTER", to_tag="t", branch="z9hG4bK-r2"),
            reply=True,
            frame=3,
        ),
    ]
    assert make_call(msgs).timings.setup == 12


def test_a_clock_stepping_back_gives_no_negative_delay() -> None:
    msgs = [
        at(1000, req("INVITE"), frame=1),
        at(987, resp(200, "OK", to_tag="t"), reply=True, frame=2),
    ]
    assert make_call(msgs).timings.setup is None
