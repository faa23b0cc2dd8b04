"""The raw message view: heading, highlighted headers, decoded SDP, hostile text made inert."""

from __future__ import annotations

import re

from helpers import capture

from sipsniff.pipeline import analyze
from sipsniff.render.ladder import build_ladder
from sipsniff.tui.message_text import MAX_LINE, arrow_heading, message_text

CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]")


def test_heading_and_highlights() -> None:
    ac = next(c for c in analyze([capture("demo.pcap")]).calls if "busy" in c.call.call_id)
    arrows = build_ladder([ac]).arrows
    head = arrow_heading(arrows[2]).plain
    assert head == "frame 30 · 18:07:40.473" + head[23:]
    assert "(+0.109 s)" in head and "127.0.0.10:5060 → 127.0.0.22:5061 · UDP" in head
    invite = message_text(arrows[0].message)
    lines = invite.plain.split("\n")
    assert lines[0] == "INVITE sip:bob@127.0.0.10:5060 SIP/2.0"
    assert "SDP  audio 127.0.0.22:55410 PCMU,PCMA,telephone-event sendrecv" in lines
    assert "v=0" in lines
    styles = {str(s.style) for s in invite.spans}
    assert "bold cyan" in styles and "green" in styles


def test_hostile_text_is_shown_escaped() -> None:
    for ac in analyze([capture("hostile.pcap")]).calls:
        for a in build_ladder([ac]).arrows:
            text = message_text(a.message).plain + arrow_heading(a).plain
            assert not CONTROL.search(text)
            assert all(len(line) <= MAX_LINE + 40 for line in text.split("\n"))
    hostile = next(
        c for c in analyze([capture("hostile.pcap")]).calls if "hostile-call" in c.call.call_id
    )
    raw = message_text(hostile.call.messages[0]).plain
    assert "\\x1b[2J" in raw and "[bold red]HACK[/bold red]" in raw and "\\xff\\xfe" in raw
