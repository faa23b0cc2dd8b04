"""``sipsniff explain`` and ``sipsniff codes``: the knowledge base on the command line.

Strategy: both commands only read ``annotate.knowledge`` (the same entries the
annotator and the reports use) and draw them as rich ``Text`` objects, never as
markup strings, so nothing typed or pasted (a Reason header copied from a trace)
can inject styles or terminal escapes; what is echoed back passes ``safe.clean``.
Piped output is plain text (no colour, no box drawing) for grep and less.

Sketch of ``sipsniff explain 488``::

    488 Not Acceptable Here
      4xx Client Error · RFC 3261 · severity warning
    Meaning
      The offer was understood, but ...
    Likely causes
      • ...
    What to do
      1. ...
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence

import click
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.table import Table
from rich.text import Text

from ..annotate.knowledge import (
    CodeInfo,
    Q850Info,
    ReasonInfo,
    WarningInfo,
    all_codes,
    all_q850,
    all_warnings,
    class_info,
    codes_in_class,
    lookup,
    parse_reason,
    q850,
    search,
    warning,
)
from ..render.safe import clean
from ..render.summary import SEVERITY_STYLE
from ._common import make_console

__all__ = ["COMMANDS", "codes", "explain", "render_code", "render_q850", "render_warning"]

_CODE = re.compile(r"^[1-9][0-9]{2}$")
_CLASS = re.compile(r"^([1-6])(?:xx)?$", re.IGNORECASE)
_Q850 = re.compile(r"^(?:q\.?850|cause)[:=]\s*([0-9]{1,9})$", re.IGNORECASE)
_WARNING = re.compile(r"^(?:warning|warn)[:=]\s*([0-9]{1,9})$", re.IGNORECASE)
_REASON = re.compile(r"^\s*(?:q\.850|sip)\s*;", re.IGNORECASE)
_MAX_FULL = 3
"""Search results shown in full (those whose name holds every word); the rest are listed."""
_MAX_LISTED = 15


def _heading(number: str, name: str) -> Text:
    t = Text()
    t.append(number, style="bold")
    t.append(" ")
    t.append(name, style="bold")
    return t


def _meta(*parts: tuple[str, str]) -> Text:
    t = Text("  ")
    for i, (text, style) in enumerate(p for p in parts if p[0]):
        if i:
            t.append(" · ", style="dim")
        t.append(text, style=style)
    return t


class _Hanging:
    """Text wrapped under a prefix (``  • ``, ``  1. ``) with a hanging indent, no padding.

    A grid would pad every line to the column width; piped output must stay free of
    trailing blanks, so the wrapping is done here, line by line.
    """

    def __init__(self, prefix: str, text: Text | str) -> None:
        self.prefix = prefix
        self.text = text if isinstance(text, Text) else Text(text)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = max(20, options.max_width - len(self.prefix))
        for i, line in enumerate(self.text.wrap(console, width)):
            line.rstrip()
            out = Text(self.prefix if i == 0 else " " * len(self.prefix))
            out.append_text(line)
            yield out


def _section(title: str, items: Sequence[str], *, numbered: bool = False) -> list[RenderableType]:
    if not items:
        return []
    width = len(str(len(items)))
    return [
        Text(""),
        Text(title, style="bold underline"),
        *(
            _Hanging(f"  {n:>{width}}. " if numbered else "  • ", item)
            for n, item in enumerate(items, 1)
        ),
    ]


def _paragraph(title: str, text: str) -> list[RenderableType]:
    return [Text(""), Text(title, style="bold underline"), _Hanging("  ", text)]


def render_code(info: CodeInfo) -> RenderableType:
    """A response code's full entry: meaning, likely causes, steps, related Q.850 causes."""
    sev = info.severity
    parts: list[RenderableType] = [
        _heading(str(info.code), info.reason),
        _meta(
            (f"{info.klass}xx {info.class_name}" if info.klass else "not a valid status code", ""),
            (info.rfc, ""),
            (f"severity {sev}", SEVERITY_STYLE[sev]),
            ("not in the IANA registry" if not info.registered else "", "yellow"),
            ("may succeed if retried later" if info.retry else "", "dim"),
        ),
        *_paragraph("Meaning", info.meaning),
        *_section("Likely causes", info.causes),
        *_section("What to do", info.resolution, numbered=True),
    ]
    related = [c for c in all_q850() if c.sip == info.code]
    if related:
        parts.extend(
            _paragraph(
                f"Q.850 causes usually sent as {info.code}",
                ", ".join(f"{c.cause} {c.name}" for c in related),
            )
        )
    return Group(*parts)


def render_q850(info: Q850Info) -> RenderableType:
    """A Q.850 cause's entry, with the SIP response it usually becomes (RFC 3398)."""
    parts: list[RenderableType] = [
        _heading(f"Q.850 cause {info.cause}", info.name),
        _meta(("ITU-T Q.850", ""), (f"severity {info.severity}", SEVERITY_STYLE[info.severity])),
        *_paragraph("Meaning", info.meaning),
    ]
    if info.sip is not None:
        parts.extend(
            _paragraph(
                "Usually sent in SIP as",
                f"{info.sip} {lookup(info.sip).reason} (see: sipsniff explain {info.sip})",
            )
        )
    return Group(*parts)


def render_warning(info: WarningInfo) -> RenderableType:
    """A Warning header code's entry."""
    return Group(
        _heading(f"Warning {info.code}", info.text),
        _meta((info.rfc, ""), ("Warning header (RFC 3261 section 20.43)", "dim")),
        *_paragraph("Meaning", info.meaning),
        *_section("What to do", info.resolution, numbered=True),
    )


def _render_reason(values: Sequence[ReasonInfo]) -> RenderableType:
    parts: list[RenderableType] = []
    for r in values:
        head = f"{r.protocol} cause {r.cause}" if r.cause is not None else r.protocol
        parts.append(_heading("Reason", clean(head, 80)))
        if r.text is not None:
            parts.append(_meta((f'text="{clean(r.text, 200)}" (the sender\'s words)', "dim")))
        parts.extend(_paragraph("Meaning", r.explanation))
        if r.protocol == "Q.850" and r.cause is not None:
            info = q850(r.cause)
            if info is not None and info.sip is not None:
                parts.extend(
                    _paragraph("Usually sent in SIP as", f"{info.sip} {lookup(info.sip).reason}")
                )
    return Group(*parts)


def _entry(found: CodeInfo | Q850Info) -> RenderableType:
    return render_code(found) if isinstance(found, CodeInfo) else render_q850(found)


def _listing(entries: Sequence[CodeInfo | Q850Info], limit: int | None = _MAX_LISTED) -> Table:
    table = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
    table.add_column("code", no_wrap=True)
    table.add_column("name")
    table.add_column("severity", no_wrap=True)
    for e in entries[:limit]:
        if isinstance(e, CodeInfo):
            table.add_row(
                str(e.code), e.reason, Text(str(e.severity), style=SEVERITY_STYLE[e.severity])
            )
        else:
            table.add_row(
                f"q850:{e.cause}", e.name, Text(str(e.severity), style=SEVERITY_STYLE[e.severity])
            )
    if limit is not None and len(entries) > limit:
        table.caption = f"{len(entries) - limit} more; add words to narrow the search"
    return table


def _title_match(entry: CodeInfo | Q850Info, words: list[str]) -> bool:
    title = (entry.reason if isinstance(entry, CodeInfo) else entry.name).lower()
    return all(w in title for w in words)


def _print(what: RenderableType, *, no_color: bool) -> None:
    """Print to stdout; on a pipe, as plain lines without trailing blanks (tables pad cells)."""
    console = make_console(no_color=no_color)
    if console.is_terminal:
        console.print(what)
        return
    with console.capture() as cap:
        console.print(what)
    click.echo("\n".join(line.rstrip() for line in cap.get().splitlines()))


def _fail(message: str) -> None:
    click.echo(f"sipsniff: {message}", err=True)
    sys.exit(1)


def _resolve(query: str) -> RenderableType:
    """Turn the user's query into what to print (or exit 1 with a one-line reason)."""
    q = query.strip()
    if _REASON.match(q):
        values = parse_reason(q)
        if values:
            return _render_reason(values)
    if m := _Q850.match(q):
        cause = int(m.group(1))
        info = q850(cause)
        if info is None:
            _fail(f"Q.850 defines no cause {cause} (causes are 1..127; see: sipsniff codes --q850)")
        assert info is not None
        return render_q850(info)
    if m := _WARNING.match(q):
        code = int(m.group(1))
        winfo = warning(code)
        if winfo is None:
            _fail(f"{code} is not a registered Warning code (see: sipsniff codes --warnings)")
        assert winfo is not None
        return render_warning(winfo)
    if _CODE.match(q):
        return render_code(lookup(int(q)))
    if m := _CLASS.match(q):
        klass = int(m.group(1))
        cinfo = class_info(klass)
        listing = _listing(list(codes_in_class(klass)), limit=None)
        return Group(
            _heading(f"{klass}xx", cinfo.class_name),
            *_paragraph("Meaning", cinfo.meaning),
            *_section("Likely causes", cinfo.causes),
            *_section("What to do", cinfo.resolution, numbered=True),
            Text(""),
            Text("Codes in this class", style="bold underline"),
            listing,
        )
    found = search(q)
    if not found:
        _fail(
            f"no SIP code or Q.850 cause matches {clean(q, 80)!r} "
            "(try fewer words, a code such as 486, or: sipsniff codes)"
        )
    words = q.lower().split()
    full = [e for e in found if _title_match(e, words)][:_MAX_FULL]
    if len(found) == 1 or not full:
        full = [found[0]]
    rest = [e for e in found if e not in full]
    parts: list[RenderableType] = []
    for e in full:
        if parts:
            parts.append(Text(""))
        parts.append(_entry(e))
    if rest:
        parts.append(Text(""))
        parts.append(Text(f"Also mentioning {clean(q, 60)!r}", style="bold underline"))
        parts.append(_listing(rest))
    return Group(*parts)


@click.command(
    epilog="""\b
Examples:
  sipsniff explain 488                   # a response code
  sipsniff explain 4xx                   # a whole class, with its codes
  sipsniff explain busy                  # search codes and Q.850 causes by words
  sipsniff explain q850:34               # a Q.850 cause (from a Reason header)
  sipsniff explain warning:304           # a Warning header code
  sipsniff explain 'Q.850;cause=16;text="Normal call clearing"'   # a Reason header value
"""
)
@click.argument("query", nargs=-1, required=True)
@click.option("--no-color", is_flag=True, help="No colours even on a terminal.")
def explain(query: tuple[str, ...], no_color: bool) -> None:
    """Explain a SIP response code, a Q.850 cause or a Warning code, or search them.

    QUERY is a code (488), a class (4xx), q850:N, warning:N, a Reason header value,
    or words to search for in the knowledge base that sipsniff's diagnoses use.
    """
    _print(_resolve(" ".join(query)), no_color=no_color)


@click.command(
    epilog="""\b
Examples:
  sipsniff codes                 # every registered SIP response code
  sipsniff codes --class 4xx     # only client errors
  sipsniff codes --q850          # Q.850 cause values
  sipsniff codes --warnings      # Warning header codes
  sipsniff codes | grep -i busy
"""
)
@click.option(
    "--class", "klass", metavar="NXX", help="Only this response class: 1xx..6xx (or 1..6)."
)
@click.option("--q850", "show_q850", is_flag=True, help="List the Q.850 cause values instead.")
@click.option("--warnings", "show_warnings", is_flag=True, help="List the Warning codes instead.")
@click.option("--no-color", is_flag=True, help="No colours even on a terminal.")
def codes(klass: str | None, show_q850: bool, show_warnings: bool, no_color: bool) -> None:
    """List the knowledge base: SIP response codes (default), Q.850 causes or Warning codes."""
    if sum((klass is not None, show_q850, show_warnings)) > 1:
        raise click.UsageError("use only one of --class, --q850 and --warnings")
    table = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
    if show_q850:
        table.add_column("cause", justify="right", no_wrap=True)
        table.add_column("name")
        table.add_column("severity", no_wrap=True)
        table.add_column("SIP", no_wrap=True)
        for c in all_q850():
            table.add_row(
                str(c.cause),
                c.name,
                Text(str(c.severity), style=SEVERITY_STYLE[c.severity]),
                str(c.sip) if c.sip is not None else "-",
            )
    elif show_warnings:
        table.add_column("code", no_wrap=True)
        table.add_column("text")
        table.add_column("RFC", no_wrap=True)
        for w in all_warnings():
            table.add_row(str(w.code), w.text, w.rfc)
    else:
        entries = all_codes()
        if klass is not None:
            m = _CLASS.match(klass.strip())
            if m is None:
                raise click.BadParameter(
                    f"{clean(klass, 20)!r}: use a class such as 4xx (1xx to 6xx)",
                    param_hint="--class",
                )
            entries = codes_in_class(int(m.group(1)))
        table.add_column("code", no_wrap=True)
        table.add_column("reason")
        table.add_column("class", no_wrap=True)
        table.add_column("severity", no_wrap=True)
        table.add_column("RFC", no_wrap=True)
        for e in entries:
            table.add_row(
                str(e.code),
                e.reason,
                e.class_name,
                Text(str(e.severity), style=SEVERITY_STYLE[e.severity]),
                e.rfc,
            )
    _print(table, no_color=no_color)


COMMANDS = [explain, codes]
