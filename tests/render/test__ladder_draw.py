"""Ladder layout decisions: spacing, header boxes or staggered keys, where notes go."""

from __future__ import annotations

from factories import make_call, make_invite, make_response, msg

from sipsniff.analysis import AnalyzedCall
from sipsniff.annotate.annotation import Annotation
from sipsniff.annotate.knowledge import Severity
from sipsniff.decode.payload import Endpoint
from sipsniff.render._cells import wire
from sipsniff.render._ladder_draw import (
    MAX_SPACING,
    NOTE_MIN,
    Drawer,
    Plan,
    gutter_texts,
    leg_tags,
    make_plan,
    spacing,
)
from sipsniff.render.glyphs import ASCII, UNICODE
from sipsniff.render.ladder import Ladder, build_ladder

A = Endpoint("10.0.0.1", 5060)
B = Endpoint("10.0.0.2", 5060)


def two_party(title: str = "") -> Ladder:
    ms = [
        msg(make_invite(), frame=1, src=A, dst=B),
        msg(make_response(486, "Busy Here"), frame=2, t=0.1, src=B, dst=A),
    ]
    anns: tuple[Annotation, ...] = ()
    if title:
        anns = (
            Annotation(
                rule="r",
                severity=Severity.WARNING,
                title=title,
                cause="",
                resolution=(),
                frames=(2,),
            ),
        )
    return build_ladder([AnalyzedCall(call=make_call(ms), annotations=anns)])


def plan_for(ladder: Ladder, width: int) -> Plan:
    heads = [(wire(c.key, UNICODE), wire(c.label, UNICODE)) for c in ladder.columns]
    return make_plan(ladder, width, UNICODE, heads)


def test_ideal_spacing_is_bounded_and_boxes_used_when_room() -> None:
    p = plan_for(two_party(), 200)
    assert 24 <= spacing(p) <= MAX_SPACING
    assert all(p.boxes) and not p.stagger and p.note_x == -1
    assert p.xs[0] >= p.gutter


def test_shrinks_to_the_width() -> None:
    p = plan_for(two_party(), 40)
    assert p.right <= 40


def test_notes_beside_when_they_fit_under_when_not() -> None:
    wide = plan_for(two_party("short title"), 200)
    assert wide.note_x == wide.xs[-1] + 3 and 200 - wide.note_x >= NOTE_MIN
    narrow = plan_for(two_party("short title"), 80)
    assert narrow.note_x == -1
    long = plan_for(two_party("long " * 40), 120)
    assert long.note_x == -1


def test_gutter_fits_frame_and_delta() -> None:
    ladder = two_party()
    rows = gutter_texts(ladder, leg_tags(ladder))
    assert rows[0] == ("#1", "", "00:00:00.000")
    assert rows[1] == ("#2", "+0.100s", "00:00:00.100")
    assert plan_for(ladder, 100).gutter == 14
    assert leg_tags(ladder) == {}


def test_drawer_rows_never_exceed_the_plan() -> None:
    ladder = two_party("t " * 100)
    for width in (30, 60, 100, 250):
        p = plan_for(ladder, width)
        heads = [(wire(c.key, ASCII), wire(c.label, ASCII)) for c in ladder.columns]
        d = Drawer(ladder, p, ASCII, heads)
        d.header()
        for a, gt in zip(ladder.arrows, gutter_texts(ladder, {}), strict=True):
            d.arrow(a, gt)
        assert all(len(r.cells) == width for r in d.rows)
        assert all(r.text().cell_len <= width for r in d.rows)
