"""Digest authentication: ``auth-rejected`` and ``auth-unanswered`` (a cross-call rule)."""

from __future__ import annotations

from collections.abc import Callable

from factories import A, B, make_call, make_invite, make_response, msg, sip_bytes

from sipsniff import Analysis
from sipsniff.annotate.knowledge import Severity
from sipsniff.annotate.rules.auth import AuthRejectedRule, AuthUnansweredRule, digest_params
from sipsniff.annotate.rules.response_code import ResponseCodeRule
from sipsniff.dialogs.call import Call
from sipsniff.sip.message import SipMessage

Findings = Callable[..., list[tuple[str, str, Severity, tuple[int, ...]]]]
Analysed = Callable[[str], Analysis]

CHALLENGE = 'WWW-Authenticate: Digest realm="pbx.test", nonce="n1", algorithm=MD5'
CREDS = 'Authorization: Digest username="alice", realm="pbx.test", nonce="n1", response="x"'


def _register(cseq: int, *extra: str, frame: int, t: float, branch: str) -> SipMessage:
    return msg(
        sip_bytes(
            "REGISTER sip:127.0.0.1 SIP/2.0",
            cseq=f"{cseq} REGISTER",
            branch=branch,
            extra=list(extra),
        ),
        frame=frame,
        t=t,
    )


def _reply(
    code: int, reason: str, cseq: int, *extra: str, frame: int, t: float, branch: str
) -> SipMessage:
    return msg(
        make_response(code, reason, cseq=f"{cseq} REGISTER", branch=branch, extra=list(extra)),
        frame=frame,
        t=t,
        src=B,
        dst=A,
    )


def _unanswered(*calls: Call) -> list[tuple[str, str]]:
    rule = AuthUnansweredRule()
    for c in calls:
        rule.observe(c)
    return [(cid, a.rule) for cid, a in rule.finish()]


def test_capture_wrong_password_and_missing_credentials(findings: Findings) -> None:
    # authbad: INVITE f1 -> 407 f3, INVITE with Proxy-Authorization f5 -> 407 again f7.
    # authnone: REGISTER f9 -> 401 f10, never answered (uac_register_noauth.xml).
    assert findings("auth_rejected.pcap") == [
        ("authbad-1@127.0.0.1", "auth-rejected", Severity.ERROR, (3, 5, 7)),
        ("authnone-1@127.0.0.1", "auth-unanswered", Severity.WARNING, (9, 10)),
    ]


def test_capture_answered_challenge_is_silent(findings: Findings) -> None:
    # REGISTER -> 401 -> REGISTER with Authorization -> 200: the normal digest flow
    assert findings("register_auth.pcap") == []


def test_rejected_cause_names_user_realm_and_the_challenge(analysed: Analysed) -> None:
    (ann,) = analysed("auth_rejected.pcap").calls[0].annotations
    assert ann.title == "INVITE credentials rejected: 407 Proxy Authentication Required"
    assert 'carried Proxy-Authorization for username "alice" in realm "sipsniff.test"' in ann.cause
    assert "answered the 407 challenge in frame 3, 1 ms after it" in ann.cause
    assert ("realm asked", "sipsniff.test") in ann.details


def test_403_after_credentials() -> None:
    call = make_call(
        [
            _register(1, frame=1, t=0, branch="z9hG4bK-a"),
            _reply(401, "Unauthorized", 1, CHALLENGE, frame=2, t=0.01, branch="z9hG4bK-a"),
            _register(2, CREDS, frame=3, t=0.02, branch="z9hG4bK-b"),
            _reply(403, "Wrong password", 2, frame=4, t=0.03, branch="z9hG4bK-b"),
        ]
    )
    (ann,) = AuthRejectedRule().check(call)
    assert (ann.severity, ann.frames) == (Severity.ERROR, (2, 3, 4))
    assert 'Its reason phrase: "Wrong password"' in ann.cause
    assert list(ResponseCodeRule().check(call)) == []
    assert _unanswered(call) == []  # the 401 was answered in the same exchange


def test_realm_mismatch_and_identity_mismatch_are_named() -> None:
    creds = 'Authorization: Digest username="bob", realm="other.test", nonce="n1"'
    call = make_call(
        [
            _register(1, frame=1, t=0, branch="z9hG4bK-a"),
            _reply(401, "Unauthorized", 1, CHALLENGE, frame=2, t=0.01, branch="z9hG4bK-a"),
            _register(2, creds, frame=3, t=0.02, branch="z9hG4bK-b"),
            _reply(401, "Unauthorized", 2, CHALLENGE, frame=4, t=0.03, branch="z9hG4bK-b"),
        ]
    )
    (ann,) = AuthRejectedRule().check(call)
    assert 'asked for realm "pbx.test" but the client answered for realm "other.test"' in ann.cause
    assert 'The From user ("alice") is not the digest username ("bob")' in ann.cause


def test_stale_nonce_retried_is_silent_and_unretried_is_a_warning() -> None:
    stale = 'WWW-Authenticate: Digest realm="pbx.test", nonce="n2", stale=TRUE'
    head = [
        _register(1, CREDS, frame=1, t=0, branch="z9hG4bK-a"),
        _reply(401, "Unauthorized", 1, stale, frame=2, t=0.01, branch="z9hG4bK-a"),
    ]
    ok = make_call(
        [
            *head,
            _register(2, CREDS.replace("n1", "n2"), frame=3, t=0.02, branch="z9hG4bK-b"),
            _reply(200, "OK", 2, frame=4, t=0.03, branch="z9hG4bK-b"),
        ]
    )
    assert list(AuthRejectedRule().check(ok)) == []
    (ann,) = AuthRejectedRule().check(make_call(head))
    assert ann.severity == Severity.WARNING
    assert "stale=true" in ann.cause


def test_nonce_changed_phrase_is_a_warning_with_its_own_advice() -> None:
    call = make_call(
        [
            _register(1, CREDS, frame=1, t=0, branch="z9hG4bK-a"),
            _reply(401, "nonce has changed", 1, CHALLENGE, frame=2, t=0.01, branch="z9hG4bK-a"),
        ]
    )
    (ann,) = AuthRejectedRule().check(call)
    assert ann.severity == Severity.WARNING
    assert ann.title == 'REGISTER credentials rejected: 401 Unauthorized ("nonce has changed")'
    assert ann.resolution[0].startswith("Make the client answer a challenge at once")


def test_unanswered_challenge_answered_in_a_later_exchange() -> None:
    # the tracker publishes a Call-ID's exchanges separately when they are > 5 s apart:
    # a challenge answered 17 s later (as in sngrep's aaa.pcap) is not unanswered
    first = make_call(
        [
            _register(1, frame=1, t=0, branch="z9hG4bK-a"),
            _reply(401, "Unauthorized", 1, CHALLENGE, frame=2, t=0.1, branch="z9hG4bK-a"),
        ]
    )
    later = make_call(
        [
            _register(2, CREDS, frame=3, t=17, branch="z9hG4bK-b"),
            _reply(200, "OK", 2, frame=4, t=17.1, branch="z9hG4bK-b"),
        ]
    )
    assert _unanswered(first, later) == []
    assert _unanswered(first) == [("call-1@test", "auth-unanswered")]


def test_unanswered_names_realm_and_flags_a_short_capture() -> None:
    rule = AuthUnansweredRule()
    rule.observe(
        make_call(
            [
                _register(1, frame=1, t=0, branch="z9hG4bK-a"),
                _reply(401, "Unauthorized", 1, CHALLENGE, frame=2, t=0.1, branch="z9hG4bK-a"),
            ]
        )
    )
    ((cid, ann),) = rule.finish()
    assert (cid, ann.severity, ann.frames) == ("call-1@test", Severity.WARNING, (1, 2))
    assert 'realm "pbx.test"' in ann.cause
    assert "The capture ends 0 ms after the challenge" in ann.cause
    assert list(rule.finish()) == []  # finish hands each finding out once


def test_invite_407_unanswered() -> None:
    call = make_call(
        [
            msg(make_invite(), frame=1, t=0),
            msg(
                make_response(
                    407,
                    "Proxy Authentication Required",
                    extra=['Proxy-Authenticate: Digest realm="p", nonce="z"'],
                ),
                frame=2,
                t=0.1,
                src=B,
                dst=A,
            ),
        ]
    )
    assert _unanswered(call) == [("call-1@test", "auth-unanswered")]


def test_digest_params() -> None:
    assert digest_params('Digest realm="a,b", nonce=xyz, stale=true, qop="auth,auth-int"') == {
        "realm": "a,b",
        "nonce": "xyz",
        "stale": "true",
        "qop": "auth,auth-int",
    }
    assert digest_params("") == {}
