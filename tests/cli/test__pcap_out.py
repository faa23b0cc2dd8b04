"""``live --write-pcap`` files: never through a symlink, never over a victim (issue 16, item 7).

Rotation and the pcap format itself are tested in ``test_live.py``.
"""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest
from helpers import needs_root

from sipsniff.capture.frame import Frame, LinkType
from sipsniff.capture.sources import read_frames
from sipsniff.cli._pcap_out import PcapOut, Rotation
from sipsniff.diagnostics import CaptureError


def _frames(n: int) -> list[Frame]:
    t0 = 1_700_000_000_000_000_000
    return [Frame(i + 1, t0 + i * 10**9, LinkType.ETHERNET, b"x" * 60, 60) for i in range(n)]


def _write(path: Path, rotation: Rotation | None = None, n: int = 3) -> PcapOut:
    out = PcapOut(path, LinkType.ETHERNET, rotation)
    for fr in _frames(n):
        out.write(fr)
    out.close()
    return out


def test_a_symlink_is_refused_and_its_target_untouched(tmp_path: Path) -> None:
    victim = tmp_path / "shadow"
    victim.write_text("root:secret")
    link = tmp_path / "sip.pcap"
    link.symlink_to(victim)
    with pytest.raises(CaptureError, match="symbolic link, and live capture never follows"):
        _write(link)
    assert victim.read_text() == "root:secret" and link.is_symlink()


def test_a_hard_link_is_refused(tmp_path: Path) -> None:
    victim = tmp_path / "precious"
    victim.write_bytes(b"precious")
    os.link(victim, tmp_path / "sip.pcap")
    with pytest.raises(CaptureError, match="hard links"):
        _write(tmp_path / "sip.pcap")
    assert victim.read_bytes() == b"precious"


def test_another_users_file_in_a_shared_directory_is_refused(tmp_path: Path) -> None:
    needs_root()
    shared = tmp_path / "tmp"
    shared.mkdir()
    shared.chmod(0o1777)
    planted = shared / "sip.pcap"
    planted.write_bytes(b"planted")
    os.chown(planted, 4242, 4242)
    with pytest.raises(CaptureError, match="belongs to uid 4242"):
        _write(planted)
    assert planted.read_bytes() == b"planted"


def test_our_own_file_is_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "sip.pcap"
    path.write_bytes(b"an older, longer capture" * 100)
    path.chmod(0o640)
    _write(path)
    assert len(list(read_frames([path], lambda d: None))) == 3
    assert stat.S_IMODE(path.stat().st_mode) == 0o640  # the same file, rewritten


def test_a_rotated_name_planted_as_a_symlink_is_refused(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious")
    frames = _frames(2)
    out = PcapOut(tmp_path / "a.pcap", LinkType.ETHERNET, Rotation(max_seconds=1))
    out.write(frames[0])
    out._name(frames[1].ts_ns).symlink_to(victim)  # the next name is predictable
    with pytest.raises(CaptureError, match="symbolic link"):
        out.write(frames[1])
    out.close()
    assert victim.read_text() == "precious"


def test_a_fifo_is_written_as_it_is(tmp_path: Path) -> None:
    fifo = tmp_path / "to-wireshark"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    _write(fifo)
    reader.join(10)
    assert got and got[0][:4] == bytes.fromhex("4d3cb2a1")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
