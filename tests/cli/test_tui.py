"""``sipsniff tui`` as a command: its checks, and the real program driven in tmux."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import ROOT, capture, needs_tool

from sipsniff.cli import main
from sipsniff.cli.tui import COMMANDS, tui
from sipsniff.diagnostics import CaptureError

REGISTERED = "tui" in main.commands
"""Whether ``sipsniff tui`` is wired into the command group yet (cli/__init__.py)."""


def test_exposes_the_command() -> None:
    assert (tui,) == COMMANDS


def test_needs_a_terminal() -> None:
    r = CliRunner().invoke(tui, [str(capture("demo.pcap"))])
    assert r.exit_code == 2
    assert "tui needs a terminal" in r.output


def test_missing_capture_is_an_error_before_any_screen() -> None:
    if REGISTERED:
        r = CliRunner().invoke(main, ["tui", "nope.pcap"])
        assert r.exit_code == 2 and "nope.pcap: no such file or directory" in r.output
    else:
        r = CliRunner().invoke(tui, ["nope.pcap"])
        assert isinstance(r.exception, CaptureError)


def test_help_lists_the_keys_and_the_filter_words() -> None:
    r = CliRunner().invoke(tui, ["--help"])
    assert r.exit_code == 0
    for needle in ("Enter opens", "F2 saves", "ip:", "rule:", "--failed", "--filter"):
        assert needle in r.output


# -- the real program in tmux ------------------------------------------------------------


def _command(*args: str) -> str:
    if REGISTERED:
        argv = [sys.executable, "-m", "sipsniff", "tui", *args]
    else:
        argv = [sys.executable, "-c", "from sipsniff.cli.tui import tui; tui()", *args]
    return shlex.join(argv)


def _stty(tmp: Path) -> str:
    """The terminal settings the shell recorded after the program ended: the shell writes
    them just after printing EXIT=, so a loaded machine may need a moment."""
    path = tmp / "stty.txt"
    end = time.monotonic() + 15
    while not (path.exists() and path.stat().st_size) and time.monotonic() < end:
        time.sleep(0.05)
    return path.read_text()


class Tmux:
    """One session on a private tmux server (``-L``): nobody else's sessions are touched."""

    def __init__(self, tmux: str, socket: str, name: str) -> None:
        self.tmux = tmux
        self.socket = socket
        self.name = name

    def run(self, *args: str) -> str:
        return subprocess.run(
            [self.tmux, "-L", self.socket, *args],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", self.name)

    def wait(self, cond: Callable[[str], bool], what: str, timeout: float = 30.0) -> str:
        end = time.monotonic() + timeout
        while True:
            text = self.screen()
            if cond(text):
                return text
            if time.monotonic() > end:
                raise AssertionError(f"waited for {what}; the screen:\n{text}")
            time.sleep(0.1)

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", self.name, *keys)


@pytest.fixture
def tmux_session(tmp_path: Path):
    tmux = needs_tool("tmux")
    socket = f"sipsniff-test-{os.getpid()}-{tmp_path.name}"[:80]
    name = "tui"
    made: list[Tmux] = []

    def start(command: str, *, size: tuple[int, int] = (100, 30), env: str = "") -> Tmux:
        script = (
            f"cd {shlex.quote(str(ROOT))} && {env} {command}; echo EXIT=$?; "
            f"stty -a > {shlex.quote(str(tmp_path / 'stty.txt'))}; sleep 600"
        )
        t = Tmux(tmux, socket, name)
        t.run("new-session", "-d", "-s", name, "-x", str(size[0]), "-y", str(size[1]), script)
        made.append(t)
        return t

    yield start, tmp_path
    for _t in made:  # the private server, and only it
        subprocess.run([tmux, "-L", socket, "kill-server"], check=False, timeout=30)


def test_real_program_in_tmux(tmux_session) -> None:
    start, tmp = tmux_session
    t = start(_command(str(capture("demo.pcap"))), size=(100, 30))
    screen = t.wait(lambda s: "8 calls" in s and "loaded in" in s, "the loaded list")
    assert "demo-503-1@127." in screen and "✖1 server-una" in screen
    t.keys("/")
    t.keys("-l", "ip:127.0.0.22")
    t.keys("Enter")
    screen = t.wait(lambda s: "2 shown" in s, "the filter")
    assert "demo-busy-1@" in screen and "demo-call-1@" not in screen
    t.keys("Enter")
    screen = t.wait(lambda s: "Call demo-busy-1@127.0.0.22" in s, "the call view")
    assert "127.0.0.10:5060" in screen and "INVITE" in screen and "Message · frame 28" in screen
    t.keys("Down", "Down")
    screen = t.wait(lambda s: "Message · frame 30" in s, "the 486 selected")
    assert "SIP/2.0 486 Busy Here" in screen and "[callee-busy]" in screen
    t.keys("Escape")
    t.wait(lambda s: "2 shown" in s, "back on the list")
    t.keys("q")
    screen = t.wait(lambda s: "EXIT=0" in s, "the program to end")
    stty = _stty(tmp)
    assert " icanon" in stty and " echo " in stty  # the terminal is back in cooked mode
    assert "\x1b" not in screen


def test_ctrl_c_at_80x24_without_colour_restores_the_terminal(tmux_session) -> None:
    start, tmp = tmux_session
    t = start(_command(str(capture("hostile.pcap"))), size=(80, 24), env="NO_COLOR=1")
    screen = t.wait(lambda s: "4 calls" in s, "the loaded list")
    lines = screen.splitlines()
    assert len(lines) <= 24 and all(len(line) <= 80 for line in lines)
    assert "[bold red]HACK[" in screen
    t.keys("Enter")
    t.wait(lambda s: "Call hostile-call-1@127.0.0.1" in s, "the call view")
    t.keys("C-c")
    t.wait(lambda s: "EXIT=0" in s, "the program to end")
    stty = _stty(tmp)
    assert " icanon" in stty and " echo " in stty


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(x) for x in path.read_text().split()] if path.exists() else []


def test_sigterm_ends_it_cleanly(tmux_session) -> None:
    """``kill`` (or a closed terminal: SIGHUP) restores the terminal too; exit status 143."""
    start, tmp = tmux_session
    t = start(_command(str(capture("call_busy.pcap"))), size=(100, 30))
    t.wait(lambda s: "1 call ·" in s and "loaded in" in s, "the loaded list")
    shell = int(t.run("display-message", "-p", "-t", t.name, "#{pane_pid}").strip())
    (pid,) = _children(shell)
    os.kill(pid, signal.SIGTERM)
    t.wait(lambda s: "EXIT=143" in s, "the program to end")
    stty = _stty(tmp)
    assert " icanon" in stty and " echo " in stty
