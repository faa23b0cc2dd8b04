"""The terminal UI application: screens on a stack, a capture loading in a thread behind them.

Strategy: ``SipsniffApp`` owns one ``Session`` and pushes the call list; the
loader (``loader.load``) runs in a daemon thread and posts ``CallsLoaded``
batches and one ``LoadFinished``, which Textual delivers on the UI thread
(``post_message`` is thread-safe), so the list fills while the file is read
and no widget is touched off the UI thread.  Quitting sets the loader's stop
flag; the thread ends within a frame batch and never holds the exit up.

Rules:
- Every string from the wire reaches the screen as a ``rich.text.Text``
  built from ``render.safe.clean``; notifications are sent with
  ``markup=False``.
- Keys come from ``keys.KEYS``; ``?`` shows them for the current screen.
- SIGTERM, SIGHUP and SIGINT (``kill``, a closed terminal) end the app the way
  ``q`` does, so the terminal is restored; the exit status is then 128 + N.
- ``NO_COLOR`` is honoured by Textual itself (monochrome); every fact a colour
  carries is also in the text.
- Memory: every call with its messages (the ladder and the raw view need
  them) plus one ``CallRow`` per call.  Once loaded they are ``gc.freeze()``-d:
  a full collection over them took 1.4 s on a 170,000-message capture, and
  would otherwise land on some key press.  (While loading, the pipeline keeps
  the collector off, as it does for ``analyze``.)
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import signal
import threading
from pathlib import Path
from typing import ClassVar

from textual.app import App
from textual.binding import BindingType
from textual.message import Message

from ..analysis import AnalyzedCall
from . import keys
from .columns import SORTABLE
from .loader import BATCH_SECONDS, LoadResult, Progress, load
from .screens.call_list import CallListScreen
from .screens.call_view import CallViewScreen
from .screens.help import HelpScreen
from .screens.summary import SummaryScreen
from .session import Session

__all__ = ["CallsLoaded", "LoadFinished", "SipsniffApp"]

_SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)
"""Signals that end the app cleanly (terminal restored), exit status 128 + N."""


class CallsLoaded(Message):
    """A batch of finished calls from the loader (possibly empty: progress only)."""

    def __init__(self, calls: list[AnalyzedCall], progress: Progress) -> None:
        super().__init__()
        self.calls = calls
        self.progress = progress


class LoadFinished(Message):
    """The loader is done."""

    def __init__(self, result: LoadResult) -> None:
        super().__init__()
        self.result = result


class SipsniffApp(App[None]):
    """``sipsniff tui``: browse the calls of capture files."""

    TITLE = "sipsniff"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS: ClassVar[list[BindingType]] = [*keys.bindings("global")]
    CSS = """
    Screen { background: $background; }
    """

    def __init__(
        self,
        files: list[Path],
        *,
        query: str = "",
        failed_only: bool = False,
        ascii_only: bool = False,
        batch_seconds: float = BATCH_SECONDS,
    ) -> None:
        super().__init__()
        self.session = Session(files, ascii_only=ascii_only)
        st = self.session.store
        st.failed_only = failed_only
        if query:
            st.set_query(query)
        self._stop = threading.Event()
        self._batch_seconds = batch_seconds
        self._thread: threading.Thread | None = None
        self.list_screen = CallListScreen(self.session)

    # -- loading ------------------------------------------------------------------
    def on_mount(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in _SIGNALS:
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                # a signal ends the app like q does, so the terminal is restored
                loop.add_signal_handler(sig, self._terminate, sig)
        self.push_screen(self.list_screen)
        self._thread = threading.Thread(target=self._load, name="sipsniff-load", daemon=True)
        self._thread.start()

    def _load(self) -> None:
        try:
            load(
                self.session.files,
                lambda calls, progress: self.post_message(CallsLoaded(calls, progress)),
                lambda result: self.post_message(LoadFinished(result)),
                self._stop,
                batch_seconds=self._batch_seconds,
            )
        except Exception as exc:  # noqa: BLE001 - a bug must not leave the UI waiting forever
            st = self.session.stats
            self.post_message(
                LoadFinished(
                    LoadResult(
                        calls=[],
                        stats=st,
                        diagnostics=[],
                        error=f"internal error: {type(exc).__name__}: {exc}",
                    )
                )
            )

    def on_calls_loaded(self, message: CallsLoaded) -> None:
        self.session.progress = message.progress
        if message.calls:
            self.session.store.add(message.calls)
        self._changed()

    def on_load_finished(self, message: LoadFinished) -> None:
        r = message.result
        s = self.session
        if r.calls:
            s.store.replace(r.calls)
        s.result = r
        s.progress = Progress(
            bytes_read=s.progress.bytes_read,
            bytes_total=s.progress.bytes_total,
            frames=r.stats.frames or s.progress.frames,
            calls=len(s.store.rows),
            done=True,
        )
        if r.error:
            self.notify(r.error, title="capture", severity="warning", markup=False, timeout=10)
        self._changed()
        # The loaded calls live until the app ends: move them out of the collector's
        # reach, or each full collection rescans them (1.4 s for 170,000 messages).
        gc.freeze()
        self._warm(list(SORTABLE))

    def _warm(self, pending: list[str]) -> None:
        """Sort keys of one more column, then yield to keys and redraws (about 30 ms each
        on 27,000 calls), so no first sort on a column waits for them."""
        if pending:
            self.session.store.warm(pending.pop(0))
            self.set_timer(0.05, lambda: self._warm(pending))

    def _changed(self) -> None:
        self.list_screen.refresh_view()
        if isinstance(self.screen, SummaryScreen):
            self.screen.refresh_data()

    @property
    def loaded(self) -> bool:
        return self.session.loaded

    # -- global actions -----------------------------------------------------------
    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        which = (
            "call"
            if isinstance(self.screen, CallViewScreen)
            else "summary"
            if isinstance(self.screen, SummaryScreen)
            else "list"
        )
        self.push_screen(HelpScreen(which))

    def _terminate(self, sig: signal.Signals) -> None:
        self._stop.set()
        self.exit(return_code=128 + int(sig))

    async def action_quit(self) -> None:
        self._stop.set()
        self.exit()

    def on_unmount(self) -> None:
        self._stop.set()
