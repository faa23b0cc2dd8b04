"""The loader thread's body: batches with progress, the final calls, stopping, a bad source."""

from __future__ import annotations

import threading
from pathlib import Path

from factories import ipv4_udp_frame, write_pcap
from helpers import capture

from sipsniff.analysis import AnalyzedCall
from sipsniff.tui.loader import LoadResult, Progress, load


def run(files: list[Path], stop: threading.Event | None = None, batch_seconds: float = 0.0):
    batches: list[tuple[list[AnalyzedCall], Progress]] = []
    done: list[LoadResult] = []
    load(
        files,
        lambda c, p: batches.append((list(c), p)),
        done.append,
        stop or threading.Event(),
        batch_seconds=batch_seconds,
    )
    assert len(done) == 1
    return batches, done[0]


def test_calls_arrive_in_batches_then_the_final_calls() -> None:
    batches, result = run([capture("demo.pcap")])
    got = [ac for calls, _p in batches for ac in calls]
    assert len(got) == 8 and len(batches) >= 2
    progress = [p for _c, p in batches]
    assert [p.calls for p in progress] == sorted(p.calls for p in progress)
    assert progress[-1].frames == 42
    assert progress[-1].bytes_total - 24 == progress[-1].bytes_read  # all but the file header
    assert result.stats.frames == 42 and result.stats.sip_messages == 42
    assert not result.error and not result.stopped and result.seconds > 0
    assert [ac.call.call_id for ac in result.calls] == [ac.call.call_id for ac in got]


def test_cross_call_annotations_are_attached_at_the_end() -> None:
    batches, result = run([capture("server_unavailable.pcap")], batch_seconds=60)
    first = {ac.call.call_id: ac for calls, _ in batches for ac in calls}["overload-1@127.0.0.1"]
    final = {ac.call.call_id: ac for ac in result.calls}["overload-1@127.0.0.1"]
    assert len(final.annotations) == len(first.annotations) + 1
    assert final.annotations[-1].rule == "server-unavailable"


def test_progress_goes_out_while_no_call_finishes(tmp_path: Path) -> None:
    junk = write_pcap(tmp_path / "junk.pcap", [ipv4_udp_frame(b"\x80" * 40)] * 600)
    batches, result = run([junk])
    assert batches and all(not c for c, _p in batches)
    assert batches[-1][1].frames == 600 and result.calls == []


def test_stop_ends_the_load(tmp_path: Path) -> None:
    junk = write_pcap(tmp_path / "junk.pcap", [ipv4_udp_frame(b"\x80" * 40)] * 600)
    stop = threading.Event()
    stop.set()
    batches, result = run([junk], stop)
    assert result.stopped and batches[-1][1].frames == 256


def test_a_source_that_fails_keeps_what_was_read(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pcap"
    bad.write_bytes(b"hello, not a capture")
    _batches, result = run([capture("call_busy.pcap"), bad])
    assert "not a pcap or pcapng capture" in result.error
    assert not result.stopped


def test_progress_fraction() -> None:
    assert Progress(bytes_read=5, bytes_total=10, frames=1, calls=0).fraction == 0.5
    assert Progress(bytes_read=5, bytes_total=0, frames=1, calls=0).fraction == 1.0
    assert Progress(bytes_read=50, bytes_total=10, frames=1, calls=0).fraction == 1.0


def test_a_capture_cut_short_loads_what_it_holds(tmp_path: Path) -> None:
    data = capture("demo.pcap").read_bytes()
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(data[: len(data) - 100])  # the last frame is cut in the middle
    _batches, result = run([cut])
    assert not result.error and not result.stopped
    assert result.stats.frames == 41 and len(result.calls) == 8
    assert any("trunc" in t for t in result.stats.diagnostics_by_trigger)
