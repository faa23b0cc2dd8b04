"""Saving from the UI: the file name's checks, pcap frames exactly as report --write-pcap, reports."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import capture

from sipsniff.cli.report import report
from sipsniff.pipeline import analyze
from sipsniff.tui.save import SaveError, check_target, save, suffix_help


def test_check_target(tmp_path: Path) -> None:
    src = capture("demo.pcap")
    assert check_target("x.pcap", [src], tmp_path).format == "pcap"
    assert check_target("x.PCAPNG", [src], tmp_path).format == "pcap"
    assert check_target(str(tmp_path / "r.html"), [src]).format == "html"
    assert check_target("r.md", [src], tmp_path).format == "md"
    assert check_target("r.json", [src], tmp_path).format == "json"
    assert not check_target("r.txt", [src], tmp_path).exists
    for bad, why in [
        ("", "type a file name"),
        ("-", "type a file name"),
        (str(tmp_path), "is a directory"),
        (str(tmp_path / "no" / "x.pcap"), "no such folder"),
        (str(src), "one of the input captures"),
        ("r.docx", "unknown suffix"),
    ]:
        with pytest.raises(SaveError, match=why):
            check_target(bad, [src], tmp_path)
    assert ".pcap" in suffix_help() and ".html" in suffix_help()


def test_symlink_to_an_input_is_refused(tmp_path: Path) -> None:
    src = capture("demo.pcap")
    link = tmp_path / "link.pcap"
    os.symlink(src, link)
    with pytest.raises(SaveError, match="input captures"):
        check_target(str(link), [src])


def test_pcap_is_byte_for_byte_what_report_writes(tmp_path: Path) -> None:
    """Same frames, same file as ``sipsniff report --call-id ... --write-pcap``."""
    src = capture("demo.pcap")
    a = analyze([src])
    chosen = [ac for ac in a.calls if ac.call.call_id.startswith(("demo-busy", "demo-cancel"))]
    ours = tmp_path / "ours.pcap"
    msg = save(
        check_target(str(ours), [src]),
        chosen,
        sources=[src],
        stats=a.stats,
        diagnostics=a.diagnostics,
    )
    assert msg == f"wrote {ours} (pcap, 11 frames of 2 calls)"
    theirs = tmp_path / "theirs.pcap"
    r = CliRunner().invoke(
        report,
        [
            str(src),
            "-o",
            str(tmp_path / "r.txt"),
            "--call-id",
            "demo-busy",
            "--call-id",
            "demo-cancel",
            "--write-pcap",
            str(theirs),
            "-q",
        ],
    )
    assert r.exit_code == 0, r.output
    assert ours.read_bytes() == theirs.read_bytes()


def test_reports_and_replacing_a_file(tmp_path: Path) -> None:
    src = capture("demo.pcap")
    a = analyze([src])
    out = tmp_path / "calls.md"
    out.write_text("old")
    out.chmod(0o640)
    msg = save(
        check_target(str(out), [src]),
        list(a.calls[:2]),
        sources=[src],
        stats=a.stats,
        diagnostics=a.diagnostics,
    )
    assert msg == f"wrote {out} (md, 2 calls)"
    text = out.read_text()
    assert "demo-reg-1@127.0.0.21" in text and "demo-busy-1" not in text
    assert out.stat().st_mode & 0o777 == 0o640  # the replaced file's mode is kept
    html = tmp_path / "calls.html"
    save(
        check_target(str(html), [src]),
        list(a.calls),
        sources=[src],
        stats=a.stats,
        diagnostics=a.diagnostics,
    )
    assert html.read_text().startswith("<!DOCTYPE html>")
    assert not [
        p.name for p in tmp_path.iterdir() if p.name.startswith(".")
    ]  # no stray temporaries
