"""The key table: every bound action exists on its screen, labels read as people write keys."""

from __future__ import annotations

import pytest

from sipsniff.tui.app import SipsniffApp
from sipsniff.tui.keys import KEYS, SCREENS, bindings, key_label, keys_for
from sipsniff.tui.screens.call_list import CallListScreen
from sipsniff.tui.screens.call_view import CallViewScreen
from sipsniff.tui.screens.summary import SummaryScreen

OWNER = {
    "global": SipsniffApp,
    "list": CallListScreen,
    "call": CallViewScreen,
    "summary": SummaryScreen,
}


@pytest.mark.parametrize("screen", list(SCREENS))
def test_every_action_is_implemented(screen: str) -> None:
    for k in keys_for(screen):
        if not k.action:
            continue
        target = SipsniffApp if k.action.startswith("app.") else OWNER[screen]
        name = k.action.removeprefix("app.").split("(")[0]
        assert hasattr(target, f"action_{name}"), (screen, k.action)


def test_bindings_carry_every_key_and_show_the_footer_ones() -> None:
    for screen in SCREENS:
        bs = bindings(screen)
        bound = {key for b in bs for key in b.key.split(",")}
        want = {key for k in keys_for(screen) if k.action for key in k.keys}
        assert bound == want
        assert {b.description for b in bs if b.show} == {
            k.footer for k in keys_for(screen) if k.footer
        }


def test_sngrep_keys_are_there() -> None:
    keys = {(k.screen, key) for k in KEYS for key in k.keys}
    for want in [
        ("list", "enter"),
        ("list", "space"),
        ("list", "f2"),
        ("list", "f3"),
        ("list", "slash"),
        ("list", "f7"),
        ("list", "q"),
        ("list", "escape"),
        ("call", "f4"),
        ("call", "escape"),
        ("global", "question_mark"),
    ]:
        assert want in keys, want


def test_labels() -> None:
    assert [
        key_label(k)
        for k in ("question_mark", "f2", "ctrl+c", "escape", "space", "A", "less_than_sign")
    ] == [
        "?",
        "F2",
        "Ctrl+C",
        "Esc",
        "Space",
        "A",
        "<",
    ]
