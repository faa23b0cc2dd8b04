"""Layout and drawing of a ladder into rows of cells (the engine behind ``LadderView``).

Theory: ``plan`` decides where things go (gutter width, lifeline x positions,
header boxes or plain staggered headers, notes right of the diagram or under
each message); ``Drawer`` then draws into ``Row`` objects: lifelines first,
then arrows (crossing the lifelines they skip), then text on top.

Rules:
- Lifelines are ``spacing`` cells apart: ideally room for every label and a
  two-line SDP summary, at most ``MAX_SPACING``; shrunk to fit the width.
- A header key (``ip:port``) is never cut inside a box: boxes give way to plain
  centred headers, staggered on two rows when neighbours would collide.
- Nothing is drawn past the plan's width.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len

from ..annotate.annotation import Annotation
from ._cells import Row, clock, delta, fit, wire, wrap
from .glyphs import Glyphs
from .ladder import Arrow, Ladder
from .summary import SEVERITY_STYLE, status_style

__all__ = [
    "MAX_SPACING",
    "MIN_SPACING",
    "NOTE_MAX",
    "NOTE_MIN",
    "Drawer",
    "Plan",
    "gutter_texts",
    "leg_tags",
    "make_plan",
    "spacing",
]

MIN_SPACING = 12
"""Cells between lifelines below which endpoints of one host are merged into one column."""
MAX_SPACING = 44
"""Lifelines are never further apart than this, however long a label is (it is cut)."""
_IDEAL_MIN_SPACING = 24
NOTE_MIN = 44
"""Annotations are drawn right of the diagram when this many cells remain there."""
NOTE_MAX = 100
"""Widest an annotation line gets (on a 300-column terminal too)."""
_NOTE_WRAP_MIN = 60
"""Beside the diagram a note may wrap onto a second line only when the area is this wide."""
_BOX_MAX = 40
_BOX_MIN = 8
_BOX_GAP = 2
_TIME_W = 12  # HH:MM:SS.mmm
_MAX_BLOCK_LINES = 2
_REQUEST_STYLE = "bold"
_LIFELINE_STYLE = "bright_black"
_BOX_STYLE = "bright_black"


@dataclass(slots=True)
class Plan:
    """Where everything goes for one width (the output of ``make_plan``)."""

    gutter: int
    """Cells before the diagram (gutter text plus two spaces)."""
    xs: list[int]
    """Lifeline x of each column."""
    boxes: list[int]
    """Header box width per column (all 0: no boxes, plain centred text)."""
    stagger: bool
    """Plain headers alternate between two rows, so each key gets two spacings."""
    cut_keys: bool
    """Some ``ip:port`` cannot be shown whole (a reason to merge columns per host)."""
    right: int
    """First cell right of the diagram."""
    note_x: int
    """Where right-hand notes start (-1: notes go under their message)."""
    width: int


def _label(a: Arrow, g: Glyphs) -> str:
    text = wire(a.label, g) or "?"
    return f"{text} (retrans)" if a.retransmission else text


def _arrow_style(a: Arrow) -> str:
    style = _REQUEST_STYLE if a.status == 0 else status_style(a.status)
    if a.retransmission:
        style = f"{style} dim".strip()
    return style


def leg_tags(ladder: Ladder) -> dict[str, str]:
    """Call-ID -> ``A``, ``B``... when the ladder merges several legs, else empty."""
    if len(ladder.call_ids) < 2:
        return {}
    return {cid: _leg_name(i) for i, cid in enumerate(ladder.call_ids)}


def _leg_name(i: int) -> str:
    return chr(ord("A") + i) if i < 26 else str(i + 1)


def gutter_texts(ladder: Ladder, tags: dict[str, str]) -> list[tuple[str, str, str]]:
    """(frame, delta, clock) per arrow: the frame is prefixed with the leg when merged."""
    out = []
    for i, a in enumerate(ladder.arrows):
        tag = f"{tags[a.call_id]} " if tags else ""
        out.append((f"{tag}#{a.frame}", delta(a.delta_ms) if i else "", clock(a.ts_ns)))
    return out


def make_plan(ladder: Ladder, width: int, g: Glyphs, heads: list[tuple[str, str]]) -> Plan:
    """Lay a ladder out for ``width`` cells.

    Args:
        ladder: the layout model.
        width: cells available.
        g: the glyph set (ellipsis and severity marks count in widths).
        heads: per column, the display-ready (``wire``-cleaned) key and label.

    Returns:
        The plan; ``cut_keys`` tells the caller that merging columns per host would help.
    """
    tags = leg_tags(ladder)
    gut = max([_TIME_W] + [len(f) + 1 + len(d) for f, d, _ in gutter_texts(ladder, tags)]) + 2
    n = len(ladder.columns)
    keys = [cell_len(k) for k, _ in heads]
    natural = [
        min(max(k, cell_len(lab)) + 4, _BOX_MAX) for k, (_, lab) in zip(keys, heads, strict=True)
    ]
    need = _IDEAL_MIN_SPACING  # room for the header boxes and every label...
    for i in range(n - 1):
        need = max(need, natural[i] - natural[i] // 2 + natural[i + 1] // 2 + _BOX_GAP)
    need_sdp = need  # ... and for each SDP summary on two lines
    for a in ladder.arrows:
        span = abs(a.dst - a.src)
        if span:
            need = max(need, -(-(cell_len(_label(a, g)) + 6) // span))
            if a.sdp:
                need_sdp = max(need_sdp, -(-(cell_len(a.sdp) // 2 + 14) // span))
    need_sdp = max(need, need_sdp)

    def layout(sp: int) -> Plan:
        boxes = list(natural)
        for i in range(n - 1):
            while boxes[i] - boxes[i] // 2 + boxes[i + 1] // 2 + _BOX_GAP > sp:
                boxes[i if boxes[i] >= boxes[i + 1] else i + 1] -= 1
        stagger = False
        if not all(
            b >= max(min(k + 4, _BOX_MAX), _BOX_MIN) for b, k in zip(boxes, keys, strict=True)
        ):
            boxes = [0] * n
            stagger = n > 1 and max(keys) > sp - 1
        room = 2 * sp - 2 if stagger else sp - 1
        heads_w = [b or min(k, room) for b, k in zip(boxes, keys, strict=True)]
        x0 = max(gut, heads_w[0] // 2) if n else gut
        xs = [x0 + i * sp for i in range(n)]
        right = xs[-1] + max(heads_w[-1] - heads_w[-1] // 2, 2) if n else gut
        return Plan(
            gutter=gut,
            xs=xs,
            boxes=boxes,
            stagger=stagger,
            cut_keys=max(keys, default=0) > room and not any(boxes),
            right=right,
            note_x=-1,
            width=width,
        )

    notes = [note for a in ladder.arrows for note in a.notes]
    if notes and n:
        # notes beside their message if they fit there, even at the cost of SDP room
        for sp in sorted({min(need_sdp, MAX_SPACING), min(need, MAX_SPACING)}, reverse=True):
            plan = layout(sp)
            area = min(width - plan.xs[-1] - 3, NOTE_MAX)
            lens = [_note_len(x, g) for x in notes]
            if area >= NOTE_MIN and (
                max(lens) <= area or (area >= _NOTE_WRAP_MIN and max(lens) <= 2 * area - 4)
            ):
                plan.note_x = plan.xs[-1] + 3
                return plan
    plan = layout(min(need_sdp, MAX_SPACING))
    if plan.right > width and n > 1:
        # shrink: solve for the spacing that fits (head widths depend on it, so iterate)
        for _ in range(4):
            room = width - plan.xs[0] - (plan.right - plan.xs[-1])
            plan = layout(max(room // (n - 1), 3))
            if plan.right <= width:
                break
    return plan


def _note_head(a: Annotation, g: Glyphs) -> tuple[str, str]:
    return f"{g.severity[int(a.severity)]} {str(a.severity).upper()} ", f"[{wire(a.rule, g)}] "


def _note_len(a: Annotation, g: Glyphs) -> int:
    head, rule = _note_head(a, g)
    return cell_len(head) + cell_len(rule) + cell_len(wire(a.title, g))


def spacing(plan: Plan) -> int:
    """Cells between neighbouring lifelines."""
    return plan.xs[1] - plan.xs[0] if len(plan.xs) > 1 else MAX_SPACING


class Drawer:
    """Draws one ladder into rows of cells according to a plan."""

    def __init__(self, ladder: Ladder, plan: Plan, g: Glyphs, heads: list[tuple[str, str]]):
        self.ladder = ladder
        self.plan = plan
        self.g = g
        self.heads = heads
        self.rows: list[Row] = []

    def row(self, lifelines: bool = True) -> Row:
        """Append a new output row, with every column's lifeline unless told otherwise."""
        r = Row(self.plan.width)
        if lifelines:
            for x in self.plan.xs:
                r.put(x, self.g.lifeline, _LIFELINE_STYLE)
        self.rows.append(r)
        return r

    def place(self, r: Row, a: Arrow, text: str, style: str, limit: int) -> None:
        """Centre text between the two lifelines, or start it after the left one."""
        xs = self.plan.xs
        lo, hi = sorted((xs[a.src], xs[a.dst]))
        if lo == hi:
            r.write(lo + 2, fit(text, limit - lo - 2, self.g), style, limit)
            return
        inner = hi - lo - 1
        w = cell_len(text)
        x = lo + 1 + (inner - w) // 2 if w <= inner else lo + 2
        r.write(x, fit(text, limit - x, self.g), style, limit)

    def place_block(self, a: Arrow, text: str, style: str, limit: int) -> None:
        """Text on rows of its own under an arrow, wrapped inside the arrow's span if it can."""
        xs = self.plan.xs
        lo, hi = sorted((xs[a.src], xs[a.dst]))
        inner = hi - lo - 3
        if lo == hi or cell_len(text) <= inner or inner < 20:
            self.place(self.row(), a, text, style, limit)
            return
        lines = wrap(text, inner - 2, inner, self.g)
        if len(lines) > _MAX_BLOCK_LINES:  # too cramped to wrap: one line over the lifelines
            self.place(self.row(), a, text, style, limit)
            return
        for i, ln in enumerate(lines):
            self.row().write(lo + 2 + (2 if i else 0), ln, style, hi - 1)

    def header(self) -> None:
        """Column headers: boxes around ``ip:port`` and label, or plain (staggered) text."""
        g, plan = self.g, self.plan
        has_label = any(lab for _, lab in self.heads)
        if plan.boxes[0]:
            top, keys, labels, bottom = self.row(False), self.row(False), None, None
            if has_label:
                labels = self.row(False)
            bottom = self.row(False)
            for x, w, (key, lab) in zip(plan.xs, plan.boxes, self.heads, strict=True):
                x0 = x - w // 2
                top.put(x0, g.box_tl, _BOX_STYLE)
                bottom.put(x0, g.box_bl, _BOX_STYLE)
                for i in range(x0 + 1, x0 + w - 1):
                    top.put(i, g.box_h, _BOX_STYLE)
                    bottom.put(i, g.box_h, _BOX_STYLE)
                top.put(x0 + w - 1, g.box_tr, _BOX_STYLE)
                bottom.put(x0 + w - 1, g.box_br, _BOX_STYLE)
                bottom.put(x, g.box_tee, _BOX_STYLE)
                for r, text, style in ((keys, key, "bold"), (labels, lab, "italic")):
                    if r is None:
                        continue
                    r.put(x0, g.box_v, _BOX_STYLE)
                    r.put(x0 + w - 1, g.box_v, _BOX_STYLE)
                    t = fit(text, w - 4, g)
                    r.write(x0 + 2 + (w - 4 - cell_len(t)) // 2, t, style, x0 + w - 2)
            return
        sp = spacing(plan)
        room = 2 * sp - 2 if plan.stagger else max(sp - 1, 4)
        parities = (0, 1) if plan.stagger else (None,)
        for parity in parities:
            keys = self.row(False)
            labels = self.row(False) if has_label else None
            for i, (x, (key, lab)) in enumerate(zip(plan.xs, self.heads, strict=True)):
                if parity is not None and i % 2 != parity:
                    if parity == 1:
                        keys.put(x, g.lifeline, _LIFELINE_STYLE)
                        if labels is not None:
                            labels.put(x, g.lifeline, _LIFELINE_STYLE)
                    continue
                for r, text, style in ((keys, key, "bold"), (labels, lab, "italic")):
                    if r is not None:
                        t = fit(text, room, g)
                        r.write(max(x - cell_len(t) // 2, 0), t, style)
        self.row()

    def arrow(self, a: Arrow, gutter: tuple[str, str, str]) -> None:
        """One message: label row, arrow row (and loop row), SDP rows, annotation rows."""
        g, plan = self.g, self.plan
        xs = plan.xs
        style = _arrow_style(a)
        beside = (
            [ln for n in a.notes for ln in self.note_lines(n, plan.width - plan.note_x)]
            if plan.note_x >= 0
            else []
        )
        gw = plan.gutter - 2
        top = self.row()
        frame, delta, clock = gutter
        top.write(0, fit(frame, gw, g), "dim")
        if delta and cell_len(frame) + 1 + cell_len(delta) <= gw:
            top.write(gw - cell_len(delta), delta, "" if a.delta_ms >= 1000 else "dim")
        self.place(top, a, _label(a, g), style, plan.width)  # notes start on the arrow row
        line = self.row()
        line.write(gw - _TIME_W, clock, "")
        start = len(self.rows) - 1
        shaft = g.retrans_line if a.retransmission else g.line
        s, d = xs[a.src], xs[a.dst]
        if a.src == a.dst:
            line.put(s, g.tail_right, style)
            for i in range(s + 1, s + 3):
                line.put(i, shaft, style)
            line.put(s + 3, g.loop_top, style)
            back = self.row()
            back.put(s + 1, g.head_left, style)
            back.put(s + 2, shaft, style)
            back.put(s + 3, g.loop_bottom, style)
        else:
            lo, hi = sorted((s, d))
            for i in range(lo + 1, hi):
                line.put(i, shaft, style)
            for x in xs:
                if lo < x < hi:
                    line.put(x, g.cross, style)
            if d > s:
                line.put(s, g.tail_right, style)
                line.put(d - 1, g.head_right, style)
            else:
                line.put(s, g.tail_left, style)
                line.put(d + 1, g.head_left, style)
        if a.sdp and not a.retransmission:
            # a row that will carry a note beside the diagram stops short of it
            shared = len(self.rows) - start < len(beside)
            limit = plan.note_x - 1 if shared else plan.width
            self.place_block(a, "SDP " + wire(a.sdp, g), "dim", limit)
        if not a.notes:
            return
        if beside:
            while len(self.rows) - start < len(beside):
                self.row()
            for r, segs in zip(self.rows[start:], beside, strict=False):
                self.write_segments(r, plan.note_x, segs)
            return
        lo = min(s, d)
        x = lo + 2 if plan.width - lo - 2 >= NOTE_MIN else xs[0] + 2
        for n in a.notes:
            for segs in self.note_lines(n, plan.width - x):
                self.write_segments(self.row(), x, segs)

    def note_lines(self, a: Annotation, width: int) -> list[list[tuple[str, str]]]:
        """An annotation as wrapped lines of (text, style) segments."""
        g = self.g
        width = min(width, NOTE_MAX)
        sev_style = SEVERITY_STYLE.get(a.severity, "")
        head, rule = _note_head(a, g)
        first = width - cell_len(head) - cell_len(rule)
        title = wire(a.title, g)
        if first < 12:
            return [[(fit(head + rule + title, width, g), sev_style)]]
        wrapped = wrap(title, width - 2, first, g)
        out = [[(head, sev_style), (rule, "dim"), (wrapped[0], "")]]
        out.extend([("  " + w, "")] for w in wrapped[1:])
        return out

    @staticmethod
    def write_segments(r: Row, x: int, segs: list[tuple[str, str]]) -> None:
        """Blank the row from x on (lifelines included), then write styled segments."""
        for i in range(x, len(r.cells)):
            r.put(i, " ")
        for text, style in segs:
            x = r.write(x, text, style)
