"""The summary screen: the counts ``analyze`` prints, the diagnoses grouped by rule, the warnings.

Sketch::

    Capture      captures/demo.pcap: 42 frames, 2026-11-24 18:07:32 to 18:07:42.841 UTC
    Packets      42 SIP messages, 0 malformed, 0 retransmissions, ...
    ...
    Diagnoses by rule (Enter: list those calls)
    ✖ ERROR    server-unavailable     1 call    Server unavailable: 503 ...
    ● INFO     callee-busy            1 call    Callee busy: 486 Busy Here
    Capture warnings (5)
    frame 8: sip: not-sip: 512 bytes on SIP port 5060 are not a SIP message ...

Strategy: the counters are ``render.summary.summary_view`` (the same grid as
``analyze``), a rich renderable inside a ``Static``; the rules are an
``OptionList`` so Enter on one filters the call list by ``rule:ID``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.console import Group
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from ...render.safe import clean
from ...render.summary import SEVERITY_STYLE, summary_view
from .. import keys
from ..digest import RuleGroup, rule_groups
from ..session import Session

__all__ = ["MAX_WARNINGS_SHOWN", "SummaryScreen"]

MAX_WARNINGS_SHOWN = 200
"""Diagnostics listed with their text (all are counted in the grid above)."""


def _rule_prompt(g: RuleGroup, marks: tuple[str, str, str]) -> Text:
    t = Text(no_wrap=True, overflow="ellipsis")
    t.append(
        f"{marks[int(g.severity)]} {str(g.severity).upper():7} ", style=SEVERITY_STYLE[g.severity]
    )
    t.append(f"{clean(g.rule, 40):24} ", style="bold")
    t.append(f"{g.calls:>6} call{'s' if g.calls != 1 else ' '}  ")
    t.append(clean(g.title, 200))
    if g.titles > 1:
        t.append(f" (+{g.titles - 1} other titles)", style="dim")
    return t


class SummaryScreen(Screen[None]):
    """Counters, diagnoses by rule, capture warnings."""

    DEFAULT_CSS = """
    SummaryScreen #rules { height: auto; max-height: 50%; border: none; }
    SummaryScreen .heading { text-style: bold; margin-top: 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [*keys.bindings("summary")]

    def __init__(self, session: Session, on_rule: Callable[[str], None] | None = None) -> None:
        super().__init__()
        self.session = session
        self.on_rule = on_rule
        self.groups: list[RuleGroup] = []

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="scroll"):
            yield Static(id="counts")
            yield Static(
                Text("Diagnoses by rule (Enter: list those calls)"), classes="heading", markup=False
            )
            yield OptionList(id="rules")
            yield Static(
                Text("Capture warnings"), id="warnings-heading", classes="heading", markup=False
            )
            yield Static(Text(""), id="warnings", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.refresh_data()
        self.query_one("#rules", OptionList).focus()

    def refresh_data(self) -> None:
        """Draw from the session (again when the load progresses)."""
        s = self.session
        st = s.stats
        counts = self.query_one("#counts", Static)
        if s.loaded:
            counts.update(summary_view(st))
        else:
            counts.update(Group(Text(clean(s.load_line(), 300), style="yellow"), summary_view(st)))
        self.groups = rule_groups(s.store.rows)
        rules = self.query_one("#rules", OptionList)
        marks = s.glyphs.severity
        rules.set_options(
            [Option(_rule_prompt(g, marks)) for g in self.groups]
            or [Option(Text("no diagnosis"), disabled=True)]
        )
        if self.groups and rules.highlighted is None:
            rules.highlighted = 0
        warnings = s.diagnostics
        total = st.diagnostics
        self.query_one("#warnings-heading", Static).update(Text(f"Capture warnings ({total:,})"))
        t = Text()
        for i, d in enumerate(warnings[:MAX_WARNINGS_SHOWN]):
            if i:
                t.append("\n")
            t.append(clean(d.line(), 400))
        if total > MAX_WARNINGS_SHOWN:
            t.append(f"\n… {total - MAX_WARNINGS_SHOWN:,} more (counted above)", style="dim")
        if not total:
            t.append("none", style="dim")
        self.query_one("#warnings", Static).update(t)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option_index < len(self.groups) and self.on_rule is not None:
            rule = self.groups[event.option_index].rule
            self.app.pop_screen()
            self.on_rule(rule)

    def action_back(self) -> None:
        self.app.pop_screen()
