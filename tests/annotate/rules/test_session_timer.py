"""``session-timer-expired``: a call ended by its RFC 4028 session timer.

Crafted: recording one takes a session interval of at least 90 s (RFC 4028 Min-SE) with
refreshes suppressed; SIPp can do it but no bundled capture does, so the timings are built here.
"""

from __future__ import annotations

from factories import A, B, make_call, make_invite, make_response, msg, sip_bytes

from sipsniff.annotate.knowledge import Severity
from sipsniff.annotate.rules.session_timer import SessionTimerRule, session_expires
from sipsniff.sip.message import SipMessage

RULE = SessionTimerRule()


def _call(
    bye_at: float,
    *,
    se: str = "Session-Expires: 90;refresher=uac",
    refresh_at: float | None = None,
    refresh_status: int = 200,
    bye_extra: tuple[str, ...] = (),
) -> list[SipMessage]:
    msgs = [
        msg(make_invite(extra=["Supported: timer", se] if se else []), frame=1, t=0),
        msg(make_response(200, "OK", extra=[se] if se else []), frame=2, t=1, src=B, dst=A),
        msg(
            sip_bytes(
                "ACK sip:bob@127.0.0.1 SIP/2.0", cseq="1 ACK", branch="z9hG4bK-a", to_tag="tt1"
            ),
            frame=3,
            t=1,
        ),
    ]
    if refresh_at is not None:
        msgs += [
            msg(
                make_invite(cseq="2 INVITE", branch="z9hG4bK-r", to_tag="tt1"),
                frame=4,
                t=refresh_at,
            ),
            msg(
                make_response(
                    refresh_status,
                    "OK" if refresh_status == 200 else "Error",
                    cseq="2 INVITE",
                    branch="z9hG4bK-r",
                ),
                frame=5,
                t=refresh_at + 0.1,
                src=B,
                dst=A,
            ),
        ]
    msgs.append(
        msg(
            sip_bytes(
                "BYE sip:alice@127.0.0.1 SIP/2.0",
                cseq="1 BYE",
                branch="z9hG4bK-b",
                to_tag="tt1",
                extra=list(bye_extra),
            ),
            frame=9,
            t=bye_at,
            src=B,
            dst=A,
        )
    )
    return msgs


def test_bye_at_expiry_without_refresh() -> None:
    # SE 90 s: the non-refresher sends BYE at 90 - min(32, 30) = 60 s after the answer
    (ann,) = RULE.check(make_call(_call(61)))
    assert (ann.severity, ann.frames) == (Severity.WARNING, (2, 9))
    assert ann.title == "Call ended by session timer after 60.0 s (Session-Expires 90 s)"
    assert "No refresh (re-INVITE or UPDATE) succeeded" in ann.cause


def test_failed_refresh_is_evidence() -> None:
    (ann,) = RULE.check(make_call(_call(61, refresh_at=45, refresh_status=500)))
    assert ann.frames == (2, 4, 9)
    assert "1 refresh attempt failed (frames 4)" in ann.cause


def test_a_person_hanging_up_is_not_reported() -> None:
    assert list(RULE.check(make_call(_call(30)))) == []
    assert list(RULE.check(make_call(_call(61, refresh_at=45)))) == []  # refreshed at 45 s
    assert list(RULE.check(make_call(_call(61, se="")))) == []  # no session timer


def test_reason_text_is_taken_at_its_word() -> None:
    (ann,) = RULE.check(
        make_call(
            _call(20, se="", bye_extra=('Reason: SIP;cause=408;text="Session timer expired"',))
        )
    )
    assert ann.title == "Call ended by session timer after 19.0 s"


def test_session_expires_parsing() -> None:
    m = msg(make_invite(extra=["x: 1800;refresher=UAS"]))
    assert session_expires(m) == (1800, "uas")
    assert session_expires(msg(make_invite(extra=["Session-Expires: soon"]))) is None
