"""What the screens share: the sources, the store of calls, the load's progress and its results.

Strategy: one mutable object owned by the app and handed to every screen, so
a screen never reaches into the app for data (and tests can build screens on
a session of their own).  Only the UI thread writes it: the loader's results
arrive as messages and the app copies them in.
"""

from __future__ import annotations

from pathlib import Path

from ..analysis import AnalyzedCall, Stats
from ..diagnostics import Diagnostic
from ..render.glyphs import ASCII, UNICODE, Glyphs
from .digest import partial_stats
from .loader import LoadResult, Progress
from .store import CallStore

__all__ = ["Session"]


class Session:
    """The state of one ``sipsniff tui`` run."""

    def __init__(self, files: list[Path], *, ascii_only: bool = False) -> None:
        self.files = files
        self.store = CallStore()
        self.glyphs: Glyphs = ASCII if ascii_only else UNICODE
        self.progress = Progress(bytes_read=0, bytes_total=0, frames=0, calls=0)
        self.result: LoadResult | None = None
        """Set when the load has ended."""
        self.saved: list[str] = []
        """One line per save, in order: what was written, or why it failed."""

    @property
    def loaded(self) -> bool:
        return self.result is not None

    @property
    def stats(self) -> Stats:
        """The capture's counters: final once loaded, else counted from the calls so far."""
        if self.result is not None:
            return self.result.stats
        return partial_stats(self.store.rows, [str(f) for f in self.files], self.progress.frames)

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return self.result.diagnostics if self.result is not None else []

    def calls(self) -> list[AnalyzedCall]:
        """Every loaded call, in load order."""
        return [r.ac for r in self.store.rows]

    def load_line(self) -> str:
        """``loading 45% · 12,345 frames · 1,234 calls`` or ``loaded in 3.2 s``."""
        p = self.progress
        r = self.result
        if r is None:
            pct = f"{p.fraction * 100:.0f}% · " if p.bytes_total else ""
            return f"loading {pct}{p.frames:,} frames · {p.calls:,} calls"
        if r.stopped:
            return "load stopped"
        if r.error:
            return f"read stopped early: {r.error}"
        return f"{r.stats.frames:,} frames · {r.stats.sip_messages:,} SIP messages · loaded in {r.seconds:.1f} s"
