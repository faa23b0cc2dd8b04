"""The call list screen (sngrep's first screen): filter bar, status line, the calls, the keys.

Sketch (80x24)::

    Filter sev:warning ip:127.0.0.22
    8 calls · 2 shown · 1 selected · sort start ▲ · loaded in 0.1 s
      start        from → to      Call-ID       state       code diagnoses
    ● 18:07:40.364 alice → bob    demo-busy-1@… rejected     486 ●1 callee-busy
      18:07:42.737 alice → bob    demo-503-1@1… rejected     503 ✖1 server-unavail…
     Enter Open  Space Select  / Filter  F2 Save  i Summary  ? Help  q Quit

Rules:
- Typing in the filter bar filters as you type (after a short pause, so a
  big list is not filtered per keystroke); Enter or Esc goes back to the list.
- Esc on the list clears the filter and the toggles; with nothing to clear it
  quits, as sngrep's Esc does.
- Enter opens the selected calls, or the call under the cursor when none is
  selected; F2 saves the selection, else the shown calls.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Input, Label, Static

from ...render.safe import clean
from .. import keys
from ..columns import by_key
from ..session import Session
from ..store import CallStore
from ..widgets.call_table import CallTable
from .call_view import CallViewScreen
from .filter_dialog import FilterChoice, FilterDialog
from .save_dialog import SaveDialog, list_scopes
from .summary import SummaryScreen

__all__ = ["CallListScreen"]

_DEBOUNCE_S = 0.15


class CallListScreen(Screen[None]):
    """Every call of the capture, filtered and sorted."""

    DEFAULT_CSS = """
    CallListScreen #filterbar { height: 1; }
    CallListScreen #filterbar Label { width: auto; padding: 0 1 0 0; text-style: bold; }
    CallListScreen #filter { border: none; height: 1; padding: 0; width: 1fr; }
    CallListScreen #status { height: 1; color: $text-muted; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [*keys.bindings("list")]

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self._timer: Timer | None = None

    @property
    def store(self) -> CallStore:
        return self.session.store

    def compose(self) -> ComposeResult:
        with Horizontal(id="filterbar"):
            yield Label("Filter")
            yield Input(
                value=self.session.store.query.text,
                placeholder="/ or F3: user, number, IP, Call-ID, method, code, rule:ID, sev:warning…",
                id="filter",
                select_on_focus=False,
            )
        yield Static(Text(""), id="status", markup=False)
        yield CallTable(self.session.store, self.session.glyphs, id="calls")
        yield Footer()

    def on_mount(self) -> None:
        self.table.focus()
        self.refresh_view()

    @property
    def table(self) -> CallTable:
        return self.query_one("#calls", CallTable)

    @property
    def filter_input(self) -> Input:
        return self.query_one("#filter", Input)

    # -- keeping the screen in step with the store ----------------------------------
    def refresh_view(self) -> None:
        """The store changed (calls arrived, filter, sort, selection): redraw."""
        self.table.sync()
        self.update_status()

    def update_status(self) -> None:
        st = self.session.store
        t = Text(no_wrap=True, overflow="ellipsis")
        n = len(st.rows)
        t.append(f"{n:,} call{'s' if n != 1 else ''}", style="bold")
        if st.filtered:
            t.append(f" · {len(st.view):,} shown")
        if st.selected:
            hidden = len(st.selected) - sum(1 for r in st.view if r.uid in st.selected)
            t.append(f" · {len(st.selected):,} selected", style="bold")
            if hidden > 0:
                t.append(f" ({hidden} hidden)")
        up, down = ("^", "v") if self.session.glyphs.ascii_only else ("▲", "▼")
        t.append(f" · sort {by_key(st.sort_key).title} {down if st.reverse else up}")
        for on, label in ((st.failed_only, "failed only"), (st.problems_only, "warnings+errors")):
            if on:
                t.append(f" · [{label}]", style="bold yellow")
        if st.kind:
            t.append(f" · [kind {st.kind}]", style="bold yellow")
        if st.query.problems:
            t.append(" · " + clean("; ".join(st.query.problems), 200), style="yellow")
        t.append(" · " + clean(self.session.load_line(), 300))
        self.query_one("#status", Static).update(t)

    # -- the filter bar -------------------------------------------------------------
    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id != "filter":
            return
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(_DEBOUNCE_S, self._apply_filter)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "filter":
            return
        self._apply_filter()
        self.set_focus(self.table)

    def _apply_filter(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        text = self.filter_input.value
        if text.strip() != self.store.query.text:
            self.store.set_query(text)
            self.refresh_view()

    def set_filter(self, text: str) -> None:
        """Replace the filter text (the summary screen filters by rule this way)."""
        self.filter_input.value = text
        self._apply_filter()

    # -- actions --------------------------------------------------------------------
    def action_search(self, char: str = "") -> None:
        """Into the filter bar; ``/`` typed there (a priority key) is typed, not a search."""
        bar = self.filter_input
        if bar.has_focus:
            if char:
                bar.insert_text_at_cursor(char)
            return
        self.set_focus(bar)  # at once: the keys typed right after are on their way

    def action_escape(self) -> None:
        if self.filter_input.has_focus:
            self._apply_filter()
            self.set_focus(self.table)
            return
        st = self.store
        if st.filtered:
            st.failed_only = st.problems_only = False
            st.kind = ""
            self.set_filter("")
            st.refresh()
            self.refresh_view()
            return
        self.app.exit()

    def action_toggle_failed(self) -> None:
        self.store.toggle_failed()
        self.refresh_view()

    def action_toggle_problems(self) -> None:
        self.store.toggle_problems()
        self.refresh_view()

    def action_cycle_kind(self) -> None:
        self.store.cycle_kind()
        self.refresh_view()

    def _visible_sort_keys(self) -> list[str]:
        return [c.key for c, _w in self.table.columns() if c.key != "mark"]

    def _sort_step(self, step: int) -> None:
        shown = self._visible_sort_keys()
        cur = self.store.sort_key
        i = shown.index(cur) if cur in shown else -step
        self.store.sort_by(shown[(i + step) % len(shown)], reverse=self.store.reverse)
        self.refresh_view()

    def action_sort_next(self) -> None:
        self._sort_step(1)

    def action_sort_prev(self) -> None:
        self._sort_step(-1)

    def action_reverse_sort(self) -> None:
        self.store.sort_by(self.store.sort_key, reverse=not self.store.reverse)
        self.refresh_view()

    def on_call_table_header_clicked(self, event: CallTable.HeaderClicked) -> None:
        self.store.sort_by(event.key)
        self.refresh_view()

    def action_select(self) -> None:
        row = self.table.row
        if row is None:
            return
        self.store.toggle(row.uid)
        self.table.move_to(self.table.cursor + 1)  # sngrep moves on after a selection
        self.refresh_view()

    def action_select_all(self) -> None:
        self.store.select_shown()
        self.refresh_view()

    def action_clear_selection(self) -> None:
        self.store.clear_selection()
        self.refresh_view()

    def _chosen(self) -> list[int]:
        if self.store.selected:
            return sorted(self.store.selected)
        row = self.table.row
        return [row.uid] if row is not None else []

    def action_open(self) -> None:
        uids = self._chosen()
        if uids:
            self.app.push_screen(CallViewScreen(self.session, uids))

    def on_call_table_opened(self, _event: CallTable.Opened) -> None:
        self.action_open()

    def action_save(self) -> None:
        self.app.push_screen(SaveDialog(self.session, list_scopes(self.session)))

    def action_summary(self) -> None:
        self.app.push_screen(SummaryScreen(self.session, on_rule=self.filter_rule))

    def filter_rule(self, rule: str) -> None:
        """List the calls with a diagnosis of this rule (from the summary screen)."""
        self.set_filter(f"rule:{rule}")

    def action_filter_dialog(self) -> None:
        def apply(choice: FilterChoice | None) -> None:
            if choice is None:
                return
            st = self.store
            st.failed_only = choice.failed_only
            st.problems_only = choice.problems_only
            st.kind = choice.kind
            self.set_filter(choice.query)
            st.refresh()
            self.refresh_view()

        self.app.push_screen(FilterDialog(self.session.store), apply)
