"""Classic libpcap file reader, streamed in large chunks.

Strategy: read the file in blocks of ``_CHUNK`` bytes and walk record headers
with a precompiled ``struct.Struct`` at offsets, so that the per-packet cost is
one ``unpack_from`` and one slice.  Both byte orders and both timestamp
resolutions (magic ``a1b2c3d4`` for microseconds, ``a1b23c4d`` for nanoseconds)
are accepted.

Rules:
- Never read the whole file into memory: memory is bounded by one chunk plus
  one record.
- A truncated last record is reported through the ``report`` callback and the
  frames read so far are kept (the caller learns how much was loaded).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from typing import BinaryIO

from ..diagnostics import CaptureError, Diagnostic, Stage, Trigger
from . import wording as w
from .frame import Frame

__all__ = ["MAGICS", "iter_pcap"]

_CHUNK = 1 << 20
# A single record larger than this cannot be a real packet (libpcap itself caps
# snaplen at 262144, see MAXIMUM_SNAPLEN in pcap-int.h).  Anything above is a
# corrupt length field, not data to allocate.
_MAX_RECORD = 262_144 * 4

_USEC_LE = b"\xd4\xc3\xb2\xa1"
_USEC_BE = b"\xa1\xb2\xc3\xd4"
_NSEC_LE = b"\x4d\x3c\xb2\xa1"
_NSEC_BE = b"\xa1\xb2\x3c\x4d"
MAGICS = (_USEC_LE, _USEC_BE, _NSEC_LE, _NSEC_BE)
"""The four classic pcap magic numbers, for format sniffing."""


def iter_pcap(
    fp: BinaryIO,
    *,
    name: str,
    report: Callable[[Diagnostic], None],
    first_number: int = 1,
) -> Iterator[Frame]:
    """Yield the frames of a classic pcap stream.

    Args:
        fp: a binary stream positioned at the start of the file.
        name: the file name, for messages.
        report: receives a Diagnostic for a truncated file.
        first_number: the frame number of the first record (for merged sources).

    Raises:
        CaptureError: the stream is not a classic pcap file.
    """
    head = fp.read(24)
    if len(head) < 24:
        raise CaptureError(f"{name}: too short to be a pcap file ({len(head)} bytes)")
    magic = head[:4]
    if magic in (_USEC_LE, _NSEC_LE):
        endian = "<"
    elif magic in (_USEC_BE, _NSEC_BE):
        endian = ">"
    else:
        raise CaptureError(f"{name}: not a pcap file (magic {magic.hex()})")
    scale = 1 if magic in (_NSEC_LE, _NSEC_BE) else 1000
    linktype = struct.unpack_from(endian + "I", head, 20)[0] & 0x0FFFFFFF
    rec = struct.Struct(endian + "IIII")
    unpack = rec.unpack_from
    # NamedTuple's generated __new__ is a Python function: tuple.__new__ makes the
    # same Frame without that call (every field given, ``iface`` included).
    new = tuple.__new__
    number = first_number
    buf = b""
    pos = 0
    offset_in_file = 24
    while True:
        more = fp.read(_CHUNK)
        if more:
            buf = buf[pos:] + more
            offset_in_file += pos
            pos = 0
        elif pos >= len(buf):
            return
        end = len(buf)
        while pos + 16 <= end:
            sec, frac, incl, orig = unpack(buf, pos)
            if incl > _MAX_RECORD:
                report(
                    Diagnostic(
                        frame=number,
                        stage=Stage.CAPTURE,
                        trigger=Trigger.TRUNCATED_FILE,
                        detail=w.stopped(
                            name, number - first_number, w.PCAP_CORRUPT, incl, offset_in_file + pos
                        ),
                    )
                )
                return
            stop = pos + 16 + incl
            if stop > end:
                break
            yield new(
                Frame,
                (
                    number,
                    sec * 1_000_000_000 + frac * scale,
                    linktype,
                    buf[pos + 16 : stop],
                    orig,
                    0,
                ),
            )
            number += 1
            pos = stop
        if not more:
            report(
                Diagnostic(
                    frame=number,
                    stage=Stage.CAPTURE,
                    trigger=Trigger.TRUNCATED_FILE,
                    detail=w.stopped(name, number - first_number, w.PCAP_INSIDE, end - pos),
                )
            )
            return
