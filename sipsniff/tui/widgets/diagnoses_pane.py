"""The call's diagnoses in the call view: cause, what to do, and the evidence frames to jump to.

Strategy: an ``OptionList`` of two kinds of entries.  Each annotation is one
entry (severity mark, rule id, title, cause, numbered resolution steps, its
details); under it, each evidence frame is an entry of its own naming the
message it points at (``→ frame 30  486 Busy Here``).  Enter on a frame, or on
an annotation (its anchor: the first frame it cites that the ladder draws),
posts ``Jump`` and the screen selects that arrow.  Frames not drawn in this
ladder (another leg, a hidden retransmission) are listed but disabled.

Rules: every prompt is a ``Text`` built from ``safe.clean``-ed strings.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from ...annotate.annotation import Annotation
from ...render.glyphs import Glyphs
from ...render.ladder import Arrow
from ...render.safe import clean
from ...render.summary import SEVERITY_STYLE

__all__ = ["MAX_EVIDENCE", "DiagnosesPane"]

MAX_EVIDENCE = 20
"""Evidence frames listed per annotation (a retransmission storm cites hundreds)."""


def _prompt(a: Annotation, g: Glyphs) -> RenderableType:
    """Title line, then cause, details and steps indented under it (wrapped lines too)."""
    head = Text()
    head.append(
        f"{g.severity[int(a.severity)]} {str(a.severity).upper()} ",
        style=SEVERITY_STYLE[a.severity],
    )
    head.append(f"[{clean(a.rule, 80)}] ", style="dim")
    head.append(clean(a.title, 300), style="bold")
    body = Table.grid(padding=0)
    body.add_column(width=5, no_wrap=True)
    body.add_column(ratio=1)
    body.add_row(Text("  "), Text("cause: " + clean(a.cause, 2000)))
    for k, v in a.details:
        body.add_row(Text(""), Text(f"{clean(k, 60)}: {clean(v, 1000)}", style="dim"))
    for i, step in enumerate(a.resolution, 1):
        body.add_row(Text(f"  {i}. "), Text(clean(step, 1000)))
    if not a.frames:
        body.add_row(Text(""), Text("evidence: no frame", style="dim"))
    return Group(head, body)


class DiagnosesPane(OptionList):
    """Annotations and their evidence frames; Enter jumps to the arrow."""

    ALLOW_MAXIMIZE = True
    DEFAULT_CSS = """
    DiagnosesPane { scrollbar-size-vertical: 1; }
    """

    class Jump(Message):
        """Select the arrow of this frame."""

        def __init__(self, frame: int) -> None:
            super().__init__()
            self.frame = frame

    def __init__(self, glyphs: Glyphs, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.glyphs = glyphs
        self.annotations: tuple[Annotation, ...] = ()
        self.targets: list[int] = []
        """Per option: the frame Enter jumps to (0: none)."""

    def show(self, annotations: Sequence[Annotation], arrows: Sequence[Arrow]) -> None:
        """List these annotations; frames are enabled when ``arrows`` draws them."""
        self.annotations = tuple(annotations)
        drawn = {f: a for a in arrows for f in a.message.frames}
        options: list[Option] = []
        self.targets = []
        for a in self.annotations:
            anchor = next((f for f in a.frames if f in drawn), 0)
            options.append(Option(_prompt(a, self.glyphs)))
            self.targets.append(anchor)
            for f in a.frames[:MAX_EVIDENCE]:
                arrow = drawn.get(f)
                t = Text(f"    {self.glyphs.to} frame {f}", style="bold" if arrow else "dim")
                if arrow is not None:
                    t.append("  " + clean(arrow.label, 80))
                else:
                    t.append("  (not drawn in this ladder)")
                options.append(Option(t, disabled=arrow is None))
                self.targets.append(f if arrow is not None else 0)
            if len(a.frames) > MAX_EVIDENCE:
                options.append(
                    Option(
                        Text(f"    … {len(a.frames) - MAX_EVIDENCE} more frames", style="dim"),
                        disabled=True,
                    )
                )
                self.targets.append(0)
        self.set_options(options)
        if options:
            self.highlighted = 0

    def evidence_frames(self) -> list[int]:
        """Every frame the diagnoses cite that the ladder draws, in citation order, once each."""
        seen: list[int] = []
        for i, f in enumerate(self.targets):
            if f and f not in seen and not self.get_option_at_index(i).disabled:
                seen.append(f)
        return seen

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        frame = self.targets[event.option_index] if event.option_index < len(self.targets) else 0
        if frame:
            self.post_message(self.Jump(frame))
