"""``response-code``: explain every 4xx/5xx/6xx final response no other rule explains better.

Strategy: the claims table in ``_claims`` decides, for each error response of a
call, which rule explains it; this rule takes the ones left to it and writes the
knowledge-base entry (meaning, likely causes, resolution, severity) together with
the call's facts: who answered, which request (frame), how long after it, the
reason phrase if the wire's differs, and the decoded Reason, Warning and
Retry-After headers.

Rules:
- 401/407 challenges are never explained here: a challenge that a later request
  answered is the normal digest flow (nothing to say), one that was not is
  ``auth-unanswered``, one to a request with credentials is ``auth-rejected``.
- The same status to the same method on several hops (a proxy relaying a 404
  back) is one annotation with every hop's frame, not one per hop.
- 3xx redirects are not errors and are left alone.
- Severity is the knowledge base's (a 480 is a warning, a 500 an error, a 487
  without a CANCEL info).
"""

from __future__ import annotations

from collections.abc import Iterator

from ...dialogs.call import Call
from ..annotation import Annotation
from . import register
from ._claims import claimed_by
from ._common import evidence, response_facts

__all__ = ["ResponseCodeRule", "rule"]


class ResponseCodeRule:
    """The generic explanation of an error response, from the knowledge base."""

    claimed_only = True
    id = "response-code"
    description = "Every 4xx/5xx/6xx final response not explained by a more specific rule."

    def check(self, call: Call) -> Iterator[Annotation]:
        groups: dict[tuple[str, int], list[int]] = {}
        for i in claimed_by(call, self.id):
            m = call.messages[i]
            groups.setdefault((m.cseq_method, m.status), []).append(i)
        for indices in groups.values():
            facts = [response_facts(call, i) for i in indices]
            first = facts[0]
            hops = ""
            if len(facts) > 1:
                where = "on several hops" if len({f.msg.src for f in facts}) > 1 else "in this call"
                hops = (
                    f"The same {first.label} was seen {len(facts)} times {where} "
                    f"(frames {', '.join(str(f.msg.frame) for f in facts)})."
                )
            yield Annotation(
                rule=self.id,
                severity=first.info.severity,
                title=f"{first.method} rejected: {first.label}",
                cause=first.cause(hops),
                resolution=first.resolution(),
                frames=evidence(*(f.frames for f in facts)),
                call_id=call.call_id,
                details=(*tuple(first.details), ("rfc", first.info.rfc)),
            )


rule = register(ResponseCodeRule())
