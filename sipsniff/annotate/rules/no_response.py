"""Silence: ``no-response`` (nothing came back) and ``no-final-response`` (only 1xx, then nothing or 408).

Strategy: read the transactions the tracker built.  Over UDP a client retransmits
a request with no answer on Timer A/E, doubling from T1 = 500 ms, and gives up at
Timer B/F = 64*T1 = 32 s (RFC 3261 sections 17.1.1.2 and 17.1.2.2), so the
retransmissions and their offsets are the evidence that the other side never
heard (or never answered).  Over TCP nothing is retransmitted, so the tracker's
verdict that Timer B ran out (``CallState.TIMED_OUT``) is the evidence instead.

Rules:
- ``no-response`` fires for a request (not ACK) with no response at all that was
  retransmitted at least once, or that started a call the tracker timed out.  It
  is an error for the request that starts the call (nothing was reached) and a
  warning for a later one (a BYE or re-INVITE into silence: the far end vanished).
- ``no-final-response`` fires for an INVITE that got provisional responses and
  then either nothing (the tracker timed the call out) or 408 Request Timeout;
  it claims those 408s (and a 408 to that INVITE's CANCEL) from ``response-code``.
- A capture that ends while a call still rings is not silence: nothing is said.
- Retransmissions explained here are not also a ``retransmission-storm``.
"""

from __future__ import annotations

from collections.abc import Iterator

from ...dialogs.call import Call, Transaction
from ...dialogs.states import CallState
from ..annotation import Annotation
from ..knowledge import Severity, lookup
from . import register
from ._claims import claimed_by
from ._common import (
    decoded_headers,
    evidence,
    fmt_delay,
    kb_resolution,
    plural,
    request_of,
    sentences,
)

__all__ = ["NoFinalResponseRule", "NoResponseRule", "unanswered"]


def unanswered(call: Call) -> list[Transaction]:
    """The transactions ``no-response`` reports (shared with ``retransmission-storm``)."""
    out = []
    first = _first_request_txn(call)
    for t in call.transactions:
        if t.method == "ACK" or not t.requests or t.responses:
            continue
        if len(t.requests) > 1 or (t is first and call.state == CallState.TIMED_OUT):
            out.append(t)
    return out


def _first_request_txn(call: Call) -> Transaction | None:
    return next(
        (t for t in call.transactions if t.requests and t.method not in ("ACK", "CANCEL")), None
    )


class NoResponseRule:
    """A request retransmitted (or timed out) with no response at all."""

    id = "no-response"
    description = (
        "A request got no response at all (host down, firewall, wrong address or transport)."
    )

    def check(self, call: Call) -> Iterator[Annotation]:
        first = _first_request_txn(call)
        for t in unanswered(call):
            msgs = [call.messages[i] for i in t.requests]
            req = msgs[0]
            span = msgs[-1].ts_ns - req.ts_ns
            initial = t is first and not req.to_tag
            offsets = ", ".join(f"+{fmt_delay(m.ts_ns - req.ts_ns)}" for m in msgs[1:])
            if len(msgs) > 1:
                sent = (
                    f"and retransmitted it {plural(len(msgs) - 1, 'time')} ({offsets}) without any "
                    f"response, not even 100 Trying, for {fmt_delay(span)}"
                )
                if req.transport == "UDP":
                    sent += " (RFC 3261 Timer A/E: retransmissions doubling from T1 = 500 ms)"
            else:
                sent = (
                    f"over {req.transport} and got no response at all before the client's "
                    "Timer B/F (64*T1 = 32 s) ran out"
                )
            parts = [f"{req.src} sent the {req.method} to {req.dst} (frame {req.frame}) {sent}."]
            if initial:
                parts.append(
                    f"Nothing answered at {req.dst} over {req.transport}: the host is down or "
                    "not listening there, a firewall drops the packets, or the address, port "
                    "or transport (UDP/TCP/TLS) is wrong."
                )
            else:
                parts.append(
                    f"The far end at {req.dst} no longer answers inside this dialog: it "
                    "crashed or lost the dialog, a NAT binding expired, or the request went "
                    "to an unreachable Contact or Record-Route address."
                )
            yield Annotation(
                rule=self.id,
                severity=Severity.ERROR if initial else Severity.WARNING,
                title=f"No response to {req.method}: sent {len(msgs)} time"
                f"{'s' if len(msgs) > 1 else ''} over {fmt_delay(span)}"
                if len(msgs) > 1
                else f"No response to {req.method}",
                cause=sentences(*parts),
                resolution=(
                    f"Check that the server at {req.dst} is running and listening on that "
                    f"port and transport ({req.transport}).",
                    "Test reachability from the sender (ping, traceroute, sngrep or tcpdump on "
                    "the server) and check firewalls and security groups for SIP (5060/5061).",
                    "Check DNS (NAPTR/SRV/A records) and the configured proxy/outbound address, "
                    "port and transport.",
                    "For an in-dialog request, check the Contact and Record-Route addresses "
                    "and NAT keep-alives.",
                ),
                frames=evidence(m.frame for m in msgs),
                call_id=call.call_id,
                details=(
                    ("request", f"{req.method} to {req.dst}"),
                    ("transport", req.transport),
                    ("copies sent", str(len(msgs))),
                    ("retransmitted at", offsets or "-"),
                    ("waited", fmt_delay(span)),
                ),
            )


class NoFinalResponseRule:
    """Provisional responses only, then nothing (timed out) or 408."""

    id = "no-final-response"
    description = "An INVITE got only provisional responses, then nothing or 408 Request Timeout."

    def check(self, call: Call) -> Iterator[Annotation]:
        msgs = call.messages
        timeouts = claimed_by(call, self.id)
        for t in call.transactions:
            if t.method != "INVITE" or not t.requests:
                continue
            prov = [i for i in t.responses if 100 <= msgs[i].status < 200]
            if not prov:
                continue
            mine = [
                i for i in timeouts if msgs[i].branch == t.branch and msgs[i].cseq_num == t.cseq
            ]
            if not mine and (t.final_status != 0 or call.state != CallState.TIMED_OUT):
                continue  # answered or rejected, or still ringing when the capture ended
            req = msgs[t.requests[0]]
            last = msgs[prov[-1]]
            seen = sorted({msgs[i].status for i in prov})
            parts = [
                f"{req.src} sent the INVITE to {req.dst} (frame {req.frame}) and got only "
                f"provisional responses ({', '.join(map(str, seen))}; the last in frame "
                f"{last.frame}, {fmt_delay(last.ts_ns - req.ts_ns)} after the INVITE)."
            ]
            cancel = next(
                (
                    x
                    for x in call.transactions
                    if x.method == "CANCEL"
                    and x.branch == t.branch
                    and x.cseq == t.cseq
                    and x.requests
                ),
                None,
            )
            frames = [req.frame, last.frame]
            details: list[tuple[str, str]] = [("provisional", ", ".join(map(str, seen)))]
            if cancel is not None:
                c = request_of(call, cancel)
                assert c is not None
                frames.append(c.frame)
                parts.append(
                    f"The caller gave up and sent CANCEL {fmt_delay(c.ts_ns - req.ts_ns)} after "
                    f"the INVITE (frame {c.frame})"
                    + (
                        f", retransmitted {plural(len(cancel.requests) - 1, 'time')}"
                        if len(cancel.requests) > 1
                        else ""
                    )
                    + "."
                )
            info = lookup(408)
            steps: list[str] = []
            if mine:
                r = next((msgs[i] for i in mine if msgs[i].cseq_method == "INVITE"), msgs[mine[0]])
                frames.extend(msgs[i].frame for i in mine)
                dets, said, steps = decoded_headers(r)
                parts.append(
                    f"{r.src} then answered the {r.cseq_method} with 408 Request Timeout (frame {r.frame}), "
                    f"{fmt_delay(r.ts_ns - req.ts_ns)} after it was sent: no final answer came "
                    "from further downstream in time."
                )
                parts.extend(said)
                details.extend(dets)
                details.append(("final", "408 Request Timeout"))
            else:
                parts.append("No final response followed before the call timed out.")
                details.append(("final", "none"))
            parts.append(
                "The next hop accepted the call but the callee (or a hop behind it) never "
                "answered, rejected or was reached: a device that stopped responding, a "
                "forking proxy whose branches all stayed silent, or Timer C (3 minutes) at a proxy."
            )
            yield Annotation(
                rule=self.id,
                severity=Severity.ERROR,
                title="INVITE got no final response" + (": 408 Request Timeout" if mine else ""),
                cause=sentences(*parts),
                resolution=kb_resolution(
                    info,
                    f"Follow the call past {req.dst}: capture on the next hop to see where the "
                    "INVITE stopped and which device never answered.",
                    "Check that the callee's registration (Contact) is current and reachable "
                    "through NAT, and the proxy's no-answer timers (Timer C, forking).",
                    *steps,
                ),
                frames=evidence(frames),
                call_id=call.call_id,
                details=tuple(details),
            )


register(NoResponseRule())
register(NoFinalResponseRule())
