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


# ------------------------------------------------------------------ issue 16, items 9 and 11

ANSI_REASON = "Busy \x1b]0;pwned\x07\x1b[2J\x1b[31mRED\x9b31m"
LINKY = 'Busy see http://evil.example/login www.evil.example bob@evil.example "sip:x@evil.example"'


def _reason_pcap(path: Path, reason: str, realm: str = "sipsniff.test") -> Path:
    """Call 1: INVITE, 486 ``reason``.  Call 2: INVITE, 407 for ``realm``, INVITE with
    credentials, 407 again (auth-rejected, whose cause quotes the realm)."""
    from factories import A, B, ipv4_udp_frame, make_invite, make_response, write_pcap

    challenge = f'Proxy-Authenticate: Digest realm="{realm}", nonce="n1"'
    creds = f'Proxy-Authorization: Digest username="alice", realm="{realm}", nonce="n1"'
    second = {"call_id": "auth-1@test", "cseq": "2 INVITE", "branch": "z9hG4bK-3"}
    frames = [
        (make_invite(), A, B),
        (make_response(486, reason), B, A),
        (make_invite(call_id="auth-1@test", branch="z9hG4bK-2"), A, B),
        (make_response(407, "Proxy Auth", call_id="auth-1@test", branch="z9hG4bK-2",
                       extra=[challenge]), B, A),
        (make_invite(**second, extra=[creds]), A, B),
        (make_response(407, "Proxy Auth", **second, extra=[challenge]), B, A),
    ]  # fmt: skip
    return write_pcap(path, [ipv4_udp_frame(m, s, d) for m, s, d in frames])


def test_text_outcome_line_shows_the_reason_phrase_inert(tmp_path: Path) -> None:
    a = analyze([_reason_pcap(tmp_path / "ansi.pcap", ANSI_REASON)])
    text = "\n".join(text_report(a))
    assert re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", text) is None
    outcome = next(line for line in text.splitlines() if line.startswith("call, rejected 486"))
    assert outcome.startswith("call, rejected 486 Busy \\x1b]0;pwned\\x07\\x1b[2J")


def test_text_report_of_the_ansi_reproducer_is_inert() -> None:
    repro = ROOT.parent / "shared" / "repro" / "ansi_reason.pcap"
    if not repro.exists():
        pytest.skip(f"{repro} is absent")
    text = "\n".join(text_report(analyze([repro])))
    assert re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", text) is None
    assert "486 Busy \\x1b]0;pwned" in text


def test_md_prose_puts_wire_text_in_code_spans() -> None:
    from sipsniff.render.text import md_prose

    assert md_prose('for username "alice" in realm "x.example".') == (
        "for username `alice` in realm `x.example`."
    )
    assert md_prose("The registration of sip:alice@evil.com. was refused") == (
        "The registration of `sip:alice@evil.com`. was refused"
    )
    assert md_prose("see (http://x.y/z), www.evil.com; mail bob@x.org") == (
        "see (`http://x.y/z`), `www.evil.com`; mail `bob@x.org`"
    )
    # the knowledge base's own prose is left alone
    plain = "did not match (RFC 3261 section 22.2), e.g. the realm; Max-Forwards: 70 at SIP/2.0"
    assert md_prose(plain) == plain
    assert md_prose("<b>*x*</b>") == "\\<b\\>\\*x\\*\\</b\\>"
    assert md_prose("# heading", line_start=True) == "\\# heading"
    assert md_prose('a "b`c" d') == "a `` b`c `` d"
    # quotes inside a quoted wire value are ambiguous, yet no link escapes its span
    for tricky in ('(phrase: "x "www.y.example" z").', '("a "sip:b@c.example"").'):
        html = (
            MarkdownIt("commonmark", {"linkify": True}).enable("linkify").render(md_prose(tricky))
        )
        assert "<a " not in html, html


def test_markdown_keeps_wire_links_in_code_spans(tmp_path: Path) -> None:
    realm = "www.realm-evil.example"
    a = analyze([_reason_pcap(tmp_path / "links.pcap", LINKY, realm)])
    md = "\n".join(markdown_report(a))
    assert f"`{realm}`" in md
    assert "- Outcome: call, rejected 486 `Busy see http://evil.example/login" in md
    # A renderer that autolinks (GFM's www./http and e-mail, linkify's bare domains): no link
    # may come from the wire, in the prose or anywhere else.
    html = MarkdownIt("commonmark", {"linkify": True}).enable(["table", "linkify"]).render(md)
    assert "<a " not in html, re.findall(r"<a [^>]*>[^<]*", html)
    assert "evil.example" in html
