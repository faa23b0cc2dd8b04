"""What the summary screen shows that is not a counter already: diagnoses grouped across calls.

Strategy: the counters are the pipeline's ``Stats``, drawn by the same
``render.summary.summary_view`` as ``analyze``.  While the capture is still
loading there is no final ``Stats`` yet, so ``partial_stats`` counts what the
loaded calls say (calls by kind and state, annotations) and the frames read.
``rule_groups`` gathers the annotations of every loaded call by rule id: how
many calls, how severe, and the most common title, which is what a support
engineer scans first on a big capture.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from ..analysis import Stats
from ..annotate.knowledge import Severity
from .rows import CallRow

__all__ = ["RuleGroup", "partial_stats", "rule_groups"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleGroup:
    """Every annotation of one rule across the loaded calls."""

    rule: str
    severity: Severity
    """The highest severity the rule gave."""
    calls: int
    annotations: int
    title: str
    """The most frequent title (raw wire-derived text: clean it to show it)."""
    titles: int
    """How many different titles the rule gave."""


def rule_groups(rows: Iterable[CallRow]) -> list[RuleGroup]:
    """Annotations grouped by rule: most severe first, then most calls, then rule id."""
    calls: Counter[str] = Counter()
    count: Counter[str] = Counter()
    worst: dict[str, Severity] = {}
    titles: dict[str, Counter[str]] = {}
    for r in rows:
        seen: set[str] = set()
        for a in r.ac.annotations:
            count[a.rule] += 1
            if a.rule not in seen:
                calls[a.rule] += 1
                seen.add(a.rule)
            worst[a.rule] = max(worst.get(a.rule, a.severity), a.severity)
            titles.setdefault(a.rule, Counter())[a.title] += 1
    out = [
        RuleGroup(
            rule=rule,
            severity=worst[rule],
            calls=calls[rule],
            annotations=count[rule],
            title=sorted(titles[rule].items(), key=lambda kv: (-kv[1], kv[0]))[0][0],
            titles=len(titles[rule]),
        )
        for rule in count
    ]
    out.sort(key=lambda g: (-int(g.severity), -g.calls, g.rule))
    return out


def partial_stats(rows: Iterable[CallRow], sources: list[str], frames: int) -> Stats:
    """Counters from the calls loaded so far (for the summary while a capture loads)."""
    st = Stats(sources=list(sources), frames=frames)
    for r in rows:
        c = r.call
        st.calls += 1
        st.calls_by_kind[c.kind.value] += 1
        st.calls_by_state[c.state.value] += 1
        st.retransmissions += len(c.retransmissions)
        for m in c.messages:
            st.sip_messages += 1
            if m.status:
                st.statuses[m.status] += 1
            else:
                st.methods[m.method] += 1
        for a in r.ac.annotations:
            st.annotations_by_rule[a.rule] += 1
            st.annotations_by_severity[str(a.severity)] += 1
    return st
