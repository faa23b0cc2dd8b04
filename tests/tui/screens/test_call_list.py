"""The call list screen: selection keys, status line, Esc, quitting."""

from __future__ import annotations

from helpers import capture

from sipsniff.tui.screens.call_list import CallListScreen
from sipsniff.tui.widgets.call_table import CallTable


def test_selection_keys_and_status_line(tui_drive) -> None:
    async def scenario(h) -> None:
        await h.loaded()
        app = h.app
        store = app.session.store
        table = app.screen.query_one(CallTable)
        await h.press("space")
        assert store.selected == {0} and table.cursor == 1
        assert table.row_text(0).startswith("● ")
        await h.press("f", "a")  # select every shown (failed) call
        assert len(store.selected) == 4
        await h.press("escape")  # clears the toggles, keeps the selection
        assert not store.failed_only and len(store.view) == 8
        assert "4 selected" in h.text()
        await h.press("f")
        assert "4 selected (1 hidden)" in h.text()
        await h.press("A")
        assert store.selected == set()
        await h.press("escape", "escape")  # nothing left to clear: quit

    app = tui_drive([capture("demo.pcap")], scenario)
    assert app.return_code == 0


def test_start_options_and_ctrl_c(tui_drive) -> None:
    async def scenario(h) -> None:
        await h.loaded()
        assert isinstance(h.app.screen, CallListScreen)
        store = h.app.session.store
        assert store.failed_only and store.query.text == "code:503"
        assert [r.call.call_id for r in store.view] == ["demo-503-1@127.0.0.22"]
        assert h.app.screen.filter_input.value == "code:503"
        await h.press("enter", "ctrl+c")

    app = tui_drive([capture("demo.pcap")], scenario, query="code:503", failed_only=True)
    assert app.return_code == 0


def test_slash_in_the_filter_bar_is_typed(tui_drive) -> None:
    """``/`` is a priority key (so fast typing after it is not lost); in the bar it types."""

    async def scenario(h) -> None:
        await h.loaded()
        await h.press("slash")
        await h.type("ip:127.0.0.20/30")
        await h.press("f3", "enter")
        assert h.app.session.store.query.text == "ip:127.0.0.20/30"
        assert len(h.app.session.store.view) == 7  # every call but the monitor's ping

    tui_drive([capture("demo.pcap")], scenario)
