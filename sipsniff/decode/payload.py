"""The record that crosses from decode/reassembly to SIP parsing.

A ``Payload`` is a UDP datagram or an in-order chunk of a TCP stream, with the
frame numbers that carried it.  It knows addresses and ports, never SIP.
"""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple

__all__ = ["DATAGRAM_TRANSPORTS", "Endpoint", "Payload", "Transport"]


class Transport(StrEnum):
    """How the bytes travelled, as the user reads it (Via's transport names)."""

    UDP = "UDP"
    TCP = "TCP"
    SCTP = "SCTP"
    """SCTP DATA chunks: one user message per payload, framed like a datagram."""
    TLS = "TLS"
    """TCP bytes decrypted with a key log: a stream, as TCP."""
    WS = "WS"
    """WebSocket (RFC 7118) over TCP: each message is one or more frames."""
    WSS = "WSS"
    """WebSocket over decrypted TLS."""


DATAGRAM_TRANSPORTS = frozenset((Transport.UDP, Transport.SCTP))
"""Transports whose payloads are whole messages (no stream framing)."""


class Endpoint(NamedTuple):
    """An IP address (text form) and a port."""

    ip: str
    port: int

    def __str__(self) -> str:
        if ":" in self.ip:
            return f"[{self.ip}]:{self.port}"
        return f"{self.ip}:{self.port}"


class Payload(NamedTuple):
    """Application bytes, in order, as delivered by UDP or TCP reassembly.

    A ``NamedTuple`` for the same reason as ``Frame``: one per packet on the hot path.
    """

    frame: int
    """The frame in which these bytes end (Wireshark's frame for a reassembled PDU)."""
    ts_ns: int
    src: Endpoint
    dst: Endpoint
    transport: Transport
    data: bytes
    stream: int = 0
    """TCP stream direction index (0 for UDP); lets SIP framing keep one buffer per stream."""
    gap: bool = False
    """TCP: bytes before this chunk were never captured (framing must resynchronise)."""
    end: bool = False
    """TCP: the stream direction closed (FIN/RST) or the capture ended after this chunk."""
