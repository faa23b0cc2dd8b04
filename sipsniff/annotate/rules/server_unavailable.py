"""``server-unavailable``: 503 Service Unavailable, per call and repeated across calls.

Strategy: a 503 says the server that sent it (or one behind it) cannot take the
request now: overload, maintenance, no free trunk or licence, or a dead next hop.
Its ``Retry-After`` says when it expects to be back, and RFC 3261 section 21.5.4
asks clients not to send it new requests before then and to fail over instead.
One 503 is explained on its own call; the same server refusing several calls is
the real finding (a server down, not a call unlucky), and needs every call, so
the rule has two halves registered under one id:

- a single-call rule: every 503 a call received (claimed from ``response-code``
  through ``_claims``), with the server, Retry-After and Reason decoded; error.
- a cross-call rule (``ManyCallRule``): when one server answered 503 in two or
  more calls, one annotation on the first of them with the count, the time span,
  every 503's frame, and whether later calls ignored an earlier Retry-After.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from typing import NamedTuple

from ...decode.payload import Endpoint
from ...dialogs.call import Call
from ..annotation import Annotation
from ..knowledge import Severity, lookup, parse_retry_after
from . import register, register_many
from ._claims import claimed_by
from ._common import evidence, fmt_delay, kb_resolution, response_facts, sentences

__all__ = ["ServerUnavailableRule", "ServerUnavailableSeries"]

_ID = "server-unavailable"
_DESCRIPTION = "503 Service Unavailable (with Retry-After), and 503s repeated toward one server."


class ServerUnavailableRule:
    """Each 503 a call received, explained with its Retry-After."""

    claimed_only = True
    id = _ID
    description = _DESCRIPTION

    def check(self, call: Call) -> Iterator[Annotation]:
        facts = [response_facts(call, i) for i in claimed_by(call, self.id)]
        if not facts:
            return
        f = facts[0]
        retry = parse_retry_after(f.msg.headers.get("retry-after") or "")
        extra = (
            []
            if retry is not None
            else ["It gave no Retry-After: it does not know when it will recover."]
        )
        yield Annotation(
            rule=self.id,
            severity=Severity.ERROR,
            title=f"{f.method} rejected: {f.label}"
            + (f" (retry after {retry} s)" if retry is not None else ""),
            cause=f.cause(*extra),
            resolution=f.resolution(
                f"Start with {f.msg.src}, the server that answered 503, and the hop behind it: "
                "its logs at this time say which resource ran out.",
            ),
            frames=evidence(*(x.frames for x in facts)),
            call_id=call.call_id,
            details=tuple(f.details),
        )


class _Refusal(NamedTuple):
    call_id: str
    ts_ns: int
    frame: int
    request_ts_ns: int
    request_frame: int
    retry_after: int | None


class ServerUnavailableSeries:
    """The same server answering 503 in several calls."""

    id = _ID
    description = _DESCRIPTION

    def __init__(self) -> None:
        self._by_server: dict[Endpoint, list[_Refusal]] = {}

    def observe(self, call: Call) -> None:
        for i in claimed_by(call, self.id):
            f = response_facts(call, i)
            req = f.request
            self._by_server.setdefault(f.msg.src, []).append(
                _Refusal(
                    call_id=call.call_id,
                    ts_ns=f.msg.ts_ns,
                    frame=f.msg.frame,
                    request_ts_ns=req.ts_ns if req is not None else f.msg.ts_ns,
                    request_frame=req.frame if req is not None else f.msg.frame,
                    retry_after=parse_retry_after(f.msg.headers.get("retry-after") or ""),
                )
            )

    def merge(self, other: ServerUnavailableSeries) -> None:
        """Take in another shard's refusals (``finish`` orders them by time)."""
        for server, refusals in other._by_server.items():
            self._by_server.setdefault(server, []).extend(refusals)

    def finish(self) -> Iterable[tuple[str, Annotation]]:
        out = []
        for server, refusals in self._by_server.items():
            calls = {r.call_id for r in refusals}
            if len(calls) < 2:
                continue
            refusals.sort(key=lambda r: r.ts_ns)
            first, last = refusals[0], refusals[-1]
            span = fmt_delay(last.ts_ns - first.ts_ns)
            ignored = [
                later
                for prev, later in itertools.pairwise(refusals)
                if prev.retry_after is not None
                and later.request_ts_ns < prev.ts_ns + prev.retry_after * 1_000_000_000
            ]
            parts = [
                f"{server} answered 503 Service Unavailable to {len(calls)} calls in {span} "
                f"(frames {', '.join(str(r.frame) for r in refusals)}): the server itself is "
                "out of service, not one call unlucky."
            ]
            afters = sorted({r.retry_after for r in refusals if r.retry_after is not None})
            if ignored:
                parts.append(
                    f"{len(ignored)} of these requests were sent while an earlier Retry-After "
                    "was still running (first in frame "
                    f"{ignored[0].request_frame}): the clients did not honour it and did not "
                    "fail over."
                )
            details = [
                ("server", str(server)),
                ("calls", str(len(calls))),
                ("span", span),
            ]
            if afters:
                details.append(("retry-after", ", ".join(f"{a} s" for a in afters)))
            out.append(
                (
                    first.call_id,
                    Annotation(
                        rule=self.id,
                        severity=Severity.ERROR,
                        title=f"{server} refused {len(calls)} calls with 503 in {span}",
                        cause=sentences(*parts),
                        resolution=kb_resolution(
                            lookup(503),
                            f"Restore {server} (or route around it) before anything else: "
                            "every call sent there fails.",
                            "Make clients and proxies honour Retry-After and fail over to a "
                            "second server (DNS SRV priorities, a backup trunk).",
                        ),
                        frames=evidence(r.frame for r in refusals),
                        call_id=first.call_id,
                        details=tuple(details),
                    ),
                )
            )
        self._by_server.clear()
        return out


register(ServerUnavailableRule())
register_many(ServerUnavailableSeries, _ID)
