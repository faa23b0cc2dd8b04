"""pcapng reader: section header, interface description, enhanced and simple packet blocks.

Strategy: walk blocks sequentially, keeping per-section byte order and the list
of interfaces (link type, snaplen, timestamp resolution from ``if_tsresol``).
Blocks we do not need (name resolution, statistics, custom, decryption
secrets) are skipped by their length, and so do not count as frames: Wireshark
numbers only packet blocks, and so do we.

Rules:
- Obsolete Packet Blocks (type 2) are read too; some old tools still write them.
- A block with an impossible length ends the read with a diagnostic saying how
  many frames were loaded.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from typing import BinaryIO

from ..diagnostics import CaptureError, Diagnostic, Stage, Trigger
from . import wording as w
from .frame import Frame

__all__ = ["SHB_MAGIC", "TLS_KEY_LOG", "iter_pcapng", "tls_secrets"]

SHB_MAGIC = b"\x0a\x0d\x0d\x0a"
_BOM_LE = b"\x4d\x3c\x2b\x1a"
_BOM_BE = b"\x1a\x2b\x3c\x4d"
_SHB, _IDB, _PB, _SPB, _EPB = 0x0A0D0D0A, 1, 2, 3, 6
# Same bound as the pcap reader: larger blocks are corrupt lengths, not packets.
_MAX_BLOCK = 16 * 1024 * 1024
_OPT_TSRESOL = 9
_DSB = 0x0000000A
TLS_KEY_LOG = 0x544C534B
"""Decryption Secrets Block type 'TLSK': NSS key log text (``editcap --inject-secrets``)."""
# Blocks looked at before the first packet when looking for secrets: editcap
# writes its DSBs right after the section and interface headers.
_MAX_SECRET_SCAN = 1024


def _tsresol_to_ns(value: int) -> tuple[int, int]:
    """Return (multiplier, divisor) converting timestamp units to nanoseconds."""
    if value & 0x80:
        units = 2 ** (value & 0x7F)
        return 1_000_000_000, units
    exp = value & 0x7F
    if exp <= 9:
        return 10 ** (9 - exp), 1
    return 1, 10 ** (exp - 9)


def _parse_idb(body: bytes, e: str) -> tuple[int, int, int]:
    linktype, _reserved, _snaplen = struct.unpack_from(e + "HHI", body, 0)
    mul, div = 1000, 1  # default resolution: microseconds
    pos = 8
    while pos + 4 <= len(body):
        code, length = struct.unpack_from(e + "HH", body, pos)
        if code == 0 or pos + 4 + length > len(body):
            break  # end of options, or an option cut off by the block's end: keep defaults
        if code == _OPT_TSRESOL and length >= 1:
            mul, div = _tsresol_to_ns(body[pos + 4])
        pos += 4 + ((length + 3) & ~3)
    return linktype, mul, div


def iter_pcapng(
    fp: BinaryIO,
    *,
    name: str,
    report: Callable[[Diagnostic], None],
    first_number: int = 1,
) -> Iterator[Frame]:
    """Yield the frames of a pcapng stream (all sections, all interfaces).

    Raises:
        CaptureError: the stream does not start with a section header block.
    """
    number = first_number
    e = "<"
    ifaces: list[tuple[int, int, int]] = []
    first = True

    def stop(code: int, *args: int) -> None:
        report(
            Diagnostic(
                frame=number,
                stage=Stage.CAPTURE,
                trigger=Trigger.TRUNCATED_FILE,
                detail=w.stopped(name, number - first_number, code, *args),
            )
        )

    def out_of_range(ts_ns: int) -> int:
        report(
            Diagnostic(
                frame=number,
                stage=Stage.CAPTURE,
                trigger=Trigger.BAD_TIMESTAMP,
                detail=w.out_of_range(name, ts_ns),
            )
        )
        return w.MAX_TS_NS

    while True:
        head = fp.read(8)
        if not head:
            return
        if len(head) < 8:
            stop(w.BLOCK_HEADER_CUT)
            return
        if head[:4] == SHB_MAGIC:
            bom = fp.read(4)
            if bom == _BOM_LE:
                e = "<"
            elif bom == _BOM_BE:
                e = ">"
            else:
                if first:
                    raise CaptureError(f"{name}: pcapng section header has a bad byte-order mark")
                stop(w.BAD_BOM_IN_SECTION)
                return
            length = struct.unpack_from(e + "I", head, 4)[0]
            if length < 28 or length > _MAX_BLOCK or length % 4:
                stop(w.BAD_SECTION_LENGTH, length)
                return
            rest = fp.read(length - 12)
            if len(rest) < length - 12:
                stop(w.SECTION_CUT)
                return
            ifaces = []
            first = False
            continue
        if first:
            raise CaptureError(f"{name}: not a pcapng file")
        btype, length = struct.unpack_from(e + "II", head, 0)
        if length < 12 or length > _MAX_BLOCK or length % 4:
            stop(w.BAD_BLOCK_LENGTH, length, btype)
            return
        body = fp.read(length - 8)
        if len(body) < length - 8:
            stop(w.BLOCK_CUT, btype)
            return
        body = body[:-4]
        if btype == _EPB:
            if len(body) < 20:
                stop(w.EPB_TOO_SHORT)
                return
            iface, hi, lo, cap, orig = struct.unpack_from(e + "IIIII", body, 0)
            if iface >= len(ifaces) or cap > len(body) - 20:
                report(
                    Diagnostic(
                        frame=number,
                        stage=Stage.CAPTURE,
                        trigger=Trigger.BAD_BLOCK,
                        detail=w.bad_interface(name, iface, len(ifaces)),
                    )
                )
                number += 1
                continue
            linktype, mul, div = ifaces[iface]
            ts = (hi << 32) | lo
            ts_ns = ts * mul // div
            if ts_ns > w.MAX_TS_NS:
                ts_ns = out_of_range(ts_ns)
            yield Frame(number, ts_ns, linktype, body[20 : 20 + cap], orig, iface)
            number += 1
        elif btype == _SPB:
            if not ifaces or len(body) < 4:
                stop(w.SPB_WITHOUT_INTERFACE)
                return
            orig = struct.unpack_from(e + "I", body, 0)[0]
            linktype = ifaces[0][0]
            yield Frame(number, 0, linktype, body[4 : 4 + min(orig, len(body) - 4)], orig, 0)
            number += 1
        elif btype == _PB:
            if len(body) < 20:
                stop(w.PB_TOO_SHORT)
                return
            iface, _drops, hi, lo, cap, orig = struct.unpack_from(e + "HHIIII", body, 0)
            if iface < len(ifaces):
                linktype, mul, div = ifaces[iface]
                ts_ns = ((hi << 32) | lo) * mul // div
                if ts_ns > w.MAX_TS_NS:
                    ts_ns = out_of_range(ts_ns)
                yield Frame(
                    number,
                    ts_ns,
                    linktype,
                    body[20 : 20 + cap],
                    orig,
                    iface,
                )
            number += 1
        elif btype == _IDB:
            if len(body) < 8:
                stop(w.IDB_TOO_SHORT)
                return
            ifaces.append(_parse_idb(body, e))


def tls_secrets(fp: BinaryIO) -> list[bytes]:
    """The TLS key log texts of the Decryption Secrets Blocks before the first packet.

    A pre-scan of block headers only (the readers skip DSBs): it stops at the
    first packet block, after ``_MAX_SECRET_SCAN`` blocks, or at anything odd,
    and never raises for a damaged file (reading it reports that).  DSBs placed
    after packets are not seen (editcap and dumpcap put them first).
    """
    out: list[bytes] = []
    e = "<"
    for _ in range(_MAX_SECRET_SCAN):
        head = fp.read(8)
        if len(head) < 8:
            break
        if head[:4] == SHB_MAGIC:
            bom = fp.read(4)
            if bom not in (_BOM_LE, _BOM_BE):
                break
            e = "<" if bom == _BOM_LE else ">"
            length = struct.unpack_from(e + "I", head, 4)[0]
            if length < 28 or length > _MAX_BLOCK or length % 4:
                break
            fp.read(length - 12)
            continue
        btype, length = struct.unpack_from(e + "II", head, 0)
        if btype in (_EPB, _SPB, _PB) or length < 12 or length > _MAX_BLOCK or length % 4:
            break
        body = fp.read(length - 8)
        if len(body) < length - 8:
            break
        if btype == _DSB and len(body) >= 12:
            stype, slen = struct.unpack_from(e + "II", body, 0)
            if stype == TLS_KEY_LOG and 8 + slen <= len(body) - 4:
                out.append(body[8 : 8 + slen])
    return out
