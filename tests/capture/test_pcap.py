"""Classic pcap reader: byte orders, resolutions, streaming across chunks, truncation, fuzzing."""

from __future__ import annotations

import io
import struct

import pytest
from factories_pcap import Packet, pcap
from hypothesis import example, given, settings
from hypothesis import strategies as st

from sipsniff.capture import pcap as pcap_mod
from sipsniff.capture.frame import Frame, LinkType
from sipsniff.capture.pcap import iter_pcap
from sipsniff.diagnostics import CaptureError, Diagnostic, Stage, Trigger

T0 = 1_700_000_000_123_456_789  # ns: the last three digits survive only in ns files


def read(data: bytes, first_number: int = 1) -> tuple[list[Frame], list[Diagnostic]]:
    diags: list[Diagnostic] = []
    frames = list(
        iter_pcap(io.BytesIO(data), name="t.pcap", report=diags.append, first_number=first_number)
    )
    return frames, diags


PACKETS = [
    Packet(b"first", ts_ns=T0),
    Packet(b"second packet", ts_ns=T0 + 1),
    Packet(b"", ts_ns=T0 + 2_000_000_001),
]


@pytest.mark.parametrize("order", ["<", ">"], ids=["little-endian", "big-endian"])
def test_nanosecond_files_keep_exact_timestamps(order: str) -> None:
    frames, diags = read(pcap(PACKETS, order=order, nanos=True, linktype=LinkType.ETHERNET))
    assert diags == []
    assert [(f.number, f.ts_ns, f.data) for f in frames] == [
        (1, T0, b"first"),
        (2, T0 + 1, b"second packet"),
        (3, T0 + 2_000_000_001, b""),
    ]
    assert {f.linktype for f in frames} == {LinkType.ETHERNET}


@pytest.mark.parametrize("order", ["<", ">"], ids=["little-endian", "big-endian"])
def test_microsecond_files_scale_to_nanoseconds(order: str) -> None:
    frames, diags = read(pcap(PACKETS, order=order, nanos=False))
    assert diags == []
    assert [f.ts_ns for f in frames] == [
        1_700_000_000_123_456_000,
        1_700_000_000_123_456_000,
        1_700_000_002_123_456_000,
    ]


def test_snaplen_cut_records_keep_their_original_length() -> None:
    frames, _ = read(pcap([Packet(b"x" * 64, orig_len=1500)]))
    assert (len(frames[0].data), frames[0].orig_len) == (64, 1500)


def test_numbering_starts_where_the_caller_says() -> None:
    frames, _ = read(pcap([b"a", b"b"]), first_number=41)
    assert [f.number for f in frames] == [41, 42]


def test_fcs_bits_of_the_link_type_field_are_ignored() -> None:
    data = bytearray(pcap([b"a"], linktype=LinkType.ETHERNET))
    struct.pack_into("<I", data, 20, 0x1000_0000 | LinkType.ETHERNET)  # "FCS present" flag
    frames, _ = read(bytes(data))
    assert frames[0].linktype == LinkType.ETHERNET


def test_empty_capture_has_no_frames_and_no_complaint() -> None:
    assert read(pcap([])) == ([], [])


@pytest.mark.parametrize("chunk", [1, 7, 16, 17, 4096])
def test_records_split_across_read_chunks(monkeypatch: pytest.MonkeyPatch, chunk: int) -> None:
    """Streaming: every chunk boundary (inside headers, inside data) gives the same frames."""
    packets = [Packet(bytes([i]) * (i * 13 % 97), ts_ns=T0 + i) for i in range(40)]
    data = pcap(packets, nanos=True)
    monkeypatch.setattr(pcap_mod, "_CHUNK", chunk)
    frames, diags = read(data)
    assert diags == []
    assert [(f.ts_ns, f.data) for f in frames] == [(p.ts_ns, p.data) for p in packets]


def test_file_larger_than_one_chunk_is_streamed_whole() -> None:
    packets = [Packet(bytes([i % 256]) * 9000, ts_ns=T0 + i) for i in range(150)]  # 1.35 MB
    frames, diags = read(pcap(packets, nanos=True))
    assert diags == []
    assert len(frames) == 150
    assert frames[-1].data == bytes([149]) * 9000


# -- bad input ---------------------------------------------------------------
def test_file_cut_inside_a_record_keeps_earlier_frames_and_says_so_once() -> None:
    data = pcap([b"a" * 100, b"b" * 100, b"c" * 100])
    frames, diags = read(data[:-30])
    assert [f.data[:1] for f in frames] == [b"a", b"b"]
    assert len(diags) == 1
    d = diags[0]
    assert (d.frame, d.stage, d.trigger) == (3, Stage.CAPTURE, Trigger.TRUNCATED_FILE)
    assert d.detail == "t.pcap: file ends inside a record (86 bytes left over); 2 frames loaded"
    assert "\n" not in d.line()


def test_file_cut_inside_a_record_header() -> None:
    data = pcap([b"a" * 10, b"b" * 10])
    frames, diags = read(data[: 24 + 26 + 9])
    assert len(frames) == 1
    assert [(d.frame, d.trigger) for d in diags] == [(2, Trigger.TRUNCATED_FILE)]
    assert diags[0].detail.endswith("(9 bytes left over); 1 frames loaded")


def test_corrupt_record_length_stops_with_one_diagnostic() -> None:
    data = bytearray(pcap([b"a", b"b" * 10, b"c"]))
    struct.pack_into("<I", data, 24 + 17 + 8, 0x7FFF_FFFF)  # second record's incl_len
    frames, diags = read(bytes(data))
    assert [f.data for f in frames] == [b"a"]
    assert len(diags) == 1
    assert diags[0].trigger == Trigger.TRUNCATED_FILE
    assert diags[0].frame == 2
    assert "corrupt record length 2147483647 at byte 41; 1 frames loaded" in diags[0].detail


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "t.pcap: too short to be a pcap file (0 bytes)"),
        (b"\xd4\xc3\xb2\xa1" + b"\x00" * 10, "t.pcap: too short to be a pcap file (14 bytes)"),
        (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "t.pcap: not a pcap file (magic 47455420)"),
    ],
    ids=["empty", "short-header", "not-a-capture"],
)
def test_not_a_pcap_raises_capture_error(data: bytes, message: str) -> None:
    with pytest.raises(CaptureError) as info:
        read(data)
    assert str(info.value) == message


# -- fuzzing -----------------------------------------------------------------
_HEADER = pcap([])


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=400))
@example(b"")
@example(_HEADER[:23])
@example(_HEADER + b"\x00" * 15)
@example(_HEADER + b"\xff" * 16)
def test_random_bytes_only_raise_capture_error(data: bytes) -> None:
    for blob in (data, _HEADER + data):
        try:
            frames, diags = read(blob)
        except CaptureError:
            continue
        assert len(diags) <= 1
        assert all(f.number == i for i, f in enumerate(frames, 1))
