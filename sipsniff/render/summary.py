"""Rich renderables for ``analyze``: the summary, the call table, the annotations.

Every string from the wire goes into a ``Text`` (never a markup string) after
``safe.clean``; colours come from styles only.  Sketch::

    Capture  demo.pcap: 412 frames, 57 SIP messages, 0 malformed, 12 skipped
    Methods  INVITE 8  ACK 8  BYE 5 ...      Responses  100 8  180 6  200 14 ...
    Calls    call 8 (answered 5, rejected 2, cancelled 1) ...
    ┌ start ─────── from → to ──── Call-ID ── kind ── state ── code ─ setup ─ duration ┐
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Sequence
from typing import Any

from rich import box
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.table import Table
from rich.text import Text

from ..analysis import AnalyzedCall, Stats, ranked
from ..annotate.annotation import Annotation
from ..annotate.knowledge import Severity
from ..dialogs.states import CallState
from .safe import clean

__all__ = [
    "SEVERITY_STYLE",
    "STATE_STYLE",
    "CallsTable",
    "annotation_block",
    "calls_table",
    "capture_span",
    "fmt_ms",
    "status_style",
    "summary_view",
    "tls_text",
]

SEVERITY_STYLE = {Severity.INFO: "cyan", Severity.WARNING: "yellow", Severity.ERROR: "bold red"}
STATE_STYLE = {
    CallState.ANSWERED: "green",
    CallState.REJECTED: "red",
    CallState.CANCELLED: "yellow",
    CallState.TIMED_OUT: "magenta",
    CallState.IN_PROGRESS: "dim",
}


def status_style(code: int) -> str:
    """Colour by response class: 1xx dim, 2xx green, 3xx cyan, 4xx yellow, 5xx red, 6xx magenta."""
    return {1: "dim", 2: "green", 3: "cyan", 4: "yellow", 5: "red", 6: "magenta"}.get(
        code // 100, ""
    )


def fmt_ms(ms: float | None) -> str:
    if ms is None:
        return "-"
    if ms < 1000:
        return f"{ms:.0f} ms"
    s = ms / 1000
    if s < 120:
        return f"{s:.2f} s"
    if s < 7200:
        return f"{int(s // 60)}m{int(s % 60):02d}s"
    # hours and days, so a call held overnight (or a broken clock) reads at a glance
    if s < 172_800:
        return f"{int(s // 3600)}h{int(s % 3600 // 60):02d}m"
    return f"{int(s // 86400)}d{int(s % 86400 // 3600):02d}h"


def capture_span(first_ns: int, last_ns: int) -> str:
    """``2026-11-24 18:07:32 to 18:07:42.841 UTC``, with the end's date when it is
    another day (a capture that runs past midnight, or a clock that jumped)."""
    a = _dt.datetime.fromtimestamp(first_ns / 1e9, _dt.UTC)
    b = _dt.datetime.fromtimestamp(last_ns / 1e9, _dt.UTC)
    end = _clock(last_ns)
    if b.date() != a.date():
        end = f"{b:%Y-%m-%d} {end}"
    return f"{a:%Y-%m-%d %H:%M:%S} to {end} UTC"


def _clock(ts_ns: int) -> str:
    return _dt.datetime.fromtimestamp(ts_ns / 1e9, _dt.UTC).strftime("%H:%M:%S.%f")[:-3]


def _counts(items: Iterable[tuple[Any, int]], style_of: object = None) -> Text:
    t = Text()
    for i, (k, v) in enumerate(items):
        if i:
            t.append("  ")
        style = status_style(k) if isinstance(k, int) and style_of else ""
        t.append(clean(str(k), 40), style=style)
        t.append(f" {v}", style="bold")
    return t if t.plain else Text("none", style="dim")


def tls_text(st: Stats) -> str:
    """The TLS line of a summary ('' for a capture without TLS), with how to get keys."""
    t = st.tls
    if not t:
        return ""
    n = t.get("connections", 0)
    parts = [f"{t.get(k, 0)} {label}" for k, label in _TLS_OUTCOMES if t.get(k, 0)]
    text = f"{n} connection{'s' if n != 1 else ''}, {t.get('records', 0)} records"
    if parts:
        text += ": " + ", ".join(parts)
    if t.get("without_keys"):
        text += (
            " (to decrypt: --tls-keylog FILE, the key log the peer writes when SSLKEYLOGFILE "
            "is set or Kamailio/OpenSIPS tls key log options; or editcap --inject-secrets)"
        )
    return text


_TLS_OUTCOMES = (
    ("decrypted", "decrypted"),
    ("without_keys", "without keys"),
    ("refused_suite", "refused (suite without integrity)"),
    ("failed", "failed (wrong keys or damaged)"),
)


def summary_view(st: Stats) -> RenderableType:
    """The counters: what was read, what was SIP, what was skipped, calls by kind and state."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    span = ""
    if st.first_ts_ns:
        span = f", {capture_span(st.first_ts_ns, st.last_ts_ns)}"
    grid.add_row(
        "Capture",
        Text(
            f"{', '.join(clean(s, 200) for s in st.sources)}: {st.frames} frames{span}",
        ),
    )
    grid.add_row(
        "Packets",
        Text(
            f"{st.sip_messages} SIP messages, {st.malformed} malformed, "
            f"{st.retransmissions} retransmissions, "
            + (
                f"{st.capture_duplicates} capture duplicates (ignored), "
                if st.capture_duplicates
                else ""
            )
            + f"{st.not_sip} non-SIP payloads, {st.skipped} frames skipped"
            + (
                f" ({', '.join(f'{k} {v}' for k, v in sorted(st.skipped_by_reason.items()))})"
                if st.skipped_by_reason
                else ""
            )
        ),
    )
    if st.tls:
        grid.add_row("TLS", Text(tls_text(st)))
    grid.add_row("Requests", _counts(ranked(st.methods)))
    grid.add_row("Responses", _counts(sorted(st.statuses.items()), style_of=True))
    kinds = Text()
    for i, (kind, n) in enumerate(ranked(st.calls_by_kind)):
        if i:
            kinds.append("  ")
        kinds.append(f"{kind} {n}", style="bold")
    grid.add_row("Calls", kinds if kinds.plain else Text("none", style="dim"))
    states = Text()
    for i, (state, n) in enumerate(ranked(st.calls_by_state)):
        if i:
            states.append("  ")
        states.append(f"{state} {n}", style=STATE_STYLE.get(CallState(state), ""))
    grid.add_row("Outcomes", states if states.plain else Text("none", style="dim"))
    if st.annotations_by_rule:
        ann = Text()
        for i, (sev, n) in enumerate(ranked(st.annotations_by_severity)):
            if i:
                ann.append("  ")
            ann.append(f"{sev} {n}", style=SEVERITY_STYLE.get(Severity.parse(sev), ""))
        ann.append("  (")
        ann.append(", ".join(f"{r} {n}" for r, n in ranked(st.annotations_by_rule)))
        ann.append(")")
        grid.add_row("Annotations", ann)
    if st.diagnostics_by_trigger:
        grid.add_row(
            "Warnings",
            Text(
                ", ".join(f"{k} {v}" for k, v in ranked(st.diagnostics_by_trigger)),
                style="yellow",
            ),
        )
    if st.layers:
        grid.add_row("Layers", _counts(sorted(st.layers.items())))
    if st.evicted_calls:
        grid.add_row(
            "Evicted", Text(f"{st.evicted_calls} calls published early (open-dialog bound)")
        )
    return grid


class CallsTable:
    """One row per call, laid out for the width it is given.

    Wide (>= 110 columns): start, from -> to, Call-ID, kind, state, code, setup,
    duration, notes.  Narrow: no vertical rules, and setup, duration and notes
    give way so that the Call-ID stays readable on an 80-column terminal.
    """

    WIDE = 110

    def __init__(self, calls: Sequence[AnalyzedCall], *, limit: int | None, total: int) -> None:
        self.calls = calls
        self.limit = limit
        self.total = total

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self.table(wide=options.max_width >= self.WIDE)

    def table(self, *, wide: bool) -> Table:
        table = Table(
            title=f"Calls ({self.total})",
            title_justify="left",
            expand=False,
            box=box.HEAVY_HEAD if wide else box.SIMPLE_HEAD,
        )
        table.add_column("start", no_wrap=True)
        table.add_column("from → to", overflow="fold", max_width=44 if wide else 24)
        table.add_column("Call-ID", overflow="fold", max_width=36)
        table.add_column("kind")
        table.add_column("state", no_wrap=True)
        table.add_column("code", justify="right")
        if wide:
            table.add_column("setup", justify="right", no_wrap=True)
            table.add_column("duration", justify="right", no_wrap=True)
            table.add_column("notes", overflow="fold", max_width=30)
        shown = self.calls if self.limit is None else self.calls[: self.limit]
        for ac in shown:
            c = ac.call
            who = Text(clean(c.from_user or c.from_uri, 60))
            who.append(" → ")
            who.append(clean(c.to_user or c.request_user or c.to_uri, 60))
            code = Text(
                str(c.final_status) if c.final_status else "-", style=status_style(c.final_status)
            )
            row: list[RenderableType] = [
                _clock(c.start_ns) if wide else _clock(c.start_ns)[:8],
                who,
                Text(clean(c.call_id, 120)),
                c.kind.value,
                Text(c.state.value, style=STATE_STYLE[c.state]),
                code,
            ]
            if wide:
                notes = Text()
                worst = ac.worst
                for a in ac.annotations:
                    if worst is not None and a.severity == worst and a.severity > Severity.INFO:
                        if notes.plain:
                            notes.append(", ")
                        notes.append(a.rule, style=SEVERITY_STYLE[a.severity])
                row += [fmt_ms(c.timings.setup), fmt_ms(c.timings.duration), notes]
            table.add_row(*row)
        if self.total > len(shown):
            table.caption = (
                f"{self.total - len(shown)} more calls not shown (use --limit 0 for all)"
            )
        return table


def calls_table(
    calls: Sequence[AnalyzedCall], *, limit: int | None = None, total: int | None = None
) -> CallsTable:
    """One row per call: start, from -> to, Call-ID, kind, state, code, setup, duration.

    Args:
        calls: the rows, in display order.
        limit: show at most this many of ``calls``.
        total: how many calls there were when ``calls`` is already a cut.
    """
    return CallsTable(calls, limit=limit, total=len(calls) if total is None else total)


def _indented(text: str, *, style: str = "", hang: int = 0) -> RenderableType:
    """A paragraph indented 4 columns whose wrapped lines stay indented (plus ``hang``)."""
    grid = Table.grid(padding=0)
    grid.add_column(width=4 + hang, no_wrap=True)
    grid.add_column(ratio=1)
    lead = text[:hang] if hang else ""
    grid.add_row(Text("    " + lead, style=style), Text(text[hang:], style=style))
    return grid


def annotation_block(ac: AnalyzedCall, annotations: Sequence[Annotation]) -> RenderableType:
    """A call's annotations: severity, title, cause, resolution steps, evidence frames."""
    c = ac.call
    head = Text()
    head.append("Call ", style="bold")
    head.append(clean(c.call_id, 120), style="bold")
    head.append(f"  {c.kind.value}, ")
    head.append(c.state.value, style=STATE_STYLE[c.state])
    if c.final_status:
        head.append(f" {c.final_status}", style=status_style(c.final_status))
    head.append(f"  {clean(c.from_user or c.from_uri, 60)} → {clean(c.to_user or c.to_uri, 60)}")
    parts: list[RenderableType] = [head]
    for a in annotations:
        t = Text("  ")
        t.append(f"{str(a.severity).upper():7}", style=SEVERITY_STYLE[a.severity])
        t.append(f" [{a.rule}] ", style="dim")
        t.append(clean(a.title, 300), style="bold")
        parts.append(t)
        parts.append(_indented("cause: " + clean(a.cause, 2000)))
        for k, v in a.details:
            parts.append(_indented(f"{clean(k, 60)}: {clean(v, 1000)}", style="dim"))
        for i, step in enumerate(a.resolution, 1):
            parts.append(_indented(f"{i}. " + clean(step, 1000), hang=len(f"{i}. ")))
        if a.frames:
            frames = ", ".join(str(f) for f in a.frames[:30])
            if len(a.frames) > 30:
                frames += f" (+{len(a.frames) - 30})"
            parts.append(_indented(f"evidence: frames {frames}", style="dim"))
    return Group(*parts)
