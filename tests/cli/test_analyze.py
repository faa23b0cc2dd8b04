"""``sipsniff analyze`` end to end: summary, table, filters, JSON, exit codes, bad input."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from factories import ipv4_udp_frame, make_invite, make_response, write_pcap
from helpers import capture

from sipsniff.cli import main


def run(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, list(args))
    return r.exit_code, r.stdout, r.stderr


def test_demo_summary_and_table() -> None:
    code, out, _err = run("analyze", str(capture("demo.pcap")))
    assert code == 0
    assert "42 SIP messages" in out
    assert "INVITE 6" in out
    assert "answered 5" in out and "rejected 2" in out and "cancelled 1" in out
    assert "Calls (8)" in out
    # piped output carries no ANSI colour
    assert "\x1b[" not in out


def test_json_document_shape() -> None:
    code, out, _ = run("analyze", "--format", "json", str(capture("demo.pcap")))
    assert code == 0
    doc = json.loads(out)
    assert doc["schema_version"] == "1.0"
    assert doc["summary"]["sip_messages"] == 42 == len(doc["messages"])
    frames = [m["frame"] for m in doc["messages"]]
    assert frames == sorted(frames)
    first = doc["messages"][0]
    for key in ("frame", "time", "src", "dst", "transport", "cseq", "call_id"):
        assert key in first
    states = sorted(c["state"] for c in doc["calls"])
    assert states.count("answered") == 5
    busy = next(c for c in doc["calls"] if c["final_status"] == 486)
    assert busy["kind"] == "call" and busy["state"] == "rejected"
    # each call lists the frames of its messages, and they are real message frames
    assert set(busy["frames"]) <= set(frames)
    err = next(m for m in doc["messages"] if m.get("status") == 486)
    assert err["explanation"]["reason"] == "Busy Here"


def test_ndjson_one_call_per_line() -> None:
    code, out, _ = run("analyze", "--format", "ndjson", str(capture("demo.pcap")))
    assert code == 0
    lines = [json.loads(x) for x in out.splitlines()]
    assert [x["type"] for x in lines].count("call") == 8
    assert lines[-1]["type"] == "summary"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--failed"], {"rejected", "cancelled"}),
        (["--status", "486"], {"rejected"}),
        (["--status", "5xx"], {"rejected"}),
        (["--method", "REGISTER"], {"answered"}),
        (["--user", "monitor"], {"answered"}),
    ],
)
def test_filters(args: list[str], expected: set[str]) -> None:
    code, out, _ = run("analyze", "--format", "json", *args, str(capture("demo.pcap")))
    assert code == 0
    doc = json.loads(out)
    assert doc["calls"], args
    assert {c["state"] for c in doc["calls"]} == expected


def test_status_filter_counts() -> None:
    _, out, _ = run("analyze", "--format", "json", "--status", "4xx", str(capture("demo.pcap")))
    codes = sorted(c["final_status"] for c in json.loads(out)["calls"])
    assert codes == [200, 486, 487]  # the REGISTER was challenged with 401, then accepted


def test_call_id_filter_and_time_window() -> None:
    _, out, _ = run(
        "analyze", "--format", "json", "--call-id", "demo-busy", str(capture("demo.pcap"))
    )
    assert [c["call_id"] for c in json.loads(out)["calls"]] == ["demo-busy-1@127.0.0.22"]
    _, out, _ = run("analyze", "--format", "json", "--until", "0", str(capture("demo.pcap")))
    assert json.loads(out)["calls"] == []


def test_missing_path_exits_2() -> None:
    code, out, err = run("analyze", "/nonexistent/x.pcap")
    assert code == 2
    assert "no such file" in err
    assert "Traceback" not in err + out


def test_not_a_capture_exits_2(tmp_path: Path) -> None:
    p = tmp_path / "notes.txt"
    p.write_text("hello, this is not a capture\n")
    code, _, err = run("analyze", str(p))
    assert code == 2
    assert err.count("\n") == 1 and "not a pcap or pcapng capture" in err


def test_bad_option_values() -> None:
    code, _, err = run("analyze", "--status", "4x", str(capture("demo.pcap")))
    assert code == 2 and "--status" in err
    code, _, err = run("analyze", "--since", "yesterday", str(capture("demo.pcap")))
    assert code == 2 and "not a time" in err


def test_truncated_capture_warns_and_continues(tmp_path: Path) -> None:
    data = capture("call_ok.pcap").read_bytes()
    p = tmp_path / "cut.pcap"
    p.write_bytes(data[: len(data) - 100])
    code, out, err = run("analyze", str(p))
    assert code == 0
    assert "truncated-file" in err and "frames loaded" in err
    assert "Calls (1)" in out


def test_gzip_capture(tmp_path: Path) -> None:
    p = tmp_path / "demo.pcap.gz"
    p.write_bytes(gzip.compress(capture("demo.pcap").read_bytes()))
    code, out, _ = run("analyze", str(p))
    assert code == 0 and "42 SIP messages" in out


def test_malformed_sip_gets_one_line_with_frame(tmp_path: Path) -> None:
    frames = [
        ipv4_udp_frame(make_invite()),
        ipv4_udp_frame(b"\x00\x01garbage on the SIP port\xff"),
        ipv4_udp_frame(
            b"INVITE sip:x SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9\r\nno colon here\r\n\r\n"
        ),
        ipv4_udp_frame(make_response(486, "Busy Here")),
    ]
    p = write_pcap(tmp_path / "bad.pcap", frames)
    code, out, err = run("analyze", str(p))
    assert code == 0
    lines = [ln for ln in err.splitlines() if ln.startswith("sipsniff: warning:")]
    assert any(ln.startswith("sipsniff: warning: frame 3:") and "no colon" in ln for ln in lines)
    assert "3 SIP messages, 1 malformed" in out
    assert "1 non-SIP payloads" in out


def test_version_and_help() -> None:
    code, out, _ = run("--version")
    assert code == 0 and "sipsniff" in out
    code, out, _ = run("analyze", "--help")
    assert code == 0 and "Examples:" in out


def test_python_dash_m_entry_point() -> None:
    r = subprocess.run(
        [sys.executable, "-m", "sipsniff", "analyze", str(capture("call_ok.pcap"))],
        capture_output=True,
        text=True,
        check=False,
    )
    assert r.returncode == 0, r.stderr
    assert "answered 1" in r.stdout


@pytest.mark.parametrize("args", [["analyze"], ["analyze", "--failed", "--flow"], ["flow"]])
def test_a_closed_pipe_ends_quietly_with_0(args: list[str]) -> None:
    """`sipsniff analyze x.pcap | head -1`: the reader is gone before the first write."""
    import os

    r_fd, w_fd = os.pipe()
    os.close(r_fd)
    try:
        res = subprocess.run(
            [sys.executable, "-m", "sipsniff", *args, str(capture("demo.pcap"))],
            stdout=w_fd, stderr=subprocess.PIPE, timeout=120, check=False,
        )  # fmt: skip
    finally:
        os.close(w_fd)
    assert (res.returncode, res.stderr) == (0, b"")
