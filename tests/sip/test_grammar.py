"""Start-line and header grammar: what counts as SIP, compact forms, list splitting."""

from __future__ import annotations

import pytest

from sipsniff.sip.grammar import COMPACT_FORMS, MULTI_VALUE, RESYNC, START_LINE, split_commas


@pytest.mark.parametrize(
    ("line", "groups"),
    [
        (
            b"INVITE sip:bob@example.com SIP/2.0\r\n",
            (b"INVITE", b"sip:bob@example.com", None, None),
        ),
        (
            b"ACK sips:[2001:db8::1]:5061 SIP/2.0\n",
            (b"ACK", b"sips:[2001:db8::1]:5061", None, None),
        ),
        (b"X-CUSTOM.ext!% tel:+123 SIP/2.0\r\n", (b"X-CUSTOM.ext!%", b"tel:+123", None, None)),
        (b"SIP/2.0 200 OK\r\n", (None, None, b"200", b"OK")),
        (b"SIP/2.0 486 Busy Here\r\n", (None, None, b"486", b"Busy Here")),
        (b"SIP/2.0 183 \r\n", (None, None, b"183", b"")),
        (b"SIP/2.0 100\r\n", (None, None, b"100", None)),
        (b"SIP/2.0 699 Extension \xc3\xa9\r\n", (None, None, b"699", b"Extension \xc3\xa9")),
    ],
    ids=[
        "request",
        "ipv6-uri-lf",
        "extension-token",
        "ok",
        "reason-with-spaces",
        "empty-reason",
        "no-reason",
        "utf8-reason",
    ],
)
def test_start_lines_that_are_sip(line: bytes, groups: tuple[bytes | None, ...]) -> None:
    m = START_LINE.match(line + b"Via: x\r\n")
    assert m is not None
    assert m.groups() == groups
    assert m.end() == len(line)


@pytest.mark.parametrize(
    "line",
    [
        b"GET / HTTP/1.1\r\n",
        b"INVITE sip:bob@example.com SIP/3.0\r\n",
        b"INVITE sip:bob@example.com SIP/2.0 extra\r\n",
        b"INVITE  sip:bob@example.com SIP/2.0\r\n",
        b"INVITE sip:bob@example.com SIP/2.0",  # no line end yet
        b"SIP/2.0 2OO OK\r\n",
        b"SIP/2.0 099 Low\r\n",
        b"SIP/2.0 1000 High\r\n",
        b"\r\nINVITE sip:bob@example.com SIP/2.0\r\n",
        b"\x80\x00\x01\x02RTP",
    ],
    ids=[
        "http",
        "version-3",
        "trailing-junk",
        "double-space",
        "unterminated",
        "letter-o-code",
        "code-below-100",
        "four-digits",
        "leading-crlf",
        "rtp",
    ],
)
def test_start_lines_that_are_not_sip(line: bytes) -> None:
    assert START_LINE.match(line) is None


def test_resync_finds_the_next_start_line_only_at_a_line_start() -> None:
    buf = (
        b"ody of a lost message\r\n"
        b"X-Quote: INVITE sip:a@b SIP/2.0\r\n"
        b"BYE sip:a@b SIP/2.0\r\n"
        b"SIP/2.0 200 OK\r\n"
    )
    starts = [m.start() for m in RESYNC.finditer(buf)]
    assert [buf[s : s + 7] for s in starts] == [b"BYE sip", b"SIP/2.0"]


def test_resync_accepts_bare_lf_lines() -> None:
    m = RESYNC.search(b"junk\nOPTIONS sip:x SIP/2.0\nVia: y\n")
    assert m is not None
    assert m.start() == 5


def test_compact_forms_of_rfc_3261_and_extensions() -> None:
    rfc3261 = {
        "i": "call-id",
        "m": "contact",
        "e": "content-encoding",
        "l": "content-length",
        "c": "content-type",
        "f": "from",
        "s": "subject",
        "k": "supported",
        "t": "to",
        "v": "via",
    }
    extensions = {
        "o": "event",
        "u": "allow-events",
        "r": "refer-to",
        "b": "referred-by",
        "x": "session-expires",
        "a": "accept-contact",
        "j": "reject-contact",
        "d": "request-disposition",
        "y": "identity",
        "n": "identity-info",
    }
    assert rfc3261.items() <= COMPACT_FORMS.items()
    assert extensions.items() <= COMPACT_FORMS.items()
    assert all(len(k) == 1 and k.islower() for k in COMPACT_FORMS)


def test_list_headers_are_known_and_single_value_headers_are_not() -> None:
    assert {"via", "contact", "route", "record-route", "allow", "supported"} <= MULTI_VALUE
    # their grammar has no comma list: a comma there is part of the value
    assert MULTI_VALUE.isdisjoint(
        {"from", "to", "call-id", "cseq", "subject", "user-agent", "date"}
    )


@pytest.mark.parametrize(
    ("value", "parts"),
    [
        ("", []),
        ("  ", []),
        ("INVITE", ["INVITE"]),
        ("INVITE, ACK ,BYE", ["INVITE", "ACK", "BYE"]),
        ("a,,b,", ["a", "b"]),
        ('"Doe, John" <sip:j@x>, <sip:k@y>', ['"Doe, John" <sip:j@x>', "<sip:k@y>"]),
        ("<sip:a@x;lr,x=1>, <sip:b@y>", ["<sip:a@x;lr,x=1>", "<sip:b@y>"]),
        ('"say \\"hi, there\\"" <sip:a@x>, b', ['"say \\"hi, there\\"" <sip:a@x>', "b"]),
        ("a>, b", ["a>", "b"]),  # a stray '>' does not swallow the rest
    ],
    ids=[
        "empty",
        "blank",
        "one",
        "spaces",
        "empty-items",
        "quoted-comma",
        "bracketed-comma",
        "escaped-quote",
        "stray-gt",
    ],
)
def test_split_commas(value: str, parts: list[str]) -> None:
    assert split_commas(value) == parts
