"""``sipsniff analyze``: summary, call table, annotations; or a JSON/NDJSON document."""

from __future__ import annotations

import dataclasses
import sys
from typing import Any

import click

from ..analysis import AnalyzedCall
from ..annotate.annotation import Annotation
from ..annotate.knowledge import Severity
from ..annotate.rules import rule_ids
from ..capture.sources import expand_paths, read_frames
from ..pipeline import Pipeline
from ..render.json_report import JsonWriter, NdjsonWriter
from ..render.summary import annotation_block, calls_table, summary_view
from ..render.terminal import ladder_renderable
from ._common import DiagnosticPrinter, build_filter, filter_options, make_console, severity_type
from ._progress import progress_frames

__all__ = ["COMMANDS", "analyze"]


def keep_annotation(a: Annotation, min_sev: Severity | None, rules: tuple[str, ...]) -> bool:
    """Does an annotation pass ``--severity`` and ``--rule``?"""
    if min_sev is not None and a.severity < min_sev:
        return False
    return not rules or a.rule in rules


@click.command(
    epilog="""\b
Examples:
  sipsniff analyze capture.pcap
  sipsniff analyze captures/                 # every capture in a directory, merged in time order
  sipsniff analyze --failed --severity warning capture.pcapng
  sipsniff analyze --user alice --status 4xx capture.pcap.gz
  sipsniff analyze --format json capture.pcap | jq '.calls[] | select(.state=="rejected")'
  sipsniff analyze --fail-on error sipp-run.pcap   # exit 1 if a call has an error annotation
"""
)
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@filter_options
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "ndjson"]),
    default="text",
    show_default=True,
    help="Output format; json follows sipsniff/schema/analysis.schema.json.",
)
@click.option(
    "--severity",
    type=severity_type,
    default=None,
    help="Show only annotations at least this severe (warning hides info).",
)
@click.option(
    "--rule",
    "rules",
    multiple=True,
    metavar="ID",
    help="Show only annotations of these rule ids. Repeatable.",
)
@click.option(
    "--fail-on",
    type=click.Choice(["warning", "error"]),
    default=None,
    help="Exit 1 when a selected call has an annotation of this severity or above.",
)
@click.option(
    "--limit", type=int, default=200, show_default=True, help="Rows of the call table (0: all)."
)
@click.option("--flow", "show_flow", is_flag=True, help="Also draw each selected call's ladder.")
@click.option("--ascii", "ascii_only", is_flag=True, help="With --flow: pure ASCII ladders.")
@click.option("--no-color", is_flag=True, help="No colours even on a terminal.")
@click.option(
    "--max-warnings",
    type=int,
    default=100,
    show_default=True,
    help="Print at most this many capture warnings (all are counted; 0: no limit).",
)
@click.option("--quiet", "-q", is_flag=True, help="Do not print capture warnings.")
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress bar on stderr (default: when stderr is a terminal).",
)
def analyze(
    paths: tuple[str, ...],
    fmt: str,
    severity: str | None,
    rules: tuple[str, ...],
    fail_on: str | None,
    limit: int,
    show_flow: bool,
    ascii_only: bool,
    no_color: bool,
    max_warnings: int,
    quiet: bool,
    progress: bool | None,
    **kw: Any,
) -> None:
    """Analyse capture files: group SIP messages into calls, explain what failed.

    PATHS are pcap/pcapng files (gzip allowed) or directories of rotated captures;
    several are merged in time order. Calls are listed with their outcome and
    timings, and each failed or suspicious call with its diagnosis.
    """
    unknown = [r for r in rules if r not in rule_ids()]
    if unknown:
        raise click.BadParameter(
            f"unknown rule {', '.join(unknown)}; known: {', '.join(rule_ids())}",
            param_hint="--rule",
        )
    files = expand_paths(paths)
    flt = build_filter(kw)
    min_sev = Severity.parse(severity) if severity else None
    printer = DiagnosticPrinter(max_warnings, quiet)
    pipe = Pipeline(on_diagnostic=printer)
    pipe.stats.sources = [str(f) for f in files]
    frames = progress_frames(read_frames(files, pipe._report), files, progress)
    fail_level = Severity.parse(fail_on) if fail_on else None
    failing = False

    def trim(ac: AnalyzedCall) -> AnalyzedCall:
        anns = tuple(a for a in ac.annotations if keep_annotation(a, min_sev, rules))
        return ac if anns == ac.annotations else dataclasses.replace(ac, annotations=anns)

    if fmt in ("json", "ndjson"):
        writer = JsonWriter(sys.stdout) if fmt == "json" else NdjsonWriter(sys.stdout)
        for ac in pipe.run(frames):
            if flt.matches(ac):
                ac = trim(ac)
                writer.add(ac)
                failing = failing or _fails(ac, fail_level)
        late = _late(pipe, min_sev, rules)
        writer.close(pipe.stats, pipe.diagnostics, late)
        printer.close()
        failing = failing or any(
            fail_level is not None and a.severity >= fail_level for v in late.values() for a in v
        )
        sys.exit(1 if failing else 0)

    kept: list[AnalyzedCall] = []
    for ac in pipe.run(frames):
        if not flt.matches(ac):
            continue
        ac = trim(ac)
        if not show_flow and not ac.annotations:
            ac = dataclasses.replace(ac, call=dataclasses.replace(ac.call, messages=()))
        kept.append(ac)
    kept = pipe.attach_late(kept)
    kept.sort(key=lambda ac: ac.call.start_ns)
    failing = any(_fails(ac, fail_level) for ac in kept)
    printer.close()
    console = make_console(no_color=no_color)
    console.print(summary_view(pipe.stats))
    console.print()
    console.print(calls_table(kept, limit=limit or None))
    noted = [ac for ac in kept if ac.annotations and (ac.call.failed or ac.worst != Severity.INFO)]
    if noted:
        console.print()
        console.print(
            f"Diagnosis ({len(noted)} call{'s' if len(noted) != 1 else ''})",
            style="bold underline",
        )
        for ac in noted:
            console.print(annotation_block(ac, ac.annotations))
            console.print()
    if show_flow:
        for ac in kept:
            console.print(ladder_renderable(ac, ascii_only=ascii_only))
    sys.exit(1 if failing else 0)


def _late(
    pipe: Pipeline, min_sev: Severity | None, rules: tuple[str, ...]
) -> dict[str, list[Annotation]]:
    return {
        k: kept
        for k, v in pipe.late_annotations.items()
        if (kept := [a for a in v if keep_annotation(a, min_sev, rules)])
    }


def _fails(ac: AnalyzedCall, level: Severity | None) -> bool:
    return level is not None and any(a.severity >= level for a in ac.annotations)


COMMANDS = [analyze]
