"""``nat-private-address`` and ``sdp-address-mismatch``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from factories import A, B, make_call, make_response, msg, sip_bytes
from factories_pcap import pcap, udp_packet

from sipsniff import Analysis, analyze
from sipsniff.annotate.knowledge import Severity
from sipsniff.annotate.rules.nat import (
    NatPrivateAddressRule,
    SdpAddressMismatchRule,
    _maybe_scoped,
    crosses_realms,
)
from sipsniff.decode.payload import Endpoint

Findings = Callable[..., list[tuple[str, str, Severity, tuple[int, ...]]]]
Analysed = Callable[[str], Analysis]
NAT = NatPrivateAddressRule()
SDP = SdpAddressMismatchRule()
PUBLIC = Endpoint("198.51.100.7", 5060)


def _sdp(addr: str) -> str:
    ipv = "IP6" if ":" in addr else "IP4"
    return (
        f"v=0\r\no=- 1 1 IN {ipv} {addr}\r\ns=-\r\nc=IN {ipv} {addr}\r\nt=0 0\r\n"
        "m=audio 4000 RTP/AVP 0\r\n"
    )


Wire = tuple[bytes, Endpoint, Endpoint]
"""One SIP message as captured: its bytes, packet source, packet destination."""


def _sip(
    start: str,
    vias: Sequence[str],
    *,
    contact: str = "",
    sdp: str = "",
    cseq: str = "1 INVITE",
    call_id: str = "c-1@test",
    to_tag: str = "",
) -> bytes:
    """A message with exactly these Vias, this Contact (none when '') and SDP for ``sdp``."""
    data = sip_bytes(
        start,
        vias=vias,
        cseq=cseq,
        call_id=call_id,
        to_tag=to_tag,
        body=_sdp(sdp) if sdp else "",
    )
    line = f"Contact: <{contact}>\r\n".encode() if contact else b""
    return data.replace(b"Contact: <sip:alice@127.0.0.1:5061>\r\n", line)


def _via(hostport: str, branch: str, params: str = "") -> str:
    return f"SIP/2.0/UDP {hostport};branch=z9hG4bK-{branch}{params}"


def _analyse(tmp_path: Path, wire: Sequence[Wire]) -> Analysis:
    """The whole pipeline on a crafted raw-IP pcap of these messages, one every 10 ms."""
    path = tmp_path / "crafted.pcap"
    path.write_bytes(pcap([udp_packet(data, src, dst) for data, src, dst in wire]))
    return analyze([path])


def _nat(analysis: Analysis) -> list[tuple[str, tuple[int, ...]]]:
    return [
        (ac.call.call_id, a.frames)
        for ac in analysis.calls
        for a in ac.annotations
        if a.rule == "nat-private-address"
    ]


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


# -- realms ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "seen", "crosses"),
    [
        ("192.168.1.20", "203.0.113.5", True),  # private text from a public source
        ("192.168.1.20", "127.0.0.1", True),  # loopback stands for the NAT's outside (lab)
        ("192.168.1.20", "100.64.0.9", True),  # a home router behind carrier-grade NAT
        ("fd00::1", "2001:db8::9", True),
        ("fd00::1", "198.51.100.7", True),  # no private realm holds a public sender
        ("10.0.0.5", "192.168.1.9", False),  # RFC 1918, any blocks: one private realm
        ("10.243.17.55", "10.243.0.157", False),
        ("fd12:3456:789a:1::10", "fd12:3456:789a:1::20", False),  # ULA, one /64
        ("fe80::1", "fe80::2", False),
        ("10.0.0.5", "fd00::9", False),  # one dual-stack site: a NAT does not change family
        ("10.0.0.5", "10.0.0.5", False),
        ("::ffff:10.0.0.5", "10.0.0.5", False),
        ("203.0.113.5", "10.0.0.5", False),  # public text: nothing to reach in vain
        ("10.0.0.5", "pbx.example.com", False),  # host names are not compared
        ("10.0.0.5", "0.0.0.0", False),
    ],
)
def test_crosses_realms(text: str, seen: str, crosses: bool) -> None:
    assert crosses_realms(text, seen) is crosses


# -- networks that are private end to end: no annotation (each was flagged before) -------------
PBX = Endpoint("10.1.1.10", 5060)
PHONE_A, PHONE_B = Endpoint("10.20.0.11", 5060), Endpoint("10.20.0.12", 5060)


def test_enterprise_lan_all_in_10_8_with_a_media_server(tmp_path: Path) -> None:
    # Every host, Contact and SDP in 10.0.0.0/8: phones on 10.20/16, a PBX cluster node
    # 10.1.1.10 that writes its virtual address 10.1.1.5 in Via and Contact, and SDP that
    # points at the media server 10.30.0.5.  The old rule compared each text with the packet
    # source and flagged both calls (Contact 10.1.1.5, Via 10.1.1.5, SDP 10.30.0.5).
    a, b = "ent-a@10.20.0.11", "ent-b@10.1.1.5"
    va = _via("10.20.0.11:5060", "a1", ";rport")
    vb = _via("10.1.1.5:5060", "b1")
    wire: list[Wire] = [
        (
            _sip(
                "INVITE sip:200@10.1.1.5 SIP/2.0",
                [va],
                contact="sip:100@10.20.0.11:5060",
                sdp="10.20.0.11",
                call_id=a,
            ),
            PHONE_A,
            PBX,
        ),
        (
            _sip("SIP/2.0 100 Trying", [va.replace(";rport", ";rport=5060")], call_id=a),
            PBX,
            PHONE_A,
        ),
        (
            _sip(
                "INVITE sip:200@10.20.0.12 SIP/2.0",
                [vb],
                contact="sip:pbx@10.1.1.5:5060",
                sdp="10.30.0.5",
                call_id=b,
            ),
            PBX,
            PHONE_B,
        ),
        (
            _sip(
                "SIP/2.0 200 OK",
                [vb],
                contact="sip:200@10.20.0.12:5060",
                sdp="10.20.0.12",
                call_id=b,
                to_tag="tb",
            ),
            PHONE_B,
            PBX,
        ),
        (
            _sip(
                "ACK sip:200@10.20.0.12:5060 SIP/2.0",
                [_via("10.1.1.5:5060", "b2")],
                contact="sip:pbx@10.1.1.5:5060",
                cseq="1 ACK",
                call_id=b,
                to_tag="tb",
            ),
            PBX,
            PHONE_B,
        ),
        (
            _sip(
                "SIP/2.0 200 OK",
                [va.replace(";rport", ";rport=5060")],
                contact="sip:pbx@10.1.1.5:5060",
                sdp="10.30.0.5",
                call_id=a,
                to_tag="ta",
            ),
            PBX,
            PHONE_A,
        ),
        (
            _sip(
                "ACK sip:pbx@10.1.1.5:5060 SIP/2.0",
                [_via("10.20.0.11:5060", "a2", ";rport")],
                contact="sip:100@10.20.0.11:5060",
                cseq="1 ACK",
                call_id=a,
                to_tag="ta",
            ),
            PHONE_A,
            PBX,
        ),
    ]
    analysis = _analyse(tmp_path, wire)
    assert len(analysis.calls) == 2
    assert _nat(analysis) == []
    assert not any(n.rule == "sdp-address-mismatch" for c in analysis.calls for n in c.annotations)


def test_ipv6_unique_local_hosts_in_one_64(tmp_path: Path) -> None:
    # fd12:3456:789a:1::/64: caller ::10, callee ::20, media server ::30 in both SDPs
    net = "fd12:3456:789a:1::"
    caller, callee = Endpoint(f"{net}10", 5060), Endpoint(f"{net}20", 5060)
    via = _via(f"[{net}10]:5060", "v6")
    wire: list[Wire] = [
        (
            _sip(
                f"INVITE sip:bob@[{net}20] SIP/2.0",
                [via],
                contact=f"sip:alice@[{net}10]:5060",
                sdp=f"{net}30",
                call_id="ula-1",
            ),
            caller,
            callee,
        ),
        (
            _sip(
                "SIP/2.0 200 OK",
                [via],
                contact=f"sip:bob@[{net}20]:5060",
                sdp=f"{net}30",
                call_id="ula-1",
                to_tag="t6",
            ),
            callee,
            caller,
        ),
    ]
    assert _nat(_analyse(tmp_path, wire)) == []


def test_b2bua_and_its_phones_in_one_24(tmp_path: Path) -> None:
    # A B2BUA at .1 bridges phone .11 to phone .12 with direct media: the outbound leg's SDP
    # is the other phone's, and the B2BUA answers the caller with the callee's SDP.
    b2bua, p11, p12 = (Endpoint(f"192.168.10.{n}", 5060) for n in (1, 11, 12))
    v11, v1 = _via("192.168.10.11:5060", "l1"), _via("192.168.10.1:5060", "l2")
    wire: list[Wire] = [
        (
            _sip(
                "INVITE sip:12@192.168.10.1 SIP/2.0",
                [v11],
                contact="sip:11@192.168.10.11",
                sdp="192.168.10.11",
                call_id="leg-1",
            ),
            p11,
            b2bua,
        ),
        (
            _sip(
                "INVITE sip:12@192.168.10.12 SIP/2.0",
                [v1],
                contact="sip:b2b@192.168.10.1",
                sdp="192.168.10.11",
                call_id="leg-2",
            ),
            b2bua,
            p12,
        ),
        (
            _sip(
                "SIP/2.0 200 OK",
                [v1],
                contact="sip:12@192.168.10.12",
                sdp="192.168.10.12",
                call_id="leg-2",
                to_tag="t2",
            ),
            p12,
            b2bua,
        ),
        (
            _sip(
                "SIP/2.0 200 OK",
                [v11],
                contact="sip:b2b@192.168.10.1",
                sdp="192.168.10.12",
                call_id="leg-1",
                to_tag="t1",
            ),
            b2bua,
            p11,
        ),
    ]
    assert _nat(_analyse(tmp_path, wire)) == []


@pytest.mark.parametrize("proxy_ip", ["10.0.0.1", "198.51.100.1"])
def test_proxy_relaying_a_phones_sdp(tmp_path: Path, proxy_ip: str) -> None:
    # Phone 10.0.0.50 -> proxy -> PBX.  The relayed INVITE carries the phone's Contact and SDP
    # below the proxy's Via: they are compared with the originating hop (bottom Via 10.0.0.50),
    # not with the proxy.  With the proxy on a public address (dual-homed, the PBX outside)
    # that is the only thing that keeps it quiet: the old rule flagged both.
    phone, proxy = Endpoint("10.0.0.50", 5060), Endpoint(proxy_ip, 5060)
    pbx = Endpoint("10.0.0.2" if proxy_ip.startswith("10.") else "198.51.100.2", 5060)
    vp = _via("10.0.0.50:5060", "ph", ";rport")
    vx = _via(f"{proxy_ip}:5060", "px")
    wire: list[Wire] = [
        (
            _sip(
                "INVITE sip:300@pbx.example SIP/2.0",
                [vp],
                contact="sip:50@10.0.0.50:5060",
                sdp="10.0.0.50",
                call_id="relay-1",
            ),
            phone,
            Endpoint("10.0.0.1", 5060),
        ),
        (
            _sip(
                "INVITE sip:300@pbx.example SIP/2.0",
                [vx, vp.replace(";rport", ";rport=5060")],
                contact="sip:50@10.0.0.50:5060",
                sdp="10.0.0.50",
                call_id="relay-1",
            ),
            proxy,
            pbx,
        ),
    ]
    assert _nat(_analyse(tmp_path, wire)) == []


# The real heplify_sip_tcp_websocket.pcap, reduced: a browser (WebSocket client seen at
# 10.243.17.55) calls through OpenSIPS (10.243.0.157, public side 18.209.220.177) into
# FreeSWITCH (10.243.0.143), which calls out again through OpenSIPS to a carrier.
WS, OPENSIPS, FS = (Endpoint(ip, 5060) for ip in ("10.243.17.55", "10.243.0.157", "10.243.0.143"))
CARRIER = Endpoint("18.214.104.248", 5090)


@pytest.mark.parametrize("relay_ip", ["10.243.0.157", "18.209.220.177"])
def test_websocket_proxy_relays_the_contact_it_fixed(tmp_path: Path, relay_ip: str) -> None:
    # Frame 20 of the real capture: OpenSIPS relays the browser's INVITE with the Contact it
    # wrote after its NAT fix, 10.243.17.55:43380, equal to the bottom Via's received=, i.e.
    # to where the browser's packets come from.  The old rule compared it with OpenSIPS's
    # address and flagged it; the dialog completed (ACK and BYE reached FreeSWITCH).  Relayed
    # from OpenSIPS's public address instead, it is still no NAT evidence.
    browser = "SIP/2.0/WSS 1jon8lkj09s0.invalid;branch=z9hG4bK5699446"
    wire: list[Wire] = [
        (
            _sip(
                "INVITE sip:+12263382742@dev.example SIP/2.0",
                [browser],
                contact="sip:7keablct@1jon8lkj09s0.invalid;transport=ws;ob",
                sdp="69.17.142.250",
                call_id="kovf",
            ),
            WS,
            OPENSIPS,
        ),
        (
            _sip(
                "INVITE sip:+12263382742@dev.example SIP/2.0",
                [
                    _via(f"{relay_ip}:5060", "os1"),
                    browser.replace(";branch", ";received=10.243.17.55;branch"),
                ],
                contact="sip:7keablct@10.243.17.55:43380;transport=ws;ob",
                sdp="10.243.17.55",
                call_id="kovf",
            ),
            Endpoint(relay_ip, 5060),
            FS,
        ),
    ]
    assert _nat(_analyse(tmp_path, wire)) == []


def test_freeswitch_contact_relayed_by_the_proxy(tmp_path: Path) -> None:
    # Frames 26, 28 and 43 of the real capture: FreeSWITCH's own INVITE (Contact
    # mod_sofia@10.243.0.143, its real address, equal to the packet source), then the same
    # INVITE and its BYE as OpenSIPS relays them (the old rule flagged 28 and 43 against
    # OpenSIPS's 10.243.0.157); then the carrier answers the BYE with OpenSIPS's Via marked
    # received=18.209.220.177: OpenSIPS is behind a 1:1 cloud NAT, but only its Via is
    # private, the received= is the carrier compensating for it, and the answer came back.
    fs_via = _via("10.243.0.143", "fs1", ";rport")
    fs_seen = fs_via.replace(";rport", ";received=10.243.0.143;rport=5060")
    bye_fs = _via("10.243.0.143", "fs2", ";received=10.243.0.143;rport=5060")
    os_bye = _via("10.243.0.157:5060", "os2")
    wire: list[Wire] = [
        (
            _sip(
                "INVITE sip:999@10.243.0.157 SIP/2.0",
                [fs_via],
                contact="sip:mod_sofia@10.243.0.143:5060",
                sdp="35.175.163.49",
                call_id="926f",
            ),
            FS,
            OPENSIPS,
        ),
        (
            _sip(
                "INVITE sip:999@10.243.0.157 SIP/2.0",
                [_via("10.243.0.157:5060", "os1"), fs_seen],
                contact="sip:mod_sofia@10.243.0.143:5060",
                sdp="35.175.163.49",
                call_id="926f",
            ),
            OPENSIPS,
            Endpoint("10.243.1.36", 5060),
        ),
        (
            _sip(
                "BYE sip:+1226@206.147.76.21:5060 SIP/2.0",
                [os_bye, bye_fs],
                contact="sip:mod_sofia@10.243.0.143:5060",
                cseq="2 BYE",
                call_id="926f",
                to_tag="tc",
            ),
            OPENSIPS,
            CARRIER,
        ),
        (
            _sip(
                "SIP/2.0 200 OK",
                [os_bye.replace(";branch", ";received=18.209.220.177;branch"), bye_fs],
                cseq="2 BYE",
                call_id="926f",
                to_tag="tc",
            ),
            CARRIER,
            OPENSIPS,
        ),
    ]
    assert _nat(_analyse(tmp_path, wire)) == []


def test_received_within_one_private_realm_is_not_nat() -> None:
    # the real ERSPAN capture: 192.168.1.191 writes its Via, the server saw it from .198
    req = _sip(
        "NOTIFY sip:a@192.168.1.222 SIP/2.0",
        [_via("192.168.1.191", "n1")],
        contact="sip:192.168.1.191",
        cseq="1 NOTIFY",
    )
    resp = _sip(
        "SIP/2.0 481 Call Does Not Exist",
        [_via("192.168.1.191", "n1", ";received=192.168.1.198")],
        cseq="1 NOTIFY",
        to_tag="tn",
    )
    lan1, lan2 = Endpoint("192.168.1.198", 5060), Endpoint("192.168.1.222", 5260)
    call = make_call(
        [msg(req, frame=1, src=lan1, dst=lan2), msg(resp, frame=2, src=lan2, dst=lan1)]
    )
    assert list(NAT.check(call)) == []


def test_ipv4_media_from_a_unique_local_sender_is_one_dual_stack_site() -> None:
    invite = _sip(
        "INVITE sip:b@[fd00::20] SIP/2.0",
        [_via("[fd00::10]:5060", "ds")],
        contact="sip:a@[fd00::10]:5060",
        sdp="10.0.0.10",
    )
    call = make_call([msg(invite, src=Endpoint("fd00::10", 5060), dst=Endpoint("fd00::20", 5060))])
    assert list(NAT.check(call)) == []


# -- genuine NAT: one annotation ---------------------------------------------------------------
NAT_OUTSIDE = Endpoint("203.0.113.5", 40000)
SERVER = Endpoint("198.51.100.7", 5060)


def test_private_contact_and_sdp_from_a_public_source() -> None:
    # the phone learnt its public address for the Via (STUN) but not for Contact and SDP
    invite = _sip(
        "INVITE sip:bob@198.51.100.7 SIP/2.0",
        [_via("203.0.113.5:40000", "st")],
        contact="sip:alice@192.168.1.20:5060",
        sdp="192.168.1.20",
    )
    (ann,) = NAT.check(make_call([msg(invite, frame=3, src=NAT_OUTSIDE, dst=SERVER)]))
    assert (ann.severity, ann.frames) == (Severity.WARNING, (3,))
    assert ann.title == "Private address 192.168.1.20 in Contact, SDP behind NAT"
    assert "that came from 203.0.113.5" in ann.cause
    assert "between that device and the capture point" in ann.cause


def test_private_contact_of_a_response_from_a_public_source() -> None:
    invite = _sip(
        "INVITE sip:bob@203.0.113.9 SIP/2.0",
        [_via("198.51.100.7:5060", "r")],
        contact="sip:a@198.51.100.7",
    )
    ok = _sip(
        "SIP/2.0 200 OK",
        [_via("198.51.100.7:5060", "r")],
        contact="sip:bob@10.0.0.7",
        sdp="10.0.0.7",
        to_tag="t",
    )
    far = Endpoint("203.0.113.9", 5060)
    call = make_call(
        [msg(invite, frame=1, src=SERVER, dst=far), msg(ok, frame=2, src=far, dst=SERVER)]
    )
    (ann,) = NAT.check(call)
    assert (ann.title, ann.frames) == ("Private address 10.0.0.7 in Contact, SDP behind NAT", (2,))


def test_rport_received_mismatch_seen_on_the_lan_side() -> None:
    # sngrep's aaa.pcap: the capture is on the phone's LAN, so its packets leave from
    # 192.168.1.2 as written; only the provider's answer, received=80.230.219.70, shows the NAT
    lan, provider = Endpoint("192.168.1.2", 5060), Endpoint("212.242.33.35", 5060)
    via = _via("192.168.1.2", "reg", ";rport")
    register = _sip(
        "REGISTER sip:sip.example SIP/2.0",
        [via],
        contact="sip:voi18062@192.168.1.2:5060",
        cseq="1 REGISTER",
    )
    ok = make_response(
        200,
        "OK",
        call_id="c-1@test",
        cseq="1 REGISTER",
        vias=(_via("192.168.1.2", "reg", ";received=80.230.219.70;rport=5060"),),
    )
    call = make_call(
        [msg(register, frame=7, src=lan, dst=provider), msg(ok, frame=8, src=provider, dst=lan)]
    )
    (ann,) = NAT.check(call)
    assert (ann.severity, ann.frames) == (Severity.WARNING, (7, 8))
    assert ann.title == "Private address 192.168.1.2 in Contact behind NAT"
    assert "seen at 80.230.219.70 (the received= its peer wrote in the Via of frame 8)" in ann.cause
    assert "between that device and its peers" in ann.cause
    assert "rport (RFC 3581)" in ann.cause
    # the same exchange without the received= is a LAN talking to the Internet: nothing to say
    plain = make_response(200, "OK", call_id="c-1@test", cseq="1 REGISTER", vias=(via,))
    call = make_call(
        [msg(register, frame=7, src=lan, dst=provider), msg(plain, frame=8, src=provider, dst=lan)]
    )
    assert list(NAT.check(call)) == []


def test_relayed_request_from_a_natted_originator() -> None:
    # a public proxy relays an INVITE whose bottom Via it marked received=203.0.113.5: the
    # originator's Contact and SDP (192.168.1.20) cross the NAT the proxy saw it through
    bottom = _via("192.168.1.20:5060", "ua", ";received=203.0.113.5;rport=40000")
    invite = _sip(
        "INVITE sip:bob@198.51.100.9 SIP/2.0",
        [_via("198.51.100.7:5060", "px"), bottom],
        contact="sip:alice@192.168.1.20:5060",
        sdp="192.168.1.20",
    )
    (ann,) = NAT.check(
        make_call([msg(invite, frame=4, src=SERVER, dst=Endpoint("198.51.100.9", 5060))])
    )
    assert (ann.title, ann.frames) == (
        "Private address 192.168.1.20 in Contact, SDP behind NAT",
        (4,),
    )
    assert "203.0.113.5 (the originating hop: the bottom Via's received=)" in ann.cause
    assert "rport (RFC 3581)" in ann.cause


def test_a_challenged_request_is_left_to_the_one_resent_with_credentials() -> None:
    # sngrep's aaa.pcap registers every few minutes, each time challenged first: the 401'd
    # REGISTER stores no binding, so its Contact is never used; the resent one is reported
    # (test_rport_received_mismatch_seen_on_the_lan_side)
    lan, provider = Endpoint("192.168.1.2", 5060), Endpoint("212.242.33.35", 5060)
    register = _sip(
        "REGISTER sip:sip.example SIP/2.0",
        [_via("192.168.1.2", "c1", ";rport")],
        contact="sip:voi18062@192.168.1.2:5060",
        cseq="1 REGISTER",
    )
    challenge = make_response(
        401,
        "Unauthorized",
        call_id="c-1@test",
        cseq="1 REGISTER",
        vias=(_via("192.168.1.2", "c1", ";received=80.230.219.70;rport=5060"),),
    )
    call = make_call(
        [
            msg(register, frame=1, src=lan, dst=provider),
            msg(challenge, frame=2, src=provider, dst=lan),
        ]
    )
    assert call.transactions[0].final_status == 401
    assert list(NAT.check(call)) == []
