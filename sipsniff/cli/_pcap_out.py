"""``--write-pcap`` and ``--rotate`` for ``sipsniff live``: every captured frame, saved.

Strategy: one pcap file at a time; with a rotation limit the next file is
opened when the current one would pass the size, or when a frame's capture
time passes the period, and is named like dumpcap's ring buffer
(``calls_00001_20250102T030405.pcap``), so ``sipsniff analyze DIR`` merges
the set back in time order.  A file is closed (and so complete) before the
next is opened, and ``flush`` runs every second, so a file being written is
readable up to its last second.

Files are opened by ``_files.open_in_place``: ``O_NOFOLLOW`` (a symlink planted
in /tmp is refused, never followed) and no ``O_TRUNC`` until the file is known
to be ours with one link, because live capture runs as root for hours in
shared directories.  A FIFO or ``/dev/null`` is written as it is.  Each record
is one write, so an interrupt never leaves half a record in the buffer.
"""

from __future__ import annotations

import datetime as _dt
import re
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import click

from ..capture.frame import Frame
from ._files import open_in_place

__all__ = ["PcapOut", "Rotation", "parse_rotate"]

_SIZE_UNITS = {
    "": 1,
    "b": 1,
    "k": 10**3,
    "kb": 10**3,
    "m": 10**6,
    "mb": 10**6,
    "g": 10**9,
    "gb": 10**9,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
}
_TIME_UNITS = {"": 1, "s": 1, "sec": 1, "min": 60, "h": 3600}
_SPEC = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")
# The smallest file worth rotating to: below this a capture of a busy line
# would produce a file per packet.
_MIN_BYTES = 10_000
_PCAP_HEADER = struct.Struct("<IHHiIII")
_RECORD = struct.Struct("<IIII")
_MAGIC_NS = 0xA1B23C4D
_SNAPLEN = 262_144


@dataclass(frozen=True, slots=True, kw_only=True)
class Rotation:
    """When to start a new file (0: never for that criterion)."""

    max_bytes: int = 0
    max_seconds: float = 0.0


def parse_rotate(spec: str) -> Rotation:
    """Parse ``100MB``, ``1GiB``, ``300``, ``300s``, ``10min`` or ``1h``.

    A bare number is seconds; sizes need a unit (k, MB, GiB...).  ``m`` alone
    is refused: it could mean minutes or megabytes.

    Raises:
        click.BadParameter: the spec is not one of those.
    """
    m = _SPEC.match(spec)
    unit = m.group(2).lower() if m else ""
    if m is None or unit == "m" or (unit not in _SIZE_UNITS and unit not in _TIME_UNITS):
        raise click.BadParameter(
            f"{spec!r}: use a size (100MB, 1GiB) or a period (300, 300s, 10min, 1h)",
            param_hint="--rotate",
        )
    value = float(m.group(1))
    if unit in _TIME_UNITS:
        seconds = value * _TIME_UNITS[unit]
        if seconds < 1:
            raise click.BadParameter("rotate at least every second", param_hint="--rotate")
        return Rotation(max_seconds=seconds)
    size = int(value * _SIZE_UNITS[unit])
    if size < _MIN_BYTES:
        raise click.BadParameter(f"rotate at {_MIN_BYTES} bytes or more", param_hint="--rotate")
    return Rotation(max_bytes=size)


class PcapOut:
    """Writes frames to one pcap, or to a rotating set of them."""

    def __init__(self, path: Path, linktype: int, rotation: Rotation | None) -> None:
        self.path = path
        self.linktype = linktype
        self.rotation = rotation
        self.files: list[Path] = []
        self.bytes = 0
        """Bytes written in all files."""
        self._fp: BinaryIO | None = None
        self._size = 0
        self._packets = 0
        self._start_ns = 0
        self._open(0)

    def _name(self, ts_ns: int) -> Path:
        if self.rotation is None:
            return self.path
        when = _dt.datetime.fromtimestamp(ts_ns / 1e9 if ts_ns else _dt.datetime.now().timestamp())
        suffix = self.path.suffix or ".pcap"
        stem = self.path.name[: -len(self.path.suffix)] if self.path.suffix else self.path.name
        return self.path.with_name(f"{stem}_{len(self.files) + 1:05d}_{when:%Y%m%d%H%M%S}{suffix}")

    def _open(self, ts_ns: int) -> None:
        name = self._name(ts_ns)
        fp: BinaryIO = open_in_place(str(name))  # closed by close()/rotation
        header = _PCAP_HEADER.pack(_MAGIC_NS, 2, 4, 0, 0, _SNAPLEN, self.linktype)
        fp.write(header)
        self._fp = fp
        self._size = len(header)
        self.bytes += len(header)
        self._packets = 0
        self._start_ns = ts_ns
        self.files.append(name)

    def write(self, fr: Frame) -> None:
        """Append one frame, rotating first when a limit says so."""
        rot = self.rotation
        size = _RECORD.size + len(fr.data)
        if (
            rot is not None
            and self._packets
            and (
                (rot.max_bytes and self._size + size > rot.max_bytes)
                or (rot.max_seconds and fr.ts_ns - self._start_ns >= rot.max_seconds * 1e9)
            )
        ):
            self._close_current()
            self._open(fr.ts_ns)
        if self._fp is None:
            return
        if not self._packets:
            self._start_ns = fr.ts_ns
        sec, nsec = divmod(fr.ts_ns, 1_000_000_000)
        self._fp.write(_RECORD.pack(sec, nsec, len(fr.data), fr.orig_len) + fr.data)
        self._size += size
        self.bytes += size
        self._packets += 1

    def flush(self) -> None:
        if self._fp is not None:
            self._fp.flush()

    def _close_current(self) -> None:
        if self._fp is not None:
            self._fp.close()
            self._fp = None

    def close(self) -> None:
        """Close the current file: every file is then complete."""
        self._close_current()

    def describe(self) -> str:
        """``calls.pcap 1.2 MB`` (the current file) for the dashboard."""
        name = self.files[-1].name if self.files else str(self.path)
        more = f" (+{len(self.files) - 1} rotated)" if len(self.files) > 1 else ""
        return f"{name}{more} {self.bytes / 1e6:.1f} MB"
