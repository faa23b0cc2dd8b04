"""The native engine gives exactly the reference engine's output.

Differential, as the native-core issue asks: for every bundled capture, every
capture of the shared real-network corpus, the reliability reproducers,
captures built here from random SIP over random link/IP/UDP/TCP framings, and
randomly mutated captures, ``analyze --format json`` (stdout and stderr) is
byte-identical between ``--engine python`` and ``--engine native``; the
messages handed to the dialog layer are equal field by field.
"""

from __future__ import annotations

import gzip
import os
import random
from pathlib import Path

import pytest
from click.testing import CliRunner
from factories_pcap import (
    C4,
    C6,
    S4,
    S6,
    Packet,
    eth,
    ipv4,
    ipv4_fragments,
    ipv6,
    ipv6_fragments,
    loopback,
    pcap,
    sll,
    sll2,
    tcp,
    udp,
)
from helpers import CAPTURES, ROOT, real_captures
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sipsniff import engine
from sipsniff.capture.sources import read_frames
from sipsniff.cli import main
from sipsniff.pipeline import Pipeline
from sipsniff.sip.message import SipMessage

pytestmark = pytest.mark.skipif(
    engine.native_module() is None and not os.environ.get("CI"),
    reason="the native core is not built (make install builds it)",
)

REPRO = ROOT.parent / "shared" / "repro"
_EXAMPLES = int(os.environ.get("SIPSNIFF_FUZZ_EXAMPLES", "40"))
"""Generated captures per run: `make fuzz` raises it; the suite runs a smoke share."""
KNOWN_CRASHES: dict[str, str] = {}
"""Reproducers that still end in an internal error (identically in both engines)."""


def _corpus() -> list[Path]:
    found = sorted(CAPTURES.glob("*.pcap")) + real_captures()
    if REPRO.is_dir():
        found += sorted(p for p in REPRO.iterdir() if p.suffix in (".pcap", ".pcapng"))
    return found


def _cli(eng: str, *args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, ["--engine", eng, *args])
    return r.exit_code, r.stdout, r.stderr


def _same_cli(*args: str) -> None:
    ref = _cli("python", *args)
    nat = _cli("native", *args)
    if not any(name in a for a in args for name in KNOWN_CRASHES):
        assert ref[0] in (0, 1, 2), ref[2]  # 3 would be an internal error, in both
    assert ref[0] == nat[0]
    assert ref[2] == nat[2], "stderr differs"
    assert ref[1] == nat[1], "stdout differs"


def _messages(eng: str, paths: list[Path]) -> tuple[list[SipMessage], Pipeline, int]:
    out: list[SipMessage] = []
    pipe = Pipeline(engine_name=eng, on_message=out.append)
    calls = sum(1 for _ in pipe.run(read_frames(paths, pipe._report)))
    return out, pipe, calls


def _fields(m: SipMessage) -> tuple[object, ...]:
    """Every field, with ``Headers`` compared by what it answers."""
    return (*m[:9], m.headers.items, m.headers.problems, *m[10:])


def _same_pipeline(paths: list[Path]) -> None:
    ref, rp, rcalls = _messages("python", paths)
    nat, np_, ncalls = _messages("native", paths)
    assert [_fields(m) for m in ref] == [_fields(m) for m in nat]
    assert [d.line() for d in rp.diagnostics] == [d.line() for d in np_.diagnostics]
    assert rp.stats == np_.stats
    assert rcalls == ncalls


def test_engine_selection() -> None:
    assert engine.select("python") == "python"
    assert engine.selected() == "python"
    assert engine.select("native") == "native"
    with pytest.raises(ValueError, match="unknown engine"):
        engine.select("rust")
    assert "native core" in engine.describe()
    engine.select(None)


def test_version_says_which_engine() -> None:
    code, out, _ = _cli("native", "--version")
    assert code == 0
    assert "engine: native" in out


@pytest.mark.parametrize("path", _corpus(), ids=lambda p: p.name)
def test_json_identical(path: Path) -> None:
    _same_cli("analyze", "-j", "1", "--format", "json", str(path))


@pytest.mark.parametrize("path", _corpus(), ids=lambda p: p.name)
def test_messages_and_counters_identical(path: Path) -> None:
    _same_pipeline([path])


def test_gzip_and_merged_sources_identical(tmp_path: Path) -> None:
    """Sources the native core does not read itself: frames cross in batches."""
    gz = tmp_path / "demo.pcap.gz"
    gz.write_bytes(gzip.compress((CAPTURES / "demo.pcap").read_bytes()))
    _same_cli("analyze", "-j", "1", "--format", "json", str(gz))
    _same_pipeline([gz, CAPTURES / "call_tcp.pcap"])


def test_text_flow_and_shards_identical() -> None:
    paths = [str(p) for p in sorted(CAPTURES.glob("*.pcap"))]
    _same_cli("analyze", "--failed", "--flow", "--width", "100", *paths)
    _same_cli("analyze", "-j", "2", "--format", "json", *paths)


# -- generated captures ------------------------------------------------------


def _sip(rng: random.Random, n: int) -> bytes:
    """A SIP message with the oddities real stacks send, chosen at random."""
    cid = rng.choice(["a84b4c76e66710", "x@h", "Ünïcode-id", "c" * 80])
    hdr = [
        f"Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK{n}" + rng.choice(["", ",SIP/2.0/UDP h"]),
        rng.choice(["From", "f", "FROM"]) + f': "Ål {n}" <sip:a@h;tag=u>;tag=t{n}',
        rng.choice(["To", "t"]) + ": <sip:b@h>" + rng.choice(["", ";tag=r1", " ; TAG = x"]),
        rng.choice(["Call-ID", "i", "call-ID"]) + rng.choice([": ", ":", " :\t"]) + cid,
        "CSeq: " + rng.choice([f"{n} INVITE", f"{n}\tBYE", "x INVITE", "", "1_0 ACK", "٣ X"]),
    ]
    rng.shuffle(hdr)
    if rng.random() < 0.15:
        hdr.pop()
    if rng.random() < 0.1:
        hdr.insert(rng.randrange(len(hdr)), rng.choice([" folded", "nocolon", "X: \x0b"]))
    body = rng.choice([b"", b"v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 4000 RTP/AVP 0\r\n"])
    if body or rng.random() < 0.5:
        cl = rng.choice([len(body), len(body), len(body) + 3, max(0, len(body) - 2)])
        hdr.append(rng.choice(["Content-Length", "l"]) + f": {cl}")
    if body and rng.random() < 0.7:
        hdr.append("c: application/sdp")
    start = rng.choice(
        ["INVITE sip:b@h SIP/2.0", "SIP/2.0 200 OK", "SIP/2.0 486", "BYE sip:x SIP/2.0", "JUNK x"]
    )
    eol = rng.choice(["\r\n", "\r\n", "\n"])
    text = start + eol + eol.join(hdr) + "\r\n\r\n"
    return text.encode() + body + rng.choice([b"", b"\r\n", b"\x00\x00", b"trailing"])


_LINKS = {
    1: eth,
    -1: lambda p, et: eth(p, et, vlans=((0x8100, 7),)),
    113: sll,
    276: sll2,
    0: lambda p, et: loopback(p, 10 if et == 0x86DD else 2),
    101: lambda p, _et: p,
}


def _packets(rng: random.Random, payload: bytes, seq: int, link: int) -> list[bytes]:
    """Frames (of link type ``link``) carrying ``payload`` over a random IP/UDP/TCP framing."""
    v6 = rng.random() < 0.3
    src, dst = (C6, S6) if v6 else (C4, S4)
    if rng.random() < 0.2:
        src, dst = src._replace(port=rng.choice([40000, 5062])), dst._replace(port=40002)
    how = rng.random()
    if how < 0.1:
        dgram = udp(payload, src.port, dst.port)
        pieces = (ipv6_fragments if v6 else ipv4_fragments)(dgram, 24, src.ip, dst.ip)
    elif how < 0.25:
        seg = tcp(payload, src.port, dst.port, seq=seq)
        pieces = [ipv6(seg, src.ip, dst.ip, 6) if v6 else ipv4(seg, src.ip, dst.ip, 6)]
    else:
        dgram = udp(payload, src.port, dst.port)
        pieces = [ipv6(dgram, src.ip, dst.ip) if v6 else ipv4(dgram, src.ip, dst.ip)]
    et = 0x86DD if v6 else 0x0800
    return [_LINKS[link](p, et) for p in pieces]


@settings(
    max_examples=_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(seed=st.integers(0, 2**32 - 1))
def test_random_sip_over_random_framings(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    link = rng.choice(sorted(_LINKS))
    packets: list[Packet] = []
    seq = 1000
    ts = 1_700_000_000_000_000_000
    for n in range(rng.randrange(1, 12)):
        payload = _sip(rng, n)
        for data in _packets(rng, payload, seq, link):
            ts += rng.choice([100_000, 2_000_000_000, 30_000_000_000])
            packets.append(Packet(data, ts_ns=ts))
        seq += len(payload)
    path = tmp_path / f"gen-{seed}.pcap"
    path.write_bytes(pcap(packets, linktype=max(link, 1)))
    _same_pipeline([path])


@pytest.mark.parametrize("seed", range(max(12, _EXAMPLES // 20)))
def test_mutated_captures(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    sources = sorted(CAPTURES.glob("*.pcap"))
    data = bytearray(rng.choice(sources).read_bytes())
    for _ in range(rng.randrange(1, 40)):
        i = rng.randrange(24, len(data))
        data[i] = rng.randrange(256)
    path = tmp_path / f"mut-{seed}.pcap"
    path.write_bytes(bytes(data))
    _same_cli("analyze", "-j", "1", "--format", "json", str(path))
    _same_pipeline([path])
