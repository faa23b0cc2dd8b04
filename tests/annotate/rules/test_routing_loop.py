"""``routing-loop``: 482/483 with the Via hops, and a request that came back."""

from __future__ import annotations

from collections.abc import Callable

from factories import A, B, make_call, make_invite, make_response, msg

from sipsniff import Analysis
from sipsniff.annotate.knowledge import Severity
from sipsniff.annotate.rules.routing_loop import RoutingLoopRule, via_hops

Findings = Callable[..., list[tuple[str, str, Severity, tuple[int, ...]]]]
Analysed = Callable[[str], Analysis]
RULE = RoutingLoopRule()


def test_capture_483_and_482(findings: Findings) -> None:
    # hops: INVITE with Max-Forwards 0 after 3 Vias (f1) -> 483 (f3);
    # loop: INVITE whose Via shows 127.0.0.1:5060 already on the path (f5) -> 482 (f7)
    assert findings("call_loop.pcap") == [
        ("hops-1@127.0.0.3", "routing-loop", Severity.ERROR, (1, 3)),
        ("loop-1@127.0.0.3", "routing-loop", Severity.ERROR, (5, 7)),
    ]


def test_capture_details_list_the_hops(analysed: Analysed) -> None:
    hops, loop = (ac.annotations[0] for ac in analysed("call_loop.pcap").calls)
    assert dict(hops.details)["via hops"] == "127.0.0.3:5061 <- 127.0.0.2:5060 <- 127.0.0.1:5061"
    assert dict(hops.details)["max-forwards"] == "0"
    assert "It arrived with Max-Forwards: 0." in hops.cause
    assert loop.title == "INVITE rejected: 482 Loop Detected"
    assert "127.0.0.1:5060, the server that answered, is already in that list" in loop.cause
    assert dict(loop.details)["via hops"] == (
        "127.0.0.3:5061 <- 127.0.0.1:5060 <- 127.0.0.2:5060 <- 127.0.0.1:5061"
    )


def test_request_that_came_back_without_482() -> None:
    # crafted: a real loop needs two misconfigured proxies; SIPp plays endpoints only
    first = make_invite(
        vias=(
            "SIP/2.0/UDP 127.0.0.2:5060;branch=z9hG4bK-p1",
            "SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-1",
        )
    )
    again = make_invite(
        vias=(
            "SIP/2.0/UDP 127.0.0.2:5060;branch=z9hG4bK-p3",
            "SIP/2.0/UDP 127.0.0.3:5060;branch=z9hG4bK-p2",
            "SIP/2.0/UDP 127.0.0.2:5060;branch=z9hG4bK-p1",
            "SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-1",
        )
    )
    call = make_call([msg(first, frame=1, t=0), msg(again, frame=2, t=0.05)])
    (ann,) = RULE.check(call)
    assert (ann.severity, ann.frames) == (Severity.ERROR, (1, 2))
    assert ann.title == "INVITE came back to 127.0.0.1:5060: routing loop"


def test_spiral_with_a_new_request_uri_is_not_a_loop() -> None:
    first = make_invite(vias=("SIP/2.0/UDP 127.0.0.2:5060;branch=z9hG4bK-p1",))
    spiral = first.replace(b"INVITE sip:bob@127.0.0.1", b"INVITE sip:bob-desk@127.0.0.1").replace(
        b"Via: SIP/2.0/UDP 127.0.0.2:5060;branch=z9hG4bK-p1",
        b"Via: SIP/2.0/UDP 127.0.0.2:5060;branch=z9hG4bK-p2\r\n"
        b"Via: SIP/2.0/UDP 127.0.0.2:5060;branch=z9hG4bK-p1",
    )
    call = make_call([msg(first, frame=1, t=0), msg(spiral, frame=2, t=0.05)])
    assert list(RULE.check(call)) == []


def test_repeated_sent_by_is_named() -> None:
    looped = make_invite(
        vias=(
            "SIP/2.0/UDP 127.0.0.2:5060;branch=z9hG4bK-p2",
            "SIP/2.0/UDP 127.0.0.9:5060;branch=z9hG4bK-x",
            "SIP/2.0/UDP 127.0.0.2:5060;branch=z9hG4bK-p1",
        )
    )
    call = make_call(
        [
            msg(looped, frame=1, t=0),
            msg(
                make_response(
                    482, "Loop Detected", vias=("SIP/2.0/UDP 127.0.0.2:5060;branch=z9hG4bK-p2",)
                ),
                frame=2,
                t=0.01,
                src=B,
                dst=A,
            ),
        ]
    )
    (ann,) = RULE.check(call)
    assert "127.0.0.2:5060 appears more than once in Via" in ann.cause
    assert via_hops(call.messages[0]) == ["127.0.0.2:5060", "127.0.0.9:5060", "127.0.0.2:5060"]
