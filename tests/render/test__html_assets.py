"""The report's script and stylesheet: what the CSP allows, and what the script may never do."""

from __future__ import annotations

import base64
import hashlib
import re

from sipsniff.render._html_assets import CSP, CSS, JS, SCRIPT_HASH


def test_csp_allows_nothing_but_our_script_and_inline_style() -> None:
    directives = dict(d.strip().split(" ", 1) for d in CSP.split(";"))
    assert directives == {
        "default-src": "'none'",
        "style-src": "'unsafe-inline'",
        "script-src": f"'{SCRIPT_HASH}'",
        "base-uri": "'none'",
        "form-action": "'none'",
    }
    digest = base64.b64encode(hashlib.sha256(JS.encode("utf-8")).digest()).decode()
    assert "sha256-" + digest == SCRIPT_HASH


def test_script_writes_no_markup_and_reaches_no_network() -> None:
    for banned in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(",
                   "Function(", "fetch(", "XMLHttpRequest", "WebSocket", "import(", "src",
                   "setTimeout(\"", "location.href ="):  # fmt: skip
        assert banned not in JS, banned
    assert "textContent" in JS and "dataset" in JS


def test_stylesheet_fetches_nothing() -> None:
    assert not re.search(r"url\(|@import|@font-face|https?:", CSS)
