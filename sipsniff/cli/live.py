"""``sipsniff live``: capture on an interface and diagnose calls while they happen.

Strategy: the options are checked (report format, rotation, output
directory) before the capture starts, so a typo never costs a capture; then
``Session`` (``_live_session.py``) runs the loop under a dashboard
(``_live_view.py``), an NDJSON stream, or one line per ended call, and the
final summary is printed when it stops.

Rules:
- Ctrl-C, SIGTERM and SIGHUP end cleanly: the summary is printed, the pcap
  files are complete, the report is written; the exit code is 0.
- A capture that cannot start is a ``CaptureError``: one line, exit 2.
- Without a terminal on stdout (and without ``--json``), one line per ended
  call is printed instead of the dashboard; without a terminal on stdin
  there are no keys.
- ``--write-pcap`` and ``--report`` never follow a symlink and never truncate
  someone else's file or a hard-linked one (``_files.py``: live runs as root,
  for hours, often in /tmp).  Their paths are checked before the capture
  starts, so a refusal costs no capture; a second Ctrl-C leaves complete pcaps
  and the report complete or absent.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.live import Live
from rich.text import Text

from ..capture.live import ENGINES, open_live
from ..diagnostics import CaptureError
from ..render.json_report import summary_json
from ..render.safe import clean
from ..render.summary import annotation_block, summary_view
from ._common import make_console
from ._files import check_output
from ._live_session import Keys, Session
from ._pcap_out import parse_rotate

__all__ = ["COMMANDS", "live"]

_EPILOG = """\b
Examples:
  sudo sipsniff live                          # default interface, SIP on any port
  sudo sipsniff live -i any --failed          # every interface, only failed calls
  sudo sipsniff live -i eth0 -f "port 5060 or port 5080" --write-pcap calls.pcap
  sudo sipsniff live -i eth0 --write-pcap /var/tmp/sip.pcap --rotate 100MB
  sudo sipsniff live --duration 60 --report sip-report.html
  sudo sipsniff live -i lo --json | jq 'select(.type=="annotation")'
  sudo sipsniff live --engine tshark -i eth0 --calls 10

\b
Keys: ↑/↓ select a call, l or Enter its ladder (the latest failed call when
none is selected), f failed calls only, q quit. Ctrl-C ends cleanly too.

\b
Files: --write-pcap and --report never follow a symbolic link (O_NOFOLLOW;
the link is refused) and never truncate a file of another user in a shared
directory such as /tmp, nor a file with several hard links: they are refused.
Your own file is overwritten; a FIFO or /dev/null is written as it is. The
pcap grows as packets come (readable up to the last second); the report
appears complete when the capture ends, or not at all if it is aborted (a
second Ctrl-C): the previous file then stays as it was.

\b
Without root: sudo setcap cap_net_raw,cap_net_admin=eip $(readlink -f $(which python3))
"""


def _positive(_ctx: click.Context, _param: click.Parameter, value: float | None) -> float | None:
    if value is not None and value <= 0:
        raise click.BadParameter("must be greater than 0")
    return value


def _exporter(path: str) -> Any:
    from ..render.registry import UnknownFormat, choose

    try:
        exporter = choose(None, path)
    except UnknownFormat as exc:
        raise click.BadParameter(str(exc), param_hint="--report") from exc
    parent = Path(path).resolve().parent
    if not parent.is_dir() or not os.access(parent, os.W_OK):
        raise click.BadParameter(f"cannot write in {parent}", param_hint="--report")
    _check(path, "--report")
    return exporter


def _check(path: str, option: str) -> None:
    """Refuse before the capture what ``_files`` would refuse when writing."""
    try:
        check_output(path, follow_symlinks=False)
    except CaptureError as exc:
        raise click.BadParameter(str(exc), param_hint=option) from exc


@click.command(epilog=_EPILOG)
@click.option(
    "-i",
    "--interface",
    "iface",
    metavar="IFACE",
    default=None,
    help="Interface to capture on (lo, eth0, any...). Default: the system's default "
    "capture device.",
)
@click.option(
    "-f",
    "--filter",
    "bpf",
    metavar="BPF",
    default=None,
    help="Capture filter in tcpdump syntax, applied in the kernel. Default: TCP, and "
    "UDP whose payload starts like SIP (on any port), and IP fragments; no RTP.",
)
@click.option(
    "--engine",
    type=click.Choice(ENGINES),
    default="scapy",
    show_default=True,
    help="scapy: a packet socket read directly; tshark: Wireshark's dumpcap.",
)
@click.option(
    "--duration",
    type=float,
    default=None,
    metavar="SECONDS",
    callback=_positive,
    help="Stop after this many seconds.",
)
@click.option(
    "--count",
    type=int,
    default=None,
    metavar="N",
    callback=_positive,
    help="Stop after N SIP messages.",
)
@click.option(
    "--calls",
    type=int,
    default=None,
    metavar="N",
    callback=_positive,
    help="Stop after N calls (INVITE dialogs) have ended; an ended call lingers "
    "5 s for retransmissions first.",
)
@click.option(
    "--write-pcap",
    type=click.Path(dir_okay=False),
    default=None,
    metavar="FILE",
    help="Save every captured packet to FILE (pcap, nanosecond timestamps). Never "
    "through a symlink, never over another user's file (see Files below).",
)
@click.option(
    "--rotate",
    default=None,
    metavar="SIZE|SECONDS",
    help="With --write-pcap: start a new file every SIZE (100MB, 1GiB) or SECONDS "
    "(300, 10min, 1h); files are named FILE_00001_YYYYmmddHHMMSS.pcap.",
)
@click.option(
    "--report",
    type=click.Path(dir_okay=False),
    default=None,
    metavar="FILE",
    help="When the capture ends, write a report of every call to FILE, in the format "
    "its suffix names (.html, .md, .txt, .json...), as `sipsniff report` does. It "
    "appears complete or not at all; never through a symlink (see Files below).",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Stream NDJSON events to stdout (capture, message, call-update, call, "
    "annotation, diagnostic, drops, summary) instead of the dashboard.",
)
@click.option("--failed", is_flag=True, help="Only failed calls (the f key toggles it).")
@click.option("--no-color", is_flag=True, help="No colours even on a terminal.")
def live(
    iface: str | None,
    bpf: str | None,
    engine: str,
    duration: float | None,
    count: int | None,
    calls: int | None,
    write_pcap: str | None,
    rotate: str | None,
    report: str | None,
    as_json: bool,
    failed: bool,
    no_color: bool,
) -> None:
    """Capture SIP on a live interface and diagnose calls as they happen.

    Shows a dashboard of calls (state, last response, duration), the errors
    and their diagnoses the moment they can be made, and counters (packets,
    SIP messages per second, calls, failures, kernel drops). Needs root or
    the CAP_NET_RAW capability.
    """
    if rotate and not write_pcap:
        raise click.BadParameter("needs --write-pcap", param_hint="--rotate")
    rotation = parse_rotate(rotate) if rotate else None
    if write_pcap and rotation is None:
        _check(write_pcap, "--write-pcap")
    exporter = _exporter(report) if report else None
    interactive = not as_json and sys.stdout.isatty()
    opts = {
        "failed": failed,
        "json": as_json,
        "write_pcap": write_pcap,
        "rotate": rotation,
        "report": report,
        "report_exporter": exporter,
        "count": count,
        "calls": calls,
        "duration": duration,
        "dashboard": interactive,
    }
    console = make_console(no_color=no_color, stderr=as_json)
    cap = open_live(iface, bpf, engine=engine)
    try:
        session = Session(cap, opts, console)
    except BaseException:
        cap.close()
        raise
    _run(session, console, interactive)
    if session.error is not None:
        raise session.error


def _run(s: Session, console: Console, interactive: bool) -> None:
    handlers: dict[signal.Signals, Any] = {}
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        handlers[sig] = signal.signal(sig, s.stop.on_signal)
    keys: Keys | None = None
    cap = s.cap
    if s.json is not None:
        s.json.emit(
            {
                "type": "capture",
                "interface": cap.iface,
                "engine": cap.engine,
                "filter": cap.bpf,
                "linktype": cap.linktype,
                "time": s.started_ns / 1e9,
            }
        )
        s.json.flush()
    elif not interactive:
        print(
            f"sipsniff: capturing on {cap.iface} ({cap.engine}); Ctrl-C to stop",
            file=sys.stderr,
            flush=True,
        )
    try:
        if interactive:
            if sys.stdin.isatty():
                keys = Keys(sys.stdin)
            with Live(
                s.screen(),
                console=console,
                screen=True,
                auto_refresh=False,
                redirect_stdout=False,
                redirect_stderr=False,
            ) as lv:
                s.run(lv, keys)
        else:
            s.run(None, None)
    finally:
        if keys is not None:
            keys.close()
        try:
            s.finish()
        finally:
            for sig, h in handlers.items():
                signal.signal(sig, h)
    _final_summary(s, console)


def _final_summary(s: Session, console: Console) -> None:
    cap = s.cap
    st = s.pipe.stats
    report = str(s.report.path) if s.report is not None else None
    files = [str(p) for p in s.pcap.files] if s.pcap is not None else []
    if s.report is not None and s.report.overflow:
        print(
            f"sipsniff: warning: the report holds the first {len(s.report.kept)} calls; "
            f"{s.report.overflow} more are in its counts only",
            file=sys.stderr,
        )
    if s.json is not None:
        summ = summary_json(st)
        summ["type"] = "summary"
        summ["capture"] = {
            "interface": cap.iface,
            "engine": cap.engine,
            "filter": cap.bpf,
            "linktype": cap.linktype,
            "received": cap.stats.received,
            "kernel_dropped": cap.stats.dropped,
            "stopped_by": s.stop.reason,
            "pcap_files": files,
            "report": report,
        }
        s.json.emit(summ)
        s.json.flush()
        return
    console.print(summary_view(st))
    line = Text("Live       ", style="bold")
    line.append(f"{clean(cap.iface, 40)} ({cap.engine}): {cap.stats.received} packets, ")
    line.append(
        f"{cap.stats.dropped} dropped by the kernel", style="bold red" if cap.stats.dropped else ""
    )
    line.append(f"; stopped by {s.stop.reason}")
    console.print(line)
    if not s.log_mode:
        noted = [
            r.done
            for r in s.model.done.values()
            if r.done is not None and r.done.call.failed and r.done.annotations
        ][-20:]
        if noted:
            console.print()
            console.print(f"Diagnosis (last {len(noted)} failed calls)", style="bold underline")
            for ac in noted:
                console.print(annotation_block(ac, ac.annotations))
    if s.printer is not None:
        s.printer.close()
    if files:
        print(f"sipsniff: pcap written: {', '.join(files)}", file=sys.stderr)
    if report:
        print(f"sipsniff: report written to {report}", file=sys.stderr)


COMMANDS = [live]
