"""``?``: every key of every screen, from the one key table (``keys.KEYS``)."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from ..keys import SCREENS, key_label, keys_for

__all__ = ["HelpScreen", "help_table"]


def help_table(first: str = "") -> Table:
    """The key table: the current screen's keys first, then the others."""
    order = sorted(SCREENS, key=lambda s: (s != first, list(SCREENS).index(s)))
    table = Table.grid(padding=(0, 2))
    table.add_column(no_wrap=True, style="bold")
    table.add_column()
    for screen in order:
        table.add_row(Text(SCREENS[screen], style="bold underline"), Text(""))
        for k in keys_for(screen):
            table.add_row(Text(" ".join(key_label(n) for n in k.keys)), Text(k.description))
        table.add_row(Text(""), Text(""))
    return table


class HelpScreen(ModalScreen[None]):
    """The key table over the current screen; any of Esc, q, ? or Enter closes it."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 100; max-width: 100%; height: 90%; border: thick $primary; background: $surface; padding: 0 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark,enter,f1", "close", "Close"),
    ]

    def __init__(self, screen: str = "") -> None:
        super().__init__()
        self.first = screen

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(
                Text("sipsniff tui: keys (Esc closes; the mouse works too)", style="bold"),
                markup=False,
            )
            yield Static(help_table(self.first), id="keys")

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).focus()

    def action_close(self) -> None:
        self.dismiss(None)
