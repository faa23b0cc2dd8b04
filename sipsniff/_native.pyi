"""Types of the extension module built from ``sipsniff/_core`` (see ``py/src/lib.rs``).

Events are plain tuples whose first item is one of ``engine.EV_*``.
"""

from collections.abc import Sequence
from typing import Any

def version() -> str: ...

class Scanner:
    def __init__(self, shard: tuple[int, int] | None = None) -> None: ...
    def feed(self, frames: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]: ...
    def datagram(
        self, frame: int, ts_ns: int, src: str, sport: int, dst: str, dport: int, data: bytes
    ) -> list[tuple[Any, ...]]: ...
    def scan_file(
        self, file: FileReader, max_frames: int
    ) -> tuple[list[tuple[Any, ...]], int, int, bool]: ...
    def counters(self) -> tuple[int, int, int, int, int, int, int, int]: ...
    def streams(self) -> list[tuple[Any, ...]]:
        """RTP streams by first frame: (src, sport, dst, dport, ssrc, first_frame,
        last_frame, first_ts_ns, last_ts_ns, packets, bytes, payload_types,
        expected, lost, seq_errors, duplicates, max_delta_ns, mean_delta_ns,
        jitter_ms, max_jitter_ms, mean_jitter_ms, clock_rate, markers,
        events: list[(event, frame)])."""
    def rtcp(self) -> list[tuple[Any, ...]]:
        """RTCP senders by first frame: (src, sport, dst, dport, ssrc, first_frame,
        last_frame, sr, rr, fraction_lost, cumulative_lost, jitter, rtt_ms | None)."""
    def media_evicted(self) -> tuple[int, int]:
        """(streams evicted because the table was full, frame of the first)."""

class FileReader:
    def __init__(self, path: str) -> None: ...

def parse_message(data: bytes) -> tuple[tuple[Any, ...], tuple[Any, ...]] | None: ...
