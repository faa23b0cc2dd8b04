"""Normal call outcomes, noted as info: ``caller-cancelled``, ``callee-busy``, ``callee-declined``.

Strategy: a caller hanging up before the answer, a busy callee and a callee who
declines are people's choices, not faults.  They are still worth a line (the call
table shows *that* a call failed, this says *why*, with the evidence), but always
at info, so ``--severity warning`` and ``--fail-on warning`` ignore them.

Rules:
- Each rule explains the responses the claims table (``_claims``) gives it: 486
  and 600 to an initial INVITE are ``callee-busy``, 603 is ``callee-declined``,
  487 to an INVITE that was CANCELled is ``caller-cancelled``; ``response-code``
  then stays silent on them, so a busy call carries exactly one annotation.
- ``caller-cancelled`` also covers a CANCEL whose INVITE never got a final
  response (RFC 3261 section 9.2: the callee should still send 487), and says so.
- A CANCEL with ``Reason: SIP;cause=200`` (RFC 3326) means another fork answered:
  that is reported as "answered elsewhere".
"""

from __future__ import annotations

from collections.abc import Iterator

from ...dialogs.call import Call
from ..annotation import Annotation
from ..knowledge import Severity, lookup
from . import register
from ._claims import claimed_by
from ._common import (
    decoded_headers,
    evidence,
    fmt_delay,
    kb_resolution,
    originals,
    response_facts,
    sentences,
)

__all__ = ["CalleeBusyRule", "CalleeDeclinedRule", "CallerCancelledRule"]


class CalleeBusyRule:
    """486 Busy Here / 600 Busy Everywhere to an initial INVITE."""

    claimed_only = True
    id = "callee-busy"
    description = "The callee was busy (486/600): a normal outcome, noted as info."

    def check(self, call: Call) -> Iterator[Annotation]:
        facts = [response_facts(call, i) for i in claimed_by(call, self.id)]
        if facts:
            f = facts[0]
            where = "on every device" if f.msg.status == 600 else "at this destination"
            yield Annotation(
                rule=self.id,
                severity=Severity.INFO,
                title=f"Callee busy: {f.label}",
                cause=f.cause(f"The callee is busy {where}: a normal outcome, not a fault."),
                resolution=f.resolution(),
                frames=evidence(*(x.frames for x in facts)),
                call_id=call.call_id,
                details=tuple(f.details),
            )


class CalleeDeclinedRule:
    """603 Decline to an initial INVITE."""

    claimed_only = True
    id = "callee-declined"
    description = "The callee declined the call (603): a normal outcome, noted as info."

    def check(self, call: Call) -> Iterator[Annotation]:
        facts = [response_facts(call, i) for i in claimed_by(call, self.id)]
        if facts:
            f = facts[0]
            yield Annotation(
                rule=self.id,
                severity=Severity.INFO,
                title=f"Callee declined: {f.label}",
                cause=f.cause(
                    "The callee (or a call-screening rule acting for them) refused the call "
                    "on purpose; RFC 3261 says no other location should be tried."
                ),
                resolution=f.resolution(),
                frames=evidence(*(x.frames for x in facts)),
                call_id=call.call_id,
                details=tuple(f.details),
            )


class CallerCancelledRule:
    """CANCEL before the answer, confirmed by 487 Request Terminated."""

    id = "caller-cancelled"
    description = "The caller hung up before the answer (CANCEL, then 487): noted as info."

    def check(self, call: Call) -> Iterator[Annotation]:
        msgs = call.messages
        claimed = claimed_by(call, self.id)
        for t in call.transactions:
            if t.method != "CANCEL" or not t.requests:
                continue
            invite = next(
                (
                    x
                    for x in call.transactions
                    if x.method == "INVITE" and x.branch == t.branch and x.cseq == t.cseq
                ),
                None,
            )
            if invite is None or invite.requests == ():
                continue
            if 200 <= invite.final_status < 300:
                continue  # the answer crossed the CANCEL: the call went on
            terminated = [i for i in claimed if i in invite.responses]
            if not terminated and invite.final_status:
                continue  # another final response (408, 480...) is another rule's
            cancel = msgs[t.requests[0]]
            inv = msgs[invite.requests[0]]
            ring = next((msgs[i] for i in invite.responses if msgs[i].status in (180, 183)), None)
            waited = f"{fmt_delay(cancel.ts_ns - inv.ts_ns)} after the INVITE (frame {inv.frame})"
            if ring is not None:
                waited += (
                    f", {fmt_delay(cancel.ts_ns - ring.ts_ns)} after {ring.label} "
                    f"(frame {ring.frame})"
                )
            details, said, _ = decoded_headers(cancel)
            elsewhere = any(
                v.startswith("SIP cause 200") for k, v in details if k.startswith("reason")
            )
            ok = [i for i in originals(call, t.responses) if msgs[i].status < 300]
            parts = [f"{cancel.src} sent CANCEL (frame {cancel.frame}) {waited}."]
            if elsewhere:
                parts.append("Its Reason says another device answered the call (parallel forking).")
            parts.extend(said)
            if terminated:
                parts.append(
                    f"The callee confirmed with 487 Request Terminated (frame "
                    f"{msgs[terminated[0]].frame}). The caller hung up before the answer: a "
                    "normal outcome, not a fault."
                )
            else:
                parts.append(
                    "No 487 Request Terminated was seen for the INVITE: RFC 3261 section 9.2 "
                    "says the callee answers it after a CANCEL (or the capture ended first)."
                )
            info = lookup(487)
            yield Annotation(
                rule=self.id,
                severity=Severity.INFO,
                title="Call answered elsewhere (CANCEL)"
                if elsewhere
                else "Caller cancelled before the answer",
                cause=sentences(*parts),
                resolution=kb_resolution(
                    info,
                    "Nothing to fix if the caller hung up. If callers give up because ringing "
                    "lasts too long, check the no-answer timeout, hunt groups and forwarding.",
                ),
                frames=evidence(
                    [cancel.frame],
                    (msgs[i].frame for i in ok),
                    (msgs[i].frame for i in terminated),
                ),
                call_id=call.call_id,
                details=(
                    ("cancelled by", str(cancel.src)),
                    ("rang for", fmt_delay(cancel.ts_ns - ring.ts_ns) if ring else "no ringing"),
                    *details,
                ),
            )


register(CalleeBusyRule())
register(CalleeDeclinedRule())
register(CallerCancelledRule())
