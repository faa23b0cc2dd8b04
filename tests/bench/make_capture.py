"""Make the benchmark captures: real SIPp traffic, a 4x copy, and three hostile files.

Strategy:
- ``record``: several SIPp UAC/UAS pairs (tests/bench/scenarios) run at once on
  loopback (127.0.1.N for the servers, 127.0.2.N for the clients) while
  ``tcpdump -i lo -U -s 0 -w`` records port 5060.  The pairs give the outcome
  mix of issue 6: answered calls hung up by either side, 404/480/486/503,
  407-then-200, 401-then-200 registrations, OPTIONS pings, CANCEL/487, and
  about 10% of the INVITE dialogs over TCP (one pair on one shared connection,
  ``-t t1``; one with a connection per call, ``-t tn``).  It runs inside a
  private network namespace (``unshare --net``: only its own ``lo``) when it
  can, so other programs' loopback traffic never ends up in the file.
- ``record-rtp``: calls that really carry audio.  SIPp UAC/UAS pairs
  (127.0.5.N calling 127.0.4.N, scenarios uac_rtp/uas_rtp) set up answered
  PCMU calls; after the ACK the caller plays a raw u-law file made here
  (``make_ulaw``: 160 bytes per 20 ms) with SIPp's RTPSTREAM
  (``<exec rtp_stream="bench-audio.ulaw,1,0"/>``) and the callee's
  ``-rtp_echo`` returns every packet, so both directions flow, 100 packets a
  second per call.  tcpdump records all UDP and TCP on lo (in the private
  namespace nothing else is there).  SIPp 3.6 sends every call of a process
  from one media socket, so the calls of one pair share a media 4-tuple and
  differ by SSRC.  ``check-rtp`` asks tshark what it sees (RTP streams with
  ``rtp.heuristic_rtp``, and ``-z sip,stat``).
- ``multiply``: N time-shifted copies of a capture, concatenated.  Copy k gets
  distinct Call-IDs, tags and branches by replacing the last two characters of
  every value with k in base 36.  The scenarios end every such value in "00",
  so the copies are distinct from the original and from each other; the
  substitution keeps every length, so IP and UDP lengths and TCP sequence
  numbers stay valid.  Values are found in each UDP datagram and in each TCP
  stream as reassembled from sequence numbers (a value may straddle two
  segments).  TCP sequence numbers of copy k are moved by k/4 of the sequence
  space so a reused 4-tuple reads as a new connection, and the UDP/TCP
  checksums of rewritten packets are recomputed.
- ``same-media``, ``flood``, ``huge-cl``: the adversarial captures, crafted
  packet by packet with a small pcap writer (no SIP stack sends these).
- ``count``: an independent count of SIP messages (start lines in UDP
  payloads and in reassembled TCP streams), used as the reference.

Rules:
- Every address is in 127.0.0.0/8; ``count`` reports any packet that is not.
- Pure standard library: this file must not import sipsniff (it makes the
  input that sipsniff is measured on).
"""

from __future__ import annotations

import argparse
import bisect
import functools
import heapq
import json
import math
import os
import re
import resource
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "PAIRS",
    "Pair",
    "PcapWriter",
    "count_sip",
    "make_flood",
    "make_huge_cl",
    "make_same_media",
    "make_ulaw",
    "multiply",
    "read_pcap",
    "record",
    "record_rtp",
    "tshark_rtp_streams",
]

HERE = Path(__file__).resolve().parent
SCENARIOS = HERE / "scenarios"

# -- SIPp traffic ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Pair:
    """One SIPp UAS and the UAC that calls it."""

    name: str
    uas: str
    """Scenario file name (without .xml) of the server side."""
    uac: str
    cps: float
    """Calls (or registrations, pings) per second started by the UAC."""
    transport: str = "u1"
    """SIPp -t value: u1 (UDP), t1 (one TCP connection), tn (a connection per call)."""
    auth: bool = False
    """The UAC answers digest challenges (-au/-ap)."""


# Rates give about 2,450 SIP messages/s in all: answered calls 7 messages each,
# refused 4-5, proxy-auth 10, cancelled 7, registrations 4, pings 2.  TCP carries
# 34 of the 324 INVITE dialogs a second (10.5%).
PAIRS = (
    Pair(name="call", uas="uas_call", uac="uac_call", cps=130),
    Pair(name="hangup", uas="uas_hangup", uac="uac_callee_bye", cps=90),
    Pair(name="reject", uas="uas_reject", uac="uac_reject", cps=35),
    Pair(name="auth", uas="uas_proxy_auth", uac="uac_proxy_auth", cps=20, auth=True),
    Pair(name="cancel", uas="uas_cancel", uac="uac_cancel", cps=15),
    Pair(name="register", uas="uas_register", uac="uac_register", cps=30, auth=True),
    Pair(name="options", uas="uas_options", uac="uac_options", cps=30),
    Pair(name="call-tcp", uas="uas_call", uac="uac_call", cps=20, transport="t1"),
    Pair(name="hangup-tcp", uas="uas_hangup", uac="uac_callee_bye", cps=14, transport="tn"),
)
SIP_PORT = 5060
BPF_FILTER = f"port {SIP_PORT} and (net 127.0.1.0/24 or net 127.0.2.0/24)"
_NETNS_ENV = "SIPSNIFF_BENCH_NETNS"
# -U: write each packet at once; --immediate-mode: no kernel batching, so stopping
# tcpdump loses nothing; -B: 32 MiB of kernel buffer against drops at 2,500 packets/s.
_TCPDUMP = ("tcpdump", "-i", "lo", "-n", "-U", "--immediate-mode", "-s", "0", "-B", "32768")


def _uas_ip(i: int) -> str:
    return f"127.0.1.{i + 1}"


def _uac_ip(i: int) -> str:
    return f"127.0.2.{i + 1}"


def _listening(ip: str, port: int, tcp: bool) -> bool:
    """Is a socket bound to ip:port (UDP) or listening there (TCP)? Reads /proc/net."""
    want = f"{socket.htonl(int.from_bytes(socket.inet_aton(ip), 'big')):08X}:{port:04X}"
    table = Path("/proc/net/tcp" if tcp else "/proc/net/udp").read_text().splitlines()[1:]
    for line in table:
        f = line.split()
        if f[1] == want and (not tcp or f[3] == "0A"):
            return True
    return False


def _sockets(pr: Pair) -> list[str]:
    # SIPp refuses -t tn when its default of 50,000 sockets exceeds the open-file limit.
    return ["-max_socket", "4096"] if pr.transport == "tn" else []


def _sipp_totals(log: Path) -> tuple[int, int]:
    """(successful, failed) calls from the last statistics screen SIPp printed."""
    ok = failed = -1
    text = log.read_text(errors="replace") if log.exists() else ""
    for line in text.splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) == 3 and cells[0] in ("Successful call", "Failed call"):
            try:
                value = int(cells[2])
            except ValueError:
                continue
            if cells[0] == "Successful call":
                ok = value
            else:
                failed = value
    return ok, failed


def _stop(p: subprocess.Popen[bytes], sig: int = signal.SIGTERM, wait: float = 10.0) -> None:
    """Stop one process we started (by its own handle), escalating to SIGKILL."""
    if p.poll() is None:
        p.send_signal(sig)
        try:
            p.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def _in_netns(args: list[str]) -> dict[str, object] | None:
    """Re-run this file's command ``args`` in a private network namespace.

    Returns the child's JSON line, or None when the caller is to record here: it
    already runs in the namespace (its ``lo`` is then brought up), or no namespace
    can be made (the host's ``lo`` is used, which other programs may share).

    Raises:
        RuntimeError: sipp or tcpdump is missing, or the child failed.
    """
    for tool in ("sipp", "tcpdump"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"{tool} not found (apt-get install sip-tester tcpdump)")
    if os.environ.get(_NETNS_ENV) is None and shutil.which("unshare"):
        env = dict(os.environ, **{_NETNS_ENV: "private"})
        cmd = ["unshare", "--net", sys.executable, str(Path(__file__).resolve()), *args]
        probe = subprocess.run(["unshare", "--net", "true"], capture_output=True, check=False)
        if probe.returncode == 0:
            res = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, check=False)
            if res.returncode != 0:
                raise RuntimeError(f"recording in a network namespace failed ({res.returncode})")
            info: dict[str, object] = json.loads(res.stdout.decode().strip().splitlines()[-1])
            return info
        print("make_capture: cannot make a network namespace; using the host's lo", file=sys.stderr)
    if os.environ.get(_NETNS_ENV) == "private":
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    return None


def record(out: Path, seconds: float) -> dict[str, object]:
    """Record ``seconds`` of the SIPp mix into ``out``; return what happened.

    Runs in a private network namespace when possible (re-executing this file
    under ``unshare --net``); needs root for tcpdump.

    Raises:
        RuntimeError: a tool is missing, tcpdump or a UAS did not start.
    """
    info = _in_netns(["record", str(out), "--seconds", str(seconds)])
    if info is not None:
        return info
    netns = os.environ.get(_NETNS_ENV, "host")
    work = Path(tempfile.mkdtemp(prefix="sipsniff-bench-rec."))
    tmp = out.with_name(out.name + ".part")
    procs: list[subprocess.Popen[bytes]] = []
    try:
        td_log = work / "tcpdump.log"
        td = _start_tcpdump(tmp, td_log, BPF_FILTER, procs)
        common = ["-nostdin", "-trace_err", "-cid_str", "%u-%p@%s-00"]
        uas_procs = []
        for i, pr in enumerate(PAIRS):
            cmd = ["sipp", "-sf", str(SCENARIOS / f"{pr.uas}.xml"), "-i", _uas_ip(i)]
            cmd += ["-p", str(SIP_PORT), "-t", pr.transport, "-key", "run", pr.name]
            cmd += ["-mp", str(20000 + 100 * i), *common, *_sockets(pr)]
            with open(work / f"uas-{pr.name}.out", "wb") as so:
                uas_procs.append(subprocess.Popen(cmd, cwd=work, stdout=so, stderr=so))
        procs.extend(uas_procs)
        for i, pr in enumerate(PAIRS):
            _wait_for(
                functools.partial(_listening, _uas_ip(i), SIP_PORT, pr.transport != "u1"),
                10,
                functools.partial(
                    _tail, work / f"uas-{pr.name}.out", f"UAS {pr.uas} did not start"
                ),
            )
        started = time.time()
        uac_procs = []
        for i, pr in enumerate(PAIRS):
            calls = max(1, round(pr.cps * seconds))
            cmd = ["sipp", "-sf", str(SCENARIOS / f"{pr.uac}.xml"), "-i", _uac_ip(i)]
            cmd += ["-p", str(SIP_PORT), "-t", pr.transport, "-key", "run", pr.name]
            cmd += ["-r", str(pr.cps), "-m", str(calls), "-l", "5000", "-recv_timeout", "20000"]
            cmd += ["-mp", str(10000 + 100 * i), *common, *_sockets(pr)]
            if pr.auth:
                cmd += ["-au", "alice", "-ap", "secret"]
            cmd.append(f"{_uas_ip(i)}:{SIP_PORT}")
            with open(work / f"uac-{pr.name}.out", "wb") as so:
                uac_procs.append(subprocess.Popen(cmd, cwd=work, stdout=so, stderr=so))
        procs.extend(uac_procs)
        deadline = time.monotonic() + seconds + 120
        for p in uac_procs:
            try:
                p.wait(timeout=max(1.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _stop(p)
        for p in uas_procs:
            _stop(p)
        time.sleep(1.0)  # the last FINs and retransmissions land
        _stop(td, signal.SIGINT)
        pairs: dict[str, object] = {}
        for pr, p in zip(PAIRS, uac_procs, strict=True):
            ok, failed = _sipp_totals(work / f"uac-{pr.name}.out")
            pairs[pr.name] = {"rc": p.returncode, "successful": ok, "failed": failed}
        os.replace(tmp, out)
        return {
            "file": str(out),
            "seconds": round(time.time() - started, 1),
            "netns": netns,
            "pairs": pairs,
            "tcpdump_dropped": _tcpdump_dropped(td_log),
        }
    finally:
        for p in procs:
            _stop(p, wait=3.0)
        if tmp.exists():
            tmp.unlink()
        shutil.rmtree(work, ignore_errors=True)


def _start_tcpdump(
    tmp: Path,
    log: Path,
    bpf: str,
    procs: list[subprocess.Popen[bytes]],
    argv: tuple[str, ...] = _TCPDUMP,
) -> subprocess.Popen[bytes]:
    """Start tcpdump on lo writing ``tmp`` (added to ``procs``); return once it listens."""
    with open(log, "wb") as tdl:
        td = subprocess.Popen([*argv, "-w", str(tmp), bpf], stdout=subprocess.DEVNULL, stderr=tdl)
    procs.append(td)
    _wait_for(
        lambda: b"listening on" in log.read_bytes(),
        10,
        functools.partial(_tail, log, "tcpdump did not start"),
    )
    return td


def _tcpdump_dropped(log: Path) -> int:
    """Packets tcpdump said the kernel dropped (-1: it did not say)."""
    m = re.search(r"(\d+) packets dropped by kernel", log.read_text(errors="replace"))
    return int(m.group(1)) if m else -1


# -- SIPp calls with audio (RTP) ------------------------------------------------------

RTP_BPF = "udp or tcp"
"""Everything: the namespace's lo carries only the recording's own traffic."""
# 20,000 packets/s and more: immediate mode (a wake-up per packet) fell behind on a
# busy 2-core machine and the kernel dropped 0.8 %; kernel batching (blocks handed
# over when full or after tcpdump's 1 s timeout) with a 256 MiB buffer keeps up,
# and the recorder waits 2 s before stopping it so the last block is written.
_TCPDUMP_RTP = ("tcpdump", "-i", "lo", "-n", "-U", "-s", "0", "-B", "262144")
_ULAW_BIAS, _ULAW_CLIP = 0x84, 32635


def _lin2ulaw(sample: int) -> int:
    """One 16-bit linear sample as a G.711 u-law byte (as audioop.lin2ulaw, which 3.13 drops)."""
    sign = 0x80 if sample < 0 else 0
    mag = min(abs(sample), _ULAW_CLIP) + _ULAW_BIAS
    exp = 7
    while exp > 0 and not mag & (0x4000 >> (7 - exp)):
        exp -= 1
    return ~(sign | exp << 4 | (mag >> (exp + 3)) & 0x0F) & 0xFF


def make_ulaw(dst: Path, seconds: float) -> int:
    """Write ``seconds`` of raw PCMU (8 kHz, 160 bytes per 20 ms) to ``dst``; return bytes.

    The sound: a 425 Hz tone, one second on and one off (a ringback-like cadence),
    so the payloads are neither constant nor all silence (u-law silence is 0xFF).
    """
    tone = bytes(
        _lin2ulaw(round(6000 * math.sin(2 * math.pi * 425 * i / 8000))) for i in range(8000)
    )
    quiet = bytes([0xFF]) * 8000
    whole = int(seconds)
    data = b"".join(tone if s % 2 == 0 else quiet for s in range(whole))
    data += tone[: int((seconds - whole) * 8000) // 160 * 160]
    dst.write_bytes(data)
    return len(data)


def _rtp_ips(i: int) -> tuple[str, str]:
    """(UAS, UAC) addresses of RTP pair ``i``: 127.0.4.N and 127.0.5.N."""
    return f"127.0.4.{i + 1}", f"127.0.5.{i + 1}"


def record_rtp(
    out: Path, calls: int, seconds: float, pairs: int = 10, ramp: float = 20.0
) -> dict[str, object]:
    """Record ``calls`` answered SIPp calls, each with ``seconds`` of PCMU both ways.

    ``pairs`` UAC/UAS pairs share the calls; each UAC starts its calls evenly
    over ``ramp`` seconds, so about ``calls`` are up at once and the capture
    holds about ``calls * seconds * 100`` RTP packets.  The caller plays
    bench-audio.ulaw with SIPp's RTPSTREAM (``<exec rtp_stream=...>``, 50
    packets a second); the callee's ``-rtp_echo`` sends each packet back.
    tcpdump records all UDP and TCP on lo in the private namespace.

    Raises:
        RuntimeError: a tool is missing, tcpdump or a UAS did not start.
    """
    args = ["record-rtp", str(out), "--calls", str(calls), "--seconds", str(seconds)]
    info = _in_netns([*args, "--pairs", str(pairs), "--ramp", str(ramp)])
    if info is not None:
        return info
    netns = os.environ.get(_NETNS_ENV, "host")
    work = Path(tempfile.mkdtemp(prefix="sipsniff-bench-rtp."))
    tmp = out.with_name(out.name + ".part")
    procs: list[subprocess.Popen[bytes]] = []
    per_pair = [calls // pairs + (i < calls % pairs) for i in range(pairs)]
    try:
        audio = make_ulaw(work / "bench-audio.ulaw", seconds)
        td_log = work / "tcpdump.log"
        td = _start_tcpdump(tmp, td_log, RTP_BPF, procs, _TCPDUMP_RTP)
        common = ["-nostdin", "-trace_err", "-cid_str", "%u-%p@%s-00", "-t", "u1"]
        uas_procs = []
        for i in range(pairs):
            ip = _rtp_ips(i)[0]
            cmd = ["sipp", "-sf", str(SCENARIOS / "uas_rtp.xml"), "-i", ip, "-p", str(SIP_PORT)]
            cmd += ["-mi", ip, "-mp", str(20000 + 4 * i), "-rtp_echo", "-key", "run", "rtp"]
            with open(work / f"uas-{i}.out", "wb") as so:
                uas_procs.append(subprocess.Popen([*cmd, *common], cwd=work, stdout=so, stderr=so))
        procs.extend(uas_procs)
        for i in range(pairs):
            _wait_for(
                functools.partial(_listening, _rtp_ips(i)[0], SIP_PORT, False),
                10,
                functools.partial(_tail, work / f"uas-{i}.out", "UAS uas_rtp did not start"),
            )
        started = time.time()
        uac_procs = []
        for i, n in enumerate(per_pair):
            uas, uac = _rtp_ips(i)
            cmd = ["sipp", "-sf", str(SCENARIOS / "uac_rtp.xml"), "-i", uac, "-p", str(SIP_PORT)]
            cmd += ["-mi", uac, "-mp", str(30000 + 4 * i), "-key", "run", "rtp"]
            cmd += ["-r", f"{max(n, 1) / ramp:.3f}", "-m", str(n), "-l", str(n)]
            cmd += ["-d", str(round(seconds * 1000)), "-recv_timeout", "20000"]
            cmd += [*common, f"{uas}:{SIP_PORT}"]
            with open(work / f"uac-{i}.out", "wb") as so:
                uac_procs.append(subprocess.Popen(cmd, cwd=work, stdout=so, stderr=so))
        procs.extend(uac_procs)
        deadline = time.monotonic() + ramp + seconds + 120
        for p in uac_procs:
            try:
                p.wait(timeout=max(1.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _stop(p)
        for p in uas_procs:
            _stop(p)
        time.sleep(2.5)  # the last echoes land, and tcpdump's last block (1 s timeout)
        _stop(td, signal.SIGINT)
        ok = failed = 0
        for i in range(pairs):
            o, f = _sipp_totals(work / f"uac-{i}.out")
            ok, failed = ok + max(o, 0), failed + max(f, 0)
        os.replace(tmp, out)
        return {
            "file": str(out),
            "seconds": round(time.time() - started, 1),
            "netns": netns,
            "calls": calls,
            "call_seconds": seconds,
            "pairs": pairs,
            "audio_bytes": audio,
            "successful": ok,
            "failed": failed,
            "uac_rc": [p.returncode for p in uac_procs],
            "tcpdump_dropped": _tcpdump_dropped(td_log),
        }
    finally:
        for p in procs:
            _stop(p, wait=3.0)
        if tmp.exists():
            tmp.unlink()
        shutil.rmtree(work, ignore_errors=True)


def _tail(log: Path, what: str) -> str:
    return f"{what}: {log.read_text(errors='replace')[-500:]}"


def _wait_for(cond: Callable[[], bool], seconds: float, why: Callable[[], str]) -> None:
    """Poll ``cond`` for up to ``seconds``; then fail with ``why()`` (read at that moment)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.05)
    raise RuntimeError(why())


# -- pcap reading and writing ---------------------------------------------------------

_PCAP_HDR = struct.Struct("<IHHiIII")
_REC = struct.Struct("<IIII")
_IPV4 = struct.Struct("!BBHHHBBH4s4s")
_TCP_SEQ = struct.Struct("!II")
_LINK_OFFSETS = {1: 14, 113: 16, 0: 4, 108: 4, 101: 0, 228: 0}


@dataclass(frozen=True, slots=True, kw_only=True)
class Packet:
    """An IPv4 UDP or TCP packet located inside a captured frame."""

    proto: int
    """6 (TCP) or 17 (UDP)."""
    ip_off: int
    l4_off: int
    payload_off: int
    end: int
    src: bytes
    dst: bytes
    sport: int
    dport: int
    seq: int = 0
    flags: int = 0


def read_pcap(path: Path) -> tuple[bytes, int, Iterator[tuple[int, int, bytes]]]:
    """Open a little-endian microsecond pcap; return (header, linktype, records).

    Records are (ts_us, orig_len, data).  tcpdump writes this format on Linux.

    Raises:
        ValueError: not a little-endian microsecond pcap file.
    """
    fp = open(path, "rb")  # noqa: SIM115 - closed by the generator
    head = fp.read(24)
    if len(head) < 24 or head[:4] != b"\xd4\xc3\xb2\xa1":
        fp.close()
        raise ValueError(f"{path}: not a little-endian microsecond pcap file")
    linktype = _PCAP_HDR.unpack(head)[6] & 0x0FFFFFFF

    def records() -> Iterator[tuple[int, int, bytes]]:
        with fp:
            read = fp.read
            while True:
                rh = read(16)
                if len(rh) < 16:
                    return
                sec, usec, incl, orig = _REC.unpack(rh)
                data = read(incl)
                if len(data) < incl:
                    return
                yield sec * 1_000_000 + usec, orig, data

    return head, linktype, records()


def parse_packet(data: bytes, linktype: int) -> Packet | None:
    """Locate the IPv4 UDP/TCP payload of a frame; None for anything else."""
    off = _LINK_OFFSETS.get(linktype)
    if off is None or len(data) < off + 20:
        return None
    if linktype == 1 and data[12:14] != b"\x08\x00":
        return None
    vihl, _tos, total, _id, frag, _ttl, proto, _ck, src, dst = _IPV4.unpack_from(data, off)
    if vihl >> 4 != 4 or frag & 0x3FFF or proto not in (6, 17):
        return None
    l4 = off + (vihl & 15) * 4
    end = min(len(data), off + total)
    sport, dport = struct.unpack_from("!HH", data, l4)
    if proto == 17:
        return Packet(
            proto=17, ip_off=off, l4_off=l4, payload_off=l4 + 8, end=end,
            src=src, dst=dst, sport=sport, dport=dport,
        )  # fmt: skip
    seq = _TCP_SEQ.unpack_from(data, l4 + 4)[0]
    hlen = (data[l4 + 12] >> 4) * 4
    return Packet(
        proto=6, ip_off=off, l4_off=l4, payload_off=l4 + hlen, end=end,
        src=src, dst=dst, sport=sport, dport=dport, seq=seq, flags=data[l4 + 13],
    )  # fmt: skip


def _csum_add(data: bytes | bytearray | memoryview) -> int:
    # One's-complement sums do not depend on byte order (RFC 1071 section 2(B)):
    # summing native little-endian words yields the byte-swapped sum, which
    # packed back natively is the right checksum in network order.
    if len(data) % 2:
        data = bytes(data) + b"\0"
    return sum(memoryview(data).cast("H"))


def _fix_l4_checksum(buf: bytearray, p: Packet) -> None:
    """Recompute the UDP or TCP checksum of the packet in ``buf`` (IPv4 pseudo-header)."""
    ck_off = p.l4_off + (6 if p.proto == 17 else 16)
    buf[ck_off : ck_off + 2] = b"\0\0"
    length = p.end - p.l4_off
    pseudo = p.src + p.dst + struct.pack("!BBH", 0, p.proto, length)
    s = _csum_add(pseudo) + _csum_add(memoryview(buf)[p.l4_off : p.end])
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    ck = ~s & 0xFFFF
    if p.proto == 17 and ck == 0:
        ck = 0xFFFF
    struct.pack_into("=H", buf, ck_off, ck)


class PcapWriter:
    """Writes Ethernet (DLT_EN10MB) pcap records of IPv4 UDP/TCP packets, as tcpdump on lo."""

    def __init__(self, path: Path) -> None:
        self._fp = open(path, "wb")  # noqa: SIM115 - closed by close()
        self._fp.write(_PCAP_HDR.pack(0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        self._ident = 0
        self.packets = 0

    def close(self) -> None:
        self._fp.close()

    def __enter__(self) -> PcapWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _ip(self, ts_us: int, proto: int, src: str, dst: str, l4: bytearray) -> None:
        self._ident = (self._ident + 1) & 0xFFFF
        hdr = bytearray(
            _IPV4.pack(
                0x45, 0, 20 + len(l4), self._ident, 0x4000, 64, proto, 0,
                socket.inet_aton(src), socket.inet_aton(dst),
            )
        )  # fmt: skip
        s = _csum_add(hdr)
        while s >> 16:
            s = (s & 0xFFFF) + (s >> 16)
        struct.pack_into("=H", hdr, 10, ~s & 0xFFFF)
        frame = bytearray(b"\0" * 12 + b"\x08\x00") + hdr + l4
        p = parse_packet(bytes(frame), 1)
        assert p is not None
        _fix_l4_checksum(frame, p)
        self._fp.write(_REC.pack(ts_us // 1_000_000, ts_us % 1_000_000, len(frame), len(frame)))
        self._fp.write(frame)
        self.packets += 1

    def udp(self, ts_us: int, src: tuple[str, int], dst: tuple[str, int], payload: bytes) -> None:
        """One UDP datagram."""
        l4 = bytearray(struct.pack("!HHHH", src[1], dst[1], 8 + len(payload), 0)) + payload
        self._ip(ts_us, 17, src[0], dst[0], l4)

    def tcp(
        self,
        ts_us: int,
        src: tuple[str, int],
        dst: tuple[str, int],
        seq: int,
        ack: int,
        flags: int,
        payload: bytes = b"",
    ) -> None:
        """One TCP segment (flags: 0x02 SYN, 0x10 ACK, 0x18 PSH|ACK, 0x11 FIN|ACK)."""
        l4 = bytearray(
            struct.pack(
                "!HHIIBBHHH", src[1], dst[1], seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                5 << 4, flags, 65535, 0, 0,
            )
        ) + payload  # fmt: skip
        self._ip(ts_us, 6, src[0], dst[0], l4)


# -- counting -------------------------------------------------------------------------

_START_LINE = re.compile(rb"(?m)^(?:[A-Z]{2,16} [^ \r\n]+ SIP/2\.0\r?$|SIP/2\.0 [1-6][0-9][0-9] )")


_Key = tuple[bytes, int, bytes, int, int]
_MAX_JUMP = 16 * 1024 * 1024


class _Streams:
    """TCP directions reassembled by sequence number (bytes placed at their offsets).

    A SYN on a 4-tuple seen before starts a new stream (the last element of the key
    counts them), as when a capture is concatenated with a copy of itself.
    """

    def __init__(self) -> None:
        self.base: dict[_Key, int] = {}
        self.data: dict[_Key, bytearray] = {}
        self._gen: dict[tuple[bytes, int, bytes, int], int] = {}

    def place(self, p: Packet, payload: bytes | memoryview) -> tuple[_Key, int]:
        """Put a segment's bytes in its stream; return (stream key, offset in the stream)."""
        tup = (p.src, p.sport, p.dst, p.dport)
        gen = self._gen.setdefault(tup, 0)
        if p.flags & 0x02:
            if (*tup, gen) in self.base:
                gen = self._gen[tup] = gen + 1
            self.base[(*tup, gen)] = (p.seq + 1) & 0xFFFFFFFF
        key = (*tup, gen)
        base = self.base.setdefault(key, p.seq)
        rel = (p.seq - base) & 0xFFFFFFFF
        buf = self.data.setdefault(key, bytearray())
        if rel > len(buf) + _MAX_JUMP and rel < 0x80000000 + _MAX_JUMP:
            # far ahead or behind without a SYN (a SYN-less copy): a new stream
            gen = self._gen[tup] = gen + 1
            key, rel = (*tup, gen), 0
            self.base[key] = p.seq
            buf = self.data[key] = bytearray()
        if rel < 0x80000000 and payload:
            end = rel + len(payload)
            if end > len(buf):
                buf.extend(bytes(end - len(buf)))
            buf[rel:end] = payload
        return key, rel


def count_sip(path: Path) -> dict[str, int]:
    """Count SIP start lines in UDP payloads and reassembled TCP streams of a capture.

    ``rtp_like`` counts the other UDP payloads that look like RTP (version 2, at
    least 12 bytes, not an RTCP packet type): no SSRC or sequence check.
    """
    _head, linktype, recs = read_pcap(path)
    frames = udp = non_loopback = rtp = 0
    streams = _Streams()
    for _ts, _orig, data in recs:
        frames += 1
        p = parse_packet(data, linktype)
        if p is None:
            continue
        if p.src[0] != 127 or p.dst[0] != 127:
            non_loopback += 1
        if p.proto == 17:
            found = len(_START_LINE.findall(data[p.payload_off : p.end]))
            udp += found
            if not found and p.end - p.payload_off >= 12:
                b0, b1 = data[p.payload_off], data[p.payload_off + 1]
                # version 2, not an RTCP packet type (200-204 read as marker + PT 72-76)
                rtp += b0 >> 6 == 2 and not 72 <= b1 & 0x7F <= 76
        else:
            streams.place(p, memoryview(data)[p.payload_off : p.end])
    tcp = sum(len(_START_LINE.findall(buf)) for buf in streams.data.values())
    return {
        "frames": frames,
        "sip_udp": udp,
        "sip_tcp": tcp,
        "sip_messages": udp + tcp,
        "tcp_streams": len(streams.data),
        "rtp_like": rtp,
        "non_loopback": non_loopback,
    }


_RTP_ROW = re.compile(
    rb"^\s*[\d.]+\s+[\d.]+\s+(\S+)\s+(\d+)\s+(\S+)\s+(\d+)\s+(0x[0-9A-Fa-f]+)\s+(.+?)\s+(\d+)\s+(-?\d+) \(",
    re.M,
)


def tshark_rtp_streams(path: Path, heuristic: bool = True) -> dict[str, object]:
    """What ``tshark -q -z rtp,streams`` finds: streams, packets, lost, payload types.

    ``heuristic`` turns on ``rtp.heuristic_rtp`` (RTP found without the SDP that
    announced it); without it tshark decodes only what SIP/SDP set up.

    Raises:
        RuntimeError: tshark is missing or failed.
    """
    if shutil.which("tshark") is None:
        raise RuntimeError("tshark not found")
    cmd = ["tshark", "-r", str(path), "-q", "-z", "rtp,streams"]
    if heuristic:
        cmd[3:3] = ["-o", "rtp.heuristic_rtp:TRUE"]
    res = subprocess.run(cmd, capture_output=True, check=False)
    if res.returncode != 0:
        raise RuntimeError(f"tshark failed ({res.returncode}): {res.stderr[-300:]!r}")
    rows = _RTP_ROW.findall(res.stdout)
    payloads: dict[str, int] = {}
    for r in rows:
        name = r[5].decode(errors="replace").strip()
        payloads[name] = payloads.get(name, 0) + int(r[6])
    return {
        "streams": len(rows),
        "packets": sum(int(r[6]) for r in rows),
        "lost": sum(int(r[7]) for r in rows),
        "payloads": payloads,
        "media_tuples": len({(r[0], r[1], r[2], r[3]) for r in rows}),
        "heuristic": heuristic,
    }


def tshark_sip_stat(path: Path) -> dict[str, object]:
    """``tshark -q -z sip,stat``: SIP messages, resent, and the per-code/method lines."""
    res = subprocess.run(
        ["tshark", "-r", str(path), "-q", "-z", "sip,stat"], capture_output=True, check=False
    )
    out = res.stdout.decode(errors="replace")
    n = re.search(r"Number of SIP messages: (\d+)", out)
    r = re.search(r"Number of resent SIP messages: (\d+)", out)
    lines = re.findall(r"^\s+(SIP \d{3} [^:]*?|[A-Z]+)\s+:\s+(\d+) Packets", out, re.M)
    return {
        "sip_messages": int(n.group(1)) if n else -1,
        "resent": int(r.group(1)) if r else -1,
        "lines": {k.strip(): int(v) for k, v in lines},
    }


# -- the 4x capture -------------------------------------------------------------------

_VALUES = re.compile(rb"(?im)(?:^(?:call-id|i)[ \t]*:[ \t]*|;[ \t]*(?:tag|branch)=)([^\s;,>]+)")
_MARK = b"00"
_SEQ_STEP = 0x40000000


def _value_ends(buf: bytes | bytearray | memoryview) -> Iterator[tuple[int, bool]]:
    """Offsets of the last two characters of each Call-ID, tag and branch value.

    Yields (offset, marked): ``marked`` is False for a value that does not end in
    "00" (its copies could collide with another value's).
    """
    for m in _VALUES.finditer(buf):
        if m.end(1) - m.start(1) >= 3:
            yield m.end(1) - 2, buf[m.end(1) - 2 : m.end(1)] == _MARK


def multiply(src: Path, dst: Path, copies: int = 4, gap_s: float = 1.0) -> dict[str, int]:
    """Write ``copies`` time-shifted copies of ``src`` one after the other into ``dst``.

    Returns counts: records written, values rewritten per copy, unmarked values.
    """
    if not 2 <= copies <= 36:
        raise ValueError("copies must be between 2 and 36 (one base-36 digit)")
    head, linktype, recs = read_pcap(src)
    # Pass 1: where the two characters to rewrite sit, as (record << 20 | offset << 1 | char).
    patches = array("Q")
    streams = _Streams()
    segments: dict[_Key, list[tuple[int, int, int, int]]] = {}
    first = last = -1
    n = unmarked = 0
    for idx, (ts, _orig, data) in enumerate(recs):
        n += 1
        first = ts if first < 0 else first
        last = ts
        p = parse_packet(data, linktype)
        if p is None or p.end <= p.payload_off:
            continue
        if p.proto == 17:
            for off, marked in _value_ends(memoryview(data)[p.payload_off : p.end]):
                unmarked += not marked
                at = p.payload_off + off
                patches.extend(((idx << 20) | (at << 1), (idx << 20) | ((at + 1) << 1) | 1))
        else:
            key, rel = streams.place(p, memoryview(data)[p.payload_off : p.end])
            segments.setdefault(key, []).append((rel, p.end - p.payload_off, idx, p.payload_off))
    for key, segs in segments.items():
        buf = streams.data[key]
        chars: list[tuple[int, int]] = []
        for off, marked in _value_ends(buf):
            unmarked += not marked
            chars += ((off, 0), (off + 1, 1))
        starts = [c[0] for c in chars]
        for rel, length, idx, poff in segs:
            i = bisect.bisect_left(starts, rel)
            while i < len(chars) and chars[i][0] < rel + length:
                at = poff + chars[i][0] - rel
                patches.append((idx << 20) | (at << 1) | chars[i][1])
                i += 1
    del streams, segments
    patches = array("Q", sorted(patches))
    span_us = last - first + int(gap_s * 1_000_000)
    # Pass 2: copy 0 verbatim, then each rewritten copy.
    tmp = dst.with_name(dst.name + ".part")
    written = 0
    with open(tmp, "wb") as out:
        out.write(head)
        for k in range(copies):
            code = (f"{k:02d}" if k < 10 else f"0{chr(ord('a') + k - 10)}").encode()
            shift = k * span_us
            ptr = 0
            _h, _lt, recs = read_pcap(src)
            for idx, (ts, orig, data) in enumerate(recs):
                if k:
                    buf = bytearray(data)
                    touched = False
                    while ptr < len(patches) and patches[ptr] >> 20 == idx:
                        v = patches[ptr]
                        buf[(v >> 1) & 0x7FFFF] = code[v & 1]
                        touched = True
                        ptr += 1
                    p = parse_packet(data, linktype)
                    if p is not None and p.proto == 6:
                        seq, ack = _TCP_SEQ.unpack_from(buf, p.l4_off + 4)
                        _TCP_SEQ.pack_into(
                            buf, p.l4_off + 4,
                            (seq + k * _SEQ_STEP) & 0xFFFFFFFF,
                            (ack + k * _SEQ_STEP) & 0xFFFFFFFF if buf[p.l4_off + 13] & 0x10 else ack,
                        )  # fmt: skip
                        touched = True
                    if touched and p is not None:
                        _fix_l4_checksum(buf, p)
                    data = bytes(buf)
                t = ts + shift
                out.write(_REC.pack(t // 1_000_000, t % 1_000_000, len(data), orig))
                out.write(data)
                written += 1
    os.replace(tmp, dst)
    return {
        "records": written,
        "chars_rewritten_per_copy": len(patches),
        "unmarked_values": unmarked,
    }


# -- adversarial captures -------------------------------------------------------------

_T0_US = 1_767_225_600_000_000  # 2026-01-01T00:00:00Z: fixed, so files are reproducible


def _invite(
    call_id: str, frm: tuple[str, int], to: tuple[str, int], sdp: bytes, seq: int = 1
) -> bytes:
    head = (
        f"INVITE sip:bob@{to[0]}:{to[1]} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP {frm[0]}:{frm[1]};branch=z9hG4bK-{call_id}-1\r\n"
        "Max-Forwards: 70\r\n"
        f'From: "Alice" <sip:alice@{frm[0]}>;tag=a-{call_id}\r\n'
        f"To: <sip:bob@{to[0]}>\r\n"
        f"Call-ID: {call_id}\r\n"
        f"CSeq: {seq} INVITE\r\n"
        f"Contact: <sip:alice@{frm[0]}:{frm[1]}>\r\n"
        "Content-Type: application/sdp\r\n"
        f"Content-Length: {len(sdp)}\r\n\r\n"
    )
    return head.encode() + sdp


def _sdp(addr: str, port: int, session: int) -> bytes:
    return (
        f"v=0\r\no=- {session} 1 IN IP4 {addr}\r\ns=-\r\nc=IN IP4 {addr}\r\nt=0 0\r\n"
        f"m=audio {port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
        "a=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n"
    ).encode()


def _response(req: bytes, code: int, reason: str, to_tag: str | None, body: bytes = b"") -> bytes:
    """A response copying Via, From, To, Call-ID and CSeq from ``req``."""
    lines = req.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    keep = [
        ln
        for ln in lines[1:]
        if ln.split(b":", 1)[0].lower() in (b"via", b"from", b"to", b"call-id", b"cseq")
    ]
    out = [f"SIP/2.0 {code} {reason}".encode()]
    for ln in keep:
        if to_tag and ln.lower().startswith(b"to:") and b";tag=" not in ln:
            ln += f";tag={to_tag}".encode()
        out.append(ln)
    if body:
        out.append(b"Content-Type: application/sdp")
    out.append(f"Content-Length: {len(body)}".encode())
    return b"\r\n".join(out) + b"\r\n\r\n" + body


def _in_dialog(
    method: str, call_id: str, frm: tuple[str, int], to: tuple[str, int], cseq: int
) -> bytes:
    return (
        f"{method} sip:bob@{to[0]}:{to[1]} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP {frm[0]}:{frm[1]};branch=z9hG4bK-{call_id}-{method.lower()}\r\n"
        "Max-Forwards: 70\r\n"
        f'From: "Alice" <sip:alice@{frm[0]}>;tag=a-{call_id}\r\n'
        f"To: <sip:bob@{to[0]}>;tag=b-{call_id}\r\n"
        f"Call-ID: {call_id}\r\n"
        f"CSeq: {cseq} {method}\r\n"
        "Content-Length: 0\r\n\r\n"
    ).encode()


def make_same_media(dst: Path, calls: int) -> int:
    """Answered calls whose offers all announce 127.0.0.99:40000 and answers 127.0.0.98:40002.

    Calls start every 4 ms and last about 3 s (7 messages each); returns messages written.
    """
    a, b = ("127.0.3.1", 5060), ("127.0.3.2", 5060)
    # offsets (ms) of INVITE, 100, 180, 200, ACK, BYE, 200 within a call
    lanes = (0, 2, 60, 400, 402, 3000, 3002)

    def lane(j: int) -> Iterator[tuple[int, int, int]]:
        for i in range(calls):
            yield _T0_US + i * 4000 + lanes[j] * 1000, i, j

    with PcapWriter(dst) as w:
        for ts, i, j in heapq.merge(*(lane(j) for j in range(len(lanes)))):
            cid = f"same-{i:07d}@127.0.3.1"
            inv = _invite(cid, a, b, _sdp("127.0.0.99", 40000, i))
            if j == 0:
                w.udp(ts, a, b, inv)
            elif j == 1:
                w.udp(ts, b, a, _response(inv, 100, "Trying", None))
            elif j == 2:
                w.udp(ts, b, a, _response(inv, 180, "Ringing", f"b-{cid}"))
            elif j == 3:
                w.udp(ts, b, a, _response(inv, 200, "OK", f"b-{cid}", _sdp("127.0.0.98", 40002, i)))
            elif j == 4:
                w.udp(ts, a, b, _in_dialog("ACK", cid, a, b, 1))
            elif j == 5:
                w.udp(ts, a, b, _in_dialog("BYE", cid, a, b, 2))
            else:
                w.udp(ts, b, a, _response(_in_dialog("BYE", cid, a, b, 2), 200, "OK", None))
        return w.packets


def make_flood(dst: Path, messages: int) -> int:
    """A scanner: ``messages`` requests (2/3 OPTIONS, 1/3 INVITE), each its own Call-ID, never
    answered, at 10,000 a second from one source to 256 target addresses."""
    src = ("127.0.66.6", 5070)
    with PcapWriter(dst) as w:
        for i in range(messages):
            to = (f"127.0.67.{i % 256}", 5060)
            cid = f"scan-{i:08d}"
            if i % 3 == 2:
                msg = _invite(cid, src, to, _sdp(src[0], 10000 + 2 * (i % 20000), i))
            else:
                msg = (
                    f"OPTIONS sip:100@{to[0]} SIP/2.0\r\n"
                    f"Via: SIP/2.0/UDP {src[0]}:{src[1]};branch=z9hG4bK-{i:08d}\r\n"
                    "Max-Forwards: 70\r\n"
                    f'From: "sipvicious" <sip:100@{src[0]}>;tag=s{i:08d}\r\n'
                    f"To: <sip:100@{to[0]}>\r\n"
                    f"Call-ID: {cid}\r\n"
                    "CSeq: 1 OPTIONS\r\n"
                    "User-Agent: friendly-scanner\r\n"
                    "Accept: application/sdp\r\n"
                    "Content-Length: 0\r\n\r\n"
                ).encode()
            w.udp(_T0_US + i * 100, src, to, msg)
        return w.packets


def make_huge_cl(dst: Path, filler_mb: int, messages_around: int = 2000) -> int:
    """A TCP stream: ``messages_around`` OPTIONS/200 exchanges, an INVITE announcing
    Content-Length 2,000,000,000, ``filler_mb`` MiB of body text, then as many
    exchanges again; then a second connection that announces 2 GB and closes.

    Returns the number of complete SIP messages a correct analyzer should count.
    """
    c, s = ("127.0.7.1", 40000), ("127.0.7.2", 5060)
    seq = {c: 1000, s: 5000}
    ts = _T0_US
    with PcapWriter(dst) as w:

        def handshake(cli: tuple[str, int]) -> None:
            nonlocal ts
            w.tcp(ts, cli, s, seq[cli] - 1, 0, 0x02)
            w.tcp(ts + 10, s, cli, seq[s] - 1, seq[cli], 0x12)
            w.tcp(ts + 20, cli, s, seq[cli], seq[s], 0x10)
            ts += 100

        def send(frm: tuple[str, int], to: tuple[str, int], data: bytes) -> None:
            nonlocal ts
            for i in range(0, len(data), 32768):
                chunk = data[i : i + 32768]
                w.tcp(ts, frm, to, seq[frm], seq[to], 0x18, chunk)
                seq[frm] += len(chunk)
                ts += 20

        def exchanges(tag: str) -> None:
            for i in range(messages_around):
                cid = f"{tag}-{i:06d}"
                opt = (
                    f"OPTIONS sip:{s[0]} SIP/2.0\r\nVia: SIP/2.0/TCP {c[0]}:{c[1]};branch=z9hG4bK-{cid}\r\n"
                    f"From: <sip:ping@{c[0]}>;tag={cid}\r\nTo: <sip:{s[0]}>\r\nCall-ID: {cid}\r\n"
                    "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
                ).encode()
                send(c, s, opt)
                send(s, c, _response(opt, 200, "OK", f"s{cid}"))

        handshake(c)
        exchanges("before")
        huge = _invite("huge-1", c, s, b"").replace(
            b"Content-Length: 0", b"Content-Length: 2000000000"
        )
        line = b"a=x-filler:" + b"0123456789abcdef" * 4 + b"\r\n"
        send(c, s, huge)
        block = line * (65536 // len(line))
        for _ in range(filler_mb * 1024 * 1024 // len(block)):
            send(c, s, block)
        exchanges("after")
        w.tcp(ts, c, s, seq[c], seq[s], 0x11)
        w.tcp(ts + 10, s, c, seq[s], seq[c] + 1, 0x11)
        ts += 1000
        c2 = ("127.0.7.1", 40001)
        seq[c2] = 9000
        handshake(c2)
        send(
            c2,
            s,
            _invite("huge-2", c2, s, b"").replace(
                b"Content-Length: 0", b"Content-Length: 2147483647"
            ),
        )
        send(c2, s, block * 4)
        w.tcp(ts, c2, s, seq[c2], seq[s], 0x11)
    return 4 * messages_around


# -- command line ---------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Entry point; each command prints one JSON line describing what it made."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("record", help="record the SIPp mix (root)")
    r.add_argument("out", type=Path)
    r.add_argument("--seconds", type=float, default=70.0)
    m = sub.add_parser("multiply", help="time-shifted copies with rewritten ids")
    m.add_argument("src", type=Path)
    m.add_argument("dst", type=Path)
    m.add_argument("--copies", type=int, default=4)
    a = sub.add_parser("same-media", help="every SDP announces one address and port")
    a.add_argument("dst", type=Path)
    a.add_argument("--calls", type=int, default=20_000)
    f = sub.add_parser("flood", help="distinct Call-IDs that never complete")
    f.add_argument("dst", type=Path)
    f.add_argument("--messages", type=int, default=300_000)
    h = sub.add_parser("huge-cl", help="TCP stream announcing a 2 GB Content-Length")
    h.add_argument("dst", type=Path)
    h.add_argument("--filler-mb", type=int, default=64)
    t = sub.add_parser("record-rtp", help="record SIPp calls with PCMU audio both ways (root)")
    t.add_argument("out", type=Path)
    t.add_argument("--calls", type=int, default=200)
    t.add_argument("--seconds", type=float, default=60.0, help="audio per call")
    t.add_argument("--pairs", type=int, default=10, help="SIPp UAC/UAS pairs sharing the calls")
    t.add_argument("--ramp", type=float, default=20.0, help="seconds over which calls start")
    c = sub.add_parser("count", help="reference count of SIP messages")
    c.add_argument("file", type=Path)
    k = sub.add_parser("check-rtp", help="tshark's view: RTP streams and SIP statistics")
    k.add_argument("file", type=Path)
    args = ap.parse_args(argv)
    if args.cmd not in ("record", "record-rtp", "check-rtp"):  # tshark runs in a child
        # A bug here must not eat a shared machine's memory: 4 GiB is ample for any step.
        resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))
    result: dict[str, object]
    if args.cmd == "record":
        result = record(args.out, args.seconds)
    elif args.cmd == "record-rtp":
        result = record_rtp(args.out, args.calls, args.seconds, args.pairs, args.ramp)
    elif args.cmd == "check-rtp":
        result = {"rtp": tshark_rtp_streams(args.file), "sip": tshark_sip_stat(args.file)}
    elif args.cmd == "multiply":
        result = dict(multiply(args.src, args.dst, args.copies))
    elif args.cmd == "same-media":
        result = {"sip_messages": make_same_media(args.dst, args.calls)}
    elif args.cmd == "flood":
        result = {"sip_messages": make_flood(args.dst, args.messages)}
    elif args.cmd == "huge-cl":
        result = {"sip_messages": make_huge_cl(args.dst, args.filler_mb)}
    else:
        result = dict(count_sip(args.file))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
