"""TCP reassembly: ordered bytes per direction, no duplicates, no silent losses."""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sipsniff.decode import tcp as tcp_mod
from sipsniff.decode.budget import SEGMENT_COST, ReassemblyBudget
from sipsniff.decode.payload import Endpoint, Payload, Transport
from sipsniff.decode.tcp import TcpReassembler
from sipsniff.diagnostics import Diagnostic, Stage, Trigger

A = Endpoint("192.0.2.1", 40000)
B = Endpoint("192.0.2.2", 5060)
FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
ISN = 1000


class Conn:
    """Feeds one direction A -> B (and B -> A with ``reply=True``), numbering frames 1, 2, ..."""

    def __init__(self, budget: ReassemblyBudget | None = None) -> None:
        self.diags: list[Diagnostic] = []
        self.r = TcpReassembler(self.diags.append, budget)
        self.n = 0
        self.out: list[Payload] = []

    def seg(
        self, seq: int, data: bytes = b"", flags: int = ACK | PSH, *, reply: bool = False
    ) -> list[Payload]:
        self.n += 1
        src, dst = (B, A) if reply else (A, B)
        got = self.r.segment(src, dst, seq, flags, data, self.n, self.n * 1000)
        self.out += got
        return got

    def flush(self) -> list[Payload]:
        got = self.r.flush()
        self.out += got
        return got

    def stream(self, src: Endpoint = A) -> bytes:
        return b"".join(p.data for p in self.out if p.src == src)

    def frames(self) -> list[tuple[int, bytes]]:
        return [(p.frame, p.data) for p in self.out if p.data]


def test_in_order_after_the_handshake() -> None:
    c = Conn()
    assert c.seg(ISN, flags=SYN) == []
    assert c.seg(5000, flags=SYN | ACK, reply=True) == []
    assert c.seg(ISN + 1, flags=ACK) == []
    got = c.seg(ISN + 1, b"hello")
    assert got == [Payload(4, 4000, A, B, Transport.TCP, b"hello", 1)]
    c.seg(5001, b"reply", reply=True)
    assert [(p.src, p.stream) for p in c.out] == [(A, 1), (B, 2)], "one stream index per direction"


def test_stream_whose_start_was_not_captured_begins_at_the_first_data() -> None:
    c = Conn()
    assert c.seg(777_777, b"middle of a stream")[0].data == b"middle of a stream"
    assert c.seg(777_777 + 18, b"!")[0].data == b"!"


def test_pure_ack_or_rst_of_an_unknown_stream_is_ignored() -> None:
    c = Conn()
    assert c.seg(5, flags=ACK) == []
    assert c.seg(5, flags=RST) == []
    assert c.flush() == []


def test_retransmission_is_dropped_and_counted() -> None:
    c = Conn()
    c.seg(ISN, b"abcdef")
    assert c.seg(ISN, b"abcdef") == []
    assert c.seg(ISN + 2, b"cd") == []
    assert c.r.retransmitted_segments == 2
    assert c.diags == []


def test_partial_retransmission_delivers_only_the_new_bytes() -> None:
    c = Conn()
    c.seg(ISN, b"abcdef")
    assert [p.data for p in c.seg(ISN + 3, b"defGHI")] == [b"GHI"]


def test_out_of_order_waits_and_is_released_by_the_frame_that_fills_the_hole() -> None:
    """Wireshark shows a PDU in the frame where its reassembly completes."""
    c = Conn()
    c.seg(ISN, b"aaaa")
    assert c.seg(ISN + 8, b"cccc") == []
    assert c.seg(ISN + 12, b"dddd") == []
    got = c.seg(ISN + 4, b"bbbb")
    assert [(p.frame, p.data) for p in got] == [(4, b"bbbb"), (4, b"cccc"), (4, b"dddd")]
    assert c.stream() == b"aaaabbbbccccdddd"


def test_overlapping_out_of_order_segments_are_trimmed() -> None:
    c = Conn()
    c.seg(ISN, b"0123")
    c.seg(ISN + 6, b"6789")
    c.seg(ISN + 8, b"89AB")  # overlaps the waiting one
    c.seg(ISN + 4, b"456")  # overlaps it too, and fills the hole
    assert c.stream() == b"0123456789AB"


def test_two_waiting_segments_trimmed_to_the_same_start_keep_the_longer() -> None:
    """Regression (found by hypothesis): trimming 'CDEFG' and 'DE' after 'BCD' arrived left
    both starting at 'E'; the shorter overwrote the longer and 'FG' vanished silently."""
    c = Conn()
    c.seg(ISN, b"A")
    c.seg(ISN + 2, b"CDEFG")
    c.seg(ISN + 3, b"DE")
    c.seg(ISN + 1, b"BCD")
    c.seg(ISN + 1, b"B")
    c.flush()
    assert c.stream() == b"ABCDEFG"
    assert c.diags == []


def test_repacketised_retransmission_of_a_waiting_segment_loses_nothing() -> None:
    """Linux coalesces segments on retransmission: the longer copy must win."""
    c = Conn()
    c.seg(ISN, b"aaaa")
    c.seg(ISN + 8, b"cccc")  # waits behind a hole
    c.seg(ISN + 8, b"ccccdddd")  # retransmitted with more data
    c.seg(ISN + 4, b"bbbb")
    assert c.stream() == b"aaaabbbbccccdddd"
    c.seg(ISN + 8, b"cc")  # a shorter copy later changes nothing
    assert c.stream() == b"aaaabbbbccccdddd"


@pytest.mark.parametrize("isn", [0xFFFF_FFF0, 0xFFFF_FFFF])
def test_sequence_numbers_wrap(isn: int) -> None:
    c = Conn()
    c.seg(isn, flags=SYN)
    start = (isn + 1) & 0xFFFF_FFFF
    c.seg(start, b"x" * 10)
    c.seg((start + 20) & 0xFFFF_FFFF, b"z" * 10)
    c.seg((start + 10) & 0xFFFF_FFFF, b"y" * 10)
    c.seg(start, b"x" * 10)  # retransmitted across the wrap
    assert c.stream() == b"x" * 10 + b"y" * 10 + b"z" * 10


def test_fin_closes_the_direction_with_an_end_marker() -> None:
    c = Conn()
    c.seg(ISN, b"bye")
    got = c.seg(ISN + 3, flags=FIN | ACK)
    assert got == [Payload(2, 2000, A, B, Transport.TCP, b"", 1, False, True)]


def test_data_with_fin_is_delivered_then_closed() -> None:
    c = Conn()
    got = c.seg(ISN, b"last words", FIN | ACK | PSH)
    assert [(p.data, p.end) for p in got] == [(b"last words", False), (b"", True)]


def test_retransmission_after_fin_is_not_a_new_stream() -> None:
    """Regression: the flow was forgotten at FIN, so a retransmitted last segment came back
    as a new stream and its SIP message was reported twice."""
    c = Conn()
    c.seg(ISN, b"SIP message", FIN | ACK | PSH)
    assert c.seg(ISN, b"SIP message", FIN | ACK | PSH) == []
    assert c.seg(ISN + 11, flags=FIN | ACK) == []
    assert c.stream() == b"SIP message"
    assert c.r.retransmitted_segments == 1
    assert c.flush() == []


def test_new_connection_on_the_same_ports_after_fin_is_a_new_stream() -> None:
    c = Conn()
    c.seg(ISN, b"first", FIN | ACK | PSH)
    c.seg(50_000, flags=SYN)
    got = c.seg(50_001, b"second")
    assert [(p.data, p.stream) for p in got] == [(b"second", 2)]


def test_fin_captured_before_the_last_data_waits_for_it() -> None:
    c = Conn()
    c.seg(ISN, b"aaaa")
    assert c.seg(ISN + 8, flags=FIN | ACK) == []  # bytes 4..8 not seen yet
    got = c.seg(ISN + 4, b"bbbb")
    assert [(p.frame, p.data, p.end) for p in got] == [(3, b"bbbb", False), (3, b"", True)]
    assert c.diags == []


def test_fin_behind_a_hole_that_never_fills_is_reported_at_the_end() -> None:
    c = Conn()
    c.seg(ISN, b"aaaa")
    c.seg(ISN + 8, b"cccc", FIN | ACK)
    assert c.flush()[-1].end
    assert [p.data for p in c.out if p.data] == [b"aaaa", b"cccc"]
    assert [p.gap for p in c.out if p.data] == [False, True]
    assert [(d.frame, d.trigger) for d in c.diags] == [(2, Trigger.TCP_GAP)]


def test_rst_delivers_what_waits_behind_every_hole_then_closes() -> None:
    c = Conn()
    c.seg(ISN, b"aa")
    c.seg(ISN + 4, b"cc")
    c.seg(ISN + 8, b"ee")
    got = c.seg(ISN + 10, flags=RST)
    assert [(p.data, p.gap, p.end) for p in got] == [
        (b"cc", True, False),
        (b"ee", True, False),
        (b"", False, True),
    ]
    assert [d.frame for d in c.diags] == [2, 3]
    assert all(d.detail.endswith("2 bytes never captured; stream closed") for d in c.diags)


def test_a_hole_larger_than_the_bound_is_declared_lost(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tcp_mod, "MAX_REASM_BYTES", 10)
    c = Conn()
    c.seg(ISN, b"aaaa")
    assert c.seg(ISN + 8, b"cccccc") == []
    got = c.seg(ISN + 14, b"dddddd")  # 12 bytes waiting > 10
    assert [(p.frame, p.data, p.gap) for p in got] == [(2, b"cccccc", True), (3, b"dddddd", False)]
    assert c.diags == [
        Diagnostic(
            frame=2,
            stage=Stage.REASSEMBLY,
            trigger=Trigger.TCP_GAP,
            detail=f"TCP {A} -> {B}: 4 bytes never captured; 12 bytes waited",
        )
    ]
    # the late segment that would have filled the hole is now a retransmission
    assert c.seg(ISN + 4, b"bbbb") == []


def test_flush_closes_every_open_stream() -> None:
    c = Conn()
    c.seg(ISN, b"a")
    c.seg(ISN, b"b", reply=True)
    got = c.flush()
    assert [(p.src, p.end, p.frame) for p in got] == [(A, True, 0), (B, True, 0)]


def test_too_many_streams_evicts_the_oldest_and_reports_lost_bytes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tcp_mod, "MAX_TCP_FLOWS", 2)
    diags: list[Diagnostic] = []
    r = TcpReassembler(diags.append)
    r.segment(A, B, 0, ACK, b"x", 1, 0)
    r.segment(A, B, 10, ACK, b"waiting", 2, 0)
    r.segment(Endpoint("192.0.2.3", 1), B, 0, ACK, b"y", 3, 0)
    r.segment(Endpoint("192.0.2.4", 1), B, 0, ACK, b"z", 4, 0)
    assert [(d.frame, d.trigger) for d in diags] == [(4, Trigger.REASM_OVERFLOW)]
    assert "7 out-of-order bytes dropped" in diags[0].detail


# -- property: any arrival order, with duplicates, gives the stream back -------------
@settings(max_examples=150, deadline=None)
@given(
    data=st.binary(min_size=1, max_size=300),
    cuts=st.lists(st.integers(1, 299), max_size=12),
    order=st.randoms(use_true_random=False),
    dups=st.lists(st.integers(0, 12), max_size=4),
)
def test_any_arrival_order_with_retransmissions_gives_the_stream_once(
    data: bytes, cuts: list[int], order: object, dups: list[int]
) -> None:
    assert isinstance(order, random.Random)
    bounds = [0, *sorted({c for c in cuts if c < len(data)}), len(data)]
    pieces = [(ISN + 1 + a, data[a:b]) for a, b in itertools.pairwise(bounds)]
    # the first segment arrives first (a capture that starts mid-stream resynchronises instead)
    rest = pieces[1:] + [pieces[1 + d % len(pieces[1:])] for d in dups if len(pieces) > 1]
    order.shuffle(rest)
    c = Conn()
    c.seg(ISN, flags=SYN)
    for seq, chunk in [pieces[0], *rest]:
        c.seg(seq, chunk)
    assert c.stream() == data
    assert c.diags == []


# -- a SYN that moves next_seq while segments wait ---------------------------------
def test_syn_moving_next_seq_backwards_keeps_tcp_order_across_half_the_space() -> None:
    """Regression (found comparing with the previous implementation): after a SYN moved
    next_seq, one waiting segment was 1.9e9 behind it, and skipping 800e6 ahead put it
    more than 2**31 behind, which in TCP's modular order is ahead again."""
    c = Conn()
    c.seg(ISN, b"aaaa")
    c.seg(ISN + 8, b"cccc")
    syn_next = ISN + 8 + 1_900_000_000
    c.seg(syn_next - 1, flags=SYN)
    c.seg(syn_next + 800_000_000, b"dddd")
    c.flush()
    assert [(p.frame, p.data, p.gap) for p in c.out if p.data] == [
        (1, b"aaaa", False),
        (4, b"dddd", True),
        (2, b"cccc", True),
    ]
    assert [(d.frame, d.detail.split(": ", 1)[1]) for d in c.diags] == [
        (4, "800000000 bytes never captured; stream closed"),
        (2, "1594967292 bytes never captured; stream closed"),
    ]


def test_syn_moving_next_seq_past_every_waiting_segment_then_rst() -> None:
    """All of them are behind next_seq then: TCP's order starts at the furthest back."""
    c = Conn()
    c.seg(ISN, b"aa")
    c.seg(ISN + 4, b"cc")
    c.seg(ISN + 8, b"ee")
    c.seg(ISN + 100, flags=SYN)
    got = c.seg(ISN + 20, flags=RST)
    assert [(p.frame, p.data, p.gap, p.end) for p in got] == [
        (2, b"cc", True, False),
        (3, b"ee", True, False),
        (5, b"", False, True),
    ]
    assert [d.detail.split(": ", 1)[1] for d in c.diags] == [
        "4294967199 bytes never captured; stream closed",
        "2 bytes never captured; stream closed",
    ]


# -- cost: linear in the segments ----------------------------------------------------
def _best_of_3(run: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - t0)
    return best


def _holes(n: int) -> None:
    """n 1-byte segments, each followed by a 1-byte hole never filled (the reproducer)."""
    diags: list[Diagnostic] = []
    r = TcpReassembler(diags.append)
    out: list[Payload] = []
    for i in range(n):
        out += r.segment(A, B, ISN + 2 * i, ACK | PSH, b"S", i + 1, i)
    out += r.flush()
    assert sum(len(p.data) for p in out) == n
    assert len(diags) == n - 1


def test_ten_thousand_holes_take_well_under_a_second() -> None:
    """Regression: skipping each hole took a min() over every waiting segment and the
    trim after it another pass: quadratic, seconds for 10,000 holes."""
    assert _best_of_3(lambda: _holes(10_000)) < 1.0


def test_holes_cost_grows_linearly() -> None:
    small, big = _best_of_3(lambda: _holes(5_000)), _best_of_3(lambda: _holes(20_000))
    assert big < 8 * small, f"4x the holes took {big / small:.1f}x the time"


def test_holes_past_the_bound_cost_grows_linearly(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past MAX_REASM_BYTES every new segment skips a hole."""
    monkeypatch.setattr(tcp_mod, "MAX_REASM_BYTES", 1000)
    assert _best_of_3(lambda: _holes(10_000)) < 1.0
    small, big = _best_of_3(lambda: _holes(5_000)), _best_of_3(lambda: _holes(20_000))
    assert big < 8 * small, f"4x the holes took {big / small:.1f}x the time"


def test_segments_arriving_in_reverse_order_cost_grows_linearly() -> None:
    def reverse(n: int) -> None:
        c = Conn()
        c.seg(ISN, b"a")
        for i in range(n, 0, -1):
            c.seg(ISN + i, b"b")
        assert len(c.stream()) == n + 1

    small, big = _best_of_3(lambda: reverse(5_000)), _best_of_3(lambda: reverse(20_000))
    assert big < 8 * small, f"4x the segments took {big / small:.1f}x the time"


# -- the memory budget ------------------------------------------------------------------
def test_budget_evicts_the_least_recently_grown_flow_and_reports_its_first_segment() -> None:
    budget = ReassemblyBudget(4000)
    c = Conn(budget)
    c.seg(ISN, b"a")
    c.seg(ISN + 10, b"b" * 900)  # frame 2: A -> B waits behind a hole
    c.seg(ISN + 5, b"c" * 900)  # frame 3: an earlier piece, still behind the hole
    c.seg(5000, b"x", reply=True)
    c.seg(5010, b"y" * 500, reply=True)  # frame 5: B -> A waits too
    assert c.diags == []
    assert budget.used == 2 * (900 + SEGMENT_COST) + 500 + SEGMENT_COST
    c.seg(5600, b"z" * 500, reply=True)  # frame 6: B -> A grows past the budget
    assert c.diags == [
        Diagnostic(
            frame=3,  # the first segment after the hole
            stage=Stage.REASSEMBLY,
            trigger=Trigger.REASM_OVERFLOW,
            detail=f"reassembly memory budget (4000 bytes) exceeded at frame 6: 1800 "
            f"out-of-order bytes of TCP {A} -> {B} dropped",
        )
    ]
    assert budget.used == 2 * (500 + SEGMENT_COST) <= budget.limit
    assert budget.evictions == 1
    # the dropped segments are as if never captured: filling the hole releases nothing
    assert [p.data for p in c.seg(ISN + 1, b"1234")] == [b"1234"]
    # and what follows waits behind the new hole until the end, reported like any other
    c.seg(ISN + 910, b"late")  # frame 8
    c.flush()
    assert c.stream() == b"a1234late"
    assert [(d.frame, d.trigger) for d in c.diags[1:]] == [
        (5, Trigger.TCP_GAP),  # B -> A's own holes
        (6, Trigger.TCP_GAP),
        (8, Trigger.TCP_GAP),  # the bytes the eviction dropped
    ]
    assert budget.used == 0


def test_budget_bounds_memory_whatever_the_flows(monkeypatch: pytest.MonkeyPatch) -> None:
    """Many flows each with data behind a hole: the total held never passes the budget."""
    monkeypatch.setattr(tcp_mod, "MAX_TCP_FLOWS", 10_000)
    budget = ReassemblyBudget(50_000)
    diags: list[Diagnostic] = []
    r = TcpReassembler(diags.append, budget)
    frame = 0
    for rnd in range(5):
        for k in range(200):
            src = Endpoint(f"198.51.100.{k % 250}", 1000 + k)
            frame += 1
            if rnd == 0:
                r.segment(src, B, 0, ACK, b"x", frame, 0)
            r.segment(src, B, 10 + 100 * rnd, ACK, b"w" * 90, frame, 0)
            assert budget.used <= budget.limit
    evictions = [d for d in diags if d.trigger == Trigger.REASM_OVERFLOW]
    assert evictions
    assert len(evictions) == budget.evictions
    assert all(d.frame > 0 and "exceeded at frame" in d.detail for d in evictions)
    r.flush()
    assert budget.used == 0
    assert len(budget) == 0
