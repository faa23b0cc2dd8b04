"""Gating by call facts changes nothing: every rule on every call gives the same annotations.

``run_rules`` skips a rule when its ``applies(facts, errors)`` says it cannot
fire; that must be a necessary condition, so here every rule is also run on
every call without any gating (``claimed_only`` ignored too), on every capture
we have, and the annotations must be the same.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import CAPTURES, ROOT, real_captures

from sipsniff.annotate.annotation import Annotation
from sipsniff.annotate.rules import all_rules, run_rules
from sipsniff.annotate.rules._facts import CallFacts, facts_of
from sipsniff.capture.sources import read_frames
from sipsniff.dialogs.call import Call
from sipsniff.pipeline import Pipeline

_REPRO = ROOT.parent / "shared" / "repro"


def _corpus() -> list[Path]:
    found = sorted(CAPTURES.glob("*.pcap")) + real_captures()
    if _REPRO.is_dir():
        found += sorted(p for p in _REPRO.iterdir() if p.suffix in (".pcap", ".pcapng"))
    return found


def _calls(path: Path) -> list[Call]:
    pipe = Pipeline(rules=[], cross_rules=[])
    return [ac.call for ac in pipe.run(read_frames([path], pipe._report))]


def _ungated(call: Call) -> list[Annotation]:
    out: list[Annotation] = []
    for rule in all_rules():
        try:
            out.extend(rule.check(call))
        except Exception:  # noqa: BLE001 - the runner reports it; here both sides skip it
            continue
    return out


@pytest.mark.parametrize("path", _corpus(), ids=lambda p: p.name)
def test_gated_rules_find_what_every_rule_finds(path: Path) -> None:
    rules = all_rules()
    for call in _calls(path):
        assert run_rules(call, rules, lambda d: None) == _ungated(call), call.call_id


def test_facts_of_a_call() -> None:
    calls = {c.call_id: c for c in _calls(CAPTURES / "call_ok.pcap")}
    (call,) = calls.values()
    assert facts_of(call) == CallFacts(sdp=2, invite_ok=True, bye=True)
    (reg,) = _calls(CAPTURES / "register_interval.pcap")
    assert facts_of(reg) == CallFacts(sdp=0, invite_ok=False, bye=False)


def test_gating_skips_rules_on_a_healthy_registration() -> None:
    (reg,) = _calls(CAPTURES / "register_interval.pcap")
    skipped = [
        r.id
        for r in all_rules()
        if getattr(r, "applies", None) is not None and not r.applies(facts_of(reg), False)  # type: ignore[attr-defined]
    ]
    assert {"codec-mismatch", "media-direction", "ack-missing", "session-timer-expired"} <= set(
        skipped
    )
