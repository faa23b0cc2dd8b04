"""A progress bar on stderr for long reads (bytes of total, frames/s), nothing on a pipe."""

from __future__ import annotations

import sys
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)

from ..capture.sources import FrameSource, total_size

__all__ = ["progress_frames"]

_MIN_BYTES = 20 * 1024 * 1024  # below this a run takes well under a second: no bar


def progress_frames(frames: FrameSource, files: list[Path], enabled: bool | None) -> FrameSource:
    """Attach a progress bar (bytes of total, frames/s) to a source when enabled.

    The bar starts at the first report and disappears when the read ends; both
    engines report to it (the Python readers every 4096 frames, the native core
    every batch).
    """
    total = total_size(files)
    if enabled is None:
        enabled = sys.stderr.isatty() and total >= _MIN_BYTES
    if enabled:
        frames.progress = _Bar(total)
    return frames


class _Bar:
    """A transient rich progress bar on stderr."""

    def __init__(self, total: int) -> None:
        self._total = total
        self._bar: Progress | None = None
        self._task: TaskID | None = None

    def update(self, done_bytes: int, frames: int) -> None:
        if self._bar is None:
            console = Console(file=sys.stderr, highlight=False, markup=False)
            self._bar = Progress(
                TextColumn("reading"),
                BarColumn(),
                DownloadColumn(),
                TextColumn("{task.fields[rate]}"),
                TimeRemainingColumn(),
                console=console,
                transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task("read", total=self._total, rate="")
        assert self._task is not None
        elapsed = self._bar.tasks[0].elapsed or 1e-9
        self._bar.update(
            self._task,
            completed=min(done_bytes, self._total),
            rate=f"{frames / elapsed:,.0f} frames/s",
        )

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
