"""The one sanitiser for wire text: every string from a capture passes here at the sink.

Rules:
- C0 and C1 control characters (ESC starts ANSI sequences), DEL, and the
  Unicode bidi overrides that can reorder a terminal line are shown as
  visible escapes (``\\x1b``), never passed through.
- Rich markup is never interpreted because renderers build ``Text`` objects;
  ``markup_escape`` exists only for the rare place where a markup string is built.
- HTML output goes through :func:`html_escape` (quotes included, for attributes).
- Very long values are cut with a visible marker so a 100 kB header cannot
  swamp a table or a terminal.
"""

from __future__ import annotations

import html
import re

from rich.markup import escape as _rich_escape

__all__ = ["MAX_FIELD", "clean", "html_escape", "markup_escape"]

MAX_FIELD = 500
"""Default cut for one value shown in a table, a ladder label or a report line."""

# C0/C1 controls, zero-width and bidi format characters, line/paragraph
# separators, and lone surrogates (from invalid UTF-8 decoded elsewhere).
_INVISIBLE = "\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb\ud800-\udfff"
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f" + _INVISIBLE + "]")
_CONTROL_NL = re.compile("[\x00-\x1f\x7f-\x9f" + _INVISIBLE + "]")


def _esc(m: re.Match[str]) -> str:
    c = ord(m.group())
    return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"


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


def markup_escape(text: str) -> str:
    """Escape rich markup in text that must go into a markup string."""
    return _rich_escape(clean(text))
