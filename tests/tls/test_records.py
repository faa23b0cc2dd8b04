"""The record layer: records across segments, several in one, damaged headers."""

from __future__ import annotations

import pytest

from sipsniff.diagnostics import DecodeError
from sipsniff.tls.records import MAX_RECORD, RecordReader, looks_like_tls


def rec(ctype: int, body: bytes) -> bytes:
    return bytes((ctype, 3, 3)) + len(body).to_bytes(2, "big") + body


def test_records_split_and_joined_byte_by_byte() -> None:
    stream = rec(22, b"hello") + rec(23, b"x" * 300) + rec(21, b"\x01\x00")
    whole = RecordReader().feed(stream)
    assert [(r.type, r.fragment) for r in whole] == [
        (22, b"hello"),
        (23, b"x" * 300),
        (21, b"\x01\x00"),
    ]
    r = RecordReader()
    pieces = [r.feed(stream[i : i + 1]) for i in range(len(stream))]
    assert [x for p in pieces for x in p] == whole
    assert r.pending == 0
    assert [i for i, p in enumerate(pieces) if p] == [9, 314, 321]  # where each record ends


def test_bad_header_and_oversized_record() -> None:
    with pytest.raises(DecodeError, match="not a TLS record header"):
        RecordReader().feed(b"INVITE sip:x SIP/2.0\r\n")
    big = bytes((23, 3, 3)) + (MAX_RECORD + 1).to_bytes(2, "big")
    with pytest.raises(DecodeError, match="at most"):
        RecordReader().feed(big)


def test_detection_by_content() -> None:
    assert looks_like_tls(rec(22, b"\x01"))
    assert not looks_like_tls(b"INVITE ")
    assert not looks_like_tls(rec(23, b""))
