"""The counters' wording: durations at every scale, capture spans across days."""

from __future__ import annotations

import datetime as dt

import pytest

from sipsniff.render.summary import capture_span, fmt_ms


def _ns(text: str) -> int:
    return int(dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC).timestamp()) * 10**9


@pytest.mark.parametrize(
    ("ms", "text"),
    [
        (None, "-"),
        (707, "707 ms"),
        (2500, "2.50 s"),
        (125_000, "2m05s"),
        (3 * 3600_000 + 61_000, "3h01m"),
        # a broken clock gave "3356872m30s": now days, readable at a glance
        (3356872 * 60_000 + 30_000, "2331d03h"),
    ],
)
def test_fmt_ms(ms: float | None, text: str) -> None:
    assert fmt_ms(ms) == text


def test_span_names_the_end_day_only_when_it_changes() -> None:
    same = capture_span(_ns("2026-11-24 18:07:32"), _ns("2026-11-24 18:07:42") + 841_000_000)
    assert same == "2026-11-24 18:07:32 to 18:07:42.841 UTC"
    night = capture_span(_ns("2026-11-24 23:59:58"), _ns("2026-11-25 00:00:03"))
    assert night == "2026-11-24 23:59:58 to 2026-11-25 00:00:03.000 UTC"
