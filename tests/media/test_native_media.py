"""The native core's RTP accounting (issue 12) against `tshark -z rtp,streams`.

Why: the Rust core counts every RTP packet of a capture (most of its packets);
its figures must be the ones users check in Wireshark.  These tests read the
extension directly (`Scanner.streams()`, `Scanner.rtcp()`), so they pin the
native side alone; the engines' agreement is tested with the pipeline wiring.
"""

from __future__ import annotations

import re
import struct
import subprocess
from pathlib import Path
from typing import Any

import pytest
from helpers import needs_tool, real_capture

native = pytest.importorskip("sipsniff._native")

# One row of `tshark -q -z rtp,streams` (tshark 4.0 layout).
_ROW = re.compile(
    r"^\s*[\d.]+\s+[\d.]+\s+(\S+)\s+(\d+)\s+(\S+)\s+(\d+)\s+0x([0-9A-Fa-f]+)\s+.*?"
    r"\s(\d+)\s+(-?\d+) \([-\d.]+%\)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)"
    r"\s+([\d.]+)\s+([\d.]+)"
)
# Captures of the shared corpus on which tshark finds RTP.
RTP_CAPTURES = [
    "heplify_rtp_rtcp_sip_ipv4_udp.pcap",
    "heplify_sip_ipv4_tcp.pcap",
    "sngrep_aaa.pcap",
]


def tshark_streams(path: Path) -> dict[tuple[Any, ...], tuple[int, int, float, float, float]]:
    """(5-tuple, SSRC) -> (packets, lost, max delta ms, mean jitter ms, max jitter ms)."""
    tshark = needs_tool("tshark")
    out = subprocess.run(
        [tshark, "-n", "-q", "-o", "rtp.heuristic_rtp:TRUE", "-z", "rtp,streams", "-r", str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rows = {}
    for line in out.splitlines():
        m = _ROW.match(line)
        if m:
            g = m.groups()
            key = (g[0], int(g[1]), g[2], int(g[3]), int(g[4], 16))
            rows[key] = (int(g[5]), int(g[6]), float(g[9]), float(g[11]), float(g[12]))
    return rows


def scan(path: Path) -> Any:
    """A native Scanner that has read every frame of `path` (fast path only)."""
    s = native.Scanner()
    reader = native.FileReader(str(path))
    while not s.scan_file(reader, 50_000)[3]:
        pass
    return s


@pytest.mark.parametrize("name", RTP_CAPTURES)
def test_streams_match_tshark(name: str) -> None:
    path = real_capture(name)
    want = tshark_streams(path)
    assert want, "tshark found no RTP stream: the capture list is stale"
    got = {}
    for r in scan(path).streams():
        # packets, lost, max delta (ms), mean jitter, max jitter
        got[tuple(r[:5])] = (r[9], r[13], r[16] / 1e6, r[20], r[19])
    assert set(got) == set(want)
    for key, (pk, lost, max_delta, mean_j, max_j) in want.items():
        g = got[key]
        assert (g[0], g[1]) == (pk, lost), key
        assert g[2] == pytest.approx(max_delta, abs=0.0011), key
        assert g[4] == pytest.approx(max_j, abs=0.0011), key
        assert g[3] == pytest.approx(mean_j, abs=0.0011), key


def _rtp(seq: int, ts: int, ssrc: int = 0x11223344, pt: int = 8) -> bytes:
    return struct.pack("!BBHII", 0x80, pt, seq & 0xFFFF, ts, ssrc) + bytes(160)


def test_loss_across_the_wrap_and_reordering_through_the_binding() -> None:
    s = native.Scanner()
    seqs = [65533, 65534, 0, 65535, 2, 2]  # 1 lost, 65535 late, 2 duplicated
    for i, seq in enumerate(seqs):
        s.datagram(
            i + 1, i * 20_000_000, "127.0.0.1", 20000, "127.0.0.2", 30000, _rtp(seq, i * 160)
        )
    [row] = s.streams()
    assert row[:5] == ("127.0.0.1", 20000, "127.0.0.2", 30000, 0x11223344)
    assert row[9] == 6  # packets
    assert (row[12], row[13], row[15]) == (6, 1, 1)  # expected, lost, duplicates
    assert row[11] == (8,)
    assert s.media_evicted() == (0, 0)


def test_only_the_primary_shard_counts_media() -> None:
    for shard, streams in (((0, 3), 1), ((1, 3), 0)):
        s = native.Scanner(shard)
        for i in range(3):
            s.datagram(
                i + 1, i * 20_000_000, "127.0.0.1", 20000, "127.0.0.2", 30000, _rtp(i, i * 160)
            )
        assert len(s.streams()) == streams


def test_rtcp_reports_through_the_binding() -> None:
    s = native.Scanner()
    rr = struct.pack("!BBHI", 0x81, 201, 7, 0xAABBCCDD)
    rr += struct.pack("!IB3sIIII", 0x11223344, 25, (5).to_bytes(3, "big"), 100, 33, 0, 0)
    s.datagram(1, 0, "127.0.0.2", 30001, "127.0.0.1", 20001, rr)
    [row] = s.rtcp()
    assert row[:5] == ("127.0.0.2", 30001, "127.0.0.1", 20001, 0xAABBCCDD)
    assert row[7:] == (0, 1, 25, 5, 33, None)
