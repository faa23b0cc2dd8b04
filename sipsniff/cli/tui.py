"""``sipsniff tui``: browse capture files in an interactive terminal UI (sngrep's screens, plus diagnoses)."""

from __future__ import annotations

import sys

import click

from ..capture.sources import expand_paths

__all__ = ["COMMANDS", "tui"]


@click.command(
    epilog="""\b
Examples:
  sipsniff tui capture.pcap                 # every call; Enter opens one, ? lists the keys
  sipsniff tui rotated-dir/ other.pcap.gz   # several sources, merged in time order
  sipsniff tui --failed capture.pcapng      # start with failed calls only
  sipsniff tui --filter 'ip:10.0.0.5 code:4xx' capture.pcap

\b
Keys (sngrep's where sngrep has one): arrows move, Enter opens the call view
(ladder, raw message, diagnoses), Space selects, / or F3 filters, F7 opens the
filter dialog, F2 saves the selected or shown calls (pcap or a report), i shows
the summary, ? the help, Esc goes back, q quits.

\b
The filter bar matches users, numbers, IP addresses, Call-IDs, methods, codes
and rule ids (bare words), or one field: user: from: to: ip: id: method: code:
rule: sev: state: kind: text:. The capture loads in the background: the list
fills as calls finish.
"""
)
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option(
    "--filter",
    "query",
    default="",
    metavar="WORDS",
    help="Start with this filter (the filter bar's words, e.g. 'rule:auth-rejected').",
)
@click.option("--failed", is_flag=True, help="Start with failed calls only (toggle: f or !).")
@click.option("--ascii", "ascii_only", is_flag=True, help="Pure ASCII drawing (no box drawing).")
def tui(paths: tuple[str, ...], query: str, failed: bool, ascii_only: bool) -> None:
    """Browse the calls of capture files interactively: list, ladder, messages, diagnoses.

    PATHS are pcap/pcapng files (gzip allowed) or directories of rotated
    captures; several are merged in time order, as 'analyze' reads them.
    Needs a terminal (80x24 or larger); NO_COLOR is honoured.
    """
    files = expand_paths(paths)
    if not (sys.stdin.isatty() and sys.stderr.isatty()):  # Textual draws on stderr
        raise click.UsageError(
            "tui needs a terminal; for a pipe or a file use 'analyze', 'flow' or 'report'"
        )
    from ..tui import SipsniffApp  # Textual loads only for this command

    app = SipsniffApp(files, query=query, failed_only=failed, ascii_only=ascii_only)
    app.run()
    if app.return_code:  # ended by a signal (128 + N), after restoring the terminal
        sys.exit(app.return_code)


COMMANDS = (tui,)
