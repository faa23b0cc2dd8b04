"""The call list widget: a virtual table that draws only the rows on screen.

Strategy: a Textual Line API widget (``ScrollView``) over ``CallStore.view``.
Nothing is copied into the widget: ``render_line`` asks the store for the row
at ``scroll_y + y``, so 50,000 calls cost what the 20 on screen cost, and a new
filter or sort is one ``sync`` (clamp the cursor, set the virtual size,
refresh).  Line 0 is the column titles and stays put while the rows scroll.
Columns come from ``columns.layout`` for the current width, so a narrow
terminal drops the least useful ones instead of wrapping.

The cursor follows the call, not the line: when the view changes (a filter,
a sort, calls arriving) the cursor stays on the same call if it is still shown.
"""

from __future__ import annotations

from typing import ClassVar

from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ...render.glyphs import Glyphs
from ..columns import Column, layout, render_header, render_row
from ..rows import CallRow
from ..store import CallStore

__all__ = ["CallTable"]

_CURSOR = Style(reverse=True, bold=True)


class CallTable(ScrollView, can_focus=True):
    """The rows of ``CallStore.view`` with a cursor; Enter opens, Space selects."""

    DEFAULT_CSS = """
    CallTable { height: 1fr; overflow-x: hidden; scrollbar-size-vertical: 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "cursor_to(0)", "First", show=False),
        Binding("end", "cursor_to(-1)", "Last", show=False),
    ]

    class Highlighted(Message):
        """The cursor moved to another call."""

        def __init__(self, row: CallRow | None) -> None:
            super().__init__()
            self.row = row

    class HeaderClicked(Message):
        """A column title was clicked (the screen sorts on it)."""

        def __init__(self, key: str) -> None:
            super().__init__()
            self.key = key

    class Opened(Message):
        """A row was double-clicked."""

    def __init__(self, store: CallStore, glyphs: Glyphs, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.store = store
        self.glyphs = glyphs
        self.cursor = 0
        self._cursor_uid: int | None = None
        self._cols: list[tuple[Column, int]] = []
        self._cols_width = -1
        self._cache: dict[tuple[int, bool, bool], Strip] = {}
        self._cache_key: tuple[int, int] = (-1, -1)

    # -- the model ----------------------------------------------------------------
    @property
    def row(self) -> CallRow | None:
        """The call under the cursor."""
        view = self.store.view
        return view[self.cursor] if 0 <= self.cursor < len(view) else None

    def sync(self) -> None:
        """The store's view changed: keep the cursor on its call, resize, redraw."""
        view = self.store.view
        uid = self._cursor_uid
        if uid is not None and not (0 <= self.cursor < len(view) and view[self.cursor].uid == uid):
            at = self.store.index_of(uid)
            if at is not None:
                self.cursor = at
        self.cursor = max(0, min(self.cursor, len(view) - 1))
        self.virtual_size = Size(self.size.width, len(view) + 1)
        self._remember()
        self._follow()
        self.refresh()

    def _remember(self) -> None:
        r = self.row
        new = r.uid if r is not None else None
        if new != self._cursor_uid:
            self._cursor_uid = new
            self.post_message(self.Highlighted(r))

    def move_to(self, index: int) -> None:
        """Put the cursor on a view position (clamped) and bring it into sight."""
        n = len(self.store.view)
        if not n:
            return
        self.cursor = max(0, min(index, n - 1))
        self._remember()
        self._follow()
        self.refresh()

    def _body_height(self) -> int:
        return max(self.scrollable_content_region.height - 1, 1)

    def _follow(self) -> None:
        h = self._body_height()
        top = int(self.scroll_y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + h:
            self.scroll_to(y=self.cursor - h + 1, animate=False, immediate=True)

    # -- actions ------------------------------------------------------------------
    def action_cursor(self, step: int) -> None:
        self.move_to(self.cursor + step)

    def action_page(self, pages: int) -> None:
        self.move_to(self.cursor + pages * self._body_height())

    def action_cursor_to(self, index: int) -> None:
        self.move_to(index if index >= 0 else len(self.store.view) - 1)

    # -- drawing ------------------------------------------------------------------
    def columns(self) -> list[tuple[Column, int]]:
        """The columns shown at the current width."""
        width = self.scrollable_content_region.width or self.size.width
        if width != self._cols_width:
            self._cols = layout(width)
            self._cols_width = width
        return self._cols

    def on_resize(self, _event: events.Resize) -> None:
        self.virtual_size = Size(self.size.width, len(self.store.view) + 1)
        self._follow()

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width or self.size.width
        base = self.rich_style
        cols = self.columns()
        key = (self.store.content_version, width)
        if key != self._cache_key:
            self._cache.clear()
            self._cache_key = key
        if y == 0:
            text = render_header(cols, self.store.sort_key, self.store.reverse, self.glyphs)
            text.style = base
            return Strip(text.render(self.app.console)).crop_extend(0, width, base)
        index = int(self.scroll_y) + y - 1
        view = self.store.view
        if index >= len(view):
            return Strip.blank(width, base)
        row = view[index]
        selected = row.uid in self.store.selected
        at_cursor = index == self.cursor
        ck = (row.uid, selected, at_cursor)
        strip = self._cache.get(ck)
        if strip is None:
            text = render_row(row, cols, self.glyphs, selected=selected)
            text.style = base
            if at_cursor:
                text.pad_right(max(width - text.cell_len, 0))
                text.stylize(_CURSOR)
            strip = Strip(text.render(self.app.console)).crop_extend(0, width, base)
            if len(self._cache) > 512:
                self._cache.clear()
            self._cache[ck] = strip
        return strip

    def row_text(self, index: int) -> str:
        """The plain text of a view row as drawn at the current width (tests read it)."""
        return render_row(
            self.store.view[index],
            self.columns(),
            self.glyphs,
            selected=self.store.view[index].uid in self.store.selected,
        ).plain

    # -- mouse --------------------------------------------------------------------
    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        if offset.y == 0:
            x = 0
            for col, w in self.columns():
                if x <= offset.x < x + w + 1 and col.key != "mark":
                    self.post_message(self.HeaderClicked(col.key))
                    return
                x += w + 1
            return
        index = int(self.scroll_y) + offset.y - 1
        if index < len(self.store.view):
            self.move_to(index)
            if event.chain >= 2:
                self.post_message(self.Opened())
