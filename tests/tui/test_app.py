"""The app end to end, headless: load, filter, sort, open a call, arrows, messages, evidence, quit."""

from __future__ import annotations

import subprocess
from pathlib import Path

from helpers import capture, needs_tool
from textual.widgets import Input

from sipsniff.tui.screens.call_list import CallListScreen
from sipsniff.tui.screens.call_view import CallViewScreen
from sipsniff.tui.screens.save_dialog import SaveDialog
from sipsniff.tui.widgets.call_table import CallTable
from sipsniff.tui.widgets.ladder_pane import LadderPane


def _ids(app) -> list[str]:
    return [r.call.call_id for r in app.session.store.view]


def test_loads_and_lists_every_call(tui_drive) -> None:
    async def scenario(h) -> None:
        await h.loaded()
        assert isinstance(h.app.screen, CallListScreen)
        assert len(_ids(h.app)) == 8
        text = h.text()
        assert "8 calls" in text
        assert "demo-busy-1@" in text and "486" in text
        assert "loaded in" in text

    tui_drive([capture("demo.pcap")], scenario)


def test_filter_sort_open_walk_and_jump(tui_drive) -> None:
    async def scenario(h) -> None:
        await h.loaded()
        app = h.app
        await h.press("slash")
        await h.type("ip:127.0.0.22")
        await h.press("enter")
        assert _ids(app) == ["demo-busy-1@127.0.0.22", "demo-503-1@127.0.0.22"]
        assert app.screen.query_one(CallTable).has_focus
        await h.press("z")  # reverse the sort (start, descending)
        assert _ids(app) == ["demo-503-1@127.0.0.22", "demo-busy-1@127.0.0.22"]
        await h.press("down", "enter")
        screen = app.screen
        assert isinstance(screen, CallViewScreen)
        ladder = screen.query_one(LadderPane)
        assert [a.label for a in ladder.arrows] == ["INVITE", "100 Trying", "486 Busy Here", "ACK"]
        assert ladder.arrow is not None and ladder.arrow.frame == 28
        assert "INVITE sip:bob@127.0.0.10:5060 SIP/2.0" in screen.message.text.plain
        await h.press("down", "down")
        assert ladder.arrow.label == "486 Busy Here"
        assert screen.message.text.plain.startswith("frame 30 ")
        assert "SIP/2.0 486 Busy Here" in screen.message.text.plain
        await h.press("home")
        assert ladder.arrow.frame == 28
        await h.press("e")  # the evidence of callee-busy: the 486
        assert ladder.arrow.frame == 30
        await h.press("enter")  # the message alone
        assert screen.maximized is screen.message
        await h.press("escape")
        assert screen.maximized is None
        await h.press("escape")
        assert isinstance(app.screen, CallListScreen)
        await h.press("q")

    app = tui_drive([capture("demo.pcap")], scenario)
    assert app.return_code == 0


def test_filter_by_code_and_by_rule(tui_drive) -> None:
    async def scenario(h) -> None:
        await h.loaded()
        app = h.app
        bar = app.screen.filter_input

        async def search(words: str) -> None:
            await h.press("slash")
            bar.value = words
            await h.press("enter")

        await search("code:4xx")
        assert _ids(app) == [
            "demo-reg-1@127.0.0.21",
            "demo-busy-1@127.0.0.22",
            "demo-cancel-1@127.0.0.23",
        ]
        await search("486")
        assert _ids(app) == ["demo-busy-1@127.0.0.22"]
        await h.press("slash")
        bar.value = "rule:server-unavailable"
        await h.press("escape")  # Esc in the bar keeps the filter and goes back to the list
        assert _ids(app) == ["demo-503-1@127.0.0.22"]
        assert "1 shown" in h.text()
        await h.press("escape")  # Esc on the list clears it
        assert len(_ids(app)) == 8 and bar.value == ""
        await h.press("f")  # failed only
        assert _ids(app) == [
            "demo-busy-1@127.0.0.22",
            "demo-cancel-1@127.0.0.23",
            "demo-503-1@127.0.0.22",
        ]
        await h.press("f", "w")  # warnings and errors only
        assert _ids(app) == ["demo-503-1@127.0.0.22"]
        await h.press("w", "k")  # kind: call
        assert len(_ids(app)) == 6 and "[kind call]" in h.text()

    tui_drive([capture("demo.pcap")], scenario)


def test_sort_keys_and_header_click(tui_drive) -> None:
    async def scenario(h) -> None:
        await h.loaded()
        app = h.app
        store = app.session.store
        await h.press("greater_than_sign")
        assert store.sort_key == "who"
        await h.press("less_than_sign", "less_than_sign")
        assert store.sort_key == "mark" or store.sort_key != "who"
        store.sort_by("code")
        app.screen.refresh_view()
        codes = [r.call.final_status for r in store.view]
        assert codes == sorted(codes)
        table = app.screen.query_one(CallTable)
        x = sum(w + 1 for c, w in table.columns()[:3])  # the Call-ID title
        await h.pilot.click(CallTable, offset=(x + 1, 0))
        await h.pilot.pause()
        assert store.sort_key == "callid" and not store.reverse
        await h.pilot.click(CallTable, offset=(x + 1, 0))
        await h.pilot.pause()
        assert store.reverse
        ids = _ids(app)
        assert ids == sorted(ids, reverse=True)

    tui_drive([capture("demo.pcap")], scenario)


def _tshark_sip_frames(path: Path) -> list[tuple[str, str]]:
    tshark = needs_tool("tshark")
    out = subprocess.run(
        [
            tshark,
            "-r",
            str(path),
            "-Y",
            "sip",
            "-T",
            "fields",
            "-e",
            "frame.number",
            "-e",
            "sip.Call-ID",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    return [tuple(line.split("\t")) for line in out.splitlines() if line]  # type: ignore[misc]


def test_save_selected_calls_to_pcap_and_html(tui_drive, tmp_path: Path) -> None:
    pcap = tmp_path / "chosen.pcap"
    html = tmp_path / "chosen.html"

    async def scenario(h) -> None:
        await h.loaded()
        app = h.app
        await h.press("down", "down", "space", "down", "down", "space")  # Space moves on
        assert {app.session.store.rows[u].call.call_id for u in app.session.store.selected} == {
            "demo-call-1@127.0.0.21",
            "demo-busy-1@127.0.0.22",
        }
        assert "2 selected" in h.text()
        await h.press("f2")
        dialog = app.screen
        assert isinstance(dialog, SaveDialog)
        assert dialog.chosen[0] == "the 2 selected calls"
        dialog.query_one("#name", Input).value = str(pcap)
        await h.press("enter")
        await h.until(lambda: len(app.session.saved) == 1)
        assert app.session.saved[0].startswith(f"wrote {pcap} (pcap, 11 frames of 2 calls)")
        await h.press("s")
        app.screen.query_one("#name", Input).value = str(html)
        await h.press("enter")
        await h.until(lambda: len(app.session.saved) == 2)
        assert "(html, 2 calls)" in app.session.saved[1]

    tui_drive([capture("demo.pcap")], scenario)
    frames = _tshark_sip_frames(pcap)
    assert [cid for _f, cid in frames] == ["demo-call-1@127.0.0.21"] * 7 + [
        "demo-busy-1@127.0.0.22"
    ] * 4
    page = html.read_text()
    assert "demo-call-1@127.0.0.21" in page and "demo-busy-1@127.0.0.22" in page
    assert "demo-503-1@127.0.0.22" not in page


def test_hostile_capture_leaves_the_screen_intact(tui_drive) -> None:
    async def scenario(h) -> None:
        await h.loaded()
        app = h.app
        text = h.inert()
        assert "[bold red]HACK[" in text  # markup shown, not applied (the cell is cut)
        n = len(app.session.store.view)
        assert n == 4
        for i in range(n):
            app.screen.query_one(CallTable).move_to(i)
            await h.press("enter")
            view = app.screen
            assert isinstance(view, CallViewScreen)
            ladder = view.query_one(LadderPane)
            for _ in ladder.arrows:
                plain = view.message.text.plain
                assert h.is_inert(plain.replace("\n", ""))
                h.inert()
                await h.press("down")
            if "hostile-call-1" in ladder.arrows[0].call_id:
                ladder.select(0)
                await h.pilot.pause()
                raw = view.message.text.plain
                assert "\\x1b[2J\\x1b[31m" in raw and "\\x1b]0;pwned\\x07" in raw
                assert "\\x00" in raw and "<script>" in raw
            await h.press("enter")  # the message alone, maximized
            h.inert()
            await h.press("escape", "escape")
        await h.press("i")
        text = h.inert()
        assert "bad-start-line" in text and "malformed-message" in text
        await h.press("escape", "question_mark")
        h.inert()

    tui_drive([capture("hostile.pcap")], scenario, size=(120, 40))


def test_80x24_without_colour(tui_drive, monkeypatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")

    async def scenario(h) -> None:
        await h.loaded()
        assert h.app.no_color
        lines = h.lines()
        assert len(lines) == 24 and all(len(line) == 80 for line in lines)
        text = "\n".join(lines)
        for needle in (
            "Filter",
            "8 calls",
            "start",
            "from → to",
            "code",
            "demo-503-1",
            "503",
            "✖1",
        ):
            assert needle in text, needle
        assert "Enter Open" in lines[-1].replace("  ", " ")
        await h.press("end", "enter")
        lines = h.lines()
        assert len(lines) == 24 and all(len(line) == 80 for line in lines)
        text = "\n".join(lines)
        assert "Call demo-503-1@127.0.0.22" in text
        assert "127.0.0.10:5060" in text and "INVITE" in text
        assert "Message · frame" in text and "Diagnoses (1)" in text

    tui_drive([capture("demo.pcap")], scenario, size=(80, 24))
