"""Mermaid and PlantUML: structure from the ladder model, and a grammar no wire text can break."""

from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path

import pytest
from factories_hostile import hostile_call_pcap
from helpers import capture, needs_tool

from sipsniff.analysis import Analysis
from sipsniff.pipeline import analyze
from sipsniff.render.diagrams import (
    mermaid,
    mermaid_exporter,
    mermaid_text,
    plantuml,
    plantuml_exporter,
    plantuml_text,
)

# What may remain in a label once our own entity codes and line breaks are taken out.
_SAFE_TEXT = re.compile(r"[A-Za-z0-9 .,@=()+\-_/\u0080-\U0010ffff]*")

_MERMAID_LINE = re.compile(
    r"sequenceDiagram"
    r"|    %% (?P<comment>.*)"
    r"|    participant P\d+ as (?P<alias>.*)"
    r"|    rect rgba\(127, 127, 127, 0\.08\)"
    r"|    end"
    r"|    Note over P\d+(?:,P\d+)?: (?P<note>.*)"
    r"|    P\d+(?:->>|-->>|-\)|--\))P\d+: (?P<msg>.*)"
)
_PUML_LINE = re.compile(
    r"@startuml|@enduml|' sipsniff [0-9.]+|skinparam [a-zA-Z]+ true|skinparam sequenceMessageAlign center"
    r"|title (?P<title>.*)"
    r'|participant "(?P<part>[^"]*)" as P\d+'
    r"|P\d+ -(?:\[#[0-9a-f]{6}(?:,dashed)?\])?>>? P\d+ : (?P<msg>.*)"
    r"|note over P\d+(?:, P\d+)? : (?P<note>.*)"
)


def _mermaid_label_ok(text: str) -> bool:
    return _SAFE_TEXT.fullmatch(re.sub(r"#\d+;|<br/>", "", text)) is not None


def _puml_label_ok(text: str) -> bool:
    rest = re.sub(r"&#\d+;|<U\+[0-9A-F]{4}>|\\n", " ", text)
    return _SAFE_TEXT.fullmatch(rest) is not None and not re.search(r"--|__|//", rest)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Analysis:
    crafted = hostile_call_pcap(tmp_path_factory.mktemp("cap") / "evil.pcap")
    return analyze([capture("hostile.pcap"), crafted])


@pytest.fixture(scope="module")
def demo() -> Analysis:
    return analyze([capture("demo.pcap")])


def test_mermaid_structure(demo: Analysis) -> None:
    lines = list(mermaid(demo))
    assert lines[0] == "sequenceDiagram"
    n_calls = len(demo.calls)
    assert lines.count("    end") == n_calls
    assert sum(1 for x in lines if x.startswith("    rect ")) == n_calls
    arrows = [x for x in lines if re.match(r"    P\d+-", x)]
    assert len(arrows) == sum(len(ac.call.messages) for ac in demo.calls)
    assert any(x.startswith("    P0->>P1: INVITE (frame ") for x in lines)
    assert any("-->>" in x and "200 OK" in x for x in lines)
    notes = [
        x for x in lines if x.startswith("    Note over") and "#58;" not in x.split(": ", 1)[1][:9]
    ]
    assert len(notes) >= sum(len(ac.annotations) for ac in demo.calls)


def test_plantuml_one_block_per_call(demo: Analysis) -> None:
    text = "\n".join(plantuml(demo))
    assert text.count("@startuml") == text.count("@enduml") == len(demo.calls)
    busy = text.split("@startuml")[[ac.call.final_status for ac in demo.calls].index(486) + 1]
    assert re.search(r"P1 -\[#b26a00,dashed\]> P0 : 486 Busy Here \(frame \d+\)", busy)
    assert "note over P0, P1 : INFO callee&#45;busy" not in busy  # single hyphen stays readable
    assert "note over P0, P1 : INFO callee-busy - Callee busy&#58; 486 Busy Here" in busy


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        ("INVITE", "INVITE"),
        ("a:b;c#d", "a#58;b#59;c#35;d"),
        ("%%{init}%%", "#37;#37;#123;init#125;#37;#37;"),
        ("<script>", "#60;script#62;"),
        ("\x1b[2J", "#92;x1b#91;2J"),
        ("héllo", "héllo"),
    ],
)
def test_mermaid_text(raw: str, want: str) -> None:
    assert mermaid_text(raw) == want


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        ("INVITE sip-a_b/c", "INVITE sip-a_b/c"),
        (
            "--s-- __u__ //i// ~~w~~",
            "&#45;&#45;s&#45;&#45; &#95;&#95;u&#95;&#95; &#47;&#47;i&#47;&#47; &#126;&#126;w&#126;&#126;",
        ),
        ('a"b', "a&#34;b"),
        ("\\n $x %getenv()", "<U+005C>n <U+0024>x &#37;getenv()"),
        ("<img:http://x>", "&#60;img&#58;http&#58;&#47;&#47;x&#62;"),
        ("@enduml", "@enduml"),
    ],
)
def test_plantuml_text(raw: str, want: str) -> None:
    assert plantuml_text(raw) == want


def test_hostile_mermaid_keeps_its_grammar(hostile: Analysis) -> None:
    buf = io.StringIO()
    mermaid_exporter.write(hostile, buf)
    for line in buf.getvalue().splitlines():
        m = _MERMAID_LINE.fullmatch(line)
        assert m is not None, line
        for group in ("alias", "note", "msg"):
            if m.group(group) is not None:
                assert _mermaid_label_ok(m.group(group)), line
    assert "%%{" not in buf.getvalue()


def test_hostile_plantuml_keeps_its_grammar(hostile: Analysis) -> None:
    buf = io.StringIO()
    plantuml_exporter.write(hostile, buf)
    text = buf.getvalue()
    for line in text.splitlines():
        if not line:
            continue
        m = _PUML_LINE.fullmatch(line)
        assert m is not None, line
        for group in ("title", "part", "note", "msg"):
            if m.group(group) is not None:
                assert _puml_label_ok(m.group(group)), line
    # "@enduml" from the wire stays inside a label, never on a line of its own
    assert text.count("@enduml") == text.count("@startuml") == len(hostile.calls)


def test_no_calls() -> None:
    empty = analyze([])
    assert next(iter(mermaid(empty))) == "sequenceDiagram"
    assert list(plantuml(empty)) == ["@startuml", "title no calls", "@enduml"]


@pytest.mark.needs_tool
def test_plantuml_renders_the_hostile_diagrams(hostile: Analysis, tmp_path: Path) -> None:
    """The real PlantUML renderer accepts what we write (installed by .ci/run)."""
    tool = needs_tool("plantuml")
    src = tmp_path / "hostile.puml"
    with open(src, "w", encoding="utf-8") as fp:
        plantuml_exporter.write(hostile, fp)
    res = subprocess.run(
        [tool, "-tsvg", "-failfast2", str(src)],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    svgs = sorted(tmp_path.glob("hostile*.svg"))
    assert len(svgs) == len(hostile.calls)
    for svg in svgs:
        body = svg.read_text(encoding="utf-8")
        assert "Syntax Error" not in body and "An error has occured" not in body
        assert "<script" not in body.lower() and "<img" not in body.lower()
