"""SIP over TLS, decrypted with an NSS key log (``--tls-keylog``, pcapng secrets).

Layers, sans-I/O except ``keys``: ``records`` (TLS records over TCP bytes),
``handshake`` (hello fields), ``keylog`` (the key log format), ``decrypt``
(key derivation and AEAD), ``lift`` (connections: the pipeline stage),
``keys`` (reading key logs and capture secrets), ``settings`` (the option).
"""

from __future__ import annotations

from collections.abc import Callable

from ..diagnostics import Diagnostic
from .keys import KeySource
from .lift import KEY_HINT, TlsLift
from .settings import configure, keylog_paths

__all__ = ["KEY_HINT", "KeySource", "TlsLift", "configure", "keylog_paths", "make_lift"]


def make_lift(report: Callable[[Diagnostic], None], captures: Callable[[], list[str]]) -> TlsLift:
    """The TLS lift of one pipeline, with this process's key log setting.

    Args:
        report: where TLS diagnostics go.
        captures: the capture files being read (searched for embedded secrets).
    """
    return TlsLift(report, KeySource(keylog_paths(), captures, report))
