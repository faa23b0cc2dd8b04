"""The session: the status line of the load, counters before and after it ends."""

from __future__ import annotations

from pathlib import Path

from helpers import capture

from sipsniff.analysis import Stats
from sipsniff.pipeline import analyze
from sipsniff.render.glyphs import ASCII, UNICODE
from sipsniff.tui.loader import LoadResult, Progress
from sipsniff.tui.session import Session


def test_before_and_after_the_load() -> None:
    s = Session([capture("demo.pcap")])
    assert s.glyphs is UNICODE and Session([], ascii_only=True).glyphs is ASCII
    assert not s.loaded and s.diagnostics == []
    s.progress = Progress(bytes_read=50, bytes_total=200, frames=12, calls=0)
    assert s.load_line() == "loading 25% · 12 frames · 0 calls"
    a = analyze([capture("demo.pcap")])
    s.store.add(a.calls)
    assert s.stats.calls == 8 and s.stats.frames == 12  # counted from the calls so far
    s.result = LoadResult(calls=list(a.calls), stats=a.stats, diagnostics=[], seconds=0.25)
    assert s.loaded and s.stats is a.stats
    assert s.load_line() == "42 frames · 42 SIP messages · loaded in 0.2 s"
    assert [ac.call.call_id for ac in s.calls()] == [ac.call.call_id for ac in a.calls]


def test_stopped_and_failed_loads() -> None:
    s = Session([Path("x.pcap")])
    s.result = LoadResult(calls=[], stats=Stats(), diagnostics=[], stopped=True)
    assert s.load_line() == "load stopped"
    s.result = LoadResult(calls=[], stats=Stats(), diagnostics=[], error="x.pcap: truncated")
    assert s.load_line() == "read stopped early: x.pcap: truncated"
