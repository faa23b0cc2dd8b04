"""The test tree mirrors the package (STYLE rule 13), as mitmproxy's filename_matching check does.

``tests/<path>/test_<name>.py`` tests ``sipsniff/<path>/<name>.py`` (or the
package ``sipsniff/<path>/<name>/``); a private module keeps its underscore,
so ``tests/cli/test__common.py`` tests ``sipsniff/cli/_common.py``.  A test
module whose module is gone (renamed, deleted) fails here, so tests cannot
quietly drift away from the code they claim to cover.

A few test files are about the whole system rather than one module; they are
listed in ``CROSS_CUTTING`` with the reason, and nothing else may skip the rule.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
PACKAGE = TESTS.parent / "sipsniff"

CROSS_CUTTING: dict[str, str] = {
    r"test_conformance\.py": "differential test of the whole file path against tshark",
    r"test_layers\.py": "import direction across every layer",
    r"test_mirroring\.py": "this check",
    r"(.+/)?test_properties\.py": "hypothesis properties spanning a layer and the one feeding it",
    r"test_cli.*\.py": "command-line behaviour end to end (the cli package as a whole)",
    r"annotate/test_real_golden\.py": "golden annotations of the real corpus through every rule",
    r"media/test_native_media\.py": "the native core's RTP/RTCP stream accounting against "
    "tshark (sipsniff._native is compiled; sipsniff/media is its Python reference)",
    r"dialogs/test_duplicates\.py": "capture duplicates, from the tracker through the pipeline "
    "in both engines, on SPAN-mirrored captures",
}
"""Test files exempt from mirroring: pattern (relative to tests/) -> why."""


def _test_files() -> list[Path]:
    return sorted(p for p in TESTS.rglob("test_*.py") if "__pycache__" not in p.parts)


def target(test: Path) -> tuple[Path, Path]:
    """The module file and package directory a test module mirrors."""
    rel = test.relative_to(TESTS)
    name = rel.stem.removeprefix("test_")
    base = PACKAGE.joinpath(*rel.parts[:-1])
    return base / f"{name}.py", base / name


def exempt(test: Path) -> bool:
    rel = test.relative_to(TESTS).as_posix()
    return any(re.fullmatch(pattern, rel) for pattern in CROSS_CUTTING)


@pytest.mark.parametrize("test", _test_files(), ids=lambda p: p.relative_to(TESTS).as_posix())
def test_each_test_module_mirrors_a_package_module(test: Path) -> None:
    if exempt(test):
        return
    module, package = target(test)
    assert module.is_file() or (package / "__init__.py").is_file(), (
        f"{test.relative_to(TESTS)} mirrors nothing: expected "
        f"{module.relative_to(PACKAGE.parent)} or {package.relative_to(PACKAGE.parent)}/; "
        "rename it, or add it to CROSS_CUTTING in tests/test_mirroring.py with a reason"
    )


def test_the_rule_itself() -> None:
    assert target(TESTS / "sip" / "test_framing.py") == (
        PACKAGE / "sip" / "framing.py",
        PACKAGE / "sip" / "framing",
    )
    assert target(TESTS / "cli" / "test__common.py")[0] == PACKAGE / "cli" / "_common.py"
    assert target(TESTS / "test_pipeline.py")[0] == PACKAGE / "pipeline.py"
    assert exempt(TESTS / "sip" / "test_properties.py")
    assert not exempt(TESTS / "sip" / "test_framing_extra.py")


def test_cross_cutting_entries_are_used() -> None:
    """An exemption nobody needs any more is removed, not kept 'just in case'."""
    used = {
        pattern
        for pattern in CROSS_CUTTING
        for test in _test_files()
        if re.fullmatch(pattern, test.relative_to(TESTS).as_posix())
    }
    reserved = {r"test_cli.*\.py"}  # for end-to-end CLI tests at the top of tests/
    assert set(CROSS_CUTTING) - used - reserved == set()
