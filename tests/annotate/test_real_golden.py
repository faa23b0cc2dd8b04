"""The annotations found on the real-world corpus (../shared/captures/real/), pinned.

Every entry of ``tests/data/golden/real_annotations.json`` was reviewed by hand against the
capture (tshark and sipsniff's own ladder) before it was pinned: it is the rule, severity and
evidence frames a careful engineer would name for that call.  A change in any of them must be
reviewed the same way, then pinned again with ``SIPSNIFF_REGEN=1`` (``make golden``).

The corpus is not part of the project: the test skips when the folder is absent,
even under CI=true: the corpus is optional data, not a tool.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from helpers import DATA, real_captures

from sipsniff import analyze

GOLDEN = DATA / "golden" / "real_annotations.json"
REGEN = os.environ.get("SIPSNIFF_REGEN", "") == "1"


def _findings(path: Path) -> list[list[object]]:
    """``[call_id, rule, severity, frames]`` for every annotation, in call order."""
    return [
        [ac.call.call_id, a.rule, str(a.severity), list(a.frames)]
        for ac in analyze([path]).calls
        for a in ac.annotations
    ]


def test_real_capture_annotations_match_the_reviewed_golden() -> None:
    paths = real_captures()
    if not paths:
        pytest.skip("the shared real-capture corpus (../shared/captures/real) is absent")
    found = {p.name: _findings(p) for p in paths}
    if REGEN:
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(json.dumps(found, indent=1) + "\n", encoding="utf-8")
        pytest.skip(f"rewrote {GOLDEN.name}: review every entry before committing it")
    assert GOLDEN.exists(), f"{GOLDEN.name} is missing: run `make golden` and review it"
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert sorted(found) == sorted(expected), "the corpus changed: run `make golden` and review"
    for name in sorted(found):
        assert found[name] == expected[name], f"{name}: annotations differ from the reviewed golden"
