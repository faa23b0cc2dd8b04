"""The key log setting: configured files first, else SSLKEYLOGFILE when it exists."""

from __future__ import annotations

from pathlib import Path

import pytest

from sipsniff.tls import settings


def test_configured_then_env_fallback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = tmp_path / "env.keys"
    monkeypatch.setenv("SSLKEYLOGFILE", str(env))
    settings.configure([])
    assert settings.keylog_paths() == []  # named but not written yet: ignored
    env.write_text("")
    assert settings.keylog_paths() == [env]
    given = tmp_path / "given.keys"
    settings.configure([given])
    try:
        assert settings.keylog_paths() == [given]
    finally:
        settings.configure([])
