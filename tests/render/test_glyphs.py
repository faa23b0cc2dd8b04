"""Glyph sets: same shape, one cell each, ASCII really ASCII, chosen by --ascii or encoding."""

from __future__ import annotations

import dataclasses
import io

import pytest
from rich.cells import cell_len
from rich.console import Console

from sipsniff.render.glyphs import ASCII, UNICODE, Glyphs, for_console


def _glyph_strings(g: Glyphs) -> dict[str, str]:
    out = {}
    for f in dataclasses.fields(g):
        v = getattr(g, f.name)
        if isinstance(v, str) and f.name != "name":
            out[f.name] = v
        elif isinstance(v, tuple):
            out.update({f"{f.name}[{i}]": s for i, s in enumerate(v)})
    return out


@pytest.mark.parametrize("g", [UNICODE, ASCII], ids=["unicode", "ascii"])
def test_drawing_glyphs_are_one_cell(g: Glyphs) -> None:
    multi = {"ellipsis", "to", "sep"}
    for name, s in _glyph_strings(g).items():
        if name not in multi:
            assert cell_len(s) == 1, (g.name, name, s)


def test_ascii_set_is_pure_ascii_and_unicode_is_not() -> None:
    assert ASCII.ascii_only and not UNICODE.ascii_only
    assert all(s.isascii() for s in _glyph_strings(ASCII).values())
    assert not all(s.isascii() for s in _glyph_strings(UNICODE).values())


def test_sets_differ_for_every_line_glyph() -> None:
    for name in ("lifeline", "line", "head_right", "head_left", "cross", "box_tl"):
        assert getattr(UNICODE, name) != getattr(ASCII, name), name


def test_retransmission_shaft_differs_from_the_normal_one() -> None:
    for g in (UNICODE, ASCII):
        assert g.retrans_line != g.line


def test_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        UNICODE.line = "="  # type: ignore[misc]


class _Stream(io.StringIO):
    def __init__(self, encoding: str) -> None:
        super().__init__()
        self._enc = encoding

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self._enc


@pytest.mark.parametrize(
    ("encoding", "ascii_only", "expected"),
    [
        ("utf-8", False, UNICODE),
        ("UTF-8", False, UNICODE),
        ("utf_8", False, UNICODE),
        ("utf-8", True, ASCII),
        ("ascii", False, ASCII),
        ("latin-1", False, ASCII),
        ("cp1252", False, ASCII),
    ],
)
def test_for_console(encoding: str, ascii_only: bool, expected: Glyphs) -> None:
    console = Console(file=_Stream(encoding))
    assert for_console(console, ascii_only) is expected


def test_chooser_is_also_on_the_class() -> None:
    assert Glyphs.for_console(Console(file=_Stream("utf-8")), True) is ASCII
    assert Glyphs.for_console(Console(file=_Stream("utf-8"))) is UNICODE
