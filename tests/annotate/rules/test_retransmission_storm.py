"""``retransmission-storm``: one message repeated 4+ times before the other side reacted."""

from __future__ import annotations

from collections.abc import Callable

from factories import A, B, make_call, make_invite, make_response, msg, sip_bytes
from helpers import real_capture

from sipsniff import analyze
from sipsniff.annotate.knowledge import Severity
from sipsniff.annotate.rules.retransmission_storm import STORM_MIN, RetransmissionStormRule
from sipsniff.sip.message import SipMessage

Findings = Callable[..., list[tuple[str, str, Severity, tuple[int, ...]]]]
RULE = RetransmissionStormRule()
T1 = (0.0, 0.5, 1.5, 3.5, 7.5, 15.5)


def test_real_capture_cancel_storm() -> None:
    path = real_capture("sngrep_aaa.pcap")
    found = [
        (a.severity, a.frames, a.title)
        for ac in analyze([path]).calls
        for a in ac.annotations
        if a.rule == "retransmission-storm"
    ]
    # the CANCEL (f247) repeated 10 times until the server's 408 (f274)
    assert found == [
        (
            Severity.WARNING,
            (247, 249, 251, 255, 257, 259, 260, 264, 265, 266, 272),
            "CANCEL retransmitted 10 times",
        )
    ]


def test_bundled_captures_have_no_storm(findings: Findings) -> None:
    # 2xx retransmissions (ack-missing) and unanswered INVITEs (no-response) are not storms
    assert findings("call_ack_missing.pcap", "retransmission-storm") == []
    assert findings("call_no_response.pcap", "retransmission-storm") == []


def _busy_resent(times: int) -> list[SipMessage]:
    msgs = [msg(make_invite(), frame=1, t=0)]
    for n in range(times + 1):
        msgs.append(msg(make_response(486, "Busy Here"), frame=2 + n, t=0.1 + T1[n], src=B, dst=A))
    return msgs


def test_final_response_repeated_for_want_of_an_ack() -> None:
    (ann,) = RULE.check(make_call(_busy_resent(STORM_MIN)))
    assert (ann.severity, ann.frames) == (Severity.WARNING, (2, 3, 4, 5, 6))
    assert ann.title == "486 Busy Here retransmitted 4 times"
    assert "the ACK for it did not arrive" in ann.cause


def test_below_the_threshold_is_quiet() -> None:
    assert list(RULE.check(make_call(_busy_resent(STORM_MIN - 1)))) == []


def test_request_storm_that_was_finally_answered() -> None:
    msgs = [
        msg(sip_bytes("OPTIONS sip:b@h SIP/2.0", cseq="1 OPTIONS"), frame=1 + n, t=t)
        for n, t in enumerate(T1[:5])
    ]
    msgs.append(msg(make_response(200, "OK", cseq="1 OPTIONS"), frame=9, t=8, src=B, dst=A))
    (ann,) = RULE.check(make_call(msgs))
    assert ann.frames == (1, 2, 3, 4, 5)
    assert "127.0.0.1:5060 finally answered 200 OK (frame 9)" in ann.cause
