"""Options and helpers shared by the commands: filters, console, diagnostics printing."""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click
from rich.console import Console

from ..annotate.knowledge import Severity
from ..diagnostics import Diagnostic
from ..filters import CallFilter, parse_time
from ..render.safe import clean

__all__ = [
    "DiagnosticPrinter",
    "build_filter",
    "filter_options",
    "make_console",
    "parse_severity",
    "severity_type",
    "warning_options",
]

F = TypeVar("F", bound=Callable[..., Any])

severity_type = click.Choice(["info", "warning", "error"], case_sensitive=False)


def filter_options(func: F) -> F:
    """Add the call-selection options every command shares."""
    opts = [
        click.option(
            "--call-id",
            "call_ids",
            multiple=True,
            metavar="ID",
            help="Only calls whose Call-ID is (or contains) ID. Repeatable.",
        ),
        click.option(
            "--user",
            "users",
            multiple=True,
            metavar="TEXT",
            help="Only calls whose From/To/Request-URI user contains TEXT. Repeatable.",
        ),
        click.option(
            "--method",
            "methods",
            multiple=True,
            metavar="METHOD",
            help="Only calls with a request of this method (INVITE, REGISTER...).",
        ),
        click.option(
            "--status",
            "statuses",
            multiple=True,
            metavar="CODE",
            help="Only calls with a response of this code (486) or class (4xx).",
        ),
        click.option(
            "--failed",
            is_flag=True,
            help="Only calls that did not succeed (rejected, cancelled, timed out).",
        ),
        click.option(
            "--since",
            metavar="TIME",
            help="Only calls active at or after TIME (epoch, ISO 8601 or HH:MM:SS UTC).",
        ),
        click.option("--until", metavar="TIME", help="Only calls that started at or before TIME."),
    ]
    for opt in reversed(opts):
        func = opt(func)
    return func


def warning_options(quiet_help: str = "Do not print capture warnings.") -> Callable[[F], F]:
    """Add ``--max-warnings``, ``--quiet`` and ``--progress``, shared by the file commands."""

    def deco(func: F) -> F:
        func = click.option(
            "--progress/--no-progress",
            default=None,
            help="Progress bar on stderr (default: when stderr is a terminal).",
        )(func)
        func = click.option("--quiet", "-q", is_flag=True, help=quiet_help)(func)
        return click.option(
            "--max-warnings",
            type=int,
            default=100,
            show_default=True,
            help="Print at most this many capture warnings (all are counted; 0: no limit).",
        )(func)

    return deco


def build_filter(kw: dict[str, Any], reference_ns: int = 0) -> CallFilter:
    """Build the CallFilter from the options added by ``filter_options``."""
    try:
        since = parse_time(kw["since"], reference_ns) if kw.get("since") else None
        until = parse_time(kw["until"], reference_ns) if kw.get("until") else None
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    for s in kw.get("statuses", ()):
        low = s.lower()
        if not (low.isdigit() and len(low) == 3) and not (
            len(low) == 3 and low[0] in "123456" and low.endswith("xx")
        ):
            raise click.BadParameter(
                f"{s!r}: use a code like 486 or a class like 4xx", param_hint="--status"
            )
    return CallFilter(
        call_ids=tuple(kw.get("call_ids", ())),
        users=tuple(kw.get("users", ())),
        methods=tuple(kw.get("methods", ())),
        statuses=tuple(kw.get("statuses", ())),
        failed=bool(kw.get("failed")),
        since_ns=since,
        until_ns=until,
    )


class _Console(Console):
    """rich's Console, except that a closed pipe raises BrokenPipeError, which the
    command line ends quietly with 0; rich's own handler exits 1 (SystemExit)."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        raise BrokenPipeError(errno.EPIPE, os.strerror(errno.EPIPE))


def make_console(*, no_color: bool, stderr: bool = False) -> Console:
    """A console that never interprets wire text: no markup, no emoji, no highlighting."""
    stream = sys.stderr if stderr else sys.stdout
    is_tty = stream.isatty()
    width = None if is_tty or os.environ.get("COLUMNS") else 120
    return _Console(
        file=stream,
        no_color=no_color or None,
        color_system=None if no_color else "auto",
        highlight=False,
        emoji=False,
        markup=False,
        width=width,
        soft_wrap=False,
    )


class DiagnosticPrinter:
    """Prints each diagnostic as one line on stderr, up to a limit, then counts."""

    def __init__(self, limit: int, quiet: bool = False) -> None:
        self.limit = limit
        self.quiet = quiet
        self.printed = 0
        self.suppressed = 0

    def __call__(self, d: Diagnostic) -> None:
        if self.quiet:
            self.suppressed += 1
            return
        if self.limit and self.printed >= self.limit:
            self.suppressed += 1
            return
        self.printed += 1
        click.echo(f"sipsniff: warning: {clean(d.line(), 400)}", err=True)

    def close(self) -> None:
        if self.suppressed and not self.quiet:
            click.echo(
                f"sipsniff: {self.suppressed} more warnings not printed "
                "(counted in the summary; raise --max-warnings to see them)",
                err=True,
            )


def parse_severity(value: str | None) -> Severity | None:
    return Severity.parse(value) if value else None
