"""The live model and dashboard of ``sipsniff live``: calls while they are open.

Strategy: the pipeline publishes a call only when it has ended (and lingered
for retransmissions), so the dashboard keeps its own light view of every open
Call-ID, fed by ``Pipeline.on_message``: when it started, who calls whom, the
last message, and a live state read from the initial transaction's responses.
When the pipeline publishes the call, its row takes the authoritative state,
code and annotations.  An error response is put in the errors panel at once
(with what the knowledge base says about the code); the diagnosis replaces it
when the call is published.  Everything is bounded: open rows follow the
tracker's open dialogs, finished rows and error entries are capped.

Sketch::

    sipsniff live · eth0 · scapy · filter: default (SIP, fragments; no RTP) · 00:01:23
    packets 12,345  SIP 8,000 (712/s)  calls 1,000 (23 open)  failed 12  kernel drops 0
    ╭ Calls (all) ─────────────────────────────────────────────────────────╮
    │ start         from → to     Call-ID    state      last         code  duration │
    ╰──────────────────────────────────────────────────────────────────────╯
    ╭ Errors ──────────────────────────────────────────────────────────────╮
    │ 12:00:01.120  486  alice → bob  [response-code] INVITE rejected: 486 Busy Here │
    ╰──────────────────────────────────────────────────────────────────────╯
     ↑/↓ select · l/Enter ladder · f failed only · q quit
"""

from __future__ import annotations

import heapq
import itertools
from collections import OrderedDict, deque
from collections.abc import Iterator
from dataclasses import dataclass, field

from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.segment import Segment, Segments
from rich.table import Table
from rich.text import Text

from ..analysis import AnalyzedCall
from ..annotate.knowledge import Severity, lookup
from ..dialogs.outcome import snapshot
from ..dialogs.states import CallState
from ..dialogs.tracker import OpenCall
from ..render.safe import clean
from ..render.summary import SEVERITY_STYLE, fmt_ms, status_style
from ..render.terminal import ladder_renderable
from ..sip.message import SipMessage

__all__ = ["ErrorEntry", "LiveCalls", "LiveRow", "UiState", "dashboard", "ladder_screen"]

# Finished calls kept for the table and for ladders (each holds its messages).
MAX_FINISHED_ROWS = 1_000
MAX_ERROR_ENTRIES = 200
_FAILED = frozenset(("rejected", "cancelled", "timed-out"))
_OVER = _FAILED | {"ended"}
"""Live states after which the duration stops growing."""
_STATE_STYLE = {
    "calling": "cyan",
    "trying": "cyan",
    "ringing": "bold cyan",
    "answered": "green",
    "ended": "green",
    "hanging up": "green",
    "rejected": "red",
    "cancelled": "yellow",
    "cancelling": "yellow",
    "timed-out": "magenta",
    "in-progress": "dim",
    "sent": "cyan",
}


@dataclass(slots=True, kw_only=True)
class LiveRow:
    """One Call-ID as the dashboard shows it (mutable: open calls change)."""

    seq: int
    call_id: str
    method: str
    """The initial request's method ('' until a request is seen)."""
    from_user: str
    to_user: str
    start_ns: int
    last_ns: int
    label: str = ""
    """The last message: ``INVITE``, ``180 Ringing``..."""
    code: int = 0
    """Last final (or provisional) status of the initial transaction."""
    state: str = "in-progress"
    messages: list[SipMessage] = field(default_factory=list)
    done: AnalyzedCall | None = None

    @property
    def failed(self) -> bool:
        return self.state in _FAILED


@dataclass(slots=True, kw_only=True)
class ErrorEntry:
    """A line of the errors panel: an error response now, its diagnosis when published."""

    ts_ns: int
    call_id: str
    who: str
    code: int
    text: str
    severity: Severity
    rule: str = ""


@dataclass(slots=True)
class UiState:
    """What the keys changed: filters, selection, the ladder being shown."""

    failed_only: bool = False
    selected: str | None = None
    """Call-ID of the highlighted row (None: no selection)."""
    ladder: str | None = None
    """Call-ID whose ladder is on screen (None: the dashboard)."""
    scroll: int = 0
    visible: list[str] = field(default_factory=list)
    """Call-IDs of the rows drawn last, top to bottom (for moving the selection)."""


class LiveCalls:
    """The dashboard's model; ``on_message`` before the tracker, ``finished`` after."""

    def __init__(self) -> None:
        self.open: dict[str, LiveRow] = {}
        self.done: OrderedDict[int, LiveRow] = OrderedDict()
        self.errors: OrderedDict[str, ErrorEntry] = OrderedDict()
        self._seq = itertools.count(1)
        self.messages = 0
        self.calls_seen = 0
        self.calls_done = 0
        """Published calls of kind ``call`` (INVITE dialogs): what ``--calls`` counts."""
        self.failed_done = 0
        self._rate: deque[tuple[int, int]] = deque()

    # -- feeding ---------------------------------------------------------------------
    def on_message(self, m: SipMessage) -> LiveRow | None:
        """File one message; return its row when the live state changed."""
        self.messages += 1
        sec = m.ts_ns // 1_000_000_000
        rate = self._rate
        if rate and rate[-1][0] == sec:
            rate[-1] = (sec, rate[-1][1] + 1)
        else:
            rate.append((sec, 1))
            while len(rate) > 6:
                rate.popleft()
        row = self.open.get(m.call_id)
        if row is None:
            fa, ta = m.from_addr, m.to_addr
            row = LiveRow(
                seq=next(self._seq),
                call_id=m.call_id,
                method="",
                from_user=fa.user or fa.uri,
                to_user=ta.user or m.request_user or ta.uri,
                start_ns=m.ts_ns,
                last_ns=m.ts_ns,
            )
            self.open[m.call_id] = row
            self.calls_seen += 1
        row.messages.append(m)
        row.last_ns = m.ts_ns
        row.label = m.label
        before = (row.state, row.code)
        self._advance(row, m)
        return row if (row.state, row.code) != before else None

    @staticmethod
    def _advance(row: LiveRow, m: SipMessage) -> None:
        status = m.status
        if status == 0:
            method = m.method
            if not row.method and method not in ("ACK", "CANCEL"):
                row.method = method
                row.state = "calling" if method == "INVITE" else "sent"
            elif method == "CANCEL" and row.state in ("calling", "trying", "ringing"):
                row.state = "cancelling"
            elif method == "BYE" and row.state == "answered":
                row.state = "hanging up"
            return
        if m.cseq_method == row.method:
            if status < 200:
                if row.state in ("calling", "trying", "ringing", "cancelling", "sent"):
                    row.code = status
                    if row.state != "cancelling":
                        row.state = "ringing" if status in (180, 183) else "trying"
            elif row.state not in ("answered", "hanging up", "ended"):
                row.code = status
                if status < 300:
                    row.state = "answered"
                elif status == 487:
                    row.state = "cancelled"
                elif status == 408:
                    row.state = "timed-out"
                else:
                    row.state = "rejected"
        elif m.cseq_method == "BYE" and 200 <= status < 300 and row.state == "hanging up":
            row.state = "ended"

    def error_response(self, row: LiveRow, m: SipMessage) -> None:
        """Put an error final response in the errors panel at once, with its meaning."""
        info = lookup(m.status)
        self._put_error(
            ErrorEntry(
                ts_ns=m.ts_ns,
                call_id=row.call_id,
                who=_who(row),
                code=m.status,
                text=f"{m.status} {m.reason or info.reason}: {info.meaning}",
                severity=info.severity,
            )
        )

    def finished(self, ac: AnalyzedCall) -> LiveRow:
        """The pipeline published a call: the row becomes final and leaves the open set."""
        c = ac.call
        row = self.open.pop(c.call_id, None)
        if row is None:  # a call we never saw a message of (cannot happen, but be safe)
            row = LiveRow(
                seq=next(self._seq),
                call_id=c.call_id,
                method=c.kind.value,
                from_user=c.from_user or c.from_uri,
                to_user=c.to_user or c.to_uri,
                start_ns=c.start_ns,
                last_ns=c.end_ns,
            )
        row.done = ac
        row.state = c.state.value
        row.code = c.final_status or row.code
        row.messages = []
        self.done[row.seq] = row
        while len(self.done) > MAX_FINISHED_ROWS:
            self.done.popitem(last=False)
        if c.kind.value == "call":
            self.calls_done += 1
        if c.failed:
            self.failed_done += 1
        shown = [a for a in ac.annotations if a.severity > Severity.INFO or c.failed]
        if shown:
            self.errors.pop(c.call_id, None)
            for a in shown:
                self._put_error(
                    ErrorEntry(
                        ts_ns=c.end_ns,
                        call_id=c.call_id,
                        who=_who(row),
                        code=c.final_status,
                        text=a.title,
                        severity=a.severity,
                        rule=a.rule,
                    ),
                    key=f"{c.call_id}\0{a.rule}\0{a.title}",
                )
        return row

    def _put_error(self, e: ErrorEntry, key: str | None = None) -> None:
        k = key or e.call_id
        self.errors.pop(k, None)
        self.errors[k] = e
        while len(self.errors) > MAX_ERROR_ENTRIES:
            self.errors.popitem(last=False)

    # -- reading ---------------------------------------------------------------------
    @property
    def failed(self) -> int:
        """Failed calls: published ones plus open ones whose final response failed."""
        return self.failed_done + sum(1 for r in self.open.values() if r.failed)

    def rate(self, now_ns: int) -> float:
        """SIP messages per second over the last five whole seconds of capture time."""
        now = now_ns // 1_000_000_000
        total = sum(n for s, n in self._rate if now - 5 <= s < now)
        return total / 5

    def rows(self, *, failed_only: bool, limit: int) -> list[LiveRow]:
        """The newest calls first (open and finished alike)."""
        pool: Iterator[LiveRow] = itertools.chain(self.open.values(), self.done.values())
        if failed_only:
            pool = (r for r in pool if r.failed)
        return heapq.nlargest(limit, pool, key=lambda r: r.seq)

    def find(self, call_id: str) -> LiveRow | None:
        row = self.open.get(call_id)
        if row is not None:
            return row
        return next((r for r in reversed(self.done.values()) if r.call_id == call_id), None)

    def latest_failed(self) -> LiveRow | None:
        rows = self.rows(failed_only=True, limit=1)
        return rows[0] if rows else None

    def analyzed(self, row: LiveRow, now_ns: int) -> AnalyzedCall:
        """The call for a ladder: the published one, or a snapshot of the open one."""
        if row.done is not None:
            return row.done
        oc = OpenCall(row.call_id)
        for m in row.messages:
            oc.add(m)
        return AnalyzedCall(call=snapshot(oc, now=now_ns), annotations=())


def _who(row: LiveRow) -> str:
    return f"{clean(row.from_user, 40)} → {clean(row.to_user, 40)}"


def _clock(ts_ns: int) -> str:
    import datetime as _dt

    return _dt.datetime.fromtimestamp(ts_ns / 1e9, _dt.UTC).strftime("%H:%M:%S.%f")[:-3]


def _elapsed(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


@dataclass(slots=True, kw_only=True)
class Header:
    """The facts of the capture the dashboard's first two lines show."""

    iface: str
    engine: str
    bpf: str
    default_filter: bool
    elapsed: float
    packets: int
    dropped: int
    warnings: int
    pcap: str = ""
    now_ns: int = 0


def _header(model: LiveCalls, h: Header) -> list[Text]:
    top = Text()
    top.append("sipsniff live", style="bold")
    flt = "default (SIP, fragments; no RTP)" if h.default_filter else clean(h.bpf, 80)
    top.append(f" · {clean(h.iface, 30)} · {h.engine} · filter: {flt} · {_elapsed(h.elapsed)}")
    counters = Text()

    def item(label: str, value: str, style: str = "bold") -> None:
        if counters.plain:
            counters.append("  ")
        counters.append(f"{label} ")
        counters.append(value, style=style)

    item("packets", f"{h.packets:,}")
    item("SIP", f"{model.messages:,} ({model.rate(h.now_ns):,.0f}/s)")
    item("calls", f"{model.calls_seen:,} ({len(model.open):,} open)")
    failed = model.failed
    item("failed", f"{failed:,}", "bold red" if failed else "bold")
    item("kernel drops", f"{h.dropped:,}", "bold red" if h.dropped else "bold")
    item("warnings", f"{h.warnings:,}", "yellow" if h.warnings else "bold")
    if h.pcap:
        item("pcap", clean(h.pcap, 60), "")
    for t in (top, counters):
        t.no_wrap = True
        t.overflow = "ellipsis"
    return [top, counters]


def _calls_table(model: LiveCalls, ui: UiState, limit: int, now_ns: int, width: int) -> Panel:
    rows = model.rows(failed_only=ui.failed_only, limit=max(1, limit))
    table = Table(expand=True, box=None, padding=(0, 1), show_edge=False)
    table.add_column("start", no_wrap=True, width=12)
    table.add_column("from → to", no_wrap=True, ratio=2, overflow="ellipsis")
    table.add_column("Call-ID", no_wrap=True, ratio=2, overflow="ellipsis")
    table.add_column("state", no_wrap=True, width=11)
    table.add_column("last", no_wrap=True, ratio=1, overflow="ellipsis")
    table.add_column("code", justify="right", width=4)
    table.add_column("duration", justify="right", no_wrap=True, width=9)
    if width >= 120:
        table.add_column("notes", no_wrap=True, ratio=2, overflow="ellipsis")
    ui.visible = [r.call_id for r in rows]
    if ui.selected is not None and ui.selected not in ui.visible:
        ui.selected = None
    for r in rows:
        over = r.done is not None or r.state in _OVER
        end = r.last_ns if over else max(now_ns, r.last_ns)
        notes = Text()
        if r.done is not None:
            for a in r.done.annotations:
                if a.severity > Severity.INFO:
                    if notes.plain:
                        notes.append(", ")
                    notes.append(a.rule, style=SEVERITY_STYLE[a.severity])
        cells: list[Text | str] = [
            _clock(r.start_ns),
            Text(_who(r)),
            Text(clean(r.call_id, 80)),
            Text(
                r.state + ("" if r.done is not None else "…"), style=_STATE_STYLE.get(r.state, "")
            ),
            Text(clean(r.label, 40)),
            Text(str(r.code) if r.code else "-", style=status_style(r.code)),
            fmt_ms((end - r.start_ns) / 1e6),
        ]
        if width >= 120:
            cells.append(notes)
        table.add_row(*cells, style="reverse" if r.call_id == ui.selected else None)
    title = f"Calls ({'failed only' if ui.failed_only else 'all'}, newest first)"
    return Panel(table, title=title, title_align="left", padding=(0, 0))


def _errors_panel(model: LiveCalls, lines: int) -> Panel:
    body = Text()
    entries = list(model.errors.values())[-lines:][::-1] if lines > 0 else []
    for i, e in enumerate(entries):
        if i:
            body.append("\n")
        body.append(_clock(e.ts_ns) + "  ", style="dim")
        body.append(f"{e.code or '-':>3}", style=status_style(e.code) if e.code else "")
        body.append(f"  {e.who}  ")
        if e.rule:
            body.append(f"[{e.rule}] ", style=SEVERITY_STYLE[e.severity])
        body.append(clean(e.text, 300), style="bold" if e.rule else "")
    if not entries:
        body.append("no errors so far", style="dim")
    body.no_wrap = True
    body.overflow = "ellipsis"
    return Panel(
        body, title="Errors and diagnoses (newest first)", title_align="left", padding=(0, 1)
    )


_KEYS = " ↑/↓ select · l/Enter ladder · f failed only · q quit"


def dashboard(model: LiveCalls, ui: UiState, h: Header, console: Console) -> RenderableType:
    """The whole screen: header, counters, calls table, errors panel, keys line."""
    width, height = console.size
    errors = min(8, max(1, len(model.errors)))
    calls = max(3, height - 2 - (errors + 2) - 1 - 3)
    parts: list[RenderableType] = [
        *_header(model, h),
        _calls_table(model, ui, calls, h.now_ns, width),
        _errors_panel(model, errors),
        Text(_KEYS, style="dim"),
    ]
    return Group(*parts)


def ladder_screen(
    ac: AnalyzedCall, ui: UiState, console: Console, *, ascii_only: bool = False
) -> RenderableType:
    """One call's ladder (scrolled by ``ui.scroll``) with a title line."""
    body = ladder_renderable(ac, ascii_only=ascii_only)
    title = Text("Ladder", style="bold")
    if ac.call.state == CallState.IN_PROGRESS:
        title.append(" (call still open: as far as it got)")
    title.append("   ↑/↓ PgUp/PgDn scroll · l/Enter/Esc back · q quit", style="dim")
    width, height = console.size
    lines = console.render_lines(body, console.options.update(width=width, height=None), pad=False)
    room = max(1, height - 2)
    ui.scroll = max(0, min(ui.scroll, max(0, len(lines) - room)))
    shown = lines[ui.scroll : ui.scroll + room]
    segs: list[Segment] = []
    for line in shown:
        segs.extend(line)
        segs.append(Segment.line())
    parts: list[RenderableType] = [title, Segments(segs)]
    if ac.annotations:
        parts.append(
            Text(
                f"{len(ac.annotations)} annotations: " + ", ".join(a.rule for a in ac.annotations),
                style="dim",
            )
        )
    return Group(*parts)
