"""The command line: the only place that prints errors and chooses exit codes.

Exit codes: 0 success, 1 ``--fail-on`` found an annotation that severe,
2 bad usage or an unusable capture source.  No traceback reaches the user:
``CaptureError`` becomes one line, and anything unexpected is reported as an
internal error with a hint to file a bug.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys

import click

from .. import __version__, engine, tls
from ..diagnostics import CaptureError
from ..render.safe import clean

__all__ = ["main"]

_COMMANDS = ("analyze", "flow", "report", "media", "explain", "live", "tui")
_TLS_HELP = (
    "NSS key log (SSLKEYLOGFILE format) to decrypt SIP over TLS; repeatable. "
    "Default: $SSLKEYLOGFILE when that file exists; pcapng secrets blocks are read too."
)


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except CaptureError as exc:
            click.echo(f"sipsniff: error: {exc}", err=True)
            ctx.exit(2)
        except BrokenPipeError:
            sys.stderr.close()
            ctx.exit(0)
        except KeyboardInterrupt:
            click.echo("sipsniff: interrupted", err=True)
            ctx.exit(130)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except MemoryError:
            click.echo("sipsniff: error: out of memory", err=True)
            ctx.exit(2)
        except Exception as exc:
            click.echo(
                f"sipsniff: internal error: {type(exc).__name__}: {clean(str(exc), 300)} "
                "(this is a sipsniff bug; please report it with the capture if you can; "
                "set SIPSNIFF_DEBUG=1 for a traceback)",
                err=True,
            )
            if os.environ.get("SIPSNIFF_DEBUG"):
                raise
            ctx.exit(3)


@click.group(
    cls=_Group,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog="""\b
Examples:
  sipsniff analyze capture.pcap
  sipsniff analyze --failed --format json capture.pcapng > calls.json
  sipsniff flow capture.pcap --call-id a84b4c76e66710
  sipsniff report capture.pcap -o report.html
  sipsniff explain 488
""",
)
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=lambda ctx, _param, value: _version(ctx) if value else None,
    help="Show the version and which engine runs, and exit.",
)
@click.option(
    "--engine",
    "engine_name",
    type=click.Choice(engine.ENGINES),
    envvar="SIPSNIFF_ENGINE",
    help="Per-packet engine: native (the Rust core, default when built) or python "
    "(the reference). Same output either way. Env: SIPSNIFF_ENGINE.",
)
@click.option(
    "--tls-keylog",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    expose_value=False,
    callback=lambda _ctx, _param, value: _tls_keylog(value),
    help=_TLS_HELP,
)
def main(engine_name: str | None = None) -> None:
    """sipsniff: SIP traffic analyzer. Groups SIP messages into calls, draws ladders,
    and says for every failed or suspicious call what went wrong, why, and what to do."""
    try:
        engine.select(engine_name)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc


def _tls_keylog(paths: tuple[str, ...]) -> None:
    """``--tls-keylog``, before or after the command: a process-wide setting (``tls.settings``)
    that every pipeline reads, the forked shards and the TUI loader included."""
    if paths:
        tls.configure(paths)


def _version(ctx: click.Context) -> None:
    """``--version``: sipsniff's version and the engine a run would use."""
    with contextlib.suppress(ValueError):  # describe() says what is wrong with the choice
        engine.select(os.environ.get("SIPSNIFF_ENGINE") or None)
    click.echo(f"sipsniff, version {__version__}; {engine.describe()}")
    ctx.exit(0)


for _name in _COMMANDS:
    try:
        _mod = importlib.import_module(f"{__name__}.{_name}")
    except ModuleNotFoundError as _exc:  # a command not built yet
        if _exc.name != f"{__name__}.{_name}":
            raise
        continue
    for _cmd in getattr(_mod, "COMMANDS", ()):
        if _name != "explain":  # every command that reads captures takes it after its name too
            _cmd.params.append(
                click.Option(
                    ["--tls-keylog"],
                    multiple=True,
                    type=click.Path(exists=True, dir_okay=False),
                    expose_value=False,
                    callback=lambda _ctx, _param, value: _tls_keylog(value),
                    help=_TLS_HELP,
                )
            )
        main.add_command(_cmd)
