"""``malformed-message``: a call contains messages the parser found damaged.

Strategy: the SIP parser never drops a message with a valid start line; it lists
what is wrong in ``SipMessage.problems`` (missing mandatory headers, lines
without a colon, a Content-Length that does not match the body) and the pipeline
reports each as a diagnostic.  This rule ties those problems to the call they
belong to, so whoever reads the call sees that its signalling was damaged, by
whom (the sender and its User-Agent/Server), and in which frames.

Rules:
- One annotation per call, warning: a peer that sends damaged messages fails in
  ways that depend on how tolerant the receiver is.
- Retransmissions repeat the original's problems and are not listed again.
"""

from __future__ import annotations

from collections.abc import Iterator

from ...dialogs.call import Call
from ..annotation import Annotation
from ..knowledge import Severity
from . import register
from ._common import (
    evidence,
    iter_originals,
    plural,
    quote,
    sentences,
)

__all__ = ["MalformedMessageRule"]

_MAX_LISTED = 5


class MalformedMessageRule:
    """Messages with parse problems inside a call."""

    id = "malformed-message"
    description = (
        "The call contains malformed SIP messages (missing headers, bad lines, bad length)."
    )

    def check(self, call: Call) -> Iterator[Annotation]:
        bad = [m for _, m in iter_originals(call) if m.problems]
        if not bad:
            return
        parts = []
        senders: dict[str, str] = {}
        for m in bad[:_MAX_LISTED]:
            parts.append(
                f"Frame {m.frame} ({quote(m.label, 40)} from {m.src}): "
                f"{quote('; '.join(m.problems), 200)}."
            )
            senders.setdefault(str(m.src), quote(m.user_agent, 80))
        if len(bad) > _MAX_LISTED:
            parts.append(f"{plural(len(bad) - _MAX_LISTED, 'more malformed message')} follow.")
        parts.append(
            "A receiver may reject such messages (400 Bad Request), drop them silently, or "
            "misread them; a Content-Length larger than the body often means the message was "
            "cut (UDP fragment lost, snap length) or rewritten by a SIP ALG."
        )
        who = ", ".join(f"{s} ({ua})" if ua else s for s, ua in senders.items())
        yield Annotation(
            rule=self.id,
            severity=Severity.WARNING,
            title=f"{len(bad)} malformed message{'s' if len(bad) > 1 else ''} in this call",
            cause=sentences(*parts),
            resolution=(
                f"Identify the sender ({who}) and update or reconfigure its SIP software.",
                "Look for a middlebox rewriting SIP on the path (SIP ALG, a buggy SBC rule) by "
                "capturing on both sides of it.",
                "For truncated messages, check the capture's snap length and UDP fragmentation; "
                "use TCP for large messages.",
            ),
            frames=evidence(m.frame for m in bad),
            call_id=call.call_id,
            details=tuple(
                (f"frame {m.frame}", quote("; ".join(m.problems), 200)) for m in bad[:_MAX_LISTED]
            ),
        )


register(MalformedMessageRule())
