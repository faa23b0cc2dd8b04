"""HEP codec: round trip, HEPv2, truncation at every byte."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sipsniff.hep.codec import HepError, HepPacket, decode, encode

PKT = HepPacket(
    3,
    2,
    17,
    "10.0.0.1",
    "10.0.0.2",
    5060,
    5062,
    b"OPTIONS sip:a SIP/2.0\r\n\r\n",
    ts_sec=1700000000,
    ts_usec=12,
    capture_id=7,
    node_name=b"n1",
)


def test_round_trip() -> None:
    assert decode(encode(PKT)) == PKT


def test_round_trip_ipv6() -> None:
    p = HepPacket(3, 10, 6, "2001:db8::1", "2001:db8::2", 1, 2, b"x")
    assert decode(encode(p)) == p


def test_hepv2() -> None:
    raw = (
        bytes([2, 28, 2, 17])
        + struct.pack("!HH", 5060, 5070)
        + bytes([192, 0, 2, 1, 192, 0, 2, 2])
        + struct.pack("<IIHH", 5, 6, 9, 0)
        + b"SIP"
    )
    p = decode(raw)
    assert (p.version, p.src_ip, p.dst_port, p.ts_sec, p.capture_id, p.payload) == (
        2,
        "192.0.2.1",
        5070,
        5,
        9,
        b"SIP",
    )


def test_truncation_every_byte() -> None:
    raw = encode(PKT)
    for n in range(len(raw)):
        with pytest.raises(HepError):
            decode(raw[:n])


@given(st.binary(max_size=200), st.integers(0, 300), st.binary(max_size=8))
@settings(max_examples=300, deadline=None)
def test_mutations_only_hep_error(junk: bytes, pos: int, patch: bytes) -> None:
    raw = bytearray(encode(PKT))
    raw[pos : pos + len(patch)] = patch
    for data in (bytes(raw), b"HEP3" + junk, b"\x02" + junk):
        try:
            assert isinstance(decode(data), HepPacket)  # accepted: must be a packet
        except HepError:
            continue  # the only failure allowed
