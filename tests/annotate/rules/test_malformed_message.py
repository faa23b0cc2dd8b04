"""``malformed-message``: damaged messages tied to their call."""

from __future__ import annotations

from collections.abc import Callable

from factories import make_call, msg, sip_bytes

from sipsniff.annotate.knowledge import Severity
from sipsniff.annotate.rules.malformed_message import MalformedMessageRule

Findings = Callable[..., list[tuple[str, str, Severity, tuple[int, ...]]]]


def test_capture_truncated_message(findings: Findings) -> None:
    # hostile.pcap (crafted by captures/make_hostile.py: no stack sends these): frame 10
    # announces a longer Content-Length than the body it carries
    assert findings("hostile.pcap", "malformed-message") == [
        ("truncated-1@127.0.0.1", "malformed-message", Severity.WARNING, (10,))
    ]


def test_problems_and_sender_are_named() -> None:
    bad = sip_bytes(
        "OPTIONS sip:b@h SIP/2.0",
        cseq="1 OPTIONS",
        extra=["User-Agent: BrokenPhone 1.0", "this line has no colon"],
    )
    (ann,) = MalformedMessageRule().check(make_call([msg(bad, frame=7)]))
    assert ann.frames == (7,)
    assert "no colon" in ann.cause
    assert "127.0.0.1:5061 (BrokenPhone 1.0)" in ann.resolution[0]


def test_well_formed_call_is_quiet() -> None:
    assert (
        list(
            MalformedMessageRule().check(
                make_call([msg(sip_bytes("OPTIONS sip:b@h SIP/2.0", cseq="1 OPTIONS"))])
            )
        )
        == []
    )
