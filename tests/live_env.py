"""Test environment for live capture: network namespaces, a veth pair, SIPp (root only).

Every address used here lives inside namespaces the tests create (or on their
own loopback), so no packet can leave the machine or meet anything else on
the host.  Namespaces are deleted by the fixtures' finalisers, which also
deletes the veth pair.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from helpers import ROOT, needs_root, needs_tool

DATA_SIPP = Path(__file__).resolve().parent / "data" / "sipp"
SIPSNIFF = [sys.executable, "-m", "sipsniff"]


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


@dataclass
class Netns:
    """A namespace with its loopback up, optionally one end of a veth pair."""

    name: str
    iface: str = "lo"
    addr: str = "127.0.0.1"

    def cmd(self, *argv: str) -> list[str]:
        return ["ip", "netns", "exec", self.name, *argv]

    def run(self, *argv: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.cmd(*argv), check=False, capture_output=True, text=True, timeout=timeout, cwd=ROOT
        )

    def delete(self) -> None:
        subprocess.run(["ip", "netns", "del", self.name], check=False, capture_output=True)


def make_netns(tag: str) -> Netns:
    """A fresh namespace with only its loopback (up)."""
    needs_root()
    needs_tool("ip")
    ns = Netns(f"sipsniff-{tag}-{os.getpid()}")
    ns.delete()
    ip("netns", "add", ns.name)
    ip("-n", ns.name, "link", "set", "lo", "up")
    return ns


def make_pair(tag: str) -> tuple[Netns, Netns]:
    """Two namespaces joined by a veth pair, 10.213.0.1/30 (a) and 10.213.0.2/30 (b)."""
    a, b = make_netns(f"{tag}a"), make_netns(f"{tag}b")
    ia, ib = f"ss{os.getpid() % 100000}{tag}a"[:15], f"ss{os.getpid() % 100000}{tag}b"[:15]
    try:
        ip("link", "add", ia, "type", "veth", "peer", "name", ib)
        ip("link", "set", ia, "netns", a.name)
        ip("link", "set", ib, "netns", b.name)
        for ns, dev, addr in ((a, ia, "10.213.0.1"), (b, ib, "10.213.0.2")):
            ip("-n", ns.name, "addr", "add", f"{addr}/30", "dev", dev)
            ip("-n", ns.name, "link", "set", dev, "up")
            ns.iface, ns.addr = dev, addr
    except BaseException:
        a.delete()
        b.delete()
        raise
    return a, b


class Sipp:
    """One SIPp process in a namespace, with its -trace_counts CSV in its own folder."""

    def __init__(self, ns: Netns, workdir: Path, name: str, args: list[str]) -> None:
        self.dir = workdir / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.out = open(self.dir / "sipp.out", "wb")  # noqa: SIM115 - closed in wait()
        self.proc = subprocess.Popen(
            ns.cmd(needs_tool("sipp"), *args, "-nostdin", "-trace_counts", "-trace_err"),
            cwd=self.dir,
            stdout=self.out,
            stderr=subprocess.STDOUT,
        )

    def wait(self, timeout: float) -> int:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return -9
        finally:
            self.out.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.out.close()

    def counts(self) -> Counter[str]:
        """Messages on the wire by label (INVITE, 180...) from the last -trace_counts line.

        ``Sent``/``Recv`` count first transmissions, ``Retrans`` the repeats:
        both were on the wire.
        """
        files = list(self.dir.glob("*_counts.csv"))
        assert files, f"SIPp wrote no counts in {self.dir}: {self.log()}"
        with open(files[0], newline="") as fp:
            rows = list(csv.reader(fp, delimiter=";"))
        head, last = rows[0], rows[-1]
        out: Counter[str] = Counter()
        for col, val in zip(head, last, strict=False):
            parts = col.split("_")
            if len(parts) == 3 and parts[2] in ("Sent", "Recv", "Retrans") and val.isdigit():
                out[parts[1]] += int(val)
        return out

    def failures(self) -> dict[str, int]:
        """Timeouts and unexpected messages: none may happen when nothing is lost."""
        files = list(self.dir.glob("*_counts.csv"))
        with open(files[0], newline="") as fp:
            rows = list(csv.reader(fp, delimiter=";"))
        return {
            col: int(val)
            for col, val in zip(rows[0], rows[-1], strict=False)
            if col.endswith(("_Timeout", "_Unexp")) and val.isdigit() and int(val)
        }

    def log(self) -> str:
        p = self.dir / "sipp.out"
        return p.read_text(errors="replace")[-2000:] if p.exists() else ""


def wait_for(predicate: object, timeout: float, what: str) -> None:
    """Poll ``predicate()`` every 0.1 s until true, or fail saying what did not happen."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def wait_listening(ns: Netns, port: int, timeout: float = 10) -> None:
    """Wait until something listens on UDP ``port`` in ``ns`` (a SIPp UAS)."""

    def up() -> bool:
        r = ns.run("ss", "-Hlnu", f"sport = :{port}")
        return bool(r.stdout.strip())

    wait_for(up, timeout, f"a UDP listener on port {port} in {ns.name}")
