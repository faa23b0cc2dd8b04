"""The record that crosses from capture to decode.

A ``Frame`` is raw link-layer bytes plus the link type and a Wireshark-compatible
frame number.  Capture knows nothing of IP or SIP.

``Frame`` is a ``NamedTuple`` rather than a frozen dataclass on purpose: one is
built per packet on the hot path, and a tuple is constructed several times
faster than a frozen dataclass while being just as immutable and typed.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["Frame", "LinkType"]


class LinkType:
    """LINKTYPE_* values from the tcpdump.org registry that the decoder understands."""

    NULL = 0
    ETHERNET = 1
    RAW = 101
    LOOP = 108
    LINUX_SLL = 113
    IPV4 = 228
    IPV6 = 229
    LINUX_SLL2 = 276


class Frame(NamedTuple):
    """One captured packet."""

    number: int
    """1-based, counted across all merged sources exactly as Wireshark numbers them."""
    ts_ns: int
    """Capture timestamp in nanoseconds since the epoch (exact for ns-resolution files)."""
    linktype: int
    data: bytes
    """Captured bytes (may be shorter than ``orig_len`` when a snaplen applied)."""
    orig_len: int
    iface: int = 0
