"""Output files: atomic replacement that keeps mode and owner, devices written directly,
hard links and planted symlinks refused, no temporary left by any signal (issue 16, items 5-8).

Device nodes as root (``/dev/null``, ``/dev/stdout``) are tested end to end in
``test_report.py``, in a private mount namespace with its own /dev; here only
nodes made in tmp dirs are used.  Root-only tests skip on a laptop and fail
under CI=true.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from helpers import ROOT, needs_root

from sipsniff.cli import _files
from sipsniff.cli._files import Output, check_output, open_in_place, text_output
from sipsniff.diagnostics import CaptureError

OTHER_UID = 4242


def _write(path: Path | str, text: str, **kw: bool) -> None:
    with text_output(str(path), **kw) as fp:
        fp.write(text)


def _names(d: Path) -> list[str]:
    return sorted(p.name for p in d.iterdir())


# -- regular files ------------------------------------------------------------------------


def test_new_file_gets_umask_permissions_and_no_temporary(tmp_path: Path) -> None:
    out = tmp_path / "r.txt"
    old = os.umask(0o027)
    try:
        _write(out, "hello\n")
    finally:
        os.umask(old)
    assert out.read_text() == "hello\n"
    assert stat.S_IMODE(out.stat().st_mode) == 0o640
    assert _names(tmp_path) == ["r.txt"]


@pytest.mark.parametrize("unnamed", [True, False], ids=["O_TMPFILE", "named-temporary"])
def test_replacing_keeps_the_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, unnamed: bool
) -> None:
    if not unnamed:
        monkeypatch.setattr(_files, "_unnamed", lambda d: None)
    out = tmp_path / "r.txt"
    out.write_text("old")
    out.chmod(0o600)
    _write(out, "new")
    assert out.read_text() == "new"
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert _names(tmp_path) == ["r.txt"]


def test_replacing_keeps_owner_and_group_as_root(tmp_path: Path) -> None:
    needs_root()
    out = tmp_path / "r.txt"
    out.write_text("old")
    os.chown(out, OTHER_UID, OTHER_UID)
    out.chmod(0o640)
    _write(out, "new")
    st = out.stat()
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (OTHER_UID, OTHER_UID, 0o640)
    assert out.read_text() == "new"


def _linkat_empty_path(src: str, dst: str, *, follow_symlinks: bool = True) -> None:
    """``os.link('/proc/self/fd/N', dst)`` done with linkat(AT_EMPTY_PATH), which works
    as root where the /proc route does not (some sandboxes answer EXDEV)."""
    import ctypes

    fd = int(src.rsplit("/", 1)[1])
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.linkat(fd, b"", -100, os.fsencode(dst), 0x1000) != 0:  # AT_FDCWD, AT_EMPTY_PATH
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err), dst)


@pytest.mark.parametrize("how", ["link", "copy"])
def test_the_unnamed_temporary_is_published_by_link_or_by_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    calls: list[str] = []
    if how == "link":
        needs_root()
        real = _linkat_empty_path
    else:

        def real(src: str, dst: str, *, follow_symlinks: bool = True) -> None:
            raise OSError(18, "Invalid cross-device link")

    def link(src: str, dst: str, *, follow_symlinks: bool = True) -> None:
        calls.append(dst)
        real(src, dst, follow_symlinks=follow_symlinks)

    monkeypatch.setattr(_files.os, "link", link)
    out = tmp_path / "r.txt"
    out.write_text("old")
    out.chmod(0o604)
    _write(out, "new content\n" * 10_000)
    assert len(calls) == 1 and calls[0].startswith(str(tmp_path / ".r.txt."))
    assert out.read_text() == "new content\n" * 10_000
    assert stat.S_IMODE(out.stat().st_mode) == 0o604
    assert _names(tmp_path) == ["r.txt"]


def test_a_hard_linked_file_is_refused_unless_forced(tmp_path: Path) -> None:
    out, other = tmp_path / "r.txt", tmp_path / "backup.txt"
    out.write_text("old")
    os.link(out, other)
    with pytest.raises(CaptureError, match=r"2 hard links.*--force"):
        check_output(str(out))
    with pytest.raises(CaptureError, match="hard links"):
        _write(out, "new")
    assert out.read_text() == other.read_text() == "old"
    _write(out, "new", force=True)  # this name only
    assert (out.read_text(), other.read_text()) == ("new", "old")
    assert out.stat().st_nlink == 1


def test_failure_in_the_middle_keeps_the_old_file(tmp_path: Path) -> None:
    out = tmp_path / "r.txt"
    out.write_text("old")
    with pytest.raises(RuntimeError), text_output(str(out)) as fp:
        fp.write("half")
        raise RuntimeError("the exporter broke")
    assert out.read_text() == "old"
    assert _names(tmp_path) == ["r.txt"]


def test_errors_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(CaptureError, match=r"cannot write .*: no such directory"):
        check_output(str(tmp_path / "missing" / "r.txt"))
    with pytest.raises(CaptureError, match="is a directory"):
        check_output(str(tmp_path))


# -- symlinks -----------------------------------------------------------------------------


def test_own_symlink_is_followed_and_stays_a_link(tmp_path: Path) -> None:
    target = tmp_path / "real.txt"
    target.write_text("old")
    target.chmod(0o604)
    link = tmp_path / "link.txt"
    link.symlink_to("real.txt")
    _write(link, "new")
    assert link.is_symlink() and target.read_text() == "new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o604


def _shared_dir(tmp_path: Path) -> Path:
    d = tmp_path / "shared"
    d.mkdir()
    d.chmod(0o1777)  # like /tmp
    return d


def test_a_symlink_planted_in_a_shared_directory_is_not_followed(tmp_path: Path) -> None:
    needs_root()
    shared = _shared_dir(tmp_path)
    victim = tmp_path / "victim"
    victim.write_text("precious")
    link = shared / "report.html"
    link.symlink_to(victim)
    os.lchown(link, OTHER_UID, OTHER_UID)  # planted by another user
    for force in (False, True):
        with pytest.raises(CaptureError, match=r"not following the symbolic link.*uid 4242"):
            _write(link, "root's report", force=force)
    assert victim.read_text() == "precious" and link.is_symlink()


def test_a_file_of_another_user_in_a_shared_directory_needs_force(tmp_path: Path) -> None:
    needs_root()
    shared = _shared_dir(tmp_path)
    planted = shared / "report.html"
    planted.write_text("planted")
    os.chown(planted, OTHER_UID, OTHER_UID)
    with pytest.raises(CaptureError, match=r"belongs to uid 4242 .*--force"):
        _write(planted, "root's report")
    assert planted.read_text() == "planted"
    _write(planted, "root's report", force=True)
    assert planted.read_text() == "root's report"


def test_live_outputs_never_follow_symlinks(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious")
    link = tmp_path / "live.json"
    link.symlink_to(victim)
    with pytest.raises(CaptureError, match="symbolic link, and live capture never follows"):
        Output(str(link), follow_symlinks=False)
    with pytest.raises(CaptureError, match="symbolic link, and live capture never follows"):
        open_in_place(str(link))
    assert victim.read_text() == "precious"


# -- in place (live pcaps) ----------------------------------------------------------------


def test_open_in_place_truncates_only_our_single_link_file(tmp_path: Path) -> None:
    own = tmp_path / "own.pcap"
    own.write_bytes(b"old capture")
    with open_in_place(str(own)) as fp:
        fp.write(b"new")
    assert own.read_bytes() == b"new"
    linked, other = tmp_path / "linked.pcap", tmp_path / "elsewhere"
    other.write_bytes(b"precious")
    os.link(other, linked)
    with pytest.raises(CaptureError, match="hard links"):
        open_in_place(str(linked))
    assert other.read_bytes() == b"precious"


def test_open_in_place_never_truncates_a_file_planted_in_a_shared_directory(
    tmp_path: Path,
) -> None:
    needs_root()
    planted = _shared_dir(tmp_path) / "sip.pcap"
    planted.write_bytes(b"precious")
    os.chown(planted, OTHER_UID, OTHER_UID)
    with pytest.raises(CaptureError, match="belongs to uid 4242"):
        open_in_place(str(planted))
    assert planted.read_bytes() == b"precious"


# -- devices, FIFOs, descriptors ------------------------------------------------------------


def _read_fifo(path: Path, into: list[bytes]) -> threading.Thread:
    def run() -> None:
        with open(path, "rb") as fp:
            into.append(fp.read())

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def test_a_fifo_is_written_not_replaced(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = _read_fifo(fifo, got)
    _write(fifo, "through the pipe\n")
    reader.join(10)
    assert got == [b"through the pipe\n"]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert _names(tmp_path) == ["pipe"]


def test_a_descriptor_alias_writes_to_the_descriptor(tmp_path: Path) -> None:
    # /dev/fd/N and /proc/self/fd/N name our own descriptor: it is duplicated, so an
    # appending descriptor keeps appending (what `-o /dev/stdout >> log` needs).
    log = tmp_path / "log"
    log.write_text("first\n")
    fd = os.open(log, os.O_WRONLY | os.O_APPEND)
    try:
        for name in (f"/dev/fd/{fd}", f"/proc/self/fd/{fd}"):
            _write(name, f"via {name}\n")
    finally:
        os.close(fd)
    assert log.read_text() == f"first\nvia /dev/fd/{fd}\nvia /proc/self/fd/{fd}\n"
    assert _names(tmp_path) == ["log"]


def test_block_devices_are_refused(tmp_path: Path) -> None:
    needs_root()
    disk = tmp_path / "disk"
    os.mknod(disk, 0o600 | stat.S_IFBLK, os.makedev(7, 250))  # an unused loop minor
    with pytest.raises(CaptureError, match="block device"):
        check_output(str(disk))


# -- signals ------------------------------------------------------------------------------

_DIE_WHILE_WRITING = """
import os, signal, sys, time
sys.path.insert(0, {root!r})
from sipsniff.cli import _files
if {named!r}:
    _files._unnamed = lambda d: None  # the named-temporary fallback
sig = getattr(signal, {sig!r})
with _files.cleanup_on_signals():
    with _files.text_output({out!r}) as fp:
        fp.write("half a report" * 1000)
        fp.flush()
        os.kill(os.getpid(), sig)
        time.sleep(10)  # the signal arrives here
        fp.write("the rest")
print("not reached")
"""


_CAUGHT = ["SIGTERM", "SIGHUP", "SIGINT", "SIGQUIT", "SIGUSR1"]


# Nothing can clean up after SIGKILL: only the unnamed temporary (O_TMPFILE) survives it.
@pytest.mark.parametrize(
    ("sig", "named"),
    [(s, n) for s in _CAUGHT for n in (False, True)] + [("SIGKILL", False)],
    ids=lambda v: ("named-temporary" if v else "O_TMPFILE") if isinstance(v, bool) else v,
)
@pytest.mark.parametrize("existing", [False, True], ids=["new", "replacing"])
def test_any_signal_while_writing_leaves_the_old_file_or_none(
    tmp_path: Path, sig: str, named: bool, existing: bool
) -> None:
    out = tmp_path / "out" / "report.html"
    out.parent.mkdir()
    if existing:
        out.write_text("the previous report")
    code = _DIE_WHILE_WRITING.format(root=str(ROOT), named=named, sig=sig, out=str(out))
    r = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert "not reached" not in r.stdout
    # died of the signal (KeyboardInterrupt too: Python re-raises SIGINT at exit)
    assert r.returncode == -getattr(signal, sig), r.stderr
    assert _names(out.parent) == (["report.html"] if existing else [])
    if existing:
        assert out.read_text() == "the previous report"


def test_ignored_signals_stay_ignored() -> None:
    """``nohup`` ignores SIGHUP: the command must keep running through a hangup."""
    old = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        with _files.cleanup_on_signals():
            assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
            assert signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    finally:
        signal.signal(signal.SIGHUP, old)
