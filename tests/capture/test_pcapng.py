"""pcapng reader: blocks, interfaces with their own link types and if_tsresol, damage, fuzzing."""

from __future__ import annotations

import io
import struct

import pytest
from factories_pcap import epb, idb, obsolete_pb, other_block, pcapng, shb, spb
from hypothesis import example, given, settings
from hypothesis import strategies as st

from sipsniff.capture.frame import Frame, LinkType
from sipsniff.capture.pcapng import iter_pcapng
from sipsniff.diagnostics import CaptureError, Diagnostic, Stage, Trigger

T0_US = 1_700_000_000_123_456
T0_NS = 1_700_000_000_123_456_789


def read(data: bytes, first_number: int = 1) -> tuple[list[Frame], list[Diagnostic]]:
    diags: list[Diagnostic] = []
    frames = list(
        iter_pcapng(
            io.BytesIO(data), name="t.pcapng", report=diags.append, first_number=first_number
        )
    )
    return frames, diags


@pytest.mark.parametrize("order", ["<", ">"], ids=["little-endian", "big-endian"])
def test_two_interfaces_with_their_own_link_type_and_resolution(order: str) -> None:
    data = pcapng(
        [(LinkType.ETHERNET, None), (LinkType.RAW, 9)],  # default microseconds; nanoseconds
        [(0, T0_US, b"on eth"), (1, T0_NS, b"on raw"), (0, T0_US + 1, b"eth again")],
        order=order,
    )
    frames, diags = read(data)
    assert diags == []
    assert [(f.number, f.iface, f.linktype, f.ts_ns, f.data) for f in frames] == [
        (1, 0, LinkType.ETHERNET, T0_US * 1000, b"on eth"),
        (2, 1, LinkType.RAW, T0_NS, b"on raw"),
        (3, 0, LinkType.ETHERNET, (T0_US + 1) * 1000, b"eth again"),
    ]


@pytest.mark.parametrize(
    ("tsresol", "units", "ts_ns"),
    [
        (6, 5_000_001, 5_000_001_000),  # 10^-6, the default written explicitly
        (3, 7, 7_000_000),  # milliseconds
        (9, 123, 123),  # nanoseconds
        (12, 123_456_789, 123_456),  # picoseconds: rounded down to ns
        (0x80 | 10, 3 * 1024 + 512, 3_500_000_000),  # 2^-10 s units
    ],
    ids=["us", "ms", "ns", "ps", "binary"],
)
def test_if_tsresol(tsresol: int, units: int, ts_ns: int) -> None:
    frames, _ = read(pcapng([(LinkType.RAW, tsresol)], [(0, units, b"x")]))
    assert frames[0].ts_ns == ts_ns


def test_only_packet_blocks_are_numbered() -> None:
    """Wireshark numbers packets, not blocks: NRB, ISB and custom blocks are skipped."""
    data = b"".join(
        [
            shb(),
            idb(LinkType.RAW),
            other_block(4),  # name resolution
            epb(0, 1, b"one"),
            other_block(5, b"\x00" * 12),  # interface statistics
            spb(b"two"),
            other_block(0xBAD, b"custom!!"),
            obsolete_pb(0, 3, b"three"),
            epb(0, 4, b"four"),
        ]
    )
    frames, diags = read(data, first_number=10)
    assert diags == []
    assert [(f.number, f.data) for f in frames] == [
        (10, b"one"),
        (11, b"two"),
        (12, b"three"),
        (13, b"four"),
    ]
    assert frames[1].ts_ns == 0  # a simple packet block carries no timestamp
    assert frames[2].ts_ns == 3000


def test_epb_keeps_captured_and_original_lengths() -> None:
    data = shb() + idb(LinkType.RAW) + epb(0, 1, b"abc", orig_len=1500)
    frames, _ = read(data)
    assert (frames[0].data, frames[0].orig_len) == (b"abc", 1500)


def test_a_new_section_resets_byte_order_and_interfaces() -> None:
    data = pcapng([(LinkType.ETHERNET, None)], [(0, 1, b"le")], order="<") + pcapng(
        [(LinkType.LINUX_SLL2, 9)], [(0, 2, b"be")], order=">"
    )
    frames, diags = read(data)
    assert diags == []
    assert [(f.number, f.linktype, f.ts_ns, f.data) for f in frames] == [
        (1, LinkType.ETHERNET, 1000, b"le"),
        (2, LinkType.LINUX_SLL2, 2, b"be"),
    ]


# -- bad input ---------------------------------------------------------------
def test_file_cut_inside_a_block_keeps_earlier_frames_and_says_so_once() -> None:
    data = pcapng([(LinkType.RAW, None)], [(0, 1, b"a" * 40), (0, 2, b"b" * 40)])
    frames, diags = read(data[:-10])
    assert [f.data[:1] for f in frames] == [b"a"]
    assert len(diags) == 1
    d = diags[0]
    assert (d.frame, d.stage, d.trigger) == (2, Stage.CAPTURE, Trigger.TRUNCATED_FILE)
    assert d.detail == "t.pcapng: file ends inside a block of type 0x6; 1 frames loaded"


def test_file_cut_inside_a_block_header() -> None:
    data = pcapng([(LinkType.RAW, None)], [(0, 1, b"a")])
    frames, diags = read(data + b"\x06\x00\x00")
    assert len(frames) == 1
    assert [d.detail for d in diags] == [
        "t.pcapng: file ends inside a block header; 1 frames loaded"
    ]


def test_impossible_block_length_stops_with_one_diagnostic() -> None:
    data = pcapng([(LinkType.RAW, None)], [(0, 1, b"a")]) + struct.pack("<II", 6, 13) + b"\0" * 8
    frames, diags = read(data)
    assert len(frames) == 1
    assert [(d.frame, d.trigger) for d in diags] == [(2, Trigger.TRUNCATED_FILE)]
    assert "bad block length 13 (block type 0x6)" in diags[0].detail


def test_packet_for_an_undeclared_interface_is_reported_and_reading_goes_on() -> None:
    data = shb() + idb(LinkType.RAW) + epb(3, 1, b"lost") + epb(0, 2, b"kept")
    frames, diags = read(data)
    assert [(f.number, f.data) for f in frames] == [(2, b"kept")]
    assert [(d.frame, d.trigger) for d in diags] == [(1, Trigger.BAD_BLOCK)]
    assert "packet block names interface 3 of 1" in diags[0].detail


def test_first_block_must_be_a_section_header() -> None:
    with pytest.raises(CaptureError, match=r"^t\.pcapng: not a pcapng file$"):
        read(idb(LinkType.RAW) + epb(0, 1, b"x"))


def test_option_cut_off_by_the_block_end_keeps_the_default_resolution() -> None:
    """Regression: an if_tsresol option header with no value byte raised IndexError."""
    cut = struct.pack("<II", 1, 24) + struct.pack("<HHI", LinkType.RAW, 0, 0)
    cut += struct.pack("<HH", 9, 1) + struct.pack("<I", 24)
    frames, diags = read(shb() + cut + epb(0, 5, b"x"))
    assert diags == []
    assert [(f.linktype, f.ts_ns) for f in frames] == [(LinkType.RAW, 5000)]


def test_bad_byte_order_mark_in_the_first_section_is_not_a_capture() -> None:
    bad = bytearray(shb())
    bad[8:12] = b"junk"
    with pytest.raises(CaptureError, match="bad byte-order mark"):
        read(bytes(bad))


def test_bad_byte_order_mark_in_a_later_section_is_a_truncation() -> None:
    bad = bytearray(shb())
    bad[8:12] = b"junk"
    frames, diags = read(pcapng([(LinkType.RAW, None)], [(0, 1, b"x")]) + bytes(bad))
    assert len(frames) == 1
    assert [d.detail for d in diags] == [
        "t.pcapng: bad byte-order mark in a section header; 1 frames loaded"
    ]


# -- fuzzing -----------------------------------------------------------------
_PREFIX = shb() + idb(LinkType.RAW, 9)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=400))
@example(b"")
@example(b"\x06\x00\x00\x00\x0c\x00\x00\x00\x0c\x00\x00\x00")  # EPB with no body
@example(b"\x03\x00\x00\x00\x0c\x00\x00\x00\x0c\x00\x00\x00")  # SPB with no body
@example(  # an if_tsresol option cut off by the end of its block: was an IndexError
    b"\x01\x00\x00\x00\x18\x00\x00\x00" + b"\x65\x00\x00\x00\x00\x00\x00\x00"
    b"\x09\x00\x01\x00" + b"\x18\x00\x00\x00"
)
def test_random_bytes_only_raise_capture_error(data: bytes) -> None:
    for blob in (data, _PREFIX + data, shb() + data):
        try:
            _frames, diags = read(blob)
        except CaptureError:
            continue
        assert len(diags) <= len(blob) // 12 + 1


_BLOCKS = st.lists(
    st.tuples(st.sampled_from([1, 2, 3, 4, 5, 6, 0xBAD]), st.binary(max_size=48)), max_size=6
)


@settings(max_examples=200, deadline=None)
@given(_BLOCKS, st.sampled_from(["<", ">"]))
def test_well_framed_blocks_with_random_bodies_never_crash(
    blocks: list[tuple[int, bytes]], order: str
) -> None:
    """Random bytes rarely get past the block framing; this feeds junk *inside* valid blocks."""
    data = shb(order) + b"".join(other_block(t, body, order) for t, body in blocks)
    frames, diags = read(data)
    assert len(frames) + len(diags) <= len(blocks)


def test_a_timestamp_past_what_nanoseconds_hold_is_moved_and_reported() -> None:
    """pcapng_far_future_ts.pcapng's shape: if_tsresol 0 (seconds) and a huge count."""
    from sipsniff.capture.wording import MAX_TS_NS

    data = shb() + idb(LinkType.RAW, tsresol=0) + epb(0, 2**60, b"x") + epb(0, 5, b"y")
    diags: list[Diagnostic] = []
    frames = list(iter_pcapng(io.BytesIO(data), name="f", report=diags.append))
    assert [f.ts_ns for f in frames] == [MAX_TS_NS, 5_000_000_000]
    assert [(d.frame, d.trigger) for d in diags] == [(1, Trigger.BAD_TIMESTAMP)]
    assert "past year 2262" in diags[0].detail
