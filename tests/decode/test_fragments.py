"""IP fragment reassembly: any arrival order, duplicates and overlaps, bounds, expiry by capture time."""

from __future__ import annotations

import itertools

import pytest

from sipsniff.decode import fragments as frag_mod
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
