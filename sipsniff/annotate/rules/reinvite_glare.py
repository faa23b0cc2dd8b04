"""``reinvite-glare``: 491 Request Pending, two offers in flight at once.

Strategy: when both sides of a dialog send a re-INVITE (or UPDATE) at the same
time, each answers the other's with 491 (RFC 3261 section 14.2) and both retry
after a random wait: 2.1-4 s for the side that owns the Call-ID, 0-2 s for the
other (section 14.1).  That is the protocol working (info, as the knowledge
base says) when the retry succeeded; a 491 never followed by a successful retry
means the media change (hold, resume, transfer, codec switch) never happened: a
warning.

Rules:
- Takes the 491s the claims table (``_claims``) gives it.
- The crossing request from the other side, when captured, is named as evidence.
"""

from __future__ import annotations

from collections.abc import Iterator

from ...dialogs.call import Call
from ..annotation import Annotation
from ..knowledge import Severity
from . import register
from ._claims import claimed_by
from ._common import evidence, fmt_delay, response_facts

__all__ = ["ReinviteGlareRule"]


class ReinviteGlareRule:
    """491 Request Pending, and whether the retry after it succeeded."""

    claimed_only = True
    id = "reinvite-glare"
    description = "491 Request Pending: crossing re-INVITEs/UPDATEs, and whether the retry worked."

    def check(self, call: Call) -> Iterator[Annotation]:
        msgs = call.messages
        for i in claimed_by(call, self.id)[:1]:
            f = response_facts(call, i)
            req = f.request
            frames = list(f.frames)
            parts = [f.opening]
            if req is not None:
                crossing = next(
                    (
                        t
                        for t in call.transactions
                        if t.method in ("INVITE", "UPDATE")
                        and t.requests
                        and msgs[t.requests[0]].src != req.src
                        and abs(msgs[t.requests[0]].ts_ns - req.ts_ns) < 32_000_000_000
                        and msgs[t.requests[0]].to_tag
                    ),
                    None,
                )
                if crossing is not None:
                    c = msgs[crossing.requests[0]]
                    frames.append(c.frame)
                    parts.append(
                        f"{c.src} had its own {c.method} in flight (frame {c.frame}): the two "
                        "offers crossed (glare)."
                    )
            retry = next(
                (
                    t
                    for t in call.transactions
                    if req is not None
                    and t.method == f.method
                    and t.cseq > f.msg.cseq_num
                    and t.requests
                    and msgs[t.requests[0]].src == req.src
                    and msgs[t.requests[0]].ts_ns > f.msg.ts_ns
                ),
                None,
            )
            ok = retry is not None and 200 <= retry.final_status < 300
            if retry is not None:
                r = msgs[retry.requests[0]]
                frames.append(r.frame)
                parts.append(
                    f"The {f.method} was retried {fmt_delay(r.ts_ns - f.msg.ts_ns)} later "
                    f"(frame {r.frame}) and "
                    + (
                        "succeeded: the protocol resolved the glare."
                        if ok
                        else f"ended with {retry.final_status or 'no final response'}."
                    )
                )
            else:
                parts.append(
                    f"The {f.method} was never retried, so the change it carried (hold, resume, "
                    "transfer, codec switch) did not happen."
                )
            yield Annotation(
                rule=self.id,
                severity=Severity.INFO if ok else Severity.WARNING,
                title=f"{f.method} glare: {f.label}"
                + (", retried successfully" if ok else ", not resolved"),
                cause=" ".join(parts),
                resolution=f.resolution(
                    "If glare is frequent, check which features send re-INVITEs/UPDATEs on both "
                    "sides at once (session timers, hold, codec renegotiation) and let only one "
                    "side refresh.",
                ),
                frames=evidence(frames),
                call_id=call.call_id,
                details=(
                    *f.details,
                    ("retried", "succeeded" if ok else "no" if retry is None else "failed"),
                ),
            )


register(ReinviteGlareRule())
