"""The TLS record layer over a reassembled TCP byte stream (RFC 5246 section 6.2).

Strategy: TCP delivers ordered bytes in arbitrary pieces; a record is a 5-byte
header (type, version, length) and its fragment.  ``RecordReader.feed`` takes
the next piece and returns the records it completes, so a record split over
segments, or several records in one segment, come out the same.  The caller
attributes each record to the frame of the piece that completed it (Wireshark's
frame for a reassembled PDU).

Memory: at most one unfinished record is held, and a header announcing more
than ``MAX_RECORD`` bytes is an error (the stream is not TLS, or is damaged),
so one stream holds at most about 18 KiB.
"""

from __future__ import annotations

from typing import Final, NamedTuple

from ..diagnostics import DecodeError

__all__ = [
    "ALERT",
    "APPLICATION_DATA",
    "CHANGE_CIPHER_SPEC",
    "HANDSHAKE",
    "MAX_RECORD",
    "Record",
    "RecordReader",
    "looks_like_tls",
]

CHANGE_CIPHER_SPEC: Final = 20
ALERT: Final = 21
HANDSHAKE: Final = 22
APPLICATION_DATA: Final = 23
_HEARTBEAT: Final = 24
# TLSCiphertext.length may not exceed 2^14 + 2048 (RFC 5246 section 6.2.3);
# TLS 1.3 allows less (2^14 + 256, RFC 8446 section 5.2).
MAX_RECORD: Final = 2**14 + 2048
_HEADER: Final = 5


class Record(NamedTuple):
    type: int
    version: int
    header: bytes
    """The 5 header bytes (TLS 1.3's additional data)."""
    fragment: bytes


def looks_like_tls(data: bytes) -> bool:
    """Does a stream start with a TLS handshake record (type 22, version 3.x)?"""
    return len(data) >= 3 and data[0] == HANDSHAKE and data[1] == 3 and data[2] <= 4


class RecordReader:
    """Cuts one direction's bytes into records."""

    __slots__ = ("_buf",)

    def __init__(self) -> None:
        self._buf = bytearray()

    @property
    def pending(self) -> int:
        """Bytes of an unfinished record held."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[Record]:
        """Append the next bytes; return the records now complete.

        Raises:
            DecodeError: a header that is not TLS (unknown type, version, or too long).
        """
        buf = self._buf
        buf += data
        out: list[Record] = []
        pos = 0
        n = len(buf)
        while n - pos >= _HEADER:
            ctype, major, minor = buf[pos], buf[pos + 1], buf[pos + 2]
            length = (buf[pos + 3] << 8) | buf[pos + 4]
            if not CHANGE_CIPHER_SPEC <= ctype <= _HEARTBEAT or major != 3 or minor > 4:
                del buf[:pos]
                raise DecodeError(f"not a TLS record header ({bytes(buf[:_HEADER]).hex()})")
            if length > MAX_RECORD:
                del buf[:pos]
                raise DecodeError(f"record of {length} bytes (at most {MAX_RECORD})")
            end = pos + _HEADER + length
            if end > n:
                break
            out.append(
                Record(
                    ctype,
                    (major << 8) | minor,
                    bytes(buf[pos : pos + _HEADER]),
                    bytes(buf[pos + _HEADER : end]),
                )
            )
            pos = end
        del buf[:pos]
        return out
