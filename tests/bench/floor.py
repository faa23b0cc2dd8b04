"""How fast each prefix of sipsniff's pipeline runs on one core: the pure-Python floor.

``make bench`` runs this in a child (``python floor.py FILE``) and prints its table
beside tshark's time.  Each line does all the work of the line above plus one more
stage, with no output at all, so the lines show what the stages cost *cumulatively*
and what a faster design could at best save: if parsing and dialog tracking alone
are slower than tshark's whole run, no tuning of rules or output can meet issue 6's
speed target in pure Python.

Prints one JSON object: ``{"stages": [[label, seconds, messages], ...]}``; each
stage is timed best of ``ROUNDS`` (the minimum: what the code costs when the
machine does not interfere).
"""

from __future__ import annotations

import gc
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

from sipsniff.capture.sources import read_frames
from sipsniff.decode.decoder import Decoder
from sipsniff.diagnostics import Diagnostic
from sipsniff.pipeline import Pipeline
from sipsniff.sip.framing import SipFramer

ROUNDS = 2


def _ignore(_d: Diagnostic) -> None:
    """Diagnostics are counted by the stages themselves; nothing is printed."""


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


def dialogs(path: Path) -> int:
    pipe = Pipeline(on_diagnostic=_ignore, rules=[], cross_rules=[])
    for _ in pipe.run(read_frames([path], _ignore)):
        pass
    return pipe.stats.sip_messages


def full(path: Path) -> int:
    pipe = Pipeline(on_diagnostic=_ignore)
    for _ in pipe.run(read_frames([path], _ignore)):
        pass
    return pipe.stats.sip_messages


STAGES: list[tuple[str, Callable[[Path], int]]] = [
    ("read pcap records", read_only),
    ("+ decode link, IP, UDP/TCP (payloads)", decode),
    ("+ SIP framing and parsing (messages)", parse),
    ("+ dialogs, transactions, call records", dialogs),
    ("+ every diagnosis rule: the whole pipeline", full),
]


def main(argv: list[str]) -> int:
    path = Path(argv[0])
    out = []
    for label, fn in STAGES:
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
    print(json.dumps({"stages": out}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
