"""Plain-text and Markdown reports: summary, calls, diagnoses and annotated ASCII ladders.

Both read one ``Analysis``; their ladders are the terminal's own drawing of the
``Ladder`` model (``terminal.ladder_text``: ASCII glyphs, width 100, no colour),
so a ticket shows exactly what ``sipsniff flow --ascii`` shows, in a form that
pastes into a ticket, a wiki or an e-mail.

Rules (wire text is hostile, see ``safe.py``):
- Text: every wire string passes ``safe.clean`` (no control characters, so no
  ANSI escapes, NUL or bidi overrides) and ladders are ASCII only.
- Markdown: wire strings go into code spans or fenced blocks whose backtick
  fence is longer than any backtick run inside (CommonMark 6.1 and 4.5), so
  nothing in them is markup; prose that quotes the wire (annotation causes,
  the outcome line) goes through ``md_prose``: its quoted wire values and
  every link-like word become code spans, because ticket systems autolink
  URLs, ``www.`` hosts, addresses and bare domains even when backslash-escaped,
  and the rest has every Markdown-active character escaped, ``<`` and ``&``
  included, so no raw HTML from the wire reaches a Markdown renderer.
- Output is deterministic (no generation time): golden files compare exactly.

Sketch (Markdown)::

    # sipsniff report
    ## Summary            | Capture | `demo.pcap`: 42 frames ... |
    ## Calls              | 1 | 18:04:21.569 | `alice` → `bob` | `a84b4c...` | ... |
    ## Call 6: `demo-busy-1@127.0.0.22`
    ### Diagnosis        - **INFO** `callee-busy`: Callee busy ...
    ### Ladder           ```text ... ```
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Iterator

from .. import __version__
from ..analysis import Analysis, AnalyzedCall, ranked
from ..annotate.annotation import Annotation
from ._report import MAX_DETAILED_CALLS, LineExporter, ReportFacts, clock, facts, plural, utc, who
from .safe import clean
from .summary import capture_span, fmt_ms, tls_text
from .terminal import ladder_text

__all__ = [
    "markdown_exporter",
    "markdown_report",
    "md_code",
    "md_fence",
    "md_prose",
    "md_text",
    "text_exporter",
    "text_report",
]

_MAX_WARNINGS_LISTED = 50
_WIDTH = 100
_MD_ACTIVE = re.compile(r"([\\`*_\[\]<>|~&])")
# Characters that start a block (heading, list, quote, setext underline) at a line start.
_MD_LINE_START = re.compile(r"^([#+\-=>]|\d+[.)])")
_BACKTICKS = re.compile(r"`+")
# Wire text quoted by the annotators, and what a Markdown renderer or a ticket
# system autolinks (GFM's www./http(s) and e-mail autolinks, linkify's fuzzy
# domains, sip:/tel:/mailto: URIs).
# A quote opens after a blank or a bracket and closes before one or before
# punctuation, so a wire value with quotes inside stays one span.
_QUOTED = re.compile(r'(?<![^\s(\[])"([^\n]*?)"(?=[\s.,;:!?)\]]|$)')
_WORDS = re.compile(r"(\s+)")
_EDGES = re.compile(r"""([(\[<'"]*)(.*?)([)\]>'".,;:!?]*)""", re.S)
_LINKISH = re.compile(
    r"[A-Za-z][A-Za-z0-9+.\-]*:[^\s:]"  # scheme:... (http://, sip:, mailto:, tel:)
    r"|www\."
    r"|[^\s@]@[^\s@]"  # user@host
    r"|[A-Za-z0-9\-]\.[A-Za-z]{2,}",  # host.tld
    re.I,
)


# ----------------------------------------------------------------- Markdown escaping


def md_text(text: str, limit: int | None = 2000, *, line_start: bool = False) -> str:
    """Wire text as Markdown prose: controls made visible, inline-active characters escaped.

    Args:
        text: raw text, possibly from the wire.
        limit: cut to this many characters.
        line_start: the text begins a line, so a leading ``#``, ``-``, ``1.``...
            is escaped too (it would start a heading or a list).
    """
    out = _MD_ACTIVE.sub(r"\\\1", clean(text, limit))
    if line_start:
        out = _MD_LINE_START.sub(lambda m: m.group()[:-1] + "\\" + m.group()[-1], out)
    return out


def md_prose(text: str, limit: int | None = 2000, *, line_start: bool = False) -> str:
    """Prose that quotes the wire, as Markdown: wire text in code spans, the rest escaped.

    The annotators quote wire values in double quotes (reason phrases, realms,
    usernames, Warning texts) and name others bare (URIs, hosts, agents).  A
    ticket system would turn a URL, a ``www.`` host, an address or a bare domain
    into a link, even a backslash-escaped one, so both go into code spans, where
    nothing is a link: every ``"..."`` segment, and every word that looks like
    a link (``scheme:...``, ``www.``, ``user@host``, ``host.tld``).
    """
    body = clean(text, limit)
    out: list[str] = []
    pos = 0
    for m in _QUOTED.finditer(body):
        out.append(_md_words(body[pos : m.start()]))
        out.append(md_code(m.group(1), None))
        pos = m.end()
    out.append(_md_words(body[pos:]))
    md = "".join(out)
    if line_start and not md.startswith("`"):
        md = _MD_LINE_START.sub(lambda m: m.group()[:-1] + "\\" + m.group()[-1], md)
    return md


def _md_words(text: str) -> str:
    """Escaped prose, link-like words in code spans (their edge punctuation outside)."""
    parts = []
    for word in _WORDS.split(text):
        m = _EDGES.fullmatch(word)
        if word and not word.isspace() and m is not None and _LINKISH.search(m.group(2)):
            lead, core, tail = m.groups()
            parts.append(md_text(lead, None) + md_code(core, None) + md_text(tail, None))
        else:
            parts.append(md_text(word, None))
    return "".join(parts)


def md_code(text: str, limit: int | None = 200) -> str:
    """Wire text as an inline code span whose fence no backtick run inside can close."""
    body = clean(text, limit)
    if not body:
        return "` `"
    runs = [len(r) for r in _BACKTICKS.findall(body)]
    fence = "`" * (max(runs, default=0) + 1)
    pad = " " if body[0] in "` " or body[-1] in "` " or runs else ""
    return f"{fence}{pad}{body}{pad}{fence}"


def md_fence(lines: list[str], info: str = "text") -> list[str]:
    """A fenced code block longer than any backtick run in ``lines`` (already cleaned)."""
    longest = max((len(r) for ln in lines for r in _BACKTICKS.findall(ln)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence + info, *lines, fence]


def _cell(md: str) -> str:
    """A Markdown table cell: a pipe would end the cell even inside a code span (GFM)."""
    return md.replace("|", "\\|")


# ----------------------------------------------------------------- shared content


def _summary_rows(analysis: Analysis, f: ReportFacts) -> list[tuple[str, str]]:
    """(label, raw value) pairs of the summary, in reading order."""
    st = analysis.stats
    span = ""
    if st.first_ts_ns:
        span = f", {capture_span(st.first_ts_ns, st.last_ts_ns)}"
        span += f" ({fmt_ms((st.last_ts_ns - st.first_ts_ns) / 1e6)})"
    skipped = f", {st.skipped} frames skipped"
    if st.skipped_by_reason:
        skipped += " (" + ", ".join(f"{k} {v}" for k, v in sorted(st.skipped_by_reason.items()))
        skipped += ")"
    calls = f"{f.selected}"
    if f.selected != f.total:
        calls += f" selected of {f.total} in the capture"
    if f.by_kind:
        calls += " (" + ", ".join(f"{k} {v}" for k, v in ranked(f.by_kind)) + ")"
    rows = [
        ("Capture", f"{st.frames} frames, {st.bytes} bytes{span}"),
        (
            "SIP",
            f"{st.sip_messages} messages, {st.malformed} malformed, "
            f"{st.retransmissions} retransmissions, "
            + (
                f"{st.capture_duplicates} capture duplicates (ignored), "
                if st.capture_duplicates
                else ""
            )
            + f"{st.not_sip} non-SIP payloads{skipped}",
        ),
        *((("TLS", tls_text(st)),) if st.tls else ()),
        ("Calls", calls),
        ("Outcomes", ", ".join(f"{k} {v}" for k, v in ranked(f.by_state)) or "none"),
        ("Answer-seizure ratio", f.asr_text()),
        ("Requests", ", ".join(f"{k} {v}" for k, v in ranked(f.methods)) or "none"),
        ("Responses", ", ".join(f"{k} {v}" for k, v in sorted(f.responses.items())) or "none"),
    ]
    if f.annotations_by_rule:
        sev = ", ".join(f"{k} {v}" for k, v in ranked(f.annotations_by_severity))
        rules = ", ".join(f"{k} {v}" for k, v in ranked(f.annotations_by_rule))
        rows.append(("Annotations", f"{sev} ({rules})"))
    else:
        rows.append(("Annotations", "none"))
    if st.diagnostics_by_trigger:
        rows.append(
            (
                "Capture warnings",
                ", ".join(f"{k} {v}" for k, v in ranked(st.diagnostics_by_trigger)),
            )
        )
    if st.layers:
        rows.append(("Layers", ", ".join(f"{k} {v}" for k, v in sorted(st.layers.items()))))
    if st.evicted_calls:
        rows.append(("Evicted", f"{st.evicted_calls} calls published early (open-dialog bound)"))
    return rows


def _outcome(ac: AnalyzedCall, reason: Callable[[str], str]) -> str:
    """``call, rejected 486 Busy Here``; ``reason`` quotes the wire's reason phrase."""
    c = ac.call
    text = f"{c.kind.value}, {c.state.value}"
    if c.final_status:
        text += f" {c.final_status}"
        phrase = next((m.reason for m in c.messages if m.status == c.final_status), "")
        if phrase.strip():
            text += " " + reason(phrase.strip())
    return text


def _timings(ac: AnalyzedCall) -> str:
    t = ac.call.timings
    parts = [
        ("first provisional", t.first_provisional),
        ("post-dial delay", t.post_dial_delay),
        ("setup", t.setup),
        ("duration", t.duration),
        ("teardown", t.teardown),
    ]
    return ", ".join(f"{k} {fmt_ms(v)}" for k, v in parts if v is not None)


def _frames(a: Annotation) -> str:
    frames = ", ".join(str(f) for f in a.frames[:30])
    if len(a.frames) > 30:
        frames += f" (+{len(a.frames) - 30})"
    return frames


def _notes(ac: AnalyzedCall) -> str:
    worst = ac.worst
    if worst is None:
        return ""
    rules = dict.fromkeys(a.rule for a in ac.annotations if a.severity == worst)
    return f"{worst}: " + ", ".join(rules)


def _ladder_lines(ac: AnalyzedCall) -> list[str]:
    """The terminal's ladder in ASCII at width 100 (one drawing for terminal and reports)."""
    try:
        return ladder_text(ac, width=_WIDTH, ascii_only=True, title=False).rstrip("\n").split("\n")
    except Exception as exc:  # noqa: BLE001 - one bad call must never cost the report
        return [f"(this ladder could not be drawn: {type(exc).__name__}: {clean(str(exc), 200)})"]


def _omitted(analysis: Analysis) -> int:
    return max(0, len(analysis.calls) - MAX_DETAILED_CALLS)


# ----------------------------------------------------------------- plain text


def _wrap(text: str, indent: str, first: str | None = None) -> list[str]:
    return textwrap.wrap(
        text,
        _WIDTH,
        initial_indent=indent if first is None else first,
        subsequent_indent=indent,
        break_long_words=True,
        break_on_hyphens=False,
    ) or [(first or indent).rstrip()]


def _heading(title: str, under: str) -> list[str]:
    return [title, under * min(len(title), _WIDTH)]


def _text_annotation(a: Annotation) -> list[str]:
    out = _wrap(
        f"{str(a.severity).upper()} [{a.rule}] {clean(a.title, 300)}",
        "      ",
        "  - ",
    )
    out += _wrap(clean(a.cause, 4000), "      ", "    Cause: ")
    for k, v in a.details:
        out += _wrap(f"{clean(k, 60)}: {clean(v, 1000)}", "      ", "    ")
    if a.resolution:
        out.append("    Resolution:")
        for i, step in enumerate(a.resolution, 1):
            out += _wrap(clean(step, 1000), "         ", f"      {i}. ")
    if a.frames:
        out.append(f"    Evidence: frames {_frames(a)}")
    return out


def text_report(analysis: Analysis) -> Iterator[str]:
    """The plain-text report, line by line (no trailing newlines)."""
    f = facts(analysis)
    yield from _heading("sipsniff report", "=")
    yield ""
    for src in analysis.stats.sources:
        yield f"Source: {clean(src, 300)}"
    yield f"Generated by sipsniff {__version__}"
    yield ""
    yield from _heading("Summary", "-")
    rows = _summary_rows(analysis, f)
    w = max(len(k) for k, _ in rows) + 2
    for k, v in rows:
        yield from _wrap(clean(v, 4000), " " * w, f"{k:<{w}}")
    yield ""
    yield from _heading(f"Calls ({len(analysis.calls)})", "-")
    if not analysis.calls:
        yield "No calls."
    else:
        yield from _text_table(analysis)
    for i, ac in enumerate(analysis.calls[:MAX_DETAILED_CALLS], 1):
        yield ""
        yield from _text_call(i, ac)
    if _omitted(analysis):
        yield ""
        yield (
            f"{_omitted(analysis)} more calls are listed above but not drawn; "
            "select fewer with --call-id, --failed, --status or --since."
        )
    yield from _text_warnings(analysis)


def _row(
    i: int,
    ac: AnalyzedCall,
    party: Callable[[str], str],
    arrow: str,
    call_id: Callable[[str], str],
    notes: str,
) -> tuple[str, ...]:
    """One call's cells for the text and Markdown tables; each format quotes wire
    text its own way (``party``, ``call_id``) and brings its notes already quoted."""
    c = ac.call
    frm, to = who(c)
    return (
        str(i),
        clock(c.start_ns),
        f"{party(frm)}{arrow}{party(to)}",
        call_id(c.call_id),
        c.kind.value,
        c.state.value,
        str(c.final_status or "-"),
        fmt_ms(c.timings.setup),
        fmt_ms(c.timings.duration),
        notes,
    )


def _text_table(analysis: Analysis) -> Iterator[str]:
    head = ("#", "Start", "From -> To", "Call-ID", "Kind", "State", "Code", "Setup", "Duration")
    rows = [
        _row(i, ac, lambda t: clean(t, 24), " -> ", lambda t: clean(t, 40), _notes(ac))
        for i, ac in enumerate(analysis.calls, 1)
    ]
    widths = [max(len(h), *(len(r[j]) for r in rows)) for j, h in enumerate(head)]
    right = {0, 6, 7, 8}

    def fmt(cells: tuple[str, ...]) -> str:
        parts = [
            c.rjust(widths[j]) if j in right else c.ljust(widths[j])
            for j, c in enumerate(cells[: len(head)])
        ]
        line = "  ".join(parts)
        return (line + "  " + cells[-1] if len(cells) > len(head) else line).rstrip()

    yield fmt((*head, "Notes"))
    yield "  ".join("-" * w for w in widths) + "  -----"
    for r in rows:
        yield fmt(r)


def _started(ac: AnalyzedCall) -> str:
    """``Started 2026-11-24 18:07:32.776 UTC, 7 messages, ended by the caller``."""
    c = ac.call
    return (
        f"Started {utc(c.start_ns)[:-4]}.{clock(c.start_ns)[-3:]} UTC, "
        f"{plural(c.message_count or len(c.messages), 'message')}"
        + (f", {len(c.retransmissions)} retransmissions" if c.retransmissions else "")
        + (f", ended by the {c.ended_by}" if c.ended_by else "")
        + (", evicted early (the record may be partial)" if c.evicted else "")
    )


def _text_call(i: int, ac: AnalyzedCall) -> Iterator[str]:
    c = ac.call
    frm, to = who(c)
    yield from _heading(f"Call {i}: {clean(c.call_id, 200)}", "-")
    yield f"{_outcome(ac, lambda r: clean(r, 200))}; {clean(frm, 80)} -> {clean(to, 80)}"
    yield _started(ac)
    timings = _timings(ac)
    if timings:
        yield f"Timings: {timings}"
    if ac.annotations:
        yield ""
        yield "Diagnosis:"
        for a in ac.annotations:
            yield from _text_annotation(a)
    if c.messages:
        yield ""
        yield "Ladder:"
        yield ""
        for line in _ladder_lines(ac):
            yield ("  " + line).rstrip()


def _text_warnings(analysis: Analysis) -> Iterator[str]:
    st = analysis.stats
    if not st.diagnostics:
        return
    yield ""
    yield from _heading(f"Capture warnings ({st.diagnostics})", "-")
    for d in analysis.diagnostics[:_MAX_WARNINGS_LISTED]:
        yield from _wrap(clean(d.line(), 400), "    ", "  ")
    more = st.diagnostics - min(len(analysis.diagnostics), _MAX_WARNINGS_LISTED)
    if more > 0:
        yield f"  ({more} more, counted in the summary)"


# ----------------------------------------------------------------- Markdown


def _md_annotation(a: Annotation) -> list[str]:
    out = [
        f"- **{str(a.severity).upper()}** {md_code(a.rule, 80)}: {md_prose(a.title, 300)}",
        "",
        # labelled, so a cause that opens with an address ("127.0.0.1:5060 answered")
        # needs no list-marker escape, which shows as a stray backslash in the raw file
        f"  Cause: {md_prose(a.cause, 4000)}",
        "",
    ]
    for k, v in a.details:
        out.append(f"  - {md_text(k, 60)}: {md_code(v, 1000)}")
    if a.details:
        out.append("")
    if a.resolution:
        out.append("  Resolution:")
        out.append("")
        out += [f"  {i}. {md_prose(step, 1000)}" for i, step in enumerate(a.resolution, 1)]
        out.append("")
    if a.frames:
        out += [f"  Evidence: frames {_frames(a)}", ""]
    return out


def markdown_report(analysis: Analysis) -> Iterator[str]:
    """The Markdown report, line by line (CommonMark + GFM tables)."""
    f = facts(analysis)
    yield "# sipsniff report"
    yield ""
    sources = ", ".join(md_code(s, 300) for s in analysis.stats.sources) or "no source"
    yield f"Generated by sipsniff {__version__} from {sources}."
    yield ""
    yield "## Summary"
    yield ""
    yield "| | |"
    yield "|---|---|"
    for k, v in _summary_rows(analysis, f):
        yield f"| {k} | {_cell(md_prose(v, 4000))} |"
    yield ""
    yield f"## Calls ({len(analysis.calls)})"
    yield ""
    if not analysis.calls:
        yield "No calls."
    else:
        yield "| # | Start (UTC) | From → To | Call-ID | Kind | State | Code | Setup | Duration | Notes |"
        yield "|--:|---|---|---|---|---|--:|--:|--:|---|"
        for i, ac in enumerate(analysis.calls, 1):
            cells = _row(
                i,
                ac,
                lambda t: md_code(t, 60),
                " → ",
                lambda t: md_code(t, 120),
                md_text(_notes(ac), 300),
            )
            yield "| " + " | ".join(_cell(x) for x in cells) + " |"
    for i, ac in enumerate(analysis.calls[:MAX_DETAILED_CALLS], 1):
        yield ""
        yield from _md_call(i, ac)
    if _omitted(analysis):
        yield ""
        yield (
            f"{_omitted(analysis)} more calls are listed above but not drawn; "
            "select fewer with `--call-id`, `--failed`, `--status` or `--since`."
        )
    yield from _md_warnings(analysis)


def _md_call(i: int, ac: AnalyzedCall) -> Iterator[str]:
    c = ac.call
    frm, to = who(c)
    yield f"## Call {i}: {md_code(c.call_id, 200)}"
    yield ""
    yield f"- Outcome: {_outcome(ac, lambda r: md_code(r, 200))}"
    yield f"- From {md_code(frm, 120)} to {md_code(to, 120)}"
    yield "- " + _started(ac)
    timings = _timings(ac)
    if timings:
        yield f"- Timings: {timings}"
    yield ""
    if ac.annotations:
        yield "### Diagnosis"
        yield ""
        for a in ac.annotations:
            yield from _md_annotation(a)
    if c.messages:
        yield "### Ladder"
        yield ""
        yield from md_fence(_ladder_lines(ac))


def _md_warnings(analysis: Analysis) -> Iterator[str]:
    st = analysis.stats
    if not st.diagnostics:
        return
    yield ""
    yield f"## Capture warnings ({st.diagnostics})"
    yield ""
    for d in analysis.diagnostics[:_MAX_WARNINGS_LISTED]:
        yield f"- {md_code(d.line(), 400)}"
    more = st.diagnostics - min(len(analysis.diagnostics), _MAX_WARNINGS_LISTED)
    if more > 0:
        yield f"- ({more} more, counted in the summary)"


# ----------------------------------------------------------------- exporters


text_exporter = LineExporter(
    "text", (".txt", ".text"), "plain-text report with ASCII ladders", text_report
)
"""``--format text`` / ``.txt``: the report as plain ASCII-safe text."""
markdown_exporter = LineExporter(
    "md",
    (".md", ".markdown"),
    "Markdown report (tables, diagnoses, ladders in code blocks)",
    markdown_report,
)
"""``--format md`` / ``.md``: the report as CommonMark with GFM tables."""
