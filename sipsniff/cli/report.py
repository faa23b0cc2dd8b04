"""``sipsniff report``: write the analysis as HTML, Markdown, text, JSON, NDJSON, Mermaid or PlantUML.

Strategy: the format comes from ``--format`` or the output's suffix (the
exporter registry decides).  JSON and NDJSON stream call by call; every other
format needs the whole analysis and builds it first.  ``--write-pcap`` then
re-reads the sources and keeps the frames of the selected calls' messages:
nothing is re-parsed, and the capture layer only sees frame numbers.

Files (``_files.py`` holds the rules and why): a regular file appears
atomically and keeps the mode and owner of the one it replaces, so a failed or
killed run leaves no half-written report and no stray temporary; a device or
FIFO (``/dev/null``, ``/dev/stdout``, a named pipe) is written directly, never
replaced; a file with several hard links, or someone else's in /tmp, is
refused without ``--force``.  Outputs are checked before the capture is read,
so a refusal costs no analysis.  SIGTERM, SIGHUP and the like clean up as
Ctrl-C does, then end the process with that signal.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import click

from ..analysis import Analysis, AnalyzedCall
from ..annotate.annotation import Annotation
from ..capture.sources import expand_paths, read_frames
from ..capture.writer import write_frames
from ..filters import CallFilter
from ..pipeline import Pipeline
from ..render._report import plural
from ..render.registry import (
    ALIASES,
    Exporter,
    StreamingExporter,
    UnknownFormat,
    all_exporters,
    choose,
)
from ..render.safe import clean
from ._common import DiagnosticPrinter, build_filter, filter_options, warning_options
from ._files import binary_output, check_output, cleanup_on_signals, text_output
from ._progress import progress_frames

__all__ = ["COMMANDS", "report"]

_FORMATS = [e.name for e in all_exporters()] + sorted(ALIASES)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def _special(path: str) -> bool:
    """A device or FIFO: two outputs may both be /dev/null."""
    try:
        return not stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


@click.command(
    epilog="""\b
Examples:
  sipsniff report capture.pcap -o report.html      # dashboard, call list, SVG ladders
  sipsniff report --failed capture.pcap -o failed.md --write-pcap failed.pcap
  sipsniff report captures/ -o calls.json          # the document of analyze --format json
  sipsniff report big.pcapng -o calls.ndjson       # one call per line, streamed
  sipsniff report capture.pcap --call-id a84b4c76 -o call.puml
  sipsniff report capture.pcap -o - --format text | less

\b
Formats (from --format, or else from the suffix of -o):
  html      .html   one self-contained file: no network fetch, scripts locked by CSP
  md        .md     Markdown: summary, calls, diagnoses, ASCII ladders in code blocks
  text      .txt    the same as plain text
  json      .json   sipsniff/schema/analysis.schema.json
  ndjson    .ndjson one call per line as calls finish, then a summary line
  mermaid   .mmd    one sequenceDiagram, a rect block per call
  plantuml  .puml   one @startuml block per call

\b
Files (-o and --write-pcap):
  -            stdout (for one of the two)
  device/FIFO  /dev/null, /dev/stdout, a terminal or a named pipe is written
               directly, never replaced (block devices are refused)
  new file     created with 0666 minus the umask, complete or not at all
  existing     replaced atomically (an unnamed temporary, renamed when complete:
               a failure, Ctrl-C, SIGTERM or SIGHUP keeps the old file and leaves
               no temporary); the new file keeps the old one's permission bits,
               and its owner and group when allowed (as root): rerunning a report
               into the same file is the usual case, so it is not refused
  hard links   a file with several links is refused: replacing it would leave
               the other names with the old report, rewriting it in place would
               change them all and could not be atomic; --force replaces this
               name only
  /tmp         in a shared sticky directory, a file or FIFO of another user is
               refused (--force replaces the file) and a symlink of another user
               is never followed, whatever fs.protected_* say; other symlinks
               are followed (their target is replaced, the link stays)

\b
--write-pcap FILE keeps the frames of the selected calls' SIP messages
(for SIP over TCP, every segment that carried part of a message). The file is a
classic pcap, or pcapng when FILE ends in .pcapng or the selected frames
have several link types (merged captures); Wireshark reads both.
"""
)
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option(
    "-o",
    "--output",
    required=True,
    metavar="FILE",
    help="Report file; '-' writes to stdout (then --format defaults to text).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(_FORMATS, case_sensitive=False),
    default=None,
    help="Report format (default: from the suffix of --output).",
)
@filter_options
@click.option(
    "--write-pcap",
    metavar="FILE",
    default=None,
    help="Also write the selected calls' frames to FILE (pcap; pcapng if FILE ends .pcapng; "
    "'-': stdout, when -o is a file).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Replace an output file that has several hard links (only this name gets "
    "the new file) or that belongs to another user in a shared directory such as /tmp.",
)
@warning_options(quiet_help="Print no warnings and no summary line.")
def report(
    paths: tuple[str, ...],
    output: str,
    fmt: str | None,
    write_pcap: str | None,
    force: bool,
    max_warnings: int,
    quiet: bool,
    progress: bool | None,
    **kw: Any,
) -> None:
    """Write a report of capture files: HTML, Markdown, text, JSON, NDJSON or diagrams.

    PATHS are pcap/pcapng files (gzip allowed) or directories of rotated
    captures, merged in time order. The filters select which calls the report
    (and --write-pcap) contains; the capture-level counters cover every frame.
    """
    try:
        exporter = choose(fmt or ("text" if output == "-" else None), output)
    except UnknownFormat as exc:
        raise click.BadParameter(str(exc), param_hint="--format / --output") from exc
    files = expand_paths(paths)
    for out in (o for o in (output, write_pcap) if o and o != "-"):
        if any(_same_file(Path(out), f) for f in files):
            raise click.BadParameter(
                f"{out} is one of the input captures; refusing to overwrite it",
                param_hint="--output / --write-pcap",
            )
    if (
        write_pcap
        and output != "-"
        and _same_file(Path(write_pcap), Path(output))
        and not (_special(write_pcap) and _special(output))
    ):
        raise click.BadParameter("--write-pcap and --output name the same file")
    if write_pcap == "-" and output == "-":
        raise click.BadParameter("-o and --write-pcap cannot both be stdout ('-')")
    for out in filter(None, (output, write_pcap)):
        check_output(out, force=force)
    flt = build_filter(kw)
    printer = DiagnosticPrinter(max_warnings, quiet)
    with cleanup_on_signals():
        _run(files, flt, printer, exporter, output, write_pcap, force=force, quiet=quiet,
             progress=progress)  # fmt: skip


def _run(
    files: list[Path],
    flt: CallFilter,
    printer: DiagnosticPrinter,
    exporter: Exporter,
    output: str,
    write_pcap: str | None,
    *,
    force: bool,
    quiet: bool,
    progress: bool | None,
) -> None:
    """Analyse, write the report, then the pcap (each complete or not at all)."""
    pipe = Pipeline(on_diagnostic=printer)
    pipe.stats.sources = [str(f) for f in files]
    frames = progress_frames(read_frames(files, pipe._report), files, progress)
    keep: set[int] = set()
    selected = 0

    def take(ac: AnalyzedCall) -> bool:
        nonlocal selected
        if not flt.matches(ac):
            return False
        selected += 1
        if write_pcap:
            keep.update(f for m in ac.call.messages for f in m.frames)
        return True

    with text_output(output, force=force) as fp:
        if isinstance(exporter, StreamingExporter):
            sink = exporter.stream(fp)
            chosen: set[str] = set()
            for ac in pipe.run(frames):
                if take(ac):
                    chosen.add(ac.call.call_id)
                    sink.add(ac)
            late: dict[str, list[Annotation]] = {
                k: v for k, v in pipe.late_annotations.items() if k in chosen
            }
            sink.close(pipe.stats, pipe.diagnostics, late)
        else:
            kept = [ac for ac in pipe.run(frames) if take(ac)]
            kept = pipe.attach_late(kept)
            kept.sort(key=lambda ac: (ac.call.start_ns, ac.call.call_id))
            analysis = Analysis(
                calls=tuple(kept), stats=pipe.stats, diagnostics=tuple(pipe.diagnostics)
            )
            exporter.write(analysis, fp)
    printer.close()

    def say(msg: str) -> None:
        if not quiet:
            click.echo(f"sipsniff: {msg}", err=True)

    if selected == 0 and pipe.stats.calls:
        say(f"no call matched the filters ({plural(pipe.stats.calls, 'call')} in the capture)")
    if output != "-":
        say(f"wrote {clean(output, 300)} ({exporter.name}, {plural(selected, 'call')})")
    if write_pcap:
        pcap_path = write_pcap
        result = write_frames(
            pcap_path,
            read_frames(files, lambda d: None),
            keep,
            open_output=lambda: binary_output(pcap_path, force=force),
        )
        say(
            f"wrote {clean(write_pcap, 300)} ({result.format}, {result.frames} frames "
            f"of {plural(selected, 'call')})"
        )


COMMANDS = [report]
