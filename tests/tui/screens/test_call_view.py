"""The call view: merged legs, the extended flow (F4), retransmissions, diagnoses, zoom."""

from __future__ import annotations

from pathlib import Path

from factories import ipv4_udp_frame, make_response, sip_bytes, write_pcap
from helpers import capture

from sipsniff.decode.payload import Endpoint
from sipsniff.tui.screens.call_view import CallViewScreen, find_legs
from sipsniff.tui.widgets.call_table import CallTable
from sipsniff.tui.widgets.diagnoses_pane import DiagnosesPane
from sipsniff.tui.widgets.ladder_pane import LadderPane

CALLER = Endpoint("10.0.0.1", 5060)
B2BUA = Endpoint("10.0.0.2", 5060)
CALLEE = Endpoint("10.0.0.3", 5060)


def _b2bua_pcap(path: Path) -> Path:
    """Leg A caller -> B2BUA and leg B B2BUA -> callee, the From tag copied across (rule 3)."""

    def req(cid: str, branch: str) -> bytes:
        return sip_bytes(
            "INVITE sip:bob@10.0.0.3 SIP/2.0", call_id=cid, branch=branch, from_tag="shared-tag"
        )

    def ok(cid: str, branch: str) -> bytes:
        return make_response(200, "OK", call_id=cid, branch=branch, from_tag="shared-tag")

    frames = [
        ipv4_udp_frame(req("leg-a@x", "z9hG4bK-a"), CALLER, B2BUA),
        ipv4_udp_frame(req("leg-b@x", "z9hG4bK-b"), B2BUA, CALLEE),
        ipv4_udp_frame(ok("leg-b@x", "z9hG4bK-b"), CALLEE, B2BUA),
        ipv4_udp_frame(ok("leg-a@x", "z9hG4bK-a"), B2BUA, CALLER),
    ]
    return write_pcap(path, frames)


def test_several_selected_calls_are_one_ladder(tui_drive) -> None:
    async def scenario(h) -> None:
        await h.loaded()
        await h.press("down", "down", "space", "space")  # demo-call-1 and demo-call-2
        await h.press("enter")
        view = h.app.screen
        assert isinstance(view, CallViewScreen)
        ladder = view.query_one(LadderPane)
        assert {a.call_id for a in ladder.arrows} == {
            "demo-call-1@127.0.0.21",
            "demo-call-2@127.0.0.21",
        }
        assert len(ladder.arrows) == 14
        text = h.text()
        assert "A Call demo-call-1@127.0.0.21" in text and "B Call demo-call-2" in text
        assert "2 legs" in text and "A #7" in text

    tui_drive([capture("demo.pcap")], scenario)


def test_extended_flow_adds_the_other_leg(tui_drive, tmp_path: Path) -> None:
    path = _b2bua_pcap(tmp_path / "b2bua.pcap")

    async def scenario(h) -> None:
        await h.loaded()
        assert [r.call.call_id for r in h.app.session.store.view] == ["leg-a@x", "leg-b@x"]
        assert find_legs(h.app.session, [0]) == [0, 1]
        await h.press("enter")
        view = h.app.screen
        ladder = view.query_one(LadderPane)
        assert {a.call_id for a in ladder.arrows} == {"leg-a@x"}
        await h.press("f4")
        assert {a.call_id for a in ladder.arrows} == {"leg-a@x", "leg-b@x"}
        assert [a.frame for a in ladder.arrows] == [1, 2, 3, 4]
        assert len(ladder.drawn.ladder.columns) == 3
        await h.press("x")  # back to the call alone
        assert {a.call_id for a in ladder.arrows} == {"leg-a@x"}

    tui_drive([path], scenario)


def test_retransmissions_hide_and_show(tui_drive) -> None:
    async def scenario(h) -> None:
        await h.loaded()
        await h.press("enter")
        ladder = h.app.screen.query_one(LadderPane)
        assert [a.retransmission for a in ladder.arrows] == [False] + [True] * 5
        await h.press("end")
        assert ladder.selected == 5
        await h.press("r")
        assert len(ladder.arrows) == 1 and ladder.selected == 0
        assert "retransmissions hidden" in h.text()
        await h.press("r")
        assert len(ladder.arrows) == 6

    tui_drive([capture("call_no_response.pcap")], scenario)


def test_evidence_frames_jump_to_their_arrow(tui_drive) -> None:
    async def scenario(h) -> None:
        await h.loaded()
        app = h.app
        table = app.screen.query_one(CallTable)
        table.move_to(
            next(i for i, r in enumerate(app.session.store.view) if "cancel" in r.call.call_id)
        )
        await h.press("enter")
        view = app.screen
        ladder = view.query_one(LadderPane)
        pane = view.query_one(DiagnosesPane)
        assert [a.rule for a in pane.annotations] == ["caller-cancelled"]
        frames = pane.evidence_frames()
        assert frames and all(any(f == a.frame for a in ladder.arrows) for f in frames)
        await h.press("tab", "tab")
        assert pane.has_focus
        await h.press("down", "enter")  # the first evidence frame
        assert ladder.has_focus and ladder.arrow.frame == frames[0]
        assert view.message.text.plain.startswith(f"frame {frames[0]} ")
        await h.press("E")  # previous evidence: wraps to the last
        assert ladder.arrow.frame == frames[-1]
        await h.press("z")
        assert view.maximized is ladder
        await h.press("escape")
        assert view.maximized is None and isinstance(app.screen, CallViewScreen)

    tui_drive([capture("demo.pcap")], scenario)
