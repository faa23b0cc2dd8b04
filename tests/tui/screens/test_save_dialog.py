"""F2: which calls, a file name, a question before replacing a file, refusals."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import capture
from textual.widgets import Input, Static

from sipsniff.tui.screens.confirm import ConfirmScreen
from sipsniff.tui.screens.save_dialog import SaveDialog, default_name


def _error(screen: SaveDialog) -> str:
    return str(screen.query_one("#error", Static).render())


def test_scopes_refusals_and_overwrite_question(tui_drive, tmp_path: Path) -> None:
    out = tmp_path / "calls.json"
    out.write_text("keep me")

    async def scenario(h) -> None:
        await h.loaded()
        app = h.app
        await h.press("f")  # failed only: 3 shown
        await h.press("f2")
        dialog = app.screen
        assert isinstance(dialog, SaveDialog)
        assert [label for label, _c in dialog.scopes] == ["the 3 shown calls", "all 8 calls"]
        name = dialog.query_one("#name", Input)
        name.value = str(capture("demo.pcap"))
        await h.press("enter")
        assert "one of the input captures" in _error(dialog)
        name.value = str(tmp_path / "calls.xyz")
        await h.press("enter")
        assert "unknown suffix" in _error(dialog)
        name.value = str(tmp_path / "missing" / "a.pcap")
        await h.press("enter")
        assert "no such folder" in _error(dialog)
        name.value = str(out)
        await h.press("enter")
        assert isinstance(app.screen, ConfirmScreen)
        await h.press("n")
        assert app.screen is dialog and "not saved" in _error(dialog)
        assert out.read_text() == "keep me"
        await h.press("enter", "y")
        await h.until(lambda: len(app.session.saved) == 1)
        assert app.session.saved == [f"wrote {out} (json, 3 calls)"]

    tui_drive([capture("demo.pcap")], scenario)
    doc = json.loads(out.read_text())
    assert sorted(c["call_id"] for c in doc["calls"]) == [
        "demo-503-1@127.0.0.22",
        "demo-busy-1@127.0.0.22",
        "demo-cancel-1@127.0.0.23",
    ]


def test_escape_cancels_and_the_call_view_saves_its_calls(tui_drive, tmp_path: Path) -> None:
    out = tmp_path / "busy.md"

    async def scenario(h) -> None:
        await h.loaded()
        app = h.app
        await h.press("f2", "escape")
        assert not isinstance(app.screen, SaveDialog) and app.session.saved == []
        await h.press("enter", "s")
        dialog = app.screen
        assert isinstance(dialog, SaveDialog)
        assert [label for label, _c in dialog.scopes] == ["this call (1 call)"]
        dialog.query_one("#name", Input).value = str(out)
        await h.press("enter")
        await h.until(lambda: len(app.session.saved) == 1)

    tui_drive([capture("call_busy.pcap")], scenario)
    assert "486 Busy Here" in out.read_text()


def test_default_name_is_new(tmp_path: Path, monkeypatch) -> None:
    from sipsniff.tui.session import Session

    monkeypatch.chdir(tmp_path)
    s = Session([Path("/x/demo.pcap.gz")])
    assert default_name(s) == "demo-calls.pcap"
    (tmp_path / "demo-calls.pcap").write_bytes(b"")
    assert default_name(s) == "demo-calls-2.pcap"
