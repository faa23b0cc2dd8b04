"""Capture sources: format sniffing, gzip, several files merged in time order, directories."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest
from factories_pcap import Packet, pcap, pcapng

from sipsniff.capture import sources
from sipsniff.capture.frame import Frame, LinkType
from sipsniff.capture.sources import expand_paths, read_frames, total_size
from sipsniff.diagnostics import CaptureError, Diagnostic, Stage, Trigger

S = 1_000_000_000


def read(*paths: Path) -> tuple[list[Frame], list[Diagnostic]]:
    diags: list[Diagnostic] = []
    return list(read_frames(paths, diags.append)), diags


def test_format_is_sniffed_from_content_not_the_name(tmp_path: Path) -> None:
    ng = tmp_path / "really-pcapng.pcap"
    ng.write_bytes(pcapng([(LinkType.RAW, 9)], [(0, 5, b"ng")]))
    classic = tmp_path / "really-pcap.pcapng"
    classic.write_bytes(pcap([Packet(b"classic", ts_ns=7)], nanos=True))
    assert [(f.ts_ns, f.data) for f in read(ng)[0]] == [(5, b"ng")]
    assert [(f.ts_ns, f.data) for f in read(classic)[0]] == [(7, b"classic")]


@pytest.mark.parametrize("kind", ["pcap", "pcapng"])
def test_gzip_captures_read_like_the_plain_file(tmp_path: Path, kind: str) -> None:
    if kind == "pcap":
        data = pcap([Packet(bytes([i]) * 300, ts_ns=i * S) for i in range(250)], nanos=True)
    else:
        data = pcapng([(LinkType.RAW, 9)], [(0, i * S, bytes([i]) * 300) for i in range(200)])
    plain = tmp_path / f"c.{kind}"
    plain.write_bytes(data)
    packed = tmp_path / f"c.{kind}.gz"
    packed.write_bytes(gzip.compress(data))
    assert read(packed) == read(plain)
    assert read(packed)[1] == []


def _cut_gzip(tmp_path: Path, kind: str, n_frames: int, keep: float) -> Path:
    # incompressible payloads, so the compressed stream is cut at a predictable place
    payloads = [os.urandom(200) for _ in range(n_frames)]
    if kind == "pcap":
        data = pcap([Packet(p, ts_ns=i * S) for i, p in enumerate(payloads)], nanos=True)
    else:
        data = pcapng([(LinkType.RAW, 9)], [(0, i * S, p) for i, p in enumerate(payloads)])
    packed = gzip.compress(data)
    path = tmp_path / f"cut.{kind}.gz"
    path.write_bytes(packed[: int(len(packed) * keep)])
    return path


@pytest.mark.parametrize("kind", ["pcap", "pcapng"])
def test_cut_gzip_keeps_the_frames_before_the_cut_and_says_so_once(
    tmp_path: Path, kind: str
) -> None:
    """A rotated capture still being written: frames up to the cut, then one diagnostic.

    Regression: the gzip EOFError became a CaptureError and the whole file was lost.
    """
    frames, diags = read(_cut_gzip(tmp_path, kind, 100, keep=0.5))
    assert 30 < len(frames) < 70
    assert [f.number for f in frames] == list(range(1, len(frames) + 1))
    assert len(diags) == 1
    d = diags[0]
    assert (d.frame, d.stage, d.trigger) == (len(frames) + 1, Stage.CAPTURE, Trigger.TRUNCATED_FILE)
    assert d.detail.endswith(f"; {len(frames)} frames loaded")


def test_gzip_cut_between_records_is_still_reported(tmp_path: Path) -> None:
    data = pcap([Packet(b"x" * 50, ts_ns=i) for i in range(3)], nanos=True)
    packed = gzip.compress(data)
    path = tmp_path / "cut.pcap.gz"
    path.write_bytes(packed[:-8])  # drop the CRC and size trailer: every record is intact
    frames, diags = read(path)
    assert len(frames) == 3
    assert [(d.frame, d.trigger) for d in diags] == [(4, Trigger.TRUNCATED_FILE)]
    assert "compressed data ends early" in diags[0].detail
    assert diags[0].detail.endswith("; 3 frames loaded")


def test_gzip_of_something_else_is_not_a_capture(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt.gz"
    path.write_bytes(gzip.compress(b"hello, this is text\n"))
    with pytest.raises(CaptureError, match=r"notes\.txt\.gz: not a pcap or pcapng capture"):
        read(path)


def test_gzip_damaged_before_the_capture_header(tmp_path: Path) -> None:
    path = tmp_path / "stub.pcap.gz"
    path.write_bytes(gzip.compress(pcap([b"x"]))[:12])
    with pytest.raises(CaptureError, match=r"stub\.pcap\.gz: damaged gzip data"):
        read(path)


def test_several_files_are_merged_in_time_order_and_renumbered(tmp_path: Path) -> None:
    a = tmp_path / "a.pcap"
    a.write_bytes(pcap([Packet(b"a1", ts_ns=1 * S), Packet(b"a2", ts_ns=4 * S)], nanos=True))
    b = tmp_path / "b.pcapng"
    b.write_bytes(pcapng([(LinkType.ETHERNET, 9)], [(0, 2 * S, b"b1"), (0, 3 * S, b"b2")]))
    c = tmp_path / "c.pcap.gz"
    c.write_bytes(gzip.compress(pcap([Packet(b"c1", ts_ns=5 * S)], nanos=True)))
    frames, diags = read(c, a, b)
    assert diags == []
    assert [(f.number, f.data, f.linktype) for f in frames] == [
        (1, b"a1", LinkType.RAW),
        (2, b"b1", LinkType.ETHERNET),
        (3, b"b2", LinkType.ETHERNET),
        (4, b"a2", LinkType.RAW),
        (5, b"c1", LinkType.RAW),
    ]


def test_equal_timestamps_keep_the_order_the_files_were_given(tmp_path: Path) -> None:
    a = tmp_path / "a.pcap"
    a.write_bytes(pcap([Packet(b"a", ts_ns=S)]))
    b = tmp_path / "b.pcap"
    b.write_bytes(pcap([Packet(b"b", ts_ns=S)]))
    assert [f.data for f in read(b, a)[0]] == [b"b", b"a"]


def test_a_directory_stands_for_its_rotated_captures_in_name_order(tmp_path: Path) -> None:
    for i, name in enumerate(["cap_00002.pcap", "cap_00001.pcap.gz", "cap_00003.pcapng"]):
        data = (
            pcapng([(LinkType.RAW, 9)], [(0, (10 - i) * S, name.encode())])
            if name.endswith("ng")
            else pcap([Packet(name.encode(), ts_ns=(10 - i) * S)], nanos=True)
        )
        (tmp_path / name).write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    (tmp_path / "README.txt").write_text("not a capture")
    (tmp_path / "sub").mkdir()
    assert [p.name for p in expand_paths([tmp_path])] == [
        "cap_00001.pcap.gz",
        "cap_00002.pcap",
        "cap_00003.pcapng",
    ]
    assert [f.data for f in read(tmp_path)[0]] == [
        b"cap_00003.pcapng",
        b"cap_00001.pcap.gz",
        b"cap_00002.pcap",
    ]
    assert total_size(expand_paths([tmp_path])) == sum(
        p.stat().st_size for p in tmp_path.iterdir() if p.name.startswith("cap_")
    )


def test_truncation_in_one_of_several_files_is_reported_and_the_rest_read(tmp_path: Path) -> None:
    good = tmp_path / "good.pcap"
    good.write_bytes(pcap([Packet(b"g", ts_ns=S), Packet(b"h", ts_ns=3 * S)]))
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(pcap([Packet(b"c" * 40, ts_ns=2 * S), Packet(b"d" * 40, ts_ns=4 * S)])[:-5])
    frames, diags = read(good, cut)
    assert [(f.number, f.data[:1]) for f in frames] == [(1, b"g"), (2, b"c"), (3, b"h")]
    # noticed when the merge asked cut.pcap for the frame after its first (merged frame 3),
    # not at that file's own frame 2
    assert [(d.frame, d.trigger) for d in diags] == [(3, Trigger.TRUNCATED_FILE)]
    assert str(cut) in diags[0].detail


# -- paths that cannot be used -----------------------------------------------
def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(CaptureError, match=r"nope\.pcap: no such file or directory$"):
        read(tmp_path / "nope.pcap")


def test_directory_without_captures(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(CaptureError, match="directory holds no capture files"):
        read(tmp_path)


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "secret.pcap"
    path.write_bytes(pcap([b"x"]))
    # root can read anything, so pretend the permission check failed
    monkeypatch.setattr(sources.os, "access", lambda p, mode: False)
    with pytest.raises(CaptureError, match=r"secret\.pcap: permission denied$"):
        read(path)


@pytest.mark.parametrize(
    ("content", "starts"),
    [(b"", "nothing"), (b"#!/bin/sh\necho hi\n", "23212f62"), (b"\x00\x01", "0001")],
    ids=["empty", "script", "two-bytes"],
)
def test_a_file_that_is_not_a_capture_is_one_clear_error(
    tmp_path: Path, content: bytes, starts: str
) -> None:
    path = tmp_path / "x.pcap"
    path.write_bytes(content)
    with pytest.raises(CaptureError) as info:
        read(path)
    assert str(info.value) == f"{path}: not a pcap or pcapng capture (starts with {starts})"


def test_a_bad_file_among_several_fails_before_any_frame(tmp_path: Path) -> None:
    good = tmp_path / "good.pcap"
    good.write_bytes(pcap([b"x"]))
    bad = tmp_path / "bad.pcap"
    bad.write_text("not a capture")
    stream = read_frames([good, bad], lambda d: None)
    with pytest.raises(CaptureError, match=r"bad\.pcap: not a pcap or pcapng capture"):
        next(stream)
