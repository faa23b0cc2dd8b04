"""Inline SVG for the HTML report: call ladders and the over-time charts.

Strategy: plain string building with fixed metrics (no text measuring: a
character is taken as 7 px at 12 px), every wire string through
``safe.html_escape`` and cut to the room it has, with the full text in a
``<title>`` tooltip.  A tooltip's lines are joined with real line breaks after
each wire piece is cleaned (``_tip``): cleaning the joined text would turn our
own breaks into a literal ``\x0a``, and not cleaning the pieces would let a
line feed from the wire lay out the tooltip.  Colours come from CSS classes
(``k0`` requests, ``k1``..``k6`` responses by class, ``error``/``warning``/``info``
notes), so the SVG carries no style of its own and matches the terminal's palette.

Sketch of a ladder (gutter, header boxes, arrows; SDP and notes on the right)::

    frame time (UTC)   ┌───────────────┐        ┌───────────────┐
                       │127.0.0.22:5061│        │127.0.0.10:5060│
                       └───────┬───────┘        └───────┬───────┘
       28 18:04:28.933         │      INVITE            │      SDP audio 127.0.0.1:6000 PCMU
          +0                   ├───────────────────────▶│
       30 18:04:29.036         │   486 Busy Here        │      ● INFO callee-busy: Callee busy
          +103 ms              │◀───────────────────────┤
"""

from __future__ import annotations

from collections.abc import Sequence

from ._report import Bucket, clock, fmt_delta
from .ladder import Arrow, Ladder
from .safe import clean, html_escape

__all__ = ["bars_chart", "ladder_svg"]

_GUTTER = 150
_TOP = 12
_HEAD_H = 46
_ROW = 40
_NOTE_LINE = 17
_NOTES_W = 440
_CHAR_W = 7.0
_SEV = ("info", "warning", "error")


def _fit(text: str, px: float) -> str:
    """Cut already-cleaned text to about ``px`` pixels."""
    n = max(1, int(px / _CHAR_W))
    return text if len(text) <= n else text[: max(1, n - 1)] + "…"


def _t(text: str, px: float) -> str:
    """Wire text cut to fit, then escaped for SVG-in-HTML."""
    return html_escape(_fit(clean(text, 400), px))


def _tip(*lines: str) -> str:
    """A ``<title>`` tooltip: each line's wire text cleaned (a wire LF stays an
    escape), the lines joined by real line breaks, then escaped for HTML."""
    return html_escape("\n".join(clean(x, 2000) for x in lines if x))


def _kind(a: Arrow) -> str:
    return f"k{a.status // 100}" if a.status else "k0"


def ladder_svg(ladder: Ladder, call_no: int) -> str:
    """One call's ladder as an ``<svg class="ladder">`` element.

    Args:
        ladder: the layout model.
        call_no: the call's number in the report; arrows link to ``#m-<call_no>-<frame>``.
    """
    n = len(ladder.columns)
    if n == 0:
        return '<p class="empty">No messages.</p>'
    longest = max((len(clean(a.label, 200)) for a in ladder.arrows), default=10)
    span = max(260, min(360, int(longest * _CHAR_W) + 90))
    box = span - 30
    x0 = _GUTTER + box // 2 + 8
    xs = [x0 + i * span for i in range(n)]
    has_notes = any(a.notes or a.sdp for a in ladder.arrows)
    notes_x = xs[-1] + 70
    width = notes_x + (_NOTES_W if has_notes else 0) + 10
    rows: list[str] = []
    y = _TOP + _HEAD_H + 18
    for a in ladder.arrows:
        h = max(_ROW, 14 + _NOTE_LINE * (len(a.notes) + bool(a.sdp)))
        rows.append(_row(a, xs, y, h, width, notes_x, call_no))
        y += h
    height = y + 14
    parts = [
        f'<svg class="ladder" xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="Call flow of call {call_no}">'
    ]
    parts.append(
        f'<text class="gut" x="44" y="{_TOP + 19}" text-anchor="end">frame</text>'
        f'<text class="gut" x="54" y="{_TOP + 19}">time (UTC)</text>'
        f'<text class="delta" x="54" y="{_TOP + 33}">+delta</text>'
    )
    for x in xs:
        parts.append(
            f'<line class="life" x1="{x}" y1="{_TOP + _HEAD_H}" x2="{x}" y2="{height - 6}"/>'
        )
    parts.extend(rows)
    for x, col in zip(xs, ladder.columns, strict=True):
        full = _tip(col.key, col.label)
        parts.append(
            f'<g class="hdr"><title>{full}</title>'
            f'<rect x="{x - box // 2}" y="{_TOP}" width="{box}" height="{_HEAD_H}" rx="6"/>'
            f'<text class="key" x="{x}" y="{_TOP + 19}" text-anchor="middle">'
            f"{_t(col.key, box - 12)}</text>"
            f'<text class="ua" x="{x}" y="{_TOP + 36}" text-anchor="middle">'
            f"{_t(col.label or '—', box - 12)}</text></g>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _row(a: Arrow, xs: Sequence[int], top: int, h: int, width: int, notes_x: int, n: int) -> str:
    k = _kind(a)
    worst = max((int(x.severity) for x in a.notes), default=-1)
    bg = f" {_SEV[worst]}" if worst >= 0 else ""
    ly = top + 22
    out = [
        f'<g class="row"><rect class="bg{bg}" x="0" y="{top}" width="{width}" height="{h}"/>',
        f'<text class="gut fr" x="44" y="{top + 18}" text-anchor="end">{a.frame}</text>',
        f'<text class="gut" x="54" y="{top + 18}">{clock(a.ts_ns)}</text>',
        f'<text class="delta" x="54" y="{top + 32}">{html_escape(fmt_delta(a.delta_ms))}</text>',
    ]
    label = clean(a.label, 200) + (" (retransmission)" if a.retransmission else "")
    tip = _tip(
        f"frame {a.frame}: {clean(a.label, 400)}",
        f"CSeq {clean(a.cseq, 200)} · {clean(a.transport, 20)}",
        "retransmission" if a.retransmission else "",
        f"SDP {clean(a.sdp, 1000)}" if a.sdp else "",
    )
    dash = " retrans" if a.retransmission else ""
    xa, xb = xs[a.src], xs[a.dst]
    link = f'<a href="#m-{n}-{a.frame}"><title>{tip}</title>'
    if a.direction == "self":
        out.append(link)
        out.append(
            f'<path class="shaft {k}{dash}" d="M{xa},{ly - 6} h34 v14 h-26"/>'
            f'<polygon class="{k}" points="{xa + 1},{ly + 8} {xa + 10},{ly + 3} {xa + 10},{ly + 13}"/>'
            f'<text class="lbl {k}" x="{xa + 42}" y="{ly + 5}">{_t(label, 240)}</text></a>'
        )
    else:
        right = xb > xa
        tip_x = xb - 1 if right else xb + 1
        base = xb - 11 if right else xb + 11
        mid = (xa + xb) / 2
        room = abs(xb - xa) - 16.0
        out.append(link)
        out.append(
            f'<line class="shaft {k}{dash}" x1="{xa}" y1="{ly}" x2="{base}" y2="{ly}"/>'
            f'<polygon class="{k}" points="{tip_x},{ly} {base},{ly - 5} {base},{ly + 5}"/>'
            f'<text class="lbl {k}" x="{mid:.0f}" y="{ly - 6}" text-anchor="middle">'
            f"{_t(label, room)}</text></a>"
        )
    line = 0
    if a.sdp:
        out.append(
            f'<text class="sdp" x="{notes_x}" y="{top + 18}"><title>{html_escape(clean(a.sdp, 2000))}'
            f"</title>SDP {_t(a.sdp, _NOTES_W - 40)}</text>"
        )
        line = 1
    for i, note in enumerate(a.notes, line):
        sev = _SEV[int(note.severity)]
        ny = top + 18 + i * _NOTE_LINE
        text = f"{str(note.severity).upper()} {note.rule}: {note.title}"
        out.append(
            f'<g class="note"><title>{html_escape(clean(text, 2000))}</title>'
            f'<circle class="m-{sev}" cx="{notes_x + 5}" cy="{ny - 4}" r="5"/>'
            f'<text class="note" x="{notes_x + 16}" y="{ny}">{_t(text, _NOTES_W - 24)}</text></g>'
        )
    out.append("</g>")
    return "".join(out)


def bars_chart(
    buckets: Sequence[Bucket],
    series: Sequence[tuple[str, str, str]],
    *,
    errors: bool = False,
    label: str,
) -> str:
    """A stacked bar chart over time.

    Args:
        buckets: time slices (``_report.time_buckets``).
        series: ``(key, css colour, legend text)`` in stacking order; the key is a
            call state, or a response class digit when ``errors`` is set.
        errors: stack ``Bucket.errors`` instead of ``Bucket.calls``.
        label: accessible name of the chart.
    """
    w, h, left, bottom, top, right = 560, 190, 34, 24, 10, 8
    if not buckets:
        return '<p class="empty">Nothing to chart.</p>'

    def count(b: Bucket, key: str) -> int:
        return b.errors[int(key)] if errors else b.calls[key]

    totals = [sum(count(b, k) for k, _c, _l in series) for b in buckets]
    peak = max(totals)
    if peak == 0:
        return '<p class="empty">None in this capture.</p>'
    step = max(1, -(-peak // 4))
    ymax = step * -(-peak // step)
    plot_w, plot_h = w - left - right, h - top - bottom
    bw = plot_w / len(buckets)
    out = [
        f'<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-label="{html_escape(label)}"'
        ' xmlns="http://www.w3.org/2000/svg">'
    ]
    for v in range(0, ymax + 1, step):
        y = top + plot_h - plot_h * v / ymax
        out.append(f'<line class="grid" x1="{left}" y1="{y:.1f}" x2="{w - right}" y2="{y:.1f}"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{v}</text>')
    for i, b in enumerate(buckets):
        x = left + i * bw
        y = float(top + plot_h)
        tip = [f"{clock(b.start_ns)} – {clock(b.end_ns)}"]
        for key, colour, legend in series:
            v = count(b, key)
            if not v:
                continue
            bh = plot_h * v / ymax
            y -= bh
            tip.append(f"{legend}: {v}")
            out.append(
                f'<rect class="bar" x="{x + bw * 0.12:.1f}" y="{y:.1f}" width="{bw * 0.76:.1f}" '
                f'height="{bh:.1f}" rx="1.5" fill="{colour}"><title>{html_escape(chr(10).join(tip))}'
                "</title></rect>"
            )
    base = top + plot_h
    out.append(f'<line class="grid" x1="{left}" y1="{base}" x2="{w - right}" y2="{base}"/>')
    ticks = {0: "start", len(buckets): "end"}
    if len(buckets) >= 4:
        ticks[len(buckets) // 2] = "middle"
    for i, anchor in ticks.items():
        ts = buckets[0].start_ns if i == 0 else buckets[i - 1].end_ns
        x = left + i * bw
        out.append(f'<text x="{x:.1f}" y="{h - 6}" text-anchor="{anchor}">{clock(ts)[:8]}</text>')
    out.append("</svg>")
    legend = "".join(
        f'<span><i style="background:{c}"></i>{html_escape(t)}</span>' for _k, c, t in series
    )
    return "".join(out) + f'<div class="legend">{legend}</div>'
