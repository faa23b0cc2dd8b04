"""``bye-race``: 481 to BYE.

Crafted: the bundled SIPp pairs hang up from one side only, so crossing BYEs and a dialog
dropped by the far end are built from messages here.
"""

from __future__ import annotations

from factories import A, B, make_call, make_invite, make_response, msg, sip_bytes

from sipsniff.annotate.knowledge import Severity
from sipsniff.annotate.rules.bye_race import ByeRaceRule
from sipsniff.annotate.rules.response_code import ResponseCodeRule
from sipsniff.sip.message import SipMessage

RULE = ByeRaceRule()


def _established() -> list[SipMessage]:
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
    ]


def _bye(frame: int, t: float, *, callee: bool = False) -> SipMessage:
    data = sip_bytes(
        "BYE sip:x@127.0.0.1 SIP/2.0",
        cseq="5 BYE" if callee else "2 BYE",
        branch=f"z9hG4bK-bye{frame}",
        to_tag="tt1",
    )
    return msg(data, frame=frame, t=t, src=B if callee else A, dst=A if callee else B)


def _481(frame: int, t: float, *, bye_frame: int, to_callee: bool = False) -> SipMessage:
    data = make_response(
        481,
        "Call/Transaction Does Not Exist",
        cseq="5 BYE" if to_callee else "2 BYE",
        branch=f"z9hG4bK-bye{bye_frame}",
    )
    return msg(data, frame=frame, t=t, src=A if to_callee else B, dst=B if to_callee else A)


def test_crossing_byes_are_info() -> None:
    call = make_call(
        [
            *_established(),
            _bye(10, 60),
            _bye(11, 60.05, callee=True),
            msg(
                make_response(200, "OK", cseq="5 BYE", branch="z9hG4bK-bye11"),
                frame=12,
                t=60.06,
                src=A,
                dst=B,
            ),
            _481(13, 60.1, bye_frame=10),
        ]
    )
    (ann,) = RULE.check(call)
    assert (ann.severity, ann.frames) == (Severity.INFO, (10, 11, 13))
    assert ann.title == "BYEs crossed: both sides hung up at once (481 to BYE)"
    assert list(ResponseCodeRule().check(call)) == []


def test_lone_481_means_the_far_end_dropped_the_dialog() -> None:
    call = make_call([*_established(), _bye(10, 600), _481(11, 600.1, bye_frame=10)])
    (ann,) = RULE.check(call)
    assert (ann.severity, ann.frames) == (Severity.WARNING, (10, 11))
    assert "had already dropped this dialog" in ann.cause
