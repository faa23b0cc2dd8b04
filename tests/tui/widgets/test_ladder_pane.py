"""The ladder pane: headers kept in sight, the selection followed, clicks select arrows."""

from __future__ import annotations

from helpers import capture

from sipsniff.tui.widgets.ladder_pane import LadderPane


def test_long_call_scrolls_with_the_selection_and_clicks_select(tui_drive) -> None:
    async def scenario(h) -> None:
        await h.loaded()
        await h.press("enter")
        ladder = h.app.screen.query_one(LadderPane)
        d = ladder.drawn
        assert len(ladder.arrows) == 15 and d.header_lines == 4
        await h.press("end")
        assert ladder.selected == 14 and ladder.scroll_y > 0
        text = h.text()
        assert "127.0.0.1:5061" in text  # the column headers stay on screen
        assert f"#{ladder.arrow.frame} " in text
        await h.press("pageup")
        assert ladder.selected == 9
        region = ladder.content_region
        first_body = int(ladder.scroll_y) + d.header_lines
        hit = d.arrow_at_line(first_body)
        await h.pilot.click(LadderPane, offset=(2, d.header_lines + 1))  # a line below the headers
        await h.pilot.pause()
        assert ladder.selected == d.arrow_at_line(first_body + 1) and hit is not None
        assert region.height > d.header_lines

    tui_drive([capture("call_ack_missing.pcap")], scenario, size=(100, 30))
