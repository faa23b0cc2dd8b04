"""CallRow: the facts worked out once per call for filtering and sorting."""

from __future__ import annotations

from helpers import capture

from sipsniff.pipeline import analyze
from sipsniff.tui.rows import CallRow


def test_facts_of_a_busy_call() -> None:
    ac = next(c for c in analyze([capture("demo.pcap")]).calls if "busy" in c.call.call_id)
    r = CallRow.of(7, ac)
    assert r.uid == 7 and r.call is ac.call
    assert r.ips == {"127.0.0.22", "127.0.0.10"}
    assert r.endpoints == {"127.0.0.22:5061", "127.0.0.10:5060"}
    assert r.methods == {"INVITE", "ACK"}
    assert r.codes == {100, 486}
    assert r.rules == {"callee-busy"}
    assert r.severity_counts == (1, 0, 0) and r.worst == 0 and not r.has_problem()
    assert "alice" in r.from_text and "bob" in r.to_text
    for word in (
        "demo-busy-1@127.0.0.22",
        "127.0.0.22:5061",
        "invite",
        "486",
        "callee-busy",
        "rejected",
        "call",
    ):
        assert word in r.haystack


def test_a_call_without_annotations() -> None:
    ac = analyze([capture("call_ok.pcap")]).calls[0]
    r = CallRow.of(0, ac)
    assert r.worst == -1 and r.severity_counts == (0, 0, 0) and r.rules == frozenset()
    assert 200 in r.codes and "BYE" in r.methods
