"""``sip-alg-rewrite``: one message seen on both sides of a box that rewrote its addresses.

Crafted: it takes a capture on both sides of a NAT router with a SIP ALG, which loopback
SIPp recordings cannot have.
"""

from __future__ import annotations

from factories import make_call, make_invite, msg

from sipsniff.annotate.knowledge import Severity
from sipsniff.annotate.rules.sip_alg import SipAlgRule, rewritten_fields
from sipsniff.decode.payload import Endpoint

LAN = Endpoint("192.168.1.20", 5060)
WAN = Endpoint("203.0.113.5", 5060)
PBX = Endpoint("198.51.100.7", 5060)
RULE = SipAlgRule()


def _inside() -> bytes:
    return make_invite(vias=("SIP/2.0/UDP 192.168.1.20:5060;branch=z9hG4bK-1",)).replace(
        b"127.0.0.1", b"192.168.1.20"
    )


def test_rewritten_copy_of_the_same_invite() -> None:
    outside = _inside().replace(b"192.168.1.20", b"203.0.113.5")
    call = make_call(
        [
            msg(_inside(), frame=1, t=0, src=LAN, dst=PBX),
            msg(outside, frame=2, t=0.001, src=WAN, dst=PBX),
        ]
    )
    (ann,) = RULE.check(call)
    assert (ann.severity, ann.frames) == (Severity.WARNING, (1, 2))
    assert (
        ann.title == "SIP ALG rewrote Contact, SDP media, Via between 192.168.1.20 and 203.0.113.5"
    )
    assert "Via 192.168.1.20 -> 203.0.113.5" in ann.cause


def test_plain_nat_leaves_the_text_alone() -> None:
    call = make_call(
        [
            msg(_inside(), frame=1, t=0, src=LAN, dst=PBX),
            msg(_inside(), frame=2, t=0.001, src=WAN, dst=PBX),
        ]
    )
    assert list(RULE.check(call)) == []


def test_a_proxy_adds_a_via_so_it_is_not_an_alg() -> None:
    forwarded = make_invite(
        vias=(
            "SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK-p",
            "SIP/2.0/UDP 192.168.1.20:5060;branch=z9hG4bK-1",
        )
    )
    call = make_call(
        [
            msg(_inside(), frame=1, t=0, src=LAN, dst=PBX),
            msg(forwarded, frame=2, t=0.001, src=PBX, dst=Endpoint("198.51.100.9", 5060)),
        ]
    )
    assert list(RULE.check(call)) == []


def test_rewritten_fields() -> None:
    a = msg(_inside())
    b = msg(_inside().replace(b"m=audio 6000", b"m=audio 41000"))
    assert rewritten_fields(a, b) == [("SDP media", "192.168.1.20:6000", "192.168.1.20:41000")]
