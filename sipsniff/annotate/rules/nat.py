"""Addresses that do not match the packet: ``nat-private-address`` and ``sdp-address-mismatch``.

Strategy: a NAT rewrites the IP header but not the SIP text.  A private address
(RFC 1918), a shared carrier-grade NAT address (RFC 6598), a link-local or a
unique-local IPv6 address in a Contact, a Via or an SDP is NAT evidence only
where the text and what the network shows of its author *cross realms*: the
text names one network and the author was seen in another.  Whatever is sent
later to such an address (the ACK and BYE to the Contact, RTP to the SDP
address) goes nowhere unless a server compensates (RFC 3581 rport,
"nat=force_rport,comedia", media latching).

Being private is not evidence by itself.  Whole networks are private end to
end: an enterprise LAN whose hosts, Contacts and SDP are all in 10.0.0.0/8,
with SDP pointing at a media server; IPv6 unique-local hosts in one /64; a
B2BUA and its phones in one /24; a proxy relaying a phone's INVITE.  An SDP
address that differs from the signalling source is normal too (media servers,
B2BUAs, gateways).  The rule once compared every Contact and SDP with the
packet source, so it flagged all of those, and took a proxy relaying a message
for its author (issue 15: OpenSIPS relaying a browser's INVITE with the
Contact it had itself fixed to the browser's source address; FreeSWITCH's own
Contact relayed by OpenSIPS).

Rules:
- Realms: a private text address and an observed address of its author cross
  realms when they are different IPs and the observed one is public (or
  loopback), or scoped but of another kind in the same family (private against
  shared, link-local or unique-local).  Two RFC 1918 addresses (any blocks),
  two unique-local, two link-local or two shared addresses are one realm (two
  hosts of one subnet always are), and so are an RFC 1918 text and a
  unique-local or link-local IPv6 sender (one dual-stack site; a NAT does not
  change the family): not evidence.  Loopback counts as outside: in a lab
  capture it stands for the NAT's public side (``captures/call_nat.pcap``).
  Host names are never compared.
- Who wrote what (RFC 3261 sections 8.1.1.7, 16.6, 18.2.1), and what it is
  compared with:
  - a request's top Via is its sender's own: its sent-by against the packet
    source;
  - a request with one Via came from its originator, no proxy in between: its
    Contact and SDP against the packet source;
  - a request with several Vias was relayed: its Contact and SDP (the
    originator's, or what a proxy fixed them to) against the originating hop,
    the bottom Via's ``received=`` or else its sent-by, never against the
    relaying proxy; an originating hop known only by a host name is not
    compared;
  - a response's own Contact (to INVITE, SUBSCRIBE, UPDATE, NOTIFY, REFER; not
    the bindings a 2xx to REGISTER lists, nor 3xx targets) and its SDP against
    the packet source, as a response does not say who relayed it.
- ``received=`` that crosses realms with its Via's sent-by (written by the
  next hop, RFC 3261 section 18.2.1; in responses, or in the lower Vias of a
  relayed request) shows that device behind a NAT wherever the capture was
  taken, on the LAN side too.  Its private Contact and SDP in the requests it
  originated in the call (its Via on top of a request with one Via, or at the
  bottom of a relayed one) are then reported, with the frame of the
  ``received=`` as proof.  The Via itself is not reported for that: a
  ``received=`` is the peer compensating for it (RFC 3261 section 18.2.2), so
  responses find the way back, and a device whose only private address is its
  Via gets no annotation (OpenSIPS behind a 1:1 cloud NAT in the WebSocket
  capture: it relays, and writes no Contact or SDP of its own).  Responses are not tied to a device this way: a proxy relays
  them with the Contact of whoever answered.
- A request refused by a 401/407 challenge is left out (its ``received=``
  still counts as proof): nothing is ever sent to the addresses it carried, and
  the request resent with credentials carries them again, so a phone that
  registers every few minutes is not reported on each challenge.
- ``nat-private-address`` (warning): one annotation per call listing each such
  address, where it appeared (Contact, Via, SDP), the frames, and where its
  author was seen.  Failures that follow (ACK or in-dialog request never
  arriving, one-way audio) are other rules' findings.
- ``sdp-address-mismatch`` (info): an SDP connection address that is a public
  IP but not the signalling source.  Media gateways and SBC media relays do
  this legitimately, so it is context for one-way-audio hunting, not a fault.
  Private addresses are left to ``nat-private-address`` (which reports them
  only across realms); 0.0.0.0 (hold) to ``media-direction``; hostnames cannot
  be compared and are skipped.
- Addresses compare as IPs: ``fe80:0:0:0::1`` is ``fe80::1``.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Iterator
from typing import TypeVar

from ...dialogs.call import Call
from ...sip.headers import param
from ...sip.message import SipMessage
from ..annotation import Annotation
from ..knowledge import Severity
from . import register
from ._common import (
    address_scope,
    contact_host,
    evidence,
    ip_kind,
    iter_originals,
    plural,
    same_ip,
    sentences,
)

__all__ = ["NatPrivateAddressRule", "SdpAddressMismatchRule", "crosses_realms"]


# Cheap C-level prefilters over the raw message: every private, shared, link-local or
# unique-local address (v4, v4-mapped or v6) matches one of them; a message matching neither
# cannot name one, so its headers are not parsed for this rule. A false positive (``110.``)
# only costs the full check. No look-behind: it would defeat the regex engine's fast scan.
_MAYBE_V4 = re.compile(
    rb"(?:10|192\.168|172\.(?:1[6-9]|2[0-9]|3[01])|100\.(?:6[4-9]|[7-9][0-9]|1[01][0-9]|12[0-7])"
    rb"|169\.254)\.[0-9]"
)
_MAYBE_V6 = re.compile(rb"(?:fe[89ab]|f[cd]|FE[89AB]|F[CD])[0-9a-fA-F]{0,2}:")
# ``_MAYBE_V6`` starts with a character class, which the regex engine tests at every
# byte (1.6 us a message).  Any IPv6 address text holds "::" or, written in full or
# with an IPv4 tail, six colons between hex groups: this scan starts on a literal
# ':' and is four times cheaper, so ``_MAYBE_V6`` runs only where IPv6 may be.
_H = rb"[0-9a-fA-F]{1,4}"
_ANY_V6 = re.compile(rb":(?::|" + _H + rb":" + _H + rb":" + _H + rb":" + _H + rb":" + _H + rb":)")


def _maybe_scoped(raw: bytes) -> bool:
    return _MAYBE_V4.search(raw) is not None or (
        _ANY_V6.search(raw) is not None and _MAYBE_V6.search(raw) is not None
    )


# Responses whose Contact is the responder's own address (a dialog's remote target). A 2xx
# to REGISTER lists the registered bindings (RFC 3261 10.3) and a 3xx the redirect targets:
# neither says where the responder itself is.
_OWN_CONTACT = frozenset({"INVITE", "SUBSCRIBE", "UPDATE", "NOTIFY", "REFER"})

_WHERE_ORDER = ("Contact", "Via", "SDP")
_RPORT = re.compile(r";[ \t]*rport\b", re.IGNORECASE)


def crosses_realms(text: str, seen: str) -> bool:
    """Is ``text`` (an address written in SIP) in another realm than ``seen`` (where its author was seen)?

    True only when ``text`` is private, shared, link-local or unique-local, ``seen`` is an
    IP (unicast or loopback) other than ``text``, and ``seen`` is public or loopback, or is
    scoped too but of another kind in the same family: ``10.0.0.5`` written by a host seen at
    ``192.168.1.9`` is one private realm (False), ``192.168.1.20`` seen at ``203.0.113.5``
    or at ``100.64.0.9`` crossed a NAT (True).  A private IPv4 text from a unique-local IPv6
    sender is one dual-stack site, not a NAT (False).  Host names give False.
    """
    scope = address_scope(text)
    if not scope or ip_kind(seen) not in ("unicast", "loopback") or same_ip(text, seen):
        return False
    other = address_scope(seen)
    return not other or (other != scope and _family(text) == _family(seen))


@functools.lru_cache(maxsize=1024)
def _family(text: str) -> int:
    """4 or 6 (an IPv4-mapped IPv6 address is 4), 0 for what is no IP."""
    try:
        ip = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return 0
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is None:
        return 6
    return 4


def _host(hostport: str) -> str:
    """``10.0.0.1:5060`` -> ``10.0.0.1``; ``[fe80::1]:5060`` -> ``fe80::1``."""
    hostport = hostport.strip()
    if hostport.startswith("["):
        return hostport[1:].split("]", 1)[0]
    if hostport.count(":") > 1:  # a bare IPv6 address, no port
        return hostport
    return hostport.split(":", 1)[0]


def _sent_by(via: str) -> str:
    """Host of one Via value's sent-by (``SIP/2.0/UDP 10.0.0.1:5060;branch=...``)."""
    parts = via.split(";", 1)[0].split()
    return _host(parts[1]) if len(parts) >= 2 else ""


def _received(via: str) -> str:
    """A Via value's ``received=`` address ('' when absent)."""
    return param(via, "received").strip("[]")


_T = TypeVar("_T", str, int)


class _Seen:
    """Where one private address was seen (a builder local to one check)."""

    __slots__ = ("frames", "proof", "scope", "seen_at", "sources", "where")

    def __init__(self, scope: str) -> None:
        self.scope = scope
        self.where: list[str] = []
        self.frames: list[int] = []
        self.sources: list[str] = []  # packet sources of messages sent by the address's author
        self.seen_at: list[str] = []  # other observations of the author, described
        self.proof: list[int] = []  # frames of those observations

    def add(self, where: str, frame: int, source: str = "", seen: str = "", proof: int = 0) -> None:
        _put(self.where, where)
        _put(self.frames, frame)
        _put(self.sources, source)
        _put(self.seen_at, seen)
        _put(self.proof, proof)


def _put(items: list[_T], value: _T) -> None:
    if value and value not in items:
        items.append(value)


class _Authored:
    """A private Contact/SDP address of a request, kept until we know whether its author is behind NAT."""

    __slots__ = ("addr", "author", "frame", "rport", "where")

    def __init__(self, author: str, where: str, addr: str, frame: int, rport: bool) -> None:
        self.author = author
        self.where = where
        self.addr = addr
        self.frame = frame
        self.rport = rport


def _addresses(m: SipMessage, contact: bool) -> list[tuple[str, str]]:
    """``(where, address)`` of the Contact (when ``contact``) and SDP connection addresses."""
    places: list[tuple[str, str]] = []
    if contact:
        places.append(("Contact", contact_host(m)))
    if m.sdp is not None:
        places.extend(("SDP", md.connection) for md in m.sdp.media)
        places.append(("SDP", m.sdp.connection))
    return [(w, a) for w, a in places if a and address_scope(a)]


def _challenged(call: Call) -> frozenset[int]:
    """Indices of the requests (and their ACKs) a 401/407 challenge refused."""
    return frozenset(
        i
        for t in call.transactions
        if t.final_status in (401, 407)
        for i in (*t.requests, t.ack)
        if i >= 0
    )


class NatPrivateAddressRule:
    """A private/shared/link-local address in Contact, Via or SDP whose author was seen in another realm."""

    id = "nat-private-address"
    description = (
        "A private address in Contact, Via or SDP of a device seen from another network (NAT)."
    )

    def check(self, call: Call) -> Iterator[Annotation]:
        found: dict[str, _Seen] = {}
        natted: list[tuple[str, str, int]] = []  # (Via sent-by, received=, frame)
        authored: list[_Authored] = []
        rport = False
        challenged: frozenset[int] | None = None
        for i, m in iter_originals(call):
            if not _maybe_scoped(m.raw):
                continue  # no such address anywhere in the text: skip the header parse
            vias = m.headers.get_all("via")
            # received= written by a next hop: in a request below the sender's own top Via,
            # in a response on every Via (the requests' Vias, echoed back)
            for v in vias if m.status else vias[1:]:
                host, rcv = _sent_by(v), _received(v)
                if (
                    rcv
                    and crosses_realms(host, rcv)
                    and not any(same_ip(host, h) and same_ip(rcv, r) for h, r, _ in natted)
                ):
                    natted.append((host, rcv, m.frame))
            if m.status:
                if m.status < 300 and m.cseq_method in _OWN_CONTACT:
                    places = _addresses(m, contact=True)
                else:
                    places = _addresses(m, contact=False)
                for where, addr in places:
                    if crosses_realms(addr, m.src.ip):
                        found.setdefault(addr, _Seen(address_scope(addr))).add(
                            where, m.frame, source=m.src.ip
                        )
                continue
            if challenged is None:
                challenged = _challenged(call)
            if i in challenged:
                continue  # resent with credentials: its addresses count there, if anywhere
            top = vias[0] if vias else ""
            own = top if len(vias) <= 1 else vias[-1]  # the originator's Via
            asks_rport = _RPORT.search(own) is not None
            author = _sent_by(own)
            if len(vias) <= 1:
                origin, seen = m.src.ip, ""
            else:
                rcv = _received(own)
                origin = rcv or author
                how = "received=" if rcv else "sent-by"
                seen = f"{origin} (the originating hop: the bottom Via's {how})"
            for where, addr in _addresses(m, contact=True):
                if crosses_realms(addr, origin):
                    e = found.setdefault(addr, _Seen(address_scope(addr)))
                    if seen:
                        e.add(where, m.frame, seen=seen)
                    else:
                        e.add(where, m.frame, source=m.src.ip)
                    rport = rport or asks_rport
                elif author:
                    authored.append(_Authored(author, where, addr, m.frame, asks_rport))
            # the top Via is the sender's own, whoever wrote the rest
            sent_by = _sent_by(top)
            if crosses_realms(sent_by, m.src.ip):
                found.setdefault(sent_by, _Seen(address_scope(sent_by))).add(
                    "Via", m.frame, source=m.src.ip
                )
                rport = rport or _RPORT.search(top) is not None
        for a in authored:
            for host, rcv, frame in natted:
                if same_ip(a.author, host) and crosses_realms(a.addr, rcv):
                    found.setdefault(a.addr, _Seen(address_scope(a.addr))).add(
                        a.where,
                        a.frame,
                        seen=f"{rcv} (the received= its peer wrote in the Via of frame {frame})",
                        proof=frame,
                    )
                    rport = rport or a.rport
                    break
        if not found:
            return
        yield self._annotation(call, found, rport)

    def _annotation(self, call: Call, found: dict[str, _Seen], rport: bool) -> Annotation:
        parts = []
        details: list[tuple[str, str]] = []
        outside = False  # some author was seen only past the capture point (received=, relay)
        for e in found.values():
            e.where.sort(key=_WHERE_ORDER.index)
        for addr, e in found.items():
            seen = []
            if e.sources:
                seen.append(f"that came from {', '.join(e.sources)}")
            if e.seen_at:
                outside = True
                seen.append(f"whose author was seen at {', '.join(e.seen_at)}")
            parts.append(
                f"{addr}, a {e.scope} address, appears in {' and '.join(e.where)} of "
                f"{plural(len(e.frames), 'message')} (first in frame {e.frames[0]}) "
                f"{' and '.join(seen)}."
            )
            said = [f"sent from {', '.join(e.sources)}"] if e.sources else []
            said += [f"author seen at {s}" for s in e.seen_at]
            details.append((addr, f"{e.scope}; in {', '.join(e.where)}; {'; '.join(said)}"))
        tail = (
            "whatever is sent to these addresses later goes nowhere: the ACK and in-dialog "
            "requests to the Contact (calls dropped after 32 s, BYE lost) and RTP to the SDP "
            "address (one-way or no audio)."
        )
        if outside:
            parts.append(
                "The text names a private network while its author was seen from another, so a "
                "NAT between that device and its peers translated the packets but not the SIP "
                f"text, and {tail}"
            )
        else:
            parts.append(
                "A NAT between that device and the capture point translated the packets but not "
                f"the SIP text, so {tail}"
            )
        if rport:
            parts.append(
                "The top Via asks for rport (RFC 3581), so responses still find the way back; "
                "requests to the Contact and media do not unless the server fixes them."
            )
        first_addr, first = next(iter(found.items()))
        more = f" (+{len(found) - 1} more)" if len(found) > 1 else ""
        return Annotation(
            rule=self.id,
            severity=Severity.WARNING,
            title=f"Private address {first_addr}{more} in {', '.join(first.where)} behind NAT",
            cause=sentences(*parts),
            resolution=(
                "On the PBX/SBC, enable NAT handling for this peer: use the packet's source "
                "address and port for replies and in-dialog requests (rport, "
                "nat=force_rport,comedia, or 'fix Contact'), and latch RTP to where it "
                "really comes from.",
                "On the device, configure its public address (or STUN/ICE, or an outbound "
                "proxy with keep-alives) so it advertises an address reachable from outside.",
                "Disable the SIP ALG on the NAT router: it rewrites some of these fields "
                "inconsistently and makes the problem harder to see.",
                "Keep NAT bindings open with keep-alives (CRLF, OPTIONS) or a short "
                "registration interval.",
            ),
            frames=evidence(
                *(e.frames for e in found.values()), *(e.proof for e in found.values())
            ),
            call_id=call.call_id,
            details=tuple(details),
        )


class SdpAddressMismatchRule:
    """A public SDP connection address that is not the signalling source."""

    id = "sdp-address-mismatch"
    description = (
        "The SDP media address differs from the signalling source (context for one-way audio)."
    )

    def check(self, call: Call) -> Iterator[Annotation]:
        seen: dict[tuple[str, str], list[int]] = {}
        for _, m in iter_originals(call):
            if m.sdp is None:
                continue
            for md in m.sdp.media:
                addr = md.connection
                if md.port == 0 or ip_kind(addr) != "unicast":
                    continue
                if address_scope(addr) or same_ip(addr, m.src.ip):
                    continue
                seen.setdefault((addr, m.src.ip), []).append(m.frame)
        if not seen:
            return
        (addr, src), frames = next(iter(seen.items()))
        others = [
            f"{a} (from {s}, frames {', '.join(map(str, fl))})"
            for (a, s), fl in list(seen.items())[1:]
        ]
        cause = (
            f"The SDP in frame {frames[0]} puts media at {addr} while the message came from "
            f"{src}: media and signalling use different hosts. That is normal for a media "
            "gateway, an SBC media relay or a separate media server. If audio is one-way or "
            "missing, check that this address is reachable from the other side and really is "
            "where the device receives RTP."
        )
        if others:
            cause += " Also: " + "; ".join(others) + "."
        yield Annotation(
            rule=self.id,
            severity=Severity.INFO,
            title=f"SDP media address {addr} differs from signalling source {src}",
            cause=cause,
            resolution=(
                "Nothing to fix if a media gateway or relay is expected at that address.",
                "Otherwise, check the device's advertised media address (RTP/SDP settings, "
                "STUN) and firewall rules for RTP to and from it.",
            ),
            frames=evidence(*seen.values()),
            call_id=call.call_id,
            details=tuple((a, f"signalling from {s}") for (a, s) in seen),
        )


register(NatPrivateAddressRule())
register(SdpAddressMismatchRule())
