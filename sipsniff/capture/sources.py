"""Capture sources: files (pcap, pcapng, gzip-compressed), several files, rotated directories.

Strategy: sniff the format from the first bytes, never from the file name.
Several files are merged in time order by a k-way heap merge of their
streams, so memory holds one pending frame per file; frames are then
renumbered from 1 in merged order, which is what Wireshark shows for the
mergecap'd file.  A directory stands for its capture files sorted by name
(rotated files ``capture_00001_...pcap`` sort naturally).
"""

from __future__ import annotations

import gzip
import heapq
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from ..diagnostics import CaptureError, Diagnostic
from .frame import Frame
from .pcap import MAGICS, iter_pcap
from .pcapng import SHB_MAGIC, iter_pcapng

__all__ = ["expand_paths", "open_capture", "read_frames", "total_size"]

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


def open_capture(path: Path) -> BinaryIO:
    """Open a capture file, transparently decompressing gzip.

    Raises:
        CaptureError: the file cannot be opened.
    """
    try:
        fp: BinaryIO = open(path, "rb")  # noqa: SIM115 - returned to the caller
    except OSError as exc:
        raise CaptureError(f"{path}: {exc.strerror or exc}") from exc
    magic = fp.read(2)
    fp.seek(0)
    if magic == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=fp, mode="rb")  # type: ignore[return-value]
    return fp


def _iter_one(
    path: Path, report: Callable[[Diagnostic], None], first_number: int
) -> Iterator[Frame]:
    fp = open_capture(path)
    with fp:
        try:
            magic = fp.read(4)
            fp.seek(0)
        except (OSError, EOFError) as exc:
            raise CaptureError(f"{path}: cannot read: {exc}") from exc
        try:
            if magic in MAGICS:
                yield from iter_pcap(fp, name=str(path), report=report, first_number=first_number)
            elif magic == SHB_MAGIC:
                yield from iter_pcapng(fp, name=str(path), report=report, first_number=first_number)
            else:
                raise CaptureError(
                    f"{path}: not a pcap or pcapng capture (starts with {magic.hex() or 'nothing'})"
                )
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            raise CaptureError(f"{path}: read error: {exc}") from exc


def read_frames(
    paths: Iterable[str | os.PathLike[str]], report: Callable[[Diagnostic], None]
) -> Iterator[Frame]:
    """Yield frames from one or more capture sources, merged in time order.

    Args:
        paths: files or directories, as given on the command line.
        report: receives capture diagnostics (truncated files...).

    Raises:
        CaptureError: a source is missing, unreadable, or not a capture.
    """
    files = expand_paths(paths)
    if len(files) == 1:
        yield from _iter_one(files[0], report, 1)
        return
    # Validate every file up front so a bad one fails before output starts.
    for f in files:
        with open_capture(f) as fp:
            try:
                magic = fp.read(4)
            except (OSError, EOFError, gzip.BadGzipFile) as exc:
                raise CaptureError(f"{f}: read error: {exc}") from exc
            if magic not in MAGICS and magic != SHB_MAGIC:
                raise CaptureError(f"{f}: not a pcap or pcapng capture")
    streams = [_iter_one(f, report, 1) for f in files]
    merged = heapq.merge(*streams, key=lambda fr: fr.ts_ns)
    for number, fr in enumerate(merged, 1):
        yield fr._replace(number=number)
