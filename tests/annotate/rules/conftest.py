"""Fixtures for the rule tests: bundled captures analysed once per session, findings by rule."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from helpers import capture

from sipsniff import Analysis, analyze
from sipsniff.annotate.knowledge import Severity

Finding = tuple[str, str, Severity, tuple[int, ...]]
"""(call_id, rule, severity, frames): what the proof tests pin."""

_CACHE: dict[str, Analysis] = {}


def _analysis(name: str) -> Analysis:
    if name not in _CACHE:
        _CACHE[name] = analyze([capture(name)])
    return _CACHE[name]


@pytest.fixture
def analysed() -> Callable[[str], Analysis]:
    """``analysed("call_ok.pcap")``: the bundled capture's analysis (cached for the session)."""
    return _analysis


@pytest.fixture
def findings() -> Callable[..., list[Finding]]:
    """``findings("call_busy.pcap", "callee-busy")``: that rule's annotations, in call order."""

    def get(name: str, rule: str | None = None) -> list[Finding]:
        return [
            (ac.call.call_id, a.rule, a.severity, a.frames)
            for ac in _analysis(name).calls
            for a in ac.annotations
            if rule is None or a.rule == rule
        ]

    return get
