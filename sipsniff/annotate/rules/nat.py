"""Addresses that do not match the packet: ``nat-private-address`` and ``sdp-address-mismatch``.

Strategy: a NAT rewrites the IP header but not the SIP text, so a message that
names a private address (RFC 1918), a shared carrier-grade NAT address (RFC
6598), a link-local or a unique-local IPv6 address in its Contact, its own top
Via or its SDP, while the packet itself came from another address, was
translated on its way to the capture point.  Whatever is sent to that address
later (the ACK and BYE to the Contact, RTP to the SDP address) goes nowhere
unless a server compensates (RFC 3581 rport, "nat=force_rport,comedia",
media latching).

Rules:
- ``nat-private-address`` (warning): one annotation per call listing each such
  address, where it appeared (Contact, Via, SDP) and the frames; only the
  *top* Via of a request counts (lower ones were written by earlier hops, and
  a response's Via is the requester's), and a response's Contact only when it
  is the responder's own (not the bindings a 2xx to REGISTER lists, nor 3xx
  redirect targets).
- ``sdp-address-mismatch`` (info): an SDP connection address that is a public
  IP but not the signalling source.  Media gateways and SBC media relays do
  this legitimately, so it is context for one-way-audio hunting, not a fault.
  Private addresses are left to ``nat-private-address``; 0.0.0.0 (hold) to
  ``media-direction``; hostnames cannot be compared and are skipped.
- Addresses compare as IPs: ``fe80:0:0:0::1`` is ``fe80::1``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ...dialogs.call import Call
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
    top_via_host,
)

__all__ = ["NatPrivateAddressRule", "SdpAddressMismatchRule"]


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


class _Seen:
    """Where one private address was seen (a builder local to one check)."""

    __slots__ = ("frames", "scope", "sources", "where")

    def __init__(self, scope: str) -> None:
        self.scope = scope
        self.where: list[str] = []
        self.frames: list[int] = []
        self.sources: list[str] = []

    def add(self, where: str, frame: int, source: str) -> None:
        for items, value in ((self.where, where), (self.frames, frame), (self.sources, source)):
            if value not in items:
                items.append(value)  # type: ignore[arg-type]


class NatPrivateAddressRule:
    """A private/shared/link-local address in Contact, Via or SDP, sent from another address."""

    id = "nat-private-address"
    description = "A private address in Contact, Via or SDP of a packet from another address (NAT)."

    def check(self, call: Call) -> Iterator[Annotation]:
        found: dict[str, _Seen] = {}
        rport = False
        for _, m in iter_originals(call):
            if not _maybe_scoped(m.raw):
                continue  # no such address anywhere in the text: skip the header parse
            places: list[tuple[str, str]] = []
            if m.status == 0:
                places += [("Contact", contact_host(m)), ("Via", top_via_host(m))]
            elif m.status < 300 and m.cseq_method in _OWN_CONTACT:
                places.append(("Contact", contact_host(m)))
            if m.sdp is not None:
                places.extend(("SDP", md.connection) for md in m.sdp.media)
                places.append(("SDP", m.sdp.connection))
            for where, addr in places:
                if not addr or same_ip(addr, m.src.ip):
                    continue
                scope = address_scope(addr)
                if not scope:
                    continue
                found.setdefault(addr, _Seen(scope)).add(where, m.frame, m.src.ip)
                if m.status == 0 and where == "Via":
                    rport = rport or "rport" in (m.headers.get_all("via") or [""])[0].lower()
        if not found:
            return
        parts = []
        details: list[tuple[str, str]] = []
        for addr, e in found.items():
            srcs = ", ".join(e.sources)
            parts.append(
                f"{addr}, a {e.scope} address, appears in {' and '.join(e.where)} of "
                f"{plural(len(e.frames), 'message')} (first in frame {e.frames[0]}) that came from {srcs}."
            )
            details.append((addr, f"{e.scope}; in {', '.join(e.where)}; sent from {srcs}"))
        parts.append(
            "A NAT between that device and the capture point translated the packets but not "
            "the SIP text, so whatever is sent to these addresses later goes nowhere: the "
            "ACK and in-dialog requests to the Contact (calls dropped after 32 s, BYE lost) "
            "and RTP to the SDP address (one-way or no audio)."
        )
        if rport:
            parts.append(
                "The top Via asks for rport (RFC 3581), so responses still find the way back; "
                "requests to the Contact and media do not unless the server fixes them."
            )
        first_addr, first = next(iter(found.items()))
        more = f" (+{len(found) - 1} more)" if len(found) > 1 else ""
        yield Annotation(
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
            frames=evidence(*(e.frames for e in found.values())),
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
