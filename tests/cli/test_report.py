"""``sipsniff report`` end to end: every format, stdout, filters, --write-pcap, bad usage."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from factories_hostile import hostile_call_pcap
from helpers import capture, needs_tool

from sipsniff.capture.sources import read_frames
from sipsniff.cli import main
from sipsniff.pipeline import analyze


def run(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, list(args))
    return r.exit_code, r.stdout, r.stderr


@pytest.mark.parametrize(
    ("suffix", "starts"),
    [
        (".html", "<!DOCTYPE html>"),
        (".md", "# sipsniff report"),
        (".txt", "sipsniff report\n"),
        (".json", '{"schema_version":"1.0"'),
        (".ndjson", '{"call_id":'),
        (".mmd", "sequenceDiagram\n"),
        (".puml", "@startuml\n"),
    ],
)
def test_format_from_suffix(tmp_path: Path, suffix: str, starts: str) -> None:
    out = tmp_path / f"report{suffix}"
    code, stdout, err = run("report", str(capture("demo.pcap")), "-o", str(out))
    assert code == 0, err
    assert stdout == ""
    assert out.read_text(encoding="utf-8").startswith(starts)
    assert re.search(rf"sipsniff: wrote .*report{re.escape(suffix)} \(\w+, 8 calls\)", err)
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # no temporary left behind


def test_format_option_beats_suffix(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    code, _, err = run("report", str(capture("demo.pcap")), "-o", str(out), "--format", "md")
    assert code == 0, err
    assert out.read_text().startswith("# sipsniff report")


def test_stdout_defaults_to_text_and_takes_any_format() -> None:
    code, out, err = run("report", str(capture("call_ok.pcap")), "-o", "-")
    assert code == 0, err
    assert out.startswith("sipsniff report\n") and "Ladder:" in out
    assert "wrote" not in err
    code, out, _ = run("report", str(capture("call_ok.pcap")), "-o", "-", "--format", "markdown")
    assert code == 0 and out.startswith("# sipsniff report")


def test_json_and_ndjson_match_analyze(tmp_path: Path) -> None:
    src = str(capture("demo.pcap"))
    for fmt in ("json", "ndjson"):
        out = tmp_path / f"r.{fmt}"
        code, _, err = run("report", "--failed", src, "-o", str(out))
        assert code == 0, err
        _, expected, _ = run("analyze", "--failed", "--format", fmt, src)
        assert out.read_text() == expected


def test_filters_select_calls(tmp_path: Path) -> None:
    out = tmp_path / "failed.md"
    code, _, err = run("report", "--failed", str(capture("demo.pcap")), "-o", str(out))
    assert code == 0, err
    text = out.read_text()
    assert "## Calls (3)" in text and "selected of 8 in the capture" in text
    assert "demo-call-1" not in text and "demo-busy-1" in text
    assert "(md, 3 calls)" in err


def test_no_match_says_so(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    code, _, err = run("report", "--call-id", "nope", str(capture("demo.pcap")), "-o", str(out))
    assert code == 0
    assert "no call matched the filters (8 calls in the capture)" in err
    assert "No calls." in out.read_text()


def test_write_pcap_keeps_the_selected_calls(tmp_path: Path) -> None:
    src = capture("demo.pcap")
    out, pcap = tmp_path / "failed.html", tmp_path / "failed.pcap"
    code, _, err = run("report", "--failed", str(src), "-o", str(out), "--write-pcap", str(pcap))
    assert code == 0, err
    failed = [ac for ac in analyze([src]).calls if ac.call.failed]
    n_frames = sum(len(ac.call.messages) for ac in failed)
    assert f"wrote {pcap} (pcap, {n_frames} frames of {len(failed)} calls)" in err
    again = analyze([pcap])
    assert {ac.call.call_id for ac in again.calls} == {ac.call.call_id for ac in failed}
    assert [ac.call.state for ac in sorted(again.calls, key=lambda a: a.call.start_ns)] == [
        ac.call.state for ac in sorted(failed, key=lambda a: a.call.start_ns)
    ]
    assert len(list(read_frames([pcap], lambda d: None))) == n_frames


@pytest.mark.needs_tool
def test_write_pcap_read_back_by_tshark(tmp_path: Path) -> None:
    tshark = needs_tool("tshark")
    src = capture("demo.pcap")
    pcap = tmp_path / "busy.pcapng"
    code, _, err = run(
        "report", "--status", "486", str(src), "-o", str(tmp_path / "r.txt"), "--write-pcap",
        str(pcap),
    )  # fmt: skip
    assert code == 0, err
    busy = next(ac for ac in analyze([src]).calls if ac.call.final_status == 486)
    res = subprocess.run(
        [tshark, "-r", str(pcap), "-Y", "sip", "-T", "fields", "-e", "sip.Call-ID", "-e",
         "sip.CSeq"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )  # fmt: skip
    rows = [line.split("\t") for line in res.stdout.splitlines()]
    assert len(rows) == len(busy.call.messages)
    assert {r[0] for r in rows} == {busy.call.call_id}


def test_unknown_suffix_is_a_usage_error(tmp_path: Path) -> None:
    code, _, err = run("report", str(capture("demo.pcap")), "-o", str(tmp_path / "r.pdf"))
    assert code == 2
    assert "cannot tell the format from" in err and ".html" in err


def test_refuses_to_overwrite_an_input(tmp_path: Path) -> None:
    victim = tmp_path / "in.pcap"
    victim.write_bytes(capture("call_ok.pcap").read_bytes())
    code, _, err = run("report", str(victim), "-o", "-", "--write-pcap", str(victim))
    assert code == 2 and "refusing to overwrite" in err
    assert victim.read_bytes() == capture("call_ok.pcap").read_bytes()


def test_unwritable_output_is_one_line_exit_2(tmp_path: Path) -> None:
    code, _, err = run("report", str(capture("demo.pcap")), "-o", str(tmp_path / "no" / "r.md"))
    assert code == 2
    assert err.startswith("sipsniff: error: cannot write ")
    assert "Traceback" not in err


def test_missing_capture_is_exit_2(tmp_path: Path) -> None:
    code, _, err = run("report", str(tmp_path / "nope.pcap"), "-o", str(tmp_path / "r.md"))
    assert code == 2 and "no such file" in err
    assert not (tmp_path / "r.md").exists()


@pytest.mark.parametrize("fmt", ["html", "md", "text", "ndjson", "mermaid", "plantuml"])
def test_hostile_capture_through_every_format(tmp_path: Path, fmt: str) -> None:
    crafted = hostile_call_pcap(tmp_path / "evil.pcap")
    code, out, err = run(
        "report", "-q", str(capture("hostile.pcap")), str(crafted), "-o", "-", "--format", fmt
    )
    assert code == 0, err
    assert re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", out) is None
    if fmt == "ndjson":
        assert all(json.loads(line) for line in out.splitlines())


def test_help_has_examples() -> None:
    code, out, _ = run("report", "--help")
    assert code == 0
    assert re.search(r"Examples:\n +sipsniff report capture\.pcap -o report\.html", out)
    for fmt in ("html", "md", "text", "json", "ndjson", "mermaid", "plantuml"):
        assert re.search(rf"\n +{fmt} +\.", out), fmt
