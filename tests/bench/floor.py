"""How fast each prefix of sipsniff's pipeline runs on one core, for both engines.

``make bench`` runs this in a child (``python floor.py FILE``) and prints its tables
beside tshark's time.  Each line does all the work of the line above plus one more
stage, with no output at all, so the lines show what the stages cost *cumulatively*
and what a faster design could at best save.

- The Python engine (the reference): read, + decode, + SIP framing and parsing,
  + dialogs, + every rule.  Parsing and dialog tracking alone in CPython were
  slower than tshark's whole run, which is why the native core exists.
- The native engine: the core alone (``_native.Scanner().scan_file`` on a
  ``FileReader`` in batches of 512 frames until it reports finished: read,
  decode, SIP scan; its events are Python tuples, and TCP frames come back
  whole for the Python stages, which this line does not run), + a ``SipMessage``
  record for each message event (``engine.message``), + the rest of the
  pipeline without rules (``Pipeline(rules=[], cross_rules=[])``: the Python
  fallback for what the core hands back, dialogs and calls), + every rule.
- The Rust core with no Python at all: ``cargo run --release --example scan``
  in ``sipsniff/_core`` (the file read into memory first, untimed; it prints
  nanoseconds per frame), built once before it is timed.

Prints one JSON object: ``{"stages": [[label, seconds, messages], ...], "native":
[...], "rust": {...}}``; each stage is timed best of ``ROUNDS`` (the minimum:
what the code costs when the machine does not interfere).  ``--native-only``
skips the Python engine's lines (for the RTP capture, where they take minutes).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sipsniff import engine
from sipsniff.capture.sources import read_frames
from sipsniff.decode.decoder import Decoder
from sipsniff.diagnostics import Diagnostic
from sipsniff.pipeline import Pipeline
from sipsniff.sip.framing import SipFramer

ROUNDS = 2
BATCH = 512
"""Frames per ``scan_file`` call, as ``Pipeline`` asks for (``_NATIVE_BATCH``)."""
CORE = Path(__file__).resolve().parents[2] / "sipsniff" / "_core"


def _ignore(_d: Diagnostic) -> None:
    """Diagnostics are counted by the stages themselves; nothing is printed."""


# -- the Python engine ----------------------------------------------------------------


def read_only(path: Path) -> int:
    return sum(1 for _ in read_frames([path], _ignore))


def decode(path: Path) -> int:
    dec = Decoder(_ignore)
    n = 0
    for f in read_frames([path], _ignore):
        n += len(dec.feed(f))
    return n + len(dec.flush())


def parse(path: Path) -> int:
    dec = Decoder(_ignore)
    framer = SipFramer(_ignore)
    n = 0
    for f in read_frames([path], _ignore):
        for p in dec.feed(f):
            n += len(framer.feed(p))
    for p in dec.flush():
        n += len(framer.feed(p))
    return n


def _pipeline(path: Path, engine_name: str, *, rules: bool) -> int:
    extra: dict[str, Any] = {} if rules else {"rules": [], "cross_rules": []}
    pipe = Pipeline(on_diagnostic=_ignore, engine_name=engine_name, **extra)
    for _ in pipe.run(read_frames([path], _ignore)):  # run() ends with finish()
        pass
    return pipe.stats.sip_messages


def dialogs(path: Path) -> int:
    return _pipeline(path, "python", rules=False)


def full(path: Path) -> int:
    return _pipeline(path, "python", rules=True)


STAGES: list[tuple[str, Callable[[Path], int]]] = [
    ("read pcap records", read_only),
    ("+ decode link, IP, UDP/TCP (payloads)", decode),
    ("+ SIP framing and parsing (messages)", parse),
    ("+ dialogs, transactions, call records", dialogs),
    ("+ every diagnosis rule: the whole pipeline", full),
]

# -- the native engine ----------------------------------------------------------------


def native_scan(path: Path) -> int:
    """The core alone: read + decode + SIP scan; returns the message events."""
    mod = engine.native_module()
    assert mod is not None
    scanner = mod.Scanner()
    reader = mod.FileReader(str(path))
    n = 0
    want = engine.EV_MESSAGE
    while True:
        events, _nbytes, _nframes, finished = scanner.scan_file(reader, BATCH)
        for ev in events:
            n += ev[0] == want
        if finished:
            return n


def native_records(path: Path) -> int:
    """The core, and a ``SipMessage`` built for each of its message events."""
    mod = engine.native_module()
    assert mod is not None
    scanner = mod.Scanner()
    reader = mod.FileReader(str(path))
    n = 0
    want = engine.EV_MESSAGE
    message = engine.message
    while True:
        events, _nbytes, _nframes, finished = scanner.scan_file(reader, BATCH)
        for ev in events:
            if ev[0] == want:
                message(ev)
                n += 1
        if finished:
            return n


def native_dialogs(path: Path) -> int:
    return _pipeline(path, "native", rules=False)


def native_full(path: Path) -> int:
    return _pipeline(path, "native", rules=True)


NATIVE_STAGES: list[tuple[str, Callable[[Path], int]]] = [
    ("native core alone: read + decode + SIP scan (`scan_file`, batches of 512)", native_scan),
    ("+ a Python `SipMessage` record per message event", native_records),
    ("+ Python fallback (TCP...), dialogs, transactions, call records (rules=[])", native_dialogs),
    ("+ every diagnosis rule: the whole native pipeline", native_full),
]


def timed(stages: list[tuple[str, Callable[[Path], int]]], path: Path) -> list[list[Any]]:
    """Best of ``ROUNDS`` for each stage, with the cyclic GC paused as ``Pipeline.run`` does."""
    out = []
    for label, fn in stages:
        best = float("inf")
        n = 0
        for _ in range(ROUNDS):
            gc.collect()
            gc.disable()  # as Pipeline.run does, so every line pays the same
            t0 = time.perf_counter()
            n = fn(path)
            best = min(best, time.perf_counter() - t0)
            gc.enable()
        out.append([label, round(best, 3), n])
    return out


# -- Rust only ------------------------------------------------------------------------

_SCAN_OUT = re.compile(
    r"(\d+) frames, (\d+) messages, (\d+) slow, ([\d.]+) ns/frame",
)


def rust_scan(path: Path) -> dict[str, Any]:
    """``cargo run --release --example scan -- FILE`` (built first, untimed): best of ROUNDS."""
    env = dict(os.environ, PYO3_PYTHON=sys.executable)
    cmd = ["cargo", "run", "-q", "--release", "-p", "sipsniff-core", "--example", "scan"]
    build = subprocess.run(
        ["cargo", "build", "-q", "--release", "-p", "sipsniff-core", "--example", "scan"],
        cwd=CORE,
        env=env,
        capture_output=True,
        check=False,
    )
    if build.returncode != 0:
        return {"error": build.stderr.decode(errors="replace")[-400:]}
    best: dict[str, Any] = {}
    for _ in range(ROUNDS):
        res = subprocess.run(
            [*cmd, "--", str(path)], cwd=CORE, env=env, capture_output=True, check=False
        )
        m = _SCAN_OUT.search(res.stdout.decode(errors="replace"))
        if res.returncode != 0 or m is None:
            return {"error": (res.stdout + res.stderr).decode(errors="replace")[-400:]}
        frames, messages, slow, ns = int(m[1]), int(m[2]), int(m[3]), float(m[4])
        if not best or ns < best["ns_per_frame"]:
            best = {
                "frames": frames,
                "messages": messages,
                "slow": slow,
                "ns_per_frame": ns,
                "seconds": round(ns * frames / 1e9, 4),
                "command": " ".join([*cmd, "--", str(path)]),
            }
    return best


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description="the pipeline's prefixes on one core")
    ap.add_argument("file", type=Path)
    ap.add_argument("--native-only", action="store_true", help="skip the Python engine's lines")
    args = ap.parse_args(argv)
    path: Path = args.file
    result: dict[str, Any] = {"stages": [], "native": [], "rust": {}}
    if not args.native_only:
        result["stages"] = timed(STAGES, path)
    if engine.native_module() is not None:
        result["native"] = timed(NATIVE_STAGES, path)
        result["rust"] = rust_scan(path)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
