"""Loading a capture off the UI thread: the pipeline runs in a worker, calls arrive in batches.

Strategy: ``load`` is the body of a worker thread.  It runs the same
``Pipeline`` as ``analyze`` over ``read_frames`` and hands finished calls to
``on_batch`` at most every ``BATCH_SECONDS`` (and at the end), with the
progress so far, so the list fills while the file is read and the UI thread
is never asked to redraw per call.  When the input ends, the cross-call
annotations (known only then) are attached and ``on_done`` receives the final
calls, the counters and the diagnostics.

Rules:
- The worker never touches a widget: the callbacks post messages to the app.
- ``stop`` (a ``threading.Event``) is checked between frames: quitting while
  a big file loads ends the thread within a frame batch.
- A source that fails mid-read (``CaptureError``) ends the load like the end
  of the input, with what was read; the error is handed to ``on_done``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..analysis import AnalyzedCall, Stats
from ..capture.frame import Frame
from ..capture.sources import read_frames, total_size
from ..diagnostics import CaptureError, Diagnostic
from ..pipeline import Pipeline

__all__ = ["BATCH_SECONDS", "LoadResult", "Progress", "load"]

BATCH_SECONDS = 0.2
"""Calls are handed over at most this often: five list updates a second look live, and
leave the UI thread nearly all its time for keys."""
_STOP_EVERY = 256
"""Frames between two looks at the stop flag."""


class _Stopped(Exception):
    """Raised in the frame stream when the app asked the load to stop."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Progress:
    """How far the load is."""

    bytes_read: int
    bytes_total: int
    frames: int
    calls: int
    done: bool = False

    @property
    def fraction(self) -> float:
        if self.done or not self.bytes_total:
            return 1.0
        return min(self.bytes_read / self.bytes_total, 1.0)


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadResult:
    """The end of a load."""

    calls: list[AnalyzedCall]
    """Every call, in the order of the batches, cross-call annotations attached."""
    stats: Stats
    diagnostics: list[Diagnostic]
    error: str = ""
    """Why the input ended early ('' when it was read to the end)."""
    stopped: bool = False
    seconds: float = 0.0


class _Run:
    """The state of one load: counters, the calls not handed over yet, the clock."""

    def __init__(
        self,
        total: int,
        on_batch: Callable[[list[AnalyzedCall], Progress], object],
        stop: threading.Event,
        batch_seconds: float,
    ) -> None:
        self.total = total
        self.on_batch = on_batch
        self.stop = stop
        self.batch_seconds = batch_seconds
        self.frames = 0
        self.bytes = 0
        self.every: list[AnalyzedCall] = []
        self.pending: list[AnalyzedCall] = []
        self.last = time.perf_counter()

    def progress(self, done: bool = False) -> Progress:
        return Progress(
            bytes_read=self.bytes,
            bytes_total=self.total,
            frames=self.frames,
            calls=len(self.every),
            done=done,
        )

    def flush(self, force: bool = False) -> None:
        """Hand the pending calls over (with the progress) if it is time, or if forced."""
        now = time.perf_counter()
        if force or now - self.last >= self.batch_seconds:
            self.on_batch(self.pending, self.progress())
            self.pending = []
            self.last = now

    def add(self, ac: AnalyzedCall) -> None:
        self.every.append(ac)
        self.pending.append(ac)
        self.flush()

    def watch(self, frames: Iterable[Frame]) -> Iterator[Frame]:
        """The frames, counted; progress goes out even while no call finishes."""
        for fr in frames:
            self.frames += 1
            self.bytes += len(fr.data) + 16
            if self.frames % _STOP_EVERY == 0:
                if self.stop.is_set():
                    raise _Stopped
                self.flush()
            yield fr


def load(
    files: list[Path],
    on_batch: Callable[[list[AnalyzedCall], Progress], object],
    on_done: Callable[[LoadResult], object],
    stop: threading.Event,
    *,
    batch_seconds: float = BATCH_SECONDS,
) -> None:
    """Analyse ``files`` and hand the calls over as they finish (a worker thread's body).

    Args:
        files: capture files, as ``expand_paths`` returns them.
        on_batch: receives newly finished calls (possibly none) and the progress.
        on_done: receives the final calls (cross-call annotations attached).
        stop: set it to end the load early.
        batch_seconds: the longest a finished call waits before it is handed over.
    """
    t0 = time.perf_counter()
    pipe = Pipeline()
    pipe.stats.sources = [str(f) for f in files]
    try:
        total = total_size(files)
    except OSError:
        total = 0
    run = _Run(total, on_batch, stop, batch_seconds)
    error = ""
    stopped = False
    try:
        for ac in pipe.run(run.watch(read_frames(files, pipe._report))):
            run.add(ac)
    except _Stopped:
        stopped = True
    except CaptureError as exc:
        error = str(exc)
        # what was read is still worth showing: flush the stages as at the end of input
        for ac in pipe.finish():
            run.add(ac)
    run.flush(force=True)
    final = run.every if stopped else pipe.attach_late(run.every)
    on_done(
        LoadResult(
            calls=final,
            stats=pipe.stats,
            diagnostics=list(pipe.diagnostics),
            error=error,
            stopped=stopped,
            seconds=time.perf_counter() - t0,
        )
    )
