"""Diagnoses grouped by rule, and the counters while a capture is still loading."""

from __future__ import annotations

from helpers import capture

from sipsniff.annotate.knowledge import Severity
from sipsniff.pipeline import analyze
from sipsniff.tui.digest import partial_stats, rule_groups
from sipsniff.tui.rows import CallRow


def rows(*names: str) -> list[CallRow]:
    calls = [ac for n in names for ac in analyze([capture(n)]).calls]
    return [CallRow.of(i, ac) for i, ac in enumerate(calls)]


def test_rule_groups_most_severe_first() -> None:
    groups = rule_groups(rows("demo.pcap", "server_unavailable.pcap", "call_busy.pcap"))
    assert [(g.rule, g.severity, g.calls) for g in groups] == [
        ("server-unavailable", Severity.ERROR, 4),
        ("callee-busy", Severity.INFO, 2),
        ("caller-cancelled", Severity.INFO, 1),
    ]
    busy = groups[1]
    assert busy.annotations == 2 and busy.title == "Callee busy: 486 Busy Here" and busy.titles == 1


def test_partial_stats_match_the_final_ones_for_calls() -> None:
    a = analyze([capture("demo.pcap")])
    st = partial_stats([CallRow.of(i, ac) for i, ac in enumerate(a.calls)], ["demo.pcap"], 42)
    assert st.frames == 42 and st.sources == ["demo.pcap"]
    for field in (
        "calls",
        "calls_by_kind",
        "calls_by_state",
        "methods",
        "statuses",
        "sip_messages",
    ):
        assert getattr(st, field) == getattr(a.stats, field), field
    assert st.annotations_by_rule == a.stats.annotations_by_rule
