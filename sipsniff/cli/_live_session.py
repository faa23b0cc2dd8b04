"""The loop of ``sipsniff live``: capture, pcap, pipeline, screen, keys, events, report.

Strategy: one loop in the main thread reads batches of frames from the
capture, writes them to the pcap, feeds the same ``Pipeline`` the file path
uses, and every quarter of a second redraws the dashboard; keys come from a
thread reading the terminal in cbreak mode.  The pipeline's clock is the
packets' own, so when the line is quiet the loop advances it with the wall
clock (less a second of slack for packets still in the kernel's queue) and
calls that ended are published on time.

Rules:
- Signals only set ``Stop``: the loop then drains the capture, finishes the
  pipeline, closes the pcap and writes the report, so every file is complete.
  A second Ctrl-C aborts at once; further signals are ignored so that the
  abort's cleanup runs to its end.  Every signal ends with complete files or
  none: pcaps hold whole records (one write per record, closed on the way
  out), and the report is published only when complete (``_files.Output``:
  written unnamed, renamed into place), so an abort leaves the previous report
  or no file, never a 0-byte or half one.
- A report in a streaming format (JSON, NDJSON) receives each call as it
  ends, so memory stays flat; other formats keep the calls until the end.
- Output paths are never followed through a symlink (root, for hours, in
  /tmp): see ``_files.py``.
- NDJSON events keep wire text exactly but write the characters that reorder
  or hide text as ``\\u`` escapes (``safe.json_inert``).
"""

from __future__ import annotations

import json
import os
import queue
import select
import signal
import sys
import threading
import time
from pathlib import Path
from types import FrameType
from typing import IO, Any

from rich.console import Console
from rich.live import Live
from rich.text import Text

from ..analysis import Analysis, AnalyzedCall
from ..annotate.annotation import Annotation
from ..annotate.knowledge import Severity
from ..capture.frame import Frame
from ..capture.live import DEFAULT_FILTER, LiveCapture
from ..diagnostics import CaptureError, Diagnostic
from ..pipeline import Pipeline
from ..render.json_report import annotation_json, call_json, message_json
from ..render.safe import clean, json_inert
from ..render.summary import STATE_STYLE, status_style
from ..sip.message import SipMessage
from ._common import DiagnosticPrinter
from ._files import Output
from ._live_view import Header, LiveCalls, LiveRow, UiState, dashboard, ladder_screen
from ._pcap_out import PcapOut

__all__ = ["Events", "Keys", "ReportOut", "Session", "Stop", "split_keys"]

_REFRESH_S = 0.25
_TICK_S = 0.5
# Packets can wait in the kernel's queue while a frame is drawn: the wall
# clock that expires idle calls runs this far behind, so no call is published
# before its last queued packet has been read.
_TICK_SLACK_NS = 1_000_000_000
# Calls a non-streaming report keeps until the capture ends (each with its
# messages, a few kB): beyond this, calls are counted in the summary only.
MAX_KEPT_FOR_REPORT = 200_000


class Stop:
    """Why the capture ends: set by a limit, a key, or a signal."""

    def __init__(self) -> None:
        self.reason = ""
        self.signals = 0
        self.aborted = False

    def __call__(self, reason: str) -> None:
        if not self.reason:
            self.reason = reason

    def on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self.signals += 1
        if self.signals > 1 and signum == signal.SIGINT and not self.aborted:
            self.aborted = True  # once: a third Ctrl-C must not cut the cleanup short
            raise KeyboardInterrupt
        self(signal.Signals(signum).name)


class Keys:
    """Reads keys from the terminal in cbreak mode, in a thread, into a queue."""

    def __init__(self, stream: IO[str]) -> None:
        import termios
        import tty

        self._fd = stream.fileno()
        self._saved = termios.tcgetattr(self._fd)
        tty.setcbreak(self._fd)
        self.queue: queue.SimpleQueue[str] = queue.SimpleQueue()
        self._wake_r, self._wake_w = os.pipe()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            ready, _, _ = select.select([self._fd, self._wake_r], [], [])
            if self._wake_r in ready:
                return
            try:
                data = os.read(self._fd, 64).decode("utf-8", "replace")
            except OSError:
                return
            if not data:
                return
            for key in split_keys(data):
                self.queue.put(key)

    def close(self) -> None:
        import termios

        os.write(self._wake_w, b"x")
        self._thread.join(1)
        termios.tcsetattr(self._fd, termios.TCSADRAIN, self._saved)
        os.close(self._wake_r)
        os.close(self._wake_w)


_ESCAPES = {
    "\x1b[A": "up",
    "\x1b[B": "down",
    "\x1b[5~": "pgup",
    "\x1b[6~": "pgdn",
    "\x1bOA": "up",
    "\x1bOB": "down",
}


def split_keys(data: str) -> list[str]:
    keys = []
    i = 0
    while i < len(data):
        for seq, name in _ESCAPES.items():
            if data.startswith(seq, i):
                keys.append(name)
                i += len(seq)
                break
        else:
            ch = data[i]
            keys.append(
                {"\x1b": "esc", "\r": "enter", "\n": "enter", "k": "up", "j": "down"}.get(ch, ch)
            )
            i += 1
    return keys


class Events:
    """NDJSON events on stdout: capture, message, call-update, call, annotation, drops, summary."""

    def __init__(self, out: IO[str], failed_only: bool) -> None:
        self._out = out
        self.failed_only = failed_only
        self.broken = False

    def emit(self, obj: dict[str, Any]) -> None:
        if self.broken:
            return
        try:
            line = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
            self._out.write(json_inert(line) + "\n")
        except BrokenPipeError:
            self.broken = True

    def flush(self) -> None:
        if not self.broken:
            try:
                self._out.flush()
            except BrokenPipeError:
                self.broken = True


class Session:
    """Everything one ``sipsniff live`` run holds; ``run`` is the loop."""

    def __init__(self, cap: LiveCapture, opts: dict[str, Any], console: Console) -> None:
        self.cap = cap
        self.opts = opts
        self.console = console
        self.model = LiveCalls()
        self.ui = UiState(failed_only=opts["failed"])
        self.stop = Stop()
        self.frames = 0
        self.warnings = 0
        self.last_dropped = 0
        self.start = time.monotonic()
        self.started_ns = time.time_ns()
        self.json = Events(sys.stdout, opts["failed"]) if opts["json"] else None
        self.printer = DiagnosticPrinter(100, quiet=False) if not opts["json"] else None
        self.pcap: PcapOut | None = None
        if opts["write_pcap"]:
            self.pcap = PcapOut(Path(opts["write_pcap"]), cap.linktype, opts["rotate"])
        self.report: ReportOut | None = None
        if opts["report"]:
            self.report = ReportOut(Path(opts["report"]), opts["report_exporter"])
        self.pipe = Pipeline(on_message=self._on_message, on_diagnostic=self._on_diag)
        self.pipe.stats.sources = [f"{cap.iface} (live, {cap.engine})"]
        self.log_mode = not opts["json"] and not opts["dashboard"]
        self.error: CaptureError | None = None

    # -- pipeline callbacks ------------------------------------------------------------
    def _on_message(self, m: SipMessage) -> None:
        row = self.model.on_message(m)
        ev = self.json
        if ev is not None and not ev.failed_only:
            ev.emit({"type": "message", **message_json(m)})
        if row is None:
            return
        if m.status >= 400 and m.cseq_method == row.method and row.code == m.status:
            self.model.error_response(row, m)
        if ev is not None and (not ev.failed_only or row.failed):
            ev.emit(
                {
                    "type": "call-update",
                    "call_id": row.call_id,
                    "state": row.state,
                    "code": row.code or None,
                    "last": row.label,
                    "from_user": row.from_user,
                    "to_user": row.to_user,
                    "time": m.ts_ns / 1e9,
                    "frame": m.frame,
                }
            )

    def _on_diag(self, d: Diagnostic) -> None:
        self.warnings += 1
        if self.json is not None:
            self.json.emit(
                {
                    "type": "diagnostic",
                    "frame": d.frame,
                    "stage": d.stage.value,
                    "trigger": d.trigger.value,
                    "detail": d.detail,
                }
            )
        elif self.log_mode and self.printer is not None:
            self.printer(d)

    def _finished(self, ac: AnalyzedCall) -> None:
        row = self.model.finished(ac)
        c = ac.call
        if self.report is not None:
            self.report.add(ac)
        ev = self.json
        if ev is not None and (not ev.failed_only or c.failed):
            for a in ac.annotations:
                self._emit_annotation(c.call_id, a)
            ev.emit({"type": "call", **call_json(ac)})
        if self.log_mode and (not self.ui.failed_only or c.failed):
            self._log_call(row, ac)

    def _emit_annotation(self, call_id: str, a: Annotation) -> None:
        if self.json is not None:
            self.json.emit({"type": "annotation", "call_id": call_id, **annotation_json(a)})

    def _log_call(self, row: LiveRow, ac: AnalyzedCall) -> None:
        c = ac.call
        t = Text()
        t.append(f"{c.kind.value:12} ")
        t.append(f"{c.state.value:10}", style=STATE_STYLE[c.state])
        t.append(f" {c.final_status or '-':>3}", style=status_style(c.final_status))
        t.append(f"  {clean(row.from_user, 40)} → {clean(row.to_user, 40)}  ")
        t.append(clean(c.call_id, 100), style="dim")
        for a in ac.annotations:
            if a.severity > Severity.INFO or c.failed:
                t.append(f"  [{a.rule}] {clean(a.title, 200)}")
        self.console.print(t, soft_wrap=True)  # one line per call, however long

    # -- the loop ----------------------------------------------------------------------
    def feed(self, frames: list[Frame], *, limits: bool = True) -> None:
        pipe = self.pipe
        st = pipe.stats
        count = self.opts["count"]
        for fr in frames:
            if self.pcap is not None:
                self.pcap.write(fr)
            self.frames += 1
            if not st.first_ts_ns:
                st.first_ts_ns = fr.ts_ns
            st.last_ts_ns = max(st.last_ts_ns, fr.ts_ns)
            for ac in pipe.feed(fr):
                self._finished(ac)
            if limits and count and self.model.messages >= count:
                self.stop("count")
                return
        if limits and self.opts["calls"] and self.model.calls_done >= self.opts["calls"]:
            self.stop("calls")

    def tick(self) -> None:
        """Advance the pipeline's clock by the wall clock while the line is quiet."""
        now = time.time_ns() - _TICK_SLACK_NS
        if now <= self.pipe.stats.last_ts_ns:
            return
        for ac in self.pipe.tick(now):
            self._finished(ac)
        if self.opts["calls"] and self.model.calls_done >= self.opts["calls"]:
            self.stop("calls")

    def poll_drops(self) -> None:
        dropped = self.cap.poll_stats().dropped
        if dropped != self.last_dropped:
            self.last_dropped = dropped
            if self.json is not None:
                self.json.emit(
                    {
                        "type": "drops",
                        "kernel_dropped": dropped,
                        "received": self.cap.stats.received,
                    }
                )

    def header(self) -> Header:
        return Header(
            iface=self.cap.iface,
            engine=self.cap.engine,
            bpf=self.cap.bpf,
            default_filter=self.cap.bpf == DEFAULT_FILTER,
            elapsed=time.monotonic() - self.start,
            packets=self.frames,
            dropped=self.last_dropped,
            warnings=self.warnings,
            pcap=self.pcap.describe() if self.pcap is not None else "",
            now_ns=time.time_ns(),
        )

    def screen(self) -> Any:
        ui = self.ui
        if ui.ladder is not None:
            row = self.model.find(ui.ladder)
            if row is not None:
                ac = self.model.analyzed(row, time.time_ns())
                return ladder_screen(ac, ui, self.console)
            ui.ladder = None
        return dashboard(self.model, ui, self.header(), self.console)

    def key(self, k: str) -> None:
        ui = self.ui
        if k == "q":
            self.stop("quit")
        elif ui.ladder is not None:
            if k in ("l", "enter", "esc"):
                ui.ladder = None
            elif k in ("up", "down", "pgup", "pgdn"):
                step = {"up": -1, "down": 1, "pgup": -10, "pgdn": 10}[k]
                ui.scroll = max(0, ui.scroll + step)
        elif k == "f":
            ui.failed_only = not ui.failed_only
        elif k in ("l", "enter"):
            target = ui.selected
            if target is None:
                row = self.model.latest_failed()
                target = row.call_id if row is not None else (ui.visible[0] if ui.visible else None)
            ui.ladder = target
            ui.scroll = 0
        elif k in ("up", "down") and ui.visible:
            if ui.selected is None:
                ui.selected = ui.visible[0]
            else:
                i = ui.visible.index(ui.selected) + (1 if k == "down" else -1)
                ui.selected = ui.visible[max(0, min(i, len(ui.visible) - 1))]
        elif k == "esc":
            ui.selected = None

    def run(self, live: Live | None, keys: Keys | None) -> None:
        """Capture until a limit, a key or a signal says stop."""
        opts = self.opts
        duration = opts["duration"]
        last_tick = last_draw = last_drops = last_flush = 0.0
        timeout = 0.05 if live is not None else 0.2
        while not self.stop.reason:
            try:
                frames = self.cap.read(timeout)
            except CaptureError as exc:
                self.error = exc
                self.stop("error")
                break
            if frames:
                self.feed(frames)
            now = time.monotonic()
            if duration and now - self.start >= duration:
                self.stop("duration")
            if now - last_tick >= _TICK_S:
                last_tick = now
                self.tick()
            if now - last_drops >= 1.0:
                last_drops = now
                self.poll_drops()
            if now - last_flush >= 1.0:
                last_flush = now
                if self.pcap is not None:
                    self.pcap.flush()
            pressed = False
            if keys is not None:
                while True:
                    try:
                        self.key(keys.queue.get_nowait())
                        pressed = True
                    except queue.Empty:
                        break
            if live is not None and (pressed or now - last_draw >= _REFRESH_S):
                last_draw = now
                live.update(self.screen(), refresh=True)
            if self.json is not None:
                self.json.flush()
                if self.json.broken:
                    self.stop("stdout closed")

    def finish(self) -> None:
        """Drain the capture, flush the pipeline, close the pcap and write the report.

        Interrupted (a second Ctrl-C), it still closes the capture and the pcap
        (whole records) and drops the unfinished report.
        """
        try:
            if self.stop.reason != "count":
                try:
                    self.feed(self.cap.stop(), limits=False)
                except CaptureError as exc:
                    self.error = self.error or exc
            self.cap.close()
            self.poll_drops()
            for ac in self.pipe.finish():
                self._finished(ac)
            late = self.pipe.late_annotations
            for call_id, anns in late.items():
                for a in anns:
                    self._emit_annotation(call_id, a)
            if self.pcap is not None:
                self.pcap.close()
            if self.report is not None:
                self.report.close(self.pipe)
        finally:
            self.cap.close()
            if self.pcap is not None:
                self.pcap.close()
            if self.report is not None:
                self.report.abort()  # nothing once published


class ReportOut:
    """``--report FILE``: the exporter chosen by the file's suffix, fed call by call.

    The file is an ``_files.Output`` that never follows a symlink: a streaming
    report is written unnamed from the start and published by ``close``; any
    other format is written at ``close``.  ``abort`` drops it.
    """

    def __init__(self, path: Path, exporter: Any) -> None:
        from ..render.registry import StreamingExporter

        self.path = path
        self.exporter = exporter
        self.kept: list[AnalyzedCall] = []
        self.overflow = 0
        self._out: Output | None = None
        self._sink: Any = None
        if isinstance(exporter, StreamingExporter):
            self._out = self._open()
            self._sink = exporter.stream(self._out.stream)

    def _open(self) -> Output:
        return Output(str(self.path), follow_symlinks=False)

    def add(self, ac: AnalyzedCall) -> None:
        if self._sink is not None:
            self._sink.add(ac)
        elif len(self.kept) < MAX_KEPT_FOR_REPORT:
            self.kept.append(ac)
        else:
            self.overflow += 1

    def close(self, pipe: Pipeline) -> None:
        """Write (or end) the report, cross-call annotations included."""
        if self._sink is not None and self._out is not None:
            self._sink.close(pipe.stats, pipe.diagnostics, pipe.late_annotations)
            self._out.commit()
            return
        calls = sorted(pipe.attach_late(self.kept), key=lambda ac: ac.call.start_ns)
        analysis = Analysis(
            calls=tuple(calls), stats=pipe.stats, diagnostics=tuple(pipe.diagnostics)
        )
        self._out = self._open()
        with self._out as fp:
            self.exporter.write(analysis, fp)

    def abort(self) -> None:
        """Drop a report not yet published (the previous file, if any, stays)."""
        if self._out is not None:
            self._out.abort()
