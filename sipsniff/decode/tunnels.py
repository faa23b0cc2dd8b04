"""Encapsulations: where the inner packet of a tunnel or label stack starts.

Carriers mirror traffic with ERSPAN (inside GRE) and VXLAN, access networks
speak PPPoE, cores stack MPLS labels, mobile cores carry users in GTP-U.  Each
function here reads one encapsulation header at an offset and returns what
follows it as ``(kind, offset, layer)``: ``kind`` is an ethertype
(``ETH_IPV4``, ``ETH_IPV6``) or ``ETHERNET`` for a whole inner Ethernet frame,
``layer`` the name counted in the summary ("ERSPAN II", "VXLAN"...); kind 0 is
a layer that carries nothing for SIP (PPP's control protocols).

Rules:
- Pure functions over ``bytes``: no state, nothing of SIP.  The decoder
  (``decoder.py``) recurses into what they return and bounds the depth.
- ``TunnelError`` (a ``ValueError``) says precisely what is damaged; the
  decoder turns it into one ``tunnel`` diagnostic with the frame number.
- ``None`` means "not this encapsulation after all" (a UDP datagram to port
  4789 without VXLAN's I flag): the caller treats the bytes as plain payload.

References: RFC 2784 and 2890 (GRE), draft-foschiano-erspan (ERSPAN I/II/III),
RFC 7348 (VXLAN), draft-ietf-nvo3-vxlan-gpe, RFC 8926 (Geneve), RFC 3032
(MPLS), RFC 2516 (PPPoE), 3GPP TS 29.281 (GTP-U).
"""

from __future__ import annotations

import struct

__all__ = [
    "ETHERNET",
    "ETHERTYPE_NAMES",
    "IP_PROTO_NAMES",
    "TUNNEL_UDP_PORTS",
    "TunnelError",
    "gre",
    "gtpu",
    "mpls",
    "pppoe",
    "udp_tunnel",
]

ETHERNET = -1
"""``kind`` of an inner Ethernet frame (its own link header follows)."""
_IPV4, _IPV6, _TEB = 0x0800, 0x86DD, 0x6558
_ERSPAN_1_2, _ERSPAN_3 = 0x88BE, 0x22EB
_U16 = struct.Struct("!H")

# UDP destination ports of the encapsulations opened here; the native core
# leaves frames to these ports to this decoder (``TUNNEL_PORTS`` in decode.rs).
TUNNEL_UDP_PORTS = frozenset((4789, 4790, 6081, 2152))

# Names for what is counted but not decoded, so the summary never shows a bare number.
ETHERTYPE_NAMES = {
    0x0806: "ARP",
    0x8035: "RARP",
    0x88CC: "LLDP",
    0x8809: "slow protocols (LACP)",
    0x888E: "802.1X (EAPOL)",
    0x88F7: "PTP",
    0x8863: "PPPoE discovery",
    0x8864: "PPPoE session",
    0x8847: "MPLS",
    0x8848: "MPLS multicast",
    0x22F0: "AVTP",
    0x88E5: "MACsec",
    0x8100: "802.1Q",
    0x9000: "loopback (CTP)",
    0x0842: "Wake-on-LAN",
}
IP_PROTO_NAMES = {
    1: "ICMP",
    2: "IGMP",
    4: "IP-in-IP",
    6: "TCP",
    17: "UDP",
    41: "IPv6-in-IP",
    47: "GRE",
    50: "ESP (IPsec)",
    51: "AH (IPsec)",
    58: "ICMPv6",
    89: "OSPF",
    103: "PIM",
    112: "VRRP",
    115: "L2TP",
    132: "SCTP",
    136: "UDP-Lite",
}


class TunnelError(ValueError):
    """A tunnel header that claims to be one and is damaged."""


def _need(data: bytes, end: int, at: int, what: str) -> None:
    if at > end or at > len(data):
        raise TunnelError(f"{what} truncated")


def gre(data: bytes, off: int, end: int) -> tuple[int, int, str]:
    """GRE (IP protocol 47) and what it carries: IP, Ethernet, ERSPAN I/II/III."""
    _need(data, end, off + 4, "GRE header")
    flags, proto = struct.unpack_from("!HH", data, off)
    version = flags & 0x7
    if version == 1:
        raise TunnelError("GRE version 1 (PPTP enhanced GRE) is not decoded")
    if version != 0:
        raise TunnelError(f"GRE version {version} is not defined")
    if flags & 0x4000:
        raise TunnelError("GRE with source routing (RFC 1701) is not decoded")
    seq = bool(flags & 0x1000)
    pos = off + 4 + 4 * (bool(flags & 0x8000) + bool(flags & 0x2000) + seq)
    _need(data, end, pos, "GRE optional fields")
    if proto in (_IPV4, _IPV6):
        return proto, pos, "GRE"
    if proto == _TEB:
        return ETHERNET, pos, "GRE"
    if proto == _ERSPAN_1_2:
        if not seq:  # type I has no ERSPAN header and no GRE sequence number
            return ETHERNET, pos, "ERSPAN I"
        _need(data, end, pos + 8, "ERSPAN II header")
        ver = data[pos] >> 4
        if ver != 1:
            raise TunnelError(f"ERSPAN II header with version {ver}")
        return ETHERNET, pos + 8, "ERSPAN II"
    if proto == _ERSPAN_3:
        _need(data, end, pos + 12, "ERSPAN III header")
        ver = data[pos] >> 4
        if ver != 2:
            raise TunnelError(f"ERSPAN III header with version {ver}")
        ft = (data[pos + 10] >> 2) & 0x1F
        inner = pos + 12 + (8 if data[pos + 11] & 1 else 0)  # O bit: platform subheader
        _need(data, end, inner, "ERSPAN III platform subheader")
        if ft != 0:
            raise TunnelError(f"ERSPAN III frame type {ft} is not decoded (0: Ethernet)")
        return ETHERNET, inner, "ERSPAN III"
    raise TunnelError(f"GRE carrying {_ethertype_name(proto)} is not decoded")


def udp_tunnel(port: int, data: bytes, off: int, end: int) -> tuple[int, int, str] | None:
    """VXLAN (4789), VXLAN-GPE (4790), Geneve (6081) or GTP-U (2152) at a UDP payload."""
    if port == 2152:
        return gtpu(data, off, end)
    if end - off < 8:
        return None
    if port == 4789:
        if not data[off] & 0x08:  # the I flag: a valid VNI; without it, not VXLAN
            return None
        return ETHERNET, off + 8, "VXLAN"
    if port == 4790:
        if not data[off] & 0x08:
            return None
        nxt = data[off + 3]
        kinds = {1: _IPV4, 2: _IPV6, 3: ETHERNET}
        if nxt not in kinds:
            raise TunnelError(f"VXLAN-GPE next protocol {nxt} is not decoded")
        return kinds[nxt], off + 8, "VXLAN-GPE"
    if port == 6081:
        if data[off] >> 6 != 0:
            return None
        pos = off + 8 + (data[off] & 0x3F) * 4
        _need(data, end, pos, "Geneve options")
        proto = _U16.unpack_from(data, off + 2)[0]
        if proto == _TEB:
            return ETHERNET, pos, "Geneve"
        if proto in (_IPV4, _IPV6):
            return proto, pos, "Geneve"
        raise TunnelError(f"Geneve carrying {_ethertype_name(proto)} is not decoded")
    return None


def gtpu(data: bytes, off: int, end: int) -> tuple[int, int, str] | None:
    """GTP-U G-PDU: the user's IP packet after the GTP header and its extensions."""
    if end - off < 8 or data[off] >> 5 != 1 or not data[off] & 0x10:
        return None  # not GTPv1 (GTP' or GTPv2-C on a wrong port): plain payload
    if data[off + 1] != 255:
        return None  # echo, error indication, end marker: signalling, no user packet
    flags = data[off]
    pos = off + 8
    if flags & 0x07:  # E, S or PN: sequence (2), N-PDU (1), next extension type (1)
        _need(data, end, pos + 4, "GTP-U optional fields")
        nxt = data[pos + 3]
        pos += 4
        hops = 0
        while nxt:
            _need(data, end, pos + 1, "GTP-U extension header")
            size = data[pos] * 4
            if size == 0 or hops >= 16:
                raise TunnelError("GTP-U extension header with length 0 or a chain too long")
            _need(data, end, pos + size, "GTP-U extension header")
            nxt = data[pos + size - 1]
            pos += size
            hops += 1
    _need(data, end, pos + 1, "GTP-U payload")
    v = data[pos] >> 4
    if v not in (4, 6):
        raise TunnelError(f"GTP-U payload is not IP (version nibble {v})")
    return (_IPV4 if v == 4 else _IPV6), pos, "GTP-U"


def mpls(data: bytes, off: int, end: int) -> tuple[int, int, str]:
    """An MPLS label stack: labels up to bottom-of-stack, then IP or a pseudowire."""
    pos = off
    for _ in range(16):  # RFC 3032 sets no limit; real stacks hold 2 to 5 labels
        _need(data, end, pos + 4, "MPLS label")
        bottom = data[pos + 2] & 1
        pos += 4
        if bottom:
            break
    else:
        raise TunnelError("MPLS label stack deeper than 16 labels")
    _need(data, end, pos + 1, "MPLS payload")
    v = data[pos] >> 4
    if v == 4:
        return _IPV4, pos, "MPLS"
    if v == 6:
        return _IPV6, pos, "MPLS"
    if v == 0:  # Ethernet pseudowire with its control word (RFC 4448)
        _need(data, end, pos + 4, "MPLS pseudowire control word")
        return ETHERNET, pos + 4, "MPLS"
    raise TunnelError(f"MPLS payload with version nibble {v} is not decoded")


def pppoe(data: bytes, off: int, end: int) -> tuple[int, int, str]:
    """A PPPoE session frame: 6-byte PPPoE header, 2-byte PPP protocol, then IP."""
    _need(data, end, off + 8, "PPPoE session header")
    if data[off] != 0x11:
        raise TunnelError(f"PPPoE version/type byte {data[off]:#04x} (0x11 expected)")
    proto = _U16.unpack_from(data, off + 6)[0]
    if proto == 0x0021:
        return _IPV4, off + 8, "PPPoE"
    if proto == 0x0057:
        return _IPV6, off + 8, "PPPoE"
    # LCP, IPCP, CHAP...: the session's own control traffic, normal and SIP-free
    return 0, off + 8, "PPPoE control"


def _ethertype_name(et: int) -> str:
    name = ETHERTYPE_NAMES.get(et)
    return f"{name} ({et:#06x})" if name else f"ethertype {et:#06x}"
