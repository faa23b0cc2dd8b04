"""``sipsniff analyze``: summary, call table, annotations; or a JSON/NDJSON document."""

from __future__ import annotations

import dataclasses
import os
import sys
import tempfile
from typing import Any

import click

from .. import shards
from ..analysis import AnalyzedCall
from ..annotate.annotation import Annotation
from ..annotate.knowledge import Severity
from ..annotate.rules import rule_ids
from ..capture.sources import FrameSource, expand_paths
from ..filters import CallFilter
from ..pipeline import Pipeline
from ..render.json_report import JsonWriter, NdjsonWriter, SpoolPart, SpoolWriter
from ..render.summary import annotation_block, calls_table, summary_view
from ..render.terminal import ladder_renderable
from ..shards import auto_jobs
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
@click.option(
    "--jobs",
    "-j",
    default="auto",
    show_default=True,
    metavar="N|auto",
    type=click.UNPROCESSED,
    callback=lambda _ctx, _param, v: _jobs(v),
    help="Processes sharing the work by Call-ID (auto: one per core on captures of "
    "32 MB or more). Output is the same for any N.",
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
    jobs: str,
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
    fail_level = Severity.parse(fail_on) if fail_on else None
    n_jobs = auto_jobs(files) if jobs == "auto" else int(jobs)
    select = _Select(flt, min_sev, rules, fail_level)

    def wrap(frames: FrameSource) -> FrameSource:
        return progress_frames(frames, files, progress)

    if fmt in ("json", "ndjson"):
        main_pid = os.getpid()
        with tempfile.TemporaryDirectory(prefix="sipsniff-") as spool_dir:
            run = shards.run(
                files,
                lambda: _JsonCollector(select, fmt, spool_dir, main_pid),
                jobs=n_jobs,
                max_open_dialogs=max_open_dialogs,
                on_diagnostic=printer,
                wrap_frames=wrap,
            )
            pipe = run.pipeline
            writer = JsonWriter(sys.stdout) if fmt == "json" else NdjsonWriter(sys.stdout)
            selected: set[str] | None = None if flt == CallFilter() else set()
            failing = False
            for part in run.collected:
                if part.spool is not None:
                    writer.adopt(part.spool)
                failing = failing or part.failing
                if selected is not None:
                    selected.update(part.selected)
            late = _late(pipe, min_sev, rules, selected)
            writer.close(pipe.stats, pipe.diagnostics, late)
        printer.close()
        failing = failing or any(
            fail_level is not None and a.severity >= fail_level for v in late.values() for a in v
        )
        sys.exit(1 if failing else 0)

    # Memory stays flat on any capture: only the earliest ``limit`` calls of the
    # table and of the diagnosis are kept (messages released), the rest counted.
    run_t = shards.run(
        files,
        lambda: _TableCollector(select, limit, show_flow),
        jobs=n_jobs,
        max_open_dialogs=max_open_dialogs,
        on_diagnostic=printer,
        wrap_frames=wrap,
    )
    pipe = run_t.pipeline
    table = _Earliest(limit)
    noted = _Earliest(limit)
    failing = False
    for part_t in run_t.collected:
        table.absorb(part_t.table)
        noted.absorb(part_t.noted)
        failing = failing or part_t.failing
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


@dataclasses.dataclass(frozen=True, slots=True)
class _Select:
    """The display options every shard applies to its calls."""

    flt: CallFilter
    min_sev: Severity | None
    rules: tuple[str, ...]
    fail_level: Severity | None

    def pick(self, ac: AnalyzedCall) -> AnalyzedCall | None:
        """The call with only the annotations shown, or None when the filter drops it."""
        if not self.flt.matches(ac):
            return None
        anns = tuple(a for a in ac.annotations if keep_annotation(a, self.min_sev, self.rules))
        return ac if anns == ac.annotations else dataclasses.replace(ac, annotations=anns)

    def fails(self, ac: AnalyzedCall) -> bool:
        return _fails(ac, self.fail_level)


@dataclasses.dataclass(frozen=True, slots=True)
class _TablePart:
    table: _Earliest
    noted: _Earliest
    failing: bool


class _TableCollector:
    """One shard's share of the text output: the earliest calls and diagnoses."""

    def __init__(self, select: _Select, limit: int, show_flow: bool) -> None:
        self._select = select
        self._show_flow = show_flow
        self.table = _Earliest(limit)
        self.noted = _Earliest(limit)
        self.failing = False

    def add(self, ac: AnalyzedCall) -> None:
        picked = self._select.pick(ac)
        if picked is None:
            return
        self.failing = self.failing or self._select.fails(picked)
        key = _order(picked)
        in_table = self.table.wants(key)
        noted = _noteworthy(picked)
        in_noted = noted and self.noted.wants(key)
        if (in_table or in_noted) and not self._show_flow:
            picked = dataclasses.replace(picked, call=dataclasses.replace(picked.call, messages=()))
        self.table.add(key, picked if in_table else None)
        if noted:
            self.noted.add(key, picked if in_noted else None)

    def result(self) -> _TablePart:
        return _TablePart(self.table, self.noted, self.failing)


@dataclasses.dataclass(frozen=True, slots=True)
class _JsonPart:
    spool: SpoolPart | None
    selected: frozenset[str]
    failing: bool


class _JsonCollector:
    """One shard's share of a JSON/NDJSON document: a spool file and its index.

    NDJSON from the calling process streams straight to stdout, a line per call as
    it finishes; forked shards spool theirs, copied after it.
    """

    def __init__(self, select: _Select, fmt: str, spool_dir: str, main_pid: int) -> None:
        self._select = select
        self._writer: SpoolWriter | NdjsonWriter = (
            NdjsonWriter(sys.stdout)
            if fmt == "ndjson" and os.getpid() == main_pid
            else SpoolWriter(spool_dir, ndjson=fmt == "ndjson")
        )
        self.selected: set[str] = set()
        self.failing = False

    def add(self, ac: AnalyzedCall) -> None:
        picked = self._select.pick(ac)
        if picked is None:
            return
        self._writer.add(picked)
        self.selected.add(picked.call.call_id)
        self.failing = self.failing or self._select.fails(picked)

    def result(self) -> _JsonPart:
        w = self._writer
        spool = w.part() if isinstance(w, SpoolWriter) else None
        return _JsonPart(spool, frozenset(self.selected), self.failing)


def _jobs(value: str) -> str:
    if value == "auto" or (value.isdigit() and 1 <= int(value) <= 64):
        return value
    raise click.BadParameter(f"{value!r}: give a number of processes (1-64) or 'auto'")


def _noteworthy(ac: AnalyzedCall) -> bool:
    """Does a call earn a diagnosis block (failed, or anything above info)?"""
    return bool(ac.annotations) and (ac.call.failed or ac.worst != Severity.INFO)


def _order(ac: AnalyzedCall) -> tuple[int, int, str]:
    """Table order: start time, then first frame, then Call-ID (the same in any shard)."""
    c = ac.call
    return (c.start_ns, c.messages[0].frame if c.messages else 0, c.call_id)


class _Earliest:
    """Keeps the ``limit`` earliest calls by ``_order`` (all when limit is 0), counting the rest."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.seen = 0
        self._kept: list[tuple[tuple[int, int, str], AnalyzedCall]] = []
        self._bound: tuple[int, int, str] | None = None
        """The latest key kept once ``limit`` are kept: later calls need not be."""

    def wants(self, key: tuple[int, int, str]) -> bool:
        """Could a call with this key still be among the earliest ``limit``?"""
        return self._bound is None or key < self._bound

    def add(self, key: tuple[int, int, str], ac: AnalyzedCall | None) -> None:
        """Count a call; keep it unless ``wants`` said no (then ``ac`` may be None)."""
        self.seen += 1
        if ac is None or not self.wants(key):
            return
        self._kept.append((key, ac))
        if self.limit and len(self._kept) >= 2 * self.limit:
            self._trim()

    def absorb(self, other: _Earliest) -> None:
        """Merge another shard's calls (and count)."""
        self.seen += other.seen
        self._kept.extend(other._kept)
        self._trim()

    def _trim(self) -> None:
        self._kept.sort(key=lambda item: item[0])
        if self.limit and len(self._kept) >= self.limit:
            del self._kept[self.limit :]
            self._bound = self._kept[-1][0]

    def sorted(self) -> list[AnalyzedCall]:
        self._trim()
        return [ac for _k, ac in self._kept]


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
