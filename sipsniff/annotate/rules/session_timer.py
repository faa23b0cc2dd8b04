"""``session-timer-expired``: a call torn down because its session timer ran out.

Strategy: RFC 4028 keeps a call alive by refreshing it (re-INVITE or UPDATE)
within the negotiated ``Session-Expires`` interval.  When no refresh succeeds,
the side that did not have to refresh sends BYE shortly before the expiry, at
``SE - min(32 s, SE/3)`` after the last refresh (section 10).  So the evidence is
the interval negotiated in the 2xx (or requested in the INVITE), no successful
refresh, a BYE arriving in that window, and the failed refresh attempts if any.
A BYE whose Reason text names the session timer is taken at its word.

Rules:
- Warning: the call ended on a timer, not by a person, which usually means the
  refreshes were lost (NAT, a firewall closing the pinhole, a proxy that does
  not Record-Route), rejected, or never sent (refresher mismatch).
- The window is ``[SE - min(32, SE/3) - 2 s, SE + 5 s]`` after the last answer or
  refresh; calls hung up at another time by a person are not reported.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ...dialogs.call import Call
from ...sip.message import SipMessage
from ..annotation import Annotation
from ..knowledge import Severity
from . import register
from ._common import (
    decoded_headers,
    evidence,
    fmt_delay,
    iter_originals,
    plural,
    quote,
    sentences,
)
from ._facts import CallFacts

__all__ = ["SessionTimerRule", "session_expires"]

_S = 1_000_000_000
_EARLY_SLACK_NS = 2 * _S
_LATE_SLACK_NS = 5 * _S


# Cheap byte scans that let most calls skip a full header parse.
_HAS_SE = re.compile(rb"\n(?:session-expires|x)[ \t]*:", re.IGNORECASE)
_HAS_REASON = re.compile(rb"\nreason[ \t]*:", re.IGNORECASE)


def session_expires(msg: SipMessage) -> tuple[int, str] | None:
    """``(seconds, refresher)`` from ``Session-Expires: 1800;refresher=uac`` (compact ``x``)."""
    if _HAS_SE.search(msg.raw) is None:
        return None
    value = msg.headers.get("session-expires") or msg.headers.get("x")
    if not value:
        return None
    head, _, params = value.partition(";")
    head = head.strip()
    if not head.isdigit() or len(head) > 10:
        return None
    refresher = ""
    for p in params.split(";"):
        k, _, v = p.partition("=")
        if k.strip().lower() == "refresher":
            refresher = v.strip().lower()
    return int(head), refresher


def _timer_reason(bye: SipMessage) -> bool:
    if _HAS_REASON.search(bye.raw) is None:
        return False
    text = " ".join(bye.headers.get_all("reason")).lower()
    return "session" in text and ("timer" in text or "expir" in text)


class SessionTimerRule:
    """BYE at session expiry with no successful refresh."""

    id = "session-timer-expired"
    description = "The call ended when its RFC 4028 session timer expired without a refresh."

    @staticmethod
    def applies(facts: CallFacts, errors: bool) -> bool:
        """An answered INVITE and a BYE are both required."""
        return facts.invite_ok and facts.bye

    def check(self, call: Call) -> Iterator[Annotation]:
        msgs = call.messages
        answer = next(
            (
                m
                for _, m in iter_originals(call)
                if m.cseq_method == "INVITE" and 200 <= m.status < 300
            ),
            None,
        )
        bye = next((m for _, m in iter_originals(call) if m.method == "BYE"), None)
        if answer is None or bye is None or bye.ts_ns < answer.ts_ns:
            return
        invite = next((m for m in msgs if m.method == "INVITE"), None)
        se = session_expires(answer) or (session_expires(invite) if invite is not None else None)
        said = _timer_reason(bye)
        if se is None and not said:
            return
        last = answer
        refreshes_ok: list[SipMessage] = []
        failed: list[SipMessage] = []
        for t in call.transactions:
            if t.method not in ("INVITE", "UPDATE") or not t.requests:
                continue
            req = msgs[t.requests[0]]
            if not req.to_tag or req.ts_ns <= answer.ts_ns or req.ts_ns >= bye.ts_ns:
                continue
            if 200 <= t.final_status < 300:
                ok = next(msgs[i] for i in t.responses if 200 <= msgs[i].status < 300)
                refreshes_ok.append(ok)
                last = ok if ok.ts_ns > last.ts_ns else last
            else:
                failed.append(req)
        since = bye.ts_ns - last.ts_ns
        in_window = False
        if se is not None:
            interval = se[0] * _S
            early = interval - min(32 * _S, interval // 3) - _EARLY_SLACK_NS
            in_window = early <= since <= interval + _LATE_SLACK_NS
        if not in_window and not said:
            return
        parts = []
        details: list[tuple[str, str]] = []
        if se is not None:
            who = f", refresher={se[1]}" if se[1] else ""
            parts.append(
                f"The call negotiated Session-Expires: {se[0]} s{who} (frame {answer.frame}"
                f"{'' if session_expires(answer) else ', from the INVITE'})."
            )
            details.append(("session-expires", f"{se[0]} s{who}"))
        if refreshes_ok:
            parts.append(
                f"The last successful refresh was in frame {last.frame}; none followed for "
                f"{fmt_delay(since)}."
            )
        else:
            parts.append(
                f"No refresh (re-INVITE or UPDATE) succeeded in the {fmt_delay(since)} after the answer."
            )
        if failed:
            parts.append(
                f"{plural(len(failed), 'refresh attempt')} failed (frames {', '.join(str(m.frame) for m in failed)})."
            )
        parts.append(
            f"{bye.src} then sent BYE (frame {bye.frame}) {fmt_delay(since)} after "
            f"{'the answer' if last is answer else 'the last refresh'}"
            + (", at the expiry RFC 4028 section 10 sets." if in_window else ".")
        )
        dets, reason_sentences, _ = decoded_headers(bye)
        parts.extend(reason_sentences)
        details.extend(dets)
        details.append(("bye after", fmt_delay(since)))
        yield Annotation(
            rule=self.id,
            severity=Severity.WARNING,
            title=f"Call ended by session timer after {fmt_delay(since)}"
            + (f" (Session-Expires {se[0]} s)" if se is not None else ""),
            cause=sentences(*parts, "The call ended on a timer, not because someone hung up."),
            resolution=(
                "Find out why the refresh did not happen: check that the refresher side (see "
                "refresher=) sends re-INVITE/UPDATE in time and that both sides agree who it is.",
                "Check that refreshes reach the other side: proxies must Record-Route, and NAT "
                "or firewall pinholes must stay open for the whole session interval.",
                "If a refresh was rejected, read its error response; as a stopgap, lengthen "
                "Session-Expires or disable session timers on the side that fails.",
            ),
            frames=evidence([answer.frame, bye.frame], (m.frame for m in failed)),
            call_id=call.call_id,
            details=tuple((k, quote(v, 200)) for k, v in details),
        )


register(SessionTimerRule())
