"""The selected message of the call view: frame, time, addresses, then its raw text.

Strategy: a scrolling container around one ``Static`` holding the ``Text``
that ``message_text`` builds; long lines wrap (``overflow: fold``) rather than
run off a narrow screen.  ``Static(markup=False)`` and a ``Text`` value: wire
text is never read as markup.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from ...render.ladder import Arrow
from ..message_text import arrow_heading, message_text

__all__ = ["MessagePane"]


class MessagePane(VerticalScroll):
    """The raw text of one message, under a heading with its frame number and time."""

    ALLOW_MAXIMIZE = True
    DEFAULT_CSS = """
    MessagePane { scrollbar-size-vertical: 1; }
    MessagePane > Static { width: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.arrow: Arrow | None = None
        self.text = Text()
        """What is shown (tests read it)."""

    def compose(self) -> ComposeResult:
        yield Static(Text(""), markup=False, id="raw")

    def show(self, arrow: Arrow | None) -> None:
        """Show this arrow's message (None: nothing selected)."""
        self.arrow = arrow
        if arrow is None:
            self.text = Text("(no message)", style="dim")
        else:
            self.text = Text.assemble(arrow_heading(arrow), "\n", message_text(arrow.message))
        self.query_one("#raw", Static).update(self.text)
        self.scroll_home(animate=False)
