"""Analysis: the one model every renderer and exporter reads.

Renderers never see frames or payloads: they get ``AnalyzedCall`` records
(a frozen ``Call`` with its annotations), the counters in ``Stats``, and the
diagnostics.  Everything here is plain data.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TypeVar

from .annotate.annotation import Annotation
from .annotate.knowledge import Severity
from .diagnostics import Diagnostic
from .dialogs.call import Call

__all__ = ["MAX_KEPT_DIAGNOSTICS", "Analysis", "AnalyzedCall", "Stats", "ranked"]

# Diagnostics are all counted; only the first ones are kept with their text, so
# a flood of junk cannot turn the diagnostic list into the memory hog.
MAX_KEPT_DIAGNOSTICS = 10_000
K = TypeVar("K")


def ranked(counter: Counter[K]) -> list[tuple[K, int]]:
    """Most frequent first, equal counts by key: the same order however the counts were
    gathered (``Counter.most_common`` keeps ties in insertion order, which differs
    between a serial and a sharded run)."""
    return sorted(counter.items(), key=lambda kv: (-kv[1], str(kv[0])))


@dataclass(frozen=True, slots=True, kw_only=True)
class AnalyzedCall:
    """A finished call and what the annotator found in it."""

    call: Call
    annotations: tuple[Annotation, ...]

    @property
    def worst(self) -> Severity | None:
        """Highest annotation severity, None when there is none."""
        return max((a.severity for a in self.annotations), default=None)


@dataclass(slots=True, kw_only=True)
class Stats:
    """Counters filled while the pipeline runs (mutable while running, read after)."""

    sources: list[str] = field(default_factory=list)
    frames: int = 0
    bytes: int = 0
    skipped: int = 0
    """Frames that carried nothing for SIP (ARP, ICMP, pure TCP ACKs, unknown link types)."""
    skipped_by_reason: dict[str, int] = field(default_factory=dict)
    layers: dict[str, int] = field(default_factory=dict)
    """Encapsulations opened (GRE, ERSPAN II, VXLAN, MPLS, PPPoE, SCTP...): packets each."""
    payloads: int = 0
    not_sip: int = 0
    """UDP datagrams / TCP chunks that were not SIP (RTP, DNS...)."""
    sip_messages: int = 0
    malformed: int = 0
    retransmissions: int = 0
    capture_duplicates: int = 0
    """SIP messages recorded twice by the capture (SPAN mirroring), left out of calls."""
    tcp_retransmitted_segments: int = 0
    tls: dict[str, int] = field(default_factory=dict)
    """TLS connections and records seen, and how many connections were decrypted,
    had no keys, used a refused suite or failed (empty: no TLS); shard 0's alone."""
    ip_fragments: int = 0
    methods: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    calls: int = 0
    calls_by_kind: Counter[str] = field(default_factory=Counter)
    calls_by_state: Counter[str] = field(default_factory=Counter)
    diagnostics_by_trigger: Counter[str] = field(default_factory=Counter)
    annotations_by_rule: Counter[str] = field(default_factory=Counter)
    annotations_by_severity: Counter[str] = field(default_factory=Counter)
    evicted_calls: int = 0
    first_ts_ns: int = 0
    last_ts_ns: int = 0

    @property
    def diagnostics(self) -> int:
        return sum(self.diagnostics_by_trigger.values())

    def add_shard(self, other: Stats) -> None:
        """Add a secondary shard's counters (``shards``).

        What every shard saw alike -- frames, bytes, decode and capture problems,
        times -- is shard 0's alone; what each shard parsed or tracked is summed.
        """
        self.sip_messages += other.sip_messages
        self.malformed += other.malformed
        self.not_sip += other.not_sip
        self.payloads += other.payloads
        self.retransmissions += other.retransmissions
        self.capture_duplicates += other.capture_duplicates
        self.calls += other.calls
        self.evicted_calls += other.evicted_calls
        self.methods.update(other.methods)
        self.statuses.update(other.statuses)
        self.calls_by_kind.update(other.calls_by_kind)
        self.calls_by_state.update(other.calls_by_state)
        self.diagnostics_by_trigger.update(other.diagnostics_by_trigger)
        self.annotations_by_rule.update(other.annotations_by_rule)
        self.annotations_by_severity.update(other.annotations_by_severity)


@dataclass(frozen=True, slots=True, kw_only=True)
class Analysis:
    """The result of analysing one or more capture sources."""

    calls: tuple[AnalyzedCall, ...]
    stats: Stats
    diagnostics: tuple[Diagnostic, ...]
    """The first ``MAX_KEPT_DIAGNOSTICS`` diagnostics; ``stats`` counts all of them."""

    def find(self, call_id: str) -> AnalyzedCall | None:
        return next((c for c in self.calls if c.call.call_id == call_id), None)
