"""Glyph sets for drawn diagrams: Unicode box drawing, or pure ASCII.

Strategy: a renderer never writes a line-drawing character literally; it asks
its ``Glyphs`` (one frozen record per set), so ``--ascii`` or a console that
cannot encode box drawing swaps every character at once, the way rich's
``box.py`` substitutes ``ASCII`` boxes.  Every glyph is one terminal cell wide
except ``ellipsis``, which may be several (``...`` in ASCII).

Sketch of what the fields draw (Unicode, then ASCII)::

    ┌──────────────┐        ┌──────────────┐     +--------------+        +--------------+
    │ 10.0.0.1:5060│        │ 10.0.0.2:5060│     | 10.0.0.1:5060|        | 10.0.0.2:5060|
    └──────┬───────┘        └──────┬───────┘     +------+-------+        +------+-------+
           ├───────────────────────▶│                   |----------------------->|
           │◀╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌┤                   |<.......................|
           ├──┐                     │                   |--+                     |
           │◀─┘                     │                   |<-+                     |
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Console

__all__ = ["ASCII", "UNICODE", "Glyphs", "for_console"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Glyphs:
    """Every character a ladder is drawn with."""

    name: str
    lifeline: str
    """A participant's vertical line (also the column separator)."""
    line: str
    """The shaft of an arrow."""
    retrans_line: str
    """The shaft of a retransmitted message's arrow (dashed: it is a repeat)."""
    cross: str
    """Where an arrow passes over the lifeline of a column it skips."""
    head_right: str
    head_left: str
    tail_right: str
    """On the sender's lifeline when the arrow leaves to the right."""
    tail_left: str
    """On the sender's lifeline when the arrow leaves to the left."""
    loop_top: str
    """Corner of a self-arrow ("spiral"): out of the lifeline, then down."""
    loop_bottom: str
    """Corner of a self-arrow on its way back into the lifeline."""
    box_tl: str
    box_tr: str
    box_bl: str
    box_br: str
    box_h: str
    box_v: str
    box_tee: str
    """Bottom edge of a header box, where the lifeline starts."""
    ellipsis: str
    """Marks text cut to fit (may be more than one cell)."""
    to: str
    """``from → to`` in titles."""
    sep: str
    """Between facts on a title line."""
    severity: tuple[str, str, str]
    """Marks for info, warning, error annotations (indexed by ``Severity``)."""
    ascii_only: bool
    """Every glyph is ASCII; wire text must then be shown as ASCII too."""

    @staticmethod
    def for_console(console: Console, ascii_only: bool = False) -> Glyphs:
        """The set for a console: see the module-level :func:`for_console`."""
        return for_console(console, ascii_only)


UNICODE = Glyphs(
    name="unicode",
    lifeline="│",
    line="─",
    retrans_line="╌",
    cross="┼",
    head_right="▶",
    head_left="◀",
    tail_right="├",
    tail_left="┤",
    loop_top="┐",
    loop_bottom="┘",
    box_tl="┌",
    box_tr="┐",
    box_bl="└",
    box_br="┘",
    box_h="─",
    box_v="│",
    box_tee="┬",
    ellipsis="…",
    to="→",
    sep=" · ",
    severity=("●", "▲", "✖"),
    ascii_only=False,
)

ASCII = Glyphs(
    name="ascii",
    lifeline="|",
    line="-",
    retrans_line=".",
    cross="+",
    head_right=">",
    head_left="<",
    tail_right="|",
    tail_left="|",
    loop_top="+",
    loop_bottom="+",
    box_tl="+",
    box_tr="+",
    box_bl="+",
    box_br="+",
    box_h="-",
    box_v="|",
    box_tee="+",
    ellipsis="...",
    to="->",
    sep=" | ",
    severity=("*", "!", "X"),
    ascii_only=True,
)


def for_console(console: Console, ascii_only: bool = False) -> Glyphs:
    """Choose the glyph set for a console.

    Args:
        console: where the drawing goes; its ``encoding`` is checked.
        ascii_only: the user asked for ASCII (``--ascii``).

    Returns:
        ``ASCII`` when asked, or when the console's encoding is not a UTF
        encoding (box drawing would come out as ``?`` or raise); else ``UNICODE``.
    """
    if ascii_only:
        return ASCII
    enc = console.encoding.lower().replace("-", "").replace("_", "")
    return UNICODE if enc.startswith("utf") else ASCII
