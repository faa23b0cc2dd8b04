"""The reassembly budget: least recently grown evicted first, a strict bound, every eviction counted.

The stages' own eviction tests (a small budget, the diagnostics with their frame
numbers, memory bounded) are in test_tcp.py, test_fragments.py and
sip/test_framing.py; ``test_one_budget_for_tcp_fragments_and_framing`` shares one
budget between all three.
"""

from __future__ import annotations

from sipsniff.decode.budget import REASSEMBLY_BUDGET, ReassemblyBudget
from sipsniff.decode.fragments import Reassembler
from sipsniff.decode.payload import Endpoint, Payload, Transport
from sipsniff.decode.tcp import TcpReassembler
from sipsniff.diagnostics import Diagnostic, Stage, Trigger
from sipsniff.sip.framing import SipFramer

K = 1000


class Holder:
    """Something that holds bytes and records what the budget did to it."""

    def __init__(self, name: str, log: list[tuple[str, int]]) -> None:
        self.name = name
        self.log = log

    def evicted(self, frame: int) -> None:
        self.log.append((self.name, frame))


def _evict(h: Holder, frame: int) -> None:
    h.evicted(frame)


def test_default_limit_is_64_mib() -> None:
    assert ReassemblyBudget().limit == REASSEMBLY_BUDGET == 64 * 1024 * 1024


def test_within_the_limit_nothing_is_evicted_and_sizes_are_counted() -> None:
    log: list[tuple[str, int]] = []
    b = ReassemblyBudget(3 * K)
    a, c = Holder("a", log), Holder("c", log)
    b.hold(a, K, _evict, 1)
    b.hold(c, 2 * K, _evict, 2)
    assert (b.used, b.peak, len(b), b.holds(a), b.holds(c)) == (3 * K, 3 * K, 2, K, 2 * K)
    b.hold(c, K, _evict, 3)  # shrinking
    b.release(a)
    assert (b.used, b.peak, len(b), b.holds(a)) == (K, 3 * K, 1, 0)
    b.hold(c, 0, _evict, 4)
    assert (b.used, len(b), log, b.evictions) == (0, 0, [], 0)


def test_the_least_recently_grown_holder_is_evicted_first_with_the_frame_that_caused_it() -> None:
    log: list[tuple[str, int]] = []
    b = ReassemblyBudget(3 * K)
    first, second, third = Holder("first", log), Holder("second", log), Holder("third", log)
    b.hold(first, K, _evict, 1)
    b.hold(second, K, _evict, 2)
    b.hold(first, K + 10, _evict, 3)  # first grew again: second is now the oldest
    b.hold(third, K, _evict, 4)  # 3010 > 3000
    assert log == [("second", 4)]
    assert (b.used, b.evictions, b.evicted_bytes, b.holds(second)) == (2 * K + 10, 1, K, 0)
    b.hold(third, 3 * K + 1, _evict, 5)  # alone over the limit: first goes, then third
    assert log == [("second", 4), ("first", 5), ("third", 5)]
    assert (b.used, len(b), b.evictions) == (0, 0, 3)


def test_the_bound_is_strict_even_for_one_holder_larger_than_the_budget() -> None:
    log: list[tuple[str, int]] = []
    b = ReassemblyBudget(2 * K)
    big = Holder("big", log)
    for frame, size in enumerate(range(K, 10 * K, K), 1):
        b.hold(big, size, _evict, frame)
        assert b.used <= b.limit
    assert log[:2] == [("big", 3), ("big", 4)]  # 2000 fits, 3000 does not
    assert b.peak <= b.limit


def test_one_budget_for_tcp_fragments_and_framing() -> None:
    """The pipeline shares one budget between the three stages: what one holds can
    evict what another holds, oldest first, each reported by its own stage."""
    diags: list[Diagnostic] = []
    budget = ReassemblyBudget(60 * K)
    frags = Reassembler(diags.append, budget)
    tcp = TcpReassembler(diags.append, budget)
    framer = SipFramer(diags.append, budget=budget)
    a, b = Endpoint("192.0.2.1", 40000), Endpoint("192.0.2.2", 5060)
    # frame 1: half a datagram; frame 2: a TCP segment behind a hole; frame 3: a SIP
    # header without its end, all waiting
    assert frags.add((4, b"\x01" * 4, b"\x02" * 4, 7, 17), 0, True, b"f" * (20 * K), 1, 0) is None
    tcp.segment(a, b, 0, 0x18, b"x", 2, 0)
    assert tcp.segment(a, b, 100, 0x18, b"t" * (20 * K), 2, 0) == []
    head = b"INVITE sip:bob@example.com SIP/2.0\r\nX-Pad: " + b"p" * (15 * K)
    assert framer.feed(Payload(3, 0, a, b, Transport.TCP, head, 9)) == []
    assert diags == []
    assert budget.used > 55 * K
    # frame 4: the SIP header grows: the datagram (oldest) goes first, then the segment
    assert framer.feed(Payload(4, 0, a, b, Transport.TCP, b"q" * (30 * K), 9)) == []
    assert [(d.frame, d.stage, d.trigger) for d in diags] == [
        (1, Stage.REASSEMBLY, Trigger.FRAG_OVERFLOW),
        (2, Stage.REASSEMBLY, Trigger.REASM_OVERFLOW),
    ]
    assert all("exceeded at frame 4" in d.detail for d in diags)
    assert budget.evictions == 2
    assert budget.used <= budget.limit
    # what was evicted is gone from its stage: the hole fills with nothing behind it
    assert [p.data for p in tcp.segment(a, b, 1, 0x18, b"y" * 99, 5, 0)] == [b"y" * 99]
