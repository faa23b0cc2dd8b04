"""``nat-private-address`` and ``sdp-address-mismatch``."""

from __future__ import annotations

from collections.abc import Callable

from factories import A, B, make_call, make_response, msg, sip_bytes

from sipsniff import Analysis
from sipsniff.annotate.knowledge import Severity
from sipsniff.annotate.rules.nat import NatPrivateAddressRule, SdpAddressMismatchRule, _maybe_scoped
from sipsniff.decode.payload import Endpoint

Findings = Callable[..., list[tuple[str, str, Severity, tuple[int, ...]]]]
Analysed = Callable[[str], Analysis]
NAT = NatPrivateAddressRule()
SDP = SdpAddressMismatchRule()
PUBLIC = Endpoint("198.51.100.7", 5060)


def _sdp(addr: str) -> str:
    return (
        f"v=0\r\no=- 1 1 IN IP4 {addr}\r\ns=-\r\nc=IN IP4 {addr}\r\nt=0 0\r\n"
        "m=audio 4000 RTP/AVP 0\r\n"
    )


def test_capture_private_address_behind_nat(findings: Findings, analysed: Analysed) -> None:
    # uac_call_nat.xml writes 192.168.1.20 into Via, Contact and SDP while sending from
    # 127.0.0.1: INVITE f1, ACK f5 (Contact, Via), BYE f6 (Via)
    assert findings("call_nat.pcap", "nat-private-address") == [
        ("nat-1@127.0.0.1", "nat-private-address", Severity.WARNING, (1, 5, 6))
    ]
    ann = analysed("call_nat.pcap").calls[0].annotations[0]
    assert ann.title == "Private address 192.168.1.20 in Contact, Via, SDP behind NAT"
    assert "rport (RFC 3581)" in ann.cause
    assert dict(ann.details)["192.168.1.20"].startswith("private (RFC 1918); in Contact, Via, SDP")
    # the other call of the capture advertises 0.0.0.0: media-direction's, not NAT's
    assert findings("call_nat.pcap", "sdp-address-mismatch") == []


def test_register_200_listing_bindings_is_not_the_registrars_address() -> None:
    # sngrep's aaa.pcap: the registrar's 200 OK lists the phone's private Contact binding
    call = make_call(
        [
            msg(
                sip_bytes("REGISTER sip:198.51.100.7 SIP/2.0", cseq="1 REGISTER"),
                frame=1,
                t=0,
                src=A,
                dst=PUBLIC,
            ),
            msg(
                make_response(
                    200,
                    "OK",
                    cseq="1 REGISTER",
                    extra=["Contact: <sip:alice@192.168.1.2:5060>;expires=60"],
                ),
                frame=2,
                t=0.1,
                src=PUBLIC,
                dst=A,
            ),
        ]
    )
    assert list(NAT.check(call)) == []


def test_shared_and_link_local_and_ipv6_normalisation() -> None:
    cgn = sip_bytes(
        "OPTIONS sip:x@198.51.100.7 SIP/2.0",
        cseq="1 OPTIONS",
        vias=("SIP/2.0/UDP 100.64.3.4:5060;branch=z9hG4bK-c",),
    )
    (ann,) = NAT.check(make_call([msg(cgn, frame=1, t=0, src=PUBLIC, dst=B)]))
    assert "shared (RFC 6598 carrier-grade NAT)" in ann.cause
    same = sip_bytes(
        "OPTIONS sip:x@h SIP/2.0",
        cseq="1 OPTIONS",
        vias=("SIP/2.0/UDP [fe80:0:0:0::1]:5060;branch=z9hG4bK-6",),
    )
    v6 = Endpoint("fe80::1", 5060)
    assert list(NAT.check(make_call([msg(same, frame=1, t=0, src=v6, dst=v6)]))) == []


def test_sdp_address_mismatch_is_info() -> None:
    # the real heplify capture: a PBX at .195 puts media on its gateway at .196
    invite = sip_bytes("INVITE sip:bob@198.51.100.9 SIP/2.0", body=_sdp("198.51.100.8"))
    call = make_call([msg(invite, frame=1, t=0, src=PUBLIC, dst=B)])
    (ann,) = SDP.check(call)
    assert (ann.severity, ann.frames) == (Severity.INFO, (1,))
    assert ann.title == "SDP media address 198.51.100.8 differs from signalling source 198.51.100.7"
    assert list(NAT.check(call)) == []


def test_sdp_private_or_unspecified_is_not_a_mismatch() -> None:
    for addr in ("10.0.0.5", "0.0.0.0", "media.example.net"):
        invite = sip_bytes("INVITE sip:bob@198.51.100.9 SIP/2.0", body=_sdp(addr))
        assert list(SDP.check(make_call([msg(invite, frame=1, t=0, src=PUBLIC, dst=B)]))) == []


def test_every_ipv6_spelling_passes_the_prefilter() -> None:
    # the cheap scan must let through every form of a scoped IPv6 address the rule reads:
    # compressed, full, with an IPv4 tail, bracketed in a URI, bare in a broken Contact
    for addr, contact in (
        ("fe80::1", "<sip:a@[fe80::1]:5060>"),
        ("fd00:1:2:3:4:5:6:7", "<sip:a@fd00:1:2:3:4:5:6:7>"),
        ("fd00:1:2:3:4:5:8.8.8.8", "<sip:a@[fd00:1:2:3:4:5:8.8.8.8]>"),
        ("fe80:0:0:0:0:0:0:9", "<sip:a@[FE80:0:0:0:0:0:0:9]>"),
    ):
        data = sip_bytes("OPTIONS sip:x@h SIP/2.0", cseq="1 OPTIONS").replace(
            b"<sip:alice@127.0.0.1:5061>", contact.encode()
        )
        assert _maybe_scoped(data), addr
        (ann,) = NAT.check(make_call([msg(data, frame=1, t=0, src=PUBLIC, dst=B)]))
        assert "link-local" in ann.cause or "unique-local" in ann.cause, addr
    plain = sip_bytes("OPTIONS sip:x@h SIP/2.0", cseq="1 OPTIONS")
    assert not _maybe_scoped(plain)
