"""Write selected frames back to a capture file that Wireshark and tshark read.

Strategy: the caller re-reads its sources (``sources.read_frames``) and keeps
the frames whose numbers it selected; nothing is re-parsed and nothing here
knows SIP (capture is SIP-blind, rule 3): the selection is a set of frame
numbers.  Frames go to a spool first (memory up to ``_SPOOL_MEMORY``, then a
temporary file), because the file header of a classic pcap names ONE link
type and that is only known once every selected frame has been seen.

Format (documented in ``report --help``):
- classic pcap, nanosecond timestamps (magic ``a1b23c4d``), when every frame
  has the same link type and the file name does not end in ``.pcapng``;
- pcapng with one interface per link type otherwise (merged sources with
  different link types, say Ethernet and Linux cooked), whatever the name:
  Wireshark and tshark recognise both formats by content, not by name.

Rules:
- Timestamps, captured bytes and original lengths are written exactly as read.
- Nothing is written before every frame has been read: a source that fails
  leaves no file at all.
- How the file is opened is the caller's choice (``open_output``): the command
  line passes ``cli/_files.py``, which replaces a regular file atomically and
  keeps its mode, and writes a device or FIFO (``/dev/null``, ``/dev/stdout``)
  directly.  Why not here: rename-over-target is right for a file and wrong for
  a device, and which is which is a policy of the command, not of the format.
  Without one the writer only creates a new file (``O_EXCL``: never through a
  symlink, never over an existing file), and removes it if writing fails.
"""

from __future__ import annotations

import contextlib
import os
import struct
import tempfile
from collections.abc import Callable, Container, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO

from ..diagnostics import CaptureError
from .frame import Frame

__all__ = ["FrameWriter", "Opener", "WriteResult", "write_frames"]

_SPOOL_MEMORY = 8 * 1024 * 1024
_SPOOL_REC = struct.Struct("<QIII")
"""ts_ns, linktype, captured length, original length; then the bytes."""
_PCAP_HEADER = struct.Struct("<IHHiIII")
_PCAP_REC = struct.Struct("<IIII")
_MAGIC_NSEC = 0xA1B23C4D
# libpcap's MAXIMUM_SNAPLEN (pcap-int.h); a larger captured frame raises it.
_SNAPLEN = 262_144
_NS = 1_000_000_000

_SHB_TYPE, _IDB_TYPE, _EPB_TYPE = 0x0A0D0D0A, 1, 6
_BOM = 0x1A2B3C4D
_OPT_TSRESOL = 9
_TSRESOL_NS = 9
"""if_tsresol value 9: timestamps in units of 10^-9 s."""


Opener = Callable[[], AbstractContextManager[BinaryIO]]
"""Opens the output when the frames are ready; its exit publishes (or, on error, drops) it."""


@contextlib.contextmanager
def _create(path: Path) -> Iterator[BinaryIO]:
    """A new file, created exclusively; removed again if writing it fails."""
    with open(path, "xb") as out:
        try:
            yield out
        except BaseException:
            out.close()
            path.unlink(missing_ok=True)
            raise


@dataclass(frozen=True, slots=True, kw_only=True)
class WriteResult:
    """What was written."""

    path: Path
    frames: int
    format: str
    """``pcap`` or ``pcapng``."""
    linktypes: tuple[int, ...]


class FrameWriter:
    """Collects frames, then writes them as pcap or pcapng on ``close``."""

    def __init__(self, path: str | os.PathLike[str], *, pcapng: bool | None = None) -> None:
        """Args:
        path: the output file's name (its suffix chooses pcapng; see ``close``).
        pcapng: force pcapng (True) or allow classic pcap (False); None decides by
            the suffix (``.pcapng`` means pcapng).
        """
        self.path = Path(path)
        self._pcapng = self.path.name.lower().endswith(".pcapng") if pcapng is None else pcapng
        self._spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=_SPOOL_MEMORY)  # noqa: SIM115
        self._linktypes: dict[int, int] = {}
        self._count = 0
        self._snaplen = _SNAPLEN

    def write(self, frame: Frame) -> None:
        """Add one frame (kept in the order given)."""
        self._linktypes.setdefault(frame.linktype, len(self._linktypes))
        data = frame.data
        self._spool.write(_SPOOL_REC.pack(frame.ts_ns, frame.linktype, len(data), frame.orig_len))
        self._spool.write(data)
        self._snaplen = max(self._snaplen, len(data))
        self._count += 1

    def _records(self) -> Iterable[tuple[int, int, bytes, int]]:
        sp = self._spool
        sp.seek(0)
        for _ in range(self._count):
            ts, lt, incl, orig = _SPOOL_REC.unpack(sp.read(_SPOOL_REC.size))
            yield ts, lt, sp.read(incl), orig

    def close(self, open_output: Opener | None = None) -> WriteResult:
        """Write the file and release the spool.

        Args:
            open_output: opens the output (see the module's rules); default: create
                ``path``, which must not exist.

        Raises:
            CaptureError: the file cannot be written.
        """
        pcapng = self._pcapng or len(self._linktypes) > 1
        opener = open_output or (lambda: _create(self.path))
        try:
            with opener() as out:
                if pcapng:
                    self._write_pcapng(out)
                else:
                    self._write_pcap(out)
        except OSError as exc:
            raise CaptureError(f"cannot write {self.path}: {exc.strerror or exc}") from exc
        finally:
            self._spool.close()
        return WriteResult(
            path=self.path,
            frames=self._count,
            format="pcapng" if pcapng else "pcap",
            linktypes=tuple(self._linktypes),
        )

    def abort(self) -> None:
        """Drop everything; no file is written."""
        self._spool.close()

    def _write_pcap(self, out: BinaryIO) -> None:
        # No frame at all: Ethernet is as good as any link type for an empty file.
        linktype = next(iter(self._linktypes), 1)
        out.write(_PCAP_HEADER.pack(_MAGIC_NSEC, 2, 4, 0, 0, self._snaplen, linktype))
        for ts, _lt, data, orig in self._records():
            sec, nsec = divmod(ts, _NS)
            out.write(_PCAP_REC.pack(sec, nsec, len(data), orig))
            out.write(data)

    def _write_pcapng(self, out: BinaryIO) -> None:
        # Section Header Block: BOM, version 1.0, section length unknown (-1), no options.
        shb_body = struct.pack("<IHHq", _BOM, 1, 0, -1)
        out.write(_block(_SHB_TYPE, shb_body))
        for linktype in self._linktypes:
            opts = struct.pack("<HHB3x", _OPT_TSRESOL, 1, _TSRESOL_NS) + struct.pack("<HH", 0, 0)
            out.write(_block(_IDB_TYPE, struct.pack("<HHI", linktype, 0, self._snaplen) + opts))
        for ts, lt, data, orig in self._records():
            iface = self._linktypes[lt]
            head = struct.pack("<IIIII", iface, ts >> 32, ts & 0xFFFFFFFF, len(data), orig)
            out.write(_block(_EPB_TYPE, head + data + b"\x00" * (-len(data) % 4)))


def _block(btype: int, body: bytes) -> bytes:
    total = 12 + len(body)
    return struct.pack("<II", btype, total) + body + struct.pack("<I", total)


def write_frames(
    path: str | os.PathLike[str],
    frames: Iterable[Frame],
    keep: Container[int],
    *,
    pcapng: bool | None = None,
    open_output: Opener | None = None,
) -> WriteResult:
    """Write the frames whose numbers are in ``keep`` to ``path``.

    Args:
        path: output file; ``.pcapng`` asks for pcapng.
        frames: the frames of the capture, as ``sources.read_frames`` yields them.
        keep: the frame numbers to keep.
        pcapng: see :class:`FrameWriter`.
        open_output: see :meth:`FrameWriter.close`; opened only once every frame is read.

    Raises:
        CaptureError: a source or the output cannot be used.
    """
    writer = FrameWriter(path, pcapng=pcapng)
    try:
        for fr in frames:
            if fr.number in keep:
                writer.write(fr)
    except BaseException:
        writer.abort()
        raise
    return writer.close(open_output)
