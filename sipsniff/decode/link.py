"""Link layers: find where the network-layer packet starts.

Strategy: each link type maps to a small function returning
``(ethertype, offset)``; unknown link types and non-IP frames return
``(0, 0)`` and the caller counts them as skipped.  VLAN tags (802.1Q, 802.1ad
QinQ, and the old 0x9100) are peeled in a loop.
"""

from __future__ import annotations

import struct

from ..capture.frame import LinkType

__all__ = ["ETH_IPV4", "ETH_IPV6", "KNOWN_LINKTYPES", "network_offset"]

ETH_IPV4 = 0x0800
ETH_IPV6 = 0x86DD
_VLAN = (0x8100, 0x88A8, 0x9100)
_U16 = struct.Struct("!H")
_AF_INET6 = (10, 24, 28, 30)  # Linux, BSD, FreeBSD, Darwin values of AF_INET6

KNOWN_LINKTYPES = frozenset(
    (
        LinkType.NULL,
        LinkType.ETHERNET,
        LinkType.RAW,
        LinkType.LOOP,
        LinkType.LINUX_SLL,
        LinkType.IPV4,
        LinkType.IPV6,
        LinkType.LINUX_SLL2,
        12,  # LINKTYPE_RAW as written by some OpenBSD tools (DLT_RAW = 12)
        14,  # DLT_RAW on other BSDs
    )
)


def _ethertype_from_version(data: bytes, off: int) -> int:
    if len(data) <= off:
        return 0
    v = data[off] >> 4
    return ETH_IPV4 if v == 4 else ETH_IPV6 if v == 6 else 0


def network_offset(linktype: int, data: bytes) -> tuple[int, int]:
    """Return ``(ethertype, offset)`` of the IP packet in a frame, ``(0, 0)`` if none."""
    if linktype == LinkType.ETHERNET:
        off = 12
        if len(data) < 14:
            return 0, 0
        et = _U16.unpack_from(data, off)[0]
        while et in _VLAN:
            off += 4
            if len(data) < off + 2:
                return 0, 0
            et = _U16.unpack_from(data, off)[0]
        return et, off + 2
    if linktype == LinkType.LINUX_SLL:
        if len(data) < 16:
            return 0, 0
        et = _U16.unpack_from(data, 14)[0]
        off = 16
        while et in _VLAN and len(data) >= off + 4:
            et = _U16.unpack_from(data, off + 2)[0]
            off += 4
        return et, off
    if linktype == LinkType.LINUX_SLL2:
        if len(data) < 20:
            return 0, 0
        return _U16.unpack_from(data, 0)[0], 20
    if linktype in (LinkType.RAW, LinkType.IPV4, LinkType.IPV6, 12, 14):
        return _ethertype_from_version(data, 0), 0
    if linktype in (LinkType.NULL, LinkType.LOOP):
        if len(data) < 4:
            return 0, 0
        # NULL is host byte order, LOOP network order: accept either.
        fam = data[0] if data[0] else data[3]
        if fam == 2:
            return ETH_IPV4, 4
        if fam in _AF_INET6:
            return ETH_IPV6, 4
        return 0, 0
    return 0, 0
