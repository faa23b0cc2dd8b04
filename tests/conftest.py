"""Shared fixtures: a clean colour environment for every test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _plain_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Goldens are rendered without colour at a fixed width, whatever the caller's terminal."""
    for var in ("NO_COLOR", "FORCE_COLOR", "COLUMNS", "LINES", "SIPSNIFF_DEBUG"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("TERM", "dumb")
    yield
