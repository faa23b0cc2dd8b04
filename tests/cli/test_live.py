"""``sipsniff live`` for real: SIPp calls across a veth pair, captured while they happen.

The root tests build two network namespaces joined by a veth pair (10.213.0.1
and 10.213.0.2 exist only inside them), run SIPp's UAS in one and UAC in the
other, and ``sipsniff live`` on the caller's end of the pair.  They skip with a
reason on a laptop and fail under CI=true, where the suite runs as root.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from factories import make_invite, make_response, msg, sip_bytes
from helpers import ROOT, needs_root, needs_tool
from live_env import DATA_SIPP, SIPSNIFF, Netns, Sipp, make_pair, wait_for, wait_listening

from sipsniff.capture.frame import Frame, LinkType
from sipsniff.capture.sources import read_frames
from sipsniff.cli import main
from sipsniff.cli._live_session import split_keys
from sipsniff.cli._live_view import LiveCalls
from sipsniff.cli._pcap_out import PcapOut, Rotation, parse_rotate

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


@pytest.fixture
def pair() -> Iterator[tuple[Netns, Netns]]:
    a, b = make_pair("l")
    try:
        yield a, b
    finally:
        a.delete()
        b.delete()


class LiveRun:
    """``sipsniff live`` in namespace ``ns``, NDJSON events into a file."""

    def __init__(self, ns: Netns, tmp: Path, *args: str) -> None:
        self.out_path = tmp / "live.ndjson"
        self.err_path = tmp / "live.err"
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen(
                ns.cmd(*SIPSNIFF, "live", "-i", ns.iface, "--json", *args),
                stdout=out,
                stderr=err,
                cwd=ROOT,
            )
        wait_for(lambda: self.events() or self.proc.poll() is not None, 20, "the capture to start")
        assert self.proc.poll() is None, self.err_path.read_text()
        assert self.events()[0]["type"] == "capture"

    def events(self) -> list[dict[str, Any]]:
        text = self.out_path.read_text()
        return [json.loads(line) for line in text.splitlines() if line.endswith("}")]

    def wait(self, timeout: float) -> int:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(20)
            raise AssertionError(  # noqa: B904 - the timeout is the failure, not its cause
                f"sipsniff live did not stop by itself: {self.err_path.read_text()}"
            )

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def _labels(summary: dict[str, Any]) -> Counter[str]:
    out: Counter[str] = Counter(summary["methods"])
    out.update(summary["statuses"])
    return out


def _tshark_messages(pcap: Path, ports: list[int]) -> list[tuple[int, str, str]]:
    """(frame, Call-ID, method or status) of every SIP message tshark finds in a file."""
    decode = [arg for p in ports for arg in ("-d", f"udp.port=={p},sip")]
    r = subprocess.run(
        [
            needs_tool("tshark"),
            "-r",
            str(pcap),
            *decode,
            "-Y",
            "sip",
            "-T",
            "fields",
            "-E",
            "separator=|",
            "-e",
            "frame.number",
            "-e",
            "sip.Call-ID",
            "-e",
            "sip.Method",
            "-e",
            "sip.Status-Code",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    out = []
    for line in r.stdout.splitlines():
        frame, call_id, method, status = line.split("|")
        out.append((int(frame), call_id, status or method))
    return out


def _sipsniff_messages(events: list[dict[str, Any]]) -> list[tuple[int, str, str]]:
    return [
        (e["frame"], e["call_id"], str(e.get("status") or e["method"]))
        for e in events
        if e["type"] == "message"
    ]


def _start_uas(b: Netns, tmp: Path, specs: list[tuple[str, list[str], int, int]]) -> list[Sipp]:
    servers = []
    for name, scenario, port, calls in specs:
        servers.append(
            Sipp(
                b, tmp, f"uas-{name}", [*scenario, "-i", b.addr, "-p", str(port), "-m", str(calls)]
            )
        )
    for _name, _scenario, port, _calls in specs:
        wait_listening(b, port)
    return servers


# -- root: the proof, for real --------------------------------------------------------


def _answered_and_busy(
    a: Netns,
    b: Netns,
    tmp_path: Path,
    *,
    ok: int,
    busy: int,
    ok_args: list[str],
    busy_args: list[str] | None = None,
) -> tuple[list[Sipp], list[Sipp]]:
    """SIPp UASs in ``b`` (answer on 5060, 486 on 5062) and UACs in ``a`` calling them."""
    servers = _start_uas(
        b,
        tmp_path,
        [
            ("ok", ["-sn", "uas"], 5060, ok),
            ("486", ["-sf", str(DATA_SIPP / "uas_486.xml")], 5062, busy),
        ],
    )
    uac = ["-i", a.addr, "-m"]
    clients = [
        Sipp(
            a,
            tmp_path,
            "ok",
            ["-sn", "uac", f"{b.addr}:5060", *uac, str(ok), "-p", "5070", *ok_args],
        ),
        Sipp(
            a,
            tmp_path,
            "486",
            [
                "-sf",
                str(DATA_SIPP / "uac_rejected.xml"),
                f"{b.addr}:5062",
                *uac,
                str(busy),
                "-p",
                "5072",
                *(busy_args or []),
            ],
        ),
    ]
    return servers, clients


def test_every_call_seen_at_a_sustained_rate(pair: tuple[Netns, Netns], tmp_path: Path) -> None:
    """600 answered calls at 150 calls/s with busy, unavailable and cancelled calls alongside.

    sipsniff must see every call with its outcome, as many messages of each
    kind as SIPp sent and received, lose none (no kernel drop), write a pcap
    tshark reads back with the same messages, and write the report.
    """
    needs_tool("sipp")
    a, b = pair
    n = {"ok": 600, "486": 30, "503": 30, "cancel": 20}
    pcap, report = tmp_path / "live.pcap", tmp_path / "report.json"
    live = LiveRun(
        a,
        tmp_path,
        "--calls",
        str(sum(n.values())),
        "--duration",
        "90",
        "--write-pcap",
        str(pcap),
        "--report",
        str(report),
    )
    servers = clients = []
    try:
        servers = _start_uas(
            b,
            tmp_path,
            [
                ("ok", ["-sn", "uas"], 5060, n["ok"]),
                ("486", ["-sf", str(DATA_SIPP / "uas_486.xml")], 5062, n["486"]),
                ("503", ["-sf", str(DATA_SIPP / "uas_503.xml")], 5064, n["503"]),
                ("cancel", ["-sf", str(DATA_SIPP / "uas_cancel.xml")], 5066, n["cancel"]),
            ],
        )
        rejected = str(DATA_SIPP / "uac_rejected.xml")
        clients = [
            Sipp(
                a,
                tmp_path,
                name,
                [
                    *scenario,
                    f"{b.addr}:{port}",
                    "-i",
                    a.addr,
                    "-p",
                    str(port + 10),
                    "-r",
                    rate,
                    "-m",
                    str(n[name]),
                ],
            )
            for name, scenario, port, rate in (
                ("ok", ["-sn", "uac"], 5060, "150"),
                ("486", ["-sf", rejected], 5062, "10"),
                ("503", ["-sf", rejected], 5064, "10"),
                ("cancel", ["-sf", str(DATA_SIPP / "uac_cancel.xml")], 5066, "10"),
            )
        ]
        for c in clients:
            assert c.wait(60) == 0, c.log()
        for s in servers:
            assert s.wait(20) == 0, s.log()
        assert live.wait(60) == 0, live.err_path.read_text()
    finally:
        for p in (*clients, *servers):
            p.stop()
        live.stop()

    events = live.events()
    summary = events[-1]
    assert summary["type"] == "summary"
    cap = summary["capture"]
    assert cap["stopped_by"] == "calls"
    assert cap["kernel_dropped"] == 0, "the kernel dropped packets: messages were lost"
    assert cap["received"] == summary["frames"]

    # Every message SIPp sent or received, by kind, and nothing SIPp missed.
    expected: Counter[str] = Counter()
    for c in clients:
        assert c.failures() == {}, c.log()
        expected += c.counts()
    assert _labels(summary) == expected
    assert summary["sip_messages"] == sum(expected.values())
    assert summary["malformed_messages"] == 0

    # Every call, with its outcome: SIPp's Call-IDs are N-<pid>@<ip>.
    calls = {e["call_id"]: e for e in events if e["type"] == "call"}
    outcome = {
        "ok": ("answered", 200),
        "486": ("rejected", 486),
        "503": ("rejected", 503),
        "cancel": ("cancelled", 487),
    }
    for c in clients:
        name = c.dir.name
        for i in range(1, n[name] + 1):
            call = calls.pop(f"{i}-{c.proc.pid}@{a.addr}")
            assert (call["state"], call["final_status"]) == outcome[name], call
    assert not calls, f"calls SIPp did not make: {list(calls)[:5]}"

    # A sustained rate of at least 100 calls/s, measured on the captured INVITEs.
    invites = sorted(
        e["epoch"]
        for e in events
        if e["type"] == "message" and e.get("method") == "INVITE" and e["dst"].endswith(":5060")
    )
    span = invites[-1] - invites[0]
    assert span >= 3.0
    assert (len(invites) - 1) / span >= 100, f"{len(invites)} calls in {span:.2f} s"

    # The pcap holds the same messages, frame for frame, as tshark reads it.
    assert _tshark_messages(pcap, [5060, 5062, 5064, 5066]) == _sipsniff_messages(events)
    assert report.exists() and report.stat().st_size > 0
    if report.suffix == ".json":
        doc = json.loads(report.read_text())
        assert len(doc["calls"]) == sum(n.values())


def test_tshark_engine(pair: tuple[Netns, Netns], tmp_path: Path) -> None:
    """The same capture through dumpcap: every call, every message, drops reported."""
    needs_tool("sipp")
    needs_tool("dumpcap")
    a, b = pair
    live = LiveRun(a, tmp_path, "--engine", "tshark", "--calls", "45", "--duration", "60")
    servers = clients = []
    try:
        servers, clients = _answered_and_busy(
            a, b, tmp_path, ok=40, busy=5, ok_args=["-r", "40"], busy_args=["-r", "10"]
        )
        for c in clients:
            assert c.wait(60) == 0, c.log()
        assert live.wait(60) == 0, live.err_path.read_text()
    finally:
        for p in (*clients, *servers):
            p.stop()
        live.stop()
    events = live.events()
    summary = events[-1]
    assert summary["capture"]["engine"] == "tshark"
    assert summary["capture"]["kernel_dropped"] == 0
    expected = clients[0].counts() + clients[1].counts()
    assert _labels(summary) == expected
    states = Counter((e["state"], e["final_status"]) for e in events if e["type"] == "call")
    assert states == {("answered", 200): 40, ("rejected", 486): 5}


def test_sigterm_ends_cleanly(pair: tuple[Netns, Netns], tmp_path: Path) -> None:
    """SIGTERM in the middle of traffic: exit 0, a summary, complete rotated files, a report."""
    needs_tool("sipp")
    a, b = pair
    pcap = tmp_path / "ring" / "sip.pcap"
    pcap.parent.mkdir()
    report = tmp_path / "report.html"  # a format written at the end, not streamed
    live = LiveRun(
        a, tmp_path, "--write-pcap", str(pcap), "--rotate", "1s", "--report", str(report)
    )
    servers = clients = []
    try:
        servers = _start_uas(b, tmp_path, [("ok", ["-sn", "uas"], 5060, 1000)])
        clients = [
            Sipp(
                a,
                tmp_path,
                "ok",
                [
                    "-sn",
                    "uac",
                    f"{b.addr}:5060",
                    "-i",
                    a.addr,
                    "-p",
                    "5070",
                    "-r",
                    "50",
                    "-m",
                    "1000",
                ],
            )
        ]
        wait_for(
            lambda: sum(e["type"] == "call" for e in live.events()) >= 5,
            20,
            "calls to be published",
        )
        time.sleep(1.5)
        live.proc.send_signal(signal.SIGTERM)
        assert live.wait(30) == 0, live.err_path.read_text()
    finally:
        for p in (*clients, *servers):
            p.stop()
        live.stop()
    events = live.events()
    summary = events[-1]
    assert summary["type"] == "summary"
    assert summary["capture"]["stopped_by"] == "SIGTERM"
    files = sorted(pcap.parent.iterdir())
    assert len(files) >= 2
    assert [str(f) for f in files] == sorted(summary["capture"]["pcap_files"])
    total = 0
    for f in files:
        r = subprocess.run(
            [needs_tool("tshark"), "-r", str(f), "-T", "fields", "-e", "frame.number"],
            check=False,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert r.returncode == 0, f"{f.name}: {r.stderr}"
        total += len(r.stdout.split())
    assert total == summary["frames"] == len(list(read_frames(files, lambda d: None)))
    html = report.read_text()
    assert html.lstrip().lower().startswith("<!doctype html")
    some_call = next(e["call_id"] for e in events if e["type"] == "call")
    assert some_call in html


def test_default_interface_and_count(pair: tuple[Netns, Netns], tmp_path: Path) -> None:
    """No -i: the default route's interface; --count N stops after exactly N SIP messages."""
    needs_tool("sipp")
    a, b = pair
    subprocess.run(a.cmd("ip", "route", "add", "default", "via", b.addr), check=True)
    pcap = tmp_path / "twelve.pcap"
    with open(tmp_path / "out", "wb") as out:
        proc = subprocess.Popen(
            a.cmd(*SIPSNIFF, "live", "--json", "--count", "12", "--write-pcap", str(pcap)),
            stdout=out,
            stderr=subprocess.PIPE,
            cwd=ROOT,
        )
    servers = clients = []
    try:
        wait_for((tmp_path / "out").read_text, 20, "the capture to start")
        servers = _start_uas(b, tmp_path, [("ok", ["-sn", "uas"], 5060, 5)])
        clients = [
            Sipp(
                a,
                tmp_path,
                "ok",
                ["-sn", "uac", f"{b.addr}:5060", "-i", a.addr, "-p", "5070", "-r", "10", "-m", "5"],
            )
        ]
        assert proc.wait(30) == 0
    finally:
        for p in (*clients, *servers):
            p.stop()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    events = [json.loads(x) for x in (tmp_path / "out").read_text().splitlines()]
    assert events[0]["interface"] == a.iface
    assert sum(e["type"] == "message" for e in events) == 12
    assert events[-1]["capture"]["stopped_by"] == "count"
    assert events[-1]["sip_messages"] == 12
    assert len(list(read_frames([pcap], lambda d: None))) == events[-1]["frames"]


def _tmux(server: str, *args: str) -> str:
    r = subprocess.run(
        [needs_tool("tmux"), "-L", server, *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=10,
    )
    return r.stdout


def test_dashboard_in_a_terminal(pair: tuple[Netns, Netns], tmp_path: Path) -> None:
    """The dashboard in a real terminal (tmux): calls, an annotation, a ladder, keys, clean exit."""
    needs_tool("sipp")
    a, b = pair
    server = f"sipsniff-test-{os.getpid()}"
    done = tmp_path / "exit"
    argv = " ".join(
        a.cmd(*SIPSNIFF, "live", "-i", a.iface, "--write-pcap", str(tmp_path / "d.pcap"))
    )
    # the pane's own size and terminal type, not pytest's (TERM=dumb, COLUMNS=80)
    script = f"unset COLUMNS LINES; export TERM=xterm-256color; cd {ROOT} && {argv}; echo $? > {done}; sleep 60"
    _tmux(server, "new-session", "-d", "-x", "150", "-y", "45", script)
    servers = clients = []
    try:
        wait_for(
            lambda: "sipsniff live" in _tmux(server, "capture-pane", "-p"), 20, "the dashboard"
        )
        servers, clients = _answered_and_busy(
            a, b, tmp_path, ok=5, busy=2, ok_args=["-r", "5", "-d", "1000"]
        )
        busy = f"-{clients[1].proc.pid}@"
        for c in clients:
            assert c.wait(30) == 0, c.log()

        def screen() -> str:
            return _tmux(server, "capture-pane", "-p")

        # the calls, and the diagnosis of the busy ones once they are published
        wait_for(
            lambda: re.search(r"\[[a-z0-9-]+\] .*486", screen()),
            20,
            f"an annotation of a 486 on the screen:\n{screen()}",
        )
        text = screen()
        assert busy in text and "rejected" in text
        assert f"-{clients[0].proc.pid}@" in text
        assert "kernel drops 0" in text
        _tmux(server, "send-keys", "l")
        wait_for(lambda: "Ladder" in screen() and "486 Busy Here" in screen(), 5, "the ladder")
        assert "INVITE" in screen()
        _tmux(server, "send-keys", "Escape")
        _tmux(server, "send-keys", "f")
        wait_for(lambda: "failed only" in screen(), 5, "the failed-only table")
        assert f"-{clients[0].proc.pid}@" not in screen()
        _tmux(server, "send-keys", "q")
        wait_for(done.exists, 15, "sipsniff to exit after q")
        assert done.read_text().strip() == "0"
        final = screen()
        assert "stopped by quit" in final and "Traceback" not in final, final
    finally:
        for p in (*clients, *servers):
            p.stop()
        _tmux(server, "kill-server")


def test_no_permission_is_one_line_with_the_fix() -> None:
    """Root without CAP_NET_RAW (setpriv drops it) gets the sudo/setcap hint, exit 2."""
    needs_root()
    needs_tool("setpriv")
    for engine in ("scapy", "tshark"):
        r = subprocess.run(
            [
                "setpriv",
                "--bounding-set",
                "-net_raw,-net_admin",
                "--inh-caps",
                "-net_raw,-net_admin",
                *SIPSNIFF,
                "live",
                "-i",
                "lo",
                "--engine",
                engine,
                "--duration",
                "1",
            ],
            check=False,
            capture_output=True,
            text=True,
            timeout=60,
            cwd=ROOT,
        )
        assert r.returncode == 2, r.stderr
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1, r.stderr
        assert "no permission to capture on lo" in lines[0]
        assert "sudo" in lines[0] and "setcap cap_net_raw,cap_net_admin=eip" in lines[0]


# -- anyone ------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ["scapy", "tshark"])
def test_unknown_interface_is_one_line_exit_2(engine: str) -> None:
    if engine == "tshark":
        needs_tool("dumpcap")
    r = subprocess.run(
        [*SIPSNIFF, "live", "-i", "nosuch0", "--engine", engine, "--duration", "1"],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("sipsniff: error: ")
    if os.geteuid() == 0 or engine == "scapy":
        assert "unknown interface 'nosuch0'" in lines[0] and "lo" in lines[0]


def test_bad_filter_is_one_line_exit_2() -> None:
    r = subprocess.run(
        [*SIPSNIFF, "live", "-i", "lo", "-f", "port nonsense", "--duration", "1"],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert r.returncode == 2
    # the filter is compiled before the socket is opened: the same answer without root
    assert r.stderr.strip().splitlines() == [
        "sipsniff: error: bad capture filter 'port nonsense': unknown port 'nonsense'"
    ]


def test_help_has_examples() -> None:
    r = CliRunner().invoke(main, ["live", "--help"])
    assert r.exit_code == 0
    for text in (
        "Examples:",
        "sudo sipsniff live -i any --failed",
        "--rotate 100MB",
        "--engine tshark",
        "setcap cap_net_raw,cap_net_admin=eip",
        "--write-pcap",
        "--report",
        "--json",
        "--calls",
        "--count",
        "--duration",
    ):
        assert text in r.output


def test_report_format_is_checked_before_capturing(tmp_path: Path) -> None:
    r = CliRunner().invoke(main, ["live", "-i", "nosuch0", "--report", str(tmp_path / "r.xyz")])
    assert r.exit_code == 2
    assert "--report" in r.output and "cannot tell the format" in r.output
    assert not (tmp_path / "r.xyz").exists()


def test_rotate_needs_write_pcap() -> None:
    r = CliRunner().invoke(main, ["live", "-i", "lo", "--rotate", "10s"])
    assert r.exit_code == 2
    assert "--write-pcap" in r.output


@pytest.mark.parametrize(
    ("spec", "rotation"),
    [
        ("100MB", Rotation(max_bytes=100_000_000)),
        ("1GiB", Rotation(max_bytes=2**30)),
        ("500k", Rotation(max_bytes=500_000)),
        ("300", Rotation(max_seconds=300)),
        ("30s", Rotation(max_seconds=30)),
        ("10min", Rotation(max_seconds=600)),
        ("1h", Rotation(max_seconds=3600)),
    ],
)
def test_rotate_spec(spec: str, rotation: Rotation) -> None:
    assert parse_rotate(spec) == rotation


@pytest.mark.parametrize("spec", ["10m", "abc", "5 parsecs", "0.5s", "1kB"])
def test_rotate_spec_refused(spec: str) -> None:
    """``m`` could be minutes or megabytes; sub-second periods and tiny files make no sense."""
    with pytest.raises(click.BadParameter):
        parse_rotate(spec)


def _frames(n: int, size: int = 200, step_ns: int = 100_000_000) -> list[Frame]:
    t0 = 1_700_000_000_000_000_000
    return [
        Frame(i + 1, t0 + i * step_ns, LinkType.ETHERNET, bytes([i % 256]) * size, size + 10)
        for i in range(n)
    ]


@pytest.mark.parametrize("rotation", [Rotation(max_bytes=2_000), Rotation(max_seconds=1)])
def test_pcap_out_rotates_into_complete_files(tmp_path: Path, rotation: Rotation) -> None:
    frames = _frames(30)
    out = PcapOut(tmp_path / "cap.pcap", LinkType.ETHERNET, rotation)
    for fr in frames:
        out.write(fr)
    out.close()
    assert len(out.files) >= 3
    assert all(re.fullmatch(r"cap_\d{5}_\d{14}\.pcap", f.name) for f in out.files)
    assert [f.name for f in out.files] == sorted(f.name for f in out.files)
    if rotation.max_bytes:
        assert all(f.stat().st_size <= 2_000 for f in out.files)
    back = list(read_frames(out.files, lambda d: None))
    assert [(f.ts_ns, f.data, f.orig_len) for f in back] == [
        (f.ts_ns, f.data, f.orig_len) for f in frames
    ]


def test_pcap_out_single_file(tmp_path: Path) -> None:
    frames = _frames(5)
    out = PcapOut(tmp_path / "one.pcap", LinkType.LINUX_SLL, None)
    for fr in frames:
        out.write(fr)
    out.close()
    assert out.files == [tmp_path / "one.pcap"]
    back = list(read_frames(out.files, lambda d: None))
    assert [f.data for f in back] == [f.data for f in frames]
    assert {f.linktype for f in back} == {LinkType.LINUX_SLL}


def test_keys_are_split_into_names() -> None:
    assert split_keys("q") == ["q"]
    assert split_keys("\x1b[A\x1b[Bjk\r\nl\x1bf") == [
        "up",
        "down",
        "down",
        "up",
        "enter",
        "enter",
        "l",
        "esc",
        "f",
    ]


def test_live_model_follows_a_call_before_it_ends() -> None:
    model = LiveCalls()
    t = 0.0

    def feed(data: bytes) -> str:
        nonlocal t
        t += 0.1
        row = model.on_message(msg(data, t=t))
        assert row is None or row.call_id == "call-1@test"
        return model.open["call-1@test"].state

    assert feed(make_invite()) == "calling"
    assert feed(make_response(100, "Trying")) == "trying"
    assert feed(make_response(180, "Ringing", to_tag="tt")) == "ringing"
    assert feed(make_response(486, "Busy Here", to_tag="tt")) == "rejected"
    assert model.failed == 1 and model.calls_seen == 1
    row = model.open["call-1@test"]
    assert row.code == 486 and row.label == "486 Busy Here"
    assert feed(sip_bytes("ACK sip:bob@127.0.0.1 SIP/2.0", cseq="1 ACK", to_tag="tt")) == "rejected"
    assert model.rows(failed_only=True, limit=5)[0].call_id == "call-1@test"
    preview = model.analyzed(row, now_ns=int(t * 1e9))
    assert preview.call.final_status == 486 and len(preview.call.messages) == 5


@pytest.mark.parametrize("option", ["--write-pcap", "--report"])
def test_a_symlinked_output_is_refused_before_capturing(tmp_path: Path, option: str) -> None:
    """Issue 16, item 7: live opened its outputs with open(), following planted symlinks."""
    victim = tmp_path / "victim"
    victim.write_text("precious")
    link = tmp_path / ("sip.pcap" if option == "--write-pcap" else "r.json")
    link.symlink_to(victim)
    r = CliRunner().invoke(main, ["live", "-i", "nosuch0", option, str(link)])
    assert r.exit_code == 2
    assert "symbolic link, and live capture never follows links" in r.output
    assert victim.read_text() == "precious" and link.is_symlink()


def test_help_says_outputs_never_follow_symlinks() -> None:
    r = CliRunner().invoke(main, ["live", "--help"])
    flat = " ".join(r.output.split())
    assert "never follow a symbolic link (O_NOFOLLOW" in flat
    assert "or not at all if it is aborted" in flat
