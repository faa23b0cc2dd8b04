"""SVG ladders and charts: geometry from the model, wire text escaped and cut, empty cases."""

from __future__ import annotations

import re
from collections import Counter

from factories import make_call, make_invite, make_response, msg

from sipsniff.analysis import AnalyzedCall
from sipsniff.decode.payload import Endpoint
from sipsniff.render._html_svg import bars_chart, ladder_svg
from sipsniff.render._report import Bucket
from sipsniff.render.ladder import build_ladder

A = Endpoint("10.0.0.1", 5060)
B = Endpoint("10.0.0.2", 5060)


def test_ladder_geometry_and_escaping() -> None:
    ms = [
        msg(make_invite(extra=['User-Agent: <b onmouseover="x()">UA</b> & co']), frame=1, src=A,
            dst=B),
        msg(make_response(486, 'Busy <script>"x"</script>'), frame=2, t=0.1, src=B, dst=A),
    ]  # fmt: skip
    svg = ladder_svg(build_ladder([AnalyzedCall(call=make_call(ms), annotations=())]), 7)
    assert svg.startswith('<svg class="ladder"') and svg.endswith("</svg>")
    assert svg.count('class="life"') == 2
    assert svg.count('<polygon class="k0"') == 1 and svg.count('<polygon class="k4"') == 1
    assert 'href="#m-7-1"' in svg and 'href="#m-7-2"' in svg
    assert "<script" not in svg and "<b " not in svg
    assert not re.search(r"<[^>]*\son\w+=", svg)  # no event handler attribute on any tag
    assert "Busy &lt;script&gt;&quot;x&quot;&lt;/script&gt;" in svg
    assert "&amp; co" in svg
    width = int(re.search(r'width="(\d+)"', svg).group(1))  # type: ignore[union-attr]
    assert 400 < width < 2000


def test_empty_ladder() -> None:
    assert ladder_svg(build_ladder([]), 1) == '<p class="empty">No messages.</p>'


def test_bars_chart() -> None:
    t = 1_700_000_000_000_000_000
    buckets = [
        Bucket(start_ns=t + i, end_ns=t + i + 1, calls=Counter({"answered": i}), errors=Counter())
        for i in range(5)
    ]
    svg = bars_chart(buckets, [("answered", "#15803d", "answered")], label="calls")
    assert svg.count('class="bar"') == 4  # the empty slice draws nothing
    assert 'aria-label="calls"' in svg and "answered: 4" in svg
    none = bars_chart(buckets, [("4", "#d97706", "4xx")], errors=True, label="e")
    assert none == '<p class="empty">None in this capture.</p>'
    assert bars_chart([], [], label="x") == '<p class="empty">Nothing to chart.</p>'


def test_tooltips_break_lines_for_real_and_keep_wire_newlines_escaped() -> None:
    # issue 16, item 12: every tooltip showed a literal "\x0a" instead of a line break
    ms = [
        msg(make_invite(extra=["User-Agent: UA one"]), frame=1, src=A, dst=B),
        msg(make_response(486, "Busy"), frame=2, t=0.1, src=B, dst=A),
    ]
    svg = ladder_svg(build_ladder([AnalyzedCall(call=make_call(ms), annotations=())]), 3)
    titles = re.findall(r"<title>(.*?)</title>", svg, flags=re.S)
    assert titles and all("\\x0a" not in t for t in titles)
    arrow = next(t for t in titles if t.startswith("frame 1: INVITE"))
    assert arrow.split("\n")[:2] == ["frame 1: INVITE", "CSeq 1 INVITE · UDP"]
    assert any(t.startswith("SDP ") for t in arrow.split("\n"))
    header = next(t for t in titles if t.startswith("10.0.0.1:5060"))
    assert header == "10.0.0.1:5060\nUA one"
    # a line feed that came from the wire is shown, not obeyed
    from sipsniff.render._html_svg import _tip

    assert _tip("frame 9: 486 Busy\nInjected", "CSeq 1 INVITE") == (
        "frame 9: 486 Busy\\x0aInjected\nCSeq 1 INVITE"
    )
