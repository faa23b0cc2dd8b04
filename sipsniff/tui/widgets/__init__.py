"""The widgets of the terminal UI: the call table, the ladder, the message and the diagnoses."""

from __future__ import annotations

from .call_table import CallTable
from .diagnoses_pane import DiagnosesPane
from .ladder_pane import LadderPane
from .message_pane import MessagePane

__all__ = ["CallTable", "DiagnosesPane", "LadderPane", "MessagePane"]
