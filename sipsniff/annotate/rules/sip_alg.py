"""``sip-alg-rewrite``: one message seen on both sides of a box that rewrote its addresses.

Strategy: a proxy or SBC that forwards a request adds its own Via with a new
branch (RFC 3261 section 16.6).  A SIP ALG in a NAT router does not: it rewrites
the addresses in the SIP text (top Via, Contact, SDP c= and m= ports) in place
and keeps the branch.  So when the capture sees the same message twice (same
Call-ID, CSeq, method or status, and top Via branch) from two different source
addresses, and the SIP addresses differ between the copies, a box between the
two capture points rewrote SIP without being a SIP hop: the signature of an ALG.
ALGs are the most common cause of one-way audio, missing ACKs and failed
registrations that "work from another network".

Rules:
- Warning, one annotation per call, listing what changed (field: before -> after)
  and the two frames of each pair.
- Two copies with identical SIP text are plain NAT (or a mirror port), not reported.
"""

from __future__ import annotations

from collections.abc import Iterator

from ...dialogs.call import Call
from ...sip.message import SipMessage
from ..annotation import Annotation
from ..knowledge import Severity
from . import register
from ._common import contact_host, evidence, iter_originals, quote, sentences, top_via_host

__all__ = ["SipAlgRule", "rewritten_fields"]


def _sdp_addresses(m: SipMessage) -> str:
    if m.sdp is None:
        return ""
    return ", ".join(f"{md.connection}:{md.port}" for md in m.sdp.media)


def rewritten_fields(a: SipMessage, b: SipMessage) -> list[tuple[str, str, str]]:
    """``(field, before, after)`` for each address field that differs between two copies."""
    out = []
    for name, get in (
        ("Via", top_via_host),
        ("Contact", contact_host),
        ("SDP media", _sdp_addresses),
    ):
        va, vb = get(a), get(b)
        if va != vb and (va or vb):
            out.append((name, va or "-", vb or "-"))
    return out


class SipAlgRule:
    """The same message captured on both sides of a box that rewrote its SIP addresses."""

    id = "sip-alg-rewrite"
    description = (
        "A message seen on both sides of a NAT with its SIP addresses rewritten (SIP ALG)."
    )

    def check(self, call: Call) -> Iterator[Annotation]:
        first_copy: dict[tuple[str, int, str, int, str], SipMessage] = {}
        pairs: list[tuple[SipMessage, SipMessage, list[tuple[str, str, str]]]] = []
        for _, m in iter_originals(call):
            if not m.branch:
                continue
            key = (m.cseq_method, m.cseq_num, m.method, m.status, m.branch)
            prev = first_copy.get(key)
            if prev is None:
                first_copy[key] = m
                continue
            if prev.src == m.src and prev.dst == m.dst:
                continue
            changed = rewritten_fields(prev, m)
            if changed:
                pairs.append((prev, m, changed))
        if not pairs:
            return
        parts = []
        details: list[tuple[str, str]] = []
        for a, b, changed in pairs[:5]:
            what = "; ".join(f"{f} {quote(x, 60)} -> {quote(y, 60)}" for f, x, y in changed)
            parts.append(
                f"{a.label} (frame {a.frame}, {a.src} -> {a.dst}) reappears as frame {b.frame} "
                f"({b.src} -> {b.dst}) with the same Via branch but rewritten: {what}."
            )
            for f, x, y in changed:
                details.append(
                    (f"{f} (frames {a.frame}/{b.frame})", f"{quote(x, 80)} -> {quote(y, 80)}")
                )
        parts.append(
            "A SIP proxy would have added its own Via; keeping the branch while changing "
            "addresses is what a SIP ALG in a NAT router does. ALGs often rewrite only some "
            "fields, or get ports wrong, which breaks ACKs, BYEs, registrations and audio."
        )
        yield Annotation(
            rule=self.id,
            severity=Severity.WARNING,
            title=f"SIP ALG rewrote {', '.join(sorted({f for *_, ch in pairs for f, _, _ in ch}))}"
            f" between {pairs[0][0].src.ip} and {pairs[0][1].src.ip}",
            cause=sentences(*parts),
            resolution=(
                "Disable the SIP ALG (often called 'SIP helper', 'SIP fixup', 'SIP "
                "transformations' or 'SIP inspection') on the router or firewall between the "
                "two capture points.",
                "Let the PBX/SBC handle NAT instead (rport, Contact fixing, media latching), or "
                "use TLS so that no middlebox can rewrite the signalling.",
            ),
            frames=evidence(*([a.frame, b.frame] for a, b, _ in pairs)),
            call_id=call.call_id,
            details=tuple(details),
        )


register(SipAlgRule())
