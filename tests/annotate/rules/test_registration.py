"""``registration-interval`` (423) and ``registration-failed``."""

from __future__ import annotations

from collections.abc import Callable

from factories import A, B, make_call, make_response, msg, sip_bytes

from sipsniff import Analysis
from sipsniff.annotate.knowledge import Severity
from sipsniff.annotate.rules.registration import (
    RegistrationFailedRule,
    RegistrationIntervalRule,
    requested_expires,
)
from sipsniff.annotate.rules.response_code import ResponseCodeRule
from sipsniff.sip.message import SipMessage

Findings = Callable[..., list[tuple[str, str, Severity, tuple[int, ...]]]]
Analysed = Callable[[str], Analysis]


def _reg(cseq: int, expires: int, frame: int, branch: str) -> SipMessage:
    return msg(
        sip_bytes(
            "REGISTER sip:127.0.0.1 SIP/2.0",
            cseq=f"{cseq} REGISTER",
            branch=branch,
            extra=[f"Expires: {expires}"],
        ),
        frame=frame,
        t=frame / 100,
    )


def _ans(code: int, reason: str, cseq: int, frame: int, branch: str, *extra: str) -> SipMessage:
    return msg(
        make_response(code, reason, cseq=f"{cseq} REGISTER", branch=branch, extra=list(extra)),
        frame=frame,
        t=frame / 100,
        src=B,
        dst=A,
    )


def test_capture_423_then_accepted(findings: Findings, analysed: Analysed) -> None:
    # REGISTER Expires 60 (f1) -> 423 Min-Expires 3600 (f2) -> REGISTER 3600 (f3) -> 200 (f4)
    assert findings("register_interval.pcap") == [
        ("interval-1@127.0.0.1", "registration-interval", Severity.INFO, (1, 2, 3, 4))
    ]
    (ann,) = analysed("register_interval.pcap").calls[0].annotations
    assert ann.title == "REGISTER interval too brief: asked 60 s, minimum 3600 s"
    assert ("min-expires", "3600 s") in ann.details
    assert "accepted: no harm done" in ann.cause


def test_423_not_retried_is_a_warning() -> None:
    call = make_call(
        [
            _reg(1, 60, 1, "z9hG4bK-a"),
            _ans(423, "Interval Too Brief", 1, 2, "z9hG4bK-a", "Min-Expires: 600"),
        ]
    )
    (ann,) = RegistrationIntervalRule().check(call)
    assert (ann.severity, ann.frames) == (Severity.WARNING, (1, 2))
    assert (
        ann.resolution[0] == "Set the client's registration interval (expires) to at least 600 s."
    )


def test_failed_registration_replaces_response_code() -> None:
    call = make_call([_reg(1, 3600, 1, "z9hG4bK-a"), _ans(404, "Not Found", 1, 2, "z9hG4bK-a")])
    (ann,) = RegistrationFailedRule().check(call)
    assert (ann.rule, ann.severity, ann.frames) == ("registration-failed", Severity.WARNING, (1, 2))
    assert ann.title == "Registration failed: 404 Not Found"
    assert "calls to it will fail until it registers" in ann.cause
    assert list(ResponseCodeRule().check(call)) == []
    five = make_call([_reg(1, 3600, 1, "z9hG4bK-a"), _ans(500, "Oops", 1, 2, "z9hG4bK-a")])
    assert [a.severity for a in RegistrationFailedRule().check(five)] == [Severity.ERROR]


def test_challenges_are_not_registration_failures(findings: Findings) -> None:
    assert findings("auth_rejected.pcap", "registration-failed") == []


def test_requested_expires_prefers_the_contact_parameter() -> None:
    m = msg(sip_bytes("REGISTER sip:h SIP/2.0", cseq="1 REGISTER", extra=["Expires: 3600"]))
    assert requested_expires(m) == 3600
    m2 = msg(
        sip_bytes("REGISTER sip:h SIP/2.0", cseq="1 REGISTER", extra=["Expires: 3600"]).replace(
            b"Contact: <sip:alice@127.0.0.1:5061>", b"Contact: <sip:a@h>;expires=120"
        )
    )
    assert requested_expires(m2) == 120
