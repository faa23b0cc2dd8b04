"""Decode: link, IP (fragments, tunnels), UDP and TCP reassembly -> Payload. Knows no SIP."""

from .decoder import Decoder, DecodeStats
from .payload import Endpoint, Payload, Transport

__all__ = ["DecodeStats", "Decoder", "Endpoint", "Payload", "Transport"]
