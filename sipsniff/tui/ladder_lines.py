"""The ladder of the call view as lines, and which lines belong to which arrow.

Strategy: the drawing is ``render.terminal.LadderView``'s, unchanged (the
same layout model and the same fitting to the width as ``sipsniff flow``); this
module only finds, in the lines it returns, where each arrow starts, so the
view can highlight the selected arrow and scroll to it.  An arrow's first line
carries its frame number in the gutter (``#12``, ``B #12`` for a merged leg)
at column 0, drawn dim; nothing else is written at column 0 under the column
headers, and the arrows come in order, so a scan that expects arrow i's gutter
text next finds every arrow.  If that ever fails (a future layout change), the
view still works: it shows the drawing and selects messages without
highlighting (``spans`` is empty).

Retransmissions can be hidden: the ladder is then drawn from the model
without those arrows (``Ladder`` is plain data, so this is a filter).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text

from ..analysis import AnalyzedCall
from ..render.glyphs import Glyphs
from ..render.ladder import Arrow, Ladder, build_ladder
from ..render.terminal import LadderView

__all__ = ["LadderLines", "draw_ladder"]


@dataclass(frozen=True, slots=True, kw_only=True)
class LadderLines:
    """A drawn ladder: its lines, and the lines of each arrow."""

    ladder: Ladder
    """The model drawn (without retransmissions when they are hidden)."""
    lines: tuple[Text, ...]
    spans: tuple[tuple[int, int], ...]
    """Per arrow of ``ladder``: first line and end line (exclusive); empty if not found."""
    width: int

    @property
    def header_lines(self) -> int:
        """Lines above the first arrow: the column headers, which the view keeps in sight."""
        return self.spans[0][0] if self.spans else 0

    def arrow_at_line(self, y: int) -> int | None:
        """The arrow drawn on line ``y`` (None for a header line)."""
        for i, (a, b) in enumerate(self.spans):
            if a <= y < b:
                return i
        return None


def _gutter(a: Arrow, tags: dict[str, str]) -> str:
    tag = f"{tags[a.call_id]} " if tags else ""
    return f"{tag}#{a.frame}"


def _starts_arrow(line: Text, expected: str) -> bool:
    plain = line.plain
    if not plain.startswith(expected):
        return False
    if len(plain) > len(expected) and plain[len(expected)] != " ":
        return False
    return any(s.start == 0 and str(s.style) == "dim" for s in line.spans)


def _spans(ladder: Ladder, lines: Sequence[Text]) -> tuple[tuple[int, int], ...]:
    tags = (
        {cid: chr(ord("A") + i) if i < 26 else str(i + 1) for i, cid in enumerate(ladder.call_ids)}
        if len(ladder.call_ids) > 1
        else {}
    )
    starts: list[int] = []
    y = 0
    for a in ladder.arrows:
        want = _gutter(a, tags)
        while y < len(lines) and not _starts_arrow(lines[y], want):
            y += 1
        if y >= len(lines):
            return ()
        starts.append(y)
        y += 1
    if not starts:
        return ()
    # the last arrow ends where the drawing does: before a blank line or the unplaced notes
    end = len(lines)
    for i in range(starts[-1] + 1, len(lines)):
        if not lines[i].plain.strip() or lines[i].plain.startswith("Not tied"):
            end = i
            break
    return tuple(zip(starts, [*starts[1:], end], strict=True))


def draw_ladder(
    calls: Sequence[AnalyzedCall],
    width: int,
    glyphs: Glyphs,
    *,
    hide_retransmissions: bool = False,
) -> LadderLines:
    """Draw the ladder of one call, or of several merged into one diagram.

    Args:
        calls: the call(s); several are drawn as legs of one diagram (``A``, ``B``...).
        width: cells available.
        glyphs: Unicode or ASCII.
        hide_retransmissions: leave the retransmitted messages out.
    """
    full = build_ladder(calls)
    if hide_retransmissions and any(a.retransmission for a in full.arrows):
        kept = tuple(a for a in full.arrows if not a.retransmission)
        ladder = dataclasses.replace(full, arrows=kept)
        view = LadderView(ladder, glyphs=glyphs, title=False)
    else:
        ladder = full
        view = LadderView(list(calls), glyphs=glyphs, title=False)
    lines = tuple(view.lines(width, glyphs))
    return LadderLines(ladder=ladder, lines=lines, spans=_spans(ladder, lines), width=width)
