"""A progress bar on stderr for long reads (bytes of total, frames/s), nothing on a pipe."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from ..capture.frame import Frame
from ..capture.sources import total_size

__all__ = ["progress_frames"]

_MIN_BYTES = 20 * 1024 * 1024  # below this a run takes well under a second: no bar


def progress_frames(
    frames: Iterable[Frame], files: list[Path], enabled: bool | None
) -> Iterator[Frame]:
    """Yield frames unchanged, updating a progress bar every 4096 frames when enabled."""
    total = total_size(files)
    if enabled is None:
        enabled = sys.stderr.isatty() and total >= _MIN_BYTES
    if not enabled:
        yield from frames
        return
    console = Console(file=sys.stderr, highlight=False, markup=False)
    with Progress(
        TextColumn("reading"),
        BarColumn(),
        DownloadColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("read", total=total, rate="")
        done = 0
        for n, fr in enumerate(frames, 1):
            done += len(fr.data) + 16
            if n & 4095 == 0:
                elapsed = bar.tasks[0].elapsed or 1e-9
                bar.update(task, completed=min(done, total), rate=f"{n / elapsed:,.0f} frames/s")
            yield fr
