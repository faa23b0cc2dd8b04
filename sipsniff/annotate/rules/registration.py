"""Registrations: ``registration-interval`` (423 Interval Too Brief) and ``registration-failed``.

Strategy: RFC 3261 section 10.2.8 lets a registrar refuse a registration that
would expire too soon with 423 and a ``Min-Expires`` header; the client is meant
to retry at once with at least that interval.  So a 423 followed by a
successful REGISTER is the protocol working (info, but worth knowing: the
client's configured interval is below the server's minimum), while a 423 the
client never recovered from is a warning.  ``registration-failed`` is the
explanation of any other error that ended a REGISTER, with what it means for the
device (it cannot receive calls), at warning or the knowledge base's severity if
higher.

Rules:
- Both rules take their responses from the claims table (``_claims``):
  ``registration-failed`` is ``response-code`` for REGISTER, and leaves
  challenges to the auth rules, 423 to ``registration-interval``, 503 to
  ``server-unavailable`` and silence to ``no-response``.
- The requested interval is the Contact's ``expires`` parameter, else the
  Expires header (RFC 3261 section 10.2.1.1).
"""

from __future__ import annotations

from collections.abc import Iterator

from ...dialogs.call import Call
from ...sip.headers import parse_name_addr
from ...sip.message import SipMessage
from ..annotation import Annotation
from ..knowledge import Severity, parse_min_expires
from . import register
from ._claims import claimed_by
from ._common import evidence, quote, response_facts, sentences

__all__ = ["RegistrationFailedRule", "RegistrationIntervalRule", "requested_expires"]


def requested_expires(msg: SipMessage) -> int | None:
    """Seconds a REGISTER asks for: the first Contact's ``expires``, else the Expires header."""
    contacts = msg.headers.get_all("contact")
    if contacts and contacts[0].strip() != "*":
        value = parse_name_addr(contacts[0]).params.get("expires", "")
        if value.isdigit():
            return int(value)
    value = (msg.headers.get("expires") or "").strip()
    return int(value) if value.isdigit() and len(value) <= 10 else None


class RegistrationIntervalRule:
    """423 Interval Too Brief, with Min-Expires, and whether the client adapted."""

    claimed_only = True
    id = "registration-interval"
    description = (
        "423 Interval Too Brief: the REGISTER asked for less than the registrar's Min-Expires."
    )

    def check(self, call: Call) -> Iterator[Annotation]:
        msgs = call.messages
        for i in claimed_by(call, self.id)[:1]:
            f = response_facts(call, i)
            req = f.request
            asked = requested_expires(req) if req is not None else None
            minimum = parse_min_expires(f.msg.headers.get("min-expires") or "")
            frames = list(f.frames)
            parts = [f.opening]
            asked_s = f"{asked} s" if asked is not None else "an unstated interval"
            min_s = (
                f"{minimum} s" if minimum is not None else "an unstated minimum (no Min-Expires)"
            )
            parts.append(f"The {f.method} asked for {asked_s}; the server's minimum is {min_s}.")
            retry = next(
                (
                    t
                    for t in call.transactions
                    if t.method == f.method and t.cseq > f.msg.cseq_num and t.requests
                ),
                None,
            )
            adapted = retry is not None and 200 <= retry.final_status < 300
            if retry is not None:
                r = msgs[retry.requests[0]]
                frames.append(r.frame)
                frames.extend(msgs[j].frame for j in retry.responses if msgs[j].status >= 200)
                r_exp = requested_expires(r)
                parts.append(
                    f"The client retried in frame {r.frame}"
                    + (f" with {r_exp} s" if r_exp is not None else "")
                    + (
                        ", and it was accepted: no harm done, but the configured interval is "
                        "below the server's minimum."
                        if adapted
                        else f", which ended with {retry.final_status or 'no final response'}."
                    )
                )
            else:
                parts.append(
                    "The client did not retry with a longer interval, so it is not registered."
                )
            if minimum is None:
                parts.append("The 423 lacks the Min-Expires header RFC 3261 section 10.3 requires.")
            details: list[tuple[str, str]] = [("status", f.label)]
            if asked is not None:
                details.append(("requested", f"{asked} s"))
            if minimum is not None:
                details.append(("min-expires", f"{minimum} s"))
            details.append(
                ("retried", "accepted" if adapted else "no" if retry is None else "failed")
            )
            yield Annotation(
                rule=self.id,
                severity=Severity.INFO if adapted else Severity.WARNING,
                title=f"{f.method} interval too brief: asked {asked_s}, minimum {min_s}",
                cause=sentences(*parts),
                resolution=f.resolution(
                    "Set the client's registration interval (expires) to at least "
                    + (f"{minimum} s." if minimum is not None else "the server's minimum."),
                ),
                frames=evidence(frames),
                call_id=call.call_id,
                details=tuple(details),
            )


class RegistrationFailedRule:
    """A REGISTER ended with an error no more specific rule explains."""

    claimed_only = True
    id = "registration-failed"
    description = "A REGISTER failed (an error other than a challenge, 423, 503 or silence)."

    def check(self, call: Call) -> Iterator[Annotation]:
        groups: dict[int, list[int]] = {}
        for i in claimed_by(call, self.id):
            groups.setdefault(call.messages[i].status, []).append(i)
        for indices in groups.values():
            facts = [response_facts(call, i) for i in indices]
            f = facts[0]
            req = f.request
            aor = req.to_addr.uri if req is not None else call.to_uri
            yield Annotation(
                rule=self.id,
                severity=max(f.info.severity, Severity.WARNING),
                title=f"Registration failed: {f.label}",
                cause=f.cause(
                    f"The registration of {quote(aor, 80) or 'the device'} was refused, so the "
                    "device is not reachable: calls to it will fail until it registers."
                ),
                resolution=f.resolution(
                    "Check the registrar address, the SIP domain (the To/From URI), the account "
                    "name and the transport the device uses against the provider's settings.",
                ),
                frames=evidence(*(x.frames for x in facts)),
                call_id=call.call_id,
                details=(("aor", quote(aor, 120)), *f.details),
            )


register(RegistrationIntervalRule())
register(RegistrationFailedRule())
