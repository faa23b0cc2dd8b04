"""``media-direction``: one-way or no audio set up in a call's first offer/answer."""

from __future__ import annotations

from collections.abc import Callable

from factories import A, B, make_call, make_response, msg, sip_bytes

from sipsniff import Analysis
from sipsniff.annotate.knowledge import Severity
from sipsniff.annotate.rules.media_direction import MediaDirectionRule

Findings = Callable[..., list[tuple[str, str, Severity, tuple[int, ...]]]]
Analysed = Callable[[str], Analysis]
RULE = MediaDirectionRule()


def _sdp(direction: str = "sendrecv", addr: str = "127.0.0.1") -> str:
    return (
        f"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 {addr}\r\nt=0 0\r\n"
        f"m=audio 4000 RTP/AVP 0\r\na={direction}\r\n"
    )


def test_capture_zero_address_sendonly_offer(findings: Findings, analysed: Analysed) -> None:
    # uac_call_zeroaddr.xml: the first INVITE (f8) offers c=0.0.0.0 and a=sendonly
    assert findings("call_nat.pcap", "media-direction") == [
        ("zeroaddr-1@127.0.0.1", "media-direction", Severity.WARNING, (8,))
    ]
    ann = analysed("call_nat.pcap").calls[1].annotations[0]
    assert ann.title == "One-way or no audio risk: a=sendonly, c=0.0.0.0 outside a hold"
    assert dict(ann.details)["offer"] == (
        "frame 8: a=sendonly (its sender will not receive audio); c=0.0.0.0 (nobody can send RTP to it)"
    )


def test_recvonly_and_inactive_answers() -> None:
    for direction, effect in (("recvonly", "will not send audio"), ("inactive", "no audio flows")):
        call = make_call(
            [
                msg(sip_bytes("INVITE sip:bob@127.0.0.1 SIP/2.0", body=_sdp()), frame=1, t=0),
                msg(make_response(200, "OK", body=_sdp(direction)), frame=2, t=1, src=B, dst=A),
            ]
        )
        (ann,) = RULE.check(call)
        assert ann.frames == (2,)
        assert effect in ann.cause


def test_hold_in_a_reinvite_is_normal() -> None:
    call = make_call(
        [
            msg(sip_bytes("INVITE sip:bob@127.0.0.1 SIP/2.0", body=_sdp()), frame=1, t=0),
            msg(make_response(200, "OK", body=_sdp()), frame=2, t=1, src=B, dst=A),
            msg(
                sip_bytes(
                    "INVITE sip:bob@127.0.0.1 SIP/2.0",
                    cseq="2 INVITE",
                    branch="z9hG4bK-h",
                    to_tag="tt1",
                    body=_sdp("sendonly"),
                ),
                frame=3,
                t=10,
            ),
            msg(
                make_response(
                    200, "OK", cseq="2 INVITE", branch="z9hG4bK-h", body=_sdp("recvonly")
                ),
                frame=4,
                t=10.1,
                src=B,
                dst=A,
            ),
        ]
    )
    assert list(RULE.check(call)) == []


def test_one_way_early_media_is_normal() -> None:
    call = make_call(
        [
            msg(sip_bytes("INVITE sip:bob@127.0.0.1 SIP/2.0", body=_sdp()), frame=1, t=0),
            msg(
                make_response(183, "Session Progress", body=_sdp("sendonly")),
                frame=2,
                t=1,
                src=B,
                dst=A,
            ),
            msg(make_response(404, "Not Found"), frame=3, t=5, src=B, dst=A),
        ]
    )
    assert list(RULE.check(call)) == []
