"""The summary screen: analyze's counters, diagnoses grouped by rule (Enter filters), warnings."""

from __future__ import annotations

from helpers import capture
from textual.widgets import OptionList

from sipsniff.tui.screens.call_list import CallListScreen
from sipsniff.tui.screens.summary import SummaryScreen


def test_counts_rules_and_filtering_by_a_rule(tui_drive) -> None:
    async def scenario(h) -> None:
        await h.loaded()
        await h.press("i")
        screen = h.app.screen
        assert isinstance(screen, SummaryScreen)
        text = h.text()
        for needle in ("42 SIP messages", "INVITE 6", "486 1", "answered 5", "rejected 2"):
            assert needle in text, needle
        assert [g.rule for g in screen.groups] == [
            "server-unavailable",
            "callee-busy",
            "caller-cancelled",
        ]
        assert "Capture warnings (0)" in text
        rules = screen.query_one("#rules", OptionList)
        assert rules.has_focus
        await h.press("down", "enter")  # callee-busy
        assert isinstance(h.app.screen, CallListScreen)
        assert h.app.session.store.query.text == "rule:callee-busy"
        assert [r.call.call_id for r in h.app.session.store.view] == ["demo-busy-1@127.0.0.22"]

    tui_drive([capture("demo.pcap")], scenario)


def test_capture_warnings_are_listed(tui_drive) -> None:
    async def scenario(h) -> None:
        await h.loaded()
        await h.press("i")
        text = h.inert()
        assert "Capture warnings (5)" in text
        assert "frame 9: sip: not-sip" in text
        await h.press("escape")
        assert isinstance(h.app.screen, CallListScreen)

    tui_drive([capture("hostile.pcap")], scenario, size=(120, 50))
