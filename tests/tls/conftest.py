"""Real TLS captures for the TLS tests: Python ssl peers on loopback, tcpdump, key logs.

Each capture is made once per session (a second or so each): a self-signed
certificate is generated with ``cryptography``, ``peer.py`` runs the dialog
on a random loopback port with ``OPENSSL_CONF`` choosing the TLS 1.3 suite,
and tcpdump records it.
"""

from __future__ import annotations

import datetime
import os
import random
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from helpers import needs_root, needs_tool

PEER = Path(__file__).with_name("peer.py")

CASES = {
    "tls12-aes128gcm": ("1.2", "ECDHE-RSA-AES128-GCM-SHA256", ""),
    "tls12-chacha20": ("1.2", "ECDHE-RSA-CHACHA20-POLY1305", ""),
    "tls13-aes128gcm": ("1.3", "", "TLS_AES_128_GCM_SHA256"),
    "tls13-chacha20": ("1.3", "", "TLS_CHACHA20_POLY1305_SHA256"),
    "tls13-aes256gcm": ("1.3", "", "TLS_AES_256_GCM_SHA384"),
}
"""name -> (version, TLS 1.2 cipher, TLS 1.3 suite)."""


@dataclass(frozen=True)
class TlsCapture:
    pcap: Path
    keys: Path
    port: int
    negotiated: str
    """What the client says it negotiated: 'SUITE VERSION'."""


def _cert(dirpath: Path) -> tuple[Path, Path]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sipsniff-test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .sign(key, hashes.SHA256())
    )
    cp, kp = dirpath / "cert.pem", dirpath / "key.pem"
    cp.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    kp.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    return cp, kp


def record(dirpath: Path, name: str, cert: Path, key: Path) -> TlsCapture:
    """Run one dialog under tcpdump; the capture, its key log, its port."""
    version, cipher, suite = CASES[name]
    tcpdump = needs_tool("tcpdump")
    port = random.randint(15000, 40000)
    pcap, keys = dirpath / f"{name}.pcap", dirpath / f"{name}.keys"
    env = dict(os.environ)
    env.pop("SSLKEYLOGFILE", None)
    if suite:
        conf = dirpath / f"{name}.cnf"
        conf.write_text(
            "openssl_conf = init\n[init]\nssl_conf = ssl\n[ssl]\nsystem_default = sys\n"
            f"[sys]\nCiphersuites = {suite}\n"
        )
        env["OPENSSL_CONF"] = str(conf)
    dump = subprocess.Popen(
        [tcpdump, "-i", "lo", "-U", "-n", "-w", str(pcap), "tcp", "port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        assert dump.stderr is not None
        dump.stderr.readline()  # "listening on lo ...", said a little before it is
        time.sleep(0.5)
        args = [sys.executable, str(PEER), str(port), str(keys), str(cert), str(key), version]
        if cipher:
            args.append(cipher)
        done = subprocess.run(
            args, check=False, env=env, capture_output=True, text=True, timeout=30
        )
        assert done.returncode == 0, done.stderr
        time.sleep(0.3)
    finally:
        dump.terminate()
        dump.wait(timeout=10)
    return TlsCapture(pcap, keys, port, done.stdout.strip())


@pytest.fixture(scope="session")
def tls_captures(tmp_path_factory: pytest.TempPathFactory) -> dict[str, TlsCapture]:
    """Every case of ``CASES``, recorded for real (needs root and tcpdump)."""
    needs_root()
    needs_tool("tcpdump")
    d = tmp_path_factory.mktemp("tls")
    cert, key = _cert(d)
    return {name: record(d, name, cert, key) for name in CASES}
