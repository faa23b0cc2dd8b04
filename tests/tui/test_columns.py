"""Columns: which give way on a narrow screen, cell widths, sort marks, wire text made inert."""

from __future__ import annotations

import pytest
from helpers import capture
from rich.cells import cell_len

from sipsniff.pipeline import analyze
from sipsniff.render.glyphs import ASCII, UNICODE
from sipsniff.tui.columns import COLUMNS, SORTABLE, by_key, layout, render_header, render_row
from sipsniff.tui.rows import CallRow


@pytest.mark.parametrize("width", [40, 60, 80, 100, 120, 200, 300])
def test_layout_fits_and_keeps_the_important_columns(width: int) -> None:
    cols = layout(width)
    keys = [c.key for c, _ in cols]
    assert sum(w for _, w in cols) + len(cols) - 1 <= width
    assert {"mark", "who", "code"} <= set(keys)
    assert keys == [c.key for c in COLUMNS if c.key in keys]  # display order kept
    if width >= 80:
        assert {"callid", "state", "start", "notes"} <= set(keys)
    if width >= 120:
        assert len(keys) == len(COLUMNS)


def test_rows_fill_their_width_exactly_even_for_hostile_calls() -> None:
    for name in ("demo.pcap", "hostile.pcap"):
        for i, ac in enumerate(analyze([capture(name)]).calls):
            row = CallRow.of(i, ac)
            for width in (80, 137):
                cols = layout(width)
                for g in (UNICODE, ASCII):
                    text = render_row(row, cols, g, selected=i % 2 == 0)
                    assert cell_len(text.plain) == sum(w for _, w in cols) + len(cols) - 1
                    assert "\x1b" not in text.plain and "\x00" not in text.plain


def test_header_marks_the_sort_column() -> None:
    cols = layout(120)
    assert "start▲" in render_header(cols, "start", False, UNICODE).plain
    assert "code▼" in render_header(cols, "code", True, UNICODE).plain
    head = render_header(cols, "who", False, ASCII).plain
    assert "from -> to^" in head and head.isascii()


def test_notes_cell_shows_counts_and_the_worst_rule() -> None:
    ac = next(c for c in analyze([capture("hostile.pcap")]).calls if c.annotations and c.worst == 1)
    cell = by_key("notes").cell(CallRow.of(0, ac), UNICODE).plain
    assert cell == "▲1 malformed-message"


def test_sortable_columns_have_keys() -> None:
    assert "mark" not in SORTABLE and set(SORTABLE) == {c.key for c in COLUMNS} - {"mark"}
    with pytest.raises(KeyError):
        by_key("nope")
