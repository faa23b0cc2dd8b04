"""Pipeline: streaming, bounded open dialogs, failing rules, cross-call annotations."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest
from factories import ipv4_udp_frame, make_invite, make_response, write_pcap

from sipsniff.analysis import AnalyzedCall
from sipsniff.annotate.annotation import Annotation
from sipsniff.annotate.knowledge import Severity
from sipsniff.capture.sources import read_frames
from sipsniff.dialogs import tracker as tracker_mod
from sipsniff.dialogs.call import Call
from sipsniff.pipeline import Pipeline, analyze


def _flood(tmp_path: Path, n: int, gap_s: float = 0.01) -> Path:
    frames = [
        ipv4_udp_frame(make_invite(call_id=f"scan-{i}", branch=f"z9hG4bK{i}")) for i in range(n)
    ]
    return write_pcap(tmp_path / "flood.pcap", frames)


def test_calls_stream_out_before_the_end(tmp_path: Path) -> None:
    # 200 unanswered INVITEs 10 ms apart = 2 s of capture; with a 32 s waiting tier
    # none finishes early, so build a capture long enough: 4000 frames = 40 s.
    p = _flood(tmp_path, 4000)
    pipe = Pipeline()
    early = 0
    for frame in read_frames([p], pipe._report):
        early += len(pipe.feed(frame))
    assert early > 0, "unanswered requests must be published after Timer B, not kept to the end"
    assert pipe.tracker.open_count < 4000
    rest = pipe.finish()
    assert early + len(rest) == 4000
    states = {ac.call.state.value for ac in rest}
    assert states <= {"in-progress", "timed-out"}


def test_open_dialog_bound_evicts_and_counts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tracker_mod, "MAX_OPEN_DIALOGS", 50)
    p = _flood(tmp_path, 300, gap_s=0.001)
    a = analyze([p])
    assert len(a.calls) == 300, "evicted calls are published, never lost"
    assert a.stats.evicted_calls == 250
    assert a.stats.diagnostics_by_trigger["dialog-evicted"] >= 1
    assert sum(1 for c in a.calls if c.call.evicted) == 250


class _Boom:
    id = "boom"
    description = "always fails"

    def check(self, call: Call) -> Iterable[Annotation]:
        raise RuntimeError("kaput")


class _Many:
    id = "count-calls"
    description = "annotates the first call with the total"

    def __init__(self) -> None:
        self.ids: list[str] = []

    def observe(self, call: Call) -> None:
        self.ids.append(call.call_id)

    def finish(self) -> Iterable[tuple[str, Annotation]]:
        yield (
            self.ids[0],
            Annotation(
                rule=self.id,
                severity=Severity.INFO,
                title=f"{len(self.ids)} calls",
                cause="",
                resolution=(),
                frames=(),
            ),
        )


def test_failing_rule_becomes_a_diagnostic_and_cross_rules_attach(tmp_path: Path) -> None:
    frames = [ipv4_udp_frame(make_invite()), ipv4_udp_frame(make_response(486, "Busy Here"))]
    p = write_pcap(tmp_path / "busy.pcap", frames)
    pipe = Pipeline(rules=[_Boom()], cross_rules=[_Many()])
    calls: list[AnalyzedCall] = list(pipe.run(read_frames([p], pipe._report)))
    assert [d.trigger.value for d in pipe.diagnostics] == ["rule-failed"]
    assert "rule boom failed" in pipe.diagnostics[0].detail
    merged = pipe.attach_late(calls)
    assert [a.title for a in merged[0].annotations] == ["1 calls"]
    assert pipe.stats.annotations_by_rule["count-calls"] == 1
