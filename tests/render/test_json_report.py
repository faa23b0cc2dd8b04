"""The JSON document and NDJSON lines validate against sipsniff/schema/analysis.schema.json.

The schema is strict (no unknown properties, enums for every closed set), so
a field added to ``render/json_report.py`` without the schema fails here, and
the negative cases prove the schema really rejects what it should.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner
from factories_hostile import hostile_call_pcap
from helpers import CAPTURES, ROOT

from sipsniff.cli import main
from sipsniff.diagnostics import Stage, Trigger
from sipsniff.dialogs.states import CallKind, CallState
from sipsniff.render.json_report import SCHEMA_VERSION

SCHEMA_PATH = ROOT / "sipsniff" / "schema" / "analysis.schema.json"
BUNDLED = sorted(p.name for p in CAPTURES.glob("*.pcap"))


@cache
def schema() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(SCHEMA_PATH.read_text())
    return doc


def validator(ref: str | None = None) -> jsonschema.Draft202012Validator:
    s = schema()
    if ref is not None:
        s = {"$schema": s["$schema"], "$defs": s["$defs"], "$ref": f"#/$defs/{ref}"}
    return jsonschema.Draft202012Validator(s, format_checker=jsonschema.FormatChecker())


def errors(doc: Any, ref: str | None = None) -> list[str]:
    return [f"{e.json_path}: {e.message[:200]}" for e in validator(ref).iter_errors(doc)]


@cache
def run(fmt: str, name: str) -> str:
    r = CliRunner().invoke(main, ["analyze", "--format", fmt, "-q", str(CAPTURES / name)])
    assert r.exit_code in (0, 1), r.stderr
    return r.stdout


def test_schema_is_valid_draft_2020_12() -> None:
    jsonschema.Draft202012Validator.check_schema(schema())
    assert schema()["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema()["properties"]["schema_version"] == {"const": SCHEMA_VERSION} == {"const": "1.0"}


def test_schema_is_shipped_as_package_data() -> None:
    from importlib import resources

    text = (resources.files("sipsniff") / "schema" / "analysis.schema.json").read_text()
    assert json.loads(text) == schema()


@pytest.mark.parametrize("name", BUNDLED)
def test_analyze_json_validates(name: str) -> None:
    doc = json.loads(run("json", name))
    assert errors(doc) == []
    assert doc["schema_version"] == SCHEMA_VERSION


@pytest.mark.parametrize("name", BUNDLED)
def test_analyze_ndjson_lines_validate(name: str) -> None:
    lines = [json.loads(x) for x in run("ndjson", name).splitlines()]
    assert lines[-1]["type"] == "summary"
    for i, line in enumerate(lines):
        assert errors(line, "ndjson_line") == [], f"line {i + 1}"


def test_cross_call_annotation_lines_validate() -> None:
    line = {
        "type": "annotations",
        "call_id": "x@y",
        "annotations": [
            {
                "rule": "server-unavailable",
                "severity": "error",
                "title": "t",
                "cause": "c",
                "resolution": ["r"],
                "frames": [1, 2],
                "details": {"k": "v"},
            }
        ],
    }
    assert errors(line, "ndjson_line") == []


def demo() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(run("json", "demo.pcap"))
    return copy.deepcopy(doc)


def _request(doc: dict[str, Any]) -> dict[str, Any]:
    return next(m for m in doc["messages"] if "method" in m)


def _annotated(doc: dict[str, Any]) -> dict[str, Any]:
    return next(c for c in doc["calls"] if c["annotations"])


def _response(doc: dict[str, Any]) -> dict[str, Any]:
    return next(m for m in doc["messages"] if "status" in m)


@pytest.mark.parametrize(
    ("what", "mutate"),
    [
        ("unknown top-level field", lambda d: d.update(extra=1)),
        ("other schema version", lambda d: d.update(schema_version="2.0")),
        ("unknown call field", lambda d: d["calls"][0].update(colour="red")),
        ("missing call field", lambda d: d["calls"][0].pop("state")),
        ("bad call state", lambda d: d["calls"][0].update(state="exploded")),
        ("bad severity", lambda d: _annotated(d)["annotations"][0].update(severity="fatal")),
        ("unknown summary field", lambda d: d["summary"].update(type="summary")),
        ("frame zero", lambda d: d["messages"][0].update(frame=0)),
        ("time not UTC ISO", lambda d: d["messages"][0].update(time="yesterday")),
        ("request with a status", lambda d: _request(d).update(status=200, reason="OK")),
        ("response with a method", lambda d: _response(d).update(method="INVITE")),
        ("bad transport", lambda d: d["messages"][0].update(transport="QUIC")),
        ("bad trigger count key", lambda d: d["summary"]["diagnostics_by_trigger"].update(x=1)),
        ("non-numeric status key", lambda d: d["summary"]["statuses"].update(abc=1)),
    ],
)
def test_schema_rejects(what: str, mutate: Any) -> None:
    doc = demo()
    assert errors(doc) == []
    mutate(doc)
    assert errors(doc), f"schema accepted a document with {what}"


def test_enums_match_the_code() -> None:
    """Adding a state, kind, stage or trigger must update the schema too."""
    d = schema()["$defs"]
    assert d["call_fields"]["properties"]["state"]["enum"] == [s.value for s in CallState]
    assert d["call_fields"]["properties"]["kind"]["enum"] == [k.value for k in CallKind]
    assert d["diagnostic"]["properties"]["stage"]["enum"] == [s.value for s in Stage]
    assert d["diagnostic"]["properties"]["trigger"]["enum"] == [t.value for t in Trigger]


def test_report_json_is_the_analyze_document(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    path = str(CAPTURES / "demo.pcap")
    r = CliRunner().invoke(main, ["report", "-q", path, "-o", str(out)])
    assert r.exit_code == 0, r.stderr
    assert json.loads(out.read_text()) == json.loads(run("json", "demo.pcap"))
    assert errors(json.loads(out.read_text())) == []


def test_non_ascii_text_in_an_early_call_keeps_the_document_valid(tmp_path: Path) -> None:
    """Regression: the spool once read byte offsets back as characters and corrupted the JSON."""
    crafted = hostile_call_pcap(tmp_path / "evil.pcap")
    r = CliRunner().invoke(
        main, ["analyze", "--format", "json", "-q", str(crafted), str(CAPTURES / "call_ok.pcap")]
    )
    doc = json.loads(r.stdout)
    assert errors(doc) == []
