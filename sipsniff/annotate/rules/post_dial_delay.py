"""``post-dial-delay``: the caller waited too long in silence before ringing (or an answer).

Strategy: post-dial delay (PDD) is the time from the INVITE to the first sign of
life the caller can hear: 180 Ringing or 183 Session Progress, or the answer
when no ringing came.  ITU-T E.721 sets mean post-selection delay
objectives of 3 to 8 s depending on the call type; ``PDD_WARN_S`` flags calls
past the middle of that range.  Long PDD comes from routing, not from the
callee: DNS lookups that time out, failover across dead trunks (each costs a
Timer B), slow number-portability or ENUM dips, an overloaded PBX.

Rules:
- Only the call's first INVITE counts (a re-INVITE has no ringing).
- Delays longer than ``MAX_PLAUSIBLE_S`` are not reported: a caller (and Timer
  C at proxies, 3 minutes) gives up long before, so they come from broken
  capture timestamps, not from the network.
- Without ringing, the delay runs to a 2xx answer; a late *error* response is
  the error's story (``response-code``, ``no-final-response``), not a PDD one.
"""

from __future__ import annotations

from collections.abc import Iterator

from ...dialogs.call import Call
from ..annotation import Annotation
from ..knowledge import Severity
from . import register
from ._common import (
    evidence,
    fmt_delay,
    plural,
    sentences,
)

__all__ = ["MAX_PLAUSIBLE_S", "PDD_WARN_S", "PostDialDelayRule"]

PDD_WARN_S = 5
"""Seconds of silence after which a caller notices (ITU-T E.721: mean objectives 3-8 s)."""
MAX_PLAUSIBLE_S = 3600
"""Beyond this a "delay" is a capture-clock artefact: every timer in the path expired long before."""

_S = 1_000_000_000


class PostDialDelayRule:
    """INVITE -> first 180/183 (or 2xx answer) longer than PDD_WARN_S."""

    id = "post-dial-delay"
    description = f"More than {PDD_WARN_S} s from the INVITE to ringing (or to the answer)."

    def check(self, call: Call) -> Iterator[Annotation]:
        msgs = call.messages
        t = next((x for x in call.transactions if x.method == "INVITE" and x.requests), None)
        if t is None:
            return
        invite = msgs[t.requests[0]]
        if invite.to_tag:
            return
        ring = next((msgs[i] for i in t.responses if msgs[i].status in (180, 183)), None)
        answer = next((msgs[i] for i in t.responses if 200 <= msgs[i].status < 300), None)
        heard = ring or answer
        if heard is None:
            return
        delay = heard.ts_ns - invite.ts_ns
        if delay <= PDD_WARN_S * _S or delay > MAX_PLAUSIBLE_S * _S:
            return
        trying = next((msgs[i] for i in t.responses if msgs[i].status == 100), None)
        parts = [
            f"The caller waited {fmt_delay(delay)} in silence between the INVITE (frame "
            f"{invite.frame}) and {heard.label} from {heard.src} (frame {heard.frame})."
        ]
        if trying is not None:
            parts.append(
                f"100 Trying came after {fmt_delay(trying.ts_ns - invite.ts_ns)}, so the next hop "
                "had the call and the time went further downstream."
            )
        if len(t.requests) > 1:
            parts.append(
                f"The INVITE was retransmitted {plural(len(t.requests) - 1, 'time')} first: the next hop "
                "was slow to acknowledge it."
            )
        parts.append(
            f"Callers hang up or redial when they hear nothing for more than about {PDD_WARN_S} s."
        )
        yield Annotation(
            rule=self.id,
            severity=Severity.WARNING,
            title=f"Post-dial delay {fmt_delay(delay)} before {heard.label}",
            cause=sentences(*parts),
            resolution=(
                "Find the hop where the time goes: compare the INVITE's arrival and departure "
                "times on each proxy or SBC (capture or logs).",
                "Check DNS (NAPTR/SRV/A lookups timing out), ENUM or number-portability dips, "
                "and routes that fail over across dead trunks (each attempt waits Timer B).",
                "Check the load of the PBX or SBC and its database or authentication backend.",
            ),
            frames=evidence([invite.frame, heard.frame]),
            call_id=call.call_id,
            details=(("post-dial delay", fmt_delay(delay)), ("first heard", heard.label)),
        )


register(PostDialDelayRule())
