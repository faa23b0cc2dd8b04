"""``routing-loop``: 482 Loop Detected, 483 Too Many Hops, or a request that came back.

Strategy: every proxy adds a Via (RFC 3261 section 16.6 step 8) and decrements
Max-Forwards (step 3), so the Via list of the rejected request is the path it
took, top (last hop) first, and Max-Forwards says how much budget was left.  A
proxy answers 482 when it finds its own address in Via with the same request
(section 16.3 step 4) and 483 when Max-Forwards reaches 0.  Without either
response, a loop is still visible when the same request (method, CSeq,
Request-URI) reaches the same address again with a longer Via list.

Rules:
- 482/483 are claimed from ``response-code`` (see ``_claims``) and explained
  with the hops; error severity, from the knowledge base.
- A sent-by appearing twice in one Via list is named: it is the hop the
  request came back through.
- A spiral (the same proxy visited again with a *different* Request-URI) is
  legitimate and not reported.
"""

from __future__ import annotations

from collections.abc import Iterator

from ...dialogs.call import Call
from ...sip.message import SipMessage
from ..annotation import Annotation
from ..knowledge import Severity, lookup
from . import register
from ._claims import claimed_by
from ._common import (
    evidence,
    iter_originals,
    kb_resolution,
    plural,
    quote,
    response_facts,
)

__all__ = ["RoutingLoopRule", "via_hops"]


def via_hops(msg: SipMessage) -> list[str]:
    """The sent-by of every Via, top (most recent hop) first: ``["10.0.0.2:5060", ...]``."""
    hops = []
    for v in msg.headers.get_all("via"):
        parts = v.split(";", 1)[0].split()
        if len(parts) >= 2:
            hops.append(parts[1].lower())
    return hops


def _repeated(hops: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for h in hops:
        if h in seen and h not in out:
            out.append(h)
        seen.add(h)
    return out


_RESOLUTION = (
    "Follow the Via list (last hop first) and find the two routing entries that point at "
    "each other: a dial plan, an outbound route, a trunk or a DNS record sending the call "
    "back where it came from.",
    "Make sure every proxy recognises all of its own addresses and domains (aliases), so "
    "it does not forward to itself.",
)


class RoutingLoopRule:
    """482/483, or the same request seen again at the same hop with more Vias."""

    id = "routing-loop"
    description = (
        "A routing loop: 482 Loop Detected, 483 Too Many Hops, or a request that returned."
    )

    def check(self, call: Call) -> Iterator[Annotation]:
        claimed = claimed_by(call, self.id)
        done: set[int] = set()
        for i in claimed:
            f = response_facts(call, i)
            if f.msg.status in done:
                continue
            done.add(f.msg.status)
            req = f.request
            hops = via_hops(req) if req is not None else []
            mf = (req.headers.get("max-forwards") or "").strip() if req is not None else ""
            extra = []
            if hops:
                extra.append(
                    f"The {f.method} had passed {plural(len(hops), 'hop')}; its Via list, last hop first: "
                    f"{' <- '.join(hops)}."
                )
            if mf:
                extra.append(f"It arrived with Max-Forwards: {quote(mf, 20)}.")
            if f.msg.status == 482 and str(f.msg.src).lower() in hops[1:]:
                extra.append(
                    f"{f.msg.src}, the server that answered, is already in that list: the "
                    "request had passed it before."
                )
            again = _repeated(hops)
            if again:
                extra.append(
                    f"{', '.join(again)} appears more than once in Via: the request came back through it."
                )
            details = list(f.details)
            if hops:
                details.append(("via hops", " <- ".join(hops)))
            if mf:
                details.append(("max-forwards", quote(mf, 20)))
            yield Annotation(
                rule=self.id,
                severity=f.info.severity,
                title=f"{f.method} rejected: {f.label}",
                cause=f.cause(*extra),
                resolution=f.resolution(*_RESOLUTION),
                frames=f.frames,
                call_id=call.call_id,
                details=tuple(details),
            )
        if not claimed:
            ann = self._returned(call)
            if ann is not None:
                yield ann

    def _returned(self, call: Call) -> Annotation | None:
        seen: dict[tuple[str, int, str, str, int], SipMessage] = {}
        for _, m in iter_originals(call):
            if m.status != 0 or m.method == "ACK":
                continue
            key = (m.method, m.cseq_num, m.uri, m.dst.ip, m.dst.port)
            prev = seen.get(key)
            if prev is None:
                seen[key] = m
                continue
            before, after = via_hops(prev), via_hops(m)
            if m.branch == prev.branch or len(after) <= len(before):
                continue
            return Annotation(
                rule=self.id,
                severity=Severity.ERROR,
                title=f"{m.method} came back to {m.dst}: routing loop",
                cause=(
                    f"The same {m.method} (CSeq {m.cseq_num}, Request-URI {quote(m.uri, 80)}) "
                    f"reached {m.dst} in frame {prev.frame} with {plural(len(before), 'Via hop')} and "
                    f"again in frame {m.frame} with {len(after)}: it went round and came back. "
                    "Each pass costs Max-Forwards until a proxy answers 483 Too Many Hops."
                ),
                resolution=kb_resolution(lookup(482), *_RESOLUTION),
                frames=evidence([prev.frame, m.frame]),
                call_id=call.call_id,
                details=(
                    ("via hops", " <- ".join(after)),
                    ("max-forwards", quote(m.headers.get("max-forwards") or "-", 20)),
                ),
            )
        return None


register(RoutingLoopRule())
