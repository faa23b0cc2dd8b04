"""Capture sources: files (pcap, pcapng, gzip-compressed), several files, rotated directories.

Strategy: sniff the format from the first bytes, never from the file name.
Several files are merged in time order by a k-way heap merge of their
streams, so memory holds one pending frame per file; frames are then
renumbered from 1 in merged order, which is what Wireshark shows for the
mergecap'd file.  A directory stands for its capture files sorted by name
(rotated files ``capture_00001_...pcap`` sort naturally).

A gzip file cut short (a rotated capture still being written, an interrupted
copy) or damaged in its compressed data reads like a truncated capture: the
frames before the damage are kept and one ``truncated-file`` diagnostic says
how many were loaded, instead of losing the whole file to a read error.
"""

from __future__ import annotations

import dataclasses
import gzip
import heapq
import io
import os
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO, Protocol

from ..diagnostics import CaptureError, Diagnostic, Stage, Trigger
from .frame import Frame
from .pcap import MAGICS, iter_pcap
from .pcapng import SHB_MAGIC, iter_pcapng

__all__ = ["FrameSource", "Progress", "expand_paths", "open_capture", "read_frames", "total_size"]

_CAPTURE_SUFFIXES = (".pcap", ".pcapng", ".cap", ".pcap.gz", ".pcapng.gz", ".gz")


def expand_paths(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Turn the user's arguments into a list of capture files.

    Raises:
        CaptureError: a path does not exist, cannot be read, or a directory has no captures.
    """
    out: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            try:
                found = sorted(
                    c for c in p.iterdir() if c.is_file() and c.name.endswith(_CAPTURE_SUFFIXES)
                )
            except OSError as exc:
                raise CaptureError(f"{p}: cannot list directory: {exc.strerror}") from exc
            if not found:
                raise CaptureError(
                    f"{p}: directory holds no capture files (*.pcap, *.pcapng, *.gz)"
                )
            out.extend(found)
        elif p.exists():
            if not os.access(p, os.R_OK):
                raise CaptureError(f"{p}: permission denied")
            out.append(p)
        else:
            raise CaptureError(f"{p}: no such file or directory")
    return out


def total_size(paths: Iterable[Path]) -> int:
    """Total bytes on disk, for progress bars."""
    return sum(p.stat().st_size for p in paths)


class _GzipRaw(io.RawIOBase):
    """Decompressed gzip data that ends cleanly where the compressed data is cut or damaged.

    ``GzipFile.read`` raises ``EOFError`` for a cut file and loses what the
    failing call had decompressed; ``read1`` returns every byte up to the damage,
    and the reason is kept in ``damage`` for the caller to report.
    """

    def __init__(self, fp: BinaryIO) -> None:
        super().__init__()
        self._fp = fp
        self._gz = gzip.GzipFile(fileobj=fp, mode="rb")
        self.damage = ""
        """Why the data ended early ('' when it ended normally)."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self.damage:
            return 0
        view = memoryview(buffer).cast("B")
        got = 0
        while got < len(view):  # fill the buffer, so a peek sees the damage too
            try:
                data = self._gz.read1(len(view) - got)
            except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
                self.damage = str(exc) or type(exc).__name__
                break
            if not data:
                break
            view[got : got + len(data)] = data
            got += len(data)
        return got

    def close(self) -> None:
        if not self.closed:
            self._gz.close()
            self._fp.close()
        super().close()


def open_capture(path: Path) -> io.BufferedReader:
    """Open a capture file, transparently decompressing gzip.

    Raises:
        CaptureError: the file cannot be opened.
    """
    try:
        fp = open(path, "rb")  # noqa: SIM115 - returned to the caller
    except OSError as exc:
        raise CaptureError(f"{path}: {exc.strerror or exc}") from exc
    if fp.peek(2)[:2] == b"\x1f\x8b":
        return io.BufferedReader(_GzipRaw(fp), buffer_size=1 << 16)
    return fp


def _gzip_damage(fp: io.BufferedReader) -> str:
    """Why a gzip capture's data ended early ('' for plain files and intact gzip)."""
    raw = fp.raw
    return raw.damage if isinstance(raw, _GzipRaw) else ""


def _sniff(path: Path, fp: io.BufferedReader) -> bytes:
    """The first four bytes, without consuming them.

    Raises:
        CaptureError: the file cannot be read, or is not a pcap or pcapng capture.
    """
    try:
        magic = fp.peek(4)[:4]
    except OSError as exc:
        raise CaptureError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    if magic in MAGICS or magic == SHB_MAGIC:
        return magic
    if damage := _gzip_damage(fp):
        raise CaptureError(f"{path}: damaged gzip data: {damage}")
    raise CaptureError(
        f"{path}: not a pcap or pcapng capture (starts with {magic.hex() or 'nothing'})"
    )


def _iter_one(
    path: Path, report: Callable[[Diagnostic], None], first_number: int
) -> Iterator[Frame]:
    fp = open_capture(path)
    with fp:
        magic = _sniff(path, fp)
        truncated = 0

        def note(d: Diagnostic) -> None:
            nonlocal truncated
            truncated += d.trigger == Trigger.TRUNCATED_FILE
            report(d)

        reader = iter_pcap if magic in MAGICS else iter_pcapng
        number = first_number
        try:
            for fr in reader(fp, name=str(path), report=note, first_number=first_number):
                number = fr.number + 1
                yield fr
        except OSError as exc:
            raise CaptureError(f"{path}: read error: {exc.strerror or exc}") from exc
        damage = _gzip_damage(fp)
        if damage and not truncated:
            # the cut fell between two records, so the reader saw a clean end
            report(
                Diagnostic(
                    frame=number,
                    stage=Stage.CAPTURE,
                    trigger=Trigger.TRUNCATED_FILE,
                    detail=f"{path}: compressed data ends early ({damage}); "
                    f"{number - first_number} frames loaded",
                )
            )


class Progress(Protocol):
    """Where a long read reports how far it got (the command line's progress bar)."""

    def update(self, done_bytes: int, frames: int) -> None: ...

    def close(self) -> None: ...


class FrameSource:
    """The frames of one or more capture sources, merged in time order: an iterator.

    Iterating reads with the Python readers.  The native engine asks
    ``plain_file`` whether this is one uncompressed capture file, which it then
    reads itself, so no frame becomes a Python object unless it must.  Either
    way, errors surface when reading starts, never at construction.
    """

    def __init__(
        self, paths: Iterable[str | os.PathLike[str]], report: Callable[[Diagnostic], None]
    ) -> None:
        self._paths = list(paths)
        self.report = report
        """Receives capture diagnostics (truncated files...)."""
        self.progress: Progress | None = None
        """Told every few thousand frames how far the read got, and when it ends."""
        self._frames: Iterator[Frame] | None = None

    def __iter__(self) -> Iterator[Frame]:
        return self

    def __next__(self) -> Frame:
        if self._frames is None:
            frames = _read(self._paths, self.report)
            self._frames = frames if self.progress is None else self._counted(frames, self.progress)
        return next(self._frames)

    @staticmethod
    def _counted(frames: Iterator[Frame], progress: Progress) -> Iterator[Frame]:
        done = 0
        try:
            for n, fr in enumerate(frames, 1):
                done += len(fr.data) + 16
                if n & 4095 == 0:
                    progress.update(done, n)
                yield fr
        finally:
            progress.close()

    def plain_file(self) -> Path | None:
        """The one uncompressed pcap/pcapng file this source reads, or None.

        Raises:
            CaptureError: as reading would (missing, unreadable, not a capture).
        """
        files = expand_paths(self._paths)
        if len(files) != 1:
            return None
        with open_capture(files[0]) as fp:
            _sniff(files[0], fp)
            if isinstance(fp.raw, _GzipRaw):
                return None
        return files[0]


def read_frames(
    paths: Iterable[str | os.PathLike[str]], report: Callable[[Diagnostic], None]
) -> FrameSource:
    """The frames of one or more capture sources, merged in time order.

    Args:
        paths: files or directories, as given on the command line.
        report: receives capture diagnostics (truncated files...).

    Iterating raises ``CaptureError`` when a source is missing, unreadable, or
    not a capture.
    """
    return FrameSource(paths, report)


def _read(
    paths: Iterable[str | os.PathLike[str]], report: Callable[[Diagnostic], None]
) -> Iterator[Frame]:
    """Yield the frames of every source, merged in time order and renumbered."""
    files = expand_paths(paths)
    if len(files) == 1:
        yield from _iter_one(files[0], report, 1)
        return
    # Validate every file up front so a bad one fails before output starts.
    for f in files:
        with open_capture(f) as fp:
            _sniff(f, fp)
    number = 0

    def renumber(d: Diagnostic) -> None:
        # A file's own frame numbers mean nothing once merged: cite the merged frame
        # at which the problem was noticed (the merge reads each file one frame ahead).
        report(dataclasses.replace(d, frame=number + 1))

    streams = [_iter_one(f, renumber, 1) for f in files]
    merged = heapq.merge(*streams, key=lambda fr: fr.ts_ns)
    for number, fr in enumerate(merged, 1):  # renumber() reads `number`
        yield fr._replace(number=number)
