"""The ``tshark`` engine of ``sipsniff live``: dumpcap writes pcapng to a pipe, read in a thread.

Strategy: ``dumpcap -w -`` captures with the filter compiled by libpcap and
writes a pcapng stream; sipsniff's own ``iter_pcapng`` turns it into frames
in a reader thread that queues them for ``read``.  The stream passes through
``_PcapngPipe``, which sees whole blocks go by: the first interface
description gives the link type (and says the capture has started), and the
interface statistics block dumpcap writes when it stops gives its drop
counts.  Stopping sends SIGTERM, so dumpcap flushes every packet and that
block before it exits.

Rules:
- dumpcap's complaints (stderr) become a one-line ``CaptureError``; the
  permission and unknown-interface cases get the same fix hints as the
  scapy engine.
"""

from __future__ import annotations

import queue
import shutil
import signal
import struct
import subprocess
import threading
import time
from collections.abc import Callable
from typing import BinaryIO

from ..diagnostics import CaptureError, Diagnostic
from .frame import Frame
from .live import (
    SNAPLEN,
    SOCKET_BUFFER,
    CaptureStats,
    LiveCapture,
    permission_error,
    unknown_interface,
)
from .pcapng import SHB_MAGIC, iter_pcapng

__all__ = ["DumpcapCapture"]

# Frames handed out per ``read`` (the same bound as the packet-socket engine).
_BATCH = 1024

_ISB = 5
_IDB = 1
# The pcapng reader's own bound: a longer block is a corrupt length, which the
# reader reports; the pipe must not try to read it first.
_MAX_BLOCK = 16 * 1024 * 1024
_ISB_IFRECV, _ISB_IFDROP, _ISB_OSDROP = 4, 5, 7


class _PcapngPipe:
    """A file-like view of dumpcap's pcapng stream that notes IDBs and ISBs on the way.

    It reads whole blocks from the pipe and serves them to ``iter_pcapng``;
    seeing a block's type lets it report the link type as soon as the first
    interface is described, and the drop counters when dumpcap stops.
    """

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._buf = b""
        self._pos = 0
        self._endian = "<"
        self.linktype = -1
        self.ready = threading.Event()
        self.drops: dict[int, int] = {}

    def _exact(self, n: int) -> bytes:
        parts = []
        while n > 0:
            chunk = self._raw.read(n)
            if not chunk:
                break
            parts.append(chunk)
            n -= len(chunk)
        return b"".join(parts)

    def _next_block(self) -> bytes:
        head = self._exact(8)
        if len(head) < 8:
            return head
        if head[:4] == SHB_MAGIC:
            bom = self._exact(4)
            self._endian = "<" if bom == b"\x4d\x3c\x2b\x1a" else ">"
            length = struct.unpack_from(self._endian + "I", head, 4)[0]
            return head + bom + self._exact(max(0, length - 12))
        btype, length = struct.unpack_from(self._endian + "II", head, 0)
        if length > _MAX_BLOCK:
            return head
        body = self._exact(max(0, length - 8))
        if btype == _IDB and len(body) >= 4 and self.linktype < 0:
            self.linktype = struct.unpack_from(self._endian + "H", body, 0)[0]
            self.ready.set()
        elif btype == _ISB:
            self._isb(body[:-4])
        return head + body

    def _isb(self, body: bytes) -> None:
        e = self._endian
        pos = 12
        while pos + 4 <= len(body):
            code, length = struct.unpack_from(e + "HH", body, pos)
            if code == 0:
                break
            if code in (_ISB_IFRECV, _ISB_IFDROP, _ISB_OSDROP) and length == 8:
                self.drops[code] = struct.unpack_from(e + "Q", body, pos + 4)[0]
            pos += 4 + ((length + 3) & ~3)

    def read(self, n: int = -1) -> bytes:
        out = b""
        while n < 0 or len(out) < n:
            if self._pos >= len(self._buf):
                self._buf = self._next_block()
                self._pos = 0
                if not self._buf:
                    break
            want = (
                len(self._buf) - self._pos
                if n < 0
                else min(n - len(out), len(self._buf) - self._pos)
            )
            out += self._buf[self._pos : self._pos + want]
            self._pos += want
        return out


class DumpcapCapture(LiveCapture):
    """The ``tshark`` engine: dumpcap writes pcapng to a pipe, read in a thread."""

    engine = "tshark"

    def __init__(self, iface: str, bpf: str, report: Callable[[Diagnostic], None]) -> None:
        super().__init__()
        self.iface = iface
        self.bpf = bpf
        exe = shutil.which("dumpcap")
        if exe is None:
            raise CaptureError(
                "dumpcap is not installed: install it (apt install tshark) or use --engine scapy"
            )
        cmd = [
            exe,
            "-i",
            iface,
            "-f",
            bpf,
            "-s",
            str(SNAPLEN),
            "-B",
            str(SOCKET_BUFFER // (1024 * 1024)),
            "-q",
            "-w",
            "-",
        ]
        self._proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        assert self._proc.stdout is not None and self._proc.stderr is not None
        self._pipe = _PcapngPipe(self._proc.stdout)  # type: ignore[arg-type]
        self._queue: queue.SimpleQueue[Frame | None] = queue.SimpleQueue()
        self._report = report
        self._stderr: list[bytes] = []
        self._done = False
        self._stopping = False
        self._err_thread = threading.Thread(target=self._read_stderr, daemon=True)
        self._err_thread.start()
        self._thread = threading.Thread(target=self._read_stdout, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self._pipe.ready.wait(0.05):
            if self._proc.poll() is not None or time.monotonic() > deadline:
                self._proc.kill()
                self._proc.wait()
                self._err_thread.join(1)
                raise self._start_error()
        self.linktype = self._pipe.linktype

    def _read_stdout(self) -> None:
        try:
            for fr in iter_pcapng(self._pipe, name=f"dumpcap -i {self.iface}", report=self._report):  # type: ignore[arg-type]
                self._queue.put(fr)
        except CaptureError as exc:
            self._stderr.append(str(exc).encode())
        finally:
            self._queue.put(None)

    def _read_stderr(self) -> None:
        assert self._proc.stderr is not None
        for line in self._proc.stderr:
            if len(self._stderr) < 100:
                self._stderr.append(line)

    def _message(self) -> str:
        lines = [ln.decode("utf-8", "replace").strip() for ln in self._stderr]
        lines = [ln for ln in lines if ln and not ln.startswith(("Capturing on", "File:"))]
        return " ".join(lines)[:400]

    def _start_error(self) -> CaptureError:
        msg = self._message()
        low = msg.lower()
        if "permission" in low or "privileges" in low or "operation not permitted" in low:
            return permission_error(self.iface, "tshark")
        if "no such device" in low or "there is no device" in low or "no device named" in low:
            return unknown_interface(self.iface)
        if ("filter" in low and "syntax" in low) or "can't parse filter" in low:
            return CaptureError(f"bad capture filter {self.bpf!r}: {msg}")
        return CaptureError(f"dumpcap could not capture on {self.iface}: {msg or 'no output'}")

    def _take(self, first: Frame | None, out: list[Frame]) -> None:
        item: Frame | None = first
        while True:
            if item is None:
                self._done = True
                return
            self._number += 1
            out.append(item._replace(number=self._number))
            if len(out) >= _BATCH:
                return
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return

    def read(self, timeout: float) -> list[Frame]:
        if self._done:
            if not self._stopping:  # dumpcap ended by itself: the capture is broken
                rc = self._proc.wait()
                self._err_thread.join(2)
                raise CaptureError(f"dumpcap stopped: {self._message() or f'exit status {rc}'}")
            return []
        try:
            first = self._queue.get(timeout=timeout)
        except queue.Empty:
            return []
        out: list[Frame] = []
        self._take(first, out)
        self.stats.received += len(out)
        return out

    def stop(self) -> list[Frame]:
        self._stopping = True
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)  # dumpcap flushes and writes its ISB
        try:
            self._proc.wait(10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._thread.join(10)
        out: list[Frame] = []
        while not self._done:
            try:
                item = self._queue.get(timeout=1)
            except queue.Empty:
                break
            self._take(item, out)
        self.stats.received += len(out)
        self.poll_stats()
        return out

    def poll_stats(self) -> CaptureStats:
        d = self._pipe.drops
        self.stats.dropped = d.get(_ISB_OSDROP, 0) + d.get(_ISB_IFDROP, 0)
        return self.stats

    def close(self) -> None:
        if self._proc.poll() is None:
            self.stop()
        for stream in (self._proc.stdout, self._proc.stderr):
            if stream is not None:
                stream.close()
