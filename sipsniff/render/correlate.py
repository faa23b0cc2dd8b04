"""Leg correlation for ``--merge``: which calls are legs of one call through a proxy or B2BUA.

A stateful proxy keeps the Call-ID, so both of its legs are already one call.
A B2BUA (an SBC, a PBX such as Asterisk or FreeSWITCH) starts a new dialog,
with a new Call-ID, for the outbound leg; sipsniff then sees two calls, and
this module decides that they belong together.

How two calls are linked (any one rule is enough; groups are the transitive
closure, so A-B and B-C put A, B and C in one diagram):

1. **Correlation header naming the other leg.** A request of one call carries
   ``X-Call-ID`` or ``X-CID`` (the headers sngrep reads too) whose value is the
   other call's Call-ID.
2. **Shared correlation identifier.** Both calls carry the same
   ``P-Charging-Vector`` ``icid-value`` (3GPP IMS, RFC 7315), or share a
   ``Session-ID`` UUID (RFC 7989: each leg carries the local and remote UUIDs
   of the end-to-end session; the all-zero "null" UUID is ignored).
3. **Same From tag.** Both initial requests carry the same From tag; RFC 3261
   section 19.3 requires tags to be globally unique, so a B2BUA that copies
   the tag across legs gives it away.
4. **Same users, relayed at once.** Both calls have the same From user and the
   same To (or Request-URI) user, the second starts at most ``USER_WINDOW_S``
   after the first, and the second is *relayed* by the first's destination:
   its first request leaves from the IP address the first call's request went
   to (the B2BUA receives leg A, then sends leg B), it is not sent from the
   first call's source ``ip:port`` nor to the first call's destination
   ``ip:port``, and it starts before the first call's last message.
5. **Shared media address.** Both calls offer or answer SDP with the same
   media ``address:port`` (a B2BUA that does not anchor media passes the SDP
   through) and the later one is relayed as in rule 4 (no time window).
   Port 0 and the unspecified addresses ``0.0.0.0`` and ``::`` never link.

Only calls of the same kind are linked (an INVITE call never merges with a
registration).  Rules 4 and 5 need the relay topology because test tools and
busy PBXs often reuse users and RTP ports in consecutive, unrelated calls.

Output: groups in order of their first call's start, each group in start
order; a call linked to nothing is a group of one.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from ..analysis import AnalyzedCall

__all__ = ["REFERENCE_HEADERS", "USER_WINDOW_S", "correlate"]

REFERENCE_HEADERS = ("x-call-id", "x-cid")
"""Headers whose value is the Call-ID of the other leg (sngrep's default ``sip.xcid``)."""
USER_WINDOW_S = 2.0
"""Rule 4: a B2BUA relays a call within milliseconds; two seconds allows a slow DNS or
database lookup, yet stays below the one-call-per-second pace of most test scripts."""
_NULL_UUID = "0" * 32
_ICID = re.compile(r"(?:^|;)\s*icid-value\s*=\s*\"?([^;\"\s]+)", re.IGNORECASE)
_UNSPECIFIED = frozenset({"", "0.0.0.0", "::"})
_MAX_CANDIDATES = 32
"""Rule 5: earlier calls with the same media address compared with each call (bounds the work)."""
_MAX_MESSAGES_SCANNED = 50
"""Requests looked at per call for correlation headers (they appear on the first ones)."""


@dataclass(slots=True)
class _Facts:
    index: int
    kind: str
    call_id: str
    start_ns: int
    end_ns: int
    from_tag: str
    users: tuple[str, str, str]
    src: tuple[str, int]
    dst: tuple[str, int]
    refs: set[str]
    ids: set[str]
    media: set[str]


def _facts(i: int, ac: AnalyzedCall) -> _Facts:
    c = ac.call
    first = next((m for m in c.messages if m.status == 0), None)
    refs: set[str] = set()
    ids: set[str] = set()
    media: set[str] = set()
    for m in c.messages[:_MAX_MESSAGES_SCANNED]:
        h = m.headers
        if m.status == 0:
            for name in REFERENCE_HEADERS:
                refs.update(v.strip() for v in h.get_all(name) if v.strip())
        for v in h.get_all("p-charging-vector"):
            if mt := _ICID.search(v):
                ids.add("icid:" + mt.group(1))
        for v in h.get_all("session-id"):
            local, _, params = v.partition(";")
            ids.update(
                "sid:" + u.lower()
                for u in (local.strip(), *re.findall(r"remote\s*=\s*([0-9a-fA-F]+)", params))
                if u and u != _NULL_UUID
            )
    for m in c.messages:
        if m.sdp is not None:
            media.update(
                f"{md.connection}:{md.port}"
                for md in m.sdp.media
                if md.port and md.connection not in _UNSPECIFIED
            )
    return _Facts(
        index=i,
        kind=c.kind.value,
        call_id=c.call_id,
        start_ns=c.start_ns,
        end_ns=c.end_ns,
        from_tag=first.from_tag if first is not None else "",
        users=(c.from_user, c.to_user, c.request_user),
        src=(first.src.ip, first.src.port) if first is not None else ("", 0),
        dst=(first.dst.ip, first.dst.port) if first is not None else ("", 0),
        refs=refs,
        ids=ids,
        media=media,
    )


def _relayed(a: _Facts, b: _Facts) -> bool:
    """Is ``b`` (the later call) relayed by the host ``a`` went to, while ``a`` was up?

    ``b`` leaves from the host ``a`` was sent to, and goes elsewhere than ``a``'s
    destination from elsewhere than ``a``'s source: a caller redialling the same
    server (every SIPp scenario on loopback) is not a relay.
    """
    if b.start_ns < a.start_ns:
        a, b = b, a
    return (
        bool(a.dst[0])
        and b.src[0] == a.dst[0]
        and b.src != a.src
        and b.dst != a.dst
        and b.start_ns <= a.end_ns
    )


class _Union:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def join(self, i: int, j: int) -> None:
        ri, rj = self.find(i), self.find(j)
        if ri != rj:
            self.parent[max(ri, rj)] = min(ri, rj)


def correlate(calls: Sequence[AnalyzedCall]) -> list[list[AnalyzedCall]]:
    """Group calls that are legs of one call (see the module docstring for the rules).

    Args:
        calls: analysed calls, in any order, with their messages.

    Returns:
        Groups of calls, ordered by start time; every call is in exactly one group.
    """
    order = sorted(range(len(calls)), key=lambda i: (calls[i].call.start_ns, i))
    facts = [_facts(i, calls[i]) for i in order]
    uf = _Union(len(facts))

    def link_by(key_sets: list[tuple[int, set[str]]], check: bool = False) -> None:
        seen: dict[tuple[str, str], list[int]] = defaultdict(list)
        for pos, keys in key_sets:
            f = facts[pos]
            for k in keys:
                bucket = seen[(f.kind, k)]
                if not check:
                    if bucket:
                        uf.join(bucket[0], pos)
                    else:
                        bucket.append(pos)
                    continue
                for other in bucket[-_MAX_CANDIDATES:]:
                    o = facts[other]
                    if _relayed(o, f):
                        uf.join(other, pos)
                bucket.append(pos)

    by_id = {(f.kind, f.call_id): pos for pos, f in enumerate(facts)}
    for pos, f in enumerate(facts):
        for ref in f.refs:
            other = by_id.get((f.kind, ref))
            if other is not None:
                uf.join(pos, other)
    link_by([(pos, f.ids) for pos, f in enumerate(facts)])
    link_by([(pos, {f.from_tag} if f.from_tag else set()) for pos, f in enumerate(facts)])

    # rule 4: same users, relayed within the window (facts are in start order)
    by_users: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    window = int(USER_WINDOW_S * 1e9)
    for pos, f in enumerate(facts):
        fu, tu, ru = f.users
        if not fu:
            continue
        for key in {(f.kind, fu, tu), (f.kind, fu, "R:" + ru)}:
            if key[2] in ("", "R:"):
                continue
            bucket = by_users[key]
            for other in reversed(bucket):
                o = facts[other]
                if f.start_ns - o.start_ns > window:
                    break
                if _relayed(o, f):
                    uf.join(other, pos)
            bucket.append(pos)

    # rule 5: shared media address, overlapping in time, relayed
    link_by([(pos, f.media) for pos, f in enumerate(facts)], check=True)

    groups: dict[int, list[AnalyzedCall]] = {}
    for pos, f in enumerate(facts):
        groups.setdefault(uf.find(pos), []).append(calls[f.index])
    return list(groups.values())
