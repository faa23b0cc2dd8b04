"""HEP in a capture file: the SIP it carries, in both engines.

The oracle is the capture the HEP was made from (itself checked against tshark in
test_conformance): tshark 4.0 (Debian 12) has no HEP dissector to compare with.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from helpers import capture

from sipsniff.capture.sources import read_frames
from sipsniff.decode.payload import Endpoint, Payload, Transport
from sipsniff.hep.codec import HepPacket, encode
from sipsniff.hep.lift import HepLift, is_hep
from sipsniff.pipeline import Pipeline

scapy = pytest.importorskip("scapy.all")


def _engines() -> list[str]:
    from sipsniff import engine

    return ["python", "native"] if engine.native_module() is not None else ["python"]


def _messages(path: Path, engine: str) -> tuple[list[tuple[Any, ...]], Pipeline]:
    seen: list[tuple[Any, ...]] = []
    pipe = Pipeline(
        engine_name=engine,
        on_message=lambda m: seen.append((m.frame, m.call_id, m.cseq_num, str(m.src), str(m.dst))),
    )
    list(pipe.run(read_frames([path], pipe._report)))
    return seen, pipe


def _wrap(src: Path, dst: Path) -> None:
    """Each SIP datagram of ``src`` sent as HEPv3 to a collector on 127.0.0.99:9060."""
    out = []
    for p in scapy.rdpcap(str(src)):
        ip, udp = p[scapy.IP], p[scapy.UDP]
        hep = encode(
            HepPacket(
                version=3,
                family=2,
                ip_proto=17,
                src_ip=ip.src,
                dst_ip=ip.dst,
                src_port=udp.sport,
                dst_port=udp.dport,
                payload=bytes(udp.payload),
                ts_sec=int(p.time),
                ts_usec=int((p.time % 1) * 1e6),
                capture_id=2001,
            )
        )
        q = (
            scapy.Ether()
            / scapy.IP(src="127.0.0.98", dst="127.0.0.99")
            / scapy.UDP(sport=40000, dport=9060)
            / hep
        )
        q.time = p.time
        out.append(q)
    scapy.wrpcap(str(dst), out)


def test_hep_carried_sip_reads_like_the_original(tmp_path: Path) -> None:
    path = tmp_path / "hep.pcap"
    _wrap(capture("demo.pcap"), path)
    for engine in _engines():
        original, _ = _messages(capture("demo.pcap"), engine)
        got, pipe = _messages(path, engine)
        # the same messages, frames and addresses as where the agent captured them
        assert got == original, engine
        assert not pipe.diagnostics
        assert pipe.stats.calls == 8


def test_bad_nested_and_non_sip_hep() -> None:
    diags: list[Any] = []
    lift = HepLift(diags.append)
    a, b = Endpoint("127.0.0.98", 40000), Endpoint("127.0.0.99", 9060)

    def pl(data: bytes) -> Payload:
        return Payload(5, 0, a, b, Transport.UDP, data)

    sip = HepPacket(
        version=3,
        family=2,
        ip_proto=17,
        src_ip="127.0.0.1",
        dst_ip="127.0.0.2",
        src_port=5060,
        dst_port=5060,
        payload=b"OPTIONS sip:x SIP/2.0\r\n\r\n",
    )
    assert lift(pl(b"OPTIONS sip:x SIP/2.0\r\n\r\n")) is None  # not HEP: not mine
    good = encode(sip)
    assert is_hep(good)
    (inner,) = lift(pl(good)) or []
    assert (inner.src, inner.dst, inner.frame) == (
        Endpoint("127.0.0.1", 5060),
        Endpoint("127.0.0.2", 5060),
        5,
    )
    assert lift(pl(good[: len(good) - 3])) == []  # cut: one diagnostic
    nested = encode(dataclasses.replace(sip, payload=good))
    assert lift(pl(nested)) == []

    assert lift(pl(encode(dataclasses.replace(sip, proto_type=5)))) == []  # RTCP report: counted
    assert lift.not_sip == 1
    assert [(d.frame, d.trigger.value) for d in diags] == [(5, "hep"), (5, "hep")]
    assert "carries HEP again" in diags[1].detail
