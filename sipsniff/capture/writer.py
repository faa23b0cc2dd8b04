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
- The output appears atomically (written to a temporary name, then renamed),
  so a failed run never leaves half a capture behind.
"""

from __future__ import annotations

import os
import struct
import tempfile
from collections.abc import Container, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO

from ..diagnostics import CaptureError
from .frame import Frame

__all__ = ["FrameWriter", "WriteResult", "publish", "write_frames"]

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


def publish(tmp: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
    """Move a finished temporary file into place with ordinary permissions.

    ``mkstemp`` creates files readable by their owner only; a report or capture
    handed to colleagues should get what any new file gets (0666 minus the umask).
    """
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(tmp, 0o666 & ~mask)
    os.replace(tmp, target)


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
        path: the output file (replaced atomically on ``close``).
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

    def close(self) -> WriteResult:
        """Write the file and release the spool.

        Raises:
            CaptureError: the file cannot be written.
        """
        pcapng = self._pcapng or len(self._linktypes) > 1
        tmp_name = ""
        try:
            fd, tmp_name = tempfile.mkstemp(
                prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent
            )
            with os.fdopen(fd, "wb") as out:
                if pcapng:
                    self._write_pcapng(out)
                else:
                    self._write_pcap(out)
            publish(tmp_name, self.path)
            tmp_name = ""
        except OSError as exc:
            raise CaptureError(f"cannot write {self.path}: {exc.strerror or exc}") from exc
        finally:
            self._spool.close()
            if tmp_name:
                Path(tmp_name).unlink(missing_ok=True)
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
) -> WriteResult:
    """Write the frames whose numbers are in ``keep`` to ``path``.

    Args:
        path: output file; ``.pcapng`` asks for pcapng.
        frames: the frames of the capture, as ``sources.read_frames`` yields them.
        keep: the frame numbers to keep.
        pcapng: see :class:`FrameWriter`.

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
    return writer.close()
