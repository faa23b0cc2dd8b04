"""The "never silent" channel: every discarded or damaged frame becomes a Diagnostic.

Strategy: decoders raise :class:`DecodeError` with a precise message; the pipeline
catches it at the stage boundary, attaches the frame number and emits a
:class:`Diagnostic`.  Only :class:`CaptureError` (a file that cannot be opened or
read at all) travels up to the command line, which prints one line and exits 2.

Triggers are stable, machine-readable strings so reports can count them and
scripts can filter on them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["CaptureError", "DecodeError", "Diagnostic", "Stage", "Trigger"]


class DecodeError(ValueError):
    """Bytes that do not decode as what they claim to be."""


class CaptureError(Exception):
    """A capture source that cannot be used at all (missing, unreadable, no permission)."""


class Stage(StrEnum):
    """The pipeline stage that raised a diagnostic."""

    CAPTURE = "capture"
    DECODE = "decode"
    REASSEMBLY = "reassembly"
    SIP = "sip"
    DIALOGS = "dialogs"
    ANNOTATE = "annotate"


class Trigger(StrEnum):
    """Why something was dropped, damaged or bounded. Values are stable identifiers."""

    TRUNCATED_FILE = "truncated-file"
    TRUNCATED = "truncated"
    SNAPLEN = "snaplen"
    UNKNOWN_LINKTYPE = "unknown-linktype"
    BAD_BLOCK = "bad-block"
    BAD_HEADER = "bad-header"
    FRAG_OVERFLOW = "frag-overflow"
    FRAG_EXPIRED = "frag-expired"
    REASM_OVERFLOW = "reasm-overflow"
    TCP_GAP = "tcp-gap"
    TCP_RESYNC = "tcp-resync"
    BAD_START_LINE = "bad-start-line"
    BAD_SIP_HEADER = "bad-sip-header"
    MISSING_HEADER = "missing-header"
    CONTENT_LENGTH = "content-length"
    OVERSIZED = "oversized"
    NOT_SIP = "not-sip"
    DIALOG_EVICTED = "dialog-evicted"
    RULE_FAILED = "rule-failed"
    TIME_JUMP = "time-jump"
    BAD_TIMESTAMP = "bad-timestamp"
    TUNNEL = "tunnel"
    """A tunnel or encapsulation header that is damaged, unknown or nested too deep."""
    SCTP = "sctp"
    """A damaged SCTP packet or chunk, or a user message that cannot be reassembled."""
    WEBSOCKET = "websocket"
    """A damaged or truncated WebSocket handshake or frame."""
    TLS = "tls"
    """TLS that cannot be decrypted (no or wrong keys, unsupported or unverifiable suite)."""
    HEP = "hep"
    """A damaged HEP packet, or one refused (auth key, source not allowed)."""
    MEDIA = "media"
    """RTP/RTCP bounded: the stream table was full and a stream was evicted."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Diagnostic:
    """One problem with one frame, printed as a single line and counted in reports."""

    frame: int
    """Wireshark frame number (1-based); 0 when the problem concerns the whole file."""
    stage: Stage
    trigger: Trigger
    detail: str
    """Human-readable, one line; may quote wire text, so sinks must escape it."""

    def line(self) -> str:
        """Format as the one-line message the command line prints."""
        where = f"frame {self.frame}" if self.frame else "capture"
        return f"{where}: {self.stage}: {self.trigger}: {self.detail}"
