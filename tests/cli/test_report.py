"""``sipsniff report`` end to end: every format, stdout, filters, --write-pcap, bad usage."""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from factories_hostile import hostile_call_pcap
from helpers import ROOT, capture, needs_root, needs_tool

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


# -- issue 16: files (items 5-8), SVG tooltips (12), a closed pipe (15) ----------------------


def _cli(*args: str, cwd: Path | None = None, stdout: int | None = subprocess.PIPE,
         input: bytes | None = None) -> subprocess.CompletedProcess[bytes]:  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "sipsniff", *args],
        stdout=stdout,
        stderr=subprocess.PIPE,
        cwd=cwd or ROOT,
        timeout=120,
        check=False,
        input=input,
    )


def in_private_dev(script: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run a shell script as root in a private mount namespace whose /dev is a new tmpfs.

    The tmpfs gets /dev/null (a real null device node), /dev/fd, /dev/stdout and
    /dev/stderr, as a system has them; whatever the script does to them stays in
    the namespace and disappears with it.  ``$PY`` runs this Python.
    """
    needs_root()
    unshare = needs_tool("unshare")
    setup = textwrap.dedent(
        """\
        set -e
        mount -t tmpfs -o mode=755 sipsniff-test-dev /dev
        mknod -m 666 /dev/null c 1 3
        ln -s /proc/self/fd /dev/fd
        ln -s /proc/self/fd/1 /dev/stdout
        ln -s /proc/self/fd/2 /dev/stderr
        """
    )
    return subprocess.run(
        [unshare, "--mount", "--propagation", "private", "sh", "-c", setup + script],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env={**os.environ, "PY": sys.executable, "PYTHONPATH": str(ROOT)},
        check=False,
    )


def test_dev_null_and_dev_stdout_are_written_not_replaced(tmp_path: Path) -> None:
    """As root, `-o /dev/null`, `-o /dev/stdout` and `--write-pcap /dev/null` replaced the
    device node or the symlink with a regular file (item 5).  Run in a private /dev."""
    demo = capture("demo.pcap")
    script = f"""
    set +e
    "$PY" -m sipsniff report -q {demo} -o /dev/null --format md; stat -c '%F' /dev/null
    "$PY" -m sipsniff report -q {demo} -o null.md --write-pcap /dev/null; stat -c '%F' /dev/null
    "$PY" -m sipsniff report -q {demo} -o /dev/null --format md --write-pcap /dev/null
    echo "both: $?"
    "$PY" -m sipsniff report -q {demo} -o /dev/stdout --format md > md.out
    stat -c '%F' /dev/stdout
    "$PY" -m sipsniff report -q {demo} -o md2.md --write-pcap /dev/stdout > pcap.out
    stat -c '%F' /dev/stdout
    ls -A /dev | tr '\\n' ' '
    """
    r = in_private_dev(textwrap.dedent(script), tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "character special file",
        "character special file",
        "both: 0",
        "symbolic link",
        "symbolic link",
        "fd null stderr stdout ",  # and no temporary beside them
    ], r.stderr
    assert (tmp_path / "md.out").read_text().startswith("# sipsniff report")
    assert (tmp_path / "md.out").read_text() == (tmp_path / "md2.md").read_text()
    assert (tmp_path / "pcap.out").read_bytes()[:4] == bytes.fromhex("4d3cb2a1")


def test_dash_and_fifo_outputs(tmp_path: Path) -> None:
    code, out, _ = run("report", str(capture("call_ok.pcap")), "-o", "-")
    assert code == 0 and out.startswith("sipsniff report\n")
    res = _cli("report", "-q", str(capture("call_ok.pcap")), "-o", str(tmp_path / "r.md"),
               "--write-pcap", "-")  # fmt: skip
    assert res.returncode == 0 and res.stdout[:4] == bytes.fromhex("4d3cb2a1")
    code, _, err = run("report", str(capture("call_ok.pcap")), "-o", "-", "--write-pcap", "-")
    assert code == 2 and "cannot both be stdout" in err
    for option in ("-o", "--write-pcap"):
        fifo = tmp_path / f"fifo{option}"
        os.mkfifo(fifo)
        got: list[bytes] = []
        reader = threading.Thread(
            target=lambda f=fifo, into=got: into.append(f.read_bytes()), daemon=True
        )
        reader.start()
        args = ["-o", str(fifo), "--format", "md"] if option == "-o" else [
            "-o", str(tmp_path / "r.md"), "--write-pcap", str(fifo)]  # fmt: skip
        code, _, err = run("report", str(capture("call_ok.pcap")), *args)
        reader.join(20)
        assert code == 0, err
        assert got and got[0][:4] in (b"# si", bytes.fromhex("4d3cb2a1"))
        assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fifo--write-pcap", "fifo-o", "r.md"]


def test_replacing_keeps_mode_and_hard_links_need_force(tmp_path: Path) -> None:
    src = str(capture("call_ok.pcap"))
    out, pcap, other = tmp_path / "r.md", tmp_path / "r.pcap", tmp_path / "backup.md"
    for p in (out, pcap):
        p.write_text("old")
        p.chmod(0o600)
    code, _, err = run("report", src, "-o", str(out), "--write-pcap", str(pcap))
    assert code == 0, err
    assert [stat.S_IMODE(p.stat().st_mode) for p in (out, pcap)] == [0o600, 0o600]
    assert out.read_text().startswith("# sipsniff report")
    os.link(out, other)
    code, _, err = run("report", src, "-o", str(out), "--format", "text")
    assert code == 2 and "2 hard links" in err and "--force" in err
    assert out.read_text().startswith("# sipsniff report")  # refused before any analysis
    code, _, err = run("report", src, "-o", str(out), "--format", "text", "--force")
    assert code == 0, err
    assert out.read_text().startswith("sipsniff report\n")  # this name replaced
    assert other.read_text().startswith("# sipsniff report")  # the other kept its content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["backup.md", "r.md", "r.pcap"]


def test_replacing_keeps_the_owner_as_root(tmp_path: Path) -> None:
    needs_root()
    out = tmp_path / "r.html"
    out.write_text("old")
    os.chown(out, 4242, 4343)
    out.chmod(0o640)
    code, _, err = run("report", str(capture("call_ok.pcap")), "-o", str(out))
    assert code == 0, err
    st = out.stat()
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (4242, 4343, 0o640)


def test_help_says_what_happens_to_files() -> None:
    code, out, _ = run("report", "--help")
    assert code == 0
    flat = " ".join(out.split())
    for text in ("--force", "written directly, never replaced", "keeps the old one's permission",
                 "several links is refused", "symlink of another user is never followed"):  # fmt: skip
        assert text in flat, text


_DIE_IN_THE_EXPORTER = """
import os, signal, sys, time
from sipsniff.cli import _files, main, report
if {named!r}:
    _files._unnamed = lambda d: None  # the named-temporary fallback
real = report.choose

class Dying:
    def __init__(self, exporter):
        self.name = exporter.name
        self.real = exporter
    def write(self, analysis, fp):
        fp.write("<!DOCTYPE html> half a report" * 1000)
        fp.flush()
        os.kill(os.getpid(), signal.{sig})
        time.sleep(10)
        self.real.write(analysis, fp)

report.choose = lambda fmt, path: Dying(real(fmt, path))
main(sys.argv[1:])
"""


@pytest.mark.parametrize("named", [False, True], ids=["O_TMPFILE", "named-temporary"])
@pytest.mark.parametrize("sig", ["SIGTERM", "SIGHUP", "SIGINT"])
def test_a_signal_during_report_leaves_no_temporary(tmp_path: Path, sig: str, named: bool) -> None:
    """SIGTERM and SIGHUP left a hidden .out.html.XXXX.tmp (item 8); the old file stays."""
    out = tmp_path / "out.html"
    out.write_text("the previous report")
    code = _DIE_IN_THE_EXPORTER.format(named=named, sig=sig)
    r = subprocess.run(
        [sys.executable, "-c", code, "report", "-q", str(capture("demo.pcap")), "-o", str(out)],
        capture_output=True, text=True, timeout=60, check=False, cwd=ROOT,
    )  # fmt: skip
    if sig == "SIGINT":
        assert (r.returncode, r.stderr) == (130, "sipsniff: interrupted\n")
    else:
        assert r.returncode == -getattr(signal, sig), r.stderr  # ended by the signal
    assert [p.name for p in tmp_path.iterdir()] == ["out.html"]
    assert out.read_text() == "the previous report"


def test_html_tooltips_have_real_line_breaks() -> None:
    code, out, _ = run("report", "-q", str(capture("demo.pcap")), "-o", "-", "--format", "html")
    assert code == 0
    titles = re.findall(r"<title>(.*?)</title>", out, flags=re.S)
    assert len(titles) > 20
    assert not [t for t in titles if "\\x0a" in t]
    assert any("\nCSeq " in t for t in titles)


@pytest.mark.parametrize("fmt", ["text", "html", "json", "ndjson"])
def test_a_closed_pipe_ends_quietly_with_0(fmt: str) -> None:
    """`sipsniff report -o - | head -1` (item 15): the reader is gone before the first write."""
    r_fd, w_fd = os.pipe()
    os.close(r_fd)
    try:
        res = _cli("report", "-q", str(capture("demo.pcap")), "-o", "-", "--format", fmt,
                   stdout=w_fd)  # fmt: skip
    finally:
        os.close(w_fd)
    assert (res.returncode, res.stderr) == (0, b"")
