"""``sipsniff media``: the RTP streams of capture files, like ``tshark -z rtp,streams``, with their calls.

Every UDP stream that is RTP by its header (and steps its sequence number by one
at least once) is listed with tshark's figures (packets, lost, max delta, max and
mean jitter), its payload types, the RFC 4733 digits it carried, and the call
whose SDP announced one of its ends.
"""

from __future__ import annotations

import json
import sys

import click
from rich.table import Table

from ..capture.sources import expand_paths, read_frames
from ..pipeline import Pipeline
from ..render.safe import clean
from ..sip.sdp import static_codec
from ._common import DiagnosticPrinter, make_console, warning_options
from ._progress import progress_frames

__all__ = ["COMMANDS", "media"]

_FIELDS = (
    "src",
    "src_port",
    "dst",
    "dst_port",
    "ssrc",
    "first_frame",
    "last_frame",
    "first_ts_ns",
    "last_ts_ns",
    "packets",
    "bytes",
    "payload_types",
    "expected",
    "lost",
    "sequence_errors",
    "duplicates",
    "max_delta_ns",
    "mean_delta_ns",
    "jitter_ms",
    "max_jitter_ms",
    "mean_jitter_ms",
    "clock_rate",
    "markers",
    "events",
)
_DIGITS = "0123456789*#ABCD"


def _digits(events: list[tuple[int, int]]) -> str:
    return "".join(_DIGITS[e] if e < len(_DIGITS) else "?" for e, _ in events)


@click.command(
    epilog="""\b
Examples:
  sipsniff media capture.pcap                # every RTP stream, tshark's columns
  sipsniff media --format json capture.pcap  # one object per stream
"""
)
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="A table, or JSON (one object per stream, with the call it belongs to).",
)
@click.option("--no-color", is_flag=True, help="Plain output even on a terminal.")
@warning_options()
def media(
    paths: tuple[str, ...],
    fmt: str,
    no_color: bool,
    max_warnings: int,
    quiet: bool,
    progress: bool | None,
) -> None:
    """List the RTP streams of capture files, with loss, delta and jitter per stream.

    PATHS are pcap/pcapng files (gzip allowed) or directories of rotated captures.
    """
    files = expand_paths(paths)
    printer = DiagnosticPrinter(max_warnings, quiet)
    pipe = Pipeline(on_diagnostic=printer)
    pipe.stats.sources = [str(f) for f in files]
    owners: dict[tuple[str, int], str] = {}
    for ac in pipe.run(progress_frames(read_frames(files, pipe._report), files, progress)):
        for m in ac.call.messages:
            if m.sdp is not None:
                for md in m.sdp.media:
                    owners.setdefault((md.connection, md.port), ac.call.call_id)
    printer.close()
    streams, _rtcp, (evicted, first) = pipe.media_streams()
    rows = [dict(zip(_FIELDS, s, strict=True)) for s in streams]
    for r in rows:
        r["call_id"] = owners.get((r["dst"], r["dst_port"])) or owners.get(
            (r["src"], r["src_port"])
        )
        r["digits"] = _digits(r["events"])
    if evicted:
        click.echo(
            f"sipsniff: {evicted} streams evicted (stream table full; first at frame {first})",
            err=True,
        )
    if fmt == "json":
        out = [
            {k: v for k, v in r.items() if k != "events"} | {"events": r["events"]} for r in rows
        ]
        json.dump(out, sys.stdout, indent=1, default=list, ensure_ascii=True)
        sys.stdout.write("\n")
        return
    console = make_console(no_color=no_color)
    if not rows:
        click.echo("sipsniff: no RTP stream in the capture", err=True)
        return
    t = Table(title=f"RTP streams ({len(rows)})", title_justify="left")
    for name, just in (
        ("source", "left"),
        ("destination", "left"),
        ("SSRC", "left"),
        ("payload", "left"),
        ("packets", "right"),
        ("lost", "right"),
        ("max delta", "right"),
        ("max jitter", "right"),
        ("mean jitter", "right"),
        ("DTMF", "left"),
        ("call", "left"),
    ):
        t.add_column(name, justify=just)  # type: ignore[arg-type]
    for r in rows:
        pct = 100.0 * r["lost"] / r["expected"] if r["expected"] else 0.0
        t.add_row(
            f"{r['src']}:{r['src_port']}",
            f"{r['dst']}:{r['dst_port']}",
            f"0x{r['ssrc']:08X}",
            ",".join(static_codec(p) for p in r["payload_types"]),
            str(r["packets"]),
            f"{r['lost']} ({pct:.1f}%)",
            f"{r['max_delta_ns'] / 1e6:.3f} ms",
            f"{r['max_jitter_ms']:.3f} ms" if r["clock_rate"] else "-",
            f"{r['mean_jitter_ms']:.3f} ms" if r["clock_rate"] else "-",
            r["digits"] or "-",
            clean(r["call_id"] or "-", 60),
        )
    console.print(t)


COMMANDS = (media,)
