"""Test helpers: capture paths, tool gates (skip locally, fail under CI=true)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CAPTURES = ROOT / "captures"
REAL_CAPTURES = ROOT.parent / "shared" / "captures" / "real"
DATA = Path(__file__).resolve().parent / "data"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(condition: bool, reason: str) -> None:
    """Skip with a reason on a laptop; under CI=true a missing prerequisite fails the run."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


def needs_tool(name: str) -> str:
    """Path of an external tool, or skip (fail in CI) when it is not installed."""
    path = shutil.which(name)
    require(path is not None, f"{name} is not installed")
    assert path is not None
    return path


def needs_root() -> None:
    require(os.geteuid() == 0, "this test needs root (network namespaces / live capture)")


def capture(name: str) -> Path:
    """A capture shipped in captures/ (these are in git, so they must exist)."""
    p = CAPTURES / name
    assert p.exists(), f"bundled capture {name} is missing: run `bash captures/record.sh`"
    return p


def real_captures() -> list[Path]:
    """The shared conformance corpus; empty when the folder is absent (tests then skip)."""
    if not REAL_CAPTURES.is_dir():
        return []
    return sorted(REAL_CAPTURES.glob("*.pcap*"))


def real_capture(name: str) -> Path:
    """A capture of the shared conformance corpus, or skip.

    The corpus is optional data beside the repository, not a tool CI installs, so
    its absence skips even under CI=true (its README says: skip when absent).
    """
    p = REAL_CAPTURES / name
    if not p.exists():
        pytest.skip(f"the shared real-capture corpus is absent ({p})")
    return p
