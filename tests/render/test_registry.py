"""Exporter registry: choice by --format or suffix, plugins, and every exporter against hostile text."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest
from factories_hostile import hostile_call_pcap
from helpers import capture

from sipsniff.analysis import Analysis
from sipsniff.pipeline import analyze
from sipsniff.render import registry
from sipsniff.render.registry import (
    Exporter,
    StreamingExporter,
    UnknownFormat,
    all_exporters,
    choose,
    for_name,
    for_path,
    register,
)

# C0 controls except TAB/LF, DEL, C1 controls: none may reach a text sink.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("report.html", "html"),
        ("REPORT.HTM", "html"),
        ("r.md", "md"),
        ("call.report.md", "md"),
        ("notes.markdown", "md"),
        ("r.txt", "text"),
        ("calls.json", "json"),
        ("calls.ndjson", "ndjson"),
        ("calls.jsonl", "ndjson"),
        ("flow.mmd", "mermaid"),
        ("flow.puml", "plantuml"),
        (Path("/tmp/x/flow.plantuml"), "plantuml"),
    ],
)
def test_suffix_picks_the_exporter(path: str | Path, name: str) -> None:
    assert for_path(path).name == name


@pytest.mark.parametrize("path", ["report", "report.pdf", ".html", "x.pcap"])
def test_unknown_suffix_lists_the_known_ones(path: str) -> None:
    with pytest.raises(UnknownFormat, match=r"use --format or one of .*\.html.*\.puml"):
        for_path(path)


def test_names_and_aliases() -> None:
    assert for_name("HTML").name == "html"
    assert for_name("markdown").name == "md"
    assert for_name("txt").name == "text"
    assert for_name("mmd").name == "mermaid"
    assert for_name("puml").name == "plantuml"
    with pytest.raises(UnknownFormat, match="unknown format 'pdf'; known: html, md, text"):
        for_name("pdf")


def test_format_beats_suffix_and_stdout_needs_a_format() -> None:
    assert choose("md", "report.html").name == "md"
    assert choose(None, "report.html").name == "html"
    with pytest.raises(UnknownFormat, match="stdout"):
        choose(None, "-")
    assert choose("json", "-").name == "json"


def test_every_exporter_meets_the_protocol() -> None:
    names = [e.name for e in all_exporters()]
    assert names == ["html", "md", "text", "json", "ndjson", "mermaid", "plantuml"]
    for e in all_exporters():
        assert isinstance(e, Exporter)
        assert e.suffixes and all(s.startswith(".") and s == s.lower() for s in e.suffixes)
        assert e.description
    assert {e.name for e in all_exporters() if isinstance(e, StreamingExporter)} == {
        "json",
        "ndjson",
    }


class _Csv:
    name = "csv"
    suffixes: tuple[str, ...] = (".csv",)
    description = "a plugin"

    def write(self, analysis: Analysis, fp: IO[str]) -> None:
        fp.write("call_id\n" + "".join(f"{ac.call.call_id}\n" for ac in analysis.calls))


@pytest.fixture
def plugin() -> Iterator[_Csv]:
    saved = dict(registry._REGISTRY)
    try:
        yield register(_Csv())  # type: ignore[return-value]
    finally:
        registry._REGISTRY.clear()
        registry._REGISTRY.update(saved)


def test_a_plugin_registers_by_name_and_suffix(plugin: _Csv) -> None:
    assert for_name("csv") is plugin
    assert for_path("out.csv") is plugin
    buf = io.StringIO()
    plugin.write(analyze([capture("call_ok.pcap")]), buf)
    assert buf.getvalue().startswith("call_id\n")


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Analysis:
    crafted = hostile_call_pcap(tmp_path_factory.mktemp("cap") / "evil.pcap")
    return analyze([capture("hostile.pcap"), crafted])


@pytest.mark.parametrize(
    "exporter",
    all_exporters(),
    ids=lambda e: e.name,
)
def test_every_exporter_keeps_hostile_text_inert(exporter: Exporter, hostile: Analysis) -> None:
    """Rule 12: ESC, NUL and friends never reach an output; no exporter crashes."""
    buf = io.StringIO()
    exporter.write(hostile, buf)
    out = buf.getvalue()
    assert out
    assert _CONTROLS.search(out) is None, repr(_CONTROLS.search(out))
    assert "\u202e" not in out  # bidi override
    if exporter.name in ("json", "ndjson"):
        for doc in (
            [json.loads(out)] if exporter.name == "json" else map(json.loads, out.splitlines())
        ):
            assert doc
        assert "<script>" in out  # JSON is data: kept verbatim, escaped by the JSON encoder only
    elif exporter.name == "html":
        assert out.lower().count("<script") == 1  # ours, the one the CSP hash allows
    elif exporter.name in ("mermaid", "plantuml"):
        assert "<script" not in out.lower()
