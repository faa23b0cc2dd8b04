"""``server-unavailable``: each 503 on its call, and the same server refusing several calls."""

from __future__ import annotations

from collections.abc import Callable

from factories import A, B, make_call, make_invite, make_response, msg

from sipsniff import Analysis
from sipsniff.annotate.knowledge import Severity
from sipsniff.annotate.rules.response_code import ResponseCodeRule
from sipsniff.annotate.rules.server_unavailable import (
    ServerUnavailableRule,
    ServerUnavailableSeries,
)
from sipsniff.decode.payload import Endpoint
from sipsniff.dialogs.call import Call

Findings = Callable[..., list[tuple[str, str, Severity, tuple[int, ...]]]]
Analysed = Callable[[str], Analysis]
ERROR = Severity.ERROR


def test_capture_single_503_with_retry_after(findings: Findings, analysed: Analysed) -> None:
    # uas_reject_503.xml with Retry-After: 30: INVITE f1, 503 f3
    assert findings("call_503.pcap") == [
        ("unavail-1@127.0.0.1", "server-unavailable", ERROR, (1, 3))
    ]
    (ann,) = analysed("call_503.pcap").calls[0].annotations
    assert ann.title == "INVITE rejected: 503 Service Unavailable (retry after 30 s)"
    assert ("retry-after", "30 s") in ann.details
    assert "wait 30 s before sending new requests" in ann.cause


def test_capture_three_calls_refused_by_one_server(findings: Findings, analysed: Analysed) -> None:
    # three INVITEs one second apart (f1, f5, f9), each refused with 503 Retry-After 120
    # (f3, f7, f11): one annotation per call, and the series on the first call
    assert findings("server_unavailable.pcap") == [
        ("overload-1@127.0.0.1", "server-unavailable", ERROR, (1, 3)),
        ("overload-1@127.0.0.1", "server-unavailable", ERROR, (3, 7, 11)),
        ("overload-2@127.0.0.1", "server-unavailable", ERROR, (5, 7)),
        ("overload-3@127.0.0.1", "server-unavailable", ERROR, (9, 11)),
    ]
    series = analysed("server_unavailable.pcap").calls[0].annotations[1]
    assert series.title == "127.0.0.1:5060 refused 3 calls with 503 in 2.0 s"
    assert (
        "2 of these requests were sent while an earlier Retry-After was still running"
        in series.cause
    )


def _refused(call_id: str, t: float, server: Endpoint = B, *extra: str) -> Call:
    return make_call(
        [
            msg(make_invite(call_id=call_id), frame=int(t * 10) + 1, t=t, dst=server),
            msg(
                make_response(503, "Service Unavailable", call_id=call_id, extra=list(extra)),
                frame=int(t * 10) + 2,
                t=t + 0.1,
                src=server,
                dst=A,
            ),
        ]
    )


def test_series_needs_two_calls_to_the_same_server() -> None:
    rule = ServerUnavailableSeries()
    rule.observe(_refused("a", 0))
    rule.observe(_refused("b", 5, Endpoint("127.0.0.9", 5060)))
    assert list(rule.finish()) == []


def test_series_without_retry_after() -> None:
    rule = ServerUnavailableSeries()
    rule.observe(_refused("a", 0))
    rule.observe(_refused("b", 5))
    ((cid, ann),) = rule.finish()
    assert (cid, ann.frames) == ("a", (2, 52))
    assert "Retry-After was still running" not in ann.cause


def test_503_without_retry_after_and_response_code_silent() -> None:
    call = _refused("a", 0)
    (ann,) = ServerUnavailableRule().check(call)
    assert ann.title == "INVITE rejected: 503 Service Unavailable"
    assert "It gave no Retry-After" in ann.cause
    assert list(ResponseCodeRule().check(call)) == []
