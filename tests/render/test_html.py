"""The HTML report: self-contained, escaped, locked by CSP; and driven in a real headless Chromium.

The Chromium tests use chromedriver through the W3C WebDriver protocol
(``tests/webdriver.py``, stdlib only).  Before any page script runs, a
DevTools hook replaces ``alert``/``confirm``/``prompt`` with recorders and
listens for CSP violations, so a script from a capture that ran (or was even
attempted) is caught.  Screenshots go to ``test-artifacts/`` (gitignored).
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import io
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from factories_hostile import CALL_ID, hostile_call_pcap
from helpers import ROOT, capture, needs_tool
from webdriver import Browser

from sipsniff.analysis import Analysis
from sipsniff.pipeline import analyze
from sipsniff.render import html as html_mod
from sipsniff.render._html_assets import CSP, JS, SCRIPT_HASH
from sipsniff.render.html import html_exporter

ARTIFACTS = ROOT / "test-artifacts"


class Page(HTMLParser):
    """Every start tag with its attributes, and the text of each script element."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.scripts: list[str] = []
        self._in_script = False
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))
        if tag == "script":
            self._in_script = True
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data

    def all(self, tag: str, cls: str | None = None) -> list[dict[str, str]]:
        return [
            a
            for t, a in self.tags
            if t == tag and (cls is None or cls in a.get("class", "").split())
        ]


def render(analysis: Analysis) -> str:
    buf = io.StringIO()
    html_exporter.write(analysis, buf)
    return buf.getvalue()


@pytest.fixture(scope="module")
def demo() -> Analysis:
    return analyze([capture("demo.pcap")])


@pytest.fixture(scope="module")
def hostile_pcaps(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    crafted = hostile_call_pcap(tmp_path_factory.mktemp("cap") / "evil.pcap")
    return [capture("hostile.pcap"), crafted]


@pytest.fixture(scope="module")
def hostile(hostile_pcaps: list[Path]) -> Analysis:
    return analyze(hostile_pcaps)


# ------------------------------------------------------------------ structure


def test_self_contained_with_a_hash_locked_script(demo: Analysis) -> None:
    text = render(demo)
    page = Page(text)
    assert text.startswith("<!DOCTYPE html>")
    assert page.scripts == [JS]
    assert page.all("script")[0] == {}  # inline, no src, no type
    digest = base64.b64encode(hashlib.sha256(JS.encode()).digest()).decode()
    assert f"sha256-{digest}" == SCRIPT_HASH
    csp = page.all("meta", None)
    policy = next(m["content"] for m in csp if m.get("http-equiv") == "Content-Security-Policy")
    assert policy == CSP
    assert "default-src 'none'" in policy and f"script-src '{SCRIPT_HASH}'" in policy
    # nothing to fetch: no external URL anywhere, no src, no link, no font, no import
    assert set(re.findall(r"https?://[^\s\"'<>)]+", text)) <= {"http://www.w3.org/2000/svg"}
    assert not any("src" in a for _t, a in page.tags)
    assert not page.all("link") and not page.all("img") and not page.all("iframe")
    assert "@import" not in text and "@font-face" not in text and "url(" not in text
    assert all(a["href"].startswith("#") for _t, a in page.tags if "href" in a)


def test_one_ladder_and_article_per_call(demo: Analysis) -> None:
    page = Page(render(demo))
    n = len(demo.calls)
    assert len(page.all("article", "call")) == n
    assert len(page.all("svg", "ladder")) == sum(1 for ac in demo.calls if ac.call.messages)
    rows = [a for t, a in page.tags if t == "tr" and "data-target" in a]
    assert [r["data-target"] for r in rows] == [f"call-{i}" for i in range(1, n + 1)]
    assert len(page.all("div", "ann")) == sum(len(ac.annotations) for ac in demo.calls)
    assert len(page.all("details", "msg")) == sum(len(ac.call.messages) for ac in demo.calls)
    ids = [a["id"] for _t, a in page.tags if "id" in a]
    assert len(ids) == len(set(ids)), "duplicate element ids"
    # every evidence and arrow link points at a message that exists
    targets = {a["href"][1:] for _t, a in page.tags if a.get("href", "").startswith("#m-")}
    assert targets and targets <= set(ids)


def test_summary_figures(demo: Analysis) -> None:
    text = render(demo)
    invites = [ac for ac in demo.calls if ac.call.kind.value == "call"]
    answered = sum(ac.call.state.value == "answered" for ac in invites)
    assert f"{answered * 100 / len(invites):.1f} %" in text
    assert f"{answered} of {len(invites)} INVITE calls" in text
    assert text.count('<svg class="chart"') == 2
    for code in demo.stats.statuses:
        assert f'title="{code}"' in text


def test_hostile_text_is_escaped_everywhere(hostile: Analysis) -> None:
    text = render(hostile)
    page = Page(text)
    assert page.scripts == [JS]
    allowed = {
        "html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "h3", "h4",
        "span", "div", "nav", "a", "main", "section", "p", "table", "thead", "tbody", "tr",
        "th", "td", "code", "input", "select", "option", "article", "svg", "line", "text",
        "g", "rect", "polygon", "path", "circle", "dl", "dt", "dd", "ol", "li",
        "strong", "details", "summary", "pre", "footer", "script", "i", "b",
    }  # fmt: skip
    assert {t for t, _a in page.tags} <= allowed
    assert not any(k.startswith("on") for _t, a in page.tags for k in a)
    assert "<img" not in text and "<script>document" not in text and "</script><script>" not in text
    assert "\x1b" not in text and "\x00" not in text
    # the wire text is there, as text: the attribute round-trips to what was sent
    rows = [a for t, a in page.tags if t == "tr" and "data-search" in a]
    assert any(CALL_ID.lower() in r["data-search"] for r in rows)


def test_calls_beyond_the_bound_are_listed_not_drawn(
    demo: Analysis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(html_mod, "MAX_DETAILED_CALLS", 3)
    page = Page(render(demo))
    assert len(page.all("article", "call")) == 3
    assert len([a for t, a in page.tags if t == "tr" and "data-target" in a]) == len(demo.calls)
    assert len(page.all("div", "note-box")) == 1


def test_a_call_that_fails_to_draw_costs_only_itself(
    demo: Analysis, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_a: Any, **_k: Any) -> str:
        raise ValueError("boom")

    monkeypatch.setattr(html_mod, "ladder_svg", broken)
    text = render(demo)
    assert text.count("could not be drawn (ValueError: boom)") == len(demo.calls)
    assert text.rstrip().endswith("</html>")


def test_no_calls() -> None:
    text = render(analyze([]))
    assert "No calls." in text and text.rstrip().endswith("</html>")


# ------------------------------------------------------------------ real Chromium

_WATCH = """
window.__alerts = [];
window.__csp = [];
['alert', 'confirm', 'prompt'].forEach(function (n) {
  window[n] = function (m) { window.__alerts.push(n + ':' + String(m)); };
});
document.addEventListener('securitypolicyviolation', function (e) {
  window.__csp.push(e.violatedDirective + ' ' + (e.sample || ''));
});
"""


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    chromium = needs_tool("chromium")
    chromedriver = needs_tool("chromedriver")
    profile = tmp_path_factory.mktemp("chromium-profile")
    with Browser(chromedriver, chromium, profile, width=1400, height=1000) as b:
        b.cdp("Page.addScriptToEvaluateOnNewDocument", {"source": _WATCH})
        yield b


def _open(browser: Browser, path: Path) -> None:
    browser.get(path.as_uri())
    assert browser.alert_text() is None, "a dialog is open: a script ran"
    assert browser.run("return document.readyState") == "complete"


def _visible(browser: Browser, css: str) -> int:
    return int(
        browser.run(
            "return Array.from(document.querySelectorAll(arguments[0]))"
            ".filter(function (e) { return e.offsetParent !== null; }).length",
            css,
        )
    )


def _artifact(name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / name


@pytest.mark.needs_tool
def test_chromium_lists_draws_and_filters(browser: Browser, demo: Analysis, tmp_path: Path) -> None:
    path = tmp_path / "demo.html"
    path.write_text(render(demo), encoding="utf-8")
    _open(browser, path)
    n = len(demo.calls)
    assert browser.run("return document.body.classList.contains('js')"), "our script did not run"
    assert browser.run("return window.__csp") == []
    assert _visible(browser, "#calls tbody tr") == n
    assert (
        browser.find("#shown")
        and browser.run("return document.getElementById('shown').textContent") == f"all {n} calls"
    )
    # one drawn ladder per call, with real geometry
    sizes = browser.run(
        "return Array.from(document.querySelectorAll('svg.ladder'))"
        ".map(function (s) { var b = s.getBBox(); return [b.width, b.height]; })"
    )
    assert len(sizes) == n and all(w > 300 and h > 80 for w, h in sizes)
    n_ann = sum(len(ac.annotations) for ac in demo.calls)
    assert n_ann and _visible(browser, "div.ann") == n_ann
    browser.screenshot_full(_artifact("report-demo.png"))

    # typing in the filter box narrows the list and the call flows
    box = browser.find("#q")
    browser.type(box, "busy")
    assert _visible(browser, "#calls tbody tr") == 1
    assert _visible(browser, "article.call") == 1
    assert browser.run("return document.getElementById('shown').textContent") == f"1 of {n} calls"
    browser.clear(box)
    browser.type(box, "bob 486")  # every word must match
    assert _visible(browser, "#calls tbody tr") == 1
    browser.clear(box)
    browser.run("document.getElementById('q').dispatchEvent(new Event('input'))")
    assert _visible(browser, "#calls tbody tr") == n

    # state and severity selects
    browser.click(browser.find("#f-state option[value=rejected]"))
    rejected = sum(ac.call.state.value == "rejected" for ac in demo.calls)
    assert _visible(browser, "#calls tbody tr") == rejected
    browser.click(browser.find("#f-state option[value='']"))
    browser.click(browser.find("#f-sev option[value='2']"))
    errors = sum(ac.worst is not None and int(ac.worst) == 2 for ac in demo.calls)
    assert _visible(browser, "#calls tbody tr") == errors
    browser.click(browser.find("#f-sev option[value='']"))
    assert _visible(browser, "#calls tbody tr") == n

    # sorting by clicking a header, both ways
    code_header = browser.find("#calls thead th:nth-child(7)")
    read_codes = "return Array.from(document.querySelectorAll('#calls tbody tr')).map(function (r) { return Number(r.cells[6].dataset.v); })"
    browser.click(code_header)
    assert browser.run(read_codes) == sorted(ac.call.final_status for ac in demo.calls)
    browser.click(code_header)
    assert browser.run(read_codes) == sorted(
        (ac.call.final_status for ac in demo.calls), reverse=True
    )

    # an arrow of a ladder opens its message's raw text
    busy = next(i for i, ac in enumerate(demo.calls, 1) if ac.call.final_status == 486)
    frame = next(m.frame for m in demo.calls[busy - 1].call.messages if m.status == 486)
    browser.run("location.hash = arguments[0]", f"#m-{busy}-{frame}")
    assert browser.run("return document.getElementById(arguments[0]).open", f"m-{busy}-{frame}")
    raw = browser.run(
        "return document.querySelector('#' + arguments[0] + ' pre').textContent",
        f"m-{busy}-{frame}",
    )
    assert raw.startswith("SIP/2.0 486 Busy Here\n")
    assert browser.run("return window.__alerts") == []


@pytest.mark.needs_tool
def test_chromium_runs_no_script_from_a_hostile_capture(
    browser: Browser, hostile: Analysis, tmp_path: Path
) -> None:
    path = tmp_path / "hostile.html"
    path.write_text(render(hostile), encoding="utf-8")
    _open(browser, path)
    title = browser.title()
    assert title == "sipsniff report: hostile.pcap, evil.pcap"
    assert "pwned" not in title
    assert browser.run("return typeof window.__pwned") == "undefined"
    assert browser.run("return window.__alerts") == []
    # nothing was even attempted: no script or handler reached the DOM to be blocked
    assert browser.run("return window.__csp") == []
    assert browser.run("return document.scripts.length") == 1
    assert browser.run("return document.querySelectorAll('img, iframe, object, embed').length") == 0
    assert browser.run("return document.body.classList.contains('js')")
    # the attack is displayed as text
    codes = browser.run(
        "return Array.from(document.querySelectorAll('article.call h3 code'))"
        ".map(function (c) { return c.textContent; })"
    )
    assert any("<script>document.title='pwned'" in c for c in codes)
    # and the filter still works on hostile text
    browser.type(browser.find("#q"), "securitylevel")
    assert _visible(browser, "#calls tbody tr") == 1
    browser.screenshot_full(_artifact("report-hostile.png"))


@pytest.mark.needs_tool
def test_chromium_csp_blocks_a_script_that_escaping_missed(
    browser: Browser, demo: Analysis, tmp_path: Path
) -> None:
    """Defence in depth: were an escape ever missed, the page's CSP still refuses the script."""
    text = render(demo).replace(
        "</main>", "<script>window.__pwned=1;document.title='pwned'</script></main>", 1
    )
    path = tmp_path / "injected.html"
    path.write_text(text, encoding="utf-8")
    _open(browser, path)
    assert browser.run("return typeof window.__pwned") == "undefined"
    assert "pwned" not in browser.title()
    assert any(v.startswith("script-src") for v in browser.run("return window.__csp"))
    assert browser.run("return document.body.classList.contains('js')"), "ours still runs"


def test_dataclass_fields_unchanged() -> None:
    """The report reads these fields of the model; a rename must fail here, not in a browser."""
    from sipsniff.render.ladder import Arrow

    names = {f.name for f in dataclasses.fields(Arrow)}
    assert {"frame", "ts_ns", "delta_ms", "src", "dst", "direction", "label", "status",
            "retransmission", "sdp", "notes"} <= names  # fmt: skip


def test_capture_notes_show_layers_tls_and_duplicates_escaped() -> None:
    base = analyze([capture("demo.pcap")])
    assert "capture-notes" not in "".join(html_mod.html_report(base))
    st = dataclasses.replace(
        base.stats,
        layers={"GRE": 3, "<b>x</b>": 1},
        tls={"connections": 1, "records": 4, "without_keys": 1},
        capture_duplicates=2,
    )
    page = "".join(html_mod.html_report(dataclasses.replace(base, stats=st)))
    notes = re.search(r'<p class="capture-notes">(.*?)</p>', page)
    assert notes is not None
    text = notes.group(1)
    assert "GRE 3" in text and "&lt;b&gt;x&lt;/b&gt; 1" in text
    assert "1 connection, 4 records: 1 without keys" in text and "--tls-keylog" in text
    assert "Capture duplicates</b> 2" in text
