"""``bye-race``: 481 Call/Transaction Does Not Exist in answer to a BYE.

Strategy: a UAS answers 481 to a BYE for a dialog it does not know (RFC 3261
section 15.1.2).  Two very different stories lead there, and the call tells them
apart: both sides hung up at the same moment (each BYE crossed the other, the
later one found the dialog gone: harmless, info), or the far end had already
dropped the dialog without telling (it timed out waiting for an ACK, restarted,
failed over, or its BYE was lost: a warning, because the two sides disagreed
about the call's state for a while).

Rules:
- Takes the 481s to BYE that the claims table (``_claims``) gives it, so
  ``response-code`` does not explain them too.
- "Crossed" means a BYE in the other direction within ``_CROSSING_NS``.
"""

from __future__ import annotations

from collections.abc import Iterator

from ...dialogs.call import Call
from ..annotation import Annotation
from ..knowledge import Severity
from . import register
from ._claims import claimed_by
from ._common import evidence, fmt_delay, iter_originals, response_facts

__all__ = ["ByeRaceRule"]

# Two BYEs sent within one retransmission window (T1 doubling, 4 s) of each other crossed.
_CROSSING_NS = 4_000_000_000


class ByeRaceRule:
    """481 to BYE: both sides hung up at once, or the far end had already dropped the dialog."""

    claimed_only = True
    id = "bye-race"
    description = "481 to a BYE: crossed BYEs (info) or a dialog the far end had already dropped."

    def check(self, call: Call) -> Iterator[Annotation]:
        claimed = claimed_by(call, self.id)
        if not claimed:
            return
        f = response_facts(call, claimed[0])
        bye = f.request
        if bye is None:
            return
        other = next(
            (
                m
                for _, m in iter_originals(call)
                if m.method == "BYE"
                and m.src != bye.src
                and abs(m.ts_ns - bye.ts_ns) <= _CROSSING_NS
            ),
            None,
        )
        frames = [*f.frames]
        if other is not None:
            frames.append(other.frame)
            yield Annotation(
                rule=self.id,
                severity=Severity.INFO,
                title="BYEs crossed: both sides hung up at once (481 to BYE)",
                cause=(
                    f"{bye.src} sent BYE (frame {bye.frame}) and {other.src} sent its own BYE "
                    f"(frame {other.frame}) {fmt_delay(abs(other.ts_ns - bye.ts_ns))} apart; the "
                    f"later one found the dialog already gone and got {f.label} (frame "
                    f"{f.msg.frame}). Both sides agree the call is over: harmless."
                ),
                resolution=("Nothing to fix.",),
                frames=evidence(frames),
                call_id=call.call_id,
                details=(("status", f.label), ("crossing bye", f"frame {other.frame}")),
            )
            return
        yield Annotation(
            rule=self.id,
            severity=Severity.WARNING,
            title=f"BYE for a dialog the far end no longer knows: {f.label}",
            cause=f.cause(
                f"{f.msg.src} had already dropped this dialog when {bye.src} hung up: it "
                "timed out waiting for an ACK, restarted or failed over, or ended the call "
                "with a BYE that never arrived. For a while the two sides disagreed about "
                "whether the call was up (and billing may disagree too)."
            ),
            resolution=f.resolution(
                "Look earlier in the call for a missing ACK (ack-missing) or a BYE from the "
                "other side that did not arrive, and at the far end's log for why it dropped "
                "the dialog.",
                "Check that in-dialog requests reach the same server (Record-Route, failover, "
                "load balancer stickiness).",
            ),
            frames=evidence(frames),
            call_id=call.call_id,
            details=tuple(f.details),
        )


register(ByeRaceRule())
