"""``ack-missing``: a 2xx to INVITE retransmitted with no ACK, or the ACK only after retransmissions."""

from __future__ import annotations

from collections.abc import Callable

from factories import A, B, make_call, make_invite, make_response, msg, sip_bytes

from sipsniff import Analysis
from sipsniff.annotate.knowledge import Severity
from sipsniff.annotate.rules.ack_missing import AckMissingRule
from sipsniff.sip.message import SipMessage

Findings = Callable[..., list[tuple[str, str, Severity, tuple[int, ...]]]]
Analysed = Callable[[str], Analysis]
RULE = AckMissingRule()


def test_capture_no_ack_and_teardown_after_32_s(findings: Findings, analysed: Analysed) -> None:
    # uac_no_ack.xml never ACKs; uas_ack_timeout.xml retransmits its 200 OK (f4 + f5-f13)
    # and hangs up with BYE (f14) 32 s after the first 200 OK
    assert findings("call_ack_missing.pcap") == [
        ("noack-1@127.0.0.1", "ack-missing", Severity.ERROR, tuple(range(4, 15)))
    ]
    (ann,) = analysed("call_ack_missing.pcap").calls[0].annotations
    assert ann.title == "200 OK to INVITE never acknowledged: no ACK (call torn down after 32 s)"
    assert "retransmitted it 9 times" in ann.cause
    assert (
        "The callee (127.0.0.1:5060) then sent BYE 31.5 s after the answer (frame 14)" in ann.cause
    )
    assert dict(ann.details)["2xx copies"] == "10"


def _answered(*ok_times: float, ack_at: float | None = None, contact: str = "") -> list[SipMessage]:
    msgs = [msg(make_invite(), frame=1, t=0)]
    ok = make_response(200, "OK")
    if contact:
        ok = ok.replace(b"Contact: <sip:alice@127.0.0.1:5061>", f"Contact: {contact}".encode())
    for n, t in enumerate(ok_times):
        msgs.append(msg(ok, frame=2 + n, t=t, src=B, dst=A))
    if ack_at is not None:
        msgs.append(
            msg(
                sip_bytes(
                    "ACK sip:bob@127.0.0.1 SIP/2.0",
                    cseq="1 ACK",
                    branch="z9hG4bK-ack",
                    to_tag="tt1",
                ),
                frame=50,
                t=ack_at,
            )
        )
    return msgs


def test_prompt_ack_is_silent() -> None:
    assert list(RULE.check(make_call(_answered(1.0, ack_at=1.01)))) == []
    assert list(RULE.check(make_call(_answered(1.0, 1.5, ack_at=1.6)))) == []  # one loss is noise


def test_ack_after_two_retransmissions_is_late() -> None:
    (ann,) = RULE.check(make_call(_answered(1.0, 1.5, 2.5, ack_at=2.6)))
    assert (ann.severity, ann.frames) == (Severity.WARNING, (2, 3, 4, 50))
    assert ann.title == "ACK late: 200 OK retransmitted 2 times first"


def test_ack_after_32_s_counts_as_missing() -> None:
    (ann,) = RULE.check(make_call(_answered(1.0, 1.5, ack_at=40.0)))
    assert ann.severity == Severity.ERROR
    assert 50 in ann.frames and "An ACK came only 39.0 s after the answer" in ann.cause


def test_broken_clock_alone_is_not_evidence() -> None:
    # real heplify IPv6 capture: timestamps jump years between packets, ACK "150 years late",
    # but the callee never retransmitted, so the ACK arrived in time on its own clock
    assert list(RULE.check(make_call(_answered(1.0, ack_at=4e9)))) == []


def test_answer_without_retransmission_or_bye_is_not_evidence() -> None:
    assert list(RULE.check(make_call(_answered(1.0)))) == []


def test_private_contact_in_2xx_is_named() -> None:
    (ann,) = RULE.check(make_call(_answered(1.0, 1.5, contact="<sip:bob@10.1.2.3:5060>")))
    assert "names a private (RFC 1918) address (10.1.2.3)" in ann.cause
    assert "retransmitted it 1 time over 500 ms" in ann.cause
