"""Normal outcomes are info and explain the response once: busy, declined, cancelled."""

from __future__ import annotations

from collections.abc import Callable

from factories import A, B, make_call, make_invite, make_response, msg, sip_bytes

from sipsniff import Analysis
from sipsniff.annotate.knowledge import Severity
from sipsniff.annotate.rules.outcomes import (
    CalleeBusyRule,
    CalleeDeclinedRule,
    CallerCancelledRule,
)
from sipsniff.annotate.rules.response_code import ResponseCodeRule
from sipsniff.sip.message import SipMessage

Findings = Callable[..., list[tuple[str, str, Severity, tuple[int, ...]]]]
Analysed = Callable[[str], Analysis]

INFO = Severity.INFO


def test_busy_capture(findings: Findings) -> None:
    # SIPp UAS answering 486 (captures/scenarios/uas_reject_486.xml): INVITE f1, 486 f3
    assert findings("call_busy.pcap") == [("busy-1@127.0.0.1", "callee-busy", INFO, (1, 3))]


def test_declined_and_busy_everywhere_capture(findings: Findings) -> None:
    assert findings("call_declined.pcap") == [
        ("decline-1@127.0.0.1", "callee-declined", INFO, (1, 3)),
        ("busyall-1@127.0.0.1", "callee-busy", INFO, (5, 7)),
    ]


def test_cancel_capture(findings: Findings) -> None:
    # CANCEL f4, its 200 f5, 487 f6: the proof of a caller hanging up while it rang
    assert findings("call_cancel.pcap") == [
        ("cancel-1@127.0.0.1", "caller-cancelled", INFO, (4, 5, 6))
    ]


def test_cancel_cause_names_ringing_and_487(analysed: Analysed) -> None:
    (ann,) = analysed("call_cancel.pcap").calls[0].annotations
    assert "sent CANCEL (frame 4)" in ann.cause
    assert "after 180 Ringing (frame 3)" in ann.cause
    assert "487 Request Terminated (frame 6)" in ann.cause
    assert ann.title == "Caller cancelled before the answer"


def test_healthy_busy_and_cancelled_calls_stay_at_info(analysed: Analysed) -> None:
    for name in ("call_ok.pcap", "call_cancel.pcap", "call_busy.pcap", "call_tcp.pcap"):
        worst = [a.severity for ac in analysed(name).calls for a in ac.annotations]
        assert all(s == INFO for s in worst), (name, worst)
    assert not [a for ac in analysed("call_ok.pcap").calls for a in ac.annotations]


def _busy_call(code: int, reason: str, *, reason_header: str = "") -> list[SipMessage]:
    extra = [f"Reason: {reason_header}"] if reason_header else []
    return [
        msg(make_invite(), frame=1, t=0.0),
        msg(make_response(code, reason, extra=extra), frame=2, t=0.1, src=B, dst=A),
        msg(sip_bytes("ACK sip:bob@127.0.0.1 SIP/2.0", cseq="1 ACK"), frame=3, t=0.1),
    ]


def test_busy_is_not_also_a_response_code() -> None:
    call = make_call(_busy_call(486, "Busy Here"))
    assert [a.rule for a in CalleeBusyRule().check(call)] == ["callee-busy"]
    assert list(ResponseCodeRule().check(call)) == []


def test_busy_decodes_reason_header() -> None:
    call = make_call(_busy_call(486, "Busy Here", reason_header='Q.850;cause=17;text="User busy"'))
    (ann,) = CalleeBusyRule().check(call)
    assert ann.details[-1][0] == "reason"
    assert "Q.850 cause 17" in ann.details[-1][1] and "User busy" in ann.cause


def test_decline() -> None:
    call = make_call(_busy_call(603, "Decline"))
    (ann,) = CalleeDeclinedRule().check(call)
    assert (ann.severity, ann.frames, ann.title) == (INFO, (1, 2), "Callee declined: 603 Decline")
    assert list(CalleeBusyRule().check(call)) == []


def test_cancel_answered_elsewhere() -> None:
    # crafted: a forking proxy's CANCEL with Reason SIP;cause=200 (RFC 3326) needs a second
    # callee device answering first, which the bundled SIPp pair cannot stage
    call = make_call(
        [
            msg(make_invite(), frame=1, t=0.0),
            msg(make_response(180, "Ringing"), frame=2, t=0.1, src=B, dst=A),
            msg(
                sip_bytes(
                    "CANCEL sip:bob@127.0.0.1 SIP/2.0",
                    cseq="1 CANCEL",
                    extra=['Reason: SIP;cause=200;text="Call completed elsewhere"'],
                ),
                frame=3,
                t=2.0,
            ),
            msg(make_response(200, "OK", cseq="1 CANCEL"), frame=4, t=2.0, src=B, dst=A),
            msg(make_response(487, "Request Terminated"), frame=5, t=2.0, src=B, dst=A),
        ]
    )
    (ann,) = CallerCancelledRule().check(call)
    assert ann.title == "Call answered elsewhere (CANCEL)"
    assert ann.frames == (3, 4, 5)
    assert list(ResponseCodeRule().check(call)) == []


def test_cancel_without_487_is_still_info_and_says_so() -> None:
    call = make_call(
        [
            msg(make_invite(), frame=1, t=0.0),
            msg(make_response(180, "Ringing"), frame=2, t=0.1, src=B, dst=A),
            msg(sip_bytes("CANCEL sip:bob@127.0.0.1 SIP/2.0", cseq="1 CANCEL"), frame=3, t=2.0),
            msg(make_response(200, "OK", cseq="1 CANCEL"), frame=4, t=2.0, src=B, dst=A),
        ]
    )
    (ann,) = CallerCancelledRule().check(call)
    assert ann.severity == INFO and ann.frames == (3, 4)
    assert "No 487 Request Terminated was seen" in ann.cause


def test_reinvite_486_is_not_a_busy_callee() -> None:
    # an in-dialog INVITE (To tag set) refused with 486 is not the callee being busy
    call = make_call(
        [
            msg(make_invite(to_tag="tt1", cseq="2 INVITE", branch="z9hG4bK-re"), frame=1, t=0.0),
            msg(
                make_response(486, "Busy Here", cseq="2 INVITE", branch="z9hG4bK-re"),
                frame=2,
                t=0.1,
                src=B,
                dst=A,
            ),
        ]
    )
    assert list(CalleeBusyRule().check(call)) == []
    assert [a.rule for a in ResponseCodeRule().check(call)] == ["response-code"]
