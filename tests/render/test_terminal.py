"""The terminal ladder: goldens of the bundled captures, width, glyphs, colours, hostile text.

Goldens are rendered at width 100 without colour, in Unicode (``<capture>.ladder.txt``) and
ASCII (``<capture>.ladder.ascii.txt``). ``SIPSNIFF_REGEN=1`` (``make golden``) rewrites them.
"""

from __future__ import annotations

import dataclasses
import functools
import io
import os
import re
from collections.abc import Sequence
from pathlib import Path

import pytest
from factories import make_call, make_invite, make_response, msg, sip_bytes
from helpers import DATA, capture
from rich.cells import cell_len, get_character_cell_size
from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from sipsniff.analysis import AnalyzedCall
from sipsniff.annotate.annotation import Annotation
from sipsniff.annotate.knowledge import Severity
from sipsniff.decode.payload import Endpoint
from sipsniff.pipeline import analyze
from sipsniff.render._cells import clock
from sipsniff.render.glyphs import ASCII, UNICODE, Glyphs
from sipsniff.render.ladder import build_ladder
from sipsniff.render.terminal import LadderView, ladder_renderable, ladder_text

GOLDEN = DATA / "golden"
REGEN = os.environ.get("SIPSNIFF_REGEN", "") == "1"
GOLDEN_CAPTURES = [
    "call_ok",
    "call_busy",
    "call_cancel",
    "call_tcp",
    "call_ack_missing",
    "call_no_response",
    "auth_rejected",
    "register_auth",
    "demo",
    "hostile",
]
WIDTHS = [40, 60, 80, 100, 120, 200]


@functools.cache
def calls_of(name: str) -> tuple[AnalyzedCall, ...]:
    return analyze([capture(f"{name}.pcap")]).calls


def render_all(calls: Sequence[AnalyzedCall], *, width: int = 100, ascii_only: bool) -> str:
    """What ``sipsniff flow --no-color`` prints: each ladder followed by a blank line."""
    return "".join(ladder_text(ac, width=width, ascii_only=ascii_only) + "\n" for ac in calls)


def check_golden(path: Path, text: str) -> None:
    if REGEN:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    assert path.exists(), f"{path.name} is missing: run `make golden` and review the file"
    expected = path.read_text(encoding="utf-8")
    assert text == expected, f"{path.name} differs; if the change is intended, run `make golden`"


def colour_console(width: int = 100) -> tuple[Console, io.StringIO]:
    sink = io.StringIO()
    console = Console(
        file=sink,
        width=width,
        force_terminal=True,
        color_system="standard",
        highlight=False,
        markup=False,
        emoji=False,
    )
    return console, sink


# -- synthetic calls --------------------------------------------------------------------

UAC = Endpoint("10.0.0.1", 5060)
PROXY = Endpoint("10.0.0.2", 5060)
PROXY_OUT = Endpoint("10.0.0.2", 5080)
UAS = Endpoint("10.0.0.3", 5060)
FAR = Endpoint("192.168.100.200", 5060)


def proxied_call(annotations: Sequence[Annotation] = ()) -> AnalyzedCall:
    """Five endpoints: a leg through a proxy, a self-addressed OPTIONS, and a skipping arrow."""
    b2 = "z9hG4bK-2"
    ms = [
        msg(make_invite(), frame=1, t=0, src=UAC, dst=PROXY),
        msg(make_response(100, "Trying", to_tag=""), frame=2, t=0.01, src=PROXY, dst=UAC),
        msg(make_invite(branch=b2), frame=3, t=0.02, src=PROXY_OUT, dst=UAS),
        msg(make_response(180, "Ringing", branch=b2), frame=4, t=0.5, src=UAS, dst=PROXY_OUT),
        msg(make_response(180, "Ringing"), frame=5, t=0.51, src=PROXY, dst=UAC),
        msg(make_response(486, "Busy Here", branch=b2), frame=6, t=2.5, src=UAS, dst=PROXY_OUT),
        msg(
            sip_bytes("ACK sip:bob@10.0.0.3 SIP/2.0", cseq="1 ACK", branch=b2, to_tag="tt1"),
            frame=7,
            t=2.51,
            src=PROXY_OUT,
            dst=UAS,
        ),
        msg(make_response(486, "Busy Here"), frame=8, t=2.52, src=PROXY, dst=UAC),
        msg(
            sip_bytes("OPTIONS sip:p SIP/2.0", cseq="2 OPTIONS", branch="z9hG4bK-9"),
            frame=9,
            t=2.6,
            src=PROXY,
            dst=PROXY,
        ),
        msg(
            sip_bytes("OPTIONS sip:far SIP/2.0", cseq="3 OPTIONS", branch="z9hG4bK-10"),
            frame=10,
            t=2.7,
            src=UAC,
            dst=FAR,
        ),
    ]
    return AnalyzedCall(call=make_call(ms), annotations=tuple(annotations))


def note(frames: tuple[int, ...], title: str = "Something went wrong here") -> Annotation:
    return Annotation(
        rule="test-rule",
        severity=Severity.ERROR,
        title=title,
        cause="because",
        resolution=("fix it",),
        frames=frames,
    )


def arrow_lines(text: str) -> list[str]:
    """Lines that draw an arrow shaft (their gutter starts with the HH:MM:SS time)."""
    return [ln for ln in text.splitlines() if re.match(r"\d\d:\d\d:\d\d\.\d{3} ", ln)]


def cells(line: str) -> str:
    """A line with each wide character followed by a filler, so index == cell position."""
    return "".join(ch + "\0" * (get_character_cell_size(ch) - 1) for ch in line)


# -- goldens ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", GOLDEN_CAPTURES)
def test_golden_ladder_unicode(name: str) -> None:
    check_golden(GOLDEN / f"{name}.ladder.txt", render_all(calls_of(name), ascii_only=False))


@pytest.mark.parametrize("name", GOLDEN_CAPTURES)
def test_golden_ladder_ascii(name: str) -> None:
    text = render_all(calls_of(name), ascii_only=True)
    assert text.isascii()
    check_golden(GOLDEN / f"{name}.ladder.ascii.txt", text)


def test_golden_proxied_call_ascii() -> None:
    """Crossing arrows, a self-loop and five columns, as exact text."""
    ac = proxied_call([note((6,), "Callee busy behind the proxy")])
    check_golden(GOLDEN / "proxied_call.ladder.ascii.txt", ladder_text(ac, ascii_only=True))


# -- content ----------------------------------------------------------------------------


def test_call_ok_shows_every_message_with_times_and_frames() -> None:
    (ac,) = calls_of("call_ok")
    text = ladder_text(ac, width=100)
    for label in ("INVITE", "100 Trying", "180 Ringing", "200 OK", "ACK", "BYE"):
        assert label in text
    frames = [m.frame for m in ac.call.messages]
    for f in frames:
        assert re.search(rf"^#{f}\b", text, re.MULTILINE), f
    assert len(arrow_lines(text)) == len(frames)
    assert all(re.search(rf"^{clock(m.ts_ns)} ", text, re.M) for m in ac.call.messages)
    assert re.search(r"^#2\s+\+\d+\.\d{3}s", text, re.MULTILINE)
    assert "127.0.0.1:5061" in text and "127.0.0.1:5060" in text
    assert "SIPp (sipsniff sample UAC)" in text
    assert "SDP audio 127.0.0.1:" in text and "sendrecv" in text
    assert "answered 200" in text and "UTC" in text


def test_retransmissions_are_marked_and_dashed() -> None:
    (ac,) = calls_of("call_no_response")
    n_retrans = len(ac.call.retransmissions)
    assert n_retrans >= 1
    text = ladder_text(ac, width=100)
    assert text.count("INVITE (retrans)") == n_retrans
    dashed = [ln for ln in arrow_lines(text) if UNICODE.retrans_line * 5 in ln]
    assert len(dashed) == n_retrans
    ascii_text = ladder_text(ac, width=100, ascii_only=True)
    assert len([ln for ln in arrow_lines(ascii_text) if "....>" in ln]) == n_retrans


def test_arrow_skipping_columns_crosses_them() -> None:
    for g, cross in ((False, UNICODE.cross), (True, ASCII.cross)):
        text = ladder_text(proxied_call(), width=200, ascii_only=g)
        last = arrow_lines(text)[-1]  # OPTIONS from the first column to the last
        assert last.count(cross) == 3, last


def test_self_message_is_a_loop() -> None:
    text = ladder_text(proxied_call(), width=200)
    lines = text.splitlines()
    i = next(i for i, ln in enumerate(lines) if ln.startswith("00:00:02.600"))
    assert "├──┐" in lines[i]
    assert "│◀─┘" in lines[i + 1]
    ascii_lines = ladder_text(proxied_call(), width=200, ascii_only=True).splitlines()
    assert "|--+" in ascii_lines[i] and "|<-+" in ascii_lines[i + 1]


def test_lifelines_stay_aligned() -> None:
    """Every arrow line has a lifeline, tail, head or crossing at each column's x."""
    text = ladder_text(proxied_call(), width=120, ascii_only=True)
    closing = text.splitlines()[-1]
    xs = [i for i, ch in enumerate(closing) if ch == "|"]
    assert len(xs) == 5
    for line in arrow_lines(text):
        for x in xs:
            assert line[x] in "|+", (x, line)


def test_wide_characters_keep_alignment() -> None:
    ms = [
        msg(make_invite(extra=["User-Agent: 電話機/1.0 ☎"]), frame=1, t=0),
        msg(make_response(486, "話し中です"), frame=2, t=0.1, src=Endpoint("127.0.0.1", 5060)),
    ]
    ms[1] = msg(
        make_response(486, "話し中です"),
        frame=2,
        t=0.1,
        src=Endpoint("127.0.0.1", 5060),
        dst=Endpoint("127.0.0.1", 5061),
    )
    ac = AnalyzedCall(call=make_call(ms), annotations=())
    text = ladder_text(ac, width=80)
    assert "電話機/1.0" in text and "486 話し中です" in text
    closing = cells(text.splitlines()[-1])
    xs = [i for i, ch in enumerate(closing) if ch == "│"]
    assert len(xs) == 2
    for line in text.splitlines()[7:]:
        c = cells(line)
        for x in xs:
            assert len(c) > x and c[x] in "│├┤┼", line
    assert all(cell_len(ln) <= 80 for ln in text.splitlines())


# -- width -------------------------------------------------------------------------------


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", GOLDEN_CAPTURES)
def test_no_line_wider_than_the_console(name: str, width: int) -> None:
    for ascii_only in (False, True):
        text = render_all(calls_of(name), width=width, ascii_only=ascii_only)
        widest = max(cell_len(ln) for ln in text.splitlines())
        assert widest <= width, (name, width, ascii_only)


@pytest.mark.parametrize("width", [20, 30, *WIDTHS, 300])
def test_many_columns_fit_any_width(width: int) -> None:
    text = ladder_text(proxied_call([note((1,))]), width=width)
    assert max(cell_len(ln) for ln in text.splitlines()) <= width


def test_narrow_console_merges_endpoints_of_one_host() -> None:
    wide = ladder_text(proxied_call(), width=200)
    assert "10.0.0.2:5060" in wide and "10.0.0.2:5080" in wide
    narrow = ladder_text(proxied_call(), width=50)
    assert "10.0.0.2:*" in narrow
    assert "10.0.0.2:5080" not in narrow
    xs = [i for i, ch in enumerate(narrow.splitlines()[-1]) if ch == "│"]
    assert len(xs) == 4


def test_keys_are_never_cut_in_a_box() -> None:
    """Where boxes would cut ``ip:port`` the headers go plain, staggered on two rows."""
    text = ladder_text(proxied_call(), width=100)
    for ep in ("10.0.0.1:5060", "10.0.0.2:5060", "10.0.0.2:5080", "10.0.0.3:5060"):
        assert ep in text
    assert "192.168.100.200:5060" in text
    assert "┌" not in text


def test_labels_are_cut_with_an_ellipsis() -> None:
    ms = [msg(make_invite(extra=["User-Agent: " + "VeryLongAgentName " * 10]), frame=1)]
    text = ladder_text(AnalyzedCall(call=make_call(ms), annotations=()), width=80)
    assert "VeryLongAgentName" in text and "…" in text
    ascii_text = ladder_text(
        AnalyzedCall(call=make_call(ms), annotations=()), width=80, ascii_only=True
    )
    assert "..." in ascii_text


# -- annotations --------------------------------------------------------------------------


def test_annotation_next_to_its_message_when_wide_under_it_when_narrow() -> None:
    ac = proxied_call([note((6,), "Callee busy behind the proxy")])
    wide = ladder_text(ac, width=220)
    line = next(ln for ln in wide.splitlines() if "[test-rule]" in ln)
    assert line.startswith("00:00:02.500")  # on the 486's arrow line
    assert "ERROR [test-rule] Callee busy behind the proxy" in line
    narrow = ladder_text(ac, width=80)
    lines = narrow.splitlines()
    i = next(i for i, ln in enumerate(lines) if "[test-rule]" in ln)
    assert lines[i - 1].startswith("00:00:02.500")
    assert not lines[i].startswith("00:")


def test_unplaced_annotations_are_listed_under_the_diagram() -> None:
    ac = proxied_call([note((999,), "Seen in another call")])
    text = ladder_text(ac, width=100)
    head, _, tail = text.partition("Not tied to a message in this diagram:")
    assert "Seen in another call" in tail and "Seen in another call" not in head


def test_severity_words_and_marks() -> None:
    anns = [
        Annotation(
            rule=f"r-{s.name.lower()}",
            severity=s,
            title=f"{s.name} title",
            cause="",
            resolution=(),
            frames=(1,),
        )
        for s in Severity
    ]
    text = ladder_text(proxied_call(anns), width=100, ascii_only=True)
    assert "* INFO [r-info] INFO title" in text
    assert "! WARNING [r-warning] WARNING title" in text
    assert "X ERROR [r-error] ERROR title" in text


def test_long_annotation_titles_wrap() -> None:
    title = "word " * 60
    text = ladder_text(proxied_call([note((1,), title)]), width=80)
    assert text.count("word") == 60
    assert max(cell_len(ln) for ln in text.splitlines()) <= 80


# -- colour --------------------------------------------------------------------------------


def _style_at(view: LadderView, needle: str, g: Glyphs = UNICODE) -> str:
    for line in view.lines(120, g):
        i = line.plain.find(needle)
        if i >= 0:
            return " ".join(str(s.style) for s in line.spans if s.start <= i < s.end)
    raise AssertionError(needle)


def test_colours_by_class_and_bold_requests() -> None:
    view = LadderView(proxied_call())
    assert "bold" in _style_at(view, "INVITE")
    assert _style_at(view, "100 Trying") == "dim"
    assert _style_at(view, "486 Busy Here") == "yellow"
    (ok,) = calls_of("call_ok")
    assert _style_at(LadderView(ok), "200 OK") == "green"
    (unavail,) = calls_of("call_503")
    assert _style_at(LadderView(unavail), "503 Service Unavailable") == "red"
    (no_resp,) = calls_of("call_no_response")
    assert "dim" in _style_at(LadderView(no_resp), "INVITE (retrans)")


@pytest.mark.parametrize(
    ("code", "style"), [(302, "cyan"), (603, "magenta"), (183, "dim"), (202, "green")]
)
def test_status_classes(code: int, style: str) -> None:
    ms = [
        msg(make_invite(), frame=1),
        msg(make_response(code, "X"), frame=2, t=0.1, src=UAS, dst=UAC),
    ]
    view = LadderView(AnalyzedCall(call=make_call(ms), annotations=()))
    assert _style_at(view, f"{code} X") == style


def test_colour_only_on_a_terminal() -> None:
    (ac,) = calls_of("call_busy")
    console, sink = colour_console()
    console.print(LadderView(ac))
    assert "\x1b[33m" in sink.getvalue()  # 486 in yellow
    plain_sink = io.StringIO()
    Console(file=plain_sink, width=100).print(LadderView(ac))
    assert "\x1b" not in plain_sink.getvalue()
    nc_sink = io.StringIO()
    Console(file=nc_sink, width=100, force_terminal=True, no_color=True).print(LadderView(ac))
    assert "\x1b[33m" not in nc_sink.getvalue()


# -- hostile content -------------------------------------------------------------------------


@pytest.mark.parametrize("width", [40, 80, 100, 200])
def test_hostile_capture_is_inert(width: int) -> None:
    calls = calls_of("hostile")
    assert calls
    for ascii_only in (False, True):
        text = render_all(calls, width=width, ascii_only=ascii_only)
        assert "\x1b" not in text and "\x00" not in text and "\x07" not in text
        assert "\x9b" not in text  # C1 CSI
        assert all(cell_len(ln) <= width for ln in text.splitlines())
        assert len(text) < 30_000  # the 60 kB User-Agent is cut, not drawn
        if ascii_only:
            assert text.isascii()
    text = render_all(calls, width=200, ascii_only=False)
    assert "[bold red]HACK[/bold red]" in text  # shown as text, not interpreted
    assert "<script>alert(1)</script>" in text
    assert "\\x1b[2J" in text  # the escape is visible, and harmless


def test_hostile_capture_on_a_colour_terminal_emits_only_our_sgr_codes() -> None:
    """Even a console with rich's defaults (markup, highlighting, emoji on) shows it inertly."""
    sink = io.StringIO()
    console = Console(file=sink, width=200, force_terminal=True, color_system="standard")
    for ac in calls_of("hostile"):
        console.print(LadderView(ac))
    out = sink.getvalue()
    leftover = re.sub(r"\x1b\[[0-9;]*m", "", out)
    assert "\x1b" not in leftover and "\x00" not in leftover
    assert "[bold red]HACK[/bold red]" in leftover
    assert "\x1b[2J" not in out and "\x1b]0;" not in out


def test_markup_and_controls_in_every_field() -> None:
    evil = "[bold red]X[/bold red]\x1b[2J\x00\u202e\u2028"
    ms = [
        msg(make_invite(extra=[f"User-Agent: {evil}"], call_id=f"{evil}@h"), frame=1),
        msg(
            make_response(486, evil, call_id=f"{evil}@h"),
            frame=2,
            t=0.1,
            src=UAS,
            dst=UAC,
        ),
    ]
    ann = note((2,), f"title {evil}")
    ac = AnalyzedCall(call=make_call(ms), annotations=(ann,))
    console, sink = colour_console(width=200)
    console.print(LadderView(ac))
    out = re.sub(r"\x1b\[[0-9;]*m", "", sink.getvalue())
    assert out.count("[bold red]X") >= 4  # title, User-Agent, reason phrase, annotation
    for bad in ("\x1b", "\x00", "\u202e", "\u2028"):
        assert bad not in out


# -- API -----------------------------------------------------------------------------------


def test_ladder_renderable_for_one_call_and_for_many() -> None:
    calls = calls_of("demo")
    one = io.StringIO()
    Console(file=one, width=100).print(ladder_renderable(calls[0]))
    assert one.getvalue().startswith("Call ") and one.getvalue().endswith("\n\n")
    many = io.StringIO()
    Console(file=many, width=100).print(ladder_renderable(calls, ascii_only=True))
    out = many.getvalue()
    assert out.isascii()
    assert out.count("\nCall ") + out.startswith("Call ") == len(calls)


def test_ladder_renderable_merge_draws_groups() -> None:
    ac = proxied_call()
    sink = io.StringIO()
    Console(file=sink, width=120).print(ladder_renderable([ac, ac], merge=False))
    assert sink.getvalue().count("Call call-1@test") == 2


def test_view_of_a_prebuilt_ladder() -> None:
    ladder = build_ladder([proxied_call()])
    text = ladder_text(ladder, width=120)
    assert text.startswith("Call call-1@test")
    assert "OPTIONS" in text


def test_call_without_messages() -> None:
    (ac,) = calls_of("call_ok")
    empty = AnalyzedCall(call=dataclasses.replace(ac.call, messages=()), annotations=())
    assert "(no messages kept for this call)" in ladder_text(empty)


def test_measure_and_nesting() -> None:
    (ac,) = calls_of("call_busy")
    console = Console(file=io.StringIO(), width=90)
    m = console.measure(LadderView(ac))
    assert 0 < m.minimum <= m.maximum <= 90
    table = Table("ladder")
    table.add_row(LadderView(ac))
    sink = io.StringIO()
    Console(file=sink, width=90).print(Panel(table))
    lines = sink.getvalue().splitlines()
    assert any("486 Busy Here" in ln for ln in lines)
    assert all(cell_len(ln) <= 90 for ln in lines)


def test_no_title() -> None:
    (ac,) = calls_of("call_ok")
    assert not ladder_text(ac, title=False).startswith("Call")


def test_text_objects_not_markup() -> None:
    """lines() returns Text whose plain text carries the wire text verbatim (cleaned)."""
    ms = [msg(make_invite(extra=["User-Agent: [b]agent[/b]"]), frame=1)]
    view = LadderView(AnalyzedCall(call=make_call(ms), annotations=()))
    lines = view.lines(100, ASCII)
    assert all(isinstance(ln, Text) for ln in lines)
    assert any("[b]agent[/b]" in ln.plain for ln in lines)


def test_title_styles_only_the_call_id_bold() -> None:
    (ac,) = calls_of("call_busy")
    title = LadderView(ac).lines(100, UNICODE)[0]
    assert not str(title.style)
    assert _style_at(LadderView(ac), "busy-1@127.0.0.1") == "bold"
    assert _style_at(LadderView(ac), "rejected") == "red"
