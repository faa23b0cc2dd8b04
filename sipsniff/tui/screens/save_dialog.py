"""F2: save calls, asking which calls and a file name, and never replacing a file without asking.

Sketch::

    ┏ Save calls ━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┓
    ┃ (•) the 2 selected calls   ( ) the 5 shown calls   ( ) all 8 calls ┃
    ┃ File  demo-calls.pcap                                              ┃
    ┃ frames: .pcap .pcapng   report: .html .md .txt .json .ndjson ...   ┃
    ┃ Enter: save · Esc: cancel · Tab: next field                        ┃
    ┗━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┛

Strategy: the dialog checks the name (``save.check_target``); an existing file
gets a yes/no question first.  The writing itself runs in a worker thread
(a pcap re-reads the sources, which takes a while on a big capture) and ends
with a notification; ``Session.saved`` keeps what was written.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, RadioButton, RadioSet, Static

from ...analysis import AnalyzedCall
from ...diagnostics import CaptureError
from ...render.safe import clean
from ..save import SaveError, SaveTarget, check_target, save, suffix_help
from ..session import Session
from .confirm import ConfirmScreen

__all__ = ["SaveDialog", "default_name", "list_scopes"]

Scope = tuple[str, list[AnalyzedCall]]


def list_scopes(session: Session) -> list[Scope]:
    """What the list's F2 offers: the selection, the shown calls, every call (first: default)."""
    st = session.store
    out: list[Scope] = []
    if st.selected:
        rows = st.selected_rows()
        out.append((f"the {len(rows)} selected calls", [r.ac for r in rows]))
    if st.filtered:
        out.append((f"the {len(st.view)} shown calls", [r.ac for r in st.view]))
    out.append((f"all {len(st.rows)} calls", [r.ac for r in st.rows]))
    return out


def default_name(session: Session, suffix: str = ".pcap") -> str:
    """``<first capture's name>-calls.pcap``, in the current folder, not an existing file."""
    stem = session.files[0].name.split(".")[0] if session.files else "sipsniff"
    name = f"{stem}-calls{suffix}"
    n = 1
    while Path(name).exists():
        n += 1
        name = f"{stem}-calls-{n}{suffix}"
    return name


def run_save(
    session: Session, dialog: ModalScreen[None], target: SaveTarget, calls: list[AnalyzedCall]
) -> None:
    """Write in a worker thread; notify when done (or failed)."""
    app = dialog.app

    def done(text: str, failed: bool) -> None:
        session.saved.append(text)
        app.notify(text, severity="error" if failed else "information", markup=False, timeout=8)

    def work() -> None:
        try:
            msg = save(
                target,
                calls,
                sources=session.files,
                stats=session.stats,
                diagnostics=session.diagnostics,
            )
        except (CaptureError, OSError) as exc:
            app.call_from_thread(done, f"save failed: {clean(str(exc), 300)}", True)
            return
        app.call_from_thread(done, msg, False)

    app.run_worker(work, thread=True, group="save", exit_on_error=False)


class SaveDialog(ModalScreen[None]):
    """Which calls, which file; Enter saves, Esc cancels."""

    DEFAULT_CSS = """
    SaveDialog { align: center middle; }
    SaveDialog > Vertical { width: 90; max-width: 100%; height: auto; border: thick $primary; padding: 0 1; background: $surface; }
    SaveDialog #heading { text-style: bold; }
    SaveDialog RadioSet { width: 100%; height: auto; layout: horizontal; border: none; }
    SaveDialog Horizontal { height: 1; }
    SaveDialog Horizontal Label { width: auto; padding: 0 1 0 0; text-style: bold; }
    SaveDialog #name { border: none; height: 1; padding: 0; width: 1fr; }
    SaveDialog #error { color: $error; height: auto; }
    SaveDialog .hint { color: $text-muted; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, session: Session, scopes: Sequence[Scope]) -> None:
        super().__init__()
        self.session = session
        self.scopes = list(scopes)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text("Save calls"), id="heading", markup=False)
            with RadioSet(id="scope"):
                for i, (label, _calls) in enumerate(self.scopes):
                    yield RadioButton(Text(label), value=i == 0)
            with Horizontal():
                yield Label("File")
                yield Input(value=default_name(self.session), id="name", select_on_focus=False)
            yield Static(Text(suffix_help()), classes="hint", markup=False)
            yield Static(Text(""), id="error", markup=False)
            yield Static(
                Text("Enter: save · Esc: cancel · Tab: next field"), classes="hint", markup=False
            )

    def on_mount(self) -> None:
        self.query_one("#name", Input).focus()

    @property
    def chosen(self) -> Scope:
        """The scope whose radio button is on."""
        index = self.query_one("#scope", RadioSet).pressed_index
        return self.scopes[index if 0 <= index < len(self.scopes) else 0]

    def action_cancel(self) -> None:
        self.dismiss(None)

    def _error(self, text: str) -> None:
        self.query_one("#error", Static).update(Text(text))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            target = check_target(event.value, self.session.files)
        except SaveError as exc:
            self._error(str(exc))
            return
        calls = self.chosen[1]
        if not calls:
            self._error("no call to save")
            return
        if target.exists:
            question = Text()
            question.append(clean(str(target.path), 300), style="bold")
            question.append(" exists. Replace it?")

            def answered(yes: bool | None) -> None:
                if yes:
                    self._go(target, calls)
                else:
                    self._error("not saved: choose another name, or answer y to replace the file")

            self.app.push_screen(ConfirmScreen(question), answered)
            return
        self._go(target, calls)

    def _go(self, target: SaveTarget, calls: list[AnalyzedCall]) -> None:
        run_save(self.session, self, target, calls)
        self.dismiss(None)
