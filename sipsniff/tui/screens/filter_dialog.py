"""F7: the filter dialog (sngrep's F7): the filter words, and the toggles, in one form.

The words are the filter bar's language (``query.py``); the dialog lists the
fields so a newcomer does not have to know them.  Enter applies, Esc leaves
everything as it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from ..store import KINDS, CallStore

__all__ = ["FIELD_HELP", "FilterChoice", "FilterDialog"]

FIELD_HELP = (
    "Words must all match; a bare word is looked for in users, numbers, IPs, Call-ID, methods, "
    "codes, rules, state and kind.  Fields: user: from: to: ip: (10.0.0.0/8 too) id: method: "
    'code: (486, 4xx) rule: sev: state: kind: text: (raw messages).  -word excludes; "a b" is one word.'
)


@dataclass(frozen=True, slots=True, kw_only=True)
class FilterChoice:
    """What the dialog asks the list to show."""

    query: str
    failed_only: bool
    problems_only: bool
    kind: str


class FilterDialog(ModalScreen[FilterChoice | None]):
    """The filter words, failed only, warnings and errors only, kind."""

    DEFAULT_CSS = """
    FilterDialog { align: center middle; }
    FilterDialog > Vertical { width: 90; max-width: 100%; height: auto; border: thick $primary; padding: 0 1; background: $surface; }
    FilterDialog #heading { text-style: bold; }
    FilterDialog Horizontal { height: auto; }
    FilterDialog Horizontal Label { width: auto; padding: 0 1 0 0; text-style: bold; }
    FilterDialog #words { border: none; height: 1; padding: 0; width: 1fr; }
    FilterDialog Checkbox { border: none; }
    FilterDialog .hint { color: $text-muted; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, store: CallStore) -> None:
        super().__init__()
        self.store = store

    def compose(self) -> ComposeResult:
        st = self.store
        with Vertical():
            yield Static(Text("Filter calls"), id="heading", markup=False)
            with Horizontal():
                yield Label("Words")
                yield Input(value=st.query.text, id="words", select_on_focus=False)
            yield Static(Text(FIELD_HELP), classes="hint", markup=False)
            yield Checkbox(
                "failed calls only (rejected, cancelled, timed out)", st.failed_only, id="failed"
            )
            yield Checkbox("calls with a warning or an error only", st.problems_only, id="problems")
            with Horizontal():
                yield Label("Kind")
                yield Select(
                    [(k or "every kind", k) for k in KINDS],
                    value=st.kind,
                    allow_blank=False,
                    id="kind",
                )
            with Horizontal():
                yield Button("Apply (Enter)", id="apply", variant="primary")
                yield Button("Cancel (Esc)", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#words", Input).focus()

    def choice(self) -> FilterChoice:
        """What the form says now."""
        kind = self.query_one("#kind", Select).value
        return FilterChoice(
            query=self.query_one("#words", Input).value,
            failed_only=self.query_one("#failed", Checkbox).value,
            problems_only=self.query_one("#problems", Checkbox).value,
            kind=kind if isinstance(kind, str) else "",
        )

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(self.choice())

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(self.choice() if event.button.id == "apply" else None)

    def action_cancel(self) -> None:
        self.dismiss(None)
