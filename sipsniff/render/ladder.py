"""Ladder layout model: calls -> columns and arrows, the one model every format draws.

Theory: a column is an endpoint (``ip:port``), in order of first appearance,
labelled with the User-Agent or Server header it sent.  A row is one message:
an arrow from its source column to its destination column (``right``,
``left``, or ``self`` when both ends are the same column), with its label,
times, SDP summary, retransmission flag, and the annotations whose evidence
cites its frame.  Terminal, text, Markdown, HTML/SVG and Mermaid/PlantUML all
draw this model; none of them reads packets or messages again.

Compaction: with ``max_columns`` set and more endpoints than that, endpoints
sharing an IP address are merged into one column (``ip:*``).

Wire text (labels, User-Agent) is kept raw here: escaping belongs to each sink.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..analysis import AnalyzedCall
from ..annotate.annotation import Annotation
from ..sip.message import SipMessage

__all__ = ["Arrow", "Column", "Ladder", "build_ladder"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Column:
    """One participant."""

    key: str
    """``ip:port`` (or ``ip:*`` when compacted)."""
    label: str
    """User-Agent/Server seen from it ('' if none). Raw wire text."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Arrow:
    """One message drawn between two columns."""

    frame: int
    ts_ns: int
    delta_ms: float
    """Time since the previous arrow of the ladder (0 for the first)."""
    src: int
    """Column index of the sender."""
    dst: int
    direction: str
    """``right``, ``left`` or ``self``."""
    label: str
    """``INVITE`` or ``180 Ringing`` (raw wire text)."""
    method: str
    status: int
    cseq: str
    transport: str
    retransmission: bool
    sdp: str
    """One-line SDP summary ('' when the message has no SDP)."""
    call_id: str
    notes: tuple[Annotation, ...]
    """Annotations anchored on this frame (each placed once; see ``_anchor``)."""
    message: SipMessage
    """The message, for raw-text views in reports (never re-parsed)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Ladder:
    """A drawable call flow."""

    call_ids: tuple[str, ...]
    columns: tuple[Column, ...]
    arrows: tuple[Arrow, ...]
    annotations: tuple[Annotation, ...]
    """Every annotation of the call(s), placed or not."""
    unplaced: tuple[Annotation, ...]
    """Annotations with no frame in this ladder (shown under it)."""


def _host(key: str) -> str:
    return key.rsplit(":", 1)[0]


def _anchor(a: Annotation, frames: set[int], status_of: dict[int, int]) -> int | None:
    """The frame an annotation is drawn beside: the first error response it cites
    (the 486 of a busy call, not its INVITE), else the last frame it cites (the
    last retransmission of an unanswered request, the BYE of an unacknowledged 200)."""
    here = [f for f in a.frames if f in frames]
    if not here:
        return None
    return next((f for f in here if status_of.get(f, 0) >= 300), here[-1])


def build_ladder(calls: Sequence[AnalyzedCall], *, max_columns: int | None = None) -> Ladder:
    """Lay out one call, or several legs merged into one diagram (``--merge``)."""
    entries: list[tuple[SipMessage, bool, str]] = []
    annotations: list[Annotation] = []
    for ac in calls:
        c = ac.call
        entries.extend((m, i in c.retransmissions, c.call_id) for i, m in enumerate(c.messages))
        annotations.extend(ac.annotations)
    entries.sort(key=lambda e: (e[0].ts_ns, e[0].frame))
    keys: list[str] = []
    for m, _r, _c in entries:
        for ep in (str(m.src), str(m.dst)):
            if ep not in keys:
                keys.append(ep)
    compact = max_columns is not None and len(keys) > max_columns
    if compact:
        merged: list[str] = []
        for k in keys:
            hk = _host(k) + ":*"
            if hk not in merged:
                merged.append(hk)
        index = {k: merged.index(_host(k) + ":*") for k in keys}
        col_keys = merged
    else:
        index = {k: i for i, k in enumerate(keys)}
        col_keys = keys
    labels = [""] * len(col_keys)
    for m, _r, _c in entries:
        ua = m.user_agent
        i = index[str(m.src)]
        if ua and not labels[i]:
            labels[i] = ua
    first_frame: dict[int, list[Annotation]] = {}
    frames_here = {m.frame for m, _r, _c in entries}
    unplaced: list[Annotation] = []
    status_of = {m.frame: m.status for m, _r, _c in entries}
    for a in annotations:
        f = _anchor(a, frames_here, status_of)
        if f is None:
            unplaced.append(a)
        else:
            first_frame.setdefault(f, []).append(a)
    arrows: list[Arrow] = []
    prev = None
    for m, retrans, call_id in entries:
        s, d = index[str(m.src)], index[str(m.dst)]
        notes = tuple(first_frame.pop(m.frame, ()))
        arrows.append(
            Arrow(
                frame=m.frame,
                ts_ns=m.ts_ns,
                delta_ms=0.0 if prev is None else (m.ts_ns - prev) / 1e6,
                src=s,
                dst=d,
                direction="self" if s == d else "right" if d > s else "left",
                label=m.label,
                method=m.method,
                status=m.status,
                cseq=f"{m.cseq_num} {m.cseq_method}",
                transport=m.transport,
                retransmission=retrans,
                sdp=m.sdp.summary() if m.sdp is not None else "",
                call_id=call_id,
                notes=notes,
                message=m,
            )
        )
        prev = m.ts_ns
    return Ladder(
        call_ids=tuple(ac.call.call_id for ac in calls),
        columns=tuple(Column(key=k, label=labels[i]) for i, k in enumerate(col_keys)),
        arrows=tuple(arrows),
        annotations=tuple(annotations),
        unplaced=tuple(unplaced),
    )
