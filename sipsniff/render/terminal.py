"""The terminal ladder: a rich renderable that draws a ``Ladder`` as a sequence diagram.

Sketch (``sipsniff flow captures/call_busy.pcap`` at width 100; ``--ascii`` swaps
every glyph, see ``glyphs.py``)::

    Call busy-1@127.0.0.1 · call rejected 486
    alice → bob · 4 messages in 0.10 s · 2026-11-24 18:05:48.417 UTC · UDP

    ┌────────────────────────────┐            ┌────────────────────────────┐
    │       127.0.0.1:5061       │            │       127.0.0.1:5060       │
    │ SIPp (sipsniff sample UAC) │            │ SIPp (sipsniff sample UAS) │
    └──────────────┬─────────────┘            └──────────────┬─────────────┘
    #1             │                 INVITE                  │
    18:05:48.417   ├────────────────────────────────────────▶│
                   │ SDP audio 127.0.0.1:41110               │
                   │   PCMU,PCMA,telephone-event sendrecv    │
                   │ ● INFO [callee-busy] Callee busy: 486 Busy Here
    #2   +0.000s   │               100 Trying                │
    18:05:48.417   │◀────────────────────────────────────────┤
    #3   +0.103s   │              486 Busy Here              │
    18:05:48.520   │◀────────────────────────────────────────┤

Strategy: the gutter holds, per message, the frame number and the delta since
the previous message (label line) and the absolute UTC time (arrow line).
``_ladder_draw`` plans the layout for the width and draws rows of cells
(``_cells.Row``): lifelines first, then arrows (an arrow that skips a column
crosses its lifeline with ``┼``), then text on top.  Annotations go right of
the diagram when they fit there (a wide terminal), else on lines under their
message; annotations citing no frame of the ladder are listed under it.

Width: lifelines are spaced for the labels and SDP summaries, shrunk to fit
``options.max_width``; when ``ip:port`` headers can no longer be shown whole
(or lifelines would be closer than ``MIN_SPACING``) the ladder is rebuilt with
``max_columns`` so endpoints on one host share a column (``10.0.0.2:*``).
Text that does not fit is cut with an ellipsis; no line is wider than the width.

Rules:
- Wire text (labels, User-Agent, Call-ID, SDP, annotation titles) goes through
  ``safe.clean`` and into ``Text`` objects, never into markup strings; with
  ASCII glyphs it is also shown as ASCII (``\\xe9``), so ``--ascii`` output is
  pure ASCII.
- Colours come from styles only (1xx dim, 2xx green, 3xx cyan, 4xx yellow,
  5xx red, 6xx magenta; requests bold; retransmissions dim), so a console
  without colour (a pipe, ``--no-color``, ``NO_COLOR``) prints plain text.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.measure import Measurement
from rich.text import Text

from ..analysis import AnalyzedCall
from ._cells import Row, clock, date, duration, fit, wire
from ._ladder_draw import MIN_SPACING, Drawer, Plan, gutter_texts, leg_tags, make_plan, spacing
from .correlate import correlate
from .glyphs import Glyphs, for_console
from .ladder import Ladder, build_ladder
from .summary import STATE_STYLE, status_style

__all__ = ["LadderView", "ladder_renderable", "ladder_text"]


class LadderView:
    """A call (or several legs of one call) drawn as a ladder, sized to the console.

    Args:
        source: a ``Ladder`` (drawn as is), one ``AnalyzedCall``, or several
            (merged into one diagram, as for ``--merge``).
        ascii_only: use ASCII glyphs even on a UTF-8 console.
        glyphs: force a glyph set (default: chosen from the console).
        title: print the call's title lines above the diagram.
    """

    def __init__(
        self,
        source: Ladder | AnalyzedCall | Sequence[AnalyzedCall],
        *,
        ascii_only: bool = False,
        glyphs: Glyphs | None = None,
        title: bool = True,
    ) -> None:
        if isinstance(source, Ladder):
            self._calls: tuple[AnalyzedCall, ...] = ()
            self._ladder = source
        else:
            self._calls = (source,) if isinstance(source, AnalyzedCall) else tuple(source)
            self._ladder = build_ladder(self._calls)
        self.ascii_only = ascii_only
        self.glyphs = glyphs
        self.title = title

    @property
    def ladder(self) -> Ladder:
        """The full (uncompacted) layout model."""
        return self._ladder

    def _heads(self, ladder: Ladder, g: Glyphs) -> list[tuple[str, str]]:
        return [(wire(c.key, g), wire(c.label, g)) for c in ladder.columns]

    def _fitted(self, width: int, g: Glyphs) -> tuple[Ladder, Plan, list[tuple[str, str]]]:
        ladder = self._ladder
        heads = self._heads(ladder, g)
        plan = make_plan(ladder, width, g, heads)
        n = len(ladder.columns)
        if self._calls and n > 2 and (spacing(plan) < MIN_SPACING or plan.cut_keys):
            # endpoints on one host share a column (build_ladder merges only above the cap)
            cap = min(max(2, 1 + (width - plan.gutter - 8) // MIN_SPACING), n - 1)
            compact = build_ladder(self._calls, max_columns=cap)
            if len(compact.columns) < n:
                ladder = compact
                heads = self._heads(ladder, g)
                plan = make_plan(ladder, width, g, heads)
        return ladder, plan, heads

    def lines(self, width: int, glyphs: Glyphs) -> list[Text]:
        """The drawing as lines of at most ``width`` cells."""
        width = max(width, 20)
        g = glyphs
        ladder, plan, heads = self._fitted(width, g)
        out: list[Text] = []
        if self.title:
            out.extend(self._title(ladder, width, g))
            out.append(Text())
        if not ladder.arrows:
            out.append(Text("(no messages kept for this call)", style="dim"))
        else:
            d = Drawer(ladder, plan, g, heads)
            d.header()
            gutters = gutter_texts(ladder, leg_tags(ladder))
            for a, gt in zip(ladder.arrows, gutters, strict=True):
                d.arrow(a, gt)
            d.row()
            out.extend(r.text() for r in d.rows)
        if ladder.unplaced:
            out.append(Text())
            out.append(Text(fit("Not tied to a message in this diagram:", width, g), style="bold"))
            d = Drawer(ladder, plan, g, heads)
            for note in ladder.unplaced:
                for segs in d.note_lines(note, width - 2):
                    r = Row(width)
                    d.write_segments(r, 2, segs)
                    out.append(r.text())
        return out

    def _title(self, ladder: Ladder, width: int, g: Glyphs) -> list[Text]:
        """One line per call (leg), then the shared facts: who, how many, when, transport."""
        tags = leg_tags(ladder)
        if not self._calls:
            t = Text()
            t.append("Call ", style="bold")
            t.append(fit(", ".join(wire(c, g) for c in ladder.call_ids), width - 5, g))
            return [t]
        lines = [_call_line(ac, tags.get(ac.call.call_id, ""), width, g) for ac in self._calls]
        facts: list[str] = []
        if not tags:
            facts.append(_who(self._calls[0], g))
        if ladder.arrows:
            first, last = ladder.arrows[0], ladder.arrows[-1]
            n = len(ladder.arrows)
            span = duration(last.ts_ns - first.ts_ns)
            facts.append(f"{n} message{'s' if n != 1 else ''} in {span}")
            facts.append(f"{date(first.ts_ns)} {clock(first.ts_ns)} UTC")
            facts.append("/".join(sorted({wire(a.transport, g) for a in ladder.arrows})))
        line = ""
        for fact in facts:
            fact = fit(fact, width, g)
            if line and cell_len(line + g.sep + fact) > width:
                lines.append(Text(line, style="dim"))
                line = ""
            line = f"{line}{g.sep}{fact}" if line else fact
        if line:
            lines.append(Text(line, style="dim"))
        return lines

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        g = self.glyphs or for_console(console, self.ascii_only)
        width = options.max_width
        lines = self.lines(width, g)
        for line in lines:
            if line.cell_len > width:  # only below the 20-cell floor of ``lines``
                line.truncate(width)
        text = Text("\n", end="\n").join(lines)
        text.no_wrap = True
        text.overflow = "crop"
        yield text

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        g = self.glyphs or for_console(console, self.ascii_only)
        widest = max((t.cell_len for t in self.lines(1000, g)), default=1)
        _ladder, plan, _ = self._fitted(options.max_width, g)
        minimum = min(plan.gutter + 2 * MIN_SPACING, widest)
        return Measurement(min(minimum, options.max_width), min(widest, options.max_width))


def _who(ac: AnalyzedCall, g: Glyphs) -> str:
    c = ac.call
    return (
        f"{wire(c.from_user or c.from_uri, g)} {g.to} "
        f"{wire(c.to_user or c.request_user or c.to_uri, g)}"
    )


def _call_line(ac: AnalyzedCall, tag: str, width: int, g: Glyphs) -> Text:
    """``Call <Call-ID> · call answered 200`` (``Leg A: Call ...  alice → bob`` when merged)."""
    c = ac.call
    outcome = Text(c.kind.value + " ")
    outcome.append(c.state.value, style=STATE_STYLE.get(c.state) or None)
    if c.final_status:
        outcome.append(f" {c.final_status}", style=status_style(c.final_status) or None)
    prefix = f"Leg {tag}: Call " if tag else "Call "
    who = f"  {_who(ac, g)}" if tag else ""
    room = width - len(prefix) - cell_len(g.sep) - outcome.cell_len - cell_len(who)
    t = Text()
    t.append(prefix, style="bold")
    t.append(fit(wire(c.call_id, g), max(room, 12), g), style="bold")
    t.append(g.sep)
    t.append_text(outcome)
    t.append(who, style="dim")
    t.truncate(width)
    return t


def ladder_renderable(
    ac_or_list: AnalyzedCall | Iterable[AnalyzedCall],
    *,
    ascii_only: bool = False,
    merge: bool = False,
) -> RenderableType:
    """Ladders for one call or many, each followed by a blank line.

    Args:
        ac_or_list: one analysed call, or several.
        ascii_only: ASCII glyphs (``--ascii``).
        merge: draw calls that ``correlate`` groups as legs of one call in one diagram.
    """
    calls = [ac_or_list] if isinstance(ac_or_list, AnalyzedCall) else list(ac_or_list)
    groups = correlate(calls) if merge else [[c] for c in calls]
    parts: list[RenderableType] = []
    for grp in groups:
        parts.append(LadderView(grp, ascii_only=ascii_only))
        parts.append(Text())
    return Group(*parts)


def ladder_text(
    calls: AnalyzedCall | Sequence[AnalyzedCall] | Ladder,
    *,
    width: int = 100,
    ascii_only: bool = False,
    title: bool = True,
) -> str:
    """The ladder as plain text (no colour, no trailing spaces), for text reports and goldens.

    Args:
        calls: what ``LadderView`` accepts.
        width: columns to draw for.
        ascii_only: ASCII glyphs and ASCII-escaped wire text; else Unicode box drawing.
        title: include the title lines.
    """
    sink = io.StringIO()
    console = Console(
        file=sink,
        width=width,
        no_color=True,
        color_system=None,
        highlight=False,
        markup=False,
        emoji=False,
    )
    console.print(LadderView(calls, ascii_only=ascii_only, title=title))
    return "".join(line.rstrip() + "\n" for line in sink.getvalue().splitlines())
