"""``sipsniff media``: the stream table, against tshark's rtp,streams on a real capture."""

from __future__ import annotations

import json
import subprocess

import pytest
from click.testing import CliRunner
from helpers import capture, needs_tool, real_capture

from sipsniff.cli import main


def run(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, list(args))
    return r.exit_code, r.stdout, r.stderr


def _tshark_streams(path: str) -> set[tuple[str, int, str, int, int, int, int]]:
    out = subprocess.run(
        [
            needs_tool("tshark"),
            "-q",
            "-o",
            "rtp.heuristic_rtp:TRUE",
            "-z",
            "rtp,streams",
            "-r",
            path,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rows = set()
    for line in out.splitlines():
        f = line.split()
        if len(f) > 10 and f[6].startswith("0x"):
            rows.add((f[2], int(f[3]), f[4], int(f[5]), int(f[6], 16), int(f[8]), int(f[9])))
    return rows


@pytest.mark.parametrize("engine", ["python", "native"])
def test_streams_match_tshark(engine: str) -> None:
    from sipsniff import engine as engines

    if engine == "native" and engines.native_module() is None:
        pytest.skip("the native core is not built")
    path = str(real_capture("heplify_rtp_rtcp_sip_ipv4_udp.pcap"))
    code, out, _ = run("--engine", engine, "media", "--format", "json", path)
    assert code == 0
    got = {
        (s["src"], s["src_port"], s["dst"], s["dst_port"], s["ssrc"], s["packets"], s["lost"])
        for s in json.loads(out)
    }
    assert got == _tshark_streams(path)
    # a stream whose far end the call's SDP announced is tied to that call
    assert any(s["call_id"] for s in json.loads(out))


def test_table_and_no_media() -> None:
    code, out, _ = run(
        "media", "--no-color", str(real_capture("heplify_rtp_rtcp_sip_ipv4_udp.pcap"))
    )
    assert code == 0 and "RTP streams (5)" in out and "PCMA" in out
    code, out, err = run("media", str(capture("demo.pcap")))
    assert code == 0 and out == "" and "no RTP stream" in err
