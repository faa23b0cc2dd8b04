"""Frame -> Payload: link layer, IPv4/IPv6 (with tunnels and fragments), UDP and TCP.

Strategy: plain byte slicing with precompiled structs at offsets; no object is
built per layer.  The common case (Ethernet or SLL, IPv4, UDP) takes a short
straight path.  Anything that is not IP, UDP or TCP is counted as skipped;
anything that claims to be and is damaged becomes a Diagnostic.

Rules:
- This module knows nothing of SIP: it hands every UDP datagram and every
  in-order TCP chunk to the next stage.
- Time comes from frames (``expire(now)``), never from the clock.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Callable

from ..capture.frame import Frame, LinkType
from ..diagnostics import Diagnostic, Stage, Trigger
from .budget import ReassemblyBudget
from .fragments import Reassembler
from .link import ETH_IPV4, ETH_IPV6, KNOWN_LINKTYPES, network_offset
from .payload import Endpoint, Payload, Transport
from .sctp import SctpReassembler
from .tcp import TcpReassembler
from .tunnels import (
    ETHERNET,
    ETHERTYPE_NAMES,
    IP_PROTO_NAMES,
    TUNNEL_UDP_PORTS,
    TunnelError,
    gre,
    mpls,
    pppoe,
    udp_tunnel,
)

__all__ = ["DecodeStats", "Decoder"]

_IPV4 = struct.Struct("!BBHHHBBH4s4s")
_IPV6 = struct.Struct("!IHBB16s16s")
_UDP = struct.Struct("!HHH")
_TCP = struct.Struct("!HHIIBB")
_FRAG6 = struct.Struct("!BBHI")
_EXT6 = frozenset((0, 43, 60, 51, 135, 139, 140))  # skipped extension headers
_PROTO_TCP, _PROTO_UDP, _PROTO_IPIP, _PROTO_IPV6, _PROTO_FRAG = 6, 17, 4, 41, 44
_PROTO_GRE, _PROTO_SCTP = 47, 132
_ETH_MPLS = frozenset((0x8847, 0x8848))
_ETH_ENCAPS = frozenset((ETHERNET, 0x8847, 0x8848, 0x8864))
_ETH_PPPOE = 0x8864
# Tunnels inside tunnels: a mirror of a VXLAN overlay inside ERSPAN is three deep;
# past this a packet is a loop or a crafted file and is reported, not followed.
_MAX_TUNNEL_DEPTH = 4
_ADDR_CACHE_MAX = 65_536

_EMPTY: list[Payload] = []
_new = tuple.__new__
# Link types whose IPv4 header sits at a fixed offset after a 2-byte ethertype
# (Ethernet without VLAN tag; Linux cooked capture v1), and for each one struct
# reading ethertype, the IPv4 fields the decoder checks, and the UDP header.
_FAST_IP_OFFSET = {LinkType.ETHERNET: 14, LinkType.LINUX_SLL: 16}
_FAST = {off: struct.Struct(f"!{off - 2}xHBxHxxHxBxx4s4sHHH") for off in _FAST_IP_OFFSET.values()}


def _datagram(
    frame: Frame, src: str, sport: int, dst: str, dport: int, payload: bytes
) -> list[Payload]:
    """The one payload of a UDP datagram.

    ``tuple.__new__`` builds the same records as the NamedTuple constructors
    without their Python-level ``__new__`` (so every field is given): three per
    datagram, on the hottest path.
    """
    return [
        _new(
            Payload,
            (
                frame.number,
                frame.ts_ns,
                _new(Endpoint, (src, sport)),
                _new(Endpoint, (dst, dport)),
                Transport.UDP,
                payload,
                0,
                False,
                False,
            ),
        )
    ]


class DecodeStats:
    """Counters of what the decoder saw; nothing leaves without being counted."""

    __slots__ = (
        "by_reason",
        "bytes",
        "fragments",
        "frames",
        "layers",
        "skipped",
        "tcp_segments",
        "udp",
    )

    def __init__(self) -> None:
        self.frames = 0
        self.bytes = 0
        self.skipped = 0
        """Frames that carried no UDP/TCP payload (ARP, ICMP, pure ACKs...)."""
        self.udp = 0
        self.tcp_segments = 0
        self.fragments = 0
        self.by_reason: dict[str, int] = {}
        self.layers: dict[str, int] = {}
        """Encapsulations opened (GRE, ERSPAN II, VXLAN, MPLS, PPPoE, SCTP...): packets each."""

    def layer(self, name: str) -> None:
        self.layers[name] = self.layers.get(name, 0) + 1

    def skip(self, why: str) -> None:
        self.skipped += 1
        self.by_reason[why] = self.by_reason.get(why, 0) + 1


class Decoder:
    """Sans-I/O decoder: ``feed(frame)`` returns the payloads that frame completes."""

    def __init__(
        self, report: Callable[[Diagnostic], None], budget: ReassemblyBudget | None = None
    ) -> None:
        self._report = report
        self.stats = DecodeStats()
        self.budget = budget if budget is not None else ReassemblyBudget()
        """The one memory allowance of IP fragments, TCP and (passed on) SIP framing."""
        self.fragments = Reassembler(report, self.budget)
        self.tcp = TcpReassembler(report, self.budget)
        self.sctp = SctpReassembler(report, self.budget)
        self._addr: dict[bytes, str] = {}
        self._unknown_linktypes: set[int] = set()

    # -- helpers ---------------------------------------------------------
    def _ip(self, raw: bytes) -> str:
        s = self._addr.get(raw)
        if s is None:
            if len(self._addr) >= _ADDR_CACHE_MAX:
                self._addr.clear()
            s = socket.inet_ntop(socket.AF_INET if len(raw) == 4 else socket.AF_INET6, raw)
            self._addr[raw] = s
        return s

    def _bad(self, frame: Frame, trigger: Trigger, detail: str) -> list[Payload]:
        self.stats.skip(trigger.value)
        self._report(
            Diagnostic(frame=frame.number, stage=Stage.DECODE, trigger=trigger, detail=detail)
        )
        return _EMPTY

    # -- entry points ----------------------------------------------------
    def feed(self, frame: Frame) -> list[Payload]:
        """Decode one frame; return zero or more payloads (usually one or none)."""
        st = self.stats
        st.frames += 1
        st.bytes += frame.orig_len
        data = frame.data
        ip_off = _FAST_IP_OFFSET.get(frame.linktype)
        if ip_off is not None and len(data) >= ip_off + 28:
            # The common case in one unpack: Ethernet or Linux cooked, no VLAN, IPv4
            # without options or fragmentation, UDP.  Anything else, or any field
            # the slow path would question, goes the long way below.
            et, vihl, total, fragw, proto, s, d, sport, dport, ulen = _FAST[ip_off].unpack_from(
                data, 0
            )
            end = ip_off + total
            if (
                et == ETH_IPV4
                and vihl == 0x45
                and proto == _PROTO_UDP
                and not fragw & 0x3FFF
                and total >= 28
                and end <= len(data)
                and dport not in TUNNEL_UDP_PORTS
            ):
                st.udp += 1
                off = ip_off + 20
                stop = off + ulen if 8 <= ulen <= end - off else end
                return _datagram(
                    frame, self._ip(s), sport, self._ip(d), dport, data[off + 8 : stop]
                )
        if frame.linktype not in KNOWN_LINKTYPES:
            if frame.linktype not in self._unknown_linktypes:
                self._unknown_linktypes.add(frame.linktype)
                return self._bad(
                    frame,
                    Trigger.UNKNOWN_LINKTYPE,
                    f"link type {frame.linktype} is not supported; its frames are skipped",
                )
            st.skip(Trigger.UNKNOWN_LINKTYPE.value)
            return _EMPTY
        et, off = network_offset(frame.linktype, data)
        return self._network(frame, et, data, off, 0)

    def expire(self, now: int) -> list[Payload]:
        """Forget old fragments; give up on old TCP holes (returns what waited behind them)."""
        self.fragments.expire(now)
        return self.tcp.expire(now)

    def flush(self) -> list[Payload]:
        """End of input: report incomplete fragments and SCTP messages, close TCP streams."""
        self.fragments.flush()
        self.sctp.flush()
        return self.tcp.flush()

    # -- network layer ---------------------------------------------------
    def _network(self, frame: Frame, et: int, data: bytes, off: int, depth: int) -> list[Payload]:
        """What an ethertype (or ``ETHERNET``: an inner Ethernet frame) at ``off`` carries."""
        if et == ETH_IPV4:
            return self._ipv4(frame, data, off, depth)
        if et == ETH_IPV6:
            return self._ipv6(frame, data, off, depth)
        if et in _ETH_ENCAPS:
            if depth >= _MAX_TUNNEL_DEPTH:
                return self._bad(
                    frame, Trigger.TUNNEL, f"tunnels nested deeper than {_MAX_TUNNEL_DEPTH}"
                )
            if et == ETHERNET:
                inner = data[off:]
                et, ioff = network_offset(1, inner)  # LINKTYPE_ETHERNET
                if not et and len(inner) < 14:
                    return self._bad(frame, Trigger.TUNNEL, "inner Ethernet header truncated")
                return self._network(frame, et, inner, ioff, depth + 1)
            try:
                kind, pos, name = (mpls if et in _ETH_MPLS else pppoe)(data, off, len(data))
            except TunnelError as exc:
                return self._bad(frame, Trigger.TUNNEL, str(exc))
            self.stats.layer(name)
            if not kind:
                self.stats.skip(name)
                return _EMPTY
            return self._network(frame, kind, data, pos, depth + 1)
        known = ETHERTYPE_NAMES.get(et)
        self.stats.skip(
            f"not-ip: {known}" if known else f"not-ip: ethertype {et:#06x}" if et else "not-ip"
        )
        return _EMPTY

    def _ipv4(self, frame: Frame, data: bytes, off: int, depth: int) -> list[Payload]:
        if len(data) < off + 20:
            return self._bad(frame, Trigger.TRUNCATED, "IPv4 header truncated")
        vihl, _tos, total, ident, fragw, _ttl, proto, _ck, s, d = _IPV4.unpack_from(data, off)
        ihl = (vihl & 0x0F) * 4
        if vihl >> 4 != 4 or ihl < 20:
            return self._bad(
                frame, Trigger.BAD_HEADER, f"bad IPv4 version/header length byte {vihl:#04x}"
            )
        end = off + total
        if end > len(data):
            if frame.orig_len > len(data):
                return self._bad(
                    frame, Trigger.SNAPLEN, f"frame cut by snaplen at {len(data)} bytes"
                )
            return self._bad(
                frame, Trigger.TRUNCATED, f"IPv4 total length {total} exceeds the frame"
            )
        if total < ihl:
            end = len(data)  # TSO-captured packets have total length 0
        payload_off = off + ihl
        src, dst = self._ip(s), self._ip(d)
        if fragw & 0x3FFF:
            self.stats.fragments += 1
            whole = self.fragments.add(
                (4, s, d, ident, proto),
                (fragw & 0x1FFF) * 8,
                bool(fragw & 0x2000),
                data[payload_off:end],
                frame.number,
                frame.ts_ns,
            )
            if whole is None:
                return _EMPTY
            return self._transport(frame, proto, whole, 0, len(whole), src, dst, depth)
        return self._transport(frame, proto, data, payload_off, end, src, dst, depth)

    def _ipv6(self, frame: Frame, data: bytes, off: int, depth: int) -> list[Payload]:
        if len(data) < off + 40:
            return self._bad(frame, Trigger.TRUNCATED, "IPv6 header truncated")
        vtf, plen, nxt, _hop, s, d = _IPV6.unpack_from(data, off)
        if vtf >> 28 != 6:
            return self._bad(frame, Trigger.BAD_HEADER, "bad IPv6 version")
        end = off + 40 + plen
        if end > len(data):
            if frame.orig_len > len(data):
                return self._bad(
                    frame, Trigger.SNAPLEN, f"frame cut by snaplen at {len(data)} bytes"
                )
            return self._bad(
                frame, Trigger.TRUNCATED, f"IPv6 payload length {plen} exceeds the frame"
            )
        pos = off + 40
        src, dst = self._ip(s), self._ip(d)
        while True:
            if nxt in _EXT6:
                if pos + 8 > end:
                    return self._bad(frame, Trigger.TRUNCATED, "IPv6 extension header truncated")
                step = (data[pos + 1] + 2) * 4 if nxt == 51 else (data[pos + 1] + 1) * 8
                nxt = data[pos]
                pos += step
                continue
            if nxt == _PROTO_FRAG:
                if pos + 8 > end:
                    return self._bad(frame, Trigger.TRUNCATED, "IPv6 fragment header truncated")
                inner, _r, offw, ident = _FRAG6.unpack_from(data, pos)
                pos += 8
                self.stats.fragments += 1
                whole = self.fragments.add(
                    (6, s, d, ident, inner),
                    offw & 0xFFF8,
                    bool(offw & 1),
                    data[pos:end],
                    frame.number,
                    frame.ts_ns,
                )
                if whole is None:
                    return _EMPTY
                # the reassembled payload may itself start with more extension headers
                data, pos, end, nxt = whole, 0, len(whole), inner
                while nxt in _EXT6 and pos + 8 <= end:
                    step = (data[pos + 1] + 2) * 4 if nxt == 51 else (data[pos + 1] + 1) * 8
                    nxt = data[pos]
                    pos += step
                return self._transport(frame, nxt, data, pos, end, src, dst, depth)
            return self._transport(frame, nxt, data, pos, end, src, dst, depth)

    # -- transport layer -------------------------------------------------
    def _transport(
        self,
        frame: Frame,
        proto: int,
        data: bytes,
        off: int,
        end: int,
        src: str,
        dst: str,
        depth: int,
    ) -> list[Payload]:
        if proto == _PROTO_UDP:
            if off + 8 > end:
                return self._bad(frame, Trigger.TRUNCATED, "UDP header truncated")
            sport, dport, ulen = _UDP.unpack_from(data, off)
            self.stats.udp += 1
            stop = off + ulen if 8 <= ulen <= end - off else end
            if dport in TUNNEL_UDP_PORTS:
                opened = self._udp_tunnel(frame, dport, data[off + 8 : stop], depth)
                if opened is not None:
                    return opened
            return _datagram(frame, src, sport, dst, dport, data[off + 8 : stop])
        if proto == _PROTO_TCP:
            if off + 20 > end:
                return self._bad(frame, Trigger.TRUNCATED, "TCP header truncated")
            sport, dport, seq, _ack, doff, flags = _TCP.unpack_from(data, off)
            hlen = (doff >> 4) * 4
            if hlen < 20 or off + hlen > end:
                return self._bad(frame, Trigger.BAD_HEADER, f"bad TCP data offset {hlen}")
            self.stats.tcp_segments += 1
            out = self.tcp.segment(
                Endpoint(src, sport),
                Endpoint(dst, dport),
                seq,
                flags,
                data[off + hlen : end],
                frame.number,
                frame.ts_ns,
            )
            if not out:
                self.stats.skip("tcp-no-new-data")
            return out
        if proto == _PROTO_SCTP:
            self.stats.layer("SCTP")
            return self.sctp.packet(src, dst, data, off, end, frame.number, frame.ts_ns)
        if proto in (_PROTO_IPIP, _PROTO_IPV6, _PROTO_GRE):
            if depth >= _MAX_TUNNEL_DEPTH:
                return self._bad(
                    frame, Trigger.TUNNEL, f"tunnels nested deeper than {_MAX_TUNNEL_DEPTH}"
                )
            inner = data[off:end]
            if proto == _PROTO_IPIP:
                return self._ipv4(frame, inner, 0, depth + 1)
            if proto == _PROTO_IPV6:
                return self._ipv6(frame, inner, 0, depth + 1)
            try:
                kind, pos, name = gre(inner, 0, len(inner))
            except TunnelError as exc:
                return self._bad(frame, Trigger.TUNNEL, str(exc))
            self.stats.layer(name)
            return self._network(frame, kind, inner, pos, depth + 1)
        pname = IP_PROTO_NAMES.get(proto)
        self.stats.skip(f"ip-proto-{proto}: {pname}" if pname else f"ip-proto-{proto}")
        return _EMPTY

    def _udp_tunnel(
        self, frame: Frame, port: int, payload: bytes, depth: int
    ) -> list[Payload] | None:
        """VXLAN, Geneve, GTP-U...: the inner packet's payloads, or None (not one after all)."""
        try:
            found = udp_tunnel(port, payload, 0, len(payload))
        except TunnelError as exc:
            return self._bad(frame, Trigger.TUNNEL, str(exc))
        if found is None:
            return None
        if depth >= _MAX_TUNNEL_DEPTH:
            return self._bad(
                frame, Trigger.TUNNEL, f"tunnels nested deeper than {_MAX_TUNNEL_DEPTH}"
            )
        kind, pos, name = found
        self.stats.layer(name)
        return self._network(frame, kind, payload, pos, depth + 1)
