"""Leg correlation for --merge: each documented rule links legs, and only those rules do."""

from __future__ import annotations

from collections.abc import Sequence

from factories import make_call, make_response, msg, sip_bytes
from helpers import capture

from sipsniff.analysis import AnalyzedCall
from sipsniff.decode.payload import Endpoint
from sipsniff.pipeline import analyze
from sipsniff.render.correlate import USER_WINDOW_S, correlate

CALLER = Endpoint("10.0.0.1", 5060)
B2BUA = Endpoint("10.0.0.2", 5060)
CALLEE = Endpoint("10.0.0.3", 5060)
OTHER = Endpoint("10.0.0.9", 5060)

_port = iter(range(20000, 30000, 2))


def sdp(addr: str = "10.0.0.1", port: int | None = None) -> str:
    p = next(_port) if port is None else port
    return (
        f"v=0\r\no=- 1 1 IN IP4 {addr}\r\ns=-\r\nc=IN IP4 {addr}\r\nt=0 0\r\n"
        f"m=audio {p} RTP/AVP 0\r\na=sendrecv\r\n"
    )


def leg(
    call_id: str,
    src: Endpoint,
    dst: Endpoint,
    t: float,
    *,
    tag: str = "",
    extra: Sequence[str] = (),
    body: str | None = None,
    to_user: str = "bob",
    method: str = "INVITE",
    duration: float = 1.0,
) -> AnalyzedCall:
    """A two-message exchange (request, 200 OK) between src and dst starting at t."""
    tag = tag or f"tag-{call_id}"
    data = sip_bytes(
        f"{method} sip:{to_user}@{dst.ip} SIP/2.0",
        call_id=call_id,
        cseq=f"1 {method}",
        from_tag=tag,
        extra=extra,
        body=(sdp() if body is None else body) if method == "INVITE" else "",
    ).replace(b"sip:bob@", f"sip:{to_user}@".encode())
    req = msg(data, frame=1, t=t, src=src, dst=dst)
    ok = msg(
        make_response(200, "OK", call_id=call_id, from_tag=tag, cseq=f"1 {method}"),
        frame=2,
        t=t + duration,
        src=dst,
        dst=src,
    )
    return AnalyzedCall(call=make_call([req, ok]), annotations=())


def ids(groups: list[list[AnalyzedCall]]) -> list[list[str]]:
    return [[ac.call.call_id for ac in g] for g in groups]


def test_empty() -> None:
    assert correlate([]) == []


def test_unrelated_calls_stay_apart_in_start_order() -> None:
    b = leg("b", OTHER, CALLEE, 5.0, to_user="carol")
    a = leg("a", CALLER, B2BUA, 0.0)
    assert ids(correlate([b, a])) == [["a"], ["b"]]


def test_reference_header_names_the_other_leg() -> None:
    a = leg("leg-a", CALLER, B2BUA, 0.0)
    for header in ("X-CID", "X-Call-ID", "x-cid"):
        b = leg("leg-b", B2BUA, CALLEE, 30.0, to_user="carol", extra=[f"{header}: leg-a"])
        assert ids(correlate([a, b])) == [["leg-a", "leg-b"]], header


def test_reference_to_an_unknown_call_links_nothing() -> None:
    a = leg("leg-a", CALLER, B2BUA, 0.0)
    b = leg("leg-b", B2BUA, CALLEE, 30.0, to_user="carol", extra=["X-CID: elsewhere"])
    assert ids(correlate([a, b])) == [["leg-a"], ["leg-b"]]


def test_shared_icid_value() -> None:
    pcv = "P-Charging-Vector: icid-value=AyretyU0dm+6O2IrT5tAFrbHLso=023551024;orig-ioi=home1.net"
    a = leg("leg-a", CALLER, B2BUA, 0.0, extra=[pcv])
    b = leg("leg-b", OTHER, CALLEE, 40.0, to_user="carol", extra=[pcv.replace("home1", "x")])
    c = leg(
        "leg-c", OTHER, CALLEE, 50.0, to_user="dave", extra=["P-Charging-Vector: icid-value=zz"]
    )
    assert ids(correlate([a, b, c])) == [["leg-a", "leg-b"], ["leg-c"]]


def test_session_id_uuids_link_but_the_null_uuid_does_not() -> None:
    u1, u2, null = "ab30317f1a784dc48ff824d0d3715d86", "47755a9de7794ba387653f2099600ef2", "0" * 32
    a = leg("leg-a", CALLER, B2BUA, 0.0, extra=[f"Session-ID: {u1};remote={null}"])
    b = leg("leg-b", OTHER, CALLEE, 9.0, to_user="c", extra=[f"Session-ID: {u2};remote={u1}"])
    c = leg("leg-c", OTHER, CALLEE, 20.0, to_user="d", extra=[f"Session-ID: {null}"])
    d = leg("leg-d", OTHER, CALLEE, 21.0, to_user="e", extra=[f"Session-ID: {null}"])
    assert ids(correlate([a, b, c, d])) == [["leg-a", "leg-b"], ["leg-c"], ["leg-d"]]


def test_same_from_tag() -> None:
    a = leg("leg-a", CALLER, B2BUA, 0.0, tag="shared-tag")
    b = leg("leg-b", OTHER, CALLEE, 60.0, tag="shared-tag", to_user="carol")
    assert ids(correlate([a, b])) == [["leg-a", "leg-b"]]


def test_same_users_relayed_at_once() -> None:
    a = leg("leg-a", CALLER, B2BUA, 0.0)
    b = leg("leg-b", B2BUA, CALLEE, 0.05)
    assert ids(correlate([b, a])) == [["leg-a", "leg-b"]]


def test_same_users_but_not_relayed_stay_apart() -> None:
    """Consecutive calls of one caller (a test script) are not legs of one call."""
    a = leg("call-1", CALLER, CALLEE, 0.0)
    b = leg("call-2", CALLER, CALLEE, 0.5)
    assert ids(correlate([a, b])) == [["call-1"], ["call-2"]]


def test_same_users_relayed_too_late_stay_apart() -> None:
    a = leg("leg-a", CALLER, B2BUA, 0.0, duration=20.0)
    b = leg("leg-b", B2BUA, CALLEE, USER_WINDOW_S + 1.0)
    assert ids(correlate([a, b])) == [["leg-a"], ["leg-b"]]


def test_shared_media_address_relayed_and_overlapping() -> None:
    body = sdp("10.0.0.1", 4000)
    a = leg("leg-a", CALLER, B2BUA, 0.0, body=body, duration=30.0)
    b = leg("leg-b", B2BUA, CALLEE, 10.0, body=body, to_user="carol")
    assert ids(correlate([a, b])) == [["leg-a", "leg-b"]]


def test_shared_media_address_without_overlap_or_relay_stays_apart() -> None:
    body = sdp("10.0.0.1", 4000)
    a = leg("leg-a", CALLER, B2BUA, 0.0, body=body)
    late = leg("leg-b", B2BUA, CALLEE, 10.0, body=body, to_user="carol")
    assert ids(correlate([a, late])) == [["leg-a"], ["leg-b"]]
    a_long = leg("leg-a", CALLER, B2BUA, 0.0, body=body, duration=30.0)
    elsewhere = leg("leg-c", OTHER, CALLEE, 10.0, body=body, to_user="carol")
    assert ids(correlate([a_long, elsewhere])) == [["leg-a"], ["leg-c"]]


def test_unspecified_media_addresses_never_link() -> None:
    for body in (sdp("0.0.0.0", 4000), sdp("10.0.0.1", 0)):
        a = leg("leg-a", CALLER, B2BUA, 0.0, body=body, duration=30.0)
        b = leg("leg-b", B2BUA, CALLEE, 10.0, body=body, to_user="carol")
        assert ids(correlate([a, b])) == [["leg-a"], ["leg-b"]]


def test_calls_of_different_kinds_never_link() -> None:
    a = leg("reg", CALLER, B2BUA, 0.0, tag="t", method="REGISTER")
    b = leg("inv", CALLER, B2BUA, 1.0, tag="t")
    assert ids(correlate([a, b])) == [["reg"], ["inv"]]


def test_links_are_transitive() -> None:
    a = leg("leg-a", CALLER, B2BUA, 0.0, tag="t1")
    b = leg("leg-b", OTHER, CALLEE, 1.0, tag="t1", to_user="carol")
    c = leg("leg-c", CALLEE, OTHER, 2.0, to_user="dave", extra=["X-CID: leg-b"])
    d = leg("leg-d", OTHER, OTHER, 3.0, to_user="erin")
    assert ids(correlate([d, c, b, a])) == [["leg-a", "leg-b", "leg-c"], ["leg-d"]]


def test_bundled_captures_have_no_false_merges() -> None:
    """Sequential SIPp calls share users, hosts and codecs, but are separate calls."""
    for name in ("server_unavailable.pcap", "call_codec_mismatch.pcap", "demo.pcap"):
        calls = analyze([capture(name)]).calls
        groups = correlate(calls)
        assert len(groups) == len(calls), name
        assert sorted(ac.call.call_id for g in groups for ac in g) == sorted(
            ac.call.call_id for ac in calls
        )
