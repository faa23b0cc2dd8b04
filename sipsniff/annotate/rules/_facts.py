"""Call facts: what a call holds, in one pass, so rules that cannot fire are skipped.

Strategy: most calls are healthy, and most rules look for something a healthy
call does not have (an SDP offer/answer, a 2xx to an INVITE, a BYE, an error
response).  A rule may declare ``applies(facts) -> bool``, a *necessary*
condition of its firing stated over these facts; the runner skips it when that
is false.  So the result is by construction what running every rule on every
call gives, and ``tests/annotate/rules/test_facts.py`` checks exactly that on
every capture we have (all rules on all calls, gated and not).

The facts are cheap attributes of the messages the core already parsed (the
native engine could hand them over precomputed; today one Python pass costs
about a microsecond per message).
"""

from __future__ import annotations

from typing import NamedTuple

from ...dialogs.call import Call

__all__ = ["CallFacts", "facts_of"]


class CallFacts(NamedTuple):
    sdp: int
    """Messages carrying SDP, counted up to 2 (an offer/answer needs two)."""
    invite_ok: bool
    """A 2xx response to an INVITE (a call or re-INVITE was answered)."""
    bye: bool
    """A BYE request."""


def facts_of(call: Call) -> CallFacts:
    """The facts of one call."""
    sdp = 0
    invite_ok = bye = False
    for m in call.messages:
        if m.sdp is not None and sdp < 2:
            sdp += 1
        status = m.status
        if status == 0:
            if m.method == "BYE":
                bye = True
        elif 200 <= status < 300 and m.cseq_method == "INVITE":
            invite_ok = True
    return CallFacts(sdp, invite_ok, bye)
