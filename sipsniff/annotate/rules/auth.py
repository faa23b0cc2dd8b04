"""Digest authentication: ``auth-rejected`` (credentials refused) and ``auth-unanswered``.

Strategy: RFC 3261 section 22 digest authentication is a two-step flow.  A 401
(``WWW-Authenticate``) or 407 (``Proxy-Authenticate``) challenge that the client
answers with a new request carrying ``Authorization``/``Proxy-Authorization`` and
that then succeeds is the normal flow and produces nothing.  What is worth saying:

- ``auth-rejected`` (error): a request that *carried* credentials was answered
  with 401/407 again or with 403.  The username, password or realm is wrong.  The
  cause names the username and realm sent, the realm asked for, and says when
  they differ, or when the From user is not the digest username.  When the
  server's reason phrase says the nonce changed (without stale=true), the
  password may be right and the client too slow or reusing a nonce: a warning.  A new challenge with
  ``stale=true`` means only the nonce had expired (the password was right): that
  is silent when the client retried successfully, a warning when it did not.
- ``auth-unanswered`` (warning): a challenge that no later request with the same
  Call-ID and method answered with credentials.  The client has no credentials
  for that realm, does not support the algorithm, or gave up.  This rule sees
  *all* calls (a ``ManyCallRule``): the tracker publishes a Call-ID's exchanges
  separately when they are more than 5 s apart (a slow client, a REGISTER
  refresh), and a challenge answered in the next exchange is not unanswered.

Both rules take the 401/407/403 responses the claims table (``_claims``) gives
them, so ``response-code`` never explains a challenge.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Iterator

from ...dialogs.call import Call
from ...sip.message import SipMessage
from ..annotation import Annotation
from ..knowledge import Severity
from . import register, register_many
from ._claims import claimed_by
from ._common import (
    credentials,
    evidence,
    fmt_delay,
    kb_resolution,
    quote,
    response_facts,
    sentences,
    transaction_of,
)

__all__ = ["AuthRejectedRule", "AuthUnansweredRule", "digest_params"]

# A client answers a challenge at once (it has the credentials or not); a capture that ends
# within Timer F (64*T1 = 32 s) of the challenge may simply have missed the answer.
_RETRY_WINDOW_NS = 32 * 1_000_000_000
_PARAM = re.compile(r'([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"?|([^,\s]*))')


def digest_params(value: str) -> dict[str, str]:
    """``Digest realm="x", nonce="y", stale=true`` -> ``{"realm": "x", ...}`` (lower-case keys)."""
    return {
        m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3)
        for m in _PARAM.finditer(value)
    }


def _challenge(msg: SipMessage) -> dict[str, str]:
    value = msg.headers.get("www-authenticate") or msg.headers.get("proxy-authenticate") or ""
    return digest_params(value)


def _sent(msg: SipMessage) -> dict[str, str]:
    value = msg.headers.get("authorization") or msg.headers.get("proxy-authorization") or ""
    return digest_params(value)


def _who(msg: SipMessage) -> str:
    user = msg.from_addr.user
    return f"{quote(user, 60)}'s " if user else "the "


class AuthRejectedRule:
    """Credentials were sent and refused (401/407 again, or 403)."""

    claimed_only = True
    id = "auth-rejected"
    description = "A request with credentials was challenged again (401/407) or refused (403)."

    def check(self, call: Call) -> Iterator[Annotation]:
        msgs = call.messages
        claimed = claimed_by(call, self.id)
        if not claimed:
            return
        rejected: list[int] = []
        stale_unretried: list[int] = []
        for i in claimed:
            m = msgs[i]
            if m.status in (401, 407) and _challenge(m).get("stale", "").lower() == "true":
                retried_ok = any(
                    t.method == m.cseq_method
                    and t.cseq > m.cseq_num
                    and 200 <= t.final_status < 300
                    for t in call.transactions
                )
                if not retried_ok:
                    stale_unretried.append(i)
                continue
            rejected.append(i)
        if rejected:
            yield self._rejected(call, rejected)
        elif stale_unretried:
            yield self._stale(call, stale_unretried)

    def _rejected(self, call: Call, indices: list[int]) -> Annotation:
        msgs = call.messages
        f = response_facts(call, indices[0])
        req = f.request
        assert req is not None  # claims give auth-rejected only responses to requests
        header = credentials(req)
        sent = _sent(req)
        user, realm = sent.get("username", ""), sent.get("realm", "")
        parts = [
            f"{_who(req)}{f.method} (frame {req.frame}) carried {header}"
            + (f' for username "{quote(user, 60)}"' if user else "")
            + (f' in realm "{quote(realm, 60)}"' if realm else "")
            + f", and {f.msg.src} refused it with {f.label} (frame {f.msg.frame})."
        ]
        if f.msg.reason and f.msg.reason.lower() != f.info.reason.lower():
            parts.append(f'Its reason phrase: "{quote(f.msg.reason, 80)}".')
        # the challenge this request answered, when it is in the same exchange
        earlier = [
            j
            for j, m in enumerate(msgs)
            if m.status in (401, 407)
            and j < indices[0]
            and m.cseq_method == f.method
            and m.cseq_num < req.cseq_num
        ]
        frames: list[int] = []
        asked = ""
        if earlier:
            ch = msgs[earlier[-1]]
            asked = _challenge(ch).get("realm", "")
            frames.append(ch.frame)
            parts.append(
                f"It answered the {ch.status} challenge in frame {ch.frame}, "
                f"{fmt_delay(req.ts_ns - ch.ts_ns)} after it."
            )
            nonce = _challenge(ch).get("nonce", "")
            if nonce and sent.get("nonce") and sent["nonce"] != nonce:
                parts.append("It used a different nonce from the one the challenge gave.")
        nonce_said = "nonce" in f.msg.reason.lower() or "stale" in f.msg.reason.lower()
        if f.msg.status in (401, 407) and nonce_said:
            asked = asked or _challenge(f.msg).get("realm", "")
            parts.append(
                "The server says the nonce is no longer valid: the credentials were computed "
                "with a nonce it has since replaced, so it refused them without saying stale=true "
                "(RFC 2617 section 3.2.1), which a client must treat as a failure. A client that "
                "answers challenges late, or reuses an old nonce, meets this on every attempt."
            )
        elif f.msg.status in (401, 407):
            asked = asked or _challenge(f.msg).get("realm", "")
            parts.append(
                "The server challenged again instead of accepting: the digest response did not "
                "match (RFC 3261 section 22.2), so the password, the username (auth ID) or the "
                "realm is wrong."
            )
        else:
            parts.append(
                "403 after credentials means the server checked them and refused: a wrong "
                "password, a username not allowed for this From/domain, or an account "
                "that is blocked."
            )
        if asked and realm and asked != realm:
            parts.append(
                f'The server asked for realm "{quote(asked, 60)}" but the client answered '
                f'for realm "{quote(realm, 60)}".'
            )
        from_user = req.from_addr.user
        if user and from_user and from_user != user:
            parts.append(
                f'The From user ("{quote(from_user, 60)}") is not the digest username '
                f'("{quote(user, 60)}"): servers that require the identity and the account to '
                "match refuse such requests even with the right password."
            )
        if len(indices) > 1:
            parts.append(
                f"{len(indices)} requests with credentials were refused in this call "
                f"(frames {', '.join(str(msgs[i].frame) for i in indices)})."
            )
        for j in indices:
            frames.append(msgs[j].frame)
            txn = transaction_of(call, j)
            if txn is not None and txn.requests:
                frames.append(msgs[txn.requests[0]].frame)
        details: list[tuple[str, str]] = [("status", f.label), ("credentials", header)]
        if user:
            details.append(("username", quote(user, 80)))
        if realm:
            details.append(("realm sent", quote(realm, 80)))
        if asked:
            details.append(("realm asked", quote(asked, 80)))
        details.extend(d for d in f.details if d[0].startswith(("reason", "warning", "server")))
        steps = [
            "Check the username (auth ID), password and realm configured on the client "
            "against the account on the server; re-enter the password.",
            "Check that the account is enabled and allowed to use this From identity and "
            "domain; look at the server's log for the exact refusal.",
        ]
        if nonce_said:
            steps.insert(
                0,
                "Make the client answer a challenge at once with the nonce it was just given "
                "(update its firmware), or raise the server's nonce lifetime.",
            )
        if f.msg.status == 403:
            # the knowledge base's 403 steps cover bans, suspended accounts and policies too
            resolution = kb_resolution(f.info, *steps)
        else:
            resolution = (
                *tuple(steps),
                "Check that the client supports the challenge's algorithm and qop.",
            )
        return Annotation(
            rule=self.id,
            severity=Severity.WARNING if nonce_said else Severity.ERROR,
            title=f"{f.method} credentials rejected: {f.label}"
            + (f' ("{quote(f.msg.reason, 40)}")' if nonce_said else ""),
            cause=sentences(*parts),
            resolution=resolution,
            frames=evidence(frames),
            call_id=call.call_id,
            details=tuple(details),
        )

    def _stale(self, call: Call, indices: list[int]) -> Annotation:
        f = response_facts(call, indices[0])
        return Annotation(
            rule=self.id,
            severity=Severity.WARNING,
            title=f"{f.method} nonce expired and not retried: {f.label}",
            cause=(
                f"{f.opening} The new challenge has stale=true: the credentials were right "
                "but their nonce had expired (RFC 2617 section 3.2.1), and the client should "
                "have retried at once with the new nonce. No successful retry followed."
            ),
            resolution=(
                "Update the client's firmware: it must retry silently on stale=true.",
                "If nonces expire very quickly, raise the nonce lifetime on the server.",
            ),
            frames=evidence(*(response_facts(call, i).frames for i in indices)),
            call_id=call.call_id,
            details=(("status", f.label), ("stale", "true")),
        )


class AuthUnansweredRule:
    """A 401/407 challenge that no later request (same Call-ID and method) answered."""

    id = "auth-unanswered"
    description = "A 401/407 challenge never answered with credentials."

    def __init__(self) -> None:
        self._pending: dict[tuple[str, str], list[tuple[int, int, Annotation]]] = {}
        self._last_ns = 0

    def observe(self, call: Call) -> None:
        self._last_ns = max(self._last_ns, call.end_ns)
        msgs = call.messages
        answered: dict[str, int] = {}
        for m in msgs:
            if m.status == 0 and m.method != "ACK" and credentials(m):
                answered[m.method] = max(answered.get(m.method, -1), m.cseq_num)
        for method, cseq in answered.items():
            key = (call.call_id, method)
            if key in self._pending:
                left = [p for p in self._pending[key] if p[0] >= cseq]
                if left:
                    self._pending[key] = left
                else:
                    del self._pending[key]
        for i in claimed_by(call, self.id):
            m = msgs[i]
            if answered.get(m.cseq_method, -1) > m.cseq_num:
                continue  # answered in this same exchange
            self._pending.setdefault((call.call_id, m.cseq_method), []).append(
                (m.cseq_num, m.ts_ns, self._annotation(call, i))
            )

    def _annotation(self, call: Call, index: int) -> Annotation:
        f = response_facts(call, index)
        req = f.request
        ch = _challenge(f.msg)
        realm = ch.get("realm", "")
        algorithm = ch.get("algorithm", "MD5")
        header = "Authorization" if f.msg.status == 401 else "Proxy-Authorization"
        asker = "registrar or user agent" if f.msg.status == 401 else "proxy"
        who = _who(req) if req is not None else "the "
        parts = [
            f"{f.msg.src} ({asker}) challenged {who}{f.method}"
            + (f" (frame {req.frame})" if req is not None else "")
            + f" with {f.label} in frame {f.msg.frame}"
            + (f', asking for digest credentials for realm "{quote(realm, 60)}"' if realm else "")
            + f", and no later {f.method} with this Call-ID carried {header}.",
            "The client has no credentials configured for this server or realm, does not "
            f"support the {quote(algorithm, 20)} algorithm, or gave up.",
        ]
        details: list[tuple[str, str]] = [("status", f.label)]
        if realm:
            details.append(("realm", quote(realm, 80)))
        details.append(("algorithm", quote(algorithm, 40)))
        details.extend(d for d in f.details if d[0].startswith(("reason", "warning", "server")))
        return Annotation(
            rule=self.id,
            severity=Severity.WARNING,
            title=f"{f.method} challenge never answered: {f.label}",
            cause=sentences(*parts),
            resolution=(
                "Configure the account's username (auth ID), password and realm on the client.",
                "If credentials are configured, check that the client supports the "
                "challenge's algorithm and qop, and that the realm matches.",
                "Many unanswered challenges to unknown users from many sources are a scan, not "
                "a client: block it (fail2ban, rate limits, IP allow-lists).",
            ),
            frames=f.frames,
            call_id=call.call_id,
            details=tuple(details),
        )

    def merge(self, other: AuthUnansweredRule) -> None:
        """Take in another shard's pending challenges (its Call-IDs are not ours)."""
        for key, items in other._pending.items():
            self._pending.setdefault(key, []).extend(items)
        self._last_ns = max(self._last_ns, other._last_ns)

    def finish(self) -> Iterable[tuple[str, Annotation]]:
        out: list[tuple[str, Annotation]] = []
        for (call_id, _method), items in self._pending.items():
            for _cseq, ts, ann in items:
                if self._last_ns - ts < _RETRY_WINDOW_NS:
                    ann = dataclasses.replace(
                        ann,
                        cause=ann.cause + " The capture ends "
                        f"{fmt_delay(self._last_ns - ts)} after the challenge, so an answer may "
                        "have come after it.",
                    )
                out.append((call_id, ann))
        self._pending.clear()
        return out


register(AuthRejectedRule())
register_many(AuthUnansweredRule, AuthUnansweredRule.id)
