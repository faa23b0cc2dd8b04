"""Link layers: where the IP packet starts for each link type, VLAN tags peeled."""

from __future__ import annotations

import pytest
from factories_pcap import ETH_ARP, ETH_IPV4, ETH_IPV6, eth, ipv4, ipv6, loopback, sll, sll2

from sipsniff.capture.frame import LinkType
from sipsniff.decode.link import KNOWN_LINKTYPES, network_offset

V4 = ipv4(b"payload")
V6 = ipv6(b"payload")


@pytest.mark.parametrize(
    ("linktype", "data", "expected"),
    [
        (LinkType.ETHERNET, eth(V4), (ETH_IPV4, 14)),
        (LinkType.ETHERNET, eth(V6, ETH_IPV6), (ETH_IPV6, 14)),
        (LinkType.ETHERNET, eth(V4, vlans=[(0x8100, 10)]), (ETH_IPV4, 18)),
        (LinkType.ETHERNET, eth(V4, vlans=[(0x88A8, 100), (0x8100, 10)]), (ETH_IPV4, 22)),
        (LinkType.ETHERNET, eth(V6, ETH_IPV6, vlans=[(0x9100, 7), (0x8100, 8)]), (ETH_IPV6, 22)),
        (LinkType.LINUX_SLL, sll(V4), (ETH_IPV4, 16)),
        (LinkType.LINUX_SLL, sll(V6, ETH_IPV6), (ETH_IPV6, 16)),
        (LinkType.LINUX_SLL, sll(b"\x00\x05\x08\x00" + V4, 0x8100), (ETH_IPV4, 20)),
        (LinkType.LINUX_SLL2, sll2(V4), (ETH_IPV4, 20)),
        (LinkType.LINUX_SLL2, sll2(V6, ETH_IPV6), (ETH_IPV6, 20)),
        (LinkType.RAW, V4, (ETH_IPV4, 0)),
        (LinkType.RAW, V6, (ETH_IPV6, 0)),
        (LinkType.IPV4, V4, (ETH_IPV4, 0)),
        (LinkType.IPV6, V6, (ETH_IPV6, 0)),
        (12, V4, (ETH_IPV4, 0)),
        (14, V6, (ETH_IPV6, 0)),
        (LinkType.NULL, loopback(V4, 2, "<"), (ETH_IPV4, 4)),
        (LinkType.NULL, loopback(V6, 30, "<"), (ETH_IPV6, 4)),
        (LinkType.LOOP, loopback(V4, 2, ">"), (ETH_IPV4, 4)),
        (LinkType.LOOP, loopback(V6, 24, ">"), (ETH_IPV6, 4)),
        (LinkType.NULL, loopback(V6, 10, "<"), (ETH_IPV6, 4)),
        (LinkType.NULL, loopback(V6, 28, ">"), (ETH_IPV6, 4)),
    ],
    ids=[
        "eth-ipv4",
        "eth-ipv6",
        "802.1q",
        "qinq-88a8",
        "qinq-9100",
        "sll-ipv4",
        "sll-ipv6",
        "sll-vlan",
        "sll2-ipv4",
        "sll2-ipv6",
        "raw-ipv4",
        "raw-ipv6",
        "linktype-ipv4",
        "linktype-ipv6",
        "dlt-raw-12",
        "dlt-raw-14",
        "null-ipv4-host-order",
        "null-ipv6-darwin",
        "loop-ipv4-network-order",
        "loop-ipv6-bsd",
        "null-ipv6-linux",
        "null-ipv6-freebsd",
    ],
)
def test_network_offset(linktype: int, data: bytes, expected: tuple[int, int]) -> None:
    assert linktype in KNOWN_LINKTYPES
    et, off = network_offset(linktype, data)
    assert (et, off) == expected
    assert data[off:].startswith(V4 if et == ETH_IPV4 else V6)


@pytest.mark.parametrize(
    ("linktype", "data", "expected"),
    [
        (LinkType.ETHERNET, eth(b"arp", ETH_ARP), (ETH_ARP, 14)),  # the caller skips non-IP
        (LinkType.ETHERNET, eth(b"")[:13], (0, 0)),
        (LinkType.ETHERNET, eth(V4, vlans=[(0x8100, 1)])[:15], (0, 0)),
        (LinkType.LINUX_SLL, sll(V4)[:15], (0, 0)),
        (LinkType.LINUX_SLL2, sll2(V4)[:19], (0, 0)),
        (LinkType.RAW, b"", (0, 0)),
        (LinkType.RAW, b"\x50" + V4[1:], (0, 0)),  # IP version 5
        (LinkType.NULL, b"\x02\x00", (0, 0)),
        (LinkType.NULL, loopback(V4, 7), (0, 0)),  # address family 7 is not IP
        (147, V4, (0, 0)),  # LINKTYPE_USER0: not known
    ],
    ids=[
        "arp",
        "eth-short",
        "vlan-short",
        "sll-short",
        "sll2-short",
        "raw-empty",
        "raw-bad-version",
        "null-short",
        "null-other-family",
        "unknown-linktype",
    ],
)
def test_no_ip_packet(linktype: int, data: bytes, expected: tuple[int, int]) -> None:
    assert network_offset(linktype, data) == expected
