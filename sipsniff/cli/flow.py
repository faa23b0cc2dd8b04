"""``sipsniff flow``: draw the ladder diagram of each selected call in the terminal."""

from __future__ import annotations

import sys
from typing import Any

import click
from rich.text import Text

from ..analysis import AnalyzedCall
from ..capture.sources import expand_paths, read_frames
from ..pipeline import Pipeline
from ..render.correlate import correlate
from ..render.terminal import LadderView
from ._common import DiagnosticPrinter, build_filter, filter_options, make_console, warning_options
from ._progress import progress_frames

__all__ = ["COMMANDS", "flow"]


@click.command(
    epilog="""\b
Examples:
  sipsniff flow capture.pcap                       # every call, one ladder each
  sipsniff flow capture.pcap --call-id a84b4c76e66710
  sipsniff flow --failed --user alice capture.pcapng
  sipsniff flow --merge sbc.pcap                   # legs through a B2BUA in one diagram
  sipsniff flow --ascii --width 100 capture.pcap > ticket.txt
  sipsniff flow capture.pcap | less -S             # long flows, no colour on a pipe

\b
Each arrow shows the frame number, the time (UTC) and the delta since the
previous message, the method or response, an SDP summary, and the diagnosis
of the message it concerns. Retransmissions are dashed and marked (retrans).
"""
)
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@filter_options
@click.option("--ascii", "ascii_only", is_flag=True, help="Pure ASCII drawing (no box drawing).")
@click.option("--no-color", is_flag=True, help="No colours even on a terminal.")
@click.option(
    "--merge",
    is_flag=True,
    help="Draw the legs of a call through a proxy/B2BUA (different Call-IDs) in one "
    "diagram; legs are matched by From tag, X-Call-ID/X-CID, P-Charging-Vector icid, "
    "Session-ID, From/To users or SDP media address.",
)
@click.option(
    "--width",
    type=click.IntRange(min=40),
    default=None,
    help="Draw for this many columns (default: the terminal's width, 120 on a pipe).",
)
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=50,
    show_default=True,
    help="Draw at most this many ladders (0: all).",
)
@warning_options()
def flow(
    paths: tuple[str, ...],
    ascii_only: bool,
    no_color: bool,
    merge: bool,
    width: int | None,
    limit: int,
    max_warnings: int,
    quiet: bool,
    progress: bool | None,
    **kw: Any,
) -> None:
    """Draw the ladder (sequence) diagram of each selected call.

    PATHS are pcap/pcapng files (gzip allowed) or directories of rotated
    captures; several are merged in time order. Filters select calls as in
    'analyze'; with --merge a group of legs is drawn when any leg matches.
    """
    files = expand_paths(paths)
    flt = build_filter(kw)
    printer = DiagnosticPrinter(max_warnings, quiet)
    pipe = Pipeline(on_diagnostic=printer)
    pipe.stats.sources = [str(f) for f in files]
    frames = progress_frames(read_frames(files, pipe._report), files, progress)
    kept: list[AnalyzedCall] = []
    for ac in pipe.run(frames):
        # --merge needs every call to find the other legs; otherwise keep only matches
        if merge or flt.matches(ac):
            kept.append(ac)
    kept = pipe.attach_late(kept)
    kept.sort(key=lambda ac: ac.call.start_ns)
    printer.close()
    groups = correlate(kept) if merge else [[ac] for ac in kept]
    if merge:
        groups = [grp for grp in groups if any(flt.matches(ac) for ac in grp)]
    console = make_console(no_color=no_color)
    if width is not None:
        console.width = width
    if not groups:
        # like grep: nothing to draw is exit 1, so a script notices a mistyped Call-ID
        click.echo(
            f"sipsniff: no call matches the filters ({pipe.stats.calls} "
            f"{'call' if pipe.stats.calls == 1 else 'calls'} in the capture)",
            err=True,
        )
        sys.exit(1)
    shown = groups if not limit else groups[:limit]
    for grp in shown:
        console.print(LadderView(grp, ascii_only=ascii_only))
        console.print(Text())
    if len(shown) < len(groups):
        click.echo(
            f"sipsniff: drew {len(shown)} of {len(groups)} ladders; narrow the selection "
            "(--call-id, --failed, --user...) or use --limit 0",
            err=True,
        )


COMMANDS = [flow]
