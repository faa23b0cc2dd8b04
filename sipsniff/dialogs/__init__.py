"""Dialogs: SipMessage stream -> Call snapshots (transactions, outcome, timings). Sans-I/O."""

from .call import Call, Timings, Transaction
from .states import CallKind, CallState
from .tracker import DialogTracker

__all__ = ["Call", "CallKind", "CallState", "DialogTracker", "Timings", "Transaction"]
