"""``retransmission-storm``: a message sent again and again before anyone reacted.

Strategy: the tracker marks a message that repeats an earlier one (same
transaction, same direction) as a retransmission.  Over UDP a sender repeats a
request on Timer A/E (500 ms doubling) until a response arrives, and a server
repeats a non-2xx final response on Timer G until the ACK arrives, and a
reliable provisional (100rel) until the PRACK.  ``STORM_MIN`` repeats of one
message means the other side did not react for at least 7.5 s: a lossy path, an
overloaded or stuck peer, or a message it ignores.

Rules (owners of overlapping evidence, so nothing is said twice):
- Requests that got no response at all are ``no-response``'s.
- Retransmitted 2xx to INVITE are ``ack-missing``'s.
- Everything else with ``STORM_MIN`` or more retransmissions is reported here,
  one annotation per call (warning), naming each message, how often, over how
  long, and what finally answered it.
"""

from __future__ import annotations

from collections.abc import Iterator

from ...dialogs.call import Call
from ...sip.message import SipMessage
from ..annotation import Annotation
from ..knowledge import Severity
from . import register
from ._common import (
    evidence,
    fmt_delay,
    plural,
    sentences,
)
from .no_response import unanswered

__all__ = ["STORM_MIN", "RetransmissionStormRule"]

STORM_MIN = 4
"""Retransmissions of one message that make a storm: with T1 = 500 ms doubling, the 4th
repeat goes out 7.5 s after the original, far past the 200 ms within which RFC 3261
section 17.2.1 expects a 100 Trying, and well past one lost packet (which costs one)."""


class RetransmissionStormRule:
    """Many retransmissions of one message that is not a 2xx and did get an answer."""

    id = "retransmission-storm"
    description = "One message retransmitted 4+ times before the other side reacted."

    def check(self, call: Call) -> Iterator[Annotation]:
        if len(call.retransmissions) < STORM_MIN and all(
            len(t.requests) <= STORM_MIN for t in call.transactions
        ):
            return  # too few copies of anything for a storm: most calls stop here
        msgs = call.messages
        skip = {id(t) for t in unanswered(call)}
        storms: list[tuple[SipMessage, list[SipMessage], str]] = []
        for t in call.transactions:
            if t.method == "ACK":
                continue
            if id(t) not in skip:
                copies = [msgs[i] for i in t.requests]
                if len(copies) - 1 >= STORM_MIN:
                    answer = next(
                        (msgs[i] for i in t.responses if msgs[i].ts_ns >= copies[-1].ts_ns), None
                    ) or (msgs[t.responses[0]] if t.responses else None)
                    end = (
                        f"{answer.src} finally answered {answer.label} (frame {answer.frame})"
                        if answer is not None
                        else "no answer followed"
                    )
                    storms.append((copies[0], copies[1:], end))
            by_resp: dict[tuple[int, str], list[int]] = {}
            for i in t.responses:
                m = msgs[i]
                if t.method == "INVITE" and 200 <= m.status < 300:
                    continue  # ack-missing's evidence
                by_resp.setdefault((m.status, m.to_tag), []).append(i)
            for (status, _tag), indices in by_resp.items():
                copies = [msgs[i] for i in indices]
                repeats = [msgs[i] for i in indices[1:] if i in call.retransmissions]
                if len(repeats) < STORM_MIN:
                    continue
                if status >= 200:
                    why = "the ACK for it did not arrive (RFC 3261 Timer G repeats it until then)"
                else:
                    why = "the PRACK for this reliable provisional did not arrive (RFC 3262)"
                storms.append((copies[0], repeats, why))
        if not storms:
            return
        parts = []
        frames: list[int] = []
        details: list[tuple[str, str]] = []
        for first, repeats, end in storms:
            span = fmt_delay(repeats[-1].ts_ns - first.ts_ns)
            parts.append(
                f"{first.label} from {first.src} (frame {first.frame}) was retransmitted "
                f"{plural(len(repeats), 'time')} over {span}; {end}."
            )
            frames.extend([first.frame, *(m.frame for m in repeats)])
            details.append((first.label, f"{len(repeats)} retransmissions over {span}"))
        parts.append(
            "The other side took far longer than a retransmission timer to react: packet loss "
            "on the path, an overloaded or stuck peer, or a peer that ignores this message."
        )
        worst = max(storms, key=lambda s: len(s[1]))
        yield Annotation(
            rule=self.id,
            severity=Severity.WARNING,
            title=f"{worst[0].label} retransmitted {plural(len(worst[1]), 'time')}"
            + (f" (+{len(storms) - 1} more)" if len(storms) > 1 else ""),
            cause=sentences(*parts),
            resolution=(
                "Capture at the receiving side to see whether the retransmissions arrive; if "
                "they do, look at that peer's load and logs, if not, at loss on the path.",
                "Check firewalls and rate limiters (SIP flood protection) between the two sides.",
                "For a CANCEL that is never answered, check that the server supports CANCEL for "
                "that transaction; for an unacknowledged final response, see why the ACK is lost "
                "(NAT, wrong Via/rport).",
            ),
            frames=evidence(frames),
            call_id=call.call_id,
            details=tuple(details),
        )


register(RetransmissionStormRule())
