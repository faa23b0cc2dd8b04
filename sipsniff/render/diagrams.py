"""Mermaid and PlantUML sequence diagrams of calls, drawn from the ``Ladder`` model.

Strategy: one ladder per call; participants are the ladders' columns
(``ip:port``, with the User-Agent on a second line), declared once with
short ids (``P0``, ``P1``...) so no wire text ever stands where the syntax
expects an identifier.  Arrows: requests solid, responses dashed, coloured by
class in PlantUML; retransmissions use the open-head arrow and say so.
Annotations become notes over the call's participants, after their frame.

File layout (documented in ``report --help``):
- Mermaid (``.mmd``): ONE ``sequenceDiagram`` (a Mermaid file holds one
  diagram), each call in its own ``rect`` block headed by a note.
- PlantUML (``.puml``): one ``@startuml`` ... ``@enduml`` block per call;
  PlantUML renders each block as its own image.

Escaping (wire text is hostile, see ``safe.py``): after ``safe.clean`` every
character outside a small safe set becomes an entity code, so no wire text
can end a line, open a comment, inject a directive or markup, or reach a
preprocessor:
- Mermaid: ``#60;`` codes (decoded by Mermaid after parsing); ``%`` (``%%{init}``
  directives), ``#``, ``;`` and ``:`` are all encoded.
- PlantUML: ``&#60;`` codes, except ``\\`` and ``$`` as ``<U+005C>``/``<U+0024>``
  (PlantUML fails on those two as numeric entities); creole pairs (``**``, ``//``,
  ``--``, ``__``, ``~~``, ``""``), ``<tags>``, ``[[links]]`` and ``%functions()``
  are thereby inert.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from .. import __version__
from ..analysis import Analysis, AnalyzedCall
from ..annotate.annotation import Annotation
from ._report import MAX_DETAILED_CALLS, LineExporter, clock
from .ladder import Arrow, Ladder, build_ladder
from .safe import clean

__all__ = [
    "mermaid",
    "mermaid_exporter",
    "mermaid_text",
    "plantuml",
    "plantuml_exporter",
    "plantuml_text",
]

_COLUMNS = 6
_LABEL = 120
_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,@=()+")
_MERMAID_SAFE = _SAFE | frozenset("-_/")
_PUML_PAIRS = frozenset("-_/")
_PUML_COLOURS = {1: "#757575", 2: "#2e7d32", 3: "#00838f", 4: "#b26a00", 5: "#c62828", 6: "#ad1457"}


def mermaid_text(text: str, limit: int | None = _LABEL) -> str:
    """Wire text made inert for a Mermaid label (entity codes, Mermaid's own syntax)."""
    return "".join(
        ch if ch in _MERMAID_SAFE or ord(ch) > 0x7F else f"#{ord(ch)};" for ch in clean(text, limit)
    )


def plantuml_text(text: str, limit: int | None = _LABEL) -> str:
    """Wire text made inert for a PlantUML label (numeric entities, ``<U+XXXX>``)."""
    s = clean(text, limit)
    out = []
    for i, ch in enumerate(s):
        paired = s[i - 1 : i] == ch or s[i + 1 : i + 2] == ch
        if ch in _SAFE or ord(ch) > 0x7F or (ch in _PUML_PAIRS and not paired):
            out.append(ch)
        elif ch in "\\$":
            out.append(f"<U+{ord(ch):04X}>")
        else:
            out.append(f"&#{ord(ch)};")
    return "".join(out)


def _ladders(analysis: Analysis) -> Iterator[tuple[int, AnalyzedCall, Ladder]]:
    for i, ac in enumerate(analysis.calls[:MAX_DETAILED_CALLS], 1):
        if ac.call.messages:
            yield i, ac, build_ladder([ac], max_columns=_COLUMNS)


def _participants(ladders: Sequence[Ladder]) -> dict[str, tuple[str, str]]:
    """Column key -> (id, User-Agent), in order of first appearance."""
    out: dict[str, tuple[str, str]] = {}
    for lad in ladders:
        for col in lad.columns:
            if col.key not in out:
                out[col.key] = (f"P{len(out)}", col.label)
            elif col.label and not out[col.key][1]:
                out[col.key] = (out[col.key][0], col.label)
    return out


def _title(i: int, ac: AnalyzedCall) -> str:
    c = ac.call
    code = f" {c.final_status}" if c.final_status else ""
    return f"Call {i} {clock(c.start_ns)} {c.kind.value} {c.state.value}{code}"


def _note_text(a: Annotation) -> str:
    return f"{str(a.severity).upper()} {a.rule} - {a.title}"


def _label(a: Arrow) -> str:
    return f"{a.label} (frame {a.frame})" + (" retransmission" if a.retransmission else "")


# ----------------------------------------------------------------- Mermaid


def mermaid(analysis: Analysis) -> Iterator[str]:
    """Lines of one Mermaid ``sequenceDiagram`` holding every call of the analysis."""
    drawn = list(_ladders(analysis))
    parts = _participants([lad for _i, _ac, lad in drawn])
    yield "sequenceDiagram"
    yield f"    %% sipsniff {__version__}: {len(drawn)} calls"
    if not drawn:
        yield "    participant P0 as no calls"
        return
    for key, (pid, ua) in parts.items():
        extra = f"<br/>{mermaid_text(ua, 60)}" if ua else ""
        yield f"    participant {pid} as {mermaid_text(key, 60)}{extra}"
    for i, ac, lad in drawn:
        ids = [parts[col.key][0] for col in lad.columns]
        over = f"{ids[0]},{ids[-1]}" if len(ids) > 1 else ids[0]
        yield "    rect rgba(127, 127, 127, 0.08)"
        yield f"    Note over {over}: {mermaid_text(_title(i, ac), 200)}<br/>{mermaid_text(ac.call.call_id)}"
        for a in lad.arrows:
            if a.status:
                arrow = "--)" if a.retransmission else "-->>"
            else:
                arrow = "-)" if a.retransmission else "->>"
            text = mermaid_text(_label(a))
            if a.sdp:
                text += "<br/>" + mermaid_text("SDP " + a.sdp)
            yield f"    {ids[a.src]}{arrow}{ids[a.dst]}: {text}"
            for note in a.notes:
                yield f"    Note over {over}: {mermaid_text(_note_text(note), 300)}"
        for note in lad.unplaced:
            yield f"    Note over {over}: {mermaid_text(_note_text(note), 300)}"
        yield "    end"


# ----------------------------------------------------------------- PlantUML


def plantuml(analysis: Analysis) -> Iterator[str]:
    """Lines of one ``@startuml`` ... ``@enduml`` block per call."""
    drawn = list(_ladders(analysis))
    if not drawn:
        yield "@startuml"
        yield "title no calls"
        yield "@enduml"
        return
    for n, (i, ac, lad) in enumerate(drawn):
        if n:
            yield ""
        yield "@startuml"
        yield f"' sipsniff {__version__}"
        yield f"title {plantuml_text(_title(i, ac), 200)}\\n{plantuml_text(ac.call.call_id)}"
        yield "skinparam sequenceMessageAlign center"
        yield "skinparam responseMessageBelowArrow true"
        ids = [f"P{j}" for j in range(len(lad.columns))]
        for pid, col in zip(ids, lad.columns, strict=True):
            ua = f"\\n{plantuml_text(col.label, 60)}" if col.label else ""
            yield f'participant "{plantuml_text(col.key, 60)}{ua}" as {pid}'
        over = f"{ids[0]}, {ids[-1]}" if len(ids) > 1 else ids[0]
        for a in lad.arrows:
            colour = _PUML_COLOURS.get(a.status // 100, "")
            style = ",".join(x for x in (colour, "dashed" if a.status else "") if x)
            head = ">>" if a.retransmission else ">"
            arrow = f"-[{style}]{head}" if style else f"-{head}"
            text = plantuml_text(_label(a))
            if a.sdp:
                text += "\\n" + plantuml_text("SDP " + a.sdp)
            yield f"{ids[a.src]} {arrow} {ids[a.dst]} : {text}"
            for note in a.notes:
                yield f"note over {over} : {plantuml_text(_note_text(note), 300)}"
        for note in lad.unplaced:
            yield f"note over {over} : {plantuml_text(_note_text(note), 300)}"
        yield "@enduml"


# ----------------------------------------------------------------- exporters


mermaid_exporter = LineExporter(
    "mermaid",
    (".mmd", ".mermaid"),
    "Mermaid sequence diagram (one diagram, a block per call)",
    mermaid,
)
"""``--format mermaid`` / ``.mmd``: one sequence diagram, a ``rect`` per call."""
plantuml_exporter = LineExporter(
    "plantuml",
    (".puml", ".plantuml"),
    "PlantUML sequence diagrams (one @startuml block per call)",
    plantuml,
)
"""``--format plantuml`` / ``.puml``: one ``@startuml`` block per call."""
