"""The HTML report's stylesheet and script, as Python constants (no package data to install).

Rules for the script: it reads only ``data-*`` attributes and element state,
writes only ``textContent``, ``hidden``, ``open`` and attributes; never
``innerHTML``, ``eval`` or a network API.  The page's Content-Security-Policy
allows exactly this script by its SHA-256 hash, so any other script, injected
or not, is refused by the browser.
"""

from __future__ import annotations

import base64
import hashlib

__all__ = ["CSP", "CSS", "JS", "SCRIPT_HASH"]

CSS = """
:root {
  --ink: #0f172a; --ink-2: #334155; --muted: #64748b; --faint: #94a3b8;
  --line: #e2e8f0; --line-2: #cbd5e1; --bg: #f6f7f9; --card: #ffffff; --accent: #1d4ed8;
  --c1: #6b7280; --c2: #15803d; --c3: #0e7490; --c4: #b45309; --c5: #b91c1c; --c6: #a21caf;
  --req: #1e3a8a;
  --info: #0369a1; --warning: #b45309; --error: #b91c1c;
  --answered: #15803d; --rejected: #b91c1c; --cancelled: #b45309;
  --timed-out: #a21caf; --in-progress: #6b7280;
  --sans: -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, "Helvetica Neue",
    "Noto Sans", "DejaVu Sans", Arial, sans-serif;
  --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono",
    "DejaVu Sans Mono", monospace;
}
* { box-sizing: border-box; }
[hidden] { display: none !important; }
html { background: var(--bg); }
body { margin: 0; color: var(--ink); font: 14px/1.5 var(--sans); }
code, pre, .mono { font-family: var(--mono); font-size: 12.5px; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
header.top { background: #0f172a; color: #e2e8f0; padding: 18px 32px 16px; }
header.top h1 { margin: 0; font-size: 20px; font-weight: 650; letter-spacing: .2px; color: #fff; }
header.top h1 span { color: #93c5fd; font-weight: 500; }
header.top .meta { margin-top: 4px; color: #94a3b8; font-size: 13px; }
header.top .meta code { color: #cbd5e1; font-size: 12.5px; }
nav.toc { display: flex; gap: 18px; margin-top: 10px; font-size: 13px; }
nav.toc a { color: #bfdbfe; }
main { max-width: 1480px; margin: 0 auto; padding: 24px 32px 48px; }
main > section:first-child > h2 { margin-top: 4px; }
h2 { font-size: 16px; margin: 32px 0 12px; font-weight: 650; color: var(--ink); }
h2 .count { color: var(--muted); font-weight: 500; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px;
  padding: 16px 18px; box-shadow: 0 1px 2px rgba(15,23,42,.04); min-width: 0; }
.card h3 { margin: 0 0 10px; font-size: 13px; font-weight: 650; color: var(--ink-2);
  text-transform: uppercase; letter-spacing: .5px; }
.kpis { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 12px; }
.kpi { padding: 14px 16px; }
.kpi .v { font-size: 26px; font-weight: 680; line-height: 1.15; font-variant-numeric: tabular-nums; }
.kpi .l { color: var(--muted); font-size: 12.5px; margin-top: 2px; }
.kpi .s { color: var(--faint); font-size: 12px; }
.kpi.answered .v { color: var(--answered); } .kpi.failed .v { color: var(--rejected); }
.kpi.cancelled .v { color: var(--cancelled); } .kpi.asr .v { color: var(--accent); }
.kpi.errors .v { color: var(--error); }
.grid-2 { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 12px; margin-top: 12px; }
.grid-3 { display: grid; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); gap: 12px; margin-top: 12px; }
svg.chart { width: 100%; height: auto; display: block; }
svg.chart text { font: 11px var(--sans); fill: var(--muted); }
svg.chart .grid { stroke: var(--line); stroke-width: 1; }
svg.chart rect.bar:hover { opacity: .8; }
.legend { display: flex; flex-wrap: wrap; gap: 12px; font-size: 12px; color: var(--muted); margin-top: 6px; }
.legend i { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 5px; vertical-align: -1px; }
.bars { display: grid; grid-template-columns: auto 1fr auto; gap: 6px 10px; align-items: center; font-size: 13px; }
.bars .k { font-family: var(--mono); font-size: 12.5px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; max-width: 220px; }
.bars .t { background: #f1f5f9; border-radius: 4px; height: 10px; overflow: hidden; }
.bars .t b { display: block; height: 100%; border-radius: 4px; background: var(--req); }
.bars .n { font-variant-numeric: tabular-nums; color: var(--ink-2); text-align: right; }
.empty { color: var(--faint); font-style: italic; }
.c1 { color: var(--c1); } .c2 { color: var(--c2); } .c3 { color: var(--c3); }
.c4 { color: var(--c4); } .c5 { color: var(--c5); } .c6 { color: var(--c6); }
.bars .t b.c1 { background: var(--c1); } .bars .t b.c2 { background: var(--c2); }
.bars .t b.c3 { background: var(--c3); } .bars .t b.c4 { background: var(--c4); }
.bars .t b.c5 { background: var(--c5); } .bars .t b.c6 { background: var(--c6); }
.badge { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 12px;
  font-weight: 600; border: 1px solid currentColor; line-height: 18px; white-space: nowrap; }
.st-answered { color: var(--answered); background: #f0fdf4; }
.st-rejected { color: var(--rejected); background: #fef2f2; }
.st-cancelled { color: var(--cancelled); background: #fffbeb; }
.st-timed-out { color: var(--timed-out); background: #fdf4ff; }
.st-in-progress { color: var(--in-progress); background: #f8fafc; }
.sev { display: inline-block; padding: 0 7px; border-radius: 4px; font-size: 11px; font-weight: 700;
  letter-spacing: .4px; color: #fff; line-height: 18px; }
.sev-info { background: var(--info); } .sev-warning { background: var(--warning); }
.sev-error { background: var(--error); }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 7px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 12px; color: var(--muted); font-weight: 600; text-transform: uppercase; letter-spacing: .4px;
  white-space: nowrap; background: #f8fafc; position: sticky; top: 0; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.toolbar { display: flex; flex-wrap: wrap; gap: 10px; align-items: center; margin-bottom: 12px; }
.toolbar input[type=search] { flex: 1 1 320px; min-width: 200px; padding: 8px 12px; border: 1px solid var(--line-2);
  border-radius: 8px; font: inherit; background: #fff; }
.toolbar select { padding: 7px 10px; border: 1px solid var(--line-2); border-radius: 8px; font: inherit; background: #fff; }
.toolbar input:focus, .toolbar select:focus { outline: 2px solid #93c5fd; border-color: #60a5fa; }
.toolbar .shown { color: var(--muted); font-size: 13px; margin-left: auto; }
.calls-wrap { max-height: 640px; overflow: auto; border: 1px solid var(--line); border-radius: 8px; }
#calls th[data-sort] { cursor: pointer; user-select: none; }
#calls th[data-sort]::after { content: " \\2195"; color: var(--line-2); }
#calls th[aria-sort=ascending]::after { content: " \\2191"; color: var(--accent); }
#calls th[aria-sort=descending]::after { content: " \\2193"; color: var(--accent); }
#calls tbody tr:hover { background: #f8fafc; }
#calls td.cid { max-width: 320px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
#calls td.notes { white-space: nowrap; }
#calls td.who { max-width: 260px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
body:not(.js) .js-only { display: none; }
article.call { margin-top: 16px; }
article.call > header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 8px 14px; margin-bottom: 6px; }
article.call h3 { margin: 0; font-size: 15px; font-weight: 650; text-transform: none; letter-spacing: 0; color: var(--ink); word-break: break-all; }
article.call h3 .num { color: var(--muted); font-weight: 600; margin-right: 6px; }
article.call .sub { color: var(--muted); font-size: 13px; width: 100%; }
.annotations { display: grid; gap: 10px; margin: 12px 0; }
.ann { border: 1px solid var(--line); border-left: 4px solid var(--info); border-radius: 8px; padding: 10px 14px; background: #fcfdfe; }
.ann.warning { border-left-color: var(--warning); background: #fffdf7; }
.ann.error { border-left-color: var(--error); background: #fffafa; }
.ann .head { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; }
.ann .head strong { font-size: 14px; }
.ann .head code { color: var(--muted); }
.ann p { margin: 6px 0; color: var(--ink-2); overflow-wrap: anywhere; }
.ann dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 6px 0; font-size: 13px; }
.ann dt { color: var(--muted); } .ann dd { margin: 0; overflow-wrap: anywhere; }
.ann ol { margin: 6px 0; padding-left: 22px; color: var(--ink-2); }
.ann .ev { font-size: 12.5px; color: var(--muted); }
.ladder-wrap { overflow-x: auto; border: 1px solid var(--line); border-radius: 8px; background: #fff; margin: 10px 0; }
svg.ladder { display: block; }
svg.ladder text { font: 12px var(--sans); fill: var(--ink-2); }
svg.ladder .hdr rect { fill: #f8fafc; stroke: var(--line-2); }
svg.ladder .hdr .key { font: 600 12px var(--mono); fill: var(--ink); }
svg.ladder .hdr .ua { font-size: 11px; fill: var(--muted); }
svg.ladder .life { stroke: var(--line-2); stroke-dasharray: 4 4; }
svg.ladder .gut { font: 11.5px var(--mono); fill: var(--muted); }
svg.ladder .gut.fr { fill: var(--accent); }
svg.ladder .delta { font: 11px var(--mono); fill: var(--faint); }
svg.ladder .lbl { font-weight: 600; }
svg.ladder .sdp { font: 11px var(--mono); fill: var(--muted); }
svg.ladder .note { font-size: 12px; }
svg.ladder .row:hover .bg { fill: #f1f5f9; }
svg.ladder .bg { fill: transparent; }
svg.ladder .bg.error { fill: #fef2f2; } svg.ladder .bg.warning { fill: #fffbeb; } svg.ladder .bg.info { fill: #f0f9ff; }
svg.ladder .k0 { stroke: var(--req); fill: var(--req); } svg.ladder text.k0 { stroke: none; }
svg.ladder .k1 { stroke: var(--c1); fill: var(--c1); } svg.ladder .k2 { stroke: var(--c2); fill: var(--c2); }
svg.ladder .k3 { stroke: var(--c3); fill: var(--c3); } svg.ladder .k4 { stroke: var(--c4); fill: var(--c4); }
svg.ladder .k5 { stroke: var(--c5); fill: var(--c5); } svg.ladder .k6 { stroke: var(--c6); fill: var(--c6); }
svg.ladder text.k1, svg.ladder text.k2, svg.ladder text.k3, svg.ladder text.k4, svg.ladder text.k5, svg.ladder text.k6 { stroke: none; }
svg.ladder line.shaft, svg.ladder path.shaft { stroke-width: 1.6; fill: none; }
svg.ladder .retrans { stroke-dasharray: 6 4; }
svg.ladder .m-info { fill: var(--info); } svg.ladder .m-warning { fill: var(--warning); } svg.ladder .m-error { fill: var(--error); }
svg.ladder a:hover text.lbl { text-decoration: underline; }
.msgs h4 { margin: 14px 0 6px; font-size: 12px; color: var(--muted); text-transform: uppercase; letter-spacing: .4px; }
details.msg { border: 1px solid var(--line); border-radius: 6px; margin: 4px 0; background: #fff; }
details.msg > summary { cursor: pointer; padding: 5px 10px; font-size: 13px; display: flex; gap: 14px; align-items: baseline; }
details.msg > summary .fr { color: var(--accent); font-family: var(--mono); min-width: 48px; }
details.msg > summary .t { color: var(--muted); font-family: var(--mono); font-size: 12px; min-width: 160px; }
details.msg > summary .ep { color: var(--muted); font-family: var(--mono); font-size: 12px; min-width: 330px; }
details.msg > summary .lb { font-weight: 600; }
details.msg[open] > summary { border-bottom: 1px solid var(--line); background: #f8fafc; }
details.msg pre { margin: 0; padding: 10px 12px; max-height: 420px; overflow: auto; white-space: pre-wrap;
  overflow-wrap: anywhere; background: #fbfcfd; }
details.msg:target, details.msg.hl { box-shadow: 0 0 0 2px #93c5fd; }
.problems { color: var(--warning); font-size: 12px; }
.warnings td { font-size: 13px; }
.note-box { background: #fffbeb; border: 1px solid #fde68a; color: #92400e; padding: 10px 14px; border-radius: 8px; margin: 12px 0; }
footer { color: var(--faint); font-size: 12px; text-align: center; padding: 24px; }
@media print {
  body { background: #fff; } header.top { background: #fff; color: #000; }
  .toolbar, nav.toc { display: none; } .calls-wrap { max-height: none; overflow: visible; }
  details.msg pre { max-height: none; }
}
"""

JS = """
(function () {
  'use strict';
  var doc = document;
  doc.body.classList.add('js');
  var q = doc.getElementById('q');
  var fState = doc.getElementById('f-state');
  var fSev = doc.getElementById('f-sev');
  var shown = doc.getElementById('shown');
  var table = doc.getElementById('calls');
  if (table && q && fState && fSev && shown) {
    var tbody = table.tBodies[0];
    var rows = Array.prototype.slice.call(tbody.rows);
    var apply = function () {
      var terms = q.value.toLowerCase().split(/\\s+/).filter(Boolean);
      var state = fState.value;
      var sev = fSev.value;
      var n = 0;
      rows.forEach(function (r) {
        var d = r.dataset;
        var hay = d.search || '';
        var ok = terms.every(function (t) { return hay.indexOf(t) !== -1; });
        if (ok && state && d.state !== state) { ok = false; }
        if (ok && sev) {
          var s = Number(d.sev);
          ok = sev === 'none' ? s < 0 : s >= Number(sev);
        }
        r.hidden = !ok;
        var art = d.target ? doc.getElementById(d.target) : null;
        if (art) { art.hidden = !ok; }
        if (ok) { n += 1; }
      });
      shown.textContent = n === rows.length
        ? 'all ' + n + ' calls'
        : n + ' of ' + rows.length + ' calls';
    };
    q.addEventListener('input', apply);
    fState.addEventListener('change', apply);
    fSev.addEventListener('change', apply);
    apply();
    var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
    heads.forEach(function (th, col) {
      if (!th.hasAttribute('data-sort')) { return; }
      var sortBy = function () {
        var asc = th.getAttribute('aria-sort') !== 'ascending';
        heads.forEach(function (h) { h.removeAttribute('aria-sort'); });
        th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
        var num = th.getAttribute('data-sort') === 'num';
        var key = function (r) {
          var v = r.cells[col].getAttribute('data-v');
          if (v === null) { v = r.cells[col].textContent; }
          return num ? Number(v) : v.toLowerCase();
        };
        rows.sort(function (a, b) {
          var x = key(a), y = key(b);
          var c = x < y ? -1 : x > y ? 1 : 0;
          return asc ? c : -c;
        });
        rows.forEach(function (r) { tbody.appendChild(r); });
      };
      th.addEventListener('click', sortBy);
      th.addEventListener('keydown', function (e) {
        if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); sortBy(); }
      });
    });
  }
  var openTarget = function () {
    var id = decodeURIComponent(location.hash.slice(1));
    var el = id ? doc.getElementById(id) : null;
    if (el && el.tagName === 'DETAILS') {
      el.open = true;
      var parent = el.closest('article');
      if (parent) { parent.hidden = false; }
    }
  };
  window.addEventListener('hashchange', openTarget);
  openTarget();
})();
"""

SCRIPT_HASH = "sha256-" + base64.b64encode(hashlib.sha256(JS.encode("utf-8")).digest()).decode()
"""The CSP source for exactly the inline script above (CSP Level 2 hash source)."""

CSP = (
    "default-src 'none'; "
    "style-src 'unsafe-inline'; "
    f"script-src '{SCRIPT_HASH}'; "
    "base-uri 'none'; "
    "form-action 'none'"
)
"""Nothing may be fetched; only our script may run; styles are inline."""
