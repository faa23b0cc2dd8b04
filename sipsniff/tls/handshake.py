"""The few handshake fields decryption needs: the two randoms, the version, the suite.

Strategy: handshake messages (RFC 8446 section 4, RFC 5246 section 7.4) are a
1-byte type and a 3-byte length; only ClientHello and ServerHello are read,
and of them only the random, the cipher suite and (TLS 1.3, RFC 8446 section
4.2.1) the ``supported_versions`` extension, because a 1.3 ServerHello says
0x0303 in its legacy version field.  Everything else (certificates, key
shares) is skipped by its length: decryption comes from the key log.

A field that runs past its message raises ``DecodeError`` with the field's name.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Final

from ..diagnostics import DecodeError

__all__ = [
    "CLIENT_HELLO",
    "FINISHED",
    "HRR_RANDOM",
    "KEY_UPDATE",
    "SERVER_HELLO",
    "ServerHello",
    "client_random",
    "parse_server_hello",
]

CLIENT_HELLO: Final = 1
SERVER_HELLO: Final = 2
FINISHED: Final = 20
KEY_UPDATE: Final = 24
_SUPPORTED_VERSIONS: Final = 43
HRR_RANDOM: Final = bytes.fromhex(
    "cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c"
)
"""A ServerHello with this random is a HelloRetryRequest (RFC 8446 section 4.1.3)."""
_U16 = struct.Struct("!H")


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerHello:
    random: bytes
    version: int
    """The negotiated version: supported_versions when present, else legacy_version."""
    suite: int


def _need(body: bytes, end: int, what: str) -> None:
    if end > len(body):
        raise DecodeError(f"{what} runs past the end of the message")


def client_random(body: bytes) -> bytes:
    """The 32-byte random of a ClientHello body (after the 4-byte message header)."""
    _need(body, 34, "ClientHello random")
    return body[2:34]


def parse_server_hello(body: bytes) -> ServerHello:
    """Random, suite and version of a ServerHello body."""
    _need(body, 35, "ServerHello random")
    legacy = _U16.unpack_from(body, 0)[0]
    rnd = body[2:34]
    pos = 35 + body[34]  # session id
    _need(body, pos + 3, "ServerHello cipher suite")
    suite = _U16.unpack_from(body, pos)[0]
    pos += 3  # suite, compression method
    version = legacy
    if pos + 2 <= len(body):
        ext_end = pos + 2 + _U16.unpack_from(body, pos)[0]
        _need(body, ext_end, "ServerHello extensions")
        pos += 2
        while pos + 4 <= ext_end:
            etype, elen = struct.unpack_from("!HH", body, pos)
            _need(body, pos + 4 + elen, f"ServerHello extension {etype}")
            if etype == _SUPPORTED_VERSIONS and elen == 2:
                version = _U16.unpack_from(body, pos + 4)[0]
            pos += 4 + elen
    return ServerHello(random=rnd, version=version, suite=suite)
