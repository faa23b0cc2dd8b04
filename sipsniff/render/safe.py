"""The one sanitiser for wire text: every string from a capture passes here at the sink.

Why: a capture is written by strangers, and its text ends up in a terminal, a
ticket or a browser.  A reason phrase can carry ANSI/OSC sequences (rewrite the
screen, set the window title), and Unicode has characters that change what a
reader sees without being seen themselves: bidi controls that reorder a line
(``evil\\u202eexe.gpj`` reads ``evil jpg.exe``), tag characters and zero-width
formatters that hide text inside innocent text.  None of them is ever needed to
diagnose a SIP call, so every sink shows them as visible escapes.

Rules:
- Shown as escapes (``\\x1b``, ``\\u202e``, ``\\U000e0041``), never passed through:
  C0 and C1 control characters and DEL (ESC starts ANSI sequences); every
  character of Unicode category Cf (format: bidi embeddings, overrides and
  isolates, U+061C, zero-width space/joiners, word joiner, BOM, invisible math
  operators, interlinear annotation, the tag characters U+E0001 and
  U+E0020-E007F...); every other character whose bidi class is an explicit
  control or BN; line and paragraph separators (Zl, Zp); every
  Default_Ignorable_Code_Point (Unicode's list of characters a renderer shows as
  nothing: Hangul fillers, variation selectors, the whole U+E0000-E0FFF block,
  including code points not assigned yet); lone surrogates (from invalid UTF-8).
  ``tests/render/test_safe.py`` derives the categories and bidi classes from
  ``unicodedata`` over every code point and checks none is missed.
- Letters of right-to-left scripts are text, not controls: they are kept.
- Rich markup is never interpreted because renderers build ``Text`` objects;
  ``markup_escape`` exists only for the rare place where a markup string is built.
- HTML output goes through :func:`html_escape` (quotes included, for attributes).
- JSON keeps wire text exactly, but :func:`json_inert` writes these characters
  as ``\\u`` escapes, so the document parses to the same strings and is inert
  when printed (``cat``, ``jq -c``).
- Very long values are cut with a visible marker so a 100 kB header cannot
  swamp a table or a terminal.
"""

from __future__ import annotations

import html
import re

from rich.markup import escape as _rich_escape

__all__ = ["INVISIBLE_RANGES", "MAX_FIELD", "clean", "html_escape", "json_inert", "markup_escape"]

MAX_FIELD = 500
"""Default cut for one value shown in a table, a ladder label or a report line."""

INVISIBLE_RANGES: tuple[tuple[int, int], ...] = (
    (0x00AD, 0x00AD),  # soft hyphen (Cf, BN, default ignorable)
    (0x034F, 0x034F),  # combining grapheme joiner (default ignorable)
    (0x0600, 0x0605),  # Arabic number signs (Cf, prepended concatenation marks)
    (0x061C, 0x061C),  # ARABIC LETTER MARK (Cf, bidi control)
    (0x06DD, 0x06DD),  # Arabic end of ayah (Cf)
    (0x070F, 0x070F),  # Syriac abbreviation mark (Cf)
    (0x0890, 0x0891),  # Arabic pound/piastre mark above (Cf)
    (0x08E2, 0x08E2),  # Arabic disputed end of ayah (Cf)
    (0x115F, 0x1160),  # Hangul choseong/jungseong fillers (default ignorable)
    (0x17B4, 0x17B5),  # Khmer inherent vowels (default ignorable)
    (0x180B, 0x180F),  # Mongolian free variation selectors, vowel separator
    (0x200B, 0x200F),  # zero-width space, ZWNJ, ZWJ, LRM, RLM
    (0x2028, 0x202E),  # line/paragraph separators, LRE, RLE, PDF, LRO, RLO
    (0x2060, 0x206F),  # word joiner, invisible operators, LRI/RLI/FSI/PDI, deprecated
    (0x3164, 0x3164),  # Hangul filler (default ignorable)
    (0xFE00, 0xFE0F),  # variation selectors (default ignorable)
    (0xFEFF, 0xFEFF),  # zero-width no-break space / BOM
    (0xFFA0, 0xFFA0),  # halfwidth Hangul filler (default ignorable)
    (0xFFF0, 0xFFFB),  # unassigned default ignorables, interlinear annotation
    (0xD800, 0xDFFF),  # lone surrogates
    (0x110BD, 0x110BD),  # Kaithi number sign (Cf)
    (0x110CD, 0x110CD),  # Kaithi number sign above (Cf)
    (0x13430, 0x1343F),  # Egyptian hieroglyph format controls (Cf)
    (0x1BCA0, 0x1BCA3),  # shorthand format controls (Cf)
    (0x1D173, 0x1D17A),  # musical symbol format controls (Cf)
    (0xE0000, 0xE0FFF),  # tags, variation selectors supplement, reserved ignorables
)
"""Characters beyond C0/C1/DEL that reorder or hide text (inclusive ranges)."""


def _class(ranges: tuple[tuple[int, int], ...]) -> str:
    def one(c: int) -> str:
        return f"\\U{c:08x}"

    return "".join(one(a) if a == b else f"{one(a)}-{one(b)}" for a, b in ranges)


_INVISIBLE = _class(INVISIBLE_RANGES)
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f" + _INVISIBLE + "]")
_CONTROL_NL = re.compile("[\x00-\x1f\x7f-\x9f" + _INVISIBLE + "]")
_JSON_INERT = re.compile("[\x7f-\x9f" + _INVISIBLE + "]")


def _esc(m: re.Match[str]) -> str:
    c = ord(m.group())
    if c < 0x100:
        return f"\\x{c:02x}"
    return f"\\u{c:04x}" if c < 0x10000 else f"\\U{c:08x}"


def clean(text: str, limit: int | None = MAX_FIELD, *, keep_newlines: bool = False) -> str:
    """Make wire text inert for a terminal or a text file.

    Args:
        text: anything decoded from the network.
        limit: cut to this many characters (None: no cut).
        keep_newlines: keep LF (and tab) for raw message views; CR is always escaped.
    """
    if keep_newlines:
        text = text.replace("\r\n", "\n")
        out = _CONTROL.sub(_esc, text)
    else:
        out = _CONTROL_NL.sub(_esc, text)
    if limit is not None and len(out) > limit:
        out = out[:limit] + f"…[{len(out) - limit} more chars]"
    return out


def html_escape(text: str, limit: int | None = None) -> str:
    """Escape for HTML text and attribute values (after making controls visible)."""
    return html.escape(clean(text, limit, keep_newlines=True), quote=True)


def _json_esc(m: re.Match[str]) -> str:
    c = ord(m.group())
    if c < 0x10000:
        return f"\\u{c:04x}"
    c -= 0x10000
    return f"\\u{0xD800 + (c >> 10):04x}\\u{0xDC00 + (c & 0x3FF):04x}"


def json_inert(document: str) -> str:
    """A serialised JSON document with DEL, C1 and the invisible characters as ``\\u`` escapes.

    Lossless: the escapes parse back to the same strings.  Valid because these
    characters can only occur inside JSON strings (``json.dumps`` already
    escapes C0 controls, quotes and backslashes).
    """
    return _JSON_INERT.sub(_json_esc, document)


def markup_escape(text: str) -> str:
    """Escape rich markup in text that must go into a markup string."""
    return _rich_escape(clean(text))
