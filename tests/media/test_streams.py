"""The Python engine's RTP/RTCP accounting: the same figures as the native core and tshark."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from helpers import real_capture

from sipsniff import engine
from sipsniff.capture.sources import read_frames
from sipsniff.media.streams import MediaTable, rtp_payload, static_clock
from sipsniff.pipeline import Pipeline


def _rtp(seq: int, ts: int, *, pt: int = 0, marker: bool = False, ssrc: int = 0x1234) -> bytes:
    return struct.pack("!BBHII", 0x80, pt | (0x80 if marker else 0), seq, ts, ssrc) + b"\0" * 160


def _one(pkts: list[tuple[int, int, float]]) -> tuple:
    t = MediaTable()
    for i, (seq, ts, ms) in enumerate(pkts, 1):
        assert t.datagram(i, round(ms * 1e6), "127.0.0.1", 40000, "127.0.0.2", 40002, _rtp(seq, ts))
    (row,) = t.streams()
    return row


def test_in_order_stream_has_no_loss_and_steady_jitter() -> None:
    row = _one([(i, i * 160, i * 20.0) for i in range(50)])
    packets, expected, lost, seq_errors, dups = row[9], row[12], row[13], row[14], row[15]
    assert (packets, expected, lost, seq_errors, dups) == (50, 50, 0, 0, 0)
    assert row[16] == 20_000_000 and row[19] == 0.0  # max delta 20 ms, jitter 0


def test_wrap_reorder_duplicates_and_loss() -> None:
    seqs = [65533, 65534, 65535, 1, 0, 0, 3]  # a wrap, 0 late, 0 again, 2 lost
    row = _one([(s, i * 160, i * 20.0) for i, s in enumerate(seqs)])
    expected, lost, dups = row[12], row[13], row[15]
    assert expected == 7  # 65533 .. 3 across the wrap
    assert dups == 1 and lost == 1  # 0 twice is no loss; 2 never came


def test_jitter_follows_rfc3550_a8() -> None:
    # one packet 10 ms late: |D| = 80 timestamp units, J = 80/16 = 5 units = 0.625 ms
    row = _one([(0, 0, 0.0), (1, 160, 30.0), (2, 320, 40.0)])
    assert row[18] == pytest.approx((5 + (80 - 5) / 16) / 8, abs=1e-9)


def test_not_rtp() -> None:
    assert rtp_payload(b"\x80\xc8" + b"\0" * 10) is None  # RTCP SR type with the marker bit
    assert rtp_payload(b"\x40" + b"\0" * 20) is None  # version 1
    assert rtp_payload(b"\xa0" + b"\0" * 10 + b"\x00") is None  # padding length 0
    assert static_clock(8) == 8000 and static_clock(96) == 0


def test_a_stream_that_never_steps_by_one_is_not_listed() -> None:
    t = MediaTable()
    for i, seq in enumerate((100, 900, 5000)):
        t.datagram(i + 1, i * 10**7, "127.0.0.1", 53, "127.0.0.2", 5353, _rtp(seq, 0))
    assert t.streams() == []


@pytest.mark.parametrize(
    "name", ["heplify_rtp_rtcp_sip_ipv4_udp.pcap", "sngrep_aaa.pcap", "heplify_sip_ipv6_udp.pcap"]
)
def test_engines_agree_on_real_captures(name: str) -> None:
    if engine.native_module() is None:
        pytest.skip("the native core is not built")
    path: Path = real_capture(name)
    got = {}
    for e in ("python", "native"):
        pipe = Pipeline(engine_name=e)
        list(pipe.run(read_frames([path], pipe._report)))
        got[e] = pipe.media_streams()
    py_streams, py_rtcp, py_ev = got["python"]
    nat_streams, nat_rtcp, nat_ev = got["native"]
    assert py_ev == nat_ev
    assert len(py_streams) == len(nat_streams)
    for a, b in zip(py_streams, nat_streams, strict=True):
        assert a[:17] == b[:17] and a[21:] == b[21:]
        assert a[17:21] == pytest.approx(b[17:21], abs=1e-6)
    assert [r[:12] for r in py_rtcp] == [r[:12] for r in nat_rtcp]
    if name.startswith("heplify_rtp"):
        assert py_streams  # the capture holds RTP: agreement on nothing proves nothing
