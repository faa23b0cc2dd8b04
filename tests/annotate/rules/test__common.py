"""Shared helpers: addresses, delays, quoting, decoded headers, response facts."""

from __future__ import annotations

import pytest
from factories import A, B, make_call, make_invite, make_response, msg

from sipsniff.annotate.rules._common import (
    address_scope,
    article,
    contact_host,
    decoded_headers,
    evidence,
    fmt_delay,
    ip_kind,
    plural,
    quote,
    response_facts,
    same_ip,
    sentences,
    top_via_host,
)


@pytest.mark.parametrize(
    ("addr", "scope"),
    [
        ("10.1.2.3", "private (RFC 1918)"),
        ("172.31.255.1", "private (RFC 1918)"),
        ("172.168.0.252", ""),  # looks private, is not (heplify's capture)
        ("192.168.1.2", "private (RFC 1918)"),
        ("100.64.0.1", "shared (RFC 6598 carrier-grade NAT)"),
        ("169.254.7.7", "link-local"),
        ("fe80::1", "link-local"),
        ("fd00::1", "unique-local (RFC 4193)"),
        ("::ffff:10.0.0.1", "private (RFC 1918)"),
        ("127.0.0.1", ""),
        ("0.0.0.0", ""),
        ("pbx.example.com", ""),
        ("", ""),
    ],
)
def test_address_scope(addr: str, scope: str) -> None:
    assert address_scope(addr) == scope


def test_ip_helpers() -> None:
    assert same_ip("fe80:0:0:0:21a:a0ff:fe07:32e0", "fe80::21a:a0ff:fe07:32e0")
    assert not same_ip("10.0.0.1", "10.0.0.2")
    assert same_ip("Host.Example", "host.example")
    assert [ip_kind(x) for x in ("0.0.0.0", "::", "127.0.0.1", "8.8.8.8", "x")] == [
        "unspecified",
        "unspecified",
        "loopback",
        "unicast",
        "",
    ]


def test_text_helpers() -> None:
    assert fmt_delay(450_000_000) == "450 ms"
    assert fmt_delay(32_247_195_000) == "32.2 s"
    assert quote("  x" * 200, 10) == "x  x  x  x…"
    assert evidence([3, 1], (1, 2)) == (1, 2, 3)
    assert (plural(1, "time"), plural(2, "time")) == ("1 time", "2 times")
    assert sentences("a", "", "b.", "c:") == "a. b. c:"


def test_likely_causes_read_as_one_sentence() -> None:
    call = make_call(
        [
            msg(make_invite(), frame=1, t=0),
            msg(make_response(483, "Too Many Hops"), frame=2, t=0.1, src=B, dst=A),
        ]
    )
    likely = response_facts(call, 1).likely
    assert likely.startswith("Likely causes: A routing loop")
    assert "; or a very long chain" in likely


def test_via_and_contact_hosts() -> None:
    m = msg(make_invite(vias=("SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bK-x",)))
    assert top_via_host(m) == "2001:db8::1"
    assert contact_host(m) == "127.0.0.1"


def test_decoded_headers() -> None:
    m = msg(
        make_response(
            503,
            "Service Unavailable",
            extra=[
                "Reason: Q.850;cause=34",
                'Warning: 399 sbc "trunk full", 304 x "no video"',
                "Retry-After: 120 (maintenance)",
            ],
        )
    )
    details, said, steps = decoded_headers(m)
    # labels stay unique: they become JSON object keys
    assert [k for k, _ in details] == ["reason", "warning", "warning 2", "retry-after"]
    assert details[-1] == ("retry-after", "120 s")
    assert said[0].startswith(
        "Its Reason header gives Q.850 cause 34: No circuit/channel available"
    )
    assert steps  # the registered 304 adds its resolution


def test_response_facts() -> None:
    call = make_call(
        [
            msg(make_invite(), frame=1, t=0),
            msg(make_response(480, "Gone fishing"), frame=2, t=1.5, src=B, dst=A),
        ]
    )
    f = response_facts(call, 1)
    assert (f.method, f.label, f.frames) == ("INVITE", "480 Temporarily Unavailable", (1, 2))
    assert f.opening == (
        "127.0.0.1:5060 answered the INVITE from 127.0.0.1:5061 (frame 1) with 480 Temporarily "
        'Unavailable (its reason phrase: "Gone fishing") in frame 2, 1.5 s after the request.'
    )
    assert f.likely.startswith("Likely causes: ")


def test_article_goes_by_sound() -> None:
    assert [article(m) for m in ("INVITE", "ACK", "OPTIONS", "UPDATE", "BYE", "REGISTER")] == [
        "an INVITE",
        "an ACK",
        "an OPTIONS",
        "an UPDATE",
        "a BYE",
        "a REGISTER",
    ]
