"""parse_message: start line, the headers the dialog layer needs, body by Content-Length, problems."""

from __future__ import annotations

import pytest
from factories import SDP_OFFER, make_invite, make_response, sip_bytes

from sipsniff.decode.payload import Endpoint, Transport
from sipsniff.diagnostics import DecodeError
from sipsniff.sip.message import SipMessage, parse_datagram, parse_message

SRC = Endpoint("2001:db8::1", 5062)
DST = Endpoint("198.51.100.7", 5080)
TS = 1_700_000_000_123_456_789


def parse(data: bytes, transport: Transport = Transport.UDP) -> SipMessage:
    return parse_message(data, frame=42, ts_ns=TS, src=SRC, dst=DST, transport=transport)


def test_request_fields() -> None:
    m = parse(make_invite(call_id="abc@host", cseq="314 INVITE", branch="z9hG4bK-x", from_tag="ft"))
    assert (m.frame, m.ts_ns, m.src, m.dst, m.transport) == (42, TS, SRC, DST, "UDP")
    assert (m.method, m.status, m.reason, m.uri) == ("INVITE", 0, "", "sip:bob@127.0.0.1")
    assert (m.call_id, m.cseq_num, m.cseq_method) == ("abc@host", 314, "INVITE")
    assert (m.branch, m.from_tag, m.to_tag) == ("z9hG4bK-x", "ft", "")
    assert m.is_request
    assert m.label == "INVITE"
    assert m.problems == ()
    assert m.time == pytest.approx(1_700_000_000.123456789)


def test_built_without_the_namedtuple_constructor_is_a_whole_sip_message() -> None:
    # the parser builds SipMessage with tuple.__new__ (every field given): it must be
    # the same record the generated constructor makes, defaults included
    m = parse(make_invite())
    assert type(m) is SipMessage
    assert len(m) == len(SipMessage._fields)
    assert m.segments == () and m.frames == (42,)
    assert SipMessage(*m[:-1]) == m
    assert m._replace(segments=(40, 42)).frames == (40, 42)


def test_response_fields() -> None:
    m = parse(make_response(486, "Busy Here", cseq="2 INVITE", to_tag="tt"), Transport.TCP)
    assert (m.method, m.status, m.reason, m.uri, m.transport) == ("", 486, "Busy Here", "", "TCP")
    assert (m.cseq_num, m.cseq_method, m.to_tag) == (2, "INVITE", "tt")
    assert not m.is_request
    assert m.label == "486 Busy Here"


def test_response_without_reason_phrase() -> None:
    assert parse(sip_bytes("SIP/2.0 100")).label == "100"


def test_name_addr_and_user_helpers() -> None:
    m = parse(make_invite(extra=["User-Agent: Phone/1.0"]))
    assert (m.from_addr.display, m.from_addr.user, m.from_addr.tag) == ("Alice", "alice", "ft1")
    assert (m.to_addr.uri, m.to_addr.tag) == ("sip:bob@127.0.0.1", "")
    assert (m.request_user, m.user_agent) == ("bob", "Phone/1.0")
    assert parse(make_response(200, "OK", extra=["Server: PBX/2"])).user_agent == "PBX/2"


def test_compact_headers_fill_the_same_fields() -> None:
    data = (
        b"MESSAGE sip:b@x SIP/2.0\r\n"
        b"v: SIP/2.0/UDP h;branch=z9hG4bK-c\r\n"
        b"f: <sip:a@x>;tag=fa\r\n"
        b"t: <sip:b@x>;tag=tb\r\n"
        b"i: compact@x\r\n"
        b"CSeq: 7 MESSAGE\r\n"
        b"c: text/plain\r\n"
        b"l: 5\r\n\r\nhello"
    )
    m = parse(data)
    assert (m.call_id, m.cseq_num, m.branch, m.from_tag, m.to_tag) == (
        "compact@x",
        7,
        "z9hG4bK-c",
        "fa",
        "tb",
    )
    assert (m.body, m.sdp, m.problems) == (b"hello", None, ())


def test_header_names_are_case_insensitive() -> None:
    data = make_invite(call_id="case@x").replace(b"Call-ID", b"CALL-id").replace(b"CSeq", b"cseq")
    data = data.replace(b"Via:", b"VIA:").replace(b"From:", b"fRoM:").replace(b"To:", b"TO:")
    m = parse(data)
    assert (m.call_id, m.cseq_num, m.branch, m.from_tag, m.problems) == (
        "case@x",
        1,
        "z9hG4bK-1",
        "ft1",
        (),
    )


def test_folded_headers_are_joined() -> None:
    data = (
        b"INVITE sip:b@x SIP/2.0\r\n"
        b"Via: SIP/2.0/UDP h\r\n ;branch=z9hG4bK-fold\r\n"
        b"From: <sip:a@x>\r\n\t;tag=ff\r\n"
        b"To: <sip:b@x>\r\n"
        b"Call-ID:\r\n folded@x\r\n"
        b"CSeq: 1\r\n INVITE\r\n"
        b"Subject: one,\r\n  two\r\n"
        b"Content-Length: 0\r\n\r\n"
    )
    m = parse(data)
    assert (m.call_id, m.cseq_num, m.cseq_method) == ("folded@x", 1, "INVITE")
    assert (m.branch, m.from_tag) == ("z9hG4bK-fold", "ff")
    assert m.headers.get("subject") == "one, two"
    assert m.problems == ()


def test_multi_valued_via_gives_the_top_branch() -> None:
    data = sip_bytes(
        "INVITE sip:b@x SIP/2.0",
        vias=[
            "SIP/2.0/UDP p1;branch=z9hG4bK-top, SIP/2.0/UDP p2;branch=z9hG4bK-2",
            "SIP/2.0/UDP ua;branch=z9hG4bK-3",
        ],
    )
    m = parse(data)
    assert m.branch == "z9hG4bK-top"
    assert len(m.headers.get_all("v")) == 3


def test_bare_lf_line_ends() -> None:
    lf_body = SDP_OFFER.replace("\r\n", "\n").encode()
    data = (
        make_invite().replace(b"\r\n", b"\n").replace(b"Length: 140", b"Length: %d" % len(lf_body))
    )
    m = parse(data)
    assert (m.method, m.call_id, m.cseq_num, m.problems) == ("INVITE", "call-1@test", 1, ())
    assert m.body == lf_body
    assert m.sdp is not None


# -- body ----------------------------------------------------------------------------
def test_sdp_body_is_parsed_when_the_content_type_says_so() -> None:
    m = parse(make_invite())
    assert m.body == SDP_OFFER.encode()
    assert m.sdp is not None
    assert m.sdp.media[0].port == 6000


def test_other_bodies_are_not_parsed_as_sdp() -> None:
    m = parse(
        sip_bytes("MESSAGE sip:b SIP/2.0", body="v=0 is not sdp here", content_type="text/plain")
    )
    assert (m.body, m.sdp) == (b"v=0 is not sdp here", None)


def test_body_without_content_type_that_looks_like_sdp_is_parsed() -> None:
    data = make_invite().replace(b"Content-Type: application/sdp\r\n", b"")
    assert parse(data).sdp is not None


def test_body_runs_to_the_end_of_a_datagram_without_content_length() -> None:
    data = sip_bytes("MESSAGE sip:b SIP/2.0", body="hello", content_type="text/plain")
    data = data.replace(b"Content-Length: 5\r\n", b"")
    m = parse(data)
    assert (m.body, m.problems) == (b"hello", ())


def test_content_length_shorter_than_the_data_ends_the_message() -> None:
    data = sip_bytes("MESSAGE sip:b SIP/2.0", body="hello", content_type="text/plain")
    m, end = parse_datagram(data + b"JUNK", 1, 0, SRC, DST, "UDP")
    assert (m.body, m.raw, end, m.problems) == (b"hello", data, len(data), ())


def test_content_length_longer_than_the_data_is_a_problem() -> None:
    data = sip_bytes("MESSAGE sip:b SIP/2.0", body="hello", content_type="text/plain")
    m = parse(data.replace(b"Content-Length: 5", b"Content-Length: 50"))
    assert m.body == b"hello"
    assert m.problems == ("Content-Length 50 but only 5 body bytes",)


def test_bad_content_length_is_a_problem() -> None:
    m = parse(
        sip_bytes("OPTIONS sip:b SIP/2.0").replace(b"Content-Length: 0", b"Content-Length: many")
    )
    assert m.problems == ("bad Content-Length 'many'",)


def test_negative_content_length_is_a_problem() -> None:
    """Regression: a negative Content-Length was accepted silently."""
    data = sip_bytes("MESSAGE sip:b SIP/2.0", body="hello", content_type="text/plain")
    m = parse(data.replace(b"Content-Length: 5", b"Content-Length: -5"))
    assert (m.body, m.problems) == (b"hello", ("negative Content-Length -5",))


# -- problems: the message is kept, what is wrong is listed ---------------------------------
def test_missing_mandatory_headers_are_listed() -> None:
    m = parse(b"OPTIONS sip:b SIP/2.0\r\nCall-ID: only\r\n\r\n")
    assert m.problems == (
        "missing cseq header",
        "missing from header",
        "missing to header",
        "missing via header",
    )
    assert (m.call_id, m.cseq_num, m.branch) == ("only", 0, "")


def test_start_line_alone_is_a_message_with_problems() -> None:
    for data in (b"OPTIONS sip:b SIP/2.0\r\n", b"OPTIONS sip:b SIP/2.0\r\n\r\n"):
        m = parse(data)
        assert m.method == "OPTIONS"
        assert len(m.problems) == 5


def test_bad_cseq_is_a_problem() -> None:
    m = parse(make_invite(cseq="one INVITE"))
    assert (m.cseq_num, m.problems) == (0, ("bad CSeq 'one INVITE'",))


def test_cseq_separated_by_a_tab() -> None:
    """Regression: CSeq = 1*DIGIT LWS Method, and LWS includes HTAB; a tab gave CSeq 0."""
    m = parse(make_invite(cseq="1\tINVITE"))
    assert (m.cseq_num, m.cseq_method, m.problems) == (1, "INVITE", ())


def test_garbage_header_lines_are_problems_and_the_rest_is_kept() -> None:
    data = make_invite().replace(
        b"Max-Forwards: 70\r\n", b"Max-Forwards: 70\r\n\x01\x02 garbage\r\n"
    )
    m = parse(data)
    assert m.call_id == "call-1@test"
    assert m.problems == ("header #7: no colon in '\\x01\\x02 garbage'",)


def test_binary_and_invalid_utf8_do_not_raise() -> None:
    data = make_invite(call_id="\u00e9t\u00e9").replace(b"Alice", b"\xff\xfe\x00")
    m = parse(data)
    assert m.call_id == "\u00e9t\u00e9"
    assert m.from_addr.display == "\ufffd\ufffd\x00"


@pytest.mark.parametrize(
    "data",
    [b"", b"\r\n", b"HTTP/1.1 200 OK\r\n\r\n", b"INVITE sip:b SIP/3.0\r\n\r\n", b"\x80\x00junk"],
    ids=["empty", "crlf", "http", "sip-3.0", "binary"],
)
def test_bad_start_line_raises_decode_error_with_the_line(data: bytes) -> None:
    with pytest.raises(DecodeError, match=r"^bad start line: b") as info:
        parse(data)
    assert repr(data[:60].split(b"\n", 1)[0]) in str(info.value)


def test_branch_comes_from_the_top_via_value_only() -> None:
    """Regression: with no branch on the top Via value (an RFC 2543 hop), the branch of the
    next value on the same line was taken."""
    m = parse(
        sip_bytes("INVITE sip:b SIP/2.0", vias=["SIP/2.0/UDP a, SIP/2.0/UDP b;branch=z9hG4bK-2"])
    )
    assert m.branch == ""


def test_tag_is_a_header_parameter_not_a_uri_parameter() -> None:
    """Regression: a ';tag=' URI parameter inside <...> won over the header's own tag."""
    data = make_invite().replace(
        b"<sip:alice@127.0.0.1>;tag=ft1", b"<sip:alice@127.0.0.1;tag=u>;tag=h"
    )
    assert parse(data).from_tag == "h"


def test_bare_lf_headers_with_a_crlf_body() -> None:
    """Regression: CRLF CRLF was searched before LF LF, so bare-LF headers followed by a
    multipart body were cut inside the body."""
    body = b"--b\r\n\r\npart\r\n--b--\r\n"
    data = (
        b"MESSAGE sip:b SIP/2.0\nVia: SIP/2.0/UDP h;branch=z\nFrom: <sip:a>;tag=1\n"
        b"To: <sip:b>\nCall-ID: lf\nCSeq: 1 MESSAGE\nContent-Type: multipart/mixed;boundary=b\n"
        b"Content-Length: %d\n\n" % len(body)
    ) + body
    m = parse(data)
    assert (m.body, m.problems) == (body, ())
