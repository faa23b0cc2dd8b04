"""Call kinds and outcomes, as tables rather than nested ifs.

The outcome of a call is decided by the final response to its initial
request (the last INVITE/REGISTER/... transaction before a dialog was
established), looked up in ``OUTCOME_BY_CLASS`` with the few exceptions in
``OUTCOME_BY_CODE``.  sngrep's ``call_update_state`` hard-codes 480, 486 and
600 in branches; here the same knowledge is data that docs and tests can read.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["KIND_BY_METHOD", "OUTCOME_BY_CLASS", "OUTCOME_BY_CODE", "CallKind", "CallState"]


class CallKind(StrEnum):
    """What a Call-ID was used for, from its first request."""

    CALL = "call"
    REGISTRATION = "registration"
    OPTIONS = "options"
    SUBSCRIPTION = "subscription"
    MESSAGE = "message"
    OTHER = "other"


class CallState(StrEnum):
    """How a call (or a non-INVITE exchange) ended."""

    ANSWERED = "answered"
    """A 2xx final response to the initial request."""
    REJECTED = "rejected"
    """A 3xx-6xx final response (see ``final_status``)."""
    CANCELLED = "cancelled"
    """CANCEL sent, or 487 Request Terminated received."""
    TIMED_OUT = "timed-out"
    """408, or no final response before Timer B/F (64*T1 = 32 s) ran out."""
    IN_PROGRESS = "in-progress"
    """Still open when the capture ended."""


KIND_BY_METHOD: dict[str, CallKind] = {
    "INVITE": CallKind.CALL,
    "REGISTER": CallKind.REGISTRATION,
    "OPTIONS": CallKind.OPTIONS,
    "SUBSCRIBE": CallKind.SUBSCRIPTION,
    "NOTIFY": CallKind.SUBSCRIPTION,
    "PUBLISH": CallKind.SUBSCRIPTION,
    "MESSAGE": CallKind.MESSAGE,
}

OUTCOME_BY_CLASS: dict[int, CallState] = {
    2: CallState.ANSWERED,
    3: CallState.REJECTED,
    4: CallState.REJECTED,
    5: CallState.REJECTED,
    6: CallState.REJECTED,
}

OUTCOME_BY_CODE: dict[int, CallState] = {
    408: CallState.TIMED_OUT,
    487: CallState.CANCELLED,
}
