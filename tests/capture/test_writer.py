"""Frames written back to pcap/pcapng: exact round trips, link types, atomic output, tshark read-back."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from factories_pcap import Packet, eth, ipv4, pcap, sll, udp
from helpers import capture, needs_tool

from sipsniff.capture.frame import Frame, LinkType
from sipsniff.capture.sources import read_frames
from sipsniff.capture.writer import FrameWriter, write_frames
from sipsniff.diagnostics import CaptureError
from sipsniff.pipeline import analyze


def frames_of(path: Path) -> list[Frame]:
    return list(read_frames([path], lambda d: pytest.fail(f"diagnostic: {d.line()}")))


def packet(i: int) -> bytes:
    return ipv4(udp(b"payload %d" % i * (i + 1)))


def test_round_trip_keeps_bytes_times_and_lengths(tmp_path: Path) -> None:
    # nanosecond timestamps that a microsecond file could not hold, and a snapped frame
    src = tmp_path / "in.pcap"
    pkts = [Packet(eth(packet(i)), ts_ns=1_700_000_000_123_456_789 + i * 1_001) for i in range(6)]
    pkts[3] = Packet(pkts[3].data, ts_ns=pkts[3].ts_ns, orig_len=len(pkts[3].data) + 100)
    src.write_bytes(pcap(pkts, linktype=LinkType.ETHERNET, nanos=True))
    before = frames_of(src)
    out = tmp_path / "out.pcap"
    result = write_frames(out, frames_of(src), {2, 4, 5})
    assert (result.frames, result.format, result.linktypes) == (3, "pcap", (LinkType.ETHERNET,))
    after = frames_of(out)
    assert [f.number for f in after] == [1, 2, 3]  # renumbered, as Wireshark would
    for got, want in zip(after, [before[1], before[3], before[4]], strict=True):
        assert (got.ts_ns, got.linktype, got.data, got.orig_len) == (
            want.ts_ns,
            want.linktype,
            want.data,
            want.orig_len,
        )
    assert out.read_bytes()[:4] == bytes.fromhex("4d3cb2a1")  # classic, nanosecond, little-endian


def test_pcapng_by_suffix(tmp_path: Path) -> None:
    src = tmp_path / "in.pcap"
    src.write_bytes(pcap([packet(i) for i in range(3)]))
    out = tmp_path / "out.pcapng"
    result = write_frames(out, frames_of(src), {1, 3})
    assert result.format == "pcapng"
    assert out.read_bytes()[:4] == b"\x0a\x0d\x0d\x0a"
    want = frames_of(src)
    got = frames_of(out)
    assert [(f.ts_ns, f.data, f.linktype) for f in got] == [
        (want[0].ts_ns, want[0].data, LinkType.RAW),
        (want[2].ts_ns, want[2].data, LinkType.RAW),
    ]


def test_mixed_link_types_become_pcapng_with_one_interface_each(tmp_path: Path) -> None:
    # Two sources merged in time order: Ethernet and Linux cooked capture.
    a, b = tmp_path / "a.pcap", tmp_path / "b.pcap"
    t0 = 1_700_000_000_000_000_000
    a.write_bytes(pcap([Packet(eth(packet(0)), ts_ns=t0)], linktype=LinkType.ETHERNET))
    b.write_bytes(pcap([Packet(sll(packet(1)), ts_ns=t0 + 5_000)], linktype=LinkType.LINUX_SLL))
    merged = list(read_frames([a, b], lambda d: None))
    out = tmp_path / "mixed.pcap"
    result = write_frames(out, merged, {1, 2})
    assert result.format == "pcapng"
    assert result.linktypes == (LinkType.ETHERNET, LinkType.LINUX_SLL)
    got = frames_of(out)
    assert [(f.linktype, f.data, f.ts_ns) for f in got] == [
        (fr.linktype, fr.data, fr.ts_ns) for fr in merged
    ]


def test_nothing_selected_writes_a_valid_empty_capture(tmp_path: Path) -> None:
    out = tmp_path / "empty.pcap"
    result = write_frames(out, frames_of(capture("call_ok.pcap")), set())
    assert result.frames == 0
    assert frames_of(out) == []


def test_unwritable_output_is_a_capture_error_and_leaves_nothing(tmp_path: Path) -> None:
    out = tmp_path / "missing-dir" / "out.pcap"
    with pytest.raises(CaptureError, match="cannot write"):
        write_frames(out, frames_of(capture("call_ok.pcap")), {1})
    assert not out.parent.exists()


def test_failed_write_keeps_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    out = tmp_path / "out.pcap"
    out.write_bytes(b"old")
    first = frames_of(capture("call_ok.pcap"))[0]

    def source_dies() -> Iterator[Frame]:
        yield first
        raise CaptureError("source went away")

    with pytest.raises(CaptureError, match="went away"):
        write_frames(out, source_dies(), {1})
    writer = FrameWriter(out)
    writer.write(first)
    writer.abort()
    assert out.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.pcap"]


def _selected(name: str) -> tuple[set[int], set[str]]:
    a = analyze([capture(name)])
    failed = [ac for ac in a.calls if ac.call.failed]
    assert failed, f"{name} has no failed call"
    return {m.frame for ac in failed for m in ac.call.messages}, {ac.call.call_id for ac in failed}


@pytest.mark.parametrize("name", ["demo.pcap", "call_tcp.pcap", "call_cancel.pcap"])
def test_selected_calls_read_back_by_sipsniff(tmp_path: Path, name: str) -> None:
    keep, call_ids = _selected(name) if name != "call_tcp.pcap" else _all(name)
    out = tmp_path / "sel.pcap"
    result = write_frames(out, read_frames([capture(name)], lambda d: None), keep)
    assert result.frames == len(keep)
    again = analyze([out])
    assert {ac.call.call_id for ac in again.calls} == call_ids


def _all(name: str) -> tuple[set[int], set[str]]:
    a = analyze([capture(name)])
    return {m.frame for ac in a.calls for m in ac.call.messages}, {
        ac.call.call_id for ac in a.calls
    }


@pytest.mark.needs_tool
@pytest.mark.parametrize("suffix", [".pcap", ".pcapng"])
def test_tshark_reads_exactly_the_selected_frames(tmp_path: Path, suffix: str) -> None:
    tshark = needs_tool("tshark")
    keep, call_ids = _selected("demo.pcap")
    out = tmp_path / f"failed{suffix}"
    write_frames(out, read_frames([capture("demo.pcap")], lambda d: None), keep)
    res = subprocess.run(
        [
            tshark,
            "-r",
            str(out),
            "-Y",
            "sip",
            "-T",
            "fields",
            "-e",
            "frame.number",
            "-e",
            "sip.Call-ID",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    rows = [line.split("\t") for line in res.stdout.splitlines() if line.strip()]
    assert len(rows) == len(keep)
    assert [int(r[0]) for r in rows] == list(range(1, len(keep) + 1))
    assert {r[1] for r in rows} == call_ids


def test_without_an_opener_the_file_is_created_exclusively(tmp_path: Path) -> None:
    """The writer has no file policy of its own (issue 16, item 5): it never replaces an
    existing file nor follows a symlink; ``report`` passes ``cli/_files.py``."""
    frames = frames_of(capture("call_ok.pcap"))
    existing = tmp_path / "old.pcap"
    existing.write_bytes(b"old")
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    link = tmp_path / "link.pcap"
    link.symlink_to(victim)
    for out in (existing, link):
        with pytest.raises(CaptureError, match=r"cannot write .*File exists"):
            write_frames(out, frames, {1})
    assert existing.read_bytes() == b"old" and victim.read_bytes() == b"precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.pcap", "old.pcap", "victim"]


def test_the_opener_runs_only_once_every_frame_is_read(tmp_path: Path) -> None:
    import contextlib
    import io

    opened: list[io.BytesIO] = []

    @contextlib.contextmanager
    def opener() -> Iterator[io.BytesIO]:
        buf = io.BytesIO()
        opened.append(buf)
        yield buf

    def source_dies() -> Iterator[Frame]:
        yield frames_of(capture("call_ok.pcap"))[0]
        raise CaptureError("source went away")

    with pytest.raises(CaptureError, match="went away"):
        write_frames(tmp_path / "x.pcap", source_dies(), {1}, open_output=opener)
    assert opened == []
    result = write_frames(
        tmp_path / "x.pcapng",
        frames_of(capture("call_ok.pcap")),
        {1, 2},
        open_output=opener,
    )
    assert result.format == "pcapng" and opened[0].getvalue()[:4] == b"\x0a\x0d\x0d\x0a"
    assert list(tmp_path.iterdir()) == []
