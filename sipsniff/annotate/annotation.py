"""Annotation: one diagnosis of one call, with the frames that prove it."""

from __future__ import annotations

from dataclasses import dataclass

from .knowledge import Severity

__all__ = ["Annotation"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Annotation:
    """What went wrong (or what happened), why, what to do, and the evidence."""

    rule: str
    """Stable rule id (``response-code``, ``ack-missing``...): scripts filter on it."""
    severity: Severity
    title: str
    """One line for tables and ladders."""
    cause: str
    resolution: tuple[str, ...]
    """Steps to take, most likely first."""
    frames: tuple[int, ...]
    """Wireshark frame numbers of the messages that prove it."""
    call_id: str = ""
    details: tuple[tuple[str, str], ...] = ()
    """Extra facts as (label, value) pairs: offered codecs, Via hops, Retry-After..."""
