"""``sipsniff analyze``: summary, call table, annotations; or a JSON/NDJSON document."""

from __future__ import annotations

import dataclasses
import heapq
import sys
from typing import Any

import click

from ..analysis import AnalyzedCall
from ..annotate.annotation import Annotation
from ..annotate.knowledge import Severity
from ..annotate.rules import rule_ids
from ..capture.sources import expand_paths, read_frames
from ..filters import CallFilter
from ..pipeline import Pipeline
from ..render.json_report import JsonWriter, NdjsonWriter
from ..render.summary import annotation_block, calls_table, summary_view
from ..render.terminal import ladder_renderable
from ._common import (
    DiagnosticPrinter,
    build_filter,
    filter_options,
    make_console,
    severity_type,
    warning_options,
)
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
    "--limit",
    type=int,
    default=200,
    show_default=True,
    help="Calls shown in the table and in the diagnosis (0: all, and memory then grows).",
)
@click.option(
    "--max-open-dialogs",
    type=click.IntRange(min=100),
    default=None,
    help="Bound on calls held open at once (default 15,000, about 7 KB each); "
    "past it the least recently active is published early and counted.",
)
@click.option("--flow", "show_flow", is_flag=True, help="Also draw each selected call's ladder.")
@click.option("--ascii", "ascii_only", is_flag=True, help="With --flow: pure ASCII ladders.")
@click.option("--no-color", is_flag=True, help="No colours even on a terminal.")
@warning_options()
def analyze(
    paths: tuple[str, ...],
    fmt: str,
    severity: str | None,
    rules: tuple[str, ...],
    fail_on: str | None,
    limit: int,
    max_open_dialogs: int | None,
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
    pipe = Pipeline(on_diagnostic=printer, max_open_dialogs=max_open_dialogs)
    pipe.stats.sources = [str(f) for f in files]
    frames = progress_frames(read_frames(files, pipe._report), files, progress)
    fail_level = Severity.parse(fail_on) if fail_on else None
    failing = False

    def trim(ac: AnalyzedCall) -> AnalyzedCall:
        anns = tuple(a for a in ac.annotations if keep_annotation(a, min_sev, rules))
        return ac if anns == ac.annotations else dataclasses.replace(ac, annotations=anns)

    if fmt in ("json", "ndjson"):
        writer = JsonWriter(sys.stdout) if fmt == "json" else NdjsonWriter(sys.stdout)
        selected: set[str] | None = None if flt == CallFilter() else set()
        for ac in pipe.run(frames):
            if flt.matches(ac):
                ac = trim(ac)
                writer.add(ac)
                if selected is not None:
                    selected.add(ac.call.call_id)
                failing = failing or _fails(ac, fail_level)
        late = _late(pipe, min_sev, rules, selected)
        writer.close(pipe.stats, pipe.diagnostics, late)
        printer.close()
        failing = failing or any(
            fail_level is not None and a.severity >= fail_level for v in late.values() for a in v
        )
        sys.exit(1 if failing else 0)

    # Memory stays flat on any capture: only the earliest ``limit`` calls of the
    # table and of the diagnosis are kept (messages released), the rest counted.
    table = _Earliest(limit)
    noted = _Earliest(limit)
    for ac in pipe.run(frames):
        if not flt.matches(ac):
            continue
        ac = trim(ac)
        failing = failing or _fails(ac, fail_level)
        if not show_flow:
            ac = dataclasses.replace(ac, call=dataclasses.replace(ac.call, messages=()))
        table.add(ac)
        if _noteworthy(ac):
            noted.add(ac)
    late = _late(pipe, min_sev, rules)
    failing = failing or any(
        fail_level is not None and a.severity >= fail_level for v in late.values() for a in v
    )
    rows = pipe.attach_late(table.sorted())
    diagnosed = [ac for ac in pipe.attach_late(noted.sorted()) if _noteworthy(ac)]
    printer.close()
    console = make_console(no_color=no_color)
    console.print(summary_view(pipe.stats))
    console.print()
    console.print(calls_table(rows, total=table.seen))
    if diagnosed:
        console.print()
        console.print(
            f"Diagnosis ({noted.seen} call{'s' if noted.seen != 1 else ''})",
            style="bold underline",
        )
        for ac in diagnosed:
            console.print(annotation_block(ac, ac.annotations))
            console.print()
        if noted.seen > len(diagnosed):
            console.print(
                f"{noted.seen - len(diagnosed)} more diagnosed calls not shown "
                "(use --limit 0, or --format json)",
                style="dim",
            )
    if show_flow:
        for ac in rows:
            console.print(ladder_renderable(ac, ascii_only=ascii_only))
    sys.exit(1 if failing else 0)


def _noteworthy(ac: AnalyzedCall) -> bool:
    """Does a call earn a diagnosis block (failed, or anything above info)?"""
    return bool(ac.annotations) and (ac.call.failed or ac.worst != Severity.INFO)


class _Earliest:
    """Keeps the ``limit`` earliest-starting calls (all when limit is 0), counting the rest."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.seen = 0
        self._heap: list[tuple[int, int, AnalyzedCall]] = []

    def add(self, ac: AnalyzedCall) -> None:
        self.seen += 1
        item = (-ac.call.start_ns, -self.seen, ac)
        if not self.limit or len(self._heap) < self.limit:
            heapq.heappush(self._heap, item)
        elif item > self._heap[0]:
            heapq.heapreplace(self._heap, item)

    def sorted(self) -> list[AnalyzedCall]:
        return [ac for _k, _n, ac in sorted(self._heap, reverse=True)]


def _late(
    pipe: Pipeline,
    min_sev: Severity | None,
    rules: tuple[str, ...],
    selected: set[str] | None = None,
) -> dict[str, list[Annotation]]:
    """Cross-call annotations that pass the display options, for selected calls only."""
    return {
        k: kept
        for k, v in pipe.late_annotations.items()
        if (selected is None or k in selected)
        and (kept := [a for a in v if keep_annotation(a, min_sev, rules)])
    }


def _fails(ac: AnalyzedCall, level: Severity | None) -> bool:
    return level is not None and any(a.severity >= level for a in ac.annotations)


COMMANDS = [analyze]
