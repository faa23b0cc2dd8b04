"""Headers: order, compact forms, case, multi-values, folding; name-addr and URI helpers."""

from __future__ import annotations

import pytest

from sipsniff.sip.headers import Headers, NameAddr, param, parse_name_addr, uri_host, uri_user


def headers(*lines: str, sep: str = "\r\n") -> Headers:
    raw = ("INVITE sip:x SIP/2.0" + sep + sep.join(lines) + sep + sep).encode()
    start = raw.index(sep.encode()) + len(sep)
    return Headers(raw, start, len(raw) - 2 * len(sep))


def test_items_keep_wire_order_with_lower_case_full_names() -> None:
    h = headers("Via: a", "v: b", "From: <sip:a@x>", "CALL-ID: c1", "X-Custom: Value")
    assert h.items == (
        ("via", "a"),
        ("via", "b"),
        ("from", "<sip:a@x>"),
        ("call-id", "c1"),
        ("x-custom", "Value"),
    )
    assert len(h) == 5
    assert h.problems == ()


@pytest.mark.parametrize(
    ("compact", "full"),
    [
        ("i", "Call-ID"),
        ("f", "From"),
        ("t", "To"),
        ("v", "Via"),
        ("m", "Contact"),
        ("l", "Content-Length"),
        ("c", "Content-Type"),
        ("k", "Supported"),
        ("s", "Subject"),
        ("e", "Content-Encoding"),
        ("o", "Event"),
        ("u", "Allow-Events"),
        ("r", "Refer-To"),
        ("b", "Referred-By"),
        ("x", "Session-Expires"),
    ],
)
def test_compact_and_full_names_are_the_same_header(compact: str, full: str) -> None:
    h = headers(f"{compact.upper()}: value-1")
    for name in (compact, compact.upper(), full, full.upper(), full.lower()):
        assert h.get(name) == "value-1"
        assert name in h
    assert headers(f"{full}: value-2").get(compact) == "value-2"


def test_get_returns_the_first_value_and_a_default_when_absent() -> None:
    h = headers("Subject: one", "Subject: two")
    assert h.get("subject") == "one"
    assert h.get("x-missing") is None
    assert h.get("x-missing", "dflt") == "dflt"
    assert "x-missing" not in h
    assert 42 not in h


def test_get_all_splits_list_headers_across_lines_and_commas() -> None:
    h = headers(
        "Via: SIP/2.0/UDP a;branch=1, SIP/2.0/UDP b;branch=2",
        "v: SIP/2.0/TCP c;branch=3",
        'Contact: "Doe, J" <sip:j@x>, <sip:k@y;lr,x>',
        "Allow: INVITE,ACK , BYE",
    )
    assert h.get_all("via") == [
        "SIP/2.0/UDP a;branch=1",
        "SIP/2.0/UDP b;branch=2",
        "SIP/2.0/TCP c;branch=3",
    ]
    assert h.get_all("m") == ['"Doe, J" <sip:j@x>', "<sip:k@y;lr,x>"]
    assert h.get_all("ALLOW") == ["INVITE", "ACK", "BYE"]


def test_get_all_does_not_split_single_value_headers() -> None:
    h = headers('From: "Doe, John" <sip:j@x>;tag=1', "Subject: hello, world", "Subject: again")
    assert h.get_all("from") == ['"Doe, John" <sip:j@x>;tag=1']
    assert h.get_all("s") == ["hello, world", "again"]
    assert h.get_all("nothing") == []


def test_folded_lines_are_joined_with_one_space() -> None:
    """RFC 3261 7.3.1: a line starting with SP or HTAB continues the previous header."""
    h = headers(
        "Subject: I know you're there,", "   pick up the phone", "\tand talk to me!", "To: b"
    )
    assert h.get("subject") == "I know you're there, pick up the phone and talk to me!"
    assert h.get("to") == "b"
    assert h.problems == ()


@pytest.mark.parametrize("sep", ["\r\n", "\n"], ids=["crlf", "lf"])
def test_line_ends(sep: str) -> None:
    h = headers("To: b", "Call-ID: c", sep=sep)
    assert (h.get("to"), h.get("call-id")) == ("b", "c")


def test_whitespace_around_names_and_values_is_not_significant() -> None:
    h = headers("Call-ID   :   c1   ", "CSeq:1 INVITE")
    assert (h.get("call-id"), h.get("cseq")) == ("c1", "1 INVITE")


def test_lines_that_are_not_headers_are_listed_as_problems() -> None:
    h = headers("To: b", "this line has no colon", "Call-ID: c")
    assert h.items == (("to", "b"), ("call-id", "c"))
    assert h.problems == ("header #2: no colon in 'this line has no colon'",)


def test_continuation_with_nothing_before_it_is_a_problem() -> None:
    h = headers(" orphan continuation", "To: b")
    assert h.get("to") == "b"
    assert h.problems == ("header #1: continuation line with no header before it",)


def test_invalid_utf8_does_not_raise() -> None:
    raw = b"X-Bin: \xff\xfe\r\nTo: b\r\n"
    h = Headers(raw, 0, len(raw))
    assert h.get("to") == "b"
    assert h.get("x-bin") == "\ufffd\ufffd"


def test_from_items() -> None:
    h = Headers.from_items((("via", "a"), ("to", "b"), ("via", "c")))
    assert h.get("v") == "a"
    assert h.get_all("via") == ["a", "c"]
    assert repr(h) == "Headers(3 headers)"


# -- name-addr and URIs --------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            '"Alice Smith" <sip:alice@example.com>;tag=1928301774',
            NameAddr(
                display="Alice Smith", uri="sip:alice@example.com", params={"tag": "1928301774"}
            ),
        ),
        (
            "Bob <sips:bob@[2001:db8::1]:5061;transport=tls>;tag=a;expires=60",
            NameAddr(
                display="Bob",
                uri="sips:bob@[2001:db8::1]:5061;transport=tls",
                params={"tag": "a", "expires": "60"},
            ),
        ),
        (
            "sip:carol@example.com;tag=xyz",
            NameAddr(display="", uri="sip:carol@example.com", params={"tag": "xyz"}),
        ),
        ("<tel:+15551234567>", NameAddr(display="", uri="tel:+15551234567", params={})),
        ("<sip:unterminated@x", NameAddr(display="", uri="sip:unterminated@x", params={})),
        ("", NameAddr(display="", uri="", params={})),
        (
            '"" <sip:x@y>;TAG = "q" ;lr',
            NameAddr(display="", uri="sip:x@y", params={"tag": "q", "lr": ""}),
        ),
    ],
    ids=["quoted", "token-display-ipv6", "addr-spec", "tel", "unterminated", "empty", "odd-params"],
)
def test_parse_name_addr(value: str, expected: NameAddr) -> None:
    assert parse_name_addr(value) == expected


def test_whitespace_before_the_first_semicolon_is_not_a_parameter() -> None:
    """Regression: SWS before ';' (RFC 3261 25.1) made a parameter with an empty name."""
    assert parse_name_addr("<sip:x@y> ;tag=q").params == {"tag": "q"}


def test_name_addr_user_and_tag() -> None:
    na = parse_name_addr("<sip:alice;ext=1@example.com:5060>;tag=t1")
    assert (na.user, na.tag) == ("alice", "t1")
    assert parse_name_addr("<sip:example.com>").tag == ""


@pytest.mark.parametrize(
    ("uri", "user", "host"),
    [
        ("sip:alice@example.com", "alice", "example.com"),
        ("sips:bob@10.0.0.1:5061;transport=tls", "bob", "10.0.0.1:5061"),
        ("sip:alice;phone-context=x@h", "alice", "h"),
        ("sip:example.com;lr", "", "example.com"),
        ("tel:+15551234567;phone-context=+1", "+15551234567", "+15551234567"),
        ("sip:a@h?subject=x", "a", "h"),
        ("no-scheme", "", ""),
    ],
)
def test_uri_user_and_host(uri: str, user: str, host: str) -> None:
    assert uri_user(uri) == user
    if uri.startswith("sip"):
        assert uri_host(uri) == host


@pytest.mark.parametrize(
    ("value", "name", "expected"),
    [
        ("SIP/2.0/UDP h;branch=z9hG4bK1;rport", "branch", "z9hG4bK1"),
        ("SIP/2.0/UDP h ; BRANCH = z9 ;received=1.2.3.4", "branch", "z9"),
        ("<sip:a@b>;tag=x", "tag", "x"),
        ("<sip:a@b;tag=inside>", "tag", "inside"),
        ("SIP/2.0/UDP h;rport", "branch", ""),
    ],
)
def test_param(value: str, name: str, expected: str) -> None:
    assert param(value, name) == expected
