"""F7: the filter dialog sets the words and the toggles at once; Esc changes nothing."""

from __future__ import annotations

from helpers import capture
from textual.widgets import Checkbox, Input

from sipsniff.tui.screens.filter_dialog import FilterDialog


def test_f7_applies_words_and_toggles(tui_drive) -> None:
    async def scenario(h) -> None:
        await h.loaded()
        app = h.app
        store = app.session.store
        await h.press("f7")
        dialog = app.screen
        assert isinstance(dialog, FilterDialog)
        dialog.query_one("#words", Input).value = "user:alice"
        dialog.query_one("#failed", Checkbox).value = True
        await h.press("enter")
        assert not isinstance(app.screen, FilterDialog)
        assert store.failed_only and store.query.text == "user:alice"
        assert app.screen.filter_input.value == "user:alice"
        assert len(store.view) == 3
        await h.press("f7")
        app.screen.query_one("#failed", Checkbox).value = False
        await h.press("escape")
        assert store.failed_only and len(store.view) == 3

    tui_drive([capture("demo.pcap")], scenario)
