"""The call view (sngrep's call flow, plus the diagnoses): ladder, selected message, annotations.

Sketch (80x24; from 140 columns the message and the diagnoses go right of the ladder)::

    Call demo-busy-1@127.0.0.22 · call rejected 486 · alice → bob
    ── Ladder · 4 messages ─────────────────────────────────────────────────
    ┌──────────────────────┐            ┌──────────────────────┐
    │   127.0.0.22:5061    │            │   127.0.0.10:5060    │
    #30  +0.109s   │         486 Busy Here         │         <- selected (reverse video)
    18:07:40.473   │◀──────────────────────────────┤
    ── Message · frame 30 ──────────────────────────────────────────────────
    frame 30 · 2026-11-24 18:07:40.473 UTC (+0.109 s) · 127.0.0.10:5060 → ...
    SIP/2.0 486 Busy Here
    ── Diagnoses (1) ───────────────────────────────────────────────────────
    ● INFO [callee-busy] Callee busy: 486 Busy Here
        → frame 30  486 Busy Here

Rules:
- The ladder has the focus first: ↑/↓ select arrows, the message pane follows.
- Enter on the ladder shows the message alone (maximized; Esc comes back);
  Enter on a diagnosis or an evidence frame selects that arrow.
- F4/x adds the other legs of the call, found with ``render.correlate`` (the
  rules of ``flow --merge``) among the loaded calls that overlap it in time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Container, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Static

from ...analysis import AnalyzedCall
from ...render.correlate import USER_WINDOW_S, correlate
from ...render.safe import clean
from ...render.summary import STATE_STYLE, status_style
from .. import keys
from ..session import Session
from ..widgets.diagnoses_pane import DiagnosesPane
from ..widgets.ladder_pane import LadderPane
from ..widgets.message_pane import MessagePane
from .save_dialog import SaveDialog

__all__ = ["WIDE", "CallViewScreen", "find_legs"]

WIDE = 140
"""From this many columns the message and the diagnoses sit right of the ladder."""
_MAX_TITLE_CALLS = 3


def find_legs(session: Session, uids: Sequence[int]) -> list[int]:
    """The calls that ``flow --merge`` would draw with these ones (their uids, in load order).

    Only loaded calls of the same kinds that overlap the chosen calls in time
    (with the correlation window on both sides) are compared: a B2BUA relays a
    leg while the other is up, and this keeps F4 fast on a big capture.
    """
    rows = session.store.rows
    mine = [rows[u] for u in uids]
    if not mine:
        return []
    pad = int(USER_WINDOW_S * 1e9)
    lo = min(r.call.start_ns for r in mine) - pad
    hi = max(r.call.end_ns for r in mine) + pad
    kinds = {r.call.kind for r in mine}
    cands = [
        r for r in rows if r.call.kind in kinds and r.call.end_ns >= lo and r.call.start_ns <= hi
    ]
    by_ac = {id(r.ac): r.uid for r in cands}
    wanted = set(uids)
    out: set[int] = set(uids)
    for group in correlate([r.ac for r in cands]):
        members = {by_ac[id(ac)] for ac in group}
        if members & wanted:
            out |= members
    return sorted(out)


class CallViewScreen(Screen[None]):
    """One call, or several drawn as one ladder."""

    DEFAULT_CSS = """
    CallViewScreen #title { height: auto; max-height: 4; padding: 0 1; }
    CallViewScreen #body { height: 1fr; layout: vertical; }
    CallViewScreen.wide #body { layout: horizontal; }
    CallViewScreen #ladder { height: 3fr; border-top: solid $primary-darken-2; }
    CallViewScreen #detail { height: 2fr; }
    CallViewScreen.wide #ladder, CallViewScreen.wide #detail { height: 1fr; }
    CallViewScreen.wide #ladder { width: 3fr; }
    CallViewScreen.wide #detail { width: 2fr; border-left: solid $primary-darken-2; }
    CallViewScreen #message { height: 1fr; border-top: solid $primary-darken-2; }
    CallViewScreen.wide #message { height: 3fr; }
    CallViewScreen.wide #diagnoses { height: 2fr; }
    CallViewScreen #diagnoses { height: 1fr; border: none; border-top: solid $primary-darken-2; }
    CallViewScreen #diagnoses.empty { display: none; }
    CallViewScreen #ladder:focus, CallViewScreen #message:focus,
    CallViewScreen #diagnoses:focus { border-top: heavy $accent; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [*keys.bindings("call")]

    def __init__(self, session: Session, uids: Sequence[int]) -> None:
        super().__init__()
        self.session = session
        self.chosen = sorted(uids)
        """The calls opened from the list."""
        self.uids = list(self.chosen)
        """The calls drawn (more than ``chosen`` in the extended flow)."""
        self.extended = False
        self.hide_retransmissions = False

    @property
    def calls(self) -> list[AnalyzedCall]:
        rows = self.session.store.rows
        return [rows[u].ac for u in self.uids]

    def compose(self) -> ComposeResult:
        g = self.session.glyphs
        yield Static(Text(""), id="title", markup=False)
        with Container(id="body"):
            yield LadderPane(g, id="ladder")
            with Vertical(id="detail"):
                yield MessagePane(id="message")
                yield DiagnosesPane(g, id="diagnoses")
        yield Footer()

    @property
    def ladder(self) -> LadderPane:
        return self.query_one("#ladder", LadderPane)

    @property
    def message(self) -> MessagePane:
        return self.query_one("#message", MessagePane)

    @property
    def diagnoses(self) -> DiagnosesPane:
        return self.query_one("#diagnoses", DiagnosesPane)

    def on_mount(self) -> None:
        self._layout(self.app.size.width)
        self.redraw()
        self.ladder.focus()

    def on_resize(self, event: events.Resize) -> None:
        self._layout(event.size.width)

    def _layout(self, width: int) -> None:
        self.set_class(width >= WIDE, "wide")

    def redraw(self) -> None:
        """Draw the ladder of ``uids`` and everything that depends on it."""
        calls = self.calls
        self.ladder.show(calls, hide_retransmissions=self.hide_retransmissions)
        arrows = self.ladder.arrows
        annotations = [a for ac in calls for a in ac.annotations]
        self.diagnoses.show(annotations, arrows)
        self.diagnoses.set_class(not annotations, "empty")
        self.diagnoses.border_title = Text(f"Diagnoses ({len(annotations)})")
        n = len(arrows)
        title = f"Ladder · {n} message{'s' if n != 1 else ''}"
        if self.hide_retransmissions:
            title += " · retransmissions hidden"
        if len(calls) > 1:
            title += f" · {len(calls)} legs"
        self.ladder.border_title = Text(title)
        self._title(calls)
        self._show_message()

    def _title(self, calls: list[AnalyzedCall]) -> None:
        g = self.session.glyphs
        t = Text(no_wrap=True, overflow="ellipsis")
        for i, ac in enumerate(calls[:_MAX_TITLE_CALLS]):
            c = ac.call
            if i:
                t.append("\n")
            if len(calls) > 1:
                t.append(f"{chr(ord('A') + i) if i < 26 else i + 1} ", style="bold")
            t.append("Call ", style="bold")
            t.append(clean(c.call_id, 200), style="bold")
            t.append(f"{g.sep}{c.kind.value} ")
            t.append(c.state.value, style=STATE_STYLE.get(c.state, ""))
            if c.final_status:
                t.append(f" {c.final_status}", style=status_style(c.final_status))
            who = f"{clean(c.from_user or c.from_uri, 80)} {g.to} "
            who += clean(c.to_user or c.request_user or c.to_uri, 80)
            t.append(f"{g.sep}{who}")
        if len(calls) > _MAX_TITLE_CALLS:
            t.append(f"\n… and {len(calls) - _MAX_TITLE_CALLS} more legs", style="dim")
        self.query_one("#title", Static).update(t)

    def _show_message(self) -> None:
        arrow = self.ladder.arrow
        self.message.show(arrow)
        label = f"Message · frame {arrow.frame}" if arrow is not None else "Message"
        self.message.border_title = Text(label)

    # -- events ---------------------------------------------------------------------
    def on_ladder_pane_selected(self, _event: LadderPane.Selected) -> None:
        self._show_message()

    def on_diagnoses_pane_jump(self, event: DiagnosesPane.Jump) -> None:
        if self.ladder.select_frame(event.frame):
            self.ladder.focus()

    # -- actions --------------------------------------------------------------------
    def action_open_message(self) -> None:
        if self.maximized is self.message:
            self.minimize()
            self.ladder.focus()
            return
        self.message.focus()
        self.maximize(self.message, container=False)

    def action_zoom(self) -> None:
        if self.maximized is not None:
            self.minimize()
            return
        focused = self.focused
        if focused is not None:
            self.maximize(focused, container=False)

    def action_back(self) -> None:
        if self.maximized is not None:
            self.minimize()
            self.ladder.focus()
            return
        self.app.pop_screen()

    def action_toggle_retrans(self) -> None:
        self.hide_retransmissions = not self.hide_retransmissions
        self.redraw()

    def action_extended(self) -> None:
        if self.extended:
            self.extended = False
            self.uids = list(self.chosen)
        else:
            legs = find_legs(self.session, self.chosen)
            if legs == self.chosen:
                self.notify("no other leg of this call was found", markup=False)
                return
            self.extended = True
            self.uids = legs
        self.redraw()

    def _evidence_step(self, step: int) -> None:
        frames = self.diagnoses.evidence_frames()
        arrows = self.ladder.arrows
        index = sorted(
            {i for i, a in enumerate(arrows) if any(f in frames for f in a.message.frames)}
        )
        if not index:
            self.notify("the diagnoses cite no message of this ladder", markup=False)
            return
        cur = self.ladder.selected
        after = [i for i in index if i > cur] if step > 0 else [i for i in index if i < cur]
        target = (after[0] if step > 0 else after[-1]) if after else index[0 if step > 0 else -1]
        self.ladder.select(target)
        self.ladder.focus()

    def action_next_evidence(self) -> None:
        self._evidence_step(1)

    def action_prev_evidence(self) -> None:
        self._evidence_step(-1)

    def action_save(self) -> None:
        calls = self.calls
        n = len(calls)
        self.app.push_screen(
            SaveDialog(self.session, [(f"this call ({n} call{'s' if n != 1 else ''})", calls)])
        )
