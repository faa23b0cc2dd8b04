"""Terminal cells for drawn diagrams: inert wire text, fitting, wrapping, one row of cells.

Rules:
- ``wire`` is the only way wire text gets into a drawing: ``safe.clean`` first,
  then format/separator characters shown as escapes, then (with ASCII glyphs)
  everything non-ASCII as ``\\xe9``-style escapes, so ASCII output is pure ASCII.
- Widths are terminal cells (``rich.cells``), not characters: a CJK character
  takes two cells, a combining mark none.
"""

from __future__ import annotations

import datetime as _dt
import unicodedata

from rich.cells import cell_len, get_character_cell_size
from rich.text import Text

from .glyphs import Glyphs
from .safe import clean

__all__ = ["Row", "clock", "date", "delta", "duration", "fit", "wire", "wrap"]

MAX_RAW = 1000
"""Characters of one wire value considered at all: a 60 kB header is cut before cleaning."""
_ESCAPE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})


def _escape_odd(text: str) -> str:
    """Show format/separator/surrogate characters as escapes (``clean`` keeps some)."""
    out = []
    for ch in text:
        if unicodedata.category(ch) in _ESCAPE_CATEGORIES:
            out.append(f"\\u{ord(ch):04x}" if ord(ch) > 0xFF else f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    return "".join(out)


def wire(text: str, g: Glyphs) -> str:
    """Wire text made inert and printable: cleaned, cut, ASCII when the glyphs are."""
    cut = len(text) > MAX_RAW
    out = clean(text[:MAX_RAW], None)
    if not out.isascii():
        out = _escape_odd(out)
        if g.ascii_only:
            out = out.encode("ascii", "backslashreplace").decode("ascii")
    return out + g.ellipsis if cut else out


def fit(text: str, width: int, g: Glyphs) -> str:
    """Cut ``text`` to at most ``width`` cells, marking the cut with the ellipsis."""
    if width <= 0:
        return ""
    if cell_len(text) <= width:
        return text
    ell = g.ellipsis if cell_len(g.ellipsis) < width else ""
    room = width - cell_len(ell)
    out = []
    used = 0
    for ch in text:
        w = get_character_cell_size(ch)
        if used + w > room:
            break
        out.append(ch)
        used += w
    return "".join(out) + ell


def wrap(text: str, width: int, first: int, g: Glyphs) -> list[str]:
    """Greedy word wrap: the first line has ``first`` cells, the others ``width``."""
    lines: list[str] = []
    cur = ""
    room = first
    for word in text.split(" "):
        cand = f"{cur} {word}" if cur else word
        if cell_len(cand) <= room:
            cur = cand
            continue
        if cur:
            lines.append(cur)
            room = width
        cur = word
        while cell_len(cur) > room:
            lines.append(fit(cur, room, g) if len(lines) >= 3 else cur[: max(room, 1)])
            cur = cur[max(room, 1) :]
            room = width
    if cur or not lines:
        lines.append(cur)
    return lines


def clock(ts_ns: int) -> str:
    sec, rest = divmod(ts_ns, 1_000_000_000)
    t = _dt.datetime.fromtimestamp(sec, _dt.UTC)
    return f"{t:%H:%M:%S}.{rest // 1_000_000:03d}"


def date(ts_ns: int) -> str:
    return f"{_dt.datetime.fromtimestamp(ts_ns // 1_000_000_000, _dt.UTC):%Y-%m-%d}"


def delta(ms: float) -> str:
    """``+0.123s`` (at most 9 cells)."""
    s = ms / 1000
    if s < 100:
        return f"+{s:.3f}s"
    if s < 10_000:
        return f"+{s:.1f}s"
    h, rem = divmod(int(s), 3600)
    return f"+{h}h{rem // 60:02d}m"


def duration(ns: int) -> str:
    s = ns / 1e9
    if s < 120:
        return f"{s:.2f} s"
    return f"{int(s // 60)}m{int(s % 60):02d}s"


class Row:
    """One output line as cells; a wide character's second cell holds ''."""

    __slots__ = ("cells", "styles")

    def __init__(self, width: int) -> None:
        self.cells = [" "] * width
        self.styles = [""] * width

    def put(self, x: int, ch: str, style: str = "") -> None:
        cells = self.cells
        if not 0 <= x < len(cells):
            return
        if cells[x] == "" and x > 0:
            cells[x - 1] = " "
        if x + 1 < len(cells) and cells[x + 1] == "":
            cells[x + 1] = " "
        cells[x] = ch
        self.styles[x] = style

    def write(self, x: int, text: str, style: str = "", end: int | None = None) -> int:
        """Write text (already fitted) from cell x, never past ``end``; return the next x."""
        stop = len(self.cells) if end is None else min(end, len(self.cells))
        for ch in text:
            w = get_character_cell_size(ch)
            if w == 0:
                if x > 0:
                    self.cells[x - 1] += ch
                continue
            if x + w > stop:
                break
            self.put(x, ch, style)
            if w == 2:
                self.put(x + 1, "", style)
                self.cells[x + 1] = ""
            x += w
        return x

    def text(self) -> Text:
        out = Text(no_wrap=True, overflow="crop", end="")
        last = len(self.cells)
        while last > 0 and self.cells[last - 1] == " ":
            last -= 1
        run: list[str] = []
        style = None
        for ch, st in zip(self.cells[:last], self.styles[:last], strict=True):
            if st != style and run:
                out.append("".join(run), style=style or None)
                run = []
            style = st
            run.append(ch)
        if run:
            out.append("".join(run), style=style or None)
        return out
