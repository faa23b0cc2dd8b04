"""Frozen snapshots of what the tracker learned: transactions, timings, calls.

A ``Call`` groups every message sharing a Call-ID, in capture order, with
the transactions they form and the outcome.  It is published once, when the
call is finished (or the capture ends), and then never changes: annotators and
renderers read it, none writes it.  ``Transaction`` and ``Timings`` are
``NamedTuple``s: several are built for every call on the hot path, several
times cheaper than frozen dataclasses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from ..sip.message import SipMessage
from .states import CallKind, CallState

__all__ = ["Call", "Timings", "Transaction"]


class Transaction(NamedTuple):
    """A request and its responses (RFC 3261 section 17: top Via branch + CSeq method)."""

    method: str
    branch: str
    cseq: int
    requests: tuple[int, ...]
    """Indices into ``Call.messages`` of the request and its retransmissions."""
    responses: tuple[int, ...]
    final_status: int
    """Last final (>= 200) status, 0 when none arrived."""
    ack: int = -1
    """Index of the ACK for a non-2xx final response (same transaction), -1 if none."""


class Timings(NamedTuple):
    """Call timings in milliseconds (None when the events did not happen)."""

    first_provisional: float | None = None
    """Initial INVITE -> first 1xx."""
    post_dial_delay: float | None = None
    """Initial INVITE -> first 180/183 (what the caller waits before hearing ringback)."""
    setup: float | None = None
    """Initial INVITE -> 2xx."""
    duration: float | None = None
    """ACK of the 2xx -> BYE."""
    teardown: float | None = None
    """BYE -> its final response."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Call:
    """Everything seen for one Call-ID (one "call" in sngrep's sense)."""

    call_id: str
    kind: CallKind
    state: CallState
    final_status: int
    """The final status deciding the outcome (0 when none)."""
    from_uri: str
    to_uri: str
    from_user: str
    to_user: str
    from_display: str
    request_user: str
    start_ns: int
    end_ns: int
    messages: tuple[SipMessage, ...]
    retransmissions: frozenset[int]
    """Indices of messages that repeat an earlier one (same transaction, same direction)."""
    transactions: tuple[Transaction, ...]
    timings: Timings
    ended_by: str = ""
    """``caller``/``callee`` for answered calls torn down with BYE ('' otherwise)."""
    evicted: bool = False
    """Flushed early because the open-dialog table was full (the record may be partial)."""
    message_count: int = 0
    """Number of messages, kept when ``messages`` was released to save memory."""
    capture_duplicates: int = 0
    """Messages left out because they were the capture's second copy of a packet
    (same bytes, same hop, within the tracker's duplicate window)."""
    duplicate_frames: tuple[int, ...] = ()
    """The frames of the first of those copies (at most ``MAX_DUPLICATE_FRAMES``)."""

    @property
    def frames(self) -> tuple[int, ...]:
        return tuple(m.frame for m in self.messages)

    @property
    def failed(self) -> bool:
        """Did the exchange not succeed (rejected, cancelled or timed out)?"""
        return self.state in (CallState.REJECTED, CallState.TIMED_OUT, CallState.CANCELLED)

    @property
    def duration_s(self) -> float:
        return (self.end_ns - self.start_ns) / 1e9
