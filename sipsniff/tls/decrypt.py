"""Record decryption: keys from key log secrets, then AEAD per record.

Why ``cryptography``: AES-GCM and ChaCha20-Poly1305 must be constant-time and
correct, and a tag check is the whole point (a record that does not verify is
never shown); a maintained library that binds OpenSSL gives both, and writing
ciphers here would give neither.  tshark decrypts too, but it is a separate
process per capture and an optional install, so it is our test oracle only:
both engines call this module (TCP reaches the Python decoder in both).

Rules:
- Only AEAD suites are decrypted: TLS 1.2 ECDHE/DHE/RSA with AES-GCM (RFC 5288:
  4-byte implicit salt + 8-byte explicit nonce in each record) or
  ChaCha20-Poly1305 (RFC 7905: 12-byte IV XORed with the sequence number), and
  the TLS 1.3 suites with AES-GCM or ChaCha20-Poly1305.  CBC, NULL, RC4 and
  export suites are refused (``suite_name`` says so): their integrity is a
  MAC-then-encrypt construction we would have to get exactly right to avoid
  showing forged plaintext, and SIP peers no longer negotiate them.
- TLS 1.2 keys: key_block = PRF(master_secret, "key expansion", server_random +
  client_random) (RFC 5246 section 6.3), PRF hash from the suite.
- TLS 1.3 keys: key/iv = HKDF-Expand-Label(secret, "key"/"iv", "", len)
  (RFC 8446 section 7.3); a KeyUpdate derives "traffic upd".
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from dataclasses import dataclass
from typing import Final

from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

from ..diagnostics import DecodeError

__all__ = [
    "SUITES",
    "TLS12",
    "TLS13",
    "RecordKeys",
    "Suite",
    "next_secret",
    "suite_name",
    "tls12_keys",
    "tls13_keys",
]

TLS12: Final = 0x0303
TLS13: Final = 0x0304


@dataclass(frozen=True, slots=True, kw_only=True)
class Suite:
    name: str
    cipher: str
    """'aes-gcm' or 'chacha20'."""
    key_len: int
    hash: str
    """PRF / HKDF hash: 'sha256' or 'sha384'."""
    tls13: bool


def _s(name: str, cipher: str, key_len: int, h: str, tls13: bool = False) -> Suite:
    return Suite(name=name, cipher=cipher, key_len=key_len, hash=h, tls13=tls13)


SUITES: Final[dict[int, Suite]] = {
    0x009C: _s("TLS_RSA_WITH_AES_128_GCM_SHA256", "aes-gcm", 16, "sha256"),
    0x009D: _s("TLS_RSA_WITH_AES_256_GCM_SHA384", "aes-gcm", 32, "sha384"),
    0x009E: _s("TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", "aes-gcm", 16, "sha256"),
    0x009F: _s("TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", "aes-gcm", 32, "sha384"),
    0xC02B: _s("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "aes-gcm", 16, "sha256"),
    0xC02C: _s("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "aes-gcm", 32, "sha384"),
    0xC02F: _s("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "aes-gcm", 16, "sha256"),
    0xC030: _s("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "aes-gcm", 32, "sha384"),
    0xCCA8: _s("TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "chacha20", 32, "sha256"),
    0xCCA9: _s("TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "chacha20", 32, "sha256"),
    0xCCAA: _s("TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "chacha20", 32, "sha256"),
    0x1301: _s("TLS_AES_128_GCM_SHA256", "aes-gcm", 16, "sha256", True),
    0x1302: _s("TLS_AES_256_GCM_SHA384", "aes-gcm", 32, "sha384", True),
    0x1303: _s("TLS_CHACHA20_POLY1305_SHA256", "chacha20", 32, "sha256", True),
}
"""The suites decrypted: AEAD only (the tag proves the plaintext)."""

_REFUSED_WORDS = ("CBC", "NULL", "RC4", "EXPORT", "3DES", "DES")


def suite_name(code: int) -> str:
    """A readable name for a suite code (for diagnostics)."""
    s = SUITES.get(code)
    if s is not None:
        return s.name
    if code in (0x1304, 0x1305):
        return f"TLS_AES_128_CCM{'_8' if code == 0x1305 else ''}_SHA256 (0x{code:04x})"
    return f"0x{code:04x}"


def _p_hash(h: str, secret: bytes, seed: bytes, size: int) -> bytes:
    out = b""
    a = seed
    while len(out) < size:
        a = hmac.new(secret, a, h).digest()
        out += hmac.new(secret, a + seed, h).digest()
    return out[:size]


def _hkdf_expand_label(h: str, secret: bytes, label: bytes, length: int) -> bytes:
    full = b"tls13 " + label
    info = struct.pack("!HB", length, len(full)) + full + b"\x00"
    out = b""
    block = b""
    i = 1
    while len(out) < length:
        block = hmac.new(secret, block + info + bytes((i,)), h).digest()
        out += block
        i += 1
    return out[:length]


class RecordKeys:
    """One direction's AEAD state: key, IV, sequence number."""

    __slots__ = ("_aead", "_iv", "explicit", "seq")

    def __init__(self, suite: Suite, key: bytes, iv: bytes, *, explicit: bool) -> None:
        self._aead = AESGCM(key) if suite.cipher == "aes-gcm" else ChaCha20Poly1305(key)
        self._iv = iv
        self.explicit = explicit
        """TLS 1.2 GCM: 8 bytes of nonce lead each record (RFC 5288 section 3)."""
        self.seq = 0

    def open12(self, ctype: int, version: int, fragment: bytes) -> bytes:
        """Decrypt a TLS 1.2 record fragment (``InvalidTag``: wrong keys)."""
        if self.explicit:
            if len(fragment) < 8 + 16:
                raise DecodeError("record shorter than its nonce and tag")
            nonce, ct = self._iv + fragment[:8], fragment[8:]
        else:
            if len(fragment) < 16:
                raise DecodeError("record shorter than its tag")
            nonce, ct = self._xor_nonce(), fragment
        aad = struct.pack("!QBHH", self.seq, ctype, version, len(ct) - 16)
        out = self._aead.decrypt(nonce, ct, aad)
        self.seq += 1
        return out

    def open13(self, header: bytes, fragment: bytes) -> tuple[int, bytes]:
        """Decrypt a TLS 1.3 record: (inner content type, content)."""
        if len(fragment) < 17:
            raise DecodeError("record shorter than its tag")
        inner = self._aead.decrypt(self._xor_nonce(), fragment, header)
        self.seq += 1
        body = inner.rstrip(b"\x00")
        if not body:
            raise DecodeError("record has no inner content type")
        return body[-1], body[:-1]

    def _xor_nonce(self) -> bytes:
        iv = self._iv
        seq = self.seq.to_bytes(12, "big")
        return bytes(a ^ b for a, b in zip(iv, seq, strict=True))


def tls12_keys(
    suite: Suite, master: bytes, client_random: bytes, server_random: bytes
) -> tuple[RecordKeys, RecordKeys]:
    """(client write, server write) keys from a TLS 1.2 master secret."""
    iv_len = 4 if suite.cipher == "aes-gcm" else 12
    size = 2 * (suite.key_len + iv_len)
    block = _p_hash(suite.hash, master, b"key expansion" + server_random + client_random, size)
    k = suite.key_len
    ck, sk = block[:k], block[k : 2 * k]
    civ, siv = block[2 * k : 2 * k + iv_len], block[2 * k + iv_len :]
    explicit = suite.cipher == "aes-gcm"
    return (
        RecordKeys(suite, ck, civ, explicit=explicit),
        RecordKeys(suite, sk, siv, explicit=explicit),
    )


def tls13_keys(suite: Suite, secret: bytes) -> RecordKeys:
    """One direction's keys from a TLS 1.3 traffic secret."""
    key = _hkdf_expand_label(suite.hash, secret, b"key", suite.key_len)
    iv = _hkdf_expand_label(suite.hash, secret, b"iv", 12)
    return RecordKeys(suite, key, iv, explicit=False)


def next_secret(suite: Suite, secret: bytes) -> bytes:
    """The traffic secret after a KeyUpdate (RFC 8446 section 7.2)."""
    return _hkdf_expand_label(
        suite.hash, secret, b"traffic upd", hashlib.new(suite.hash).digest_size
    )
