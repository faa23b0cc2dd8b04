"""Headers: ordered, case-insensitive, compact forms expanded; name-addr and URI helpers.

Strategy: a message's header block is split into ``(name, value)`` pairs on
first use, with names lower-cased and compact forms expanded (``i`` ->
``call-id``).  A dict of first occurrences gives O(1) lookup; ``get_all``
splits list headers on commas only when asked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .grammar import COMPACT_FORMS, MULTI_VALUE, split_commas

__all__ = [
    "HOT_HEADERS",
    "ODD_LINE",
    "Headers",
    "NameAddr",
    "param",
    "parse_name_addr",
    "uri_host",
    "uri_user",
]


_LINE = re.compile(rb"^([^:\r\n]*):[ \t]*([^\r\n]*)", re.MULTILINE)
# A header line with no colon, anchored on a literal LF for speed.
_NO_COLON = re.compile(rb"\n[^:\s][^:\n]*\n")
# Either of the two things the fast paths cannot take: a folded line (RFC 3261
# section 7.3.1) or a line with no colon.  One scan instead of three.
ODD_LINE = re.compile(rb"\n(?:[ \t]|[^:\s][^:\n]*\n)")
# Header names as written -> canonical lower-case names; bounded so hostile
# traffic inventing names cannot grow it without end.
_NAMES: dict[bytes, str] = {}
_MAX_NAMES = 4096


HOT_HEADERS = frozenset(("call-id", "cseq", "from", "to", "via", "content-length", "content-type"))
"""Headers the message parser extracts on every message; ``Headers`` answers them
without a full parse."""


class Headers:
    """Immutable, lazily parsed view of a message's headers, in wire order.

    The dialog layer needs only a handful of headers, which the message parser
    extracts with one regex scan; the full split into ``(name, value)`` pairs
    happens on first access here, so messages nobody inspects stay cheap.
    """

    __slots__ = ("_clean", "_end", "_first", "_hot", "_items", "_problems", "_raw", "_start")

    def __init__(
        self,
        raw: bytes,
        start: int,
        end: int,
        hot: dict[str, str] | None = None,
        *,
        clean: bool = False,
    ) -> None:
        self._raw = raw
        self._clean = clean
        """The caller already scanned the block with ``ODD_LINE`` and found nothing:
        the full parse then skips that scan (it runs for most messages a rule reads)."""
        self._start = start
        self._end = end
        self._items: tuple[tuple[str, str], ...] | None = None
        self._hot = hot is not None
        self._first: dict[str, str] = hot if hot is not None else {}
        """Before parsing: the first values of ``HOT_HEADERS`` found by the message
        parser's scan (all of them, so an absent key means an absent header)."""
        self._problems: tuple[str, ...] = ()

    @classmethod
    def from_items(cls, items: tuple[tuple[str, str], ...]) -> Headers:
        """Build from already split pairs (tests, crafted messages)."""
        h = cls(b"", 0, 0)
        h._set(list(items), [])
        return h

    def _set(self, items: list[tuple[str, str]], problems: list[str]) -> None:
        first: dict[str, str] = {}
        for k, v in items:
            if k not in first:
                first[k] = v
        self._items = tuple(items)
        self._first = first
        self._problems = tuple(problems)

    def _parse(self) -> None:
        raw, a, b = self._raw, self._start, self._end
        if self._clean or ODD_LINE.search(raw, a - 1, b + 2) is None:
            # Well-formed block (no folding, every line has a colon): split in C.
            names = _NAMES
            fast: list[tuple[str, str]] = []
            for name_b, value_b in _LINE.findall(raw, a, b):
                key = names.get(name_b)
                if key is None:
                    key = name_b.decode("utf-8", "replace").strip().lower()
                    key = COMPACT_FORMS.get(key, key)
                    if len(names) < _MAX_NAMES:
                        names[name_b] = key
                fast.append((key, value_b.decode("utf-8", "replace").rstrip()))
            self._set(fast, [])
            return
        text = raw[a:b].decode("utf-8", "replace")
        items: list[tuple[str, str]] = []
        problems: list[str] = []
        lines = text.split("\r\n") if "\r\n" in text else text.split("\n")
        compact = COMPACT_FORMS
        for n, line in enumerate(lines, 1):
            if not line:
                continue
            if line[0] in " \t":
                if items:
                    k, v = items[-1]
                    items[-1] = (k, (v + " " + line.strip()).strip())
                else:
                    problems.append(f"header #{n}: continuation line with no header before it")
                continue
            name, sep, value = line.partition(":")
            if not sep:
                problems.append(f"header #{n}: no colon in {line[:40]!r}")
                continue
            key = name.strip().lower()
            if len(key) == 1:
                key = compact.get(key, key)
            items.append((key, value.strip()))
        self._set(items, problems)

    @property
    def items(self) -> tuple[tuple[str, str], ...]:
        """``(lower-case full name, value)`` pairs in wire order."""
        if self._items is None:
            self._parse()
        assert self._items is not None
        return self._items

    @property
    def problems(self) -> tuple[str, ...]:
        """Lines that are not headers (no colon, stray continuation)."""
        if self._items is None:
            self._parse()
        return self._problems

    def get(self, name: str, default: str | None = None) -> str | None:
        """First value of a header (name in any case, compact or full)."""
        key = name.lower()
        if len(key) == 1:
            key = COMPACT_FORMS.get(key, key)
        if self._items is None and not (self._hot and key in HOT_HEADERS):
            self._parse()
        return self._first.get(key, default)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def get_all(self, name: str) -> list[str]:
        """All values of a header: every line, and comma lists split when the grammar allows."""
        key = name.lower()
        if len(key) == 1:
            key = COMPACT_FORMS.get(key, key)
        vals = [v for k, v in self.items if k == key]
        if key in MULTI_VALUE:
            return [part for v in vals for part in split_commas(v)]
        return vals

    def __len__(self) -> int:
        return len(self.items)

    def __repr__(self) -> str:
        return f"Headers({len(self.items)} headers)"


@dataclass(frozen=True, slots=True, kw_only=True)
class NameAddr:
    """``"Display" <sip:user@host>;tag=x`` split into parts."""

    display: str
    uri: str
    params: dict[str, str] = field(default_factory=dict)

    @property
    def user(self) -> str:
        return uri_user(self.uri)

    @property
    def tag(self) -> str:
        return self.params.get("tag", "")


_PARAM_SPLIT = re.compile(r";\s*")


def _params(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for p in _PARAM_SPLIT.split(text):
        k, _, v = p.partition("=")
        k = k.strip().lower()
        if k:
            out[k] = v.strip().strip('"')
    return out


def parse_name_addr(value: str) -> NameAddr:
    """Parse From/To/Contact/Route values; tolerant of anything the wire sends.

    A quoted display name may itself contain ``<`` (scanners put markup there), so
    the quoted string is skipped before looking for the angle-bracketed URI.
    """
    value = value.strip()
    display = ""
    rest = value
    if value.startswith('"'):
        i = 1
        n = len(value)
        while i < n and value[i] != '"':
            i += 2 if value[i] == "\\" else 1
        display = value[1:i].replace('\\"', '"')
        rest = value[i + 1 :]
    lt = rest.find("<")
    if lt >= 0:
        gt = rest.find(">", lt)
        if gt < 0:
            gt = len(rest)
        if not display:
            display = rest[:lt].strip().strip('"')
        return NameAddr(display=display, uri=rest[lt + 1 : gt], params=_params(rest[gt + 1 :]))
    uri, _, params = rest.strip().partition(";")
    return NameAddr(display=display, uri=uri.strip(), params=_params(params))


_PARAM_RE: dict[str, re.Pattern[str]] = {}


def param(value: str, name: str) -> str:
    """Value of ``;name=value`` in a header value ('' when absent); no full parse."""
    rx = _PARAM_RE.get(name)
    if rx is None:
        rx = _PARAM_RE[name] = re.compile(
            r";[ \t]*" + re.escape(name) + r"[ \t]*=[ \t]*([^;,> \t]*)", re.IGNORECASE
        )
    m = rx.search(value)
    return m.group(1) if m else ""


def uri_user(uri: str) -> str:
    """The user part of a SIP/SIPS/TEL URI ('' when there is none)."""
    scheme, sep, rest = uri.partition(":")
    if not sep:
        return ""
    if scheme.lower() == "tel":
        return rest.split(";", 1)[0]
    user, at, _host = rest.partition("@")
    return user.split(";", 1)[0] if at else ""


def uri_host(uri: str) -> str:
    """The host[:port] part of a SIP URI."""
    _scheme, _sep, rest = uri.partition(":")
    rest = rest.split("@", 1)[-1]
    return rest.split(";", 1)[0].split("?", 1)[0]
