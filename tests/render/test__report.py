"""Report facts: counts from the report's calls, answer-seizure ratio, time buckets."""

from __future__ import annotations

import dataclasses
import itertools

from helpers import capture

from sipsniff.pipeline import analyze
from sipsniff.render._report import clock, facts, fmt_delta, time_buckets, utc


def test_demo_facts() -> None:
    a = analyze([capture("demo.pcap")])
    f = facts(a)
    assert f.selected == f.total == len(a.calls) == a.stats.calls
    assert sum(f.by_state.values()) == f.selected
    invites = [ac for ac in a.calls if ac.call.kind.value == "call"]
    answered = [ac for ac in invites if ac.call.state.value == "answered"]
    assert (f.invite_calls, f.answered_invites) == (len(invites), len(answered))
    assert f.asr == len(answered) / len(invites)
    assert f"({len(answered)} of {len(invites)} INVITE calls)" in f.asr_text()
    # unfiltered, the call-level counts agree with the pipeline's own counters
    assert f.responses == a.stats.statuses
    assert f.methods == a.stats.methods
    assert f.annotations_by_rule == a.stats.annotations_by_rule


def test_filtered_facts_describe_the_selection() -> None:
    a = analyze([capture("demo.pcap")])
    failed = dataclasses.replace(a, calls=tuple(ac for ac in a.calls if ac.call.failed))
    f = facts(failed)
    assert f.selected == len(failed.calls) < f.total == a.stats.calls
    assert f.answered == 0 and f.asr == 0.0


def test_no_invite_no_ratio() -> None:
    f = facts(analyze([capture("register_auth.pcap")]))
    assert f.asr is None and f.asr_text().startswith("n/a")


def test_time_buckets_cover_every_call_and_error() -> None:
    a = analyze([capture("demo.pcap")])
    buckets = time_buckets(a.calls, 40)
    assert 1 <= len(buckets) <= 40
    assert sum(sum(b.calls.values()) for b in buckets) == len(a.calls)
    errors = sum(
        n for code, n in a.stats.statuses.items() if code >= 400 and code not in (401, 407)
    )
    assert sum(sum(b.errors.values()) for b in buckets) == errors
    assert all(x.end_ns == y.start_ns for x, y in itertools.pairwise(buckets))
    assert time_buckets(()) == []


def test_formats() -> None:
    assert fmt_delta(0) == "+0"
    assert fmt_delta(0.25) == "+0.2 ms"
    assert fmt_delta(104.4) == "+104 ms"
    assert fmt_delta(2500) == "+2.50 s"
    assert clock(1_700_000_000_123_456_789) == "22:13:20.123"
    assert utc(1_700_000_000_123_456_789) == "2023-11-14 22:13:20 UTC"
