"""The key source: lazy reads, a key log that grows (live capture), pcapng secrets blocks."""

from __future__ import annotations

import struct
from pathlib import Path

from sipsniff.diagnostics import Diagnostic, Trigger
from sipsniff.tls.keys import KeySource

R1, R2 = b"\x11" * 32, b"\x22" * 32


def line(rnd: bytes) -> str:
    return f"CLIENT_RANDOM {rnd.hex()} {'ab' * 48}\n"


def test_a_growing_key_log_is_read_again_on_a_miss(tmp_path: Path) -> None:
    keys = tmp_path / "k.txt"
    keys.write_text(line(R1) + "oops\n" + line(R2)[:20])  # the last line is still being written
    diags: list[Diagnostic] = []
    src = KeySource([keys], lambda: [], diags.append)
    assert src.get(R1) is not None
    assert src.get(R2) is None
    with keys.open("a") as fp:
        fp.write(line(R2)[20:] + "bad again\n")
    assert src.get(R2) is not None
    assert [d.detail.split(": ", 1)[1][:14] for d in diags] == ["1 line (2) not", "1 line (4) not"]
    assert all(d.trigger == Trigger.TLS for d in diags)


def _block(btype: int, body: bytes) -> bytes:
    body += b"\x00" * (-len(body) % 4)
    n = len(body) + 12
    return struct.pack("<II", btype, n) + body + struct.pack("<I", n)


def test_pcapng_secrets_before_the_first_packet(tmp_path: Path) -> None:
    shb = struct.pack("<IIIHHq", 0x0A0D0D0A, 28, 0x1A2B3C4D, 1, 0, -1) + struct.pack("<I", 28)
    text = line(R1).encode()
    dsb = _block(0x0A, struct.pack("<II", 0x544C534B, len(text)) + text)
    idb = _block(1, struct.pack("<HHI", 1, 0, 65535))
    late = _block(0x0A, struct.pack("<II", 0x544C534B, len(line(R2))) + line(R2).encode())
    epb = _block(6, struct.pack("<IIIII", 0, 0, 0, 0, 0))
    cap = tmp_path / "c.pcapng"
    cap.write_bytes(shb + idb + dsb + epb + late)
    src = KeySource([], lambda: [str(cap), "eth0 (live)"], lambda d: None)
    assert src.configured and src.embedded == 1
    assert src.get(R1) is not None
    assert src.get(R2) is None  # after a packet: not looked for (editcap writes them first)
