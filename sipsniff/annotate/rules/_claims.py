"""Which rule explains each error response: the one table behind the rules' interplay.

Strategy: every final response of 400 or more in a call is explained by exactly one
annotation.  ``response-code`` is the generic explanation from the knowledge base;
a more specific rule *claims* the responses it explains better (a 486 is a busy
callee, a 488 a codec problem, a 401 a step of authentication), and
``response-code`` stays silent on those.  Claims are computed here, from the call
alone, and each specific rule reads its own claims, so the two sides can never
disagree: no response is explained twice, none is forgotten.

The table (first match wins):

=========================================  =========================  =================
final response                             claimed by                 severity
=========================================  =========================  =================
401 / 407 to a request with credentials    ``auth-rejected``          error (warning:
                                                                      nonce changed or
                                                                      stale, unretried)
401 / 407 to a request without             ``auth-unanswered``        warning; nothing
                                                                      when a later
                                                                      request answered
403 to a request with credentials          ``auth-rejected``          error
486 / 600 to an initial INVITE             ``callee-busy``            info
603 to an initial INVITE                   ``callee-declined``        info
487 to an INVITE that was CANCELled        ``caller-cancelled``       info
488 / 606 / 415 (488/606: to a request     ``codec-mismatch``         warning (the KB's)
that could carry an offer)
482 / 483                                  ``routing-loop``           error (the KB's)
423                                        ``registration-interval``  info if the retry
                                                                      worked, else warning
503                                        ``server-unavailable``     error
491                                        ``reinvite-glare``         info if the retry
                                                                      worked, else warning
481 to BYE                                 ``bye-race``               info if BYEs
                                                                      crossed, else warning
408 to an INVITE that had only 1xx, and    ``no-final-response``      error
408 to that INVITE's CANCEL
any other 4xx-6xx to REGISTER              ``registration-failed``    the KB's, at least
                                                                      warning
any other 4xx-6xx                          ``response-code``          the KB's
=========================================  =========================  =================

A rule that claims a response explains it as ``response-code`` would (the
knowledge-base meaning, likely causes and steps, the decoded Reason, Warning and
Retry-After, through ``_common.ResponseFacts``) and adds what it knows of the
dialog.  The frame of a claimed response may still appear as *evidence* in another
rule's annotation (``auth-rejected`` cites the challenge its credentials answered);
it is never explained twice.

Rules that diagnose something other than an error response (``ack-missing``,
``no-response``, ``nat-private-address``, ``media-direction``, ``post-dial-delay``,
``retransmission-storm``...) look at different evidence and do not use this
table; where two of them could see the same fact, the owner is named in the
rule's own module header (for example ``retransmission-storm`` leaves 2xx
retransmissions to ``ack-missing`` and unanswered requests to ``no-response``).
"""

from __future__ import annotations

from ...dialogs.call import Call
from ._common import credentials, request_of

__all__ = ["claimed_by", "claims"]

_BY_CODE: dict[int, str] = {
    488: "codec-mismatch",
    606: "codec-mismatch",
    415: "codec-mismatch",
    482: "routing-loop",
    483: "routing-loop",
    423: "registration-interval",
    503: "server-unavailable",
    491: "reinvite-glare",
}
# 488/606 are about a session description only where one can be offered: a REFER
# refused with 488 "Transfer impossible" (seen on a real PBX) is no codec problem,
# and response-code explains it from the knowledge base and its Reason header.
_OFFER_CODES = frozenset((488, 606))
_OFFER_METHODS = frozenset(("INVITE", "UPDATE", "PRACK", "ACK"))
_INITIAL_INVITE: dict[int, str] = {486: "callee-busy", 600: "callee-busy", 603: "callee-declined"}


_last: tuple[Call, dict[int, str], dict[str, list[int]]] | None = None
"""One-entry cache: the runner asks every rule about the same call in turn."""


def _cached(call: Call) -> tuple[Call, dict[int, str], dict[str, list[int]]]:
    global _last
    last = _last
    if last is None or last[0] is not call:
        out = _claims(call)
        by_rule: dict[str, list[int]] = {}
        for i in sorted(out):
            by_rule.setdefault(out[i], []).append(i)
        last = _last = (call, out, by_rule)
    return last


def claims(call: Call) -> dict[int, str]:
    """Map the index of each final response >= 400 (first copies only) to the rule explaining it.

    The result is shared between the rules of one call; do not modify it.
    """
    return _cached(call)[1]


def _claims(call: Call) -> dict[int, str]:
    out: dict[int, str] = {}
    msgs = call.messages
    cancelled = {(t.branch, t.cseq) for t in call.transactions if t.method == "CANCEL"}
    provisional_only: set[tuple[str, int]] = set()
    for t in call.transactions:
        if (
            t.method == "INVITE"
            and t.final_status in (0, 408)
            and any(100 <= msgs[i].status < 200 for i in t.responses)
        ):
            provisional_only.add((t.branch, t.cseq))
    for t in call.transactions:
        req = request_of(call, t)
        for i in t.responses:
            m = msgs[i]
            if m.status < 400 or i in call.retransmissions:
                continue
            code = m.status
            rule = ""
            if code in (401, 407):
                rule = (
                    "auth-rejected" if req is not None and credentials(req) else "auth-unanswered"
                )
            elif code == 403 and req is not None and credentials(req):
                rule = "auth-rejected"
            elif (
                code in _INITIAL_INVITE
                and t.method == "INVITE"
                and req is not None
                and not req.to_tag
            ):
                rule = _INITIAL_INVITE[code]
            elif code == 487 and t.method == "INVITE" and (t.branch, t.cseq) in cancelled:
                rule = "caller-cancelled"
            elif code in _BY_CODE and not (
                code in _OFFER_CODES
                and t.method not in _OFFER_METHODS
                and (req is None or req.sdp is None)
            ):
                rule = _BY_CODE[code]
            elif code == 481 and t.method == "BYE":
                rule = "bye-race"
            elif (
                code == 408
                and t.method in ("INVITE", "CANCEL")
                and ((t.branch, t.cseq) in provisional_only)
            ):
                rule = "no-final-response"
            elif t.method == "REGISTER":
                rule = "registration-failed"
            out[i] = rule or "response-code"
    return out


def claimed_by(call: Call, rule: str) -> list[int]:
    """Indices of the final responses that ``rule`` must explain, in capture order."""
    return list(_cached(call)[2].get(rule, ()))
