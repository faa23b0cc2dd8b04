"""Where key logs come from: a process-wide setting, like the engine choice.

``--tls-keylog`` is a group option of the command line; it is stored here, and
every ``Pipeline`` made afterwards (the serial run, each forked shard, the TUI
loader, a live session) reads it, so no command has to thread it through.

When no key log is given, ``SSLKEYLOGFILE`` is used if it names an existing
file: it is the variable the SIP peer itself (curl, Python's ssl, NSS/OpenSSL
applications) was told to write its secrets to, so the usual workflow
"export SSLKEYLOGFILE=keys.txt; run the client; sipsniff analyze" needs no
option.  A file it names that does not exist yet is ignored (a peer that has
not written anything), rather than an error.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

__all__ = ["configure", "keylog_paths"]

_configured: list[Path] = []


def configure(paths: Iterable[str | os.PathLike[str]]) -> None:
    """Set the key log files for this process (empty: back to the default)."""
    _configured[:] = [Path(p) for p in paths]


def keylog_paths() -> list[Path]:
    """The key log files to read: the configured ones, else ``SSLKEYLOGFILE`` if it exists."""
    if _configured:
        return list(_configured)
    env = os.environ.get("SSLKEYLOGFILE")
    if env and Path(env).is_file():
        return [Path(env)]
    return []
