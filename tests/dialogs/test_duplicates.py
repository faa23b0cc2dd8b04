"""Capture duplicates (a SPAN port recording each packet twice) are not retransmissions."""

from __future__ import annotations

from pathlib import Path

import pytest
from factories import sip_bytes

from sipsniff.capture.sources import read_frames
from sipsniff.decode.payload import Endpoint, Transport
from sipsniff.dialogs.tracker import DUPLICATE_WINDOW_NS, MAX_DUPLICATE_FRAMES, DialogTracker
from sipsniff.pipeline import Pipeline
from sipsniff.sip.message import SipMessage, parse_message

CAPTURES = Path(__file__).resolve().parents[2] / "captures"
A = Endpoint("192.0.2.10", 5061)
B = Endpoint("192.0.2.20", 5060)
MS = 1_000_000


def _m(
    t_ms: float, start: str, *, frame: int, reply: bool = False, src: Endpoint = A
) -> SipMessage:
    data = sip_bytes(
        start, call_id="d1", cseq="1 INVITE", branch="z9hG4bK-d", to_tag="tt" if reply else ""
    )
    s, d = (B, src) if reply else (src, B)
    return parse_message(
        data, frame=frame, ts_ns=round(t_ms * MS), src=s, dst=d, transport=Transport.UDP
    )


def _calls(msgs: list[SipMessage]) -> list:
    t = DialogTracker(lambda d: None)
    for m in msgs:
        t.feed(m)
    return t.flush()


def test_mirrored_copy_is_counted_not_filed() -> None:
    inv = "INVITE sip:bob@x SIP/2.0"
    (call,) = _calls([_m(0, inv, frame=1), _m(0.4, inv, frame=2)])
    assert [m.frame for m in call.messages] == [1]
    assert call.capture_duplicates == 1 and call.duplicate_frames == (2,)
    assert not call.retransmissions


def test_a_real_retransmission_stays_one() -> None:
    """Same bytes after T1 (500 ms): the peer repeated itself, the capture did not."""
    inv = "INVITE sip:bob@x SIP/2.0"
    (call,) = _calls([_m(0, inv, frame=1), _m(500, inv, frame=2), _m(500.3, inv, frame=3)])
    assert [m.frame for m in call.messages] == [1, 2]
    assert call.retransmissions == frozenset({1})
    assert call.duplicate_frames == (3,)  # the mirror of the retransmission


def test_window_edge_and_other_hop() -> None:
    inv = "INVITE sip:bob@x SIP/2.0"
    late = DUPLICATE_WINDOW_NS / MS + 1
    (call,) = _calls([_m(0, inv, frame=1), _m(late, inv, frame=2)])
    assert call.capture_duplicates == 0 and call.retransmissions == frozenset({1})
    # the same bytes relayed from another host is another hop, never a duplicate
    (call,) = _calls([_m(0, inv, frame=1), _m(0.2, inv, frame=2, src=Endpoint("192.0.2.30", 5060))])
    assert call.capture_duplicates == 0 and len(call.messages) == 2


def test_frames_kept_are_bounded_and_all_counted() -> None:
    inv = "INVITE sip:bob@x SIP/2.0"
    n = MAX_DUPLICATE_FRAMES + 10
    (call,) = _calls([_m(i * 0.01, inv, frame=i + 1) for i in range(n + 1)])
    assert call.capture_duplicates == n
    assert len(call.duplicate_frames) == MAX_DUPLICATE_FRAMES


def _mirrored(src: Path, dst: Path) -> None:
    """Every frame of ``src`` twice, the copy 1 ms later (what a SPAN port mirroring
    both directions records)."""
    scapy = pytest.importorskip("scapy.all")
    out = []
    for p in scapy.rdpcap(str(src)):
        out.append(p)
        q = p.copy()
        q.time = p.time + 0.001
        out.append(q)
    scapy.wrpcap(str(dst), out)


@pytest.mark.parametrize("engine", ["python", "native"])
@pytest.mark.parametrize("name", ["call_ok.pcap", "call_ack_missing.pcap", "demo.pcap"])
def test_span_capture_reads_like_the_original(tmp_path: Path, name: str, engine: str) -> None:
    from sipsniff import engine as engines

    if engine == "native" and engines.native_module() is None:
        pytest.skip("the native core is not built")
    mirrored = tmp_path / name
    _mirrored(CAPTURES / name, mirrored)

    def run(path: Path) -> tuple[Pipeline, list]:
        pipe = Pipeline(engine_name=engine)
        calls = list(pipe.run(read_frames([path], pipe._report)))
        return pipe, calls

    pipe0, calls0 = run(CAPTURES / name)
    pipe1, calls1 = run(mirrored)
    assert pipe1.stats.capture_duplicates == pipe0.stats.sip_messages
    assert pipe1.stats.retransmissions == pipe0.stats.retransmissions
    for a, b in zip(calls0, calls1, strict=True):
        assert [m.frame * 2 - 1 for m in a.call.messages] == [m.frame for m in b.call.messages]
        assert [x.rule for x in a.annotations] == [x.rule for x in b.annotations]
        assert [x.severity for x in a.annotations] == [x.severity for x in b.annotations]
