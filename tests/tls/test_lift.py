"""SIP over real TLS (Python ssl peers on loopback, tcpdump): message lists equal tshark's.

The oracle is tshark with the same key log; sipsniff must give the same
(frame, CSeq, Call-ID) list in both engines, refuse wrong keys without showing
anything, and count connections without keys.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest
from helpers import ROOT, needs_tool

from sipsniff import engine, tls
from sipsniff.capture.sources import read_frames
from sipsniff.decode.payload import Endpoint, Payload, Transport
from sipsniff.diagnostics import Diagnostic, Trigger
from sipsniff.pipeline import Pipeline
from sipsniff.sip.message import SipMessage
from sipsniff.tls.keys import KeySource
from sipsniff.tls.lift import MAX_TLS_DIRECTIONS, TlsLift

from .conftest import CASES, TlsCapture

Row = tuple[int, str, str]


def ours(pcap: Path, keys: list[Path], engine_name: str) -> tuple[list[Row], Pipeline]:
    tls.configure(keys)
    got: list[Row] = []
    transports: set[str] = set()

    def seen(m: SipMessage) -> None:
        got.append((m.frame, f"{m.cseq_num} {m.cseq_method}", m.call_id))
        transports.add(m.transport)

    pipe = Pipeline(engine_name=engine_name, on_message=seen)
    pipe.transports = transports  # type: ignore[attr-defined]
    pipe.stats.sources = [str(pcap)]
    for _ in pipe.run(read_frames([pcap], pipe._report)):
        pass
    return got, pipe


def tshark(cap: TlsCapture, pcap: Path | None = None) -> list[Row]:
    out = subprocess.run(
        [
            needs_tool("tshark"),
            "-o", f"tls.keylog_file:{cap.keys}",
            "-d", f"tcp.port=={cap.port},tls",
            "-d", f"tls.port=={cap.port},sip",
            "-r", str(pcap or cap.pcap),
            "-Y", "sip",
            "-T", "fields", "-e", "frame.number", "-e", "sip.CSeq", "-e", "sip.Call-ID",
        ],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    rows: list[Row] = []
    for line in out.splitlines():
        frame, cseqs, ids = line.split("\t")
        rows.extend(
            (int(frame), c, i) for c, i in zip(cseqs.split(","), ids.split(","), strict=True)
        )
    return rows


@pytest.fixture(autouse=True)
def _reset() -> Iterator[None]:
    yield
    tls.configure([])


def engines() -> list[str]:
    return ["python", "native"] if engine.native_module() is not None else ["python"]


@pytest.mark.needs_tool
@pytest.mark.parametrize("case", list(CASES))
def test_messages_equal_tsharks_in_both_engines(
    tls_captures: dict[str, TlsCapture], case: str
) -> None:
    cap = tls_captures[case]
    version, cipher, suite = CASES[case]
    assert (suite or cipher) in cap.negotiated and f"TLSv{version}" in cap.negotiated
    expected = tshark(cap)
    assert len(expected) == 7  # INVITE 100 180 200 ACK BYE 200
    for name in engines():
        got, pipe = ours(cap.pcap, [cap.keys], name)
        assert got == expected, name
        assert pipe.stats.tls["decrypted"] == 1 and pipe.stats.tls["connections"] == 1
        assert not pipe.diagnostics
        assert pipe.stats.sip_messages == 7
        assert pipe.transports == {"TLS"}


@pytest.mark.needs_tool
@pytest.mark.parametrize("case", ["tls12-aes128gcm", "tls13-chacha20"])
def test_wrong_keys_give_one_diagnostic_and_no_message(
    tls_captures: dict[str, TlsCapture], case: str, tmp_path: Path
) -> None:
    cap = tls_captures[case]
    bad = tmp_path / "bad.keys"
    lines = []
    for line in cap.keys.read_text().splitlines():
        parts = line.split()
        if len(parts) == 3:  # flip one bit of every secret
            parts[2] = f"{int(parts[2][0], 16) ^ 1:x}" + parts[2][1:]
        lines.append(" ".join(parts))
    bad.write_text("\n".join(lines) + "\n")
    for name in engines():
        got, pipe = ours(cap.pcap, [bad], name)
        assert got == []
        tls_diags = [d for d in pipe.diagnostics if d.trigger == Trigger.TLS]
        assert len(tls_diags) == 1, tls_diags
        assert "does not verify" in tls_diags[0].detail and tls_diags[0].frame > 0
        assert pipe.stats.tls["failed"] == 1


@pytest.mark.needs_tool
def test_without_keys_the_summary_counts_connections(
    tls_captures: dict[str, TlsCapture], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SSLKEYLOGFILE", raising=False)
    cap = tls_captures["tls13-aes128gcm"]
    for name in engines():
        got, pipe = ours(cap.pcap, [], name)
        assert got == []
        assert pipe.stats.tls["connections"] == 1
        assert pipe.stats.tls["without_keys"] == 1
        assert pipe.stats.tls["records"] > 10
        assert pipe.stats.not_sip == 0  # consumed as TLS, not reported as junk
        [d] = [d for d in pipe.diagnostics if d.trigger == Trigger.TLS]
        assert "--tls-keylog" in d.detail


@pytest.mark.needs_tool
def test_pcapng_with_injected_secrets_decrypts_without_a_key_log(
    tls_captures: dict[str, TlsCapture], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SSLKEYLOGFILE", raising=False)
    cap = tls_captures["tls13-aes256gcm"]
    out = tmp_path / "secrets.pcapng"
    subprocess.run(
        [needs_tool("editcap"), "--inject-secrets", f"tls,{cap.keys}", str(cap.pcap), str(out)],
        check=True,
        capture_output=True,
    )
    expected = tshark(cap)
    for name in engines():
        got, pipe = ours(out, [], name)
        assert got == expected
        assert pipe.stats.tls["decrypted"] == 1


@pytest.mark.needs_tool
def test_cli_option_before_or_after_the_command(tls_captures: dict[str, TlsCapture]) -> None:
    from click.testing import CliRunner

    from sipsniff.cli import main

    cap = tls_captures["tls12-chacha20"]
    runner = CliRunner()
    for args in (
        ["--tls-keylog", str(cap.keys), "analyze", "--format", "json", str(cap.pcap)],
        ["analyze", "--tls-keylog", str(cap.keys), "--format", "json", str(cap.pcap)],
    ):
        tls.configure([])
        res = runner.invoke(main, args)
        assert res.exit_code == 0, res.output
        doc = json.loads(res.output)
        schema = json.loads((ROOT / "sipsniff" / "schema" / "analysis.schema.json").read_text())
        assert not list(jsonschema.Draft202012Validator(schema).iter_errors(doc))
        assert doc["summary"]["tls"]["decrypted"] == 1
        assert doc["summary"]["sip_messages"] == 7
    tls.configure([])
    res = runner.invoke(main, ["analyze", "-q", str(cap.pcap)], env={"SSLKEYLOGFILE": ""})
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    assert re.search(
        r"TLS 1 connection, [1-9]\d* records: 1 without keys \(to decrypt: --tls-keylog", text
    )


# -- hostile and unusual input, fed straight to the lift ------------------------

C, S = Endpoint("127.0.0.1", 40000), Endpoint("127.0.0.1", 5061)


def _rec(ctype: int, body: bytes) -> bytes:
    return bytes((ctype, 3, 3)) + len(body).to_bytes(2, "big") + body


def _hs(mtype: int, body: bytes) -> bytes:
    return bytes((mtype,)) + len(body).to_bytes(3, "big") + body


CLIENT_HELLO = _rec(22, _hs(1, b"\x03\x03" + b"\x01" * 32 + b"\x00\x00\x02\xc0\x2f\x01\x00"))


def _server_hello(suite: int) -> bytes:
    return _rec(
        22, _hs(2, b"\x03\x03" + b"\x02" * 32 + b"\x00" + suite.to_bytes(2, "big") + b"\x00")
    )


def _lift() -> tuple[TlsLift, list[Diagnostic]]:
    diags: list[Diagnostic] = []
    return TlsLift(diags.append, KeySource([], lambda: [], diags.append)), diags


def _p(frame: int, src: Endpoint, data: bytes, stream: int, **kw: bool) -> Payload:
    dst = S if src == C else C
    return Payload(frame, frame * 1000, src, dst, Transport.TCP, data, stream, **kw)


def test_refused_suite_one_diagnostic_nothing_shown() -> None:
    lift, diags = _lift()
    assert lift(_p(1, C, CLIENT_HELLO, 1)) == []
    assert lift(_p(2, S, _server_hello(0xC013) + _rec(20, b"\x01"), 2)) == []
    assert lift(_p(3, S, _rec(22, b"\x00" * 40) + _rec(23, b"\x00" * 40), 2)) == []
    assert lift(_p(4, C, _rec(23, b"\x00" * 40), 1)) == []
    assert [d.frame for d in diags] == [2]
    assert "0xc013" in diags[0].detail and "not decrypted" in diags[0].detail
    assert lift.counts()["refused_suite"] == 1 and lift.counts()["connections"] == 1
    assert lift.counts()["records"] == 6


def test_not_tls_streams_are_left_alone() -> None:
    lift, diags = _lift()
    sip = _p(1, C, b"OPTIONS sip:x SIP/2.0\r\n", 7)
    assert lift(sip) is None
    assert lift(_p(2, C, CLIENT_HELLO, 7)) is None  # decided on the stream's first bytes
    udp = sip._replace(transport=Transport.UDP, data=CLIENT_HELLO)
    assert lift(udp) is None
    assert not diags and lift.counts() == {}


@pytest.mark.parametrize(
    ("junk", "why"),
    [
        (bytes((22, 3, 3, 0xFF, 0xFF)), "record of 65535 bytes"),  # lying record length
        (_rec(22, _hs(2, b"\x03\x03\x05")), "ServerHello random runs past"),  # cut hello
        (_rec(22, b"\x02\xff\xff\xff"), "record type 23 before the handshake"),  # endless message
        (_rec(22, b"") + b"\x99\x03\x03\x00\x01\x00", "not a TLS record header"),
    ],
)
def test_damaged_server_stream_one_diagnostic(junk: bytes, why: str) -> None:
    lift, diags = _lift()
    lift(_p(1, C, CLIENT_HELLO, 1))
    out = lift(_p(2, S, junk, 2)) or []
    out += lift(_p(3, S, b"\x17\x03\x03\x00\x05hello" * 3, 2)) or []
    out += lift(_p(4, S, b"", 2, end=True)) or []
    assert out == []
    assert len(diags) == 1, diags
    assert why in diags[0].detail and diags[0].frame in (2, 3)
    assert lift.counts()["failed"] == 1


def test_a_stream_that_starts_encrypted_is_not_taken() -> None:
    lift, diags = _lift()
    assert lift(_p(1, S, _rec(23, b"\x00" * 30), 2)) is None  # captured mid-connection
    assert not diags


def test_random_bytes_after_a_handshake_header_never_crash() -> None:
    import random

    rng = random.Random(14)
    lift, diags = _lift()
    for stream in range(1, 300):
        data = CLIENT_HELLO[:5] + rng.randbytes(rng.randint(0, 200))
        lift(_p(stream, C if stream % 2 else S, data, stream, gap=rng.random() < 0.1))
        lift(_p(stream, C if stream % 2 else S, rng.randbytes(50), stream, end=True))
    assert lift.counts()["connections"] >= 1
    assert len(lift._dirs) <= MAX_TLS_DIRECTIONS
    assert all(d.trigger == Trigger.TLS for d in diags)


def test_a_tcp_gap_stops_the_connection_once() -> None:
    lift, diags = _lift()
    lift(_p(1, C, CLIENT_HELLO, 1))
    lift(_p(2, S, _server_hello(0xC02F), 2))
    lift(_p(3, S, _rec(23, b"\x00" * 40), 2, gap=True))
    lift(_p(4, C, _rec(23, b"\x00" * 40), 1, gap=True))
    assert len(diags) == 1 and diags[0].frame == 3 and "gap" in diags[0].detail


@pytest.mark.needs_tool
def test_a_key_log_written_during_the_capture_live(
    tls_captures: dict[str, TlsCapture], tmp_path: Path
) -> None:
    """A live peer logs each secret as it derives it, after some records were captured:
    they wait (bounded) and are read once the key log has the secret."""
    cap = tls_captures["tls13-chacha20"]
    lines = cap.keys.read_text().splitlines(keepends=True)
    keys = tmp_path / "growing.keys"
    keys.write_text("")
    tls.configure([keys])
    got: list[Row] = []
    pipe = Pipeline(engine_name="python", on_message=lambda m: got.append((m.frame, "", m.call_id)))
    for fr in read_frames([cap.pcap], pipe._report):
        pipe.feed(fr)
        if lines and fr.number >= 6:  # from the server's first encrypted record on
            with keys.open("a") as fp:
                fp.write(lines.pop(0))  # one secret a frame
    pipe.finish()
    assert [f for f, _, _ in got] == [f for f, _, _ in tshark(cap)]
    assert not pipe.diagnostics
    assert pipe.stats.tls["decrypted"] == 1
