"""IP fragment reassembly: any arrival order, duplicates and overlaps, bounds, expiry by capture time."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable

import pytest

from sipsniff.decode import fragments as frag_mod
from sipsniff.decode.budget import FRAGMENT_COST, ReassemblyBudget
from sipsniff.decode.fragments import FRAG_TIMEOUT_NS, MAX_DATAGRAM, Reassembler
from sipsniff.diagnostics import Diagnostic, Stage, Trigger

KEY = (4, b"\x01\x02\x03\x04", b"\x05\x06\x07\x08", 77, 17)
WHOLE = bytes(range(256)) * 6  # 1536 bytes
PIECES = [(0, True, WHOLE[:512]), (512, True, WHOLE[512:1024]), (1024, False, WHOLE[1024:])]


def feed(
    r: Reassembler, pieces: list[tuple[int, bool, bytes]], key: tuple = KEY
) -> list[bytes | None]:  # type: ignore[type-arg]
    return [
        r.add(key, off, more, data, n, n * 1000) for n, (off, more, data) in enumerate(pieces, 1)
    ]


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))), ids=str)
def test_every_arrival_order_gives_the_datagram_once(order: tuple[int, ...]) -> None:
    diags: list[Diagnostic] = []
    r = Reassembler(diags.append)
    results = feed(r, [PIECES[i] for i in order])
    assert results[:-1] == [None, None]
    assert results[-1] == WHOLE
    r.flush()
    assert diags == [], "a completed datagram leaves nothing behind"


def test_duplicate_fragment_does_not_complete_a_datagram_with_a_hole() -> None:
    r = Reassembler(lambda d: None)
    first, second, last = PIECES
    # 512 + 512 + 512 bytes "arrived" but the middle is missing
    assert feed(r, [first, first, last]) == [None, None, None]
    assert r.add(KEY, *second[:2], second[2], 9, 9) == WHOLE


def test_overlapping_fragments_are_merged() -> None:
    r = Reassembler(lambda d: None)
    out = feed(
        r,
        [(0, True, WHOLE[:800]), (512, True, WHOLE[512:1200]), (1024, False, WHOLE[1024:])],
    )
    assert out[-1] == WHOLE


def test_datagrams_are_kept_apart_by_key() -> None:
    r = Reassembler(lambda d: None)
    other = (4, KEY[1], KEY[2], 78, 17)
    assert r.add(KEY, 0, True, b"a" * 8, 1, 0) is None
    assert r.add(other, 0, True, b"b" * 8, 2, 0) is None
    assert r.add(other, 8, False, b"B", 3, 0) == b"b" * 8 + b"B"
    assert r.add(KEY, 8, False, b"A", 4, 0) == b"a" * 8 + b"A"


def test_incomplete_datagram_expires_after_the_timeout_in_capture_time() -> None:
    diags: list[Diagnostic] = []
    r = Reassembler(diags.append)
    r.add(KEY, 0, True, b"x" * 16, 5, 1_000)
    r.expire(1_000 + FRAG_TIMEOUT_NS - 1)
    assert diags == []
    r.expire(1_000 + FRAG_TIMEOUT_NS)
    assert diags == [
        Diagnostic(
            frame=5,
            stage=Stage.REASSEMBLY,
            trigger=Trigger.FRAG_EXPIRED,
            detail="fragments never completed a datagram (1 fragments, 16 bytes dropped)",
        )
    ]
    # a late fragment starts a new datagram instead of completing the forgotten one
    assert r.add(KEY, 16, False, b"y", 6, 2 * FRAG_TIMEOUT_NS) is None


def test_flush_reports_each_incomplete_datagram_with_its_first_frame() -> None:
    diags: list[Diagnostic] = []
    r = Reassembler(diags.append)
    r.add(KEY, 8, False, b"tail", 3, 0)
    r.add((6, b"a", b"b", 1, 17), 0, True, b"h" * 8, 4, 0)
    r.flush()
    assert [(d.frame, d.trigger) for d in diags] == [
        (3, Trigger.FRAG_EXPIRED),
        (4, Trigger.FRAG_EXPIRED),
    ]
    assert all("capture ended before all fragments arrived" in d.detail for d in diags)


def test_fragment_past_the_ip_limit_is_dropped_and_reported() -> None:
    diags: list[Diagnostic] = []
    r = Reassembler(diags.append)
    r.add(KEY, 0, True, b"x" * 8, 1, 0)
    assert r.add(KEY, MAX_DATAGRAM - 4, False, b"y" * 8, 2, 0) is None
    assert [(d.frame, d.trigger) for d in diags] == [(1, Trigger.FRAG_OVERFLOW)]
    assert f"fragment ends at byte {MAX_DATAGRAM + 4}, past the IP limit" in diags[0].detail


def test_too_many_open_datagrams_evicts_the_oldest(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(frag_mod, "MAX_PENDING_DATAGRAMS", 3)
    diags: list[Diagnostic] = []
    r = Reassembler(diags.append)
    for ident in range(5):
        r.add((4, b"a", b"b", ident, 17), 0, True, b"x" * 8, ident + 1, 0)
    assert [(d.frame, d.trigger) for d in diags] == [
        (1, Trigger.FRAG_OVERFLOW),
        (2, Trigger.FRAG_OVERFLOW),
    ]
    # the newest survive and can still complete
    assert r.add((4, b"a", b"b", 4, 17), 8, False, b"z", 9, 0) == b"x" * 8 + b"z"


def test_a_piece_past_a_hole_keeps_the_datagram_incomplete() -> None:
    """As before coverage was tracked by intervals: every piece, even one past the
    last fragment's end, must touch what the pieces before it cover."""
    r = Reassembler(lambda d: None)
    assert r.add(KEY, 64, True, b"x" * 8, 1, 0) is None  # past the end, after a hole
    assert r.add(KEY, 0, False, b"a" * 16, 2, 0) is None  # the whole datagram: 16 bytes
    assert r.add(KEY, 16, True, b"b" * 48, 3, 0) == b"a" * 16  # the hole filled


def test_an_empty_piece_past_the_coverage_keeps_the_datagram_incomplete() -> None:
    r = Reassembler(lambda d: None)
    assert r.add(KEY, 40, True, b"", 1, 0) is None
    assert r.add(KEY, 0, False, b"a" * 16, 2, 0) is None
    assert r.add(KEY, 16, True, b"b" * 24, 3, 0) == b"a" * 16
    assert r.add(KEY, 0, False, b"", 4, 0) == b"", "an empty datagram is complete"


@pytest.mark.parametrize("size", [8, 24, 512])
def test_pieces_at_every_split_and_order_give_the_datagram(size: int) -> None:
    cuts = list(range(size, len(WHOLE), size))
    bounds = [0, *cuts, len(WHOLE)]
    pieces = [(a, b < len(WHOLE), WHOLE[a:b]) for a, b in itertools.pairwise(bounds)]
    for order in (pieces, pieces[::-1], pieces[1::2] + pieces[::2]):
        r = Reassembler(lambda d: None)
        results = feed(r, order)
        assert results[-1] == WHOLE
        assert results[:-1] == [None] * (len(order) - 1)


def _best_of_3(run: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - t0)
    return best


def _duplicates(n: int) -> None:
    """The last fragment, then n copies of the first, then the middle: with the
    duplicates counted in the size, every arrival used to re-sort all the pieces."""
    r = Reassembler(lambda d: None)
    first, middle, last = PIECES
    assert r.add(KEY, *last[:2], last[2], 1, 0) is None
    for i in range(n):
        assert r.add(KEY, *first[:2], first[2], i + 2, 0) is None
    assert r.add(KEY, *middle[:2], middle[2], n + 2, 0) == WHOLE


def test_duplicate_fragments_cost_grows_linearly() -> None:
    small, big = _best_of_3(lambda: _duplicates(2_000)), _best_of_3(lambda: _duplicates(8_000))
    assert big < 8 * small, f"4x the duplicates took {big / small:.1f}x the time"


def test_budget_evicts_the_oldest_datagram_and_reports_its_first_frame() -> None:
    diags: list[Diagnostic] = []
    budget = ReassemblyBudget(2000)
    r = Reassembler(diags.append, budget)
    other = (4, KEY[1], KEY[2], 78, 17)
    assert r.add(KEY, 0, True, WHOLE[:512], 1, 0) is None
    assert r.add(other, 0, True, b"o" * 512, 2, 0) is None
    assert r.add(KEY, 512, True, WHOLE[512:1024], 3, 0) is None  # KEY grew: other is oldest
    assert budget.used == 1536 + 3 * FRAGMENT_COST
    assert r.add(KEY, 1024, True, b"more" * 20, 4, 0) is None  # past the budget
    assert diags == [
        Diagnostic(
            frame=2,
            stage=Stage.REASSEMBLY,
            trigger=Trigger.FRAG_OVERFLOW,
            detail="reassembly memory budget (2000 bytes) exceeded at frame 4 "
            "(1 fragments, 512 bytes dropped)",
        )
    ]
    assert budget.used <= budget.limit
    assert budget.evictions == 1
    # the evicted datagram is forgotten: its last fragment starts a new one
    assert r.add(other, 512, False, b"O", 5, 0) is None
    # completing the other frees its share
    r2_used = budget.used
    assert r.add(KEY, 1024, False, WHOLE[1024:], 6, 0) == WHOLE
    assert budget.used < r2_used


def test_budget_drops_a_datagram_stuffed_with_duplicates() -> None:
    """Duplicates were counted in no bound: a million copies of one fragment were kept."""
    diags: list[Diagnostic] = []
    budget = ReassemblyBudget(100_000)
    r = Reassembler(diags.append, budget)
    for i in range(1000):
        r.add(KEY, 0, True, WHOLE[:512], i + 1, 0)
        assert budget.used <= budget.limit
    assert [(d.frame, d.trigger) for d in diags][:1] == [(1, Trigger.FRAG_OVERFLOW)]
    assert all("reassembly memory budget (100000 bytes) exceeded" in d.detail for d in diags)
    assert len(diags) == budget.evictions
    r.flush()
    assert budget.used == 0
