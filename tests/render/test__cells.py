"""Cells: inert wire text, fitting and wrapping by terminal cells, rows with wide characters."""

from __future__ import annotations

from rich.cells import cell_len

from sipsniff.render._cells import MAX_RAW, Row, clock, delta, duration, fit, wire, wrap
from sipsniff.render.glyphs import ASCII, UNICODE


def test_wire_makes_controls_visible_and_keeps_markup_literal() -> None:
    out = wire("[bold]x[/bold]\x1b[2J\x00\u2028\u202e", UNICODE)
    assert out == "[bold]x[/bold]\\x1b[2J\\x00\\u2028\\u202e"


def test_wire_in_ascii_escapes_everything_non_ascii() -> None:
    assert wire("José 電話", ASCII) == "Jos\\xe9 \\u96fb\\u8a71"
    assert wire("José", UNICODE) == "José"


def test_wire_cuts_huge_values_before_cleaning() -> None:
    out = wire("A" * 60_000, UNICODE)
    assert len(out) == MAX_RAW + 1 and out.endswith("…")
    assert wire("A" * 60_000, ASCII).endswith("...")


def test_fit_counts_cells() -> None:
    assert fit("abcdef", 6, UNICODE) == "abcdef"
    assert fit("abcdef", 4, UNICODE) == "abc…"
    assert fit("abcdef", 4, ASCII) == "a..."
    assert fit("電話機電話機", 5, UNICODE) == "電話…"
    assert cell_len(fit("電話機電話機", 6, UNICODE)) <= 6
    assert fit("abc", 0, UNICODE) == ""


def test_wrap() -> None:
    assert wrap("one two three four", 9, 9, UNICODE) == ["one two", "three", "four"]
    assert wrap("one two three", 20, 4, UNICODE) == ["one", "two three"]
    long = wrap("x" * 25, 10, 10, UNICODE)
    assert "".join(long) == "x" * 25 and all(len(p) <= 10 for p in long)


def test_row_places_wide_characters_on_two_cells() -> None:
    r = Row(10)
    r.put(0, "|")
    r.write(2, "電話", "bold")
    r.put(9, "|")
    assert r.text().plain == "| 電話   |"
    r.put(3, "x")  # overwriting the second half of a wide character blanks its first half
    assert r.text().plain == "|  x話   |"


def test_row_never_writes_past_the_end() -> None:
    r = Row(5)
    assert r.write(3, "abcdef") == 5
    assert r.text().plain == "   ab"
    assert r.write(0, "ab電", end=3) == 2


def test_row_styles_runs() -> None:
    r = Row(6)
    r.write(0, "ab", "red")
    r.write(3, "cd", "bold")
    t = r.text()
    assert [(s.start, s.end, str(s.style)) for s in t.spans] == [(0, 2, "red"), (3, 5, "bold")]


def test_time_formats() -> None:
    assert clock(1_700_000_000_123_456_789) == "22:13:20.123"
    assert delta(4.0) == "+0.004s"
    assert delta(1234.5) == "+1.234s"
    assert delta(123_456.0) == "+123.5s"
    assert delta(36_000_000.0) == "+10h00m"
    assert duration(2_210_000_000) == "2.21 s"
    assert duration(200 * 10**9) == "3m20s"
