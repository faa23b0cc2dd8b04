"""Finding each arrow's lines in LadderView's drawing, on every bundled capture and width."""

from __future__ import annotations

import pytest
from helpers import CAPTURES, capture

from sipsniff.pipeline import analyze
from sipsniff.render.glyphs import ASCII, UNICODE
from sipsniff.tui.ladder_lines import draw_ladder


@pytest.mark.parametrize("path", sorted(CAPTURES.glob("*.pcap")), ids=lambda p: p.name)
def test_every_arrow_is_found(path) -> None:
    calls = analyze([path]).calls
    for width in (60, 100, 200):
        for g in (UNICODE, ASCII):
            for ac in calls:
                d = draw_ladder([ac], width, g)
                assert len(d.spans) == len(d.ladder.arrows) == len(ac.call.messages)
                for (a, b), arrow in zip(d.spans, d.ladder.arrows, strict=True):
                    assert a < b <= len(d.lines)
                    assert d.lines[a].plain.startswith(f"#{arrow.frame}")
                    assert d.arrow_at_line(a) == d.spans.index((a, b))
                assert all(line.cell_len <= width for line in d.lines)
            merged = draw_ladder(list(calls), width, g)
            assert len(merged.spans) == sum(len(ac.call.messages) for ac in calls)


def test_header_lines_and_hidden_retransmissions() -> None:
    ac = analyze([capture("call_no_response.pcap")]).calls[0]
    d = draw_ladder([ac], 100, UNICODE)
    assert d.header_lines == d.spans[0][0] > 0
    assert d.arrow_at_line(0) is None
    hidden = draw_ladder([ac], 100, UNICODE, hide_retransmissions=True)
    assert len(hidden.ladder.arrows) == len(hidden.spans) == 1
