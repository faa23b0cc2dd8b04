"""Tunnels and SCTP: a real SIPp capture re-encapsulated every common way, against tshark.

Each frame of ``captures/demo.pcap`` (SIPp on loopback) is wrapped by scapy in
GRE, ERSPAN II/III, VXLAN, Geneve, GTP-U, MPLS, PPPoE, or carried in SCTP DATA
chunks (one message cut into three pieces); tshark is the oracle for which
frames carry which SIP message, and both engines must find exactly those.
Bad headers are fed truncated at every byte: one diagnostic or nothing, never a
crash.
"""

from __future__ import annotations

import struct
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers import capture, needs_tool, real_capture

from sipsniff.capture.sources import read_frames
from sipsniff.decode import tunnels
from sipsniff.pipeline import Pipeline

scapy = pytest.importorskip("scapy.all")
from scapy.contrib.erspan import ERSPAN_II, ERSPAN_III  # noqa: E402
from scapy.contrib.geneve import GENEVE  # noqa: E402
from scapy.contrib.gtp import GTP_U_Header  # noqa: E402
from scapy.contrib.mpls import MPLS  # noqa: E402
from scapy.layers.l2 import GRE, Ether  # noqa: E402
from scapy.layers.ppp import PPP, PPPoE  # noqa: E402
from scapy.layers.sctp import SCTP, SCTPChunkData  # noqa: E402
from scapy.layers.vxlan import VXLAN  # noqa: E402

IP, UDP = scapy.IP, scapy.UDP
OUTER = {"src": "127.0.0.201", "dst": "127.0.0.202"}


def _eth(inner: Any) -> Any:
    return Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / inner


WRAPS: dict[str, Callable[[Any], Any]] = {
    "gre-ip": lambda ip: _eth(IP(**OUTER) / GRE(proto=0x0800) / ip),
    "gre-key-seq-eth": lambda ip: _eth(
        IP(**OUTER)
        / GRE(key_present=1, seqnum_present=1, key=7, sequence_number=1, proto=0x6558)
        / _eth(ip)
    ),
    "erspan-ii": lambda ip: _eth(
        IP(**OUTER)
        / GRE(seqnum_present=1, sequence_number=3, proto=0x88BE)
        / ERSPAN_II()
        / _eth(ip)
    ),
    "erspan-iii": lambda ip: _eth(IP(**OUTER) / GRE(proto=0x22EB) / ERSPAN_III() / _eth(ip)),
    "vxlan": lambda ip: _eth(
        IP(**OUTER) / UDP(sport=40000, dport=4789) / VXLAN(vni=42, flags=0x08) / _eth(ip)
    ),
    "geneve": lambda ip: _eth(
        IP(**OUTER) / UDP(sport=40000, dport=6081) / GENEVE(proto=0x6558) / _eth(ip)
    ),
    "gtp-u": lambda ip: _eth(
        IP(**OUTER) / UDP(sport=2152, dport=2152) / GTP_U_Header(teid=9, gtp_type=255) / ip
    ),
    "mpls": lambda ip: _eth(MPLS(label=100, s=0) / MPLS(label=200, s=1) / ip),
    "pppoe": lambda ip: _eth(PPPoE(sessionid=5) / PPP(proto=0x0021) / ip),
}


def _rewrap(src: Path, dst: Path, wrap: Callable[[Any], Any]) -> None:
    out = []
    for p in scapy.rdpcap(str(src)):
        ip = p[IP]
        q = wrap(ip)
        q.time = p.time
        out.append(q)
    scapy.wrpcap(str(dst), out)


def _tshark(path: Path) -> list[tuple[int, str, int]]:
    tshark = needs_tool("tshark")
    res = subprocess.run(
        [
            tshark,
            "-r",
            str(path),
            "-Y",
            "sip",
            "-T",
            "fields",
            "-e",
            "frame.number",
            "-e",
            "sip.Call-ID",
            "-e",
            "sip.CSeq.seq",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    rows = [line.split("\t") for line in res.stdout.splitlines() if line]
    return [(int(n), cid, int(seq)) for n, cid, seq in rows]


def _ours(path: Path, engine: str) -> tuple[list[tuple[int, str, int]], Pipeline]:
    seen: list[tuple[int, str, int]] = []
    pipe = Pipeline(
        engine_name=engine, on_message=lambda m: seen.append((m.frame, m.call_id, m.cseq_num))
    )
    list(pipe.run(read_frames([path], pipe._report)))
    return sorted(seen), pipe


def _engines() -> list[str]:
    from sipsniff import engine

    return ["python", "native"] if engine.native_module() is not None else ["python"]


@pytest.mark.parametrize("name", sorted(WRAPS))
def test_encapsulated_sip_matches_tshark(tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.pcap"
    _rewrap(capture("demo.pcap"), path, WRAPS[name])
    expected = _tshark(path)
    assert len(expected) == 42  # every SIPp message, as tshark sees it through the tunnel
    for engine in _engines():
        got, pipe = _ours(path, engine)
        assert got == expected, (name, engine)
        assert not pipe.diagnostics, [d.line() for d in pipe.diagnostics]
        assert sum(pipe.stats.layers.values()) >= 42


@pytest.mark.parametrize(
    "name,layer,count",
    [("heplify_erspan_sip_ipv4_udp.pcapng", "GRE", 140), ("heplify_sip_sctp.pcap", "SCTP", 4)],
)
def test_real_tunnel_and_sctp_captures_match_tshark_in_both_engines(
    name: str, layer: str, count: int
) -> None:
    """The conformance test compares the reference decoder; here both engines, as users run them."""
    path = real_capture(name)
    expected = _tshark(path)
    assert len(expected) == count
    for engine in _engines():
        got, pipe = _ours(path, engine)
        assert got == expected, engine
        assert pipe.stats.layers.get(layer, 0) > 0, (engine, pipe.stats.layers)


def test_sctp_fragmented_message_matches_tshark(tmp_path: Path) -> None:
    """One INVITE in three DATA pieces across three packets, other messages whole, one
    chunk retransmitted: tshark and both engines see the same messages in the same frames."""
    out = []
    tsn = 1
    for i, p in enumerate(scapy.rdpcap(str(capture("demo.pcap")))):
        ip, payload = p[IP], bytes(p[UDP].payload)
        base = IP(src=ip.src, dst=ip.dst) / SCTP(sport=5060, dport=5060)
        if i == 4:  # cut one message in three
            cuts = [payload[:100], payload[100:200], payload[200:]]
            for j, piece in enumerate(cuts):
                flags = (2 if j == 0 else 0) | (1 if j == 2 else 0)
                chunk = SCTPChunkData(tsn=tsn, stream_id=1, stream_seq=i, proto_id=0, data=piece)
                chunk.beginning, chunk.ending = flags >> 1, flags & 1
                q = _eth(base / chunk)
                q.time = p.time + j * 0.0001
                out.append(q)
                tsn += 1
            continue
        chunk = SCTPChunkData(tsn=tsn, stream_id=1, stream_seq=i, proto_id=0, data=payload)
        chunk.beginning = chunk.ending = 1
        q = _eth(base / chunk)
        q.time = p.time
        out.append(q)
        if i == 6:  # a retransmitted chunk: one message, not two
            r = q.copy()
            r.time = p.time + 0.2
            out.append(r)
        tsn += 1
    path = tmp_path / "sctp.pcap"
    scapy.wrpcap(str(path), out)
    expected = _tshark(path)
    for engine in _engines():
        got, pipe = _ours(path, engine)
        # the three pieces (frames 5-7) make one message, framed where it ends;
        # tshark shows the retransmitted chunk (frame 10) again, SCTP delivers it once
        assert (7, "demo-ping-1@127.0.0.30") in [g[:2] for g in got] and len(got) == 42
        assert got == [e for e in expected if e[0] != 10], engine
        assert pipe.stats.layers.get("SCTP", 0) == len(out)
    assert [e[0] for e in expected].count(10) == 1


@pytest.mark.parametrize(
    "fn,port",
    [(tunnels.gre, None), (tunnels.mpls, None), (tunnels.pppoe, None)]
    + [(None, p) for p in sorted(tunnels.TUNNEL_UDP_PORTS)],
)
def test_truncated_headers_raise_tunnel_error_or_decline(fn: Any, port: int | None) -> None:
    headers: dict[Any, Any] = {
        None: {
            4789: bytes(VXLAN(vni=1, flags=0x08)),
            4790: b"\x0c\x00\x00\x01\x00\x00\x01\x00",
            6081: bytes(GENEVE(proto=0x6558, optionlen=2)) + b"\x00" * 8,
            2152: bytes(GTP_U_Header(teid=1, gtp_type=255, E=1, next_ex=0x85))
            + b"\x01\x00\x00\x00"
            + b"\x45",  # the inner IPv4 header's first byte: what GTP-U guesses by
        },
        tunnels.gre: bytes(GRE(key_present=1, seqnum_present=1, proto=0x88BE))
        + b"\x10"
        + b"\0" * 7,
        tunnels.mpls: bytes(MPLS(label=1, s=0) / MPLS(label=2, s=1)) + b"\x45",
        tunnels.pppoe: bytes(PPPoE() / PPP(proto=0x0021)),
    }
    whole: bytes = headers[None][port] if fn is None else headers[fn]

    def open_(data: bytes) -> tuple[int, int, str] | None:
        if fn is None:
            assert port is not None
            return tunnels.udp_tunnel(port, data, 0, len(data))
        return fn(data, 0, len(data))  # type: ignore[no-any-return]

    full = open_(whole)
    assert full is not None and full[1] <= len(whole)  # the whole header opens
    for cut in range(len(whole)):
        try:
            got = open_(whole[:cut])
        except tunnels.TunnelError as e:
            assert str(e)  # says what was short
            continue
        # declined (not this tunnel) or opened within what is there, never past it
        assert got is None or got[1] <= cut, (cut, got)


def _gre_erspan(proto: int, seq: bool, header: bytes) -> bytes:
    flags = 0x1000 if seq else 0
    return struct.pack("!HH", flags, proto) + (b"\0\0\0\1" if seq else b"") + header


@pytest.mark.parametrize(
    "raw,layer,skip",
    [
        (_gre_erspan(0x88BE, False, b""), "ERSPAN I", 0),
        (_gre_erspan(0x88BE, True, b"\x10" + b"\0" * 7), "ERSPAN II", 8),
        (_gre_erspan(0x22EB, True, b"\x20" + b"\0" * 11), "ERSPAN III", 12),
        # O bit: an 8-byte platform-specific subheader follows
        (_gre_erspan(0x22EB, False, b"\x20" + b"\0" * 10 + b"\x01" + b"\0" * 8), "ERSPAN III", 20),
    ],
)
def test_erspan_types_find_the_mirrored_ethernet(raw: bytes, layer: str, skip: int) -> None:
    inner, off, name = tunnels.gre(raw, 0, len(raw))
    assert (inner, name) == (tunnels.ETHERNET, layer)
    assert off == len(raw) and off == 4 + 4 * (raw[0] == 0x10) + skip


def test_gre_loop_is_bounded_and_reported(tmp_path: Path) -> None:
    inner = scapy.rdpcap(str(capture("demo.pcap")))[0][IP]
    pkt = inner
    for _ in range(8):
        pkt = IP(**OUTER) / GRE(proto=0x0800) / pkt
    path = tmp_path / "loop.pcap"
    scapy.wrpcap(str(path), [_eth(pkt)])
    for engine in _engines():
        got, pipe = _ours(path, engine)
        assert got == []
        assert [d.trigger.value for d in pipe.diagnostics] == ["tunnel"]
        assert "nested deeper than" in pipe.diagnostics[0].detail


def test_sctp_lying_chunk_length_keeps_what_came_before() -> None:
    from sipsniff.decode.budget import ReassemblyBudget
    from sipsniff.decode.sctp import SctpReassembler

    diags: list[Any] = []
    r = SctpReassembler(diags.append, ReassemblyBudget())
    good = SCTPChunkData(tsn=1, data=b"OPTIONS sip:x SIP/2.0\r\n\r\n")
    good.beginning = good.ending = 1
    pkt = bytearray(bytes(SCTP(sport=5060, dport=5060) / good))
    pkt += b"\x00\x03\x04\x00"  # a DATA chunk claiming 1024 bytes, 4 left
    out = r.packet("127.0.0.1", "127.0.0.2", bytes(pkt), 0, len(pkt), 9, 0)
    assert [p.data for p in out] == [b"OPTIONS sip:x SIP/2.0\r\n\r\n"]
    assert [(d.frame, d.trigger.value) for d in diags] == [(9, "sctp")]
    assert "claims 1024 bytes" in diags[0].detail
    # a piece that never completes is reported at the end, not dropped silently
    first = SCTPChunkData(tsn=5, data=b"INVITE sip:x SIP/2.0\r\n")
    first.beginning, first.ending = 1, 0
    raw = bytes(SCTP(sport=5060, dport=5060) / first)
    assert r.packet("127.0.0.1", "127.0.0.2", raw, 0, len(raw), 10, 0) == []
    r.flush()
    assert diags[-1].frame == 10 and "capture ended inside" in diags[-1].detail


def test_truncated_tunnel_and_sctp_frames_reported_with_their_frame(tmp_path: Path) -> None:
    """Through the pipeline, in both engines: Geneve options running past the packet and a
    cut SCTP header are one diagnostic each with their frame number, and the good frames
    still decode.  (A UDP payload to a tunnel port shorter than the tunnel header is not
    taken for the tunnel: it stays a UDP payload, counted as non-SIP.)"""
    frames = scapy.rdpcap(str(capture("demo.pcap")))[:3]
    good = [_eth(p[IP]) for p in frames]
    # 63 words of options announced, none there
    bad_geneve = _eth(IP(**OUTER) / UDP(sport=40000, dport=6081) / b"\x3f\x00\x65\x58\0\0\0\0")
    bad_sctp = _eth(IP(**OUTER, proto=132) / b"\x13\xc4\x13\xc4\x00")
    pkts = [good[0], bad_geneve, good[1], bad_sctp, good[2]]
    for i, q in enumerate(pkts):
        q.time = frames[0].time + i
    path = tmp_path / "cut.pcap"
    scapy.wrpcap(str(path), pkts)
    for engine in _engines():
        got, pipe = _ours(path, engine)
        assert [g[0] for g in got] == [1, 3, 5], engine
        assert [(d.frame, d.trigger.value) for d in pipe.diagnostics] == [
            (2, "tunnel"),
            (4, "sctp"),
        ], (engine, [d.line() for d in pipe.diagnostics])
