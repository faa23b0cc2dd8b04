"""The claims table: every error response is explained by exactly one rule, never by none.

Checked on every bundled capture and every real capture of the shared corpus (when present),
then fuzzed: whatever the headers say, no rule raises.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from factories import A, B, make_call, make_invite, make_response, msg, sip_bytes
from helpers import CAPTURES, real_captures
from hypothesis import given, settings
from hypothesis import strategies as st

from sipsniff import analyze
from sipsniff.annotate.rules import all_rules, many_rules
from sipsniff.annotate.rules._claims import claimed_by, claims
from sipsniff.diagnostics import Trigger

# Rules that explain error responses (the right-hand column of the claims table).
EXPLAINERS = frozenset(
    {
        "response-code",
        "auth-rejected",
        "auth-unanswered",
        "callee-busy",
        "callee-declined",
        "caller-cancelled",
        "codec-mismatch",
        "routing-loop",
        "registration-interval",
        "registration-failed",
        "server-unavailable",
        "reinvite-glare",
        "bye-race",
        "no-final-response",
    }
)
# Claimed responses a rule may rightly leave unexplained: a challenge that a later request
# answered (auth-rejected may then cite it as the challenge its credentials answered), and a
# stale-nonce challenge the client retried successfully.
MAY_BE_SILENT = {"auth-unanswered": {"auth-rejected"}, "auth-rejected": set()}

CAPTURE_FILES = sorted(CAPTURES.glob("*.pcap")) + real_captures()


@pytest.mark.parametrize("path", CAPTURE_FILES, ids=lambda p: Path(p).name)
def test_each_error_response_is_explained_once(path: Path) -> None:
    analysis = analyze([path])
    assert not [d for d in analysis.diagnostics if d.trigger == Trigger.RULE_FAILED]
    for ac in analysis.calls:
        for index, rule in claims(ac.call).items():
            frame = ac.call.messages[index].frame
            explained = {
                a.rule for a in ac.annotations if a.rule in EXPLAINERS and frame in a.frames
            }
            if rule in MAY_BE_SILENT and explained <= MAY_BE_SILENT[rule]:
                continue
            assert explained == {rule}, (ac.call.call_id, frame, rule, explained)


def _final(
    code: int, reason: str, *, cseq: str = "1 INVITE", creds: bool = False, initial: bool = True
) -> dict[int, str]:
    method = cseq.split()[1]
    extra = ['Authorization: Digest username="a", realm="r"'] if creds else []
    if method == "INVITE":
        req = make_invite(cseq=cseq, extra=extra, to_tag="" if initial else "tt1")
    else:
        req = sip_bytes(f"{method} sip:b@h SIP/2.0", cseq=cseq, extra=extra)
    call = make_call(
        [
            msg(req, frame=1, t=0),
            msg(make_response(code, reason, cseq=cseq), frame=2, t=0.1, src=B, dst=A),
        ]
    )
    return {call.messages[i].frame: r for i, r in claims(call).items()}


@pytest.mark.parametrize(
    ("code", "kw", "rule"),
    [
        (401, {}, "auth-unanswered"),
        (401, {"creds": True}, "auth-rejected"),
        (403, {"creds": True}, "auth-rejected"),
        (403, {}, "response-code"),
        (486, {}, "callee-busy"),
        (486, {"initial": False}, "response-code"),
        (600, {}, "callee-busy"),
        (603, {}, "callee-declined"),
        (487, {}, "response-code"),  # no CANCEL seen
        (488, {}, "codec-mismatch"),
        (415, {}, "codec-mismatch"),
        (482, {}, "routing-loop"),
        (423, {"cseq": "1 REGISTER"}, "registration-interval"),
        (404, {"cseq": "1 REGISTER"}, "registration-failed"),
        (503, {"cseq": "1 REGISTER"}, "server-unavailable"),
        (491, {}, "reinvite-glare"),
        (481, {"cseq": "2 BYE"}, "bye-race"),
        (481, {"cseq": "2 OPTIONS"}, "response-code"),
        (408, {}, "response-code"),  # no provisional first
        (500, {}, "response-code"),
    ],
)
def test_table(code: int, kw: dict[str, object], rule: str) -> None:
    assert _final(code, "X", **kw) == {2: rule}  # type: ignore[arg-type]


def test_provisionals_and_successes_are_never_claimed() -> None:
    call = make_call(
        [
            msg(make_invite(), frame=1, t=0),
            msg(make_response(180, "Ringing"), frame=2, t=0.1, src=B, dst=A),
            msg(make_response(302, "Moved"), frame=3, t=0.2, src=B, dst=A),
        ]
    )
    assert claims(call) == {}
    assert claimed_by(call, "response-code") == []


_HEADERS = st.sampled_from(
    [
        "Reason",
        "Warning",
        "Retry-After",
        "Min-Expires",
        "Session-Expires",
        "WWW-Authenticate",
        "Proxy-Authenticate",
        "Authorization",
        "Contact",
        "Via",
        "Max-Forwards",
        "Expires",
        "Accept",
        "Record-Route",
        "Server",
    ]
)
_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=60
)


@settings(max_examples=150, deadline=None)
@given(
    code=st.integers(100, 699),
    method=st.sampled_from(["INVITE", "REGISTER", "BYE", "CANCEL", "OPTIONS", "UPDATE"]),
    headers=st.lists(st.tuples(_HEADERS, _TEXT), max_size=6),
    body=st.sampled_from(
        [
            "",
            "v=0\r\nc=IN IP4 0.0.0.0\r\nm=audio 0 RTP/AVP 0\r\na=inactive\r\n",
            "v=0\r\nm=audio x\r\nc=IN IP6 ::1\r\n",
            "garbage",
        ]
    ),
)
def test_rules_never_raise(
    code: int, method: str, headers: list[tuple[str, str]], body: str
) -> None:
    extra = [f"{k}: {v}" for k, v in headers]
    cseq = f"1 {method}"
    call = make_call(
        [
            msg(sip_bytes(f"{method} sip:b@h SIP/2.0", cseq=cseq, extra=extra, body=body), frame=1),
            msg(
                sip_bytes(f"{method} sip:b@h SIP/2.0", cseq=cseq, extra=extra, body=body),
                frame=2,
                t=0.5,
            ),
            msg(
                sip_bytes(f"SIP/2.0 {code} X", cseq=cseq, to_tag="t", extra=extra, body=body),
                frame=3,
                t=40,
                src=B,
                dst=A,
            ),
        ]
    )
    for rule in all_rules():
        list(rule.check(call))
    for many in many_rules():
        many.observe(call)
        list(many.finish())
