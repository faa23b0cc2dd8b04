"""Where the lift finds secrets: key log files and a pcapng's own secrets blocks.

Strategy: the files are read when the first TLS connection needs a secret (a
capture without TLS never opens them), and read again from where they ended
when a connection's random is missing: a live capture's peer appends to its
key log as connections are made.  Capture files are pre-scanned for
Decryption Secrets Blocks (``capture.pcapng.tls_secrets``) once, at the same
moment.  Lines that are not key log lines are reported once per read, with
their line numbers.

This is the one module of ``tls`` that touches files.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from ..capture.pcapng import SHB_MAGIC, tls_secrets
from ..diagnostics import Diagnostic, Stage, Trigger
from .keylog import KeyLog

__all__ = ["KeySource"]


class _File:
    __slots__ = ("line", "offset", "path")

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.line = 1


class KeySource:
    """Secrets by client random, read lazily from files and captures."""

    def __init__(
        self,
        keylogs: list[Path],
        captures: Callable[[], list[str]],
        report: Callable[[Diagnostic], None],
    ) -> None:
        self._files = [_File(p) for p in keylogs]
        self._captures = captures
        self._report = report
        self._log = KeyLog()
        self._loaded = False
        self.embedded = 0
        """Decryption Secrets Blocks found in the captures."""

    @property
    def growable(self) -> bool:
        """Can a missing secret still appear (a key log file, which a live peer appends to)?"""
        return bool(self._files)

    @property
    def configured(self) -> bool:
        """Is there anywhere to look (a key log file, or secrets in the capture)?"""
        self._load()
        return bool(self._files) or self.embedded > 0

    def get(self, client_random: bytes) -> dict[str, bytes] | None:
        """The secrets of a connection, re-reading grown key logs on a miss."""
        self._load()
        found = self._log.get(client_random)
        if found is None and self._files and self._refresh():
            found = self._log.get(client_random)
        return found

    def secret(self, client_random: bytes, label: str) -> bytes | None:
        """One secret of a connection, re-reading grown key logs when it is missing
        (a live peer writes a connection's secrets one by one as it derives them)."""
        self._load()
        found = self._log.get(client_random)
        if (found is None or label not in found) and self._files and self._refresh():
            found = self._log.get(client_random)
        return found.get(label) if found is not None else None

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        for name in self._captures():
            try:
                with open(name, "rb") as fp:
                    if fp.read(4) != SHB_MAGIC:
                        continue
                    fp.seek(0)
                    texts = tls_secrets(fp)
            except OSError:
                continue  # a live interface's name, or a file the reader reports on
            for text in texts:
                self.embedded += 1
                self._add(text, 1, f"{name}: embedded TLS secrets")
        self._refresh()

    def _refresh(self) -> bool:
        """Read what the key logs gained since last time; True when something was read."""
        grew = False
        for f in self._files:
            try:
                size = os.stat(f.path).st_size
                if size < f.offset:
                    f.offset, f.line = 0, 1  # rewritten from the start
                if size == f.offset:
                    continue
                with open(f.path, "rb") as fp:
                    fp.seek(f.offset)
                    data = fp.read(size - f.offset)
            except OSError as exc:
                if f.offset == 0 and f.line == 1:
                    f.line = 0  # report an unreadable key log once
                    self._report(
                        Diagnostic(
                            frame=0,
                            stage=Stage.DECODE,
                            trigger=Trigger.TLS,
                            detail=f"TLS key log {f.path}: cannot read: {exc.strerror or exc}",
                        )
                    )
                continue
            whole = data.rfind(b"\n") + 1  # a line still being written waits
            if not whole:
                continue
            self._add(data[:whole], f.line, f"TLS key log {f.path}")
            f.offset += whole
            f.line += data.count(b"\n", 0, whole)
            grew = True
        return grew

    def _add(self, text: bytes, first_line: int, origin: str) -> None:
        bad = self._log.add(text, first_line)
        if bad.count:
            self._report(
                Diagnostic(
                    frame=0,
                    stage=Stage.DECODE,
                    trigger=Trigger.TLS,
                    detail=f"{origin}: {bad.describe()} not in the NSS key log format "
                    "(LABEL <client random hex> <secret hex>); ignored",
                )
            )
