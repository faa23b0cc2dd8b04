"""``response-code``: the knowledge-base explanation of error responses no other rule claims.

The bundled SIPp captures only produce codes that more specific rules claim (486, 488,
503...), so the generic path is proven on crafted messages and on the real sngrep capture
(a 480 with a Q.850 Reason), when the shared corpus is present.
"""

from __future__ import annotations

from factories import A, B, make_call, make_invite, make_response, msg, sip_bytes
from helpers import real_capture

from sipsniff import analyze
from sipsniff.annotate.knowledge import Severity
from sipsniff.annotate.rules.response_code import ResponseCodeRule
from sipsniff.decode.payload import Endpoint
from sipsniff.sip.message import SipMessage

RULE = ResponseCodeRule()


def _rejected(code: int, reason: str, *extra: str, method: str = "INVITE") -> list[SipMessage]:
    if method == "INVITE":
        req = make_invite()
    else:
        req = sip_bytes(f"{method} sip:bob@127.0.0.1 SIP/2.0", cseq=f"1 {method}")
    return [
        msg(req, frame=1, t=0.0),
        msg(
            make_response(code, reason, cseq=f"1 {method}", extra=list(extra)),
            frame=2,
            t=0.25,
            src=B,
            dst=A,
        ),
    ]


def test_404_explained_from_the_knowledge_base() -> None:
    (ann,) = RULE.check(make_call(_rejected(404, "Not Found")))
    assert ann.rule == "response-code"
    assert ann.severity == Severity.WARNING
    assert ann.title == "INVITE rejected: 404 Not Found"
    assert ann.frames == (1, 2)
    assert ann.cause.startswith(
        "127.0.0.1:5060 answered the INVITE from 127.0.0.1:5061 (frame 1) with 404 Not Found "
        "in frame 2, 250 ms after the request."
    )
    assert "Likely causes:" in ann.cause
    assert ann.resolution  # the knowledge base's steps
    assert ("status", "404 Not Found") in ann.details


def test_reason_warning_and_wire_phrase_are_decoded() -> None:
    call = make_call(
        _rejected(
            480,
            "Error",
            "Reason: Q.850;cause=21",
            'Warning: 399 gw.example "No route for this prefix"',
        )
    )
    (ann,) = RULE.check(call)
    details = dict(ann.details)
    assert details["reason phrase"] == "Error"
    assert details["reason"].startswith("Q.850 cause 21: Call rejected")
    assert details["warning"].startswith('399 from gw.example: "No route for this prefix"')
    assert 'its reason phrase: "Error"' in ann.cause
    assert "Q.850 cause 21" in ann.cause


def test_severity_follows_the_knowledge_base() -> None:
    (err,) = RULE.check(make_call(_rejected(500, "Server Internal Error")))
    assert err.severity == Severity.ERROR
    (info,) = RULE.check(make_call(_rejected(487, "Request Terminated")))  # no CANCEL seen
    assert info.severity == Severity.INFO
    (unknown,) = RULE.check(make_call(_rejected(499, "Whatever")))
    assert unknown.severity == Severity.WARNING
    assert unknown.title == "INVITE rejected: 499 Unknown client error"


def test_claimed_codes_and_redirects_are_left_alone() -> None:
    for code, reason in (
        (401, "Unauthorized"),
        (407, "Proxy Authentication Required"),
        (486, "Busy Here"),
        (488, "Not Acceptable Here"),
        (503, "Service Unavailable"),
        (482, "Loop Detected"),
        (302, "Moved Temporarily"),
    ):
        assert list(RULE.check(make_call(_rejected(code, reason)))) == [], code
    # a REGISTER failure is registration-failed's
    assert list(RULE.check(make_call(_rejected(404, "Not Found", method="REGISTER")))) == []


def test_same_status_on_two_hops_is_one_annotation() -> None:
    proxy = Endpoint("127.0.0.2", 5060)
    call = make_call(
        [
            msg(make_invite(), frame=1, t=0.0, src=A, dst=proxy),
            msg(
                make_invite(
                    vias=(
                        "SIP/2.0/UDP 127.0.0.2:5060;branch=z9hG4bK-p",
                        "SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-1",
                    )
                ),
                frame=2,
                t=0.01,
                src=proxy,
                dst=B,
            ),
            msg(
                make_response(
                    404,
                    "Not Found",
                    vias=(
                        "SIP/2.0/UDP 127.0.0.2:5060;branch=z9hG4bK-p",
                        "SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-1",
                    ),
                ),
                frame=3,
                t=0.1,
                src=B,
                dst=proxy,
            ),
            msg(make_response(404, "Not Found"), frame=4, t=0.11, src=proxy, dst=A),
        ]
    )
    (ann,) = RULE.check(call)
    assert ann.frames == (1, 2, 3, 4)
    assert "seen 2 times on several hops (frames 3, 4)" in ann.cause


def test_real_480_with_q850_reason() -> None:
    path = real_capture("sngrep_aaa.pcap")
    found = [
        (ac.call.call_id, a.severity, a.frames, a.title)
        for ac in analyze([path]).calls
        for a in ac.annotations
        if a.rule == "response-code"
    ]
    # INVITE with Proxy-Authorization (f617), 183 (f620), then 480 "Error" with
    # Reason: q.850;cause=21 from the Cirpack gateway (f621)
    assert found == [
        (
            "11894297-4432a9f8@192.168.1.2",
            Severity.WARNING,
            (617, 621),
            "INVITE rejected: 480 Temporarily Unavailable",
        )
    ]
