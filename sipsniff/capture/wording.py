"""The words of capture-file warnings, shared by the Python readers and the native core.

The native core (``sipsniff/_core``) reports where a damaged file stops as a
code with arguments; these functions word both engines' reports, so a user
sees the same line whichever engine read the file.
"""

from __future__ import annotations

__all__ = ["MAX_TS_NS", "bad_interface", "out_of_range", "stopped"]

MAX_TS_NS = 9_223_372_036_000_000_000
"""2262-04-11 23:47:16 UTC, the last second 64-bit nanoseconds hold (what every
timestamp of the analysis is): a pcapng timestamp past it (a corrupt block, a
wrong ``if_tsresol``) is moved there, with a warning."""

_PCAPNG_STOPS = (
    "file ends inside a block header",
    "bad byte-order mark in a section header",
    "bad section header length {0}",
    "file ends inside a section header",
    "bad block length {0} (block type {1:#x})",
    "file ends inside a block of type {0:#x}",
    "enhanced packet block too short",
    "simple packet block without an interface",
    "packet block too short",
    "interface description block too short",
)
"""pcapng stops, in the order of the native ``Stop`` codes 2..11."""
PCAP_CORRUPT, PCAP_INSIDE = 0, 1
"""pcap stops: codes 0 and 1."""
(
    BLOCK_HEADER_CUT,
    BAD_BOM_IN_SECTION,
    BAD_SECTION_LENGTH,
    SECTION_CUT,
    BAD_BLOCK_LENGTH,
    BLOCK_CUT,
    EPB_TOO_SHORT,
    SPB_WITHOUT_INTERFACE,
    PB_TOO_SHORT,
    IDB_TOO_SHORT,
) = range(2, 12)


def stopped(name: str, loaded: int, code: int, *args: int) -> str:
    """The detail of a ``truncated-file`` diagnostic: where and why reading stopped."""
    if code == PCAP_CORRUPT:
        detail = f"corrupt record length {args[0]} at byte {args[1]}"
    elif code == PCAP_INSIDE:
        detail = f"file ends inside a record ({args[0]} bytes left over)"
    else:
        detail = _PCAPNG_STOPS[code - 2].format(*args)
    return f"{name}: {detail}; {loaded} frames loaded"


def bad_interface(name: str, iface: int, interfaces: int) -> str:
    """The detail of a pcapng ``bad-block`` diagnostic (the frame is skipped, not the file)."""
    return f"{name}: packet block names interface {iface} of {interfaces} or overflows its block"


def out_of_range(name: str, ts_ns: int) -> str:
    """The detail of a ``bad-timestamp`` diagnostic (the frame is kept, its time moved)."""
    return (
        f"{name}: packet timestamp {ts_ns // 1_000_000_000:,} s is past year 2262 "
        "(a corrupt block or interface resolution); the frame is kept at 2262-04-11 23:47:16"
    )
