"""Call selection shared by every command: --call-id, --user, --method, --status, --failed...

A ``CallFilter`` is built once from the command line and asked ``matches`` for
each finished call; it reads the frozen model only.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

from .analysis import AnalyzedCall
from .annotate.knowledge import Severity

__all__ = ["CallFilter", "parse_time"]


def parse_time(value: str, reference_ns: int = 0) -> int:
    """Parse ``--since``/``--until``: epoch seconds, ISO 8601, or a time of day (UTC).

    A bare time of day (``14:03:05``) is taken on the day of ``reference_ns``
    (the first packet), so users can paste what the ladder shows.

    Raises:
        ValueError: the value is none of those forms.
    """
    v = value.strip()
    try:
        return int(float(v) * 1e9)
    except ValueError:
        pass
    try:
        t = _dt.time.fromisoformat(v)
    except ValueError:
        t = None
    if t is not None:
        day = _dt.datetime.fromtimestamp(reference_ns / 1e9, _dt.UTC).date()
        dt = _dt.datetime.combine(day, t, tzinfo=t.tzinfo or _dt.UTC)
        return int(dt.timestamp() * 1e9)
    try:
        dt = _dt.datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(
            f"{value!r} is not a time: use epoch seconds, 2026-11-24T14:03:05 or 14:03:05 (UTC)"
        ) from exc
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=_dt.UTC)
    return int(dt.timestamp() * 1e9)


@dataclass(frozen=True, slots=True, kw_only=True)
class CallFilter:
    """Which calls a command shows. Empty fields match everything."""

    call_ids: tuple[str, ...] = ()
    users: tuple[str, ...] = ()
    methods: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    """Exact codes (``486``) or classes (``4xx``)."""
    failed: bool = False
    since_ns: int | None = None
    until_ns: int | None = None
    min_severity: Severity | None = None
    """Keep only calls with an annotation at least this severe."""
    rules: tuple[str, ...] = ()
    """Keep only calls with an annotation from one of these rules."""

    def matches(self, ac: AnalyzedCall) -> bool:
        c = ac.call
        if self.call_ids and not any(x == c.call_id or x in c.call_id for x in self.call_ids):
            return False
        if self.failed and not c.failed:
            return False
        if self.since_ns is not None and c.end_ns < self.since_ns:
            return False
        if self.until_ns is not None and c.start_ns > self.until_ns:
            return False
        if self.users:
            hay = " ".join((c.from_user, c.to_user, c.request_user, c.from_display)).lower()
            if not any(u.lower() in hay for u in self.users):
                return False
        if self.methods:
            wanted = {m.upper() for m in self.methods}
            if not any(m.method in wanted for m in c.messages):
                return False
        if (
            self.statuses
            and not any(self._status_ok(m.status) for m in c.messages if m.status)
            and not self._status_ok(c.final_status)
        ):
            return False
        if self.rules and not any(a.rule in self.rules for a in ac.annotations):
            return False
        return self.min_severity is None or any(
            a.severity >= self.min_severity for a in ac.annotations
        )

    def _status_ok(self, code: int) -> bool:
        if not code:
            return False
        s = str(code)
        for want in self.statuses:
            w = want.lower()
            if w == s or (len(w) == 3 and w.endswith("xx") and w[0] == s[0]):
                return True
        return False
