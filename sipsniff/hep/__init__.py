"""HEP (HOMER encapsulation protocol): a sans-I/O codec for HEPv1/v2/v3."""

from .codec import HepError, HepPacket, decode, encode

__all__ = ["HepError", "HepPacket", "decode", "encode"]
