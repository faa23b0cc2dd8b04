"""Key derivation against RFC 8448 (TLS 1.3 traces), and the refused suites."""

from __future__ import annotations

from sipsniff.tls.decrypt import SUITES, _hkdf_expand_label, suite_name, tls13_keys


def test_rfc8448_server_handshake_keys() -> None:
    # RFC 8448 section 3 "Simple 1-RTT Handshake": server handshake traffic secret
    # -> server_handshake_write_key 3fce51... and iv 5d313e...
    secret = bytes.fromhex("b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38")
    keys = tls13_keys(SUITES[0x1301], secret)
    assert _hkdf_expand_label("sha256", secret, b"key", 16) == bytes.fromhex(
        "3fce516009c21727d0f2e4e86ee403bc"
    )
    assert keys._iv == bytes.fromhex("5d313eb2671276ee13000b30")


def test_refused_suites_are_not_in_the_table() -> None:
    for code in (0xC013, 0x002F, 0x0005, 0x0000, 0x1304):  # CBC, CBC, RC4, NULL, CCM
        assert code not in SUITES
    assert suite_name(0xC013) == "0xc013"
    assert all(s.cipher in ("aes-gcm", "chacha20") for s in SUITES.values())
