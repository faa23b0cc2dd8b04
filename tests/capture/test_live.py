"""Live capture engines: the default filter, the kernel path, dumpcap's stream, errors.

What is proved where:
- the default filter keeps SIP on any port and IP fragments, and drops RTP:
  offline with tcpdump on crafted packets (no root), then in the kernel with
  real traffic on a namespace's loopback (root);
- each packet is seen once (loopback passes every packet twice), numbered
  from 1, stamped by the kernel, and decodes: SIP messages come out of the
  pipeline, the fragmented one reassembled, with ``any`` too (cooked SLL);
- dumpcap's pcapng stream is read with its drop counters, and its errors
  become one-line ``CaptureError``s (a fake dumpcap, no root needed);
- no permission, unknown interface and bad filter all say how to fix them.
"""

from __future__ import annotations

import io
import json
import os
import stat
import struct
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from factories_pcap import (
    PROTO_TCP,
    SYN,
    _block,
    _option,
    eth,
    ipv4,
    ipv4_fragments,
    ipv6,
    ipv6_ext,
    ipv6_fragments,
    pcap,
    pcapng,
    tcp,
    udp,
)
from helpers import ROOT, needs_tool
from live_env import Netns, make_netns

from sipsniff.capture import _dumpcap
from sipsniff.capture import live as live_mod
from sipsniff.capture._dumpcap import _PcapngPipe
from sipsniff.capture.frame import LinkType
from sipsniff.capture.live import (
    DEFAULT_FILTER,
    SNAPLEN,
    compile_bpf,
    open_live,
    permission_error,
)
from sipsniff.capture.pcapng import iter_pcapng
from sipsniff.diagnostics import CaptureError

SIP = b"OPTIONS sip:bob@example.com SIP/2.0\r\nCall-ID: x\r\n\r\n"
RESPONSE = b"SIP/2.0 200 OK\r\nCall-ID: x\r\n\r\n"
RTP = b"\x80\x00\x00\x01" + b"\x00" * 8 + b"RTPMARK" * 20
RTCP = b"\x81\xc8\x00\x06" + b"\x00" * 24
STUN = b"\x00\x01\x00\x00\x21\x12\xa4\x42" + b"\x00" * 12
CRLF = b"\r\n\r\n"
BIG_SIP = b"MESSAGE sip:bob@example.com SIP/2.0\r\nCall-ID: big\r\n\r\n" + b"x" * 2800

# (name, IP packet, kept by the default filter?)
CASES: list[tuple[str, bytes, bool]] = [
    ("udp4 request, port 5060", ipv4(udp(SIP, 5061, 5060)), True),
    ("udp4 request, odd port", ipv4(udp(SIP, 40000, 7777)), True),
    ("udp4 response", ipv4(udp(RESPONSE, 5060, 5061)), True),
    ("udp4 rtp", ipv4(udp(RTP, 40000, 40002)), False),
    ("udp4 rtcp", ipv4(udp(RTCP, 40001, 40003)), False),
    ("udp4 stun", ipv4(udp(STUN, 40000, 3478)), False),
    ("udp4 keep-alive", ipv4(udp(CRLF, 5061, 5060)), False),
    *[
        (f"ipv4 fragment {i}", f, True)
        for i, f in enumerate(ipv4_fragments(udp(BIG_SIP, 5061, 5060), 1480))
    ],
    ("tcp4 sip", ipv4(tcp(SIP, 5061, 5060), proto=PROTO_TCP), True),
    ("tcp4 syn", ipv4(tcp(b"", 40000, 5080, flags=SYN), proto=PROTO_TCP), True),
    ("tcp4 ssh", ipv4(tcp(b"SSH-2.0-x", 40000, 22), proto=PROTO_TCP), False),
    ("udp6 request", ipv6(udp(SIP, 5061, 5060)), True),
    ("udp6 rtp", ipv6(udp(RTP, 40000, 40002)), False),
    ("tcp6 sip", ipv6(tcp(SIP, 5061, 5060), nxt=PROTO_TCP), True),
    *[
        (f"ipv6 fragment {i}", f, True)
        for i, f in enumerate(ipv6_fragments(udp(BIG_SIP, 5061, 5060), 1448))
    ],
    ("ipip tunnel", ipv4(ipv4(udp(SIP, 5061, 5060)), proto=4), True),
    ("ipv6 mld report", ipv6(ipv6_ext(58, 0) + b"\x8f\x00" + b"\x00" * 26, nxt=0), False),
    ("ipv6 hop-by-hop udp", ipv6(ipv6_ext(17, 0) + udp(SIP, 5061, 5060), nxt=0), True),
]


# -- the default filter, offline -------------------------------------------------------


@pytest.mark.parametrize(("linktype", "wrap"), [(LinkType.ETHERNET, eth), (LinkType.RAW, None)])
def test_default_filter_keeps_sip_and_fragments_not_media(
    tmp_path: Path, linktype: int, wrap: Any
) -> None:
    """libpcap (through tcpdump -r) applies the default filter to one packet of each kind."""
    tcpdump = needs_tool("tcpdump")
    packets = []
    for _name, packet, _kept in CASES:
        if wrap is None:
            packets.append(packet)
        else:
            packets.append(wrap(packet, 0x86DD if packet[0] >> 4 == 6 else 0x0800))
    src = tmp_path / "in.pcap"
    src.write_bytes(pcap(packets, linktype=linktype))
    r = subprocess.run(
        [tcpdump, "-r", str(src), "-n", "-tt", DEFAULT_FILTER],
        check=False,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert r.returncode == 0, r.stderr
    # pcap() stamps packet i at 1700000000 + i/100 s: the time says which packet passed
    kept = {
        CASES[round((float(line.split()[0]) - 1_700_000_000) * 100)][0]
        for line in r.stdout.splitlines()
    }
    assert kept == {name for name, _packet, k in CASES if k}


@pytest.mark.parametrize("dlt", [1, 12])
def test_default_filter_compiles_for_kernel(dlt: int) -> None:
    insns = compile_bpf(DEFAULT_FILTER, dlt)
    assert len(insns) > 10
    returns = {k for code, _jt, _jf, k in insns if code == 0x06}
    # accept whole packets (GRO makes them bigger than 64 KiB's default) or nothing
    assert returns == {0, SNAPLEN}


def test_bad_filter_says_why() -> None:
    with pytest.raises(CaptureError) as exc:
        compile_bpf("port nonsense", 1)
    assert str(exc.value) == "bad capture filter 'port nonsense': unknown port 'nonsense'"
    with pytest.raises(CaptureError, match="bad capture filter 'ether host 1:2:3:4:5:6'"):
        compile_bpf("ether host 1:2:3:4:5:6", 12)  # no link header on `any`


# -- errors anyone can hit ----------------------------------------------------------------


def test_permission_error_names_the_fix() -> None:
    msg = str(permission_error("eth0"))
    assert "\n" not in msg
    assert msg.startswith("no permission to capture on eth0: run it with sudo")
    assert msg.endswith(f"setcap cap_net_raw,cap_net_admin=eip {os.path.realpath(sys.executable)}")
    assert "dumpcap" in str(permission_error("eth0", "tshark"))


def test_socket_without_permission_becomes_capture_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """What a user without CAP_NET_RAW gets, whatever user runs the test."""

    def refuse(*_a: object, **_k: object) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(live_mod.socket, "socket", refuse)
    with pytest.raises(CaptureError) as exc:
        open_live("lo", None)
    assert str(exc.value) == str(permission_error("lo"))


def test_unknown_interface_lists_the_real_ones() -> None:
    with pytest.raises(CaptureError) as exc:
        open_live("nosuch0", None)
    msg = str(exc.value)
    assert msg.startswith("unknown interface 'nosuch0': choose one of any, ")
    assert "lo" in msg and "\n" not in msg


def test_unknown_engine() -> None:
    with pytest.raises(CaptureError, match="unknown capture engine 'wireshark'"):
        open_live("lo", None, engine="wireshark")


# -- dumpcap's stream (a fake dumpcap: no root needed) -----------------------------------


def _isb(ifrecv: int, ifdrop: int, osdrop: int, order: str = "<") -> bytes:
    body = struct.pack(order + "III", 0, 0, 0)
    body += _option(4, struct.pack(order + "Q", ifrecv), order)
    body += _option(5, struct.pack(order + "Q", ifdrop), order)
    body += _option(7, struct.pack(order + "Q", osdrop), order)
    body += _option(0, b"", order)
    return _block(5, body, order)


def _stream(order: str = "<") -> bytes:
    packets = [(0, 1_700_000_000_000_000 + i, eth(ipv4(udp(SIP)))) for i in range(3)]
    return pcapng([(LinkType.ETHERNET, None)], packets, order=order) + _isb(10, 3, 2, order)


@pytest.mark.parametrize("order", ["<", ">"])
def test_pcapng_pipe_passes_blocks_and_notes_drops(order: str) -> None:
    pipe = _PcapngPipe(io.BytesIO(_stream(order)))
    frames = list(iter_pcapng(pipe, name="dumpcap", report=lambda d: None))  # type: ignore[arg-type]
    assert [f.number for f in frames] == [1, 2, 3]
    assert pipe.linktype == LinkType.ETHERNET and pipe.ready.is_set()
    assert pipe.drops == {4: 10, 5: 3, 7: 2}


@pytest.fixture
def fake_dumpcap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    yield bindir / "dumpcap"


def _script(path: Path, body: str) -> None:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


def test_dumpcap_engine_reads_frames_and_drops(fake_dumpcap: Path, tmp_path: Path) -> None:
    (tmp_path / "stream.pcapng").write_bytes(_stream())
    _script(fake_dumpcap, f"cat {tmp_path / 'stream.pcapng'}\nexec sleep 30\n")
    cap = open_live("lo", None, engine="tshark")
    try:
        assert cap.linktype == LinkType.ETHERNET
        frames = cap.read(5)
        frames += cap.stop()
    finally:
        cap.close()
    assert [f.number for f in frames] == [1, 2, 3]
    assert cap.stats.received == 3
    assert cap.stats.dropped == 5  # interface 3 + dumpcap 2: shown, never hidden


def test_dumpcap_dying_is_reported(fake_dumpcap: Path, tmp_path: Path) -> None:
    """A capture that ends without being asked to (interface gone) is an error, not silence."""
    (tmp_path / "stream.pcapng").write_bytes(_stream())
    _script(
        fake_dumpcap,
        f"cat {tmp_path / 'stream.pcapng'}\necho 'The network adapter went away' >&2\n",
    )
    cap = open_live("lo", None, engine="tshark")
    frames = []
    try:
        with pytest.raises(CaptureError, match="dumpcap stopped: The network adapter went away"):
            for _ in range(50):
                frames += cap.read(0.1)
    finally:
        cap.close()
    assert len(frames) == 3


@pytest.mark.parametrize(
    ("stderr", "expected"),
    [
        ('dumpcap: There is no device named "nosuch0".', "unknown interface 'nosuch0'"),
        (
            "You don't have permission to capture on that device (socket: Operation not permitted)",
            "no permission to capture on nosuch0: run it with sudo",
        ),
        ("Something else broke", "dumpcap could not capture on nosuch0: Something else broke"),
    ],
)
def test_dumpcap_errors_are_one_line(
    fake_dumpcap: Path, tmp_path: Path, stderr: str, expected: str
) -> None:
    (tmp_path / "stderr").write_text(f"Capturing on 'nosuch0'\n{stderr}\n")
    _script(fake_dumpcap, f"cat {tmp_path / 'stderr'} >&2\nexit 1\n")
    with pytest.raises(CaptureError) as exc:
        open_live("nosuch0", None, engine="tshark")
    assert expected in str(exc.value)
    assert "\n" not in str(exc.value)


def test_missing_dumpcap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_dumpcap.shutil, "which", lambda _name: None)
    with pytest.raises(
        CaptureError, match=r"dumpcap is not installed: install it \(apt install tshark\)"
    ):
        open_live("lo", None, engine="tshark")


# -- the kernel path, for real (root) -----------------------------------------------------

_TRAFFIC = r"""
import json, socket, sys, time
from sipsniff.capture.live import open_live
from sipsniff.pipeline import Pipeline

engine, iface = sys.argv[1], sys.argv[2]
cap = open_live(iface, None, engine=engine)
SIP = b"OPTIONS sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:bob@example.com>\r\nCall-ID: c%d\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
BIG = (b"MESSAGE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK2\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:bob@example.com>\r\nCall-ID: big\r\nCSeq: 1 MESSAGE\r\nContent-Type: text/plain\r\nContent-Length: 2800\r\n\r\n" + b"x" * 2800)
RTP = b"\x80\x00\x00\x01" + b"\x00" * 8 + b"RTPMARK" * 20
t0 = time.time_ns()
u4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); sink.bind(("127.0.0.1", 5060))
sink6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); sink6.bind(("::1", 5060))
rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); rtp.bind(("127.0.0.1", 40002))
for i in range(3):
    u4.sendto(SIP % i, ("127.0.0.1", 5060))
    u4.sendto(RTP, ("127.0.0.1", 40002))
u4.sendto(BIG, ("127.0.0.1", 5060))
u6.sendto(SIP % 10, ("::1", 5060))
u6.sendto(RTP, ("::1", 5060))
srv = socket.socket(); srv.bind(("127.0.0.1", 5080)); srv.listen()
cli = socket.create_connection(("127.0.0.1", 5080)); conn, _ = srv.accept()
cli.sendall((SIP % 20).replace(b"UDP", b"TCP")); conn.recv(4096)
cli.close(); conn.close()
time.sleep(0.3)
frames = []
deadline = time.monotonic() + 2
while time.monotonic() < deadline:
    frames += cap.read(0.1)
frames += cap.stop()
cap.close()
t1 = time.time_ns()
pipe = Pipeline()
for f in frames:
    pipe.feed(f)
pipe.finish()
print(json.dumps({
    "linktype": cap.linktype, "received": cap.stats.received, "dropped": cap.stats.dropped,
    "numbers": [f.number for f in frames], "t0": t0, "t1": t1, "ts": [f.ts_ns for f in frames],
    "rtp": sum(b"RTPMARK" in f.data for f in frames), "data": [f.data.hex() for f in frames],
    "sip": pipe.stats.sip_messages, "not_sip": pipe.stats.not_sip,
    "fragments": pipe.stats.ip_fragments, "methods": dict(pipe.stats.methods), "big": len(BIG),
}))
"""


@pytest.fixture(scope="module")
def loopback_ns() -> Iterator[Netns]:
    """A namespace whose only interface is its loopback, with an Ethernet-sized MTU so
    that a 2.9 kB datagram is fragmented the way it is on a real network."""
    ns = make_netns("cap")
    try:
        subprocess.run(ns.cmd("ip", "link", "set", "lo", "mtu", "1500"), check=True)
        yield ns
    finally:
        ns.delete()


@pytest.mark.parametrize(
    ("engine", "iface", "linktype"),
    [
        ("scapy", "lo", LinkType.ETHERNET),
        ("scapy", "any", LinkType.LINUX_SLL),
        ("tshark", "lo", LinkType.ETHERNET),
        ("tshark", "any", LinkType.LINUX_SLL),
    ],
)
def test_capture_in_the_kernel(loopback_ns: Netns, engine: str, iface: str, linktype: int) -> None:
    if engine == "tshark":
        needs_tool("dumpcap")
    r = subprocess.run(
        loopback_ns.cmd(sys.executable, "-c", _TRAFFIC, engine, iface),
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    assert got["linktype"] == linktype
    n = len(got["numbers"])
    assert got["numbers"] == list(range(1, n + 1))
    assert got["received"] == n and got["dropped"] == 0
    assert all(got["t0"] <= ts <= got["t1"] for ts in got["ts"])
    assert got["rtp"] == 0, "the default filter let RTP through"
    # 3 OPTIONS + the fragmented MESSAGE (2 fragments) + OPTIONS over IPv6 and over TCP,
    # each once although loopback shows every packet twice
    assert got["methods"] == {"OPTIONS": 5, "MESSAGE": 1}
    assert got["sip"] == 6 and got["not_sip"] == 0
    assert got["fragments"] == -(-(got["big"] + 8) // 1480)  # IPv4 fragments at MTU 1500
    assert len(got["data"]) == len(set(got["data"]))
    if linktype == LinkType.LINUX_SLL:
        heads = {bytes.fromhex(d)[:2] for d in got["data"]}
        assert heads <= {b"\x00\x00", b"\x00\x04"}  # to us, or sent by us (SLL packet type)
