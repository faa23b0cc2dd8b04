"""``codec-mismatch``: 488/606/415 rejections, and answers that share no codec with the offer."""

from __future__ import annotations

from collections.abc import Callable

from factories import A, B, make_call, make_invite, make_response, msg, sip_bytes

from sipsniff import Analysis
from sipsniff.annotate.knowledge import Severity
from sipsniff.annotate.rules.codec_mismatch import CodecMismatchRule, codec_key, offer_answer
from sipsniff.annotate.rules.response_code import ResponseCodeRule
from sipsniff.sip.message import SipMessage

Findings = Callable[..., list[tuple[str, str, Severity, tuple[int, ...]]]]
Analysed = Callable[[str], Analysis]
RULE = CodecMismatchRule()


def _sdp(codecs: str, port: int = 7000, rtpmap: str = "") -> str:
    return (
        "v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
        f"m=audio {port} RTP/AVP {codecs}\r\n{rtpmap}a=sendrecv\r\n"
    )


def test_capture_488_and_an_answer_outside_the_offer(findings: Findings) -> None:
    # codec488: G.729-only INVITE (f1) refused 488 with Warning 304 (f3).
    # codecpcma: INVITE offering PCMU only (f5), 200 OK answering PCMA (f8).
    assert findings("call_codec_mismatch.pcap") == [
        ("codec488-1@127.0.0.1", "codec-mismatch", Severity.WARNING, (1, 3)),
        ("codecpcma-1@127.0.0.1", "codec-mismatch", Severity.ERROR, (5, 8)),
    ]


def test_capture_details(analysed: Analysed) -> None:
    rejected, answered = (ac.annotations[0] for ac in analysed("call_codec_mismatch.pcap").calls)
    assert rejected.title == "INVITE rejected: 488 Not Acceptable Here"
    details = dict(rejected.details)
    assert details["offered"] == "audio G729"
    assert details["warning"].startswith('304 from 127.0.0.1: "Media type not available"')
    assert answered.title == "No common codec: offered PCMU, answered PCMA"
    assert dict(answered.details)["answered"] == "PCMA"
    assert "RFC 3264 section 6.1" in answered.cause


def _exchange(offer: str, answer: str) -> list[SipMessage]:
    return [
        msg(sip_bytes("INVITE sip:bob@127.0.0.1 SIP/2.0", body=offer), frame=1, t=0),
        msg(make_response(200, "OK", body=answer), frame=2, t=1, src=B, dst=A),
    ]


def test_codec_names_compare_case_insensitively() -> None:
    call = make_call(_exchange(_sdp("0 8"), _sdp("0", rtpmap="a=rtpmap:0 pcmu/8000\r\n")))
    assert list(RULE.check(call)) == []


def test_telephone_event_alone_is_no_match() -> None:
    offer = _sdp("0 101", rtpmap="a=rtpmap:101 telephone-event/8000\r\n")
    answer = _sdp("18 101", rtpmap="a=rtpmap:101 telephone-event/8000\r\n")
    (ann,) = RULE.check(make_call(_exchange(offer, answer)))
    assert ann.title == "No common codec: offered PCMU, answered G729"


def test_rejected_stream_port_zero() -> None:
    (ann,) = RULE.check(make_call(_exchange(_sdp("0"), _sdp("0", port=0))))
    assert (ann.severity, ann.frames) == (Severity.ERROR, (1, 2))
    assert "rejected the audio stream" in ann.cause


def test_late_offer_in_2xx_answered_in_ack() -> None:
    call = make_call(
        [
            msg(sip_bytes("INVITE sip:bob@127.0.0.1 SIP/2.0"), frame=1, t=0),
            msg(make_response(200, "OK", body=_sdp("8")), frame=2, t=1, src=B, dst=A),
            msg(
                sip_bytes(
                    "ACK sip:bob@127.0.0.1 SIP/2.0",
                    cseq="1 ACK",
                    branch="z9hG4bK-a",
                    to_tag="tt1",
                    body=_sdp("0"),
                ),
                frame=3,
                t=1.1,
            ),
        ]
    )
    (ex,) = offer_answer(call)
    assert (ex.offer.frame, ex.answer.frame, ex.initial) == (2, 3, True)
    (ann,) = RULE.check(call)
    assert ann.frames == (2, 3)


def test_415_names_the_accepted_types_and_silences_response_code() -> None:
    call = make_call(
        [
            msg(make_invite(), frame=1, t=0),
            msg(
                make_response(415, "Unsupported Media Type", extra=["Accept: application/sdp"]),
                frame=2,
                t=0.1,
                src=B,
                dst=A,
            ),
        ]
    )
    (ann,) = RULE.check(call)
    assert dict(ann.details)["accept"] == "application/sdp"
    assert ann.resolution[0].startswith("Send a body type the server accepts")
    assert list(ResponseCodeRule().check(call)) == []


def test_codec_key() -> None:
    assert codec_key("pcmu/8000/1") == "PCMU/8000"
    assert codec_key("opus/48000/2") == "OPUS/48000"


def test_a_488_to_a_refer_is_no_codec_problem() -> None:
    """A PBX refuses a transfer with 488 "Transfer impossible": response-code explains it."""
    from factories import A, B, make_call, msg, sip_bytes

    from sipsniff.annotate.rules._claims import claims

    refer = sip_bytes("REFER sip:bob@example.com SIP/2.0", cseq="2 REFER", branch="z9hG4bK-r")
    refused = sip_bytes("SIP/2.0 488 Not Acceptable Here", cseq="2 REFER", branch="z9hG4bK-r")
    call = make_call([msg(refer, frame=1), msg(refused, frame=2, t=0.01, src=B, dst=A)])
    assert list(claims(call).values()) == ["response-code"]
