"""Text and Markdown reports: goldens of the bundled captures, escaping, Markdown that renders safely.

Goldens: ``tests/data/golden/<capture>.report.md`` (and ``demo.report.txt``);
rewrite them after a reviewed change with ``make golden`` (SIPSNIFF_REGEN=1).
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest
from factories_hostile import hostile_call_pcap
from helpers import CAPTURES, DATA, ROOT, capture
from markdown_it import MarkdownIt

from sipsniff.analysis import Analysis
from sipsniff.pipeline import analyze
from sipsniff.render.text import (
    markdown_exporter,
    markdown_report,
    md_code,
    md_fence,
    md_text,
    text_exporter,
    text_report,
)

GOLDEN = DATA / "golden"
BUNDLED = sorted(p.name for p in CAPTURES.glob("*.pcap"))
REGEN = os.environ.get("SIPSNIFF_REGEN") == "1"


def _analysis(name: str, monkeypatch: pytest.MonkeyPatch) -> Analysis:
    monkeypatch.chdir(ROOT)  # sources are shown as given: keep them relative
    return analyze([Path("captures") / name])


def _check_golden(path: Path, text: str) -> None:
    if REGEN or not path.exists():
        path.write_text(text, encoding="utf-8")
        if not REGEN:
            pytest.fail(f"{path.name} did not exist; written now, review and commit it")
    assert text == path.read_text(encoding="utf-8"), f"{path.name} differs: run `make golden`"


@pytest.mark.parametrize("name", BUNDLED)
def test_markdown_report_golden(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    buf = io.StringIO()
    markdown_exporter.write(_analysis(name, monkeypatch), buf)
    _check_golden(GOLDEN / f"{name.removesuffix('.pcap')}.report.md", buf.getvalue())


def test_text_report_golden(monkeypatch: pytest.MonkeyPatch) -> None:
    buf = io.StringIO()
    text_exporter.write(_analysis("demo.pcap", monkeypatch), buf)
    _check_golden(GOLDEN / "demo.report.txt", buf.getvalue())


def test_report_sections(monkeypatch: pytest.MonkeyPatch) -> None:
    a = _analysis("demo.pcap", monkeypatch)
    md = "\n".join(markdown_report(a))
    assert md.startswith("# sipsniff report\n")
    for heading in ("## Summary", f"## Calls ({len(a.calls)})", "### Diagnosis", "### Ladder"):
        assert heading in md
    assert md.count("```text") == sum(1 for ac in a.calls if ac.call.messages)
    assert "| Answer-seizure ratio |" in md
    busy = next(i for i, ac in enumerate(a.calls, 1) if ac.call.final_status == 486)
    assert f"## Call {busy}: `demo-busy-1@" in md
    txt = list(text_report(a))
    assert txt[:2] == ["sipsniff report", "==============="]
    assert max(len(line) for line in txt if not line.startswith(" ")) <= 160


# ------------------------------------------------------------------ escaping


def test_md_code_fence_outgrows_backticks() -> None:
    assert md_code("plain") == "`plain`"
    assert md_code("a`b") == "`` a`b ``"
    assert md_code("``x```") == "```` ``x``` ````"
    assert md_code("") == "` `"
    assert md_code("\x1b[2Jx\x00") == "`\\x1b[2Jx\\x00`"


def test_md_fence_outgrows_backticks() -> None:
    assert md_fence(["a"]) == ["```text", "a", "```"]
    assert md_fence(["x ````` y"])[0] == "``````text"


def test_md_text_escapes_markup_and_html() -> None:
    assert md_text("<script>alert(1)</script>") == "\\<script\\>alert(1)\\</script\\>"
    assert md_text("[x](javascript:y) *b* _i_ a|b ~s~ &amp;") == (
        "\\[x\\](javascript:y) \\*b\\* \\_i\\_ a\\|b \\~s\\~ \\&amp;"
    )
    assert md_text("# h", line_start=True) == "\\# h"
    assert md_text("12. item", line_start=True) == "12\\. item"
    assert md_text("- item", line_start=True) == "\\- item"
    assert md_text("- item") == "- item"  # mid-line: nothing to start


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Analysis:
    crafted = hostile_call_pcap(tmp_path_factory.mktemp("cap") / "evil.pcap")
    return analyze([capture("hostile.pcap"), crafted])


def test_hostile_markdown_renders_no_html_from_the_wire(hostile: Analysis) -> None:
    md = "\n".join(markdown_report(hostile))
    assert "\x1b" not in md and "\x00" not in md
    # A CommonMark renderer with raw HTML *enabled*: nothing from the wire may become a tag.
    html = MarkdownIt("commonmark", {"html": True}).enable("table").render(md)
    tags = set(re.findall(r"<([a-zA-Z][a-zA-Z0-9]*)", html))
    assert tags <= {
        "h1",
        "h2",
        "h3",
        "p",
        "code",
        "pre",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "ul",
        "ol",
        "li",
        "strong",
    }, tags
    assert "javascript:" not in re.sub(r"<code>.*?</code>", "", html, flags=re.S)
    # every table keeps its columns: a wire pipe never splits a cell
    for table in re.findall(r"<table>.*?</table>", html, flags=re.S):
        widths = {row.count("<td") for row in re.findall(r"<tr>.*?</tr>", table, flags=re.S)}
        widths.discard(0)
        assert len(widths) <= 1, widths


def test_hostile_text_is_inert(hostile: Analysis) -> None:
    text = "\n".join(text_report(hostile))
    assert re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e]", text) is None
    assert "\\x1b[2J" in text  # shown, as a visible escape
    ladder = [line for line in text.splitlines() if line.startswith("  ") and "|" in line]
    assert ladder and all(line.isascii() for line in ladder)


def test_no_calls() -> None:
    empty = analyze([])
    assert "No calls." in "\n".join(markdown_report(empty))
    assert "No calls." in "\n".join(text_report(empty))
