"""``post-dial-delay``: silence between the INVITE and ringing (or the answer).

Crafted: every bundled SIPp callee rings after 200 ms.
"""

from __future__ import annotations

from collections.abc import Callable

from factories import A, B, make_call, make_invite, make_response, msg

from sipsniff.annotate.knowledge import Severity
from sipsniff.annotate.rules.post_dial_delay import PostDialDelayRule
from sipsniff.sip.message import SipMessage

Findings = Callable[..., list[tuple[str, str, Severity, tuple[int, ...]]]]
RULE = PostDialDelayRule()


def _call(*responses: tuple[int, str, float]) -> list[SipMessage]:
    return [msg(make_invite(), frame=1, t=0)] + [
        msg(make_response(code, reason), frame=2 + n, t=t, src=B, dst=A)
        for n, (code, reason, t) in enumerate(responses)
    ]


def test_late_ringing() -> None:
    (ann,) = RULE.check(make_call(_call((100, "Trying", 0.05), (180, "Ringing", 8.2))))
    assert (ann.severity, ann.frames) == (Severity.WARNING, (1, 3))
    assert ann.title == "Post-dial delay 8.2 s before 180 Ringing"
    assert "100 Trying came after 50 ms" in ann.cause


def test_answer_without_ringing_counts() -> None:
    (ann,) = RULE.check(make_call(_call((200, "OK", 6.0))))
    assert ann.title == "Post-dial delay 6.0 s before 200 OK"


def test_quick_ringing_late_error_and_broken_clocks_are_quiet() -> None:
    assert list(RULE.check(make_call(_call((180, "Ringing", 3.0))))) == []
    assert list(RULE.check(make_call(_call((486, "Busy Here", 9.0))))) == []
    assert list(RULE.check(make_call(_call((200, "OK", 7200.0))))) == []


def test_bundled_captures_ring_quickly(findings: Findings) -> None:
    assert findings("demo.pcap", "post-dial-delay") == []
