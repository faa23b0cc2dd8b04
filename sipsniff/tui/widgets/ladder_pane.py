"""The ladder of the call view, with one arrow selected (sngrep's call flow).

Strategy: ``ladder_lines.draw_ladder`` draws the call(s) for the pane's width
(again on a resize); this Line API widget shows those lines, keeps the column
headers in sight while the arrows scroll (when the pane is tall enough), and
shows the selected arrow's label and shaft in reverse video, which stays
visible without colour.  Moving the selection posts ``Selected`` so the screen
can show that message beside the ladder.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ...analysis import AnalyzedCall
from ...render.glyphs import Glyphs
from ...render.ladder import Arrow
from ..ladder_lines import LadderLines, draw_ladder

__all__ = ["LadderPane"]

_SELECTED = Style(reverse=True)
_PAGE_ARROWS = 5
_MIN_BODY = 3
"""Body rows needed below pinned headers; a shorter pane scrolls the headers too."""


class LadderPane(ScrollView, can_focus=True):
    """The ladder drawing; ↑/↓ move from arrow to arrow."""

    ALLOW_MAXIMIZE = True
    DEFAULT_CSS = """
    LadderPane { overflow-x: hidden; scrollbar-size-vertical: 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "step(-1)", "Previous", show=False),
        Binding("down", "step(1)", "Next", show=False),
        Binding("pageup", "step(-5)", "Page up", show=False),
        Binding("pagedown", "step(5)", "Page down", show=False),
        Binding("home", "select(0)", "First", show=False),
        Binding("end", "select(-1)", "Last", show=False),
    ]

    class Selected(Message):
        """Another arrow was selected."""

        def __init__(self, index: int, arrow: Arrow) -> None:
            super().__init__()
            self.index = index
            self.arrow = arrow

    def __init__(self, glyphs: Glyphs, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.glyphs = glyphs
        self.calls: tuple[AnalyzedCall, ...] = ()
        self.hide_retransmissions = False
        self.drawn: LadderLines | None = None
        self.selected = 0

    # -- the model ----------------------------------------------------------------
    @property
    def arrows(self) -> tuple[Arrow, ...]:
        return self.drawn.ladder.arrows if self.drawn is not None else ()

    @property
    def arrow(self) -> Arrow | None:
        """The selected arrow."""
        arrows = self.arrows
        return arrows[self.selected] if 0 <= self.selected < len(arrows) else None

    def show(self, calls: Sequence[AnalyzedCall], *, hide_retransmissions: bool = False) -> None:
        """Draw these calls; keep the selected message selected if it is still drawn."""
        keep = self.arrow
        self.calls = tuple(calls)
        self.hide_retransmissions = hide_retransmissions
        self._draw()
        index = 0
        if keep is not None:
            for i, a in enumerate(self.arrows):
                if a.frame == keep.frame and a.call_id == keep.call_id:
                    index = i
                    break
                if a.ts_ns <= keep.ts_ns:
                    index = i  # a hidden retransmission: the arrow drawn before it
        self.selected = -1
        self.select(index)

    def _width(self) -> int:
        return max(self.scrollable_content_region.width or self.size.width or 80, 20)

    def _draw(self) -> None:
        self.drawn = draw_ladder(
            self.calls,
            self._width(),
            self.glyphs,
            hide_retransmissions=self.hide_retransmissions,
        )
        self.virtual_size = Size(self._width(), len(self.drawn.lines))
        self.refresh()

    def on_resize(self, _event: events.Resize) -> None:
        if self.calls and (self.drawn is None or self.drawn.width != self._width()):
            self._draw()
            self._follow()

    def select(self, index: int) -> None:
        """Select an arrow by position (-1: the last), scroll to it, announce it."""
        arrows = self.arrows
        if not arrows:
            return
        if index < 0:
            index = len(arrows) - 1
        index = max(0, min(index, len(arrows) - 1))
        changed = index != self.selected
        self.selected = index
        self._follow()
        self.refresh()
        if changed:
            self.post_message(self.Selected(index, arrows[index]))

    def select_frame(self, frame: int) -> bool:
        """Select the arrow of a frame number; False when no arrow of this ladder has it."""
        for i, a in enumerate(self.arrows):
            if a.frame == frame or frame in a.message.frames:
                self.select(i)
                return True
        return False

    def action_step(self, n: int) -> None:
        self.select(max(self.selected + n, 0))

    def action_select(self, index: int) -> None:
        self.select(index)

    # -- drawing ------------------------------------------------------------------
    def _pinned(self) -> int:
        d = self.drawn
        if d is None:
            return 0
        h = d.header_lines
        return h if self.scrollable_content_region.height - h >= _MIN_BODY else 0

    def _follow(self) -> None:
        d = self.drawn
        if d is None or not d.spans or not 0 <= self.selected < len(d.spans):
            return
        pinned = self._pinned()
        body = max(self.scrollable_content_region.height - pinned, 1)
        a, b = d.spans[self.selected]
        a, b = a - pinned, b - pinned
        top = int(self.scroll_y)
        if a < top or b - a > body:
            self.scroll_to(y=a, animate=False, immediate=True)
        elif b > top + body:
            self.scroll_to(y=b - body, animate=False, immediate=True)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width or self.size.width
        base = self.rich_style
        d = self.drawn
        if d is None:
            return Strip.blank(width, base)
        pinned = self._pinned()
        index = y if y < pinned else int(self.scroll_y) + y
        if index >= len(d.lines):
            return Strip.blank(width, base)
        text = d.lines[index].copy()
        text.style = base
        if d.spans and 0 <= self.selected < len(d.spans):
            a, _b = d.spans[self.selected]
            if a <= index < a + 2:
                text.pad_right(max(d.width - text.cell_len, 0))
                text.stylize(_SELECTED)
        return Strip(text.render(self.app.console)).crop_extend(0, width, base)

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        d = self.drawn
        if offset is None or d is None:
            return
        pinned = self._pinned()
        index = offset.y if offset.y < pinned else int(self.scroll_y) + offset.y
        hit = d.arrow_at_line(index)
        if hit is not None:
            self.select(hit)
