"""Parallel analysis of capture files: one process per shard of Call-IDs.

Strategy: a SIP analysis is embarrassingly parallel by Call-ID, but a capture
is one stream of frames that only its reader can cut into messages.  So every
shard reads and decodes *every* frame (cheap: about a tenth of the work), and
the costly part -- parsing, tracking dialogs, running the rules, serialising
-- is done only for the messages whose Call-ID hashes to the shard
(``sip.framing.shard_of``).  Nothing crosses a process boundary per message:
each shard hands back, once, its counters, its diagnostics, its cross-call
rules' observations and what its ``Collector`` kept (the calls a table shows, a
JSON spool's index...), and the parent merges them.

Shard 0 runs in the calling process (it owns the progress bar and every
diagnostic about the bytes around messages); the others are forked children.
With ``jobs == 1`` this is the plain serial pipeline, diagnostics streamed as
they happen.

Rules:
- Every figure of the merged analysis equals the serial one: shard 0 alone
  counts frames, payloads and framing problems; message, call and annotation
  counters are summed; cross-call rules are merged (``ManyCallRule.merge``)
  before they conclude.
- The bound on open dialogs is divided between the shards, so memory stays
  that of one serial run in total.
- A UDP datagram belongs to the shard of its first message (a datagram almost
  always holds one): a second message with another Call-ID in the same
  datagram is tracked in that shard, which may publish its call as two records.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from .analysis import MAX_KEPT_DIAGNOSTICS, AnalyzedCall, Stats
from .annotate.rules import ManyCallRule
from .capture.sources import read_frames
from .diagnostics import Diagnostic
from .dialogs.tracker import MAX_OPEN_DIALOGS
from .pipeline import Pipeline

__all__ = ["Collector", "Sharded", "auto_jobs", "run"]

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

# Below this much capture a serial run takes a second or two: forking costs more
# than it saves, and small runs keep diagnostics streaming live.
_AUTO_MIN_BYTES = 32 * 1024 * 1024
_MAX_AUTO_JOBS = 8


class Collector(Protocol[T_co]):
    """What a command keeps of the finished calls in one shard."""

    def add(self, ac: AnalyzedCall) -> None: ...

    def result(self) -> T_co:
        """What the parent needs of this shard; must pickle (it crosses a pipe)."""
        ...


@dataclass(frozen=True, slots=True)
class _Outcome(Generic[T]):
    stats: Stats
    diagnostics: list[Diagnostic]
    cross_rules: list[ManyCallRule]
    collected: T


@dataclass(frozen=True, slots=True)
class Sharded(Generic[T]):
    """The merged analysis: ``pipeline`` holds the summed counters, the merged
    diagnostics and the cross-call annotations (``attach_late``); ``collected``
    has each shard's collector result, shard 0 first."""

    pipeline: Pipeline
    collected: list[T]


def auto_jobs(files: Sequence[Path]) -> int:
    """How many shards ``--jobs auto`` uses: one per usable core on big captures."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    if cores < 2:
        return 1
    size = 0
    for f in files:
        try:
            size += f.stat().st_size
        except OSError:
            continue
    return min(cores, _MAX_AUTO_JOBS) if size >= _AUTO_MIN_BYTES else 1


def run(
    files: Sequence[Path],
    make_collector: Callable[[], Collector[T]],
    *,
    jobs: int = 1,
    max_open_dialogs: int | None = None,
    on_diagnostic: Callable[[Diagnostic], None] | None = None,
    wrap_frames: Callable[[Any], Any] | None = None,
) -> Sharded[T]:
    """Analyse ``files`` in ``jobs`` shards and merge them.

    Args:
        make_collector: builds one collector per shard (called in that shard).
        on_diagnostic: receives every diagnostic; live when ``jobs == 1``, else
            in frame order once all shards are done.
        wrap_frames: wraps shard 0's frame iterator (a progress bar).

    Raises:
        CaptureError: a source cannot be read (whichever shard met it first).
    """
    jobs = max(1, jobs)
    if jobs == 1:
        pipe, mine = _shard(
            files, None, max_open_dialogs, make_collector, wrap_frames, on_diagnostic
        )
        # streamed live as they came; kept in the order a sharded run keeps them
        pipe.diagnostics.sort(key=_diagnostic_order)
        return Sharded(pipeline=pipe, collected=[mine])

    per_shard = -(-(max_open_dialogs or MAX_OPEN_DIALOGS) // jobs)
    ctx = multiprocessing.get_context("fork")
    # A child flushes the stdio buffers it inherited when it exits: empty them first.
    sys.stdout.flush()
    sys.stderr.flush()
    children: list[tuple[Any, Connection]] = []
    for k in range(1, jobs):
        parent_end, child_end = ctx.Pipe(duplex=False)
        proc = ctx.Process(
            target=_child,
            args=(child_end, files, (k, jobs), per_shard, make_collector),
            daemon=True,
        )
        proc.start()
        child_end.close()
        children.append((proc, parent_end))
    try:
        pipe, mine = _shard(files, (0, jobs), per_shard, make_collector, wrap_frames)
        outcomes = [_receive(proc, conn) for proc, conn in children]
    finally:
        for proc, conn in children:
            conn.close()
            if proc.is_alive():
                proc.terminate()
            proc.join()
    collected = [mine]
    for out in outcomes:
        pipe.stats.add_shard(out.stats)
        pipe.diagnostics.extend(out.diagnostics)
        for rule, theirs in zip(pipe.cross_rules, out.cross_rules, strict=True):
            rule.merge(theirs)
        collected.append(out.collected)
    pipe.diagnostics.sort(key=_diagnostic_order)
    del pipe.diagnostics[MAX_KEPT_DIAGNOSTICS:]
    pipe.finish_cross_rules()
    if on_diagnostic is not None:
        for d in pipe.diagnostics:
            on_diagnostic(d)
    return Sharded(pipeline=pipe, collected=collected)


def _diagnostic_order(d: Diagnostic) -> tuple[int, str, str, str]:
    """Frame order, then a total order: the same list whichever shard found what."""
    return (d.frame, d.stage, d.trigger, d.detail)


def _shard(
    files: Sequence[Path],
    shard: tuple[int, int] | None,
    max_open: int | None,
    make_collector: Callable[[], Collector[T]],
    wrap_frames: Callable[[Any], Any] | None = None,
    on_diagnostic: Callable[[Diagnostic], None] | None = None,
) -> tuple[Pipeline, T]:
    """Run one shard (``None``: the whole serial analysis) in this process."""
    pipe = Pipeline(max_open_dialogs=max_open, shard=shard, on_diagnostic=on_diagnostic)
    pipe.stats.sources = [str(f) for f in files]
    collector = make_collector()
    frames: Any = read_frames(files, pipe.source_report)
    if wrap_frames is not None:
        frames = wrap_frames(frames)
    for ac in pipe.run(frames):
        collector.add(ac)
    return pipe, collector.result()


def _child(
    conn: Connection,
    files: Sequence[Path],
    shard: tuple[int, int],
    max_open: int,
    make_collector: Callable[[], Collector[T]],
) -> None:
    """A forked shard: run, send the outcome (or the exception) once, exit."""
    try:
        pipe, collected = _shard(files, shard, max_open, make_collector)
        _send(conn, _Outcome(pipe.stats, pipe.diagnostics, pipe.cross_rules, collected))
    except KeyboardInterrupt:
        pass  # Ctrl-C reached the whole process group: the parent reports it
    except BaseException as exc:  # noqa: BLE001 - the parent re-raises it
        try:
            _send(conn, exc)
        except Exception:  # noqa: BLE001 - an exception that does not pickle
            _send(conn, RuntimeError("".join(traceback.format_exception(exc))))
    finally:
        conn.close()


def _send(conn: Connection, obj: object) -> None:
    """Send to the parent; a parent that stopped listening (interrupted) is not an error."""
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        conn.send(obj)


def _receive(proc: Any, conn: Connection) -> _Outcome[Any]:
    try:
        got = conn.recv()
    except EOFError:
        proc.join()
        raise RuntimeError(f"a shard of the analysis died (exit code {proc.exitcode})") from None
    if isinstance(got, BaseException):
        raise got
    assert isinstance(got, _Outcome)
    return got
