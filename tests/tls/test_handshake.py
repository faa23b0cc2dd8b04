"""Hello fields: randoms, suite, and the TLS 1.3 version from supported_versions."""

from __future__ import annotations

import struct

import pytest

from sipsniff.diagnostics import DecodeError
from sipsniff.tls.handshake import HRR_RANDOM, client_random, parse_server_hello


def server_hello(rnd: bytes, suite: int, versions: int | None) -> bytes:
    ext = b""
    if versions is not None:
        ext = struct.pack("!HHH", 43, 2, versions)
    return (
        b"\x03\x03"
        + rnd
        + b"\x00"
        + struct.pack("!HB", suite, 0)
        + struct.pack("!H", len(ext))
        + ext
    )


def test_server_hello_tls13_and_tls12() -> None:
    sh = parse_server_hello(server_hello(b"\x07" * 32, 0x1301, 0x0304))
    assert (sh.random, sh.suite, sh.version) == (b"\x07" * 32, 0x1301, 0x0304)
    sh = parse_server_hello(server_hello(HRR_RANDOM, 0xC02F, None))
    assert (sh.random, sh.suite, sh.version) == (HRR_RANDOM, 0xC02F, 0x0303)


def test_truncated_hellos_raise_with_the_field() -> None:
    with pytest.raises(DecodeError, match="ServerHello cipher suite"):
        parse_server_hello(b"\x03\x03" + b"\x00" * 32 + b"\x00")
    with pytest.raises(DecodeError, match="ClientHello random"):
        client_random(b"\x03\x03" + b"\x00" * 10)
    assert client_random(b"\x03\x03" + b"\x05" * 32) == b"\x05" * 32
