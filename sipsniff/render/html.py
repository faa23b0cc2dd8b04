"""The HTML report: one self-contained file (inline CSS, JS and SVG) that opens from disk.

Layout::

    ┌ sipsniff report · demo.pcap ─────────────────────────────────────────┐
    │ [Calls 8] [Answered 5] [Failed 2] [Cancelled 1] [ASR 60 %] [...]     │
    │ [calls over time  ▂▅▇▂ ] [error responses over time ▁▃ ]             │
    │ [response codes ▇▇▂] [requests ▇▅] [annotations by rule]             │
    │ Calls  [filter.........] [state ▾] [severity ▾]        8 of 8 calls  │
    │  # start  from → to  Call-ID  kind  state  code  setup  duration ... │
    │ Call 6 · demo-busy-1@...   (annotations, SVG ladder, raw messages)   │
    └──────────────────────────────────────────────────────────────────────┘

Security rules (every string from a capture is hostile):
- Every wire string goes through ``safe.html_escape`` (text and attribute
  values alike), including ids' and data attributes' contents.
- Data reaches the script only through escaped ``data-*`` attributes; the
  script writes ``textContent`` and flags, never HTML.
- A Content-Security-Policy ``<meta>`` allows no fetch at all
  (``default-src 'none'``), inline styles, and exactly one script by its
  SHA-256 hash, so even markup that slipped through escaping could not run.
- Nothing is loaded from a network: no fonts, images, CDN scripts or styles.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from typing import IO

from .. import __version__
from ..analysis import Analysis, AnalyzedCall, ranked
from ..annotate.annotation import Annotation
from ..annotate.knowledge import Severity
from ..diagnostics import Diagnostic
from ..dialogs.states import CallState
from ._html_assets import CSP, CSS, JS
from ._html_svg import bars_chart, ladder_svg
from ._report import (
    MAX_DETAILED_CALLS,
    ReportFacts,
    clock,
    facts,
    fmt_delta,
    plural,
    time_buckets,
    utc,
    who,
)
from .ladder import build_ladder
from .safe import clean, html_escape
from .summary import capture_span, fmt_ms, tls_text

__all__ = ["HtmlExporter", "html_exporter", "html_report"]

_LADDER_COLUMNS = 8
_MAX_RAW = 100_000
"""Characters of one message's raw text shown (a SIP message over UDP is at most 64 kB)."""
_MAX_WARNINGS_LISTED = 500
_STATE_COLOURS = (
    ("answered", "#15803d", "answered"),
    ("rejected", "#b91c1c", "rejected"),
    ("cancelled", "#d97706", "cancelled"),
    ("timed-out", "#a21caf", "timed out"),
    ("in-progress", "#94a3b8", "in progress"),
)
_ERROR_COLOURS = (("4", "#d97706", "4xx"), ("5", "#b91c1c", "5xx"), ("6", "#a21caf", "6xx"))


def _e(text: str, limit: int | None = 2000) -> str:
    return html_escape(text, limit)


def _code_class(code: int) -> str:
    return f"c{code // 100}" if 100 <= code < 700 else ""


def _pct(part: int, whole: int) -> str:
    return f"{part * 100 / whole:.0f} %" if whole else "–"


# ----------------------------------------------------------------- page parts


def _head(analysis: Analysis) -> str:
    names = ", ".join(os.path.basename(s) or s for s in analysis.stats.sources) or "capture"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="referrer" content="no-referrer">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="generator" content="sipsniff {__version__}">'
        f"<title>sipsniff report: {_e(names, 200)}</title>"
        f"<style>{CSS}</style></head><body>"
    )


def _top(analysis: Analysis) -> str:
    st = analysis.stats
    names = ", ".join(os.path.basename(s) or s for s in st.sources) or "capture"
    sources = ", ".join(f"<code>{_e(s, 300)}</code>" for s in st.sources)
    span = ""
    if st.first_ts_ns:
        dur = fmt_ms((st.last_ts_ns - st.first_ts_ns) / 1e6)
        span = f" · {capture_span(st.first_ts_ns, st.last_ts_ns)} ({dur})"
    return (
        '<header class="top">'
        f"<h1>sipsniff report <span>· {_e(names, 200)}</span></h1>"
        f'<div class="meta">{sources}{_e(span)} · sipsniff {__version__}</div>'
        '<nav class="toc"><a href="#summary">Summary</a><a href="#call-list">Calls</a>'
        '<a href="#details">Call flows</a><a href="#warnings">Capture warnings</a></nav>'
        "</header>"
    )


def _kpi(cls: str, value: str, label: str, sub: str = "") -> str:
    return (
        f'<div class="card kpi {cls}"><div class="v">{value}</div>'
        f'<div class="l">{label}</div><div class="s">{sub}</div></div>'
    )


def _summary(analysis: Analysis, f: ReportFacts) -> str:
    st = analysis.stats
    n_ann = sum(f.annotations_by_severity.values())
    errs = f.annotations_by_severity.get("error", 0)
    warns = f.annotations_by_severity.get("warning", 0)
    asr = f.asr
    calls_sub = (
        f"selected of {f.total} in the capture"
        if f.selected != f.total
        else ", ".join(f"{k} {v}" for k, v in ranked(f.by_kind)[:3])
    )
    kpis = [
        _kpi("calls", str(f.selected), "Calls", _e(calls_sub)),
        _kpi("answered", str(f.answered), "Answered", _pct(f.answered, f.selected) + " of calls"),
        _kpi("failed", str(f.failed), "Failed", "rejected or timed out"),
        _kpi("cancelled", str(f.cancelled), "Cancelled", "by the caller"),
        _kpi(
            "asr",
            "–" if asr is None else f"{asr * 100:.1f} %",
            "Answer-seizure ratio",
            f"{f.answered_invites} of {f.invite_calls} INVITE calls",
        ),
        _kpi(
            "msgs",
            str(st.sip_messages),
            "SIP messages",
            f"{st.malformed} malformed · {st.retransmissions} retransmitted",
        ),
        _kpi(
            "errors" if errs else "",
            str(n_ann),
            "Annotations",
            f"{plural(errs, 'error')} · {plural(warns, 'warning')}",
        ),
        _kpi("", str(st.diagnostics), "Capture warnings", f"{st.skipped} frames skipped"),
    ]
    capture_notes = [
        f"<b>Layers</b> {_e(', '.join(f'{k} {v}' for k, v in sorted(st.layers.items())), 600)}"
        if st.layers
        else "",
        f"<b>TLS</b> {_e(tls_text(st), 600)}" if st.tls else "",
        f"<b>Capture duplicates</b> {st.capture_duplicates} (ignored: mirrored copies, "
        "not retransmissions)"
        if st.capture_duplicates
        else "",
    ]
    notes = " · ".join(n for n in capture_notes if n)
    buckets = time_buckets(analysis.calls)
    charts = (
        '<div class="grid-2">'
        '<div class="card"><h3>Calls over time</h3>'
        + bars_chart(buckets, _STATE_COLOURS, label="Calls started over time, by outcome")
        + '</div><div class="card"><h3 title="4xx, 5xx and 6xx responses; 401/407 '
        'authentication challenges are not counted">Error responses over time</h3>'
        + bars_chart(
            buckets, _ERROR_COLOURS, errors=True, label="4xx, 5xx, 6xx responses over time"
        )
        + "</div></div>"
    )
    codes = _bar_list(
        [(f"{c}", n, _code_class(c)) for c, n in sorted(f.responses.items())], "No responses."
    )
    methods = _bar_list([(m, n, "") for m, n in ranked(f.methods)], "No requests.")
    return (
        '<section id="summary"><h2>Summary</h2>'
        f'<div class="kpis">{"".join(kpis)}</div>'
        + (f'<p class="capture-notes">{notes}</p>' if notes else "")
        + f"{charts}"
        '<div class="grid-3">'
        f'<div class="card"><h3>Response codes</h3>{codes}</div>'
        f'<div class="card"><h3>Requests</h3>{methods}</div>'
        f'<div class="card"><h3>Annotations by rule</h3>{_rules_table(analysis)}</div>'
        "</div></section>"
    )


def _bar_list(items: list[tuple[str, int, str]], empty: str) -> str:
    if not items:
        return f'<p class="empty">{empty}</p>'
    peak = max(n for _k, n, _c in items)
    rows = []
    for key, n, cls in items:
        rows.append(
            f'<span class="k {cls}" title="{_e(key, 200)}">{_e(key, 60)}</span>'
            f'<span class="t"><b class="{cls}" style="width:{max(2.0, n * 100 / peak):.1f}%"></b></span>'
            f'<span class="n">{n}</span>'
        )
    return f'<div class="bars">{"".join(rows)}</div>'


def _rules_table(analysis: Analysis) -> str:
    count: Counter[str] = Counter()
    worst: dict[str, Severity] = {}
    titles: dict[str, str] = {}
    for ac in analysis.calls:
        for a in ac.annotations:
            count[a.rule] += 1
            worst[a.rule] = max(worst.get(a.rule, a.severity), a.severity)
            titles.setdefault(a.rule, a.title)
    if not count:
        return '<p class="empty">No annotations: nothing looked wrong.</p>'
    rows = "".join(
        f'<tr><td><span class="sev sev-{worst[r]}">{str(worst[r]).upper()}</span></td>'
        f'<td><code title="{_e(titles[r], 300)}">{_e(r, 80)}</code></td><td class="num">{n}</td></tr>'
        for r, n in ranked(count)
    )
    return f"<table><tbody>{rows}</tbody></table>"


def _search_text(ac: AnalyzedCall) -> str:
    c = ac.call
    parts = [
        c.call_id,
        c.from_uri,
        c.to_uri,
        c.from_user,
        c.to_user,
        c.request_user,
        c.from_display,
        c.kind.value,
        c.state.value,
        str(c.final_status or ""),
    ]
    parts += [f"{a.rule} {a.title}" for a in ac.annotations]
    parts += sorted({str(m.src) for m in c.messages} | {str(m.dst) for m in c.messages})
    return clean(" ".join(p for p in parts if p), 3000).lower()


def _calls_table(analysis: Analysis) -> str:
    states = [s.value for s in CallState if any(ac.call.state is s for ac in analysis.calls)]
    options = "".join(f'<option value="{s}">{s}</option>' for s in states)
    toolbar = (
        '<div class="toolbar js-only">'
        '<input type="search" id="q" placeholder="Filter: Call-ID, user, address, code, rule…" '
        'aria-label="Filter calls" autocomplete="off" spellcheck="false">'
        f'<select id="f-state" aria-label="State"><option value="">All states</option>{options}</select>'
        '<select id="f-sev" aria-label="Severity"><option value="">Any annotation</option>'
        '<option value="2">Errors</option><option value="1">Warnings or worse</option>'
        '<option value="0">Annotated</option><option value="none">Not annotated</option></select>'
        '<span class="shown" id="shown"></span></div>'
    )
    head = (
        "<thead><tr>"
        '<th class="num" data-sort="num" tabindex="0">#</th>'
        '<th data-sort="num" tabindex="0">Start (UTC)</th>'
        '<th data-sort="text" tabindex="0">From → To</th>'
        '<th data-sort="text" tabindex="0">Call-ID</th>'
        '<th data-sort="text" tabindex="0">Kind</th>'
        '<th data-sort="text" tabindex="0">State</th>'
        '<th class="num" data-sort="num" tabindex="0">Code</th>'
        '<th class="num" data-sort="num" tabindex="0">Setup</th>'
        '<th class="num" data-sort="num" tabindex="0">Duration</th>'
        '<th class="num" data-sort="num" tabindex="0">Msgs</th>'
        '<th data-sort="num" tabindex="0">Notes</th>'
        "</tr></thead>"
    )
    rows = []
    for i, ac in enumerate(analysis.calls, 1):
        c = ac.call
        frm, to = who(c)
        worst = ac.worst
        sev = -1 if worst is None else int(worst)
        notes = ""
        if worst is not None:
            rules = list(dict.fromkeys(a.rule for a in ac.annotations if a.severity == worst))
            notes = f'<span class="sev sev-{worst}">{str(worst).upper()}</span> ' + _e(
                ", ".join(rules), 200
            )
        t = c.timings
        code = c.final_status
        rows.append(
            f'<tr data-state="{c.state.value}" data-sev="{sev}" data-target="call-{i}" '
            f'data-search="{_e(_search_text(ac), None)}">'
            f'<td class="num" data-v="{i}">{i}</td>'
            f'<td class="mono" data-v="{c.start_ns}">{clock(c.start_ns)}</td>'
            f'<td class="who" title="{_e(frm, 300)} → {_e(to, 300)}">{_e(frm, 80)} → {_e(to, 80)}</td>'
            f'<td class="cid" title="{_e(c.call_id, 500)}"><a href="#call-{i}"><code>'
            f"{_e(c.call_id, 120)}</code></a></td>"
            f"<td>{c.kind.value}</td>"
            f'<td><span class="badge st-{c.state.value}">{c.state.value}</span></td>'
            f'<td class="num {_code_class(code)}" data-v="{code}">{code or "–"}</td>'
            f'<td class="num" data-v="{-1 if t.setup is None else t.setup:.3f}">{fmt_ms(t.setup)}</td>'
            f'<td class="num" data-v="{-1 if t.duration is None else t.duration:.3f}">'
            f"{fmt_ms(t.duration)}</td>"
            f'<td class="num" data-v="{c.message_count or len(c.messages)}">'
            f"{c.message_count or len(c.messages)}</td>"
            f'<td class="notes" data-v="{sev}">{notes}</td></tr>'
        )
    body = "".join(rows) or '<tr><td colspan="11" class="empty">No calls.</td></tr>'
    return (
        f'<section id="call-list"><h2>Calls <span class="count">({len(analysis.calls)})</span></h2>'
        f'<div class="card">{toolbar}<div class="calls-wrap"><table id="calls">{head}'
        f"<tbody>{body}</tbody></table></div></div></section>"
    )


def _annotation(a: Annotation, call_no: int) -> str:
    sev = str(a.severity)
    details = "".join(f"<dt>{_e(k, 80)}</dt><dd>{_e(v, 2000)}</dd>" for k, v in a.details)
    steps = "".join(f"<li>{_e(s, 2000)}</li>" for s in a.resolution)
    frames = ", ".join(f'<a href="#m-{call_no}-{f}">{f}</a>' for f in a.frames[:50])
    if len(a.frames) > 50:
        frames += f" (+{len(a.frames) - 50})"
    return (
        f'<div class="ann {sev}"><div class="head"><span class="sev sev-{sev}">{sev.upper()}</span>'
        f"<strong>{_e(a.title, 400)}</strong><code>{_e(a.rule, 80)}</code></div>"
        f"<p>{_e(a.cause, 6000)}</p>"
        + (f"<dl>{details}</dl>" if details else "")
        + (f"<ol>{steps}</ol>" if steps else "")
        + (f'<div class="ev">Evidence: frames {frames}</div>' if frames else "")
        + "</div>"
    )


def _messages(ac: AnalyzedCall, call_no: int) -> str:
    c = ac.call
    used: set[str] = set()
    out = []
    prev = None
    for idx, m in enumerate(c.messages):
        mid = f"m-{call_no}-{m.frame}"
        if mid in used:
            mid = f"{mid}-{idx}"
        used.add(mid)
        delta = 0.0 if prev is None else (m.ts_ns - prev) / 1e6
        prev = m.ts_ns
        retrans = (
            ' <span class="badge st-in-progress">retransmission</span>'
            if (idx in c.retransmissions)
            else ""
        )
        problems = (
            f' <span class="problems">⚠ {_e("; ".join(m.problems), 300)}</span>'
            if m.problems
            else ""
        )
        raw = m.raw.decode("utf-8", "replace")
        k = _code_class(m.status) if m.status else ""
        out.append(
            f'<details class="msg" id="{mid}"><summary><span class="fr">#{m.frame}</span>'
            f'<span class="t">{clock(m.ts_ns)} {_e(fmt_delta(delta))}</span>'
            f'<span class="ep">{_e(str(m.src), 80)} → {_e(str(m.dst), 80)} {_e(m.transport, 10)}</span>'
            f'<span class="lb {k}">{_e(m.label, 200)}</span>{retrans}{problems}</summary>'
            f"<pre>{_e(raw, _MAX_RAW)}</pre></details>"
        )
    return f'<div class="msgs"><h4>Messages (raw text on demand)</h4>{"".join(out)}</div>'


def _call_article(i: int, ac: AnalyzedCall) -> str:
    c = ac.call
    frm, to = who(c)
    code = c.final_status
    reason = next((m.reason for m in c.messages if m.status == code), "") if code else ""
    n_msgs = c.message_count or len(c.messages)
    facts_line = [
        f"{_e(frm, 120)} → {_e(to, 120)}",
        f"{utc(c.start_ns)[:-4]}.{clock(c.start_ns)[-3:]} UTC",
        f"{n_msgs} message{'s' if n_msgs != 1 else ''}",
    ]
    t = c.timings
    for label, v in (
        ("post-dial delay", t.post_dial_delay),
        ("setup", t.setup),
        ("duration", t.duration),
    ):
        if v is not None:
            facts_line.append(f"{label} {fmt_ms(v)}")
    if c.retransmissions:
        facts_line.append(f"{len(c.retransmissions)} retransmissions")
    if c.ended_by:
        facts_line.append(f"ended by the {_e(c.ended_by, 20)}")
    if c.evicted:
        facts_line.append("evicted early: the record may be partial")
    worst = ac.worst
    head = (
        f'<header><h3><span class="num">Call {i}</span><code>{_e(c.call_id, 300)}</code></h3>'
        f'<span class="badge st-{c.state.value}">{c.state.value}</span>'
        + (
            f'<span class="badge {_code_class(code)}">{code} {_e(reason, 80)}</span>'
            if code
            else ""
        )
        + f'<span class="badge st-in-progress">{c.kind.value}</span>'
        + (
            f'<span class="sev sev-{worst}">{str(worst).upper()}</span>'
            if worst is not None
            else ""
        )
        + f'<div class="sub">{" · ".join(facts_line)}</div></header>'
    )
    try:
        anns = "".join(_annotation(a, i) for a in ac.annotations)
        ladder = ladder_svg(build_ladder([ac], max_columns=_LADDER_COLUMNS), i)
        body = (
            (f'<div class="annotations">{anns}</div>' if anns else "")
            + (f'<div class="ladder-wrap">{ladder}</div>' if c.messages else "")
            + (_messages(ac, i) if c.messages else "")
        )
    except Exception as exc:  # noqa: BLE001 - one bad call must never cost the report
        body = (
            f'<div class="note-box">This call could not be drawn ({_e(type(exc).__name__)}: '
            f"{_e(str(exc), 300)}); please report it with the capture.</div>"
        )
    return f'<article class="card call" id="call-{i}" data-state="{c.state.value}">{head}{body}</article>'


def _details(analysis: Analysis) -> Iterator[str]:
    yield f'<section id="details"><h2>Call flows <span class="count">({len(analysis.calls)})</span></h2>'
    if not analysis.calls:
        yield '<p class="empty">No calls in this capture.</p>'
    for i, ac in enumerate(analysis.calls[:MAX_DETAILED_CALLS], 1):
        yield _call_article(i, ac)
    more = len(analysis.calls) - MAX_DETAILED_CALLS
    if more > 0:
        yield (
            f'<div class="note-box">{more} more calls are listed above but not drawn here '
            f"(a report draws at most {MAX_DETAILED_CALLS}). Select fewer with "
            "<code>--call-id</code>, <code>--failed</code>, <code>--status</code> or "
            "<code>--since</code>/<code>--until</code>.</div>"
        )
    yield "</section>"


def _warnings(analysis: Analysis) -> str:
    st = analysis.stats
    if not st.diagnostics:
        return (
            '<section id="warnings"><h2>Capture warnings</h2>'
            '<div class="card"><p class="empty">None: every frame was read and understood '
            "or deliberately skipped.</p></div></section>"
        )
    counts = ", ".join(
        f"<code>{_e(k, 60)}</code> {v}" for k, v in ranked(st.diagnostics_by_trigger)
    )
    rows = "".join(_diag_row(d) for d in analysis.diagnostics[:_MAX_WARNINGS_LISTED])
    listed = min(len(analysis.diagnostics), _MAX_WARNINGS_LISTED)
    more = (
        f'<p class="empty">{st.diagnostics - listed} more not listed (counted above).</p>'
        if st.diagnostics > listed
        else ""
    )
    return (
        f'<section id="warnings"><h2>Capture warnings <span class="count">({st.diagnostics})</span></h2>'
        f'<div class="card warnings"><p>{counts}</p><table><thead><tr><th class="num">Frame</th>'
        "<th>Stage</th><th>Trigger</th><th>Detail</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>{more}</div></section>"
    )


def _diag_row(d: Diagnostic) -> str:
    return (
        f'<tr><td class="num">{d.frame or "–"}</td><td>{_e(d.stage.value, 40)}</td>'
        f"<td><code>{_e(d.trigger.value, 60)}</code></td><td>{_e(d.detail, 600)}</td></tr>"
    )


def html_report(analysis: Analysis) -> Iterator[str]:
    """The page, in chunks to write in order."""
    f = facts(analysis)
    yield _head(analysis)
    yield _top(analysis)
    yield "<main>"
    yield _summary(analysis, f)
    yield _calls_table(analysis)
    yield from _details(analysis)
    yield _warnings(analysis)
    yield "</main>"
    yield (
        f"<footer>Generated by sipsniff {__version__}. Self-contained: this file loads "
        "nothing from any network.</footer>"
    )
    yield f"<script>{JS}</script></body></html>\n"


class HtmlExporter:
    """``--format html`` / ``.html``: the self-contained interactive report."""

    name = "html"
    suffixes: tuple[str, ...] = (".html", ".htm")
    description = "self-contained HTML report (dashboard, filterable call list, SVG ladders)"

    def write(self, analysis: Analysis, fp: IO[str]) -> None:
        for chunk in html_report(analysis):
            fp.write(chunk)


html_exporter = HtmlExporter()
