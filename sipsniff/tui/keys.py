"""Every key of the terminal UI, in one table: the screens bind from it, the help screen lists it.

Strategy: a key is data (``Key``: the screen it works on, Textual key names,
the action, what it does), so the ``?`` help screen, the footer and the README
key table cannot drift from what is bound (STYLE rule 7).  sngrep's keys are
kept where sngrep has one (arrows, Enter, Esc/q, Space, F2, F3 and ``/``, F4,
F7); sipsniff's own additions take letters sngrep leaves free.

``bindings(screen)`` turns the rows of one screen into Textual ``Binding``s;
rows whose action is ``""`` are handled by a widget (cursor movement) and are
listed for help only.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding

__all__ = ["KEYS", "SCREENS", "Key", "bindings", "key_label", "keys_for"]

SCREENS: dict[str, str] = {
    "global": "Everywhere",
    "list": "Call list",
    "call": "Call view",
    "summary": "Summary",
}
"""Screen ids -> the heading the help screen gives them."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Key:
    """One key (or several keys doing the same) on one screen."""

    screen: str
    keys: tuple[str, ...]
    """Textual key names; the first is the one the footer shows."""
    action: str
    """Textual action ('' when a widget handles the key itself)."""
    description: str
    footer: str = ""
    """Short label for the footer ('' keeps it out of the footer)."""
    priority: bool = False
    """Checked before the focused widget sees the key.  ``/`` is, so the focus is in the
    filter bar before the keys typed right after it are dispatched (a binding found by
    bubbling runs later, when those keys have already gone to the list)."""


KEYS: tuple[Key, ...] = (
    Key(
        screen="global",
        keys=("question_mark", "f1"),
        action="app.help",
        description="this help",
        footer="Help",
    ),
    Key(
        screen="global",
        keys=("ctrl+c", "ctrl+q"),
        action="app.quit",
        description="quit at once, from any screen",
        priority=True,
    ),
    # -- call list ----------------------------------------------------------------------
    Key(screen="list", keys=("up", "down"), action="", description="previous / next call"),
    Key(
        screen="list",
        keys=("pageup", "pagedown", "home", "end"),
        action="",
        description="a page up / down, first / last call",
    ),
    Key(
        screen="list",
        keys=("enter",),
        action="open",
        description="open the call view of the selected calls (or of the call under the cursor)",
        footer="Open",
    ),
    Key(
        screen="list",
        keys=("space",),
        action="select",
        description="select / unselect the call under the cursor",
        footer="Select",
    ),
    Key(screen="list", keys=("a",), action="select_all", description="select every shown call"),
    Key(screen="list", keys=("A",), action="clear_selection", description="clear the selection"),
    Key(
        screen="list",
        keys=("slash",),
        action="search('/')",
        description="type in the filter bar (Enter or Esc: back to the list)",
        footer="Filter",
        priority=True,
    ),
    Key(
        screen="list",
        keys=("f3",),
        action="search",
        description="the same (sngrep's F3)",
        priority=True,
    ),
    Key(
        screen="list",
        keys=("f7",),
        action="filter_dialog",
        description="filter dialog: the filter words, failed only, problems only, kind",
    ),
    Key(
        screen="list",
        keys=("exclamation_mark", "f"),
        action="toggle_failed",
        description="toggle: failed calls only (rejected, cancelled, timed out)",
    ),
    Key(
        screen="list",
        keys=("w",),
        action="toggle_problems",
        description="toggle: calls with a warning or error diagnosis only",
    ),
    Key(
        screen="list",
        keys=("k",),
        action="cycle_kind",
        description="cycle the kind shown: all, call, registration, options...",
    ),
    Key(
        screen="list",
        keys=("greater_than_sign",),
        action="sort_next",
        description="sort on the next column (a click on a column title sorts on it)",
    ),
    Key(
        screen="list",
        keys=("less_than_sign",),
        action="sort_prev",
        description="sort on the previous column",
    ),
    Key(screen="list", keys=("z",), action="reverse_sort", description="reverse the sort order"),
    Key(
        screen="list",
        keys=("f2", "s"),
        action="save",
        description="save the selected (or shown) calls: pcap, HTML, Markdown, text, JSON",
        footer="Save",
    ),
    Key(
        screen="list",
        keys=("i",),
        action="summary",
        description="summary: the counts of analyze, diagnoses grouped by rule",
        footer="Summary",
    ),
    Key(
        screen="list",
        keys=("escape",),
        action="escape",
        description="clear the filter and toggles; with none, quit",
    ),
    Key(screen="list", keys=("q",), action="app.quit", description="quit", footer="Quit"),
    # -- call view ----------------------------------------------------------------------
    Key(
        screen="call",
        keys=("up", "down"),
        action="",
        description="previous / next message (arrow) of the ladder",
    ),
    Key(
        screen="call",
        keys=("pageup", "pagedown", "home", "end"),
        action="",
        description="a page of arrows up / down, first / last arrow",
    ),
    Key(
        screen="call",
        keys=("enter",),
        action="open_message",
        description="show the selected message alone (Esc: back)",
        footer="Message",
    ),
    Key(
        screen="call",
        keys=("tab", "shift+tab"),
        action="",
        description="next / previous pane: ladder, message, diagnoses",
    ),
    Key(
        screen="call",
        keys=("e",),
        action="next_evidence",
        description="jump to the next evidence frame of the diagnoses",
        footer="Evidence",
    ),
    Key(
        screen="call",
        keys=("E",),
        action="prev_evidence",
        description="jump to the previous evidence frame",
    ),
    Key(
        screen="call",
        keys=("enter",),
        action="",
        description="on a diagnosis or an evidence frame: jump to its arrow",
    ),
    Key(
        screen="call",
        keys=("z",),
        action="zoom",
        description="maximize the focused pane, or restore it (Esc also restores)",
    ),
    Key(
        screen="call",
        keys=("r",),
        action="toggle_retrans",
        description="hide / show retransmissions",
    ),
    Key(
        screen="call",
        keys=("f4", "x"),
        action="extended",
        description="extended flow: add the other legs of the call (B2BUA, as flow --merge)",
        footer="Legs",
    ),
    Key(
        screen="call",
        keys=("f2", "s"),
        action="save",
        description="save this call (these calls): pcap or report",
        footer="Save",
    ),
    Key(
        screen="call",
        keys=("escape", "q"),
        action="back",
        description="back to the call list",
        footer="Back",
    ),
    # -- summary ------------------------------------------------------------------------
    Key(
        screen="summary",
        keys=("up", "down"),
        action="",
        description="move through the diagnoses grouped by rule",
    ),
    Key(
        screen="summary",
        keys=("enter",),
        action="",
        description="on a rule: list the calls with that diagnosis (filter rule:ID)",
    ),
    Key(
        screen="summary",
        keys=("escape", "q", "i"),
        action="back",
        description="back to the call list",
        footer="Back",
    ),
)
"""Every key, by screen, in the order the help screen lists them."""

_LABELS = {
    "question_mark": "?",
    "slash": "/",
    "exclamation_mark": "!",
    "greater_than_sign": ">",
    "less_than_sign": "<",
    "space": "Space",
    "enter": "Enter",
    "escape": "Esc",
    "tab": "Tab",
    "shift+tab": "Shift+Tab",
    "up": "↑",
    "down": "↓",
    "pageup": "PgUp",
    "pagedown": "PgDn",
    "home": "Home",
    "end": "End",
}


def key_label(name: str) -> str:
    """How a key is written for people: ``F2``, ``Esc``, ``Ctrl+C``, ``?``."""
    if name in _LABELS:
        return _LABELS[name]
    if name.startswith("f") and name[1:].isdigit():
        return name.upper()
    if name.startswith("ctrl+"):
        return "Ctrl+" + name[5:].upper()
    return name


def keys_for(screen: str) -> list[Key]:
    """The rows of one screen, in table order."""
    return [k for k in KEYS if k.screen == screen]


def bindings(screen: str) -> list[Binding]:
    """Textual bindings of one screen (rows handled by widgets are left out)."""
    out: list[Binding] = []
    for k in keys_for(screen):
        if not k.action:
            continue
        out.append(
            Binding(
                ",".join(k.keys),
                k.action,
                k.footer or k.description,
                show=bool(k.footer),
                key_display=key_label(k.keys[0]),
                priority=k.priority,
            )
        )
    return out
