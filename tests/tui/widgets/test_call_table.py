"""The call table: paging, the cursor kept on its call across sorts, clicks and double-clicks."""

from __future__ import annotations

from helpers import capture

from sipsniff.tui.screens.call_view import CallViewScreen
from sipsniff.tui.widgets.call_table import CallTable


def test_cursor_paging_and_mouse(tui_drive) -> None:
    async def scenario(h) -> None:
        await h.loaded()
        app = h.app
        table = app.screen.query_one(CallTable)
        await h.press("pagedown")
        assert table.cursor == 7  # fewer calls than a page: the last one
        await h.press("home", "down", "down")
        cid = table.row.call.call_id
        app.session.store.sort_by("callid", reverse=True)
        app.screen.refresh_view()
        assert table.row.call.call_id == cid  # the cursor follows the call
        await h.pilot.click(CallTable, offset=(20, 3))
        await h.pilot.pause()
        assert table.cursor == 2
        await h.pilot.click(CallTable, offset=(20, 3), times=2)
        await h.pilot.pause()
        assert isinstance(app.screen, CallViewScreen)
        assert app.screen.chosen == [app.session.store.view[2].uid]

    tui_drive([capture("demo.pcap")], scenario)
