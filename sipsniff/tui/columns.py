"""The call list's columns: what each shows, how it sorts, and which give way on a narrow screen.

Strategy: a column is data (``Column``): a title, a width range, a priority,
a cell builder and a sort key.  ``layout(width)`` takes columns in priority
order until one does not fit (so at 80 cells the set-up time, the message
count and the kind go first, the From -> To and the code last), then hands
the cells left over to the flexible columns.  The table widget only draws what this module decides.

Rules:
- Cells are ``rich.text.Text`` built from ``safe.clean``-ed wire text, cut to
  their width with an ellipsis; never markup strings.
- Colours come from styles only, and every fact a colour carries is also in
  the text (state words, severity marks), so ``NO_COLOR`` loses nothing.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from dataclasses import dataclass

from rich.text import Text

from ..annotate.knowledge import Severity
from ..render.glyphs import Glyphs
from ..render.safe import clean
from ..render.summary import SEVERITY_STYLE, STATE_STYLE, fmt_ms, status_style
from .rows import CallRow

__all__ = ["COLUMNS", "SORTABLE", "Column", "by_key", "layout", "render_header", "render_row"]

_GAP = 1
_MAX_WIRE = 200
"""Characters of a wire value cleaned for a cell (a cell is never wider than this)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Column:
    """One column of the call list."""

    key: str
    title: str
    width: int
    """Minimum (and, for a fixed column, exact) width in cells."""
    max_width: int
    """Flexible columns grow up to this; equal to ``width`` for a fixed column."""
    priority: int
    """Lower is kept longer when the screen is narrow."""
    cell: Callable[[CallRow, Glyphs], Text]
    sort: Callable[[CallRow], tuple[object, ...]]
    right: bool = False
    """Right-aligned (numbers)."""
    grow: int = 0
    """Share of the spare cells a flexible column takes per round (0: fixed)."""


def _clock(ts_ns: int) -> str:
    sec, rest = divmod(ts_ns, 1_000_000_000)
    t = _dt.datetime.fromtimestamp(sec, _dt.UTC)
    return f"{t:%H:%M:%S}.{rest // 1_000_000:03d}"


def _wire(text: str) -> str:
    return clean(text[:_MAX_WIRE], None)


def _who(r: CallRow, g: Glyphs) -> Text:
    c = r.call
    t = Text(_wire(c.from_user or c.from_uri or "?"))
    t.append(f" {g.to} ", style="dim")
    t.append(_wire(c.to_user or c.request_user or c.to_uri or "?"))
    return t


def _state(r: CallRow, _g: Glyphs) -> Text:
    return Text(r.call.state.value, style=STATE_STYLE.get(r.call.state, ""))


def _code(r: CallRow, _g: Glyphs) -> Text:
    code = r.call.final_status
    return Text(str(code) if code else "-", style=status_style(code))


def _notes(r: CallRow, g: Glyphs) -> Text:
    """``✖1 ▲2 server-unavailable``: counts by severity (worst first), then the worst rule."""
    t = Text()
    for sev in (Severity.ERROR, Severity.WARNING, Severity.INFO):
        n = r.severity_counts[int(sev)]
        if n:
            t.append(f"{g.severity[int(sev)]}{n} ", style=SEVERITY_STYLE[sev])
    worst = r.ac.worst
    if worst is not None:
        rule = next(a.rule for a in r.ac.annotations if a.severity == worst)
        t.append(_wire(rule), style=SEVERITY_STYLE[worst] if worst > Severity.INFO else "dim")
    return t


def _mark(_r: CallRow, _g: Glyphs) -> Text:
    return Text()  # drawn by the table, which knows the selection


COLUMNS: tuple[Column, ...] = (
    Column(
        key="mark",
        title="",
        width=1,
        max_width=1,
        priority=0,
        cell=_mark,
        sort=lambda r: (r.uid,),
    ),
    Column(
        key="start",
        title="start",
        width=12,
        max_width=12,
        priority=2,
        cell=lambda r, _g: Text(_clock(r.call.start_ns)),
        sort=lambda r: (r.call.start_ns, r.uid),
    ),
    Column(
        key="who",
        title="from → to",
        width=14,
        max_width=40,
        priority=0,
        cell=_who,
        sort=lambda r: (r.call.from_user.lower(), r.call.to_user.lower(), r.uid),
        grow=3,
    ),
    Column(
        key="callid",
        title="Call-ID",
        width=16,
        max_width=44,
        priority=1,
        cell=lambda r, _g: Text(_wire(r.call.call_id)),
        sort=lambda r: (r.call.call_id, r.uid),
        grow=2,
    ),
    Column(
        key="kind",
        title="kind",
        width=8,
        max_width=12,
        priority=4,
        cell=lambda r, _g: Text(r.call.kind.value),
        sort=lambda r: (r.call.kind.value, r.uid),
        grow=1,
    ),
    Column(
        key="state",
        title="state",
        width=11,
        max_width=11,
        priority=1,
        cell=_state,
        sort=lambda r: (r.call.state.value, r.uid),
    ),
    Column(
        key="code",
        title="code",
        width=5,
        max_width=5,
        priority=0,
        cell=_code,
        sort=lambda r: (r.call.final_status, r.uid),
        right=True,
    ),
    Column(
        key="setup",
        title="setup",
        width=8,
        max_width=8,
        priority=6,
        cell=lambda r, _g: Text(fmt_ms(r.call.timings.setup)),
        sort=lambda r: (r.call.timings.setup is None, r.call.timings.setup or 0.0, r.uid),
        right=True,
    ),
    Column(
        key="duration",
        title="duration",
        width=9,
        max_width=9,
        priority=5,
        cell=lambda r, _g: Text(fmt_ms(r.call.timings.duration)),
        sort=lambda r: (r.call.timings.duration is None, r.call.timings.duration or 0.0, r.uid),
        right=True,
    ),
    Column(
        key="msgs",
        title="msgs",
        width=5,
        max_width=6,
        priority=5,
        cell=lambda r, _g: Text(str(len(r.call.messages) or r.call.message_count)),
        sort=lambda r: (len(r.call.messages) or r.call.message_count, r.uid),
        right=True,
        grow=1,
    ),
    Column(
        key="notes",
        title="diagnoses",
        width=14,
        max_width=34,
        priority=2,
        cell=_notes,
        sort=lambda r: (r.worst, sum(r.severity_counts), r.uid),
        grow=3,
    ),
)
"""Every column, in display order."""

SORTABLE: tuple[str, ...] = tuple(c.key for c in COLUMNS if c.key != "mark")


def by_key(key: str) -> Column:
    """The column called ``key``.

    Raises:
        KeyError: no such column.
    """
    for c in COLUMNS:
        if c.key == key:
            return c
    raise KeyError(key)


def layout(width: int) -> list[tuple[Column, int]]:
    """The columns shown at ``width`` cells and the width of each, in display order."""
    keep: set[str] = set()
    used = -_GAP
    for c in sorted(COLUMNS, key=lambda c: c.priority):
        if keep and used + _GAP + c.width > width:
            break  # the rest give way; their cells go to the flexible columns
        keep.add(c.key)
        used += _GAP + c.width
    shown = [c for c in COLUMNS if c.key in keep]
    widths = {c.key: c.width for c in shown}
    spare = max(width - used, 0)
    flexible = sorted((c for c in shown if c.grow), key=lambda c: -c.grow)
    while spare and flexible:
        for c in list(flexible):
            add = min(c.grow, c.max_width - widths[c.key], spare)
            widths[c.key] += add
            spare -= add
            if widths[c.key] >= c.max_width:
                flexible.remove(c)
            if not spare:
                break
    return [(c, widths[c.key]) for c in shown]


def _pad(t: Text, width: int, right: bool, g: Glyphs) -> Text:
    t.no_wrap = True
    if t.cell_len > width:
        t.truncate(width, overflow="ellipsis" if not g.ascii_only else "crop")
    pad = width - t.cell_len
    if pad > 0:
        if right:
            t = Text(" " * pad) + t
        else:
            t.append(" " * pad)
    return t


def render_row(row: CallRow, cols: list[tuple[Column, int]], g: Glyphs, *, selected: bool) -> Text:
    """One line of the list for ``row`` (``selected``: marked with space)."""
    out = Text(no_wrap=True, end="")
    for i, (col, w) in enumerate(cols):
        if i:
            out.append(" " * _GAP)
        if col.key == "mark":
            cell = Text(g.severity[0] if selected else " ", style="bold")
        else:
            cell = col.cell(row, g)
        out.append_text(_pad(cell, w, col.right, g))
    return out


def render_header(cols: list[tuple[Column, int]], sort_key: str, reverse: bool, g: Glyphs) -> Text:
    """The title line, with the sort column marked (``▲`` ascending, ``▼`` descending)."""
    up, down = ("^", "v") if g.ascii_only else ("▲", "▼")
    out = Text(no_wrap=True, end="", style="bold")
    for i, (col, w) in enumerate(cols):
        if i:
            out.append(" " * _GAP)
        title = col.title if not g.ascii_only else col.title.replace("→", "->")
        if col.key == sort_key:
            title = f"{title}{down if reverse else up}"
        out.append_text(
            _pad(Text(title, style="underline" if col.key == sort_key else ""), w, col.right, g)
        )
    return out
