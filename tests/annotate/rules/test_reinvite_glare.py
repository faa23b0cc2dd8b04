"""``reinvite-glare``: 491 Request Pending.

Crafted: glare needs both ends to re-INVITE within the same few milliseconds, which the
bundled SIPp scenarios never do.
"""

from __future__ import annotations

from factories import A, B, make_call, make_invite, make_response, msg, sip_bytes

from sipsniff.annotate.knowledge import Severity
from sipsniff.annotate.rules.reinvite_glare import ReinviteGlareRule
from sipsniff.annotate.rules.response_code import ResponseCodeRule
from sipsniff.sip.message import SipMessage

RULE = ReinviteGlareRule()


def _glare() -> list[SipMessage]:
    return [
        msg(make_invite(), frame=1, t=0),
        msg(make_response(200, "OK"), frame=2, t=1, src=B, dst=A),
        msg(
            sip_bytes(
                "ACK sip:bob@127.0.0.1 SIP/2.0", cseq="1 ACK", branch="z9hG4bK-a", to_tag="tt1"
            ),
            frame=3,
            t=1,
        ),
        msg(make_invite(cseq="2 INVITE", branch="z9hG4bK-r1", to_tag="tt1"), frame=4, t=10),
        msg(
            make_invite(cseq="7 INVITE", branch="z9hG4bK-r2", to_tag="tt1"),
            frame=5,
            t=10,
            src=B,
            dst=A,
        ),
        msg(
            make_response(491, "Request Pending", cseq="2 INVITE", branch="z9hG4bK-r1"),
            frame=6,
            t=10.01,
            src=B,
            dst=A,
        ),
    ]


def test_glare_resolved_by_the_retry_is_info() -> None:
    call = make_call(
        [
            *_glare(),
            msg(make_invite(cseq="3 INVITE", branch="z9hG4bK-r3", to_tag="tt1"), frame=7, t=13),
            msg(
                make_response(200, "OK", cseq="3 INVITE", branch="z9hG4bK-r3"),
                frame=8,
                t=13.1,
                src=B,
                dst=A,
            ),
        ]
    )
    (ann,) = RULE.check(call)
    assert (ann.severity, ann.frames) == (Severity.INFO, (4, 5, 6, 7))
    assert ann.title == "INVITE glare: 491 Request Pending, retried successfully"
    assert "the two offers crossed (glare)" in ann.cause
    assert list(ResponseCodeRule().check(call)) == []


def test_glare_never_retried_is_a_warning() -> None:
    (ann,) = RULE.check(make_call(_glare()))
    assert ann.severity == Severity.WARNING
    assert "was never retried" in ann.cause
