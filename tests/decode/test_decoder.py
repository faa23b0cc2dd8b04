"""Decoder: every encapsulation down to UDP/TCP, fragments and tunnels, damage reported once."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from factories_pcap import (
    C4,
    C6,
    ETH_ARP,
    ETH_IPV6,
    PROTO_IPIP,
    PROTO_IPV6,
    PROTO_TCP,
    PROTO_UDP,
    S4,
    S6,
    eth,
    frame,
    ipv4,
    ipv4_fragments,
    ipv6,
    ipv6_ext,
    ipv6_fragments,
    loopback,
    sll,
    sll2,
    tcp,
    udp,
)
from helpers import CAPTURES, real_captures
from hypothesis import example, given, settings
from hypothesis import strategies as st

from sipsniff.capture.frame import Frame, LinkType
from sipsniff.capture.sources import read_frames
from sipsniff.decode import decoder as decoder_module
from sipsniff.decode.decoder import Decoder
from sipsniff.decode.payload import Endpoint, Payload, Transport
from sipsniff.diagnostics import Diagnostic, Stage, Trigger

DATA = b"OPTIONS sip:x SIP/2.0\r\n\r\n"
U4 = ipv4(udp(DATA))
U6 = ipv6(udp(DATA), nxt=PROTO_UDP)
T_NS = 1_700_000_000_123_456_789


def decode(*frames: Frame) -> tuple[list[Payload], list[Diagnostic], Decoder]:
    diags: list[Diagnostic] = []
    dec = Decoder(diags.append)
    out: list[Payload] = []
    for f in frames:
        out += dec.feed(f)
    return out, diags, dec


def one(data: bytes, linktype: int = LinkType.RAW, **kw: int) -> Payload:
    out, diags, _ = decode(frame(data, 7, linktype, T_NS, **kw))
    assert diags == []
    assert len(out) == 1
    return out[0]


@pytest.mark.parametrize(
    ("linktype", "data", "src", "dst"),
    [
        (LinkType.ETHERNET, eth(U4), C4, S4),
        (LinkType.ETHERNET, eth(U6, ETH_IPV6), C6, S6),
        (LinkType.ETHERNET, eth(U4, vlans=[(0x8100, 42)]), C4, S4),
        (LinkType.ETHERNET, eth(U4, vlans=[(0x88A8, 1), (0x8100, 2)]), C4, S4),
        (LinkType.LINUX_SLL, sll(U4), C4, S4),
        (LinkType.LINUX_SLL2, sll2(U6, ETH_IPV6), C6, S6),
        (LinkType.RAW, U4, C4, S4),
        (LinkType.RAW, U6, C6, S6),
        (LinkType.NULL, loopback(U4), C4, S4),
        (LinkType.LOOP, loopback(U6, 24, ">"), C6, S6),
    ],
    ids=["eth", "eth-ipv6", "vlan", "qinq", "sll", "sll2-ipv6", "raw4", "raw6", "null", "loop6"],
)
def test_udp_datagram_through_each_link_layer(
    linktype: int, data: bytes, src: Endpoint, dst: Endpoint
) -> None:
    p = one(data, linktype)
    assert p == Payload(7, T_NS, src, dst, Transport.UDP, DATA)


def test_ethernet_padding_is_not_payload() -> None:
    short = ipv4(udp(b"\r\n"))
    padded = eth(short) + b"\x00" * (60 - 14 - len(short))
    assert one(padded, LinkType.ETHERNET).data == b"\r\n"


def test_ipv4_options_are_skipped() -> None:
    assert one(ipv4(udp(DATA), options=b"\x01\x01\x01\x00")).data == DATA


def test_ipv6_extension_headers_are_skipped() -> None:
    chain = (
        ipv6_ext(43, 0, 8)  # hop-by-hop -> routing
        + ipv6_ext(60, 43, 24)  # routing -> destination options
        + ipv6_ext(51, 60, 16)  # destination options -> AH
        + ipv6_ext(PROTO_UDP, 51, 24)  # AH (length in 4-byte words) -> UDP
    )
    p = one(ipv6(chain + udp(DATA), nxt=0))
    assert (p.src, p.dst, p.data) == (C6, S6, DATA)


@pytest.mark.parametrize(
    "packet",
    [
        ipv4(U4, "198.51.100.1", "198.51.100.2", PROTO_IPIP),
        ipv4(U6, "198.51.100.1", "198.51.100.2", PROTO_IPV6),
        ipv6(U4, "2001:db8:ff::1", "2001:db8:ff::2", PROTO_IPIP),
        ipv6(U6, "2001:db8:ff::1", "2001:db8:ff::2", PROTO_IPV6),
    ],
    ids=["ip-in-ip", "6in4", "4in6", "6in6"],
)
def test_tunnels_deliver_the_inner_addresses(packet: bytes) -> None:
    p = one(packet)
    assert p.data == DATA
    assert (p.src, p.dst) in ((C4, S4), (C6, S6))


def test_tunnels_nested_too_deep_are_reported_not_followed() -> None:
    packet = U4
    for _ in range(6):
        packet = ipv4(packet, proto=PROTO_IPIP)
    out, diags, dec = decode(frame(packet))
    assert out == []
    assert [(d.frame, d.trigger) for d in diags] == [(1, Trigger.TUNNEL)]
    assert "nested deeper than" in diags[0].detail
    assert dec.stats.by_reason == {"tunnel": 1}


def test_tcp_segment_becomes_a_tcp_payload() -> None:
    p = one(ipv4(tcp(DATA, C4.port, S4.port, seq=100), proto=PROTO_TCP))
    assert (p.transport, p.src, p.dst, p.data, p.stream) == (Transport.TCP, C4, S4, DATA, 1)


def test_udp_length_field_bounds_the_datagram() -> None:
    assert one(ipv4(udp(DATA + b"trailer", length=8 + len(DATA)))).data == DATA
    assert one(ipv4(udp(DATA, length=9999))).data == DATA  # bogus: up to the IP end


def test_tso_packet_with_zero_total_length_runs_to_the_frame_end() -> None:
    assert one(ipv4(udp(DATA), total=0)).data == DATA


# -- fragments ---------------------------------------------------------------
BIG = ("INVITE sip:bob@example.com SIP/2.0\r\n" + "X-Pad: " + "p" * 3000 + "\r\n\r\n").encode()


@pytest.mark.parametrize("order", ["in-order", "reversed", "last-first"])
@pytest.mark.parametrize("version", [4, 6])
def test_fragments_reassemble_in_the_frame_that_completes_them(order: str, version: int) -> None:
    datagram = udp(BIG)
    parts = ipv4_fragments(datagram, 1024) if version == 4 else ipv6_fragments(datagram, 1024)
    idx = list(range(len(parts)))
    if order == "reversed":
        idx.reverse()
    elif order == "last-first":
        idx = idx[-1:] + idx[:-1]
    frames = [frame(parts[i], n, ts_ns=T_NS + n) for n, i in enumerate(idx, 1)]
    out, diags, dec = decode(*frames)
    assert diags == []
    assert len(out) == 1
    p = out[0]
    assert (p.frame, p.ts_ns, p.data) == (len(parts), T_NS + len(parts), BIG)
    assert (p.src, p.dst) == ((C4, S4) if version == 4 else (C6, S6))
    assert dec.stats.fragments == len(parts)


def test_ipv6_fragment_after_an_extension_header() -> None:
    parts = ipv6_fragments(udp(BIG), 1024)
    # move each fragment header behind a hop-by-hop header
    with_hbh = [ipv6(ipv6_ext(44, 0, 8) + p[40:], nxt=0) for p in parts]  # 44 = fragment header
    out, diags, _ = decode(*(frame(p, n) for n, p in enumerate(with_hbh, 1)))
    assert diags == []
    assert [p.data for p in out] == [BIG]


def test_fragmented_tunnel_is_reassembled_then_unwrapped() -> None:
    inner = U4
    parts = ipv4_fragments(inner, 16, "198.51.100.1", "198.51.100.2", PROTO_IPIP)
    out, diags, _ = decode(*(frame(p, n) for n, p in enumerate(parts, 1)))
    assert diags == []
    assert [(p.frame, p.src, p.data) for p in out] == [(len(parts), C4, DATA)]


# -- damage: exactly one diagnostic, with the frame number ---------------------
@pytest.mark.parametrize(
    ("data", "trigger", "detail"),
    [
        (U4[:12], Trigger.TRUNCATED, "IPv4 header truncated"),
        (
            ipv4(udp(DATA), version_ihl=0x44),
            Trigger.BAD_HEADER,
            "bad IPv4 version/header length byte 0x44",
        ),
        (ipv4(udp(DATA), total=400), Trigger.TRUNCATED, "IPv4 total length 400 exceeds the frame"),
        (U6[:30], Trigger.TRUNCATED, "IPv6 header truncated"),
        (ipv6(udp(DATA), plen=999), Trigger.TRUNCATED, "IPv6 payload length 999 exceeds the frame"),
        (ipv6(b"\x11\x00\x00", nxt=0), Trigger.TRUNCATED, "IPv6 extension header truncated"),
        (ipv6(b"\x11\x00\x00", nxt=44), Trigger.TRUNCATED, "IPv6 fragment header truncated"),
        (ipv4(udp(b"")[:5]), Trigger.TRUNCATED, "UDP header truncated"),
        (ipv4(tcp(DATA)[:19], proto=PROTO_TCP), Trigger.TRUNCATED, "TCP header truncated"),
        (
            ipv4(tcp(DATA, data_offset=3), proto=PROTO_TCP),
            Trigger.BAD_HEADER,
            "bad TCP data offset 12",
        ),
        (
            ipv4(tcp(b"", data_offset=15), proto=PROTO_TCP),
            Trigger.BAD_HEADER,
            "bad TCP data offset 60",
        ),
    ],
    ids=[
        "ipv4-short",
        "ipv4-ihl",
        "ipv4-total",
        "ipv6-short",
        "ipv6-plen",
        "ipv6-ext",
        "ipv6-frag",
        "udp-short",
        "tcp-short",
        "tcp-offset-small",
        "tcp-offset-large",
    ],
)
def test_damaged_packet_gives_one_diagnostic(data: bytes, trigger: Trigger, detail: str) -> None:
    out, diags, dec = decode(frame(b"", 1), frame(data, 2), frame(U4, 3))
    assert [p.frame for p in out] == [3], "decoding goes on after damage"
    assert diags == [Diagnostic(frame=2, stage=Stage.DECODE, trigger=trigger, detail=detail)]
    assert dec.stats.by_reason.get(trigger.value) == 1


@pytest.mark.parametrize(
    ("data", "detail"),
    [
        (eth(U6), "bad IPv4 version/header length byte 0x60"),
        (eth(U4, ETH_IPV6), "bad IPv6 version"),
    ],
    ids=["ipv6-in-ipv4-ethertype", "ipv4-in-ipv6-ethertype"],
)
def test_ethertype_and_ip_version_disagree(data: bytes, detail: str) -> None:
    out, diags, _ = decode(frame(data, 9, LinkType.ETHERNET))
    assert out == []
    assert [(d.frame, d.trigger, d.detail) for d in diags] == [(9, Trigger.BAD_HEADER, detail)]


def test_snaplen_cut_is_told_apart_from_a_lying_length() -> None:
    cut = eth(ipv4(udp(b"x" * 1000)))[:96]
    out, diags, _ = decode(frame(cut, 5, LinkType.ETHERNET, orig_len=1042))
    assert out == []
    assert [(d.frame, d.trigger, d.detail) for d in diags] == [
        (5, Trigger.SNAPLEN, "frame cut by snaplen at 96 bytes")
    ]


def test_unknown_link_type_is_reported_once_and_its_frames_counted() -> None:
    out, diags, dec = decode(frame(U4, 1, 147), frame(U4, 2, 147), frame(U4, 3, 148), frame(U4, 4))
    assert [p.frame for p in out] == [4]
    assert [(d.frame, d.trigger, d.detail) for d in diags] == [
        (1, Trigger.UNKNOWN_LINKTYPE, "link type 147 is not supported; its frames are skipped"),
        (3, Trigger.UNKNOWN_LINKTYPE, "link type 148 is not supported; its frames are skipped"),
    ]
    assert dec.stats.by_reason["unknown-linktype"] == 3


def test_non_ip_and_non_transport_frames_are_counted_not_reported() -> None:
    icmp = ipv4(b"\x08\x00\x00\x00", proto=1)
    pure_ack = ipv4(tcp(b"", flags=0x10), proto=PROTO_TCP)
    out, diags, dec = decode(
        frame(eth(b"who-has", ETH_ARP), 1, LinkType.ETHERNET),
        frame(icmp, 2),
        frame(pure_ack, 3),
        frame(U4, 4, orig_len=500),
    )
    assert ([p.frame for p in out], diags) == ([4], [])
    st_ = dec.stats
    assert (st_.frames, st_.skipped, st_.udp, st_.tcp_segments) == (4, 3, 1, 1)
    # named, never a bare number: "what was in this capture" reads off the summary
    assert st_.by_reason == {"not-ip: ARP": 1, "ip-proto-1: ICMP": 1, "tcp-no-new-data": 1}
    assert st_.bytes == len(eth(b"who-has", ETH_ARP)) + len(icmp) + len(pure_ack) + 500


def test_incomplete_fragments_are_reported_at_the_end() -> None:
    parts = ipv4_fragments(udp(BIG), 1024)
    out, diags, dec = decode(frame(parts[0], 1), frame(parts[2], 2))
    assert out == []
    assert dec.flush() == []
    assert [(d.frame, d.trigger) for d in diags] == [(1, Trigger.FRAG_EXPIRED)]


# -- fuzzing -----------------------------------------------------------------
_LINKTYPES = [
    LinkType.ETHERNET,
    LinkType.LINUX_SLL,
    LinkType.LINUX_SLL2,
    LinkType.RAW,
    LinkType.NULL,
    LinkType.LOOP,
    LinkType.IPV6,
]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(_LINKTYPES), st.binary(max_size=200))
@example(LinkType.RAW, ipv6(b"\x11\xff", nxt=0))  # extension header longer than the packet
@example(LinkType.RAW, ipv4(b"", version_ihl=0x4F, total=20))  # IHL past the total length
@example(LinkType.RAW, ipv6(ipv6_ext(44, 0, 8), nxt=0)[:46])
def test_random_frames_never_raise(linktype: int, data: bytes) -> None:
    dec = Decoder(lambda d: None)
    dec.feed(frame(data, 1, linktype))
    # the same bytes behind an IPv4 and an IPv6 header reach the transport parsers
    for proto in (PROTO_UDP, PROTO_TCP, PROTO_IPIP, PROTO_IPV6, 44):
        dec.feed(frame(ipv4(data, proto=proto), 2))
        dec.feed(frame(ipv6(data, nxt=proto), 3))
    dec.flush()


# -- the fast path -------------------------------------------------------------
def _both_paths(frames: list[Frame], monkeypatch: pytest.MonkeyPatch) -> None:
    """Decode with and without the one-unpack fast path: everything must agree."""

    def run() -> tuple[list[Payload], list[tuple[int, str, str]], tuple[int, ...]]:
        diags: list[Diagnostic] = []
        dec = Decoder(diags.append)
        out = [p for f in frames for p in dec.feed(f)] + dec.flush()
        st = dec.stats
        counts = (st.frames, st.bytes, st.skipped, st.udp, st.tcp_segments, st.fragments)
        return out, [(d.frame, d.trigger.value, d.detail) for d in diags], counts

    fast = run()
    with monkeypatch.context() as m:
        m.setattr(decoder_module, "_FAST_IP_OFFSET", {})
        slow = run()
    assert fast == slow


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from([eth, sll]),
    st.sampled_from([0x45, 0x46, 0x44, 0x55]),
    st.integers(0, 0xFFFF) | st.sampled_from([0, 20, 27, 28, 40]),
    st.sampled_from([0, 0x2000, 0x4000, 0x0001]),
    st.sampled_from([PROTO_UDP, PROTO_TCP, 1]),
    st.integers(0, 0xFFFF) | st.sampled_from([0, 7, 8, 20]),
    st.binary(max_size=40),
    st.integers(0, 30),
)
def test_fast_path_decodes_exactly_as_the_general_one(
    link: Callable[[bytes], bytes],
    vihl: int,
    total: int,
    fragw: int,
    proto: int,
    ulen: int,
    body: bytes,
    cut: int,
) -> None:
    head = ipv4(udp(body, length=ulen), proto=proto, total=total, version_ihl=vihl)
    head = head[:6] + fragw.to_bytes(2, "big") + head[8:]
    data = link(head)
    f = Frame(1, 0, LinkType.ETHERNET if link is eth else LinkType.LINUX_SLL, data, len(data))
    cut_f = f._replace(data=data[: max(0, len(data) - cut)])
    monkeypatch = pytest.MonkeyPatch()
    try:
        _both_paths([f, cut_f], monkeypatch)
    finally:
        monkeypatch.undo()


def test_fast_path_on_every_capture(monkeypatch: pytest.MonkeyPatch) -> None:
    # every bundled capture and the real corpus: frames as the file reader gives them
    files = sorted(CAPTURES.glob("*.pcap")) + real_captures()
    assert files
    for path in files:
        frames = list(read_frames([path], lambda d: None))
        _both_paths(frames, monkeypatch)
