"""Facts shared by the report exporters (text, Markdown, HTML): counts, ratios, time buckets.

Rules:
- Call-level figures (outcomes, answer-seizure ratio, response codes, annotations
  by rule) are computed from the calls *in the report*, so a filtered report
  (``--failed``) describes what it shows; packet-level figures (frames, SIP
  messages, skipped frames, capture warnings) come from ``Stats`` and describe
  the whole capture.  ``selected``/``total`` says when the two differ.
- Nothing here escapes: every string is raw; each sink escapes at output.
"""

from __future__ import annotations

import datetime as _dt
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import IO

from ..analysis import Analysis, AnalyzedCall
from ..dialogs.call import Call
from ..dialogs.states import CallKind, CallState

__all__ = [
    "CHALLENGES",
    "MAX_DETAILED_CALLS",
    "Bucket",
    "LineExporter",
    "ReportFacts",
    "clock",
    "facts",
    "fmt_delta",
    "plural",
    "time_buckets",
    "utc",
    "who",
]

# A report draws a ladder and lists raw messages for at most this many calls.
# Precedent: sngrep bounds its call list (``capture.limit``) and shows one flow
# at a time.  Measured here: 1000 calls of the demo capture make a 9.3 MB HTML
# file that headless Chromium loads in about 2 s and filters in 0.5 s; ten
# times that is past what a person scrolls or a browser tab handles well.
# Past the bound every call is still listed, and the report says how to narrow it.
MAX_DETAILED_CALLS = 1000


CHALLENGES = frozenset((401, 407))
"""Authentication challenges (RFC 3261 section 22.2): the normal first answer to a
request without credentials, so not counted as errors in the over-time chart."""


def utc(ts_ns: int) -> str:
    """``2026-11-24 18:04:21 UTC``."""
    return f"{_dt.datetime.fromtimestamp(ts_ns / 1e9, _dt.UTC):%Y-%m-%d %H:%M:%S} UTC"


def clock(ts_ns: int) -> str:
    """``18:04:21.569`` (UTC, milliseconds)."""
    return _dt.datetime.fromtimestamp(ts_ns / 1e9, _dt.UTC).strftime("%H:%M:%S.%f")[:-3]


def fmt_delta(ms: float) -> str:
    """``+0``, ``+104 ms``, ``+2.50 s``: time since the previous arrow."""
    if ms <= 0:
        return "+0"
    if ms < 1:
        return f"+{ms:.1f} ms"
    if ms < 1000:
        return f"+{ms:.0f} ms"
    return f"+{ms / 1000:.2f} s"


def who(c: Call) -> tuple[str, str]:
    """The (from, to) users a person reads first (raw wire text)."""
    return (c.from_user or c.from_uri, c.to_user or c.request_user or c.to_uri)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportFacts:
    """Call-level figures of the calls in a report (raw values, not text)."""

    selected: int
    """Calls in the report."""
    total: int
    """Calls in the capture (``Stats.calls``); larger than ``selected`` when filtered."""
    by_state: Counter[str]
    by_kind: Counter[str]
    invite_calls: int
    answered_invites: int
    failed: int
    """Rejected or timed out (cancelled is counted apart)."""
    cancelled: int
    answered: int
    responses: Counter[int]
    methods: Counter[str]
    annotations_by_rule: Counter[str]
    annotations_by_severity: Counter[str]

    @property
    def asr(self) -> float | None:
        """Answer-seizure ratio: answered INVITE calls / all INVITE calls (None: no INVITE)."""
        return self.answered_invites / self.invite_calls if self.invite_calls else None

    def asr_text(self) -> str:
        r = self.asr
        if r is None:
            return "n/a (no INVITE calls)"
        return f"{r * 100:.1f} % ({self.answered_invites} of {self.invite_calls} INVITE calls)"


def facts(analysis: Analysis) -> ReportFacts:
    """Count what the report's calls hold."""
    by_state: Counter[str] = Counter()
    by_kind: Counter[str] = Counter()
    responses: Counter[int] = Counter()
    methods: Counter[str] = Counter()
    rules: Counter[str] = Counter()
    sevs: Counter[str] = Counter()
    invites = answered_inv = 0
    for ac in analysis.calls:
        c = ac.call
        by_state[c.state.value] += 1
        by_kind[c.kind.value] += 1
        if c.kind is CallKind.CALL:
            invites += 1
            answered_inv += c.state is CallState.ANSWERED
        for m in c.messages:
            if m.status:
                responses[m.status] += 1
            else:
                methods[m.method] += 1
        for a in ac.annotations:
            rules[a.rule] += 1
            sevs[str(a.severity)] += 1
    return ReportFacts(
        selected=len(analysis.calls),
        total=max(analysis.stats.calls, len(analysis.calls)),
        by_state=by_state,
        by_kind=by_kind,
        invite_calls=invites,
        answered_invites=answered_inv,
        failed=by_state[CallState.REJECTED.value] + by_state[CallState.TIMED_OUT.value],
        cancelled=by_state[CallState.CANCELLED.value],
        answered=by_state[CallState.ANSWERED.value],
        responses=responses,
        methods=methods,
        annotations_by_rule=rules,
        annotations_by_severity=sevs,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Bucket:
    """One slice of capture time for the over-time charts."""

    start_ns: int
    end_ns: int
    calls: Counter[str]
    """Calls that started in the slice, by state."""
    errors: Counter[int]
    """Error responses (4xx/5xx/6xx, challenges excepted) sent in the slice, by class (4, 5, 6)."""


def time_buckets(calls: Sequence[AnalyzedCall], n: int = 40) -> list[Bucket]:
    """Split the calls' time span into ``n`` equal slices (fewer for a very short span).

    Returns:
        The slices in time order; empty when there are no calls.
    """
    if not calls:
        return []
    start = min(ac.call.start_ns for ac in calls)
    end = max([ac.call.end_ns for ac in calls] + [start])
    span = end - start
    # a slice shorter than 100 ms says nothing a reader can use
    n = max(1, min(n, span // 100_000_000 or 1))
    width = max(1, -(-span // n)) if span else 1
    buckets = [
        Bucket(
            start_ns=start + i * width,
            end_ns=start + (i + 1) * width,
            calls=Counter(),
            errors=Counter(),
        )
        for i in range(n)
    ]

    def slot(ts: int) -> Bucket:
        return buckets[min(n - 1, max(0, (ts - start) // width))]

    for ac in calls:
        c = ac.call
        slot(c.start_ns).calls[c.state.value] += 1
        for m in c.messages:
            if m.status >= 400 and m.status not in CHALLENGES:
                slot(m.ts_ns).errors[m.status // 100] += 1
    return buckets


@dataclass(frozen=True, slots=True)
class LineExporter:
    """An exporter whose format is a sequence of text lines (text, Markdown, diagrams)."""

    name: str
    suffixes: tuple[str, ...]
    description: str
    lines: Callable[[Analysis], Iterable[str]]
    """Renders the analysis; ``write`` adds the line ends."""

    def write(self, analysis: Analysis, fp: IO[str]) -> None:
        for line in self.lines(analysis):
            fp.write(line + "\n")


def plural(n: int, word: str) -> str:
    """``1 call``, ``3 calls``: counts in sentences read naturally."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
