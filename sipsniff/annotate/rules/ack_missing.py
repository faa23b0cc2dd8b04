"""``ack-missing``: a 2xx to INVITE retransmitted and never acknowledged.

Strategy: RFC 3261 section 13.3.1.4 makes the callee retransmit its 2xx,
doubling from T1 = 500 ms up to T2 = 4 s, until the ACK arrives, and give up after
64*T1 = 32 s, usually by sending BYE.  So the evidence is: the 2xx and its
retransmissions, no ACK from the caller's side (or one so late, 32 s or more,
that the callee had already given up), and often a BYE about 32 s after the answer.
The usual reasons are all routing: the ACK goes to the 2xx's Contact (or through
its Record-Route), so an unreachable or rewritten Contact, NAT, a SIP ALG, or a
2xx that never reached the caller.

Rules:
- An error when no (timely) ACK was seen and the 2xx was retransmitted or the
  call was torn down 30 s or more after the answer; a warning when the ACK came
  only after two or more retransmissions (a lossy or slow path, the call survived).
- A 2xx with neither retransmissions nor a BYE is not evidence (the capture may
  have ended): nothing is said.
- 2xx retransmissions are this rule's evidence; ``retransmission-storm`` leaves them alone.
"""

from __future__ import annotations

from collections.abc import Iterator

from ...dialogs.call import Call
from ...sip.message import SipMessage
from ..annotation import Annotation
from ..knowledge import Severity
from . import register
from ._common import (
    address_scope,
    contact_host,
    evidence,
    fmt_delay,
    plural,
    quote,
    sentences,
)
from ._facts import CallFacts

__all__ = ["AckMissingRule"]

_S = 1_000_000_000
# Timer H / the 2xx retransmission window: 64*T1 = 32 s (RFC 3261 13.3.1.4). A BYE from
# 30 s after the answer on is the callee giving up; an ACK after 32 s is too late to count.
_GIVE_UP_NS = 32 * _S
_TEARDOWN_MIN_NS = 30 * _S


class AckMissingRule:
    """2xx to INVITE retransmitted with no ACK, or the ACK only after retransmissions."""

    id = "ack-missing"
    description = "A 2xx to INVITE was retransmitted and no ACK arrived (NAT, SIP ALG, Contact)."

    @staticmethod
    def applies(facts: CallFacts, errors: bool) -> bool:
        """Only INVITE transactions with a 2xx are read."""
        return facts.invite_ok

    def check(self, call: Call) -> Iterator[Annotation]:
        msgs = call.messages
        for t in call.transactions:
            if t.method != "INVITE":
                continue
            oks = [i for i in t.responses if 200 <= msgs[i].status < 300]
            if not oks:
                continue
            ok = msgs[oks[0]]
            copies = [msgs[i] for i in oks]
            acks = [
                m
                for m in msgs
                if m.method == "ACK"
                and m.cseq_num == t.cseq
                and m.ts_ns >= ok.ts_ns
                and (m.src == ok.dst or m.dst == ok.src or m.src.ip == ok.dst.ip != ok.src.ip)
            ]
            ack = acks[0] if acks else None
            before_ack = [m for m in copies[1:] if ack is None or m.ts_ns < ack.ts_ns]
            # "late" needs the callee's own evidence (it retransmitted), not only the clock:
            # a capture with broken timestamps must not turn a prompt ACK into a missing one
            late = ack is not None and bool(before_ack) and ack.ts_ns - ok.ts_ns >= _GIVE_UP_NS
            bye = next(
                (
                    m
                    for m in msgs
                    if m.method == "BYE"
                    and m.ts_ns > ok.ts_ns
                    and (ack is None or late or m.ts_ns < ack.ts_ns)
                ),
                None,
            )
            teardown = bye is not None and bye.ts_ns - ok.ts_ns >= _TEARDOWN_MIN_NS
            if ack is not None and not late:
                if len(before_ack) >= 2:
                    yield self._late(call, copies, before_ack, ack)
                continue
            if not before_ack and not teardown:
                continue
            yield self._missing(call, copies, ack if late else None, bye)

    def _missing(
        self,
        call: Call,
        copies: list[SipMessage],
        late_ack: SipMessage | None,
        bye: SipMessage | None,
    ) -> Annotation:
        ok = copies[0]
        span = copies[-1].ts_ns - ok.ts_ns
        parts = [
            f"{ok.src} answered the INVITE with {ok.label} (frame {ok.frame})"
            + (
                f" and retransmitted it {plural(len(copies) - 1, 'time')} over {fmt_delay(span)}"
                if len(copies) > 1
                else ""
            )
            + f", but no ACK from {ok.dst} "
            + ("arrived in time." if late_ack is not None else "was seen."),
            "A callee retransmits its 2xx until the ACK arrives and gives up after 64*T1 = 32 s "
            "(RFC 3261 section 13.3.1.4).",
        ]
        details: list[tuple[str, str]] = [
            ("2xx copies", str(len(copies))),
            ("retransmitted over", fmt_delay(span)),
        ]
        frames = [m.frame for m in copies]
        if late_ack is not None:
            parts.append(
                f"An ACK came only {fmt_delay(late_ack.ts_ns - ok.ts_ns)} after the answer "
                f"(frame {late_ack.frame}), when the callee had already given up."
            )
            frames.append(late_ack.frame)
            details.append(("ack after", fmt_delay(late_ack.ts_ns - ok.ts_ns)))
        if bye is not None:
            side = "callee" if bye.src == ok.src else "caller"
            after = fmt_delay(bye.ts_ns - ok.ts_ns)
            parts.append(
                f"The {side} ({bye.src}) then sent BYE {after} after the answer (frame {bye.frame})"
                + (
                    ": the call was torn down for want of an ACK."
                    if bye.ts_ns - ok.ts_ns >= _TEARDOWN_MIN_NS
                    else "."
                )
            )
            frames.append(bye.frame)
            details.append(("bye after answer", after))
        contact = ok.headers.get("contact") or ""
        host = contact_host(ok)
        scope = address_scope(host) if host else ""
        if contact:
            details.append(("2xx contact", quote(contact, 120)))
        rr = ok.headers.get_all("record-route")
        if rr:
            details.append(("record-route", quote(", ".join(rr), 160)))
        if scope:
            parts.append(
                f"The 2xx's Contact names a {scope} address ({host}) while it was sent from "
                f"{ok.src.ip}: the caller sends its ACK there, and it cannot arrive."
            )
        parts.append(
            "Usual causes: the 2xx's Contact or Record-Route is unreachable from the caller "
            "(NAT, a SIP ALG rewriting it, a wrong advertised address), or the 2xx itself never "
            "reached the caller (a firewall or NAT dropped it, a large UDP 2xx was fragmented)."
        )
        return Annotation(
            rule=self.id,
            severity=Severity.ERROR,
            title=f"{ok.label} to INVITE never acknowledged: no ACK"
            + (
                " (call torn down after 32 s)"
                if bye is not None and bye.ts_ns - ok.ts_ns >= _TEARDOWN_MIN_NS
                else ""
            ),
            cause=sentences(*parts),
            resolution=(
                "Check that the 2xx's Contact (and Record-Route) is an address the caller can "
                "reach; behind NAT, have the callee advertise its public address or let an "
                "SBC fix Contact (nat=force_rport,comedia or equivalent).",
                "Disable the SIP ALG on routers and firewalls between the two sides: it "
                "rewrites Contact and Via and often breaks the ACK.",
                "Capture at the caller: if the 2xx arrives there, the caller's ACK is lost or "
                "misrouted; if it does not, the 2xx is dropped on the way (firewall, UDP "
                "fragmentation: try TCP for large messages).",
                "Check that proxies that Record-Route also route the ACK (loose routing, lr).",
            ),
            frames=evidence(frames),
            call_id=call.call_id,
            details=tuple(details),
        )

    def _late(
        self, call: Call, copies: list[SipMessage], before: list[SipMessage], ack: SipMessage
    ) -> Annotation:
        ok = copies[0]
        return Annotation(
            rule=self.id,
            severity=Severity.WARNING,
            title=f"ACK late: {ok.label} retransmitted {plural(len(before), 'time')} first",
            cause=(
                f"{ok.src} answered the INVITE with {ok.label} (frame {ok.frame}) and had to "
                f"retransmit it {plural(len(before), 'time')} before the ACK arrived "
                f"{fmt_delay(ack.ts_ns - ok.ts_ns)} later (frame {ack.frame}). The call survived, "
                "but the 2xx or the first ACKs were lost or delayed: a lossy path, an "
                "overloaded hop, or an ACK routed the long way round."
            ),
            resolution=(
                "Look for packet loss or congestion between the two sides (QoS, link "
                "saturation, firewall rate limits).",
                "Check that the ACK is routed directly to the 2xx's Contact or through its "
                "Record-Route, not through a slow or overloaded proxy.",
            ),
            frames=evidence([m.frame for m in copies if m.ts_ns <= ack.ts_ns], [ack.frame]),
            call_id=call.call_id,
            details=(
                ("2xx copies before ack", str(len(before) + 1)),
                ("ack after", fmt_delay(ack.ts_ns - ok.ts_ns)),
            ),
        )


register(AckMissingRule())
