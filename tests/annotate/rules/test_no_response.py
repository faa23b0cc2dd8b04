"""Silence: ``no-response`` (nothing at all) and ``no-final-response`` (1xx, then nothing or 408)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from factories import A, B, make_call, make_invite, make_response, msg, sip_bytes
from helpers import real_capture

from sipsniff import Analysis, analyze
from sipsniff.annotate.knowledge import Severity
from sipsniff.annotate.rules.no_response import NoFinalResponseRule, NoResponseRule
from sipsniff.annotate.rules.response_code import ResponseCodeRule
from sipsniff.decode.payload import Transport
from sipsniff.dialogs.states import CallState
from sipsniff.sip.message import SipMessage

Findings = Callable[..., list[tuple[str, str, Severity, tuple[int, ...]]]]
Analysed = Callable[[str], Analysis]


def test_capture_invite_into_silence(findings: Findings, analysed: Analysed) -> None:
    # SIPp UAC vs a UAS that swallows the INVITE (uas_silent.xml): the INVITE (f1) and its
    # 5 retransmissions at +0.5, +1.5, +3.5, +7.5, +15.5 s (f2-f6), nothing back
    assert findings("call_no_response.pcap") == [
        ("noresp-1@127.0.0.1", "no-response", Severity.ERROR, (1, 2, 3, 4, 5, 6))
    ]
    (ann,) = analysed("call_no_response.pcap").calls[0].annotations
    assert ann.title == "No response to INVITE: sent 6 times over 15.5 s"
    assert "(+503 ms, +1.5 s, +3.5 s, +7.5 s, +15.5 s)" in ann.cause
    assert dict(ann.details)["copies sent"] == "6"


def test_tcp_request_without_retransmissions_needs_the_timeout() -> None:
    call = make_call([msg(make_invite(), frame=1, t=0, transport=Transport.TCP)])
    assert list(NoResponseRule().check(call)) == []  # capture ended: no evidence yet
    timed_out = dataclasses.replace(call, state=CallState.TIMED_OUT)
    (ann,) = NoResponseRule().check(timed_out)
    assert (ann.severity, ann.frames, ann.title) == (Severity.ERROR, (1,), "No response to INVITE")
    assert "over TCP" in ann.cause


def test_unanswered_bye_is_a_warning() -> None:
    bye = sip_bytes(
        "BYE sip:bob@127.0.0.1 SIP/2.0", cseq="2 BYE", branch="z9hG4bK-bye", to_tag="tt1"
    )
    call = make_call(
        [
            msg(make_invite(), frame=1, t=0),
            msg(make_response(200, "OK"), frame=2, t=0.5, src=B, dst=A),
            msg(
                sip_bytes(
                    "ACK sip:bob@127.0.0.1 SIP/2.0",
                    cseq="1 ACK",
                    branch="z9hG4bK-ack",
                    to_tag="tt1",
                ),
                frame=3,
                t=0.5,
            ),
            msg(bye, frame=4, t=10),
            msg(bye, frame=5, t=10.5),
            msg(bye, frame=6, t=11.5),
        ]
    )
    (ann,) = NoResponseRule().check(call)
    assert (ann.severity, ann.frames) == (Severity.WARNING, (4, 5, 6))
    assert "no longer answers inside this dialog" in ann.cause


def _ringing_then(final: bytes | None, *, cancel: bool = False) -> list[SipMessage]:
    msgs = [
        msg(make_invite(), frame=1, t=0),
        msg(make_response(100, "Trying"), frame=2, t=0.1, src=B, dst=A),
    ]
    if cancel:
        msgs.append(
            msg(sip_bytes("CANCEL sip:bob@127.0.0.1 SIP/2.0", cseq="1 CANCEL"), frame=3, t=30)
        )
    if final is not None:
        msgs.append(msg(final, frame=4, t=36.8, src=B, dst=A))
    return msgs


def test_provisional_then_408_claims_it_from_response_code() -> None:
    call = make_call(_ringing_then(make_response(408, "Request Timeout"), cancel=True))
    (ann,) = NoFinalResponseRule().check(call)
    assert ann.title == "INVITE got no final response: 408 Request Timeout"
    assert (ann.severity, ann.frames) == (Severity.ERROR, (1, 2, 3, 4))
    assert "The caller gave up and sent CANCEL 30.0 s after the INVITE (frame 3)" in ann.cause
    assert list(ResponseCodeRule().check(call)) == []


def test_still_ringing_at_capture_end_is_not_a_finding() -> None:
    call = make_call(_ringing_then(None))
    assert list(NoFinalResponseRule().check(call)) == []
    (ann,) = NoFinalResponseRule().check(dataclasses.replace(call, state=CallState.TIMED_OUT))
    assert ann.title == "INVITE got no final response"
    assert ann.frames == (1, 2)


def test_408_without_provisional_is_response_code() -> None:
    call = make_call(
        [
            msg(make_invite(), frame=1, t=0),
            msg(make_response(408, "Request Timeout"), frame=2, t=32, src=B, dst=A),
        ]
    )
    assert list(NoFinalResponseRule().check(call)) == []
    assert [a.rule for a in ResponseCodeRule().check(call)] == ["response-code"]


def test_real_capture_408_after_100_and_a_cancel() -> None:
    path = real_capture("sngrep_aaa.pcap")
    found = [
        (a.severity, a.frames)
        for ac in analyze([path]).calls
        for a in ac.annotations
        if a.rule == "no-final-response"
    ]
    # INVITE f223, 100 f228, CANCEL f247, 408 to the INVITE f252, 408 to the CANCEL f274
    assert found == [(Severity.ERROR, (223, 228, 247, 252, 274))]
