"""The sanitiser: every character that reorders or hides text is shown as an escape, in every sink.

The set is derived here from ``unicodedata`` over every code point (general
categories Cc, Cf, Cs, Zl, Zp; the bidi classes of explicit controls and BN)
plus Unicode's Default_Ignorable_Code_Point list, so a character that
``safe.py``'s table forgot fails this test instead of reaching a terminal.
Issue 16, item 10: U+061C and the tag characters U+E0000-E007F were missed.
"""

from __future__ import annotations

import functools
import json
import re
import sys
import unicodedata
from pathlib import Path

import pytest
from click.testing import CliRunner
from factories import A, B, ipv4_udp_frame, make_invite, make_response, write_pcap
from helpers import ROOT

from sipsniff.cli import main
from sipsniff.render.safe import clean, html_escape, json_inert

_BIDI_CONTROLS = {"LRE", "RLE", "LRO", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI", "BN"}
# DerivedCoreProperties.txt (Unicode 15.1), Default_Ignorable_Code_Point: what a
# renderer shows as nothing.  Not in unicodedata, so listed here.
_DEFAULT_IGNORABLE = [
    (0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160),
    (0x17B4, 0x17B5), (0x180B, 0x180F), (0x200B, 0x200F), (0x202A, 0x202E),
    (0x2060, 0x206F), (0x3164, 0x3164), (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
]  # fmt: skip
# Bidi controls and invisible characters seen in the wild (Trojan Source, tag smuggling).
BIDI_SAMPLE = "evil\u202eexe.gpj\u2066x\u2069\u061c\u200b\u200d\ufeff\U000e0041\U000e0042tag"


@functools.cache
def hiding() -> list[str]:
    """Every character that reorders or hides text, by the rules above."""
    out = []
    for cp in range(sys.maxunicode + 1):
        ch = chr(cp)
        if ch in "\t\n":
            continue
        if (
            unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp")
            or unicodedata.bidirectional(ch) in _BIDI_CONTROLS
            or any(a <= cp <= b for a, b in _DEFAULT_IGNORABLE)
        ):
            out.append(ch)
    return out


@functools.cache
def hiding_re() -> re.Pattern[str]:
    return re.compile("[" + "".join(re.escape(ch) for ch in hiding()) + "]")


def hiding_found(text: str) -> list[str]:
    """The hiding characters in ``text``, as ``U+XXXX``."""
    return sorted({f"U+{ord(m.group()):04X}" for m in hiding_re().finditer(text)})


def test_every_reordering_or_hiding_character_becomes_an_escape() -> None:
    assert len(hiding()) > 4000  # the tag block alone is 4096
    missed = [f"U+{ord(ch):04X}" for ch in hiding() if ch in clean(f"a{ch}b")]
    assert missed == []
    assert all(ch not in clean(f"a{ch}b", keep_newlines=True) for ch in hiding())


@pytest.mark.parametrize(
    ("ch", "escape"),
    [
        ("\u061c", "\\u061c"),  # ARABIC LETTER MARK: the bidi control issue 16 found
        ("\U000e0000", "\\U000e0000"),
        ("\U000e0041", "\\U000e0041"),  # TAG LATIN CAPITAL LETTER A
        ("\U000e007f", "\\U000e007f"),  # CANCEL TAG
        ("\u2067", "\\u2067"),  # RIGHT-TO-LEFT ISOLATE
        ("\u00ad", "\\xad"),  # soft hyphen
        ("\ufe0f", "\\ufe0f"),  # variation selector
        ("\u3164", "\\u3164"),  # Hangul filler: a "letter" that draws nothing
    ],
)
def test_escapes_are_visible_and_unambiguous(ch: str, escape: str) -> None:
    assert clean(f"x{ch}y") == f"x{escape}y"


def test_text_stays_text() -> None:
    for text in ("Busy Here", "Émilie", "東京", "שלום", "مرحبا", "☎ call", "a\tb"):
        assert clean(text.replace("\t", " ")) == text.replace("\t", " ")
    assert clean("line1\nline2", keep_newlines=True) == "line1\nline2"
    assert clean("line1\nline2") == "line1\\x0aline2"


def test_html_escape_neutralises_them_too() -> None:
    out = html_escape(BIDI_SAMPLE + "<b>")
    assert hiding_found(out) == []
    assert "&lt;b&gt;" in out and "\\u061c" in out and "\\U000e0041" in out


def test_json_inert_is_lossless_and_inert() -> None:
    value = {"reason": BIDI_SAMPLE + "\x85\x9b\x7f\ud800", "n": 1}
    doc = json.dumps(value, ensure_ascii=False)
    inert = json_inert(doc)
    assert json.loads(inert) == value
    assert hiding_found(inert) == []
    assert "\\u061c" in inert and "\\udb40\\udc41" in inert  # U+E0041 as a surrogate pair


def bidi_pcap(path: Path) -> Path:
    """A 486 whose From, To, Call-ID, User-Agent and reason carry bidi controls and tags."""
    call_id = f"bidi-{BIDI_SAMPLE}@x"
    extra = [f"User-Agent: {BIDI_SAMPLE}", f"Subject: {BIDI_SAMPLE}"]
    invite = make_invite(call_id=call_id, extra=extra)
    busy = make_response(486, BIDI_SAMPLE, call_id=call_id, extra=[f"Server: {BIDI_SAMPLE}"])
    return write_pcap(path, [ipv4_udp_frame(invite, A, B), ipv4_udp_frame(busy, B, A)])


def _sources(tmp_path: Path) -> list[str]:
    out = [str(bidi_pcap(tmp_path / "bidi.pcap"))]
    repro = ROOT.parent / "shared" / "repro" / "h_content_bidi.pcap"
    if repro.exists():
        out.append(str(repro))
    return out


@pytest.mark.parametrize(
    "fmt",
    [
        "text",
        "md",
        "html",
        "mermaid",
        "plantuml",
        "json",
        "ndjson",
    ],
)
def test_no_hiding_character_reaches_a_report(tmp_path: Path, fmt: str) -> None:
    r = CliRunner().invoke(main, ["report", "-q", *_sources(tmp_path), "-o", "-", "--format", fmt])
    assert r.exit_code == 0, r.stderr
    assert "u061c" in r.stdout  # shown, as an escape (each format quotes the backslash its way)
    assert hiding_found(r.stdout) == []
    if fmt.endswith("json"):  # and JSON still carries the wire text exactly
        first = json.loads(r.stdout.splitlines()[0] if fmt == "ndjson" else r.stdout)
        assert BIDI_SAMPLE in json.dumps(first, ensure_ascii=False)


@pytest.mark.parametrize("args", [[], ["--flow"], ["--failed", "--flow", "--no-color"]])
def test_no_hiding_character_reaches_the_call_table_or_ladders(
    tmp_path: Path, args: list[str]
) -> None:
    r = CliRunner().invoke(main, ["analyze", "-q", *args, *_sources(tmp_path)])
    assert r.exit_code == 0, r.stderr
    assert "bidi-evil" in r.stdout
    assert hiding_found(r.stdout) == []
