"""Output files the commands write (``report -o``, ``--write-pcap``, ``live --report``).

Why: sipsniff runs as root (live capture) and in shared directories such as
/tmp, its outputs are named by users, and a signal can stop it at any moment.
A plain ``open(path, "w")`` follows a symlink planted in /tmp onto a system
file and truncates it; a temporary file renamed over the target turns
``/dev/null`` into a regular file and sends nothing to ``/dev/stdout``; a kill
between the two leaves a hidden temporary behind.  Every output goes through
here, so the rules hold in one place.

Rules (``report --help`` and ``live --help`` say the same to users):
1. ``-`` is stdout.
2. A character device or a FIFO (``/dev/null``, a terminal, a named pipe), and a
   name of one of our own descriptors (``/dev/stdout``, ``/dev/fd/N``,
   ``/proc/self/fd/N``: the descriptor is duplicated, so ``>> log`` appends), is
   written directly: it cannot be replaced, only written.  Block devices,
   directories and sockets are refused.
3. A regular file is replaced atomically: the new content goes to an unnamed
   file in the same directory (``O_TMPFILE``; where the file system lacks it, a
   hidden ``.NAME.XXXX.tmp``) that is linked and renamed over the target only
   when complete and synced.  Readers see the old file or the new one, never
   half of one; a failure, Ctrl-C or any signal leaves the old file as it was,
   and with ``O_TMPFILE`` not even SIGKILL leaves a stray file.
4. The replacement keeps the permission bits of the file it replaces, and its
   owner and group when the process may set them (as root; a user keeps the
   group if they belong to it).  A new file gets 0666 minus the umask.
5. A regular file with several hard links is refused unless ``force``: renaming
   over it would detach this name from the others (which keep the old
   content), and rewriting it in place would change every name, backups
   included, and could not be atomic.  With ``force`` this name is replaced.
6. In a shared directory (sticky and world-writable, like /tmp) an entry that
   belongs to someone else than us and the directory's owner is refused: a
   symlink is not followed (as Linux's ``fs.protected_symlinks``), a file or
   FIFO is not written (``protected_regular``, ``protected_fifos``), whatever
   the sysctls say, so a name planted there cannot redirect or capture a root
   run's output.  ``force`` overrides this for files, never for symlinks.
7. ``follow_symlinks=False`` (``live``: root, for hours, often in /tmp) refuses
   any symlink; files written as they grow (live pcaps) are opened with
   ``O_NOFOLLOW`` and never truncated unless they pass rules 5 and 6.

Signals: :func:`cleanup_on_signals` turns SIGTERM, SIGHUP and the other
terminating signals into an exception while a command writes, so the cleanup
of rule 3 runs, then the process dies of that signal as it would have.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import re
import secrets
import signal
import stat
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from types import FrameType, TracebackType
from typing import IO, Any, BinaryIO, TextIO, cast

from ..diagnostics import CaptureError

__all__ = [
    "Output",
    "Terminated",
    "binary_output",
    "check_output",
    "cleanup_on_signals",
    "open_in_place",
    "text_output",
]

_MAX_HOPS = 40
"""Symlinks followed before giving up (Linux's MAXSYMLINKS)."""
_FD_ALIAS = re.compile(r"/(?:dev/fd|proc/(self|thread-self|\d+)(?:/task/\d+)?/fd)/(\d+)")
_STD_ALIAS = {"/dev/stdout": 1, "/dev/stderr": 2}


@dataclass(frozen=True, slots=True)
class _Plan:
    kind: str
    """``stdout``, ``fd`` (one of our descriptors), ``direct`` (device, FIFO),
    ``new`` or ``replace`` (a regular file, atomically)."""
    path: str
    """What is opened or replaced (a followed symlink's target)."""
    st: os.stat_result | None = None
    """The file replaced (``replace``)."""
    fd: int = -1


def _error(path: str, why: str) -> CaptureError:
    return CaptureError(f"cannot write {path}: {why}")


def _os_error(path: str, exc: OSError) -> CaptureError:
    return _error(path, exc.strerror or str(exc))


def _fd_alias(path: str) -> int | None:
    """The descriptor that ``path`` names in this process, if it names one."""
    if path in _STD_ALIAS:
        return _STD_ALIAS[path]
    m = _FD_ALIAS.fullmatch(path)
    if m is None:
        return None
    who = m.group(1)
    if who is None or who in ("self", "thread-self") or int(who) == os.getpid():
        return int(m.group(2))
    return None


def _foreign(path: str, st: os.stat_result) -> str:
    """Why ``path`` must not be used (rule 6), or ``''``."""
    parent = os.path.dirname(path) or "."
    try:
        dst = os.stat(parent)
    except OSError:
        return ""
    shared = dst.st_mode & stat.S_ISVTX and dst.st_mode & stat.S_IWOTH
    if not shared or st.st_uid in (os.geteuid(), dst.st_uid):
        return ""
    return f"it belongs to uid {st.st_uid} in the shared directory {parent}"


def _plan(path: str, *, force: bool, follow_symlinks: bool) -> _Plan:
    if path == "-":
        return _Plan("stdout", path)
    if not path:
        raise _error("''", "empty file name")
    absolute = os.path.abspath(path)
    # Directories on the way are taken as the kernel resolves them; only the
    # last component is examined, link by link.
    cur = os.path.join(os.path.realpath(os.path.dirname(absolute)), os.path.basename(absolute))
    for _ in range(_MAX_HOPS):
        fd = _fd_alias(cur)
        if fd is not None:
            return _Plan("fd", cur, fd=fd)
        try:
            st = os.lstat(cur)
        except FileNotFoundError:
            parent = os.path.dirname(cur)
            if not os.path.isdir(parent):
                raise _error(path, f"no such directory {parent}") from None
            return _Plan("new", cur)
        except OSError as exc:
            raise _os_error(path, exc) from exc
        if not stat.S_ISLNK(st.st_mode):
            break
        if not follow_symlinks:
            raise _error(path, "it is a symbolic link, and live capture never follows links")
        why = _foreign(cur, st)
        if why:
            raise _error(path, f"not following the symbolic link {cur}: {why}")
        target = os.readlink(cur)
        nxt = os.path.join(os.path.dirname(cur), target)
        cur = os.path.join(os.path.realpath(os.path.dirname(nxt)), os.path.basename(nxt))
    else:
        raise _error(path, "too many levels of symbolic links")
    mode = st.st_mode
    if stat.S_ISREG(mode):
        if not force:
            # live has no --force: its refusals say what to do without it
            hint = " (pass --force to replace it)" if follow_symlinks else ""
            if st.st_nlink > 1:
                raise _error(
                    path,
                    f"it has {st.st_nlink} hard links; replacing it would leave the other "
                    "names with the old content (remove it first"
                    + (", or pass --force to replace this name only)" if hint else ")"),
                )
            why = _foreign(cur, st)
            if why:
                raise _error(path, why + hint)
        return _Plan("replace", cur, st=st)
    if stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
        why = _foreign(cur, st)
        if why:
            raise _error(path, why)
        return _Plan("direct", cur)
    if stat.S_ISDIR(mode):
        raise _error(path, "it is a directory")
    if stat.S_ISBLK(mode):
        raise _error(path, "it is a block device (a disk): refusing to write onto it")
    raise _error(path, "it is a socket or another special file that cannot be written")


def check_output(path: str, *, force: bool = False, follow_symlinks: bool = True) -> None:
    """Check before a long run that ``path`` can be written by the rules above.

    Raises:
        CaptureError: it cannot, with the reason.
    """
    _plan(path, force=force, follow_symlinks=follow_symlinks)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _unnamed(directory: str) -> int | None:
    """An ``O_TMPFILE`` descriptor in ``directory``, or None where it is not supported."""
    flag = getattr(os, "O_TMPFILE", 0)
    if not flag or not os.path.isdir("/proc/self/fd"):  # linked through /proc at the end
        return None
    try:
        # readable too: where it cannot be linked, commit copies it to a named file
        return os.open(directory, flag | os.O_RDWR | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        if exc.errno in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL, errno.ENOENT):
            return None  # file system or kernel without O_TMPFILE (ENOENT: old kernels)
        raise


class Output:
    """One output, written so that it ends complete or not at all (see the rules above).

    Use as a context manager: the body writes ``stream``; a normal exit
    commits (publishes) the file, any exception, KeyboardInterrupt and
    :class:`Terminated` included, aborts it.
    """

    def __init__(
        self,
        path: str,
        *,
        binary: bool = False,
        force: bool = False,
        follow_symlinks: bool = True,
    ) -> None:
        self.name = path
        self._plan = plan = _plan(path, force=force, follow_symlinks=follow_symlinks)
        self._fd = -1
        self._tmp = ""
        """A named temporary to remove on abort."""
        self._unnamed = False
        self._done = False
        self._own_stream = True
        try:
            raw = self._open(plan)
        except BaseException as exc:
            if self._fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(self._fd)
            self._discard()
            if isinstance(exc, OSError):
                raise _os_error(path, exc) from exc
            raise
        self.stream: IO[Any]
        if plan.kind == "stdout":
            self._own_stream = False
            self.stream = sys.stdout.buffer if binary else sys.stdout
        elif binary:
            self.stream = raw
        else:
            self.stream = io.TextIOWrapper(raw, encoding="utf-8", newline="\n")

    def _open(self, plan: _Plan) -> BinaryIO:
        if plan.kind == "stdout":
            return cast(BinaryIO, sys.stdout.buffer)
        if plan.kind == "fd":
            for s in (sys.stdout, sys.stderr):  # what was printed before comes first
                with contextlib.suppress(Exception):
                    s.flush()
            self._fd = os.dup(plan.fd)
        elif plan.kind == "direct":
            self._fd = os.open(plan.path, os.O_WRONLY | os.O_NOCTTY | os.O_NOFOLLOW | os.O_CLOEXEC)
            now = os.fstat(self._fd).st_mode
            if not (stat.S_ISCHR(now) or stat.S_ISFIFO(now)):
                raise OSError(errno.EAGAIN, "it changed while being opened; try again")
        else:
            directory = os.path.dirname(plan.path)
            fd = _unnamed(directory)
            if fd is None:
                prefix = f".{os.path.basename(plan.path)}."
                fd, self._tmp = _mkstemp(directory, prefix)
            else:
                self._unnamed = True
            self._fd = fd
        return os.fdopen(self._fd, "wb", closefd=True)  # a readable O_TMPFILE fd too

    # -- the end ----------------------------------------------------------------------
    def commit(self) -> None:
        """Publish the output (flush; for a regular file: metadata, sync, rename).

        Raises:
            CaptureError: it could not be written.
        """
        if self._done:
            return
        plan = self._plan
        try:
            self._commit(plan)
        except BrokenPipeError:
            self.abort()
            raise
        except OSError as exc:
            self.abort()
            raise _os_error(self.name, exc) from exc
        except BaseException:
            self.abort()
            raise

    def _commit(self, plan: _Plan) -> None:
        self.stream.flush()
        if plan.kind in ("new", "replace"):
            fd = self._fd
            self._metadata(fd, plan.st)
            os.fsync(fd)
            if self._unnamed:
                self._name_unnamed(fd, plan)
            os.replace(self._tmp, plan.path)
            self._tmp = ""
        if self._own_stream:
            self.stream.close()
        self._done = True

    def _name_unnamed(self, fd: int, plan: _Plan) -> None:
        """Give the O_TMPFILE inode a (temporary) name beside the target.

        ``linkat`` through ``/proc/self/fd`` works on most systems; where it does
        not (EXDEV under some sandboxes, /proc without the magic links), the
        content is copied to a ``mkstemp`` file, which a signal's cleanup removes.
        """
        self._tmp = _temp_name(plan.path)  # named first: abort removes it
        try:
            os.link(f"/proc/self/fd/{fd}", self._tmp, follow_symlinks=True)
            return
        except OSError:
            self._tmp = ""
        directory, base = os.path.split(plan.path)
        tfd, self._tmp = _mkstemp(directory, f".{base}.")
        try:
            size = os.fstat(fd).st_size
            done = 0
            while done < size:
                n = os.copy_file_range(fd, tfd, size - done, done, done)
                if n == 0:
                    raise OSError(errno.EIO, "short copy of the temporary file")
                done += n
            self._metadata(tfd, plan.st)
            os.fsync(tfd)
        finally:
            os.close(tfd)

    @staticmethod
    def _metadata(fd: int, old: os.stat_result | None) -> None:
        if old is None:
            os.fchmod(fd, 0o666 & ~_umask())
            return
        if (old.st_uid, old.st_gid) != (os.geteuid(), os.getegid()):
            try:
                os.fchown(fd, old.st_uid, old.st_gid)
            except PermissionError:
                with contextlib.suppress(PermissionError):
                    os.fchown(fd, -1, old.st_gid)
        os.fchmod(fd, stat.S_IMODE(old.st_mode) & 0o777)

    def abort(self) -> None:
        """Drop the output: a file being replaced keeps its old content. Idempotent."""
        if self._done:
            return
        self._done = True
        if self._own_stream:
            with contextlib.suppress(OSError, ValueError):
                self.stream.close()
        self._discard()

    def _discard(self) -> None:
        if self._tmp:
            with contextlib.suppress(OSError):
                os.unlink(self._tmp)
            self._tmp = ""

    def __enter__(self) -> IO[Any]:
        return self.stream

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            self.commit()
            return
        self.abort()
        if isinstance(exc, OSError) and not isinstance(exc, BrokenPipeError):
            raise _os_error(self.name, exc) from exc


def _temp_name(target: str) -> str:
    d, base = os.path.split(target)
    return os.path.join(d, f".{base}.{secrets.token_hex(4)}.tmp")


def _mkstemp(directory: str, prefix: str) -> tuple[int, str]:
    import tempfile

    return tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=directory)


@contextlib.contextmanager
def text_output(
    path: str, *, force: bool = False, follow_symlinks: bool = True
) -> Iterator[TextIO]:
    """:class:`Output` as UTF-8 text with ``\\n`` line ends."""
    with Output(path, force=force, follow_symlinks=follow_symlinks) as fp:
        yield cast(TextIO, fp)


@contextlib.contextmanager
def binary_output(path: str, *, force: bool = False) -> Iterator[BinaryIO]:
    """:class:`Output` as bytes (``--write-pcap``)."""
    with Output(path, binary=True, force=force) as fp:
        yield cast(BinaryIO, fp)


def open_in_place(path: str) -> BinaryIO:
    """A file written as it grows (a live pcap): never through a symlink, never a victim.

    Opened with ``O_NOFOLLOW`` and without ``O_TRUNC``; an existing regular
    file is truncated only when it passes rules 5 and 6 (ours, one link); a
    device or FIFO is written as it is.

    Raises:
        CaptureError: the path is a symlink, someone else's file, a hard link...
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_NOCTTY | os.O_CLOEXEC
    try:
        fd = os.open(path, flags, 0o666)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise _error(
                path, "it is a symbolic link, and live capture never follows links"
            ) from exc
        raise _os_error(path, exc) from exc
    try:
        st = os.fstat(fd)
        mode = st.st_mode
        why = _foreign(os.path.abspath(path), st)
        if why:
            raise _error(path, why)
        if stat.S_ISREG(mode):
            if st.st_nlink > 1:
                raise _error(
                    path, f"it has {st.st_nlink} hard links; remove it or choose another name"
                )
            os.ftruncate(fd, 0)
        elif not (stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)):
            raise _error(path, "it is not a regular file, a character device or a FIFO")
    except OSError as exc:
        os.close(fd)
        raise _os_error(path, exc) from exc
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "wb")


# -- signals ----------------------------------------------------------------------------


class Terminated(BaseException):
    """A terminating signal arrived; raised so that cleanups run, then re-delivered."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _terminating() -> list[signal.Signals]:
    names = "SIGHUP SIGTERM SIGQUIT SIGUSR1 SIGUSR2 SIGALRM SIGVTALRM SIGPROF SIGXCPU SIGIO SIGPWR"
    return [getattr(signal, n) for n in names.split() if hasattr(signal, n)]


@contextlib.contextmanager
def cleanup_on_signals() -> Iterator[None]:
    """While the body runs, a terminating signal raises :class:`Terminated` (SIGINT:
    KeyboardInterrupt) once, so every ``finally`` and :meth:`Output.abort` runs;
    later signals wait until the cleanup is over.  Then the process dies of the
    signal, as it would have without this (exit status 128+N in a shell).

    Signals already ignored (``nohup``) or handled by someone else are left alone.
    Outside the main thread this does nothing (Python handles signals there only).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    got: list[int] = []

    def handler(signum: int, _frame: FrameType | None) -> None:
        got.append(signum)
        if len(got) > 1:
            return  # already unwinding: let the cleanup finish
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        raise Terminated(signum)

    saved: dict[signal.Signals, Any] = {}
    for sig in [signal.SIGINT, *_terminating()]:
        current = signal.getsignal(sig)
        default = signal.default_int_handler if sig == signal.SIGINT else signal.SIG_DFL
        if current is default:
            saved[sig] = current
            signal.signal(sig, handler)

    def restore() -> None:
        for num, h in saved.items():
            signal.signal(num, h)
        saved.clear()

    try:
        yield
    except Terminated as t:
        restore()
        signal.signal(t.signum, signal.SIG_DFL)
        os.kill(os.getpid(), t.signum)
        raise SystemExit(128 + t.signum) from None  # the signal is blocked: exit as if
    finally:
        restore()
