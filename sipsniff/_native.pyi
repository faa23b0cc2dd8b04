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
    def counters(self) -> tuple[int, int, int, int, int, int, int, int]: ...
