"""The screens of the terminal UI: call list, call view, summary, help, and the dialogs."""

from __future__ import annotations

from .call_list import CallListScreen
from .call_view import CallViewScreen
from .confirm import ConfirmScreen
from .filter_dialog import FilterDialog
from .help import HelpScreen
from .save_dialog import SaveDialog
from .summary import SummaryScreen

__all__ = [
    "CallListScreen",
    "CallViewScreen",
    "ConfirmScreen",
    "FilterDialog",
    "HelpScreen",
    "SaveDialog",
    "SummaryScreen",
]
