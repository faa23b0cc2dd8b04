"""``sipsniff tui``: an interactive terminal UI over the analysis (sngrep's screens, plus diagnoses).

Layout of the package: pure models first (``rows``, ``query``, ``columns``,
``store``, ``digest``, ``ladder_lines``, ``message_text``, ``save``,
``loader``, ``keys``), tested without a screen; then Textual widgets
(``widgets/``) and screens (``screens/``); ``app`` ties them to a loader
thread.  It builds on the model every other command reads (``Pipeline``,
``AnalyzedCall``, ``render.ladder``, ``render.correlate``, the exporters),
and never parses packets itself.
"""

from __future__ import annotations

from .app import SipsniffApp

__all__ = ["SipsniffApp"]
