"""``?``: the help screen lists every key of the key table, the current screen's first."""

from __future__ import annotations

from helpers import capture

from sipsniff.tui.keys import KEYS, key_label
from sipsniff.tui.screens.help import HelpScreen, help_table


def test_help_table_has_every_key() -> None:
    table = help_table("call")
    cells = [str(c) for col in table.columns for c in col._cells]
    for k in KEYS:
        assert k.description in cells
        assert " ".join(key_label(n) for n in k.keys) in cells
    assert cells[0] == "Call view"  # the current screen first


def test_question_mark_opens_and_esc_closes(tui_drive) -> None:
    async def scenario(h) -> None:
        await h.loaded()
        await h.press("question_mark")
        assert isinstance(h.app.screen, HelpScreen)
        text = h.text()
        assert "Call list" in text and "F2 s" in text and "select / unselect" in text
        await h.press("escape")
        assert not isinstance(h.app.screen, HelpScreen)
        await h.press("enter", "f1")
        assert isinstance(h.app.screen, HelpScreen) and h.app.screen.first == "call"
        await h.press("q")
        assert not isinstance(h.app.screen, HelpScreen)

    tui_drive([capture("call_busy.pcap")], scenario, size=(110, 50))
