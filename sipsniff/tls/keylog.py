"""NSS key log ("SSLKEYLOGFILE") parsing: the secrets that open recorded TLS.

Strategy: the format (NSS, also written by OpenSSL's keylog callback, Python's
``SSLContext.keylog_filename``, curl, browsers, Kamailio and OpenSIPS) is one
secret a line: ``LABEL <client random, 64 hex> <secret, hex>``; ``#`` starts a
comment.  Secrets are indexed by the ClientHello random, the only thing a
capture and a key log share.

Rules:
- Only the labels decryption needs are kept: ``CLIENT_RANDOM`` (the TLS 1.2
  master secret) and the four TLS 1.3 traffic secrets.  Other known labels
  (early data, exporter secrets) are valid and ignored.
- A line that is not of this shape is counted with its line number; the caller
  reports them once per key log, not once per line.
- At most ``MAX_KEYLOG_ENTRIES`` client randoms are kept (a browser's key log of
  a month is a few thousand), so a huge or hostile file cannot exhaust memory.

This module holds no file: text goes in, lookups come out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

__all__ = [
    "CLIENT_HANDSHAKE",
    "CLIENT_RANDOM",
    "CLIENT_TRAFFIC",
    "MAX_KEYLOG_ENTRIES",
    "SERVER_HANDSHAKE",
    "SERVER_TRAFFIC",
    "BadLines",
    "KeyLog",
]

CLIENT_RANDOM: Final = "CLIENT_RANDOM"
CLIENT_HANDSHAKE: Final = "CLIENT_HANDSHAKE_TRAFFIC_SECRET"
SERVER_HANDSHAKE: Final = "SERVER_HANDSHAKE_TRAFFIC_SECRET"
CLIENT_TRAFFIC: Final = "CLIENT_TRAFFIC_SECRET_0"
SERVER_TRAFFIC: Final = "SERVER_TRAFFIC_SECRET_0"
_USED = frozenset(
    (CLIENT_RANDOM, CLIENT_HANDSHAKE, SERVER_HANDSHAKE, CLIENT_TRAFFIC, SERVER_TRAFFIC)
)
_KNOWN_OTHER = frozenset(
    ("CLIENT_EARLY_TRAFFIC_SECRET", "EARLY_EXPORTER_SECRET", "EXPORTER_SECRET", "RSA")
)
# Wireshark's key log reader has no bound; 1 M randoms is about 200 MB of
# secrets, far past any real key log, and what a hostile file can make us hold.
MAX_KEYLOG_ENTRIES: Final = 1_000_000
# Bad line numbers kept for the one report (the count is always exact).
_MAX_BAD_LINES: Final = 10
_LINE = re.compile(rb"^([A-Z0-9_]+) ([0-9A-Fa-f]{64}) ([0-9A-Fa-f]{2,256})$")


@dataclass(slots=True)
class BadLines:
    """What one ``KeyLog.add`` could not read: counted, first line numbers kept."""

    count: int = 0
    lines: list[int] = field(default_factory=list)

    def note(self, number: int) -> None:
        self.count += 1
        if len(self.lines) < _MAX_BAD_LINES:
            self.lines.append(number)

    def describe(self) -> str:
        """'3 lines (4, 9, 12)' for a report."""
        more = ", ..." if self.count > len(self.lines) else ""
        nums = ", ".join(str(n) for n in self.lines)
        return f"{self.count} line{'s' if self.count != 1 else ''} ({nums}{more})"


class KeyLog:
    """Secrets by client random, from any number of key log texts."""

    def __init__(self) -> None:
        self._secrets: dict[bytes, dict[str, bytes]] = {}
        self.full = False
        """``MAX_KEYLOG_ENTRIES`` reached: later randoms were not kept."""

    def __len__(self) -> int:
        return len(self._secrets)

    def add(self, text: bytes, first_line: int = 1) -> BadLines:
        """Read key log text (whole lines); return what could not be read.

        Args:
            text: the lines, as bytes (the format is ASCII).
            first_line: the number of the first line (a file read in pieces).
        """
        bad = BadLines()
        for n, raw in enumerate(text.split(b"\n"), first_line):
            line = raw.strip()
            if not line or line.startswith(b"#"):
                continue
            m = _LINE.match(line)
            if m is None or len(m.group(3)) % 2:
                bad.note(n)
                continue
            label = m.group(1).decode()
            if label not in _USED:
                if label not in _KNOWN_OTHER:
                    bad.note(n)
                continue
            rnd = bytes.fromhex(m.group(2).decode())
            entry = self._secrets.get(rnd)
            if entry is None:
                if len(self._secrets) >= MAX_KEYLOG_ENTRIES:
                    self.full = True
                    continue
                entry = self._secrets[rnd] = {}
            entry[label] = bytes.fromhex(m.group(3).decode())
        return bad

    def get(self, client_random: bytes) -> dict[str, bytes] | None:
        """The secrets logged for a connection (by its ClientHello random), or None."""
        return self._secrets.get(client_random)
