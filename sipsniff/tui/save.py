"""Saving calls from the UI: their frames to a pcap, or a report, with what ``sipsniff report`` uses.

Strategy: nothing is written here that ``report`` does not write the same
way.  A pcap is ``capture.writer.write_frames`` over the sources read again
(``read_frames``), keeping the frames of the chosen calls' messages (every TCP
segment of a message included), exactly as ``report --write-pcap``; a report
is the exporter the registry picks for the file's suffix, writing an
``Analysis`` of the chosen calls with the capture's counters.  Both go through
the commands' output rules (``cli/_files.py``: a regular file is replaced
atomically, keeping its mode; symlinks and files planted in shared
directories are refused).

Rules:
- The format comes from the suffix: ``.pcap``/``.cap`` (classic pcap, or
  pcapng when link types differ), ``.pcapng``, or any report suffix.
- ``check_target`` refuses what ``report`` refuses (an input capture, and
  what ``cli._files.check_output`` refuses), plus ``-`` (stdout is the
  screen here) and a folder that does not exist; whether an existing file may
  be replaced is the caller's question to ask (the save dialog asks).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..analysis import Analysis, AnalyzedCall, Stats
from ..capture.sources import read_frames
from ..capture.writer import write_frames
from ..cli._files import binary_output, check_output, text_output
from ..diagnostics import CaptureError, Diagnostic
from ..render.registry import UnknownFormat, all_exporters, for_path
from ..render.safe import clean

__all__ = ["PCAP_SUFFIXES", "SaveError", "SaveTarget", "check_target", "save", "suffix_help"]

PCAP_SUFFIXES = (".pcap", ".pcapng", ".cap")
"""Suffixes that save the calls' frames rather than a report."""


class SaveError(ValueError):
    """A file name the UI will not write to (the message says why)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SaveTarget:
    """Where to save, and as what."""

    path: Path
    format: str
    """``pcap`` (frames) or an exporter name (``html``, ``md``, ``json``...)."""

    @property
    def exists(self) -> bool:
        return self.path.exists()


def suffix_help() -> str:
    """One line listing the suffixes understood, for the save dialog."""
    reports = " ".join(e.suffixes[0] for e in all_exporters())
    return f"frames: .pcap .pcapng   report: {reports}"


def check_target(name: str, sources: Sequence[Path], cwd: Path | None = None) -> SaveTarget:
    """Validate a file name typed in the save dialog.

    Args:
        name: what the user typed (``~`` is expanded; relative to ``cwd``).
        sources: the capture files loaded (never overwritten).
        cwd: the folder relative names are in (default: the current one).

    Raises:
        SaveError: the name is empty, ``-``, a directory, in a missing folder, one of
            the input captures, or has a suffix no format claims.
    """
    text = name.strip()
    if not text or text == "-":
        raise SaveError("type a file name")
    path = Path(os.path.expanduser(text))
    if not path.is_absolute():
        path = (cwd or Path.cwd()) / path
    if path.is_dir():
        raise SaveError(f"{clean(str(path), 200)} is a directory")
    if not path.parent.is_dir():
        raise SaveError(f"no such folder: {clean(str(path.parent), 200)}")
    if any(_same_file(path, s) for s in sources):
        raise SaveError(
            f"{clean(path.name, 200)} is one of the input captures; refusing to overwrite it"
        )
    try:
        check_output(str(path))
    except CaptureError as exc:
        raise SaveError(clean(str(exc), 300)) from None
    low = path.name.lower()
    if low.endswith(PCAP_SUFFIXES) and len(low) > 4:
        return SaveTarget(path=path, format="pcap")
    try:
        exporter = for_path(path)
    except UnknownFormat:
        raise SaveError(f"unknown suffix; use {suffix_help()}") from None
    return SaveTarget(path=path, format=exporter.name)


def save(
    target: SaveTarget,
    calls: Sequence[AnalyzedCall],
    *,
    sources: Sequence[Path],
    stats: Stats,
    diagnostics: Sequence[Diagnostic],
) -> str:
    """Write the calls; return one line saying what was written.

    Args:
        target: from ``check_target``.
        calls: the calls to save, in any order (reports sort them by start).
        sources: the capture files, read again for the frames of a pcap.
        stats: the capture's counters (a report's summary covers the whole capture).
        diagnostics: the capture's diagnostics.

    Raises:
        CaptureError: a source or the output cannot be used.
    """
    shown = clean(str(target.path), 300)
    if target.format == "pcap":
        keep = {f for ac in calls for m in ac.call.messages for f in m.frames}
        path = str(target.path)
        result = write_frames(
            target.path,
            read_frames(list(sources), _ignore),
            keep,
            open_output=lambda: binary_output(path),
        )
        return f"wrote {shown} ({result.format}, {result.frames} frames of {len(calls)} calls)"
    exporter = for_path(target.path)
    ordered = sorted(calls, key=lambda ac: (ac.call.start_ns, ac.call.call_id))
    analysis = Analysis(calls=tuple(ordered), stats=stats, diagnostics=tuple(diagnostics))
    with text_output(str(target.path)) as fp:
        exporter.write(analysis, fp)
    return f"wrote {shown} ({exporter.name}, {len(calls)} calls)"


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _ignore(_d: Diagnostic) -> None:
    """Warnings while re-reading the sources were shown on the first read."""
