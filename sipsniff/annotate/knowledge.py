"""The annotator's knowledge base: what a SIP code, a Q.850 cause or a Warning means.

Strategy: the knowledge is data, not code. ``data/response_codes.toml``, ``data/q850.toml``
and ``data/warning_codes.toml`` are the single source of truth, and the rules, ``explain`` and
the reports all read them through this module. The files are loaded and validated once, on
first use, so importing :class:`Severity` costs nothing. A missing or mistyped key raises
:class:`KnowledgeError` naming the file and the entry. That is a packaging bug, never a property
of a capture.

Rules:

* ``lookup`` never raises. A code that the IANA registry does not list falls back to its class
  (RFC 3261 section 8.1.3.2 says a UAC treats it as the class's x00), with
  ``registered=False``. A number outside 100..699 gets the ``[invalid]`` entry.
* The ``parse_*`` functions take wire text and never raise. Garbage gives ``()`` or ``None``.
  They split on commas and semicolons only outside quoted strings, because RFC 3326 ``text=``
  and RFC 3261 warn-text are quoted-strings that may contain either.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import IntEnum
from importlib import resources
from typing import Final

__all__ = [
    "CodeInfo",
    "Guide",
    "KnowledgeError",
    "Q850Info",
    "ReasonInfo",
    "Severity",
    "WarningHeader",
    "WarningInfo",
    "all_codes",
    "all_q850",
    "all_warnings",
    "class_info",
    "codes_in_class",
    "guide",
    "lookup",
    "parse_min_expires",
    "parse_reason",
    "parse_retry_after",
    "parse_warning",
    "q850",
    "search",
    "warning",
]

_PACKAGE: Final = "sipsniff.annotate"
_RESPONSE_FILE: Final = "response_codes.toml"
_Q850_FILE: Final = "q850.toml"
_WARNING_FILE: Final = "warning_codes.toml"

# RFC 3261 section 20.19 bounds delta-seconds values to 0..(2**32)-1. Larger values are clamped
# rather than rejected. Clamping also keeps int() away from Python's 4300-digit conversion limit.
MAX_DELTA_SECONDS: Final = 2**32 - 1
_MAX_DELTA_DIGITS: Final = len(str(MAX_DELTA_SECONDS))
# Q.850 causes are 7-bit; a few digits more still parse, and anything longer is not a cause.
_MAX_CAUSE_DIGITS: Final = 9


class KnowledgeError(ValueError):
    """A packaged data file is malformed. The message names the file and the entry."""


class Severity(IntEnum):
    """How much a finding matters. Ordered, so ``severity >= Severity.WARNING`` filters."""

    INFO = 0
    WARNING = 1
    ERROR = 2

    def __str__(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        """Read ``"info"``, ``"warning"`` or ``"error"``, in any case.

        Raises:
            ValueError: for any other text, listing the accepted words.
        """
        try:
            return cls[text.strip().upper()]
        except KeyError:
            words = ", ".join(str(s) for s in cls)
            raise ValueError(f"unknown severity {text!r}: expected one of {words}") from None


@dataclass(frozen=True, slots=True, kw_only=True)
class CodeInfo:
    """Everything sipsniff knows about one SIP status code."""

    code: int
    klass: int
    """Response class 1..6. It is 0 for numbers outside 100..699."""
    class_name: str
    """``"Client Error"`` and so on, ``"Invalid"`` for class 0."""
    reason: str
    """Canonical reason phrase. For an unregistered code, e.g. ``"Unknown client error"``."""
    rfc: str
    meaning: str
    causes: tuple[str, ...]
    """Likely causes in practice, most common first."""
    resolution: tuple[str, ...]
    """Steps for an administrator, in the order to try them."""
    severity: Severity
    registered: bool
    """True only for codes in the IANA registry. Class fallbacks are False."""
    retry: bool
    """The same request may succeed if it is sent again later."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Q850Info:
    """One ITU-T Q.850 cause value."""

    cause: int
    name: str
    meaning: str
    sip: int | None
    """The SIP response this cause usually maps to (RFC 3398), if there is one."""
    severity: Severity


@dataclass(frozen=True, slots=True, kw_only=True)
class WarningInfo:
    """One registered Warning code (RFC 3261 section 20.43, RFC 5630)."""

    code: int
    text: str
    rfc: str
    meaning: str
    resolution: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class ReasonInfo:
    """One decoded value of a Reason header (RFC 3326)."""

    protocol: str
    """``"SIP"`` or ``"Q.850"`` in canonical spelling. Any other protocol as written."""
    cause: int | None
    text: str | None
    """The ``text=`` parameter, unquoted. It is the sender's words, not ours."""
    explanation: str
    """Our explanation of the cause, from the Q.850 table or :func:`lookup`."""


@dataclass(frozen=True, slots=True, kw_only=True)
class WarningHeader:
    """One decoded value of a Warning header."""

    code: int
    agent: str
    """The host (or pseudonym) that added the warning."""
    text: str
    info: WarningInfo | None
    """Registry entry for ``code``, or None for an unregistered code."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Guide:
    """General troubleshooting advice, shown next to diagnoses and in the docs."""

    diagnosing: tuple[str, ...]
    preventing: tuple[str, ...]


# --------------------------------------------------------------------------- loading


class _Table:
    """One TOML table and its location, so every validation error names file and entry."""

    __slots__ = ("_data", "where")

    def __init__(self, data: object, where: str) -> None:
        if not isinstance(data, dict):
            raise KnowledgeError(f"{where}: expected a table")
        self._data: dict[str, object] = data
        self.where = where

    def _get(self, key: str) -> object:
        if key not in self._data:
            raise KnowledgeError(f"{self.where}: missing required key {key!r}")
        return self._data[key]

    def text(self, key: str) -> str:
        value = self._get(key)
        if not isinstance(value, str) or not value.strip():
            raise KnowledgeError(f"{self.where}: {key!r} must be a non-empty string")
        return value

    def texts(self, key: str) -> tuple[str, ...]:
        value = self._get(key)
        if (
            not isinstance(value, list)
            or not value
            or not all(isinstance(v, str) and v.strip() for v in value)
        ):
            raise KnowledgeError(f"{self.where}: {key!r} must be a non-empty array of strings")
        return tuple(value)

    def severity(self) -> Severity:
        word = self.text("severity")
        try:
            return Severity.parse(word)
        except ValueError as e:
            raise KnowledgeError(f"{self.where}: {e}") from e

    def flag(self, key: str) -> bool:
        value = self._data.get(key, False)
        if not isinstance(value, bool):
            raise KnowledgeError(f"{self.where}: {key!r} must be true or false")
        return value

    def optional_int(self, key: str) -> int | None:
        value = self._data.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise KnowledgeError(f"{self.where}: {key!r} must be an integer")
        return value

    def numbered(self, key: str, low: int, high: int) -> dict[int, _Table]:
        """The sub-tables of ``key``, whose names must be integers in ``low..high``."""
        section = _Table(self._get(key), f"{self.where}[{key}]")
        out: dict[int, _Table] = {}
        for name, data in section._data.items():
            where = f"{self.where}[{key}.{name}]"
            if not name.isascii() or not name.isdigit() or not low <= int(name) <= high:
                raise KnowledgeError(f"{where}: key must be an integer in {low}..{high}")
            out[int(name)] = _Table(data, where)
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class _ClassEntry:
    info: CodeInfo
    unknown_reason: str
    unknown_meaning: str


@dataclass(frozen=True, slots=True, kw_only=True)
class _Knowledge:
    codes: Mapping[int, CodeInfo]
    classes: Mapping[int, _ClassEntry]
    invalid: _ClassEntry
    causes: Mapping[int, Q850Info]
    warnings: Mapping[int, WarningInfo]
    guide: Guide


def _class_entry(table: _Table, klass: int) -> _ClassEntry:
    name = table.text("name")
    info = CodeInfo(
        code=klass * 100,
        klass=klass,
        class_name=name,
        reason=name,
        rfc=table.text("rfc"),
        meaning=table.text("description"),
        causes=table.texts("causes"),
        resolution=table.texts("resolution"),
        severity=table.severity(),
        registered=False,
        retry=False,
    )
    return _ClassEntry(
        info=info,
        unknown_reason=table.text("unknown_reason"),
        unknown_meaning=table.text("unknown_meaning"),
    )


def _build(responses: object, causes: object, warnings: object) -> _Knowledge:
    """Validate the three parsed documents and build the lookup tables."""
    doc = _Table(responses, _RESPONSE_FILE)
    classes = {k: _class_entry(t, k) for k, t in doc.numbered("classes", 1, 6).items()}
    missing = sorted(set(range(1, 7)) - classes.keys())
    if missing:
        raise KnowledgeError(f"{_RESPONSE_FILE}: missing [classes.N] for N in {missing}")
    codes: dict[int, CodeInfo] = {}
    for code, table in sorted(doc.numbered("codes", 100, 699).items()):
        parent = classes[code // 100].info
        codes[code] = CodeInfo(
            code=code,
            klass=parent.klass,
            class_name=parent.class_name,
            reason=table.text("reason"),
            rfc=table.text("rfc"),
            meaning=table.text("meaning"),
            causes=table.texts("causes"),
            resolution=table.texts("resolution"),
            severity=table.severity(),
            registered=True,
            retry=table.flag("retry"),
        )
    advice = _Table(doc._get("guide"), f"{_RESPONSE_FILE}[guide]")
    q_doc = _Table(causes, _Q850_FILE)
    q850_table: dict[int, Q850Info] = {}
    for cause, table in sorted(q_doc.numbered("causes", 0, 127).items()):
        q850_table[cause] = Q850Info(
            cause=cause,
            name=table.text("name"),
            meaning=table.text("meaning"),
            sip=table.optional_int("sip"),
            severity=table.severity(),
        )
    w_doc = _Table(warnings, _WARNING_FILE)
    warning_table = {
        code: WarningInfo(
            code=code,
            text=table.text("text"),
            rfc=table.text("rfc"),
            meaning=table.text("meaning"),
            resolution=table.texts("resolution"),
        )
        for code, table in sorted(w_doc.numbered("codes", 300, 399).items())
    }
    return _Knowledge(
        codes=codes,
        classes=classes,
        invalid=_class_entry(_Table(doc._get("invalid"), f"{_RESPONSE_FILE}[invalid]"), 0),
        causes=q850_table,
        warnings=warning_table,
        guide=Guide(diagnosing=advice.texts("diagnosing"), preventing=advice.texts("preventing")),
    )


def _read(name: str) -> object:
    path = resources.files(_PACKAGE) / "data" / name
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise KnowledgeError(f"{name}: cannot load: {e}") from e


@functools.cache
def _knowledge() -> _Knowledge:
    return _build(_read(_RESPONSE_FILE), _read(_Q850_FILE), _read(_WARNING_FILE))


# --------------------------------------------------------------------------- lookups


def lookup(code: int) -> CodeInfo:
    """Explain a SIP status code. Never raises.

    Args:
        code: the status code from a Status-Line.

    Returns:
        The registry entry. For an unregistered code in 100..699, the class fallback with
        ``registered=False`` (499 becomes an "Unknown client error"). For any other number, the
        ``[invalid]`` entry.
    """
    kb = _knowledge()
    known = kb.codes.get(code)
    if known is not None:
        return known
    if 100 <= code <= 699:
        entry = kb.classes[code // 100]
        prefix = f"{code} is not in the IANA registry."
    else:
        entry = kb.invalid
        prefix = f"{code} is not a valid SIP status code."
    return replace(
        entry.info,
        code=code,
        reason=entry.unknown_reason,
        meaning=f"{prefix} {entry.unknown_meaning}",
    )


def class_info(klass: int) -> CodeInfo:
    """The entry for a whole response class, as used for fallbacks.

    Its ``code`` is the class's x00 (400 for class 4), its ``reason`` is the class name, and
    ``registered`` is False so that it is never mistaken for the real 400.

    Raises:
        ValueError: if ``klass`` is not in 1..6. This is a programming error, not wire data.
    """
    entry = _knowledge().classes.get(klass)
    if entry is None:
        raise ValueError(f"SIP response classes are 1..6, not {klass}")
    return entry.info


def all_codes() -> tuple[CodeInfo, ...]:
    """Every registered code, in ascending order."""
    return tuple(_knowledge().codes.values())


def codes_in_class(klass: int) -> tuple[CodeInfo, ...]:
    """The registered codes of one class (empty for a class that does not exist)."""
    return tuple(info for info in all_codes() if info.klass == klass)


def q850(cause: int) -> Q850Info | None:
    """Explain a Q.850 cause value, or None if Q.850 does not define it."""
    return _knowledge().causes.get(cause)


def all_q850() -> tuple[Q850Info, ...]:
    """Every defined Q.850 cause, in ascending order."""
    return tuple(_knowledge().causes.values())


def warning(code: int) -> WarningInfo | None:
    """Explain a Warning code, or None if it is not registered."""
    return _knowledge().warnings.get(code)


def all_warnings() -> tuple[WarningInfo, ...]:
    """Every registered Warning code, in ascending order."""
    return tuple(_knowledge().warnings.values())


def guide() -> Guide:
    """General advice on diagnosing and preventing SIP errors."""
    return _knowledge().guide


def search(words: str) -> tuple[CodeInfo | Q850Info, ...]:
    """Find SIP codes and Q.850 causes by words, for ``sipsniff explain busy``.

    Every word must appear (case-insensitive, as a substring) in the reason or name, meaning,
    causes or resolution. Entries whose reason or name holds all the words come first, then
    those where it holds some. Within a rank, SIP codes come before Q.850 causes, in numeric
    order. So ``search("busy")`` gives 486 and 600, then Q.850 17, then passing mentions.
    """
    needles = words.lower().split()
    if not needles:
        return ()
    ranked: list[tuple[int, int, int, CodeInfo | Q850Info]] = []
    tables: tuple[tuple[CodeInfo | Q850Info, ...], ...] = (all_codes(), all_q850())
    for kind, entries in enumerate(tables):
        for entry in entries:
            if isinstance(entry, CodeInfo):
                title = entry.reason.lower()
                body = " ".join((entry.meaning, *entry.causes, *entry.resolution)).lower()
                number = entry.code
            else:
                title = entry.name.lower()
                body = entry.meaning.lower()
                number = entry.cause
            if not all(n in title or n in body for n in needles):
                continue
            in_title = sum(n in title for n in needles)
            tier = 0 if in_title == len(needles) else 1 if in_title else 2
            ranked.append((tier, kind, number, entry))
    ranked.sort(key=lambda r: r[:3])
    return tuple(r[3] for r in ranked)


# --------------------------------------------------------------------------- wire parsing


def _split_unquoted(value: str, sep: str) -> list[str]:
    """Split on ``sep`` outside quoted-strings (which honour backslash escapes).

    An unterminated quote runs to the end of the value, so a truncated header still splits.
    """
    parts: list[str] = []
    start = 0
    quoted = escaped = False
    for i, ch in enumerate(value):
        if escaped:
            escaped = False
        elif quoted and ch == "\\":
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif ch == sep and not quoted:
            parts.append(value[start:i])
            start = i + 1
    parts.append(value[start:])
    return parts


_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"?', re.DOTALL)
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
# RFC 3261 token characters, which protocol names in a Reason header must use.
_TOKEN = re.compile(r"[A-Za-z0-9.!%*_+`'~-]+")
_DIGITS = re.compile(r"[0-9]+")
_CANONICAL_PROTOCOLS: Final = {"sip": "SIP", "q.850": "Q.850"}


def _unquote(raw: str) -> str:
    raw = raw.strip()
    match = _QUOTED.match(raw)
    if match is None:
        return raw
    return _ESCAPE.sub(r"\1", match.group(1))


def _explain_reason(protocol: str, cause: int | None) -> str:
    if protocol == "Q.850":
        if cause is None:
            return "Q.850 reason without a cause value."
        info = q850(cause)
        if info is None:
            return f"Q.850 cause {cause} is not a value Q.850 defines."
        return f"{info.name}: {info.meaning}"
    if protocol == "SIP":
        if cause is None:
            return "SIP reason without a cause value."
        code = lookup(cause)
        return f"{cause} {code.reason}: {code.meaning}"
    return f"sipsniff has no table for the {protocol!r} reason protocol (it knows SIP and Q.850)."


def _reason_value(part: str) -> ReasonInfo | None:
    protocol, *params = _split_unquoted(part, ";")
    protocol = protocol.strip()
    if not _TOKEN.fullmatch(protocol):
        return None
    protocol = _CANONICAL_PROTOCOLS.get(protocol.lower(), protocol)
    cause: int | None = None
    text: str | None = None
    for param in params:
        name, _, value = param.partition("=")
        name = name.strip().lower()
        value = value.strip()
        if name == "cause" and _DIGITS.fullmatch(value) and len(value) <= _MAX_CAUSE_DIGITS:
            cause = int(value)
        elif name == "text":
            text = _unquote(value)
    return ReasonInfo(
        protocol=protocol, cause=cause, text=text, explanation=_explain_reason(protocol, cause)
    )


def parse_reason(value: str) -> tuple[ReasonInfo, ...]:
    """Decode a Reason header value (RFC 3326), which may hold several comma-separated values.

    ``Q.850;cause=16;text="Normal call clearing", SIP;cause=600`` gives two entries. The
    protocol is matched case-insensitively. A value whose protocol is not a token is skipped.
    A cause that is not a number is read as None. Never raises.
    """
    found = (_reason_value(part) for part in _split_unquoted(value, ","))
    return tuple(info for info in found if info is not None)


# warn-value = warn-code SP warn-agent SP warn-text (RFC 3261 section 20.43). Whitespace is
# read leniently, and so is a warn-text that is missing its quotes.
_WARN_VALUE = re.compile(r"\s*([0-9]{3})\s+([^\s\"]+)(?:\s+(.*?))?\s*", re.DOTALL)


def parse_warning(value: str) -> tuple[WarningHeader, ...]:
    """Decode a Warning header value, such as ``304 host "Media type not available"``.

    Several values may be comma-separated, and commas inside the quoted text are kept. A value
    that does not start with a three-digit code and an agent is skipped. Never raises.
    """
    found: list[WarningHeader] = []
    for part in _split_unquoted(value, ","):
        match = _WARN_VALUE.fullmatch(part)
        if match is None:
            continue
        code = int(match.group(1))
        found.append(
            WarningHeader(
                code=code,
                agent=match.group(2),
                text=_unquote(match.group(3) or ""),
                info=warning(code),
            )
        )
    return tuple(found)


def _delta_seconds(digits: str) -> int:
    if len(digits) > _MAX_DELTA_DIGITS:
        return MAX_DELTA_SECONDS
    return min(int(digits), MAX_DELTA_SECONDS)


# Retry-After = delta-seconds [ comment ] *( SEMI retry-param ). Comments may nest, so the
# regex accepts any text between the first "(" and the last ")".
_RETRY_AFTER = re.compile(r"\s*([0-9]+)\s*(?:\(.*\))?\s*(?:;.*)?", re.DOTALL)
_MIN_EXPIRES = re.compile(r"\s*([0-9]+)\s*")


def parse_retry_after(value: str) -> int | None:
    """Seconds from a Retry-After value such as ``120 (maintenance);duration=3600``.

    The comment and the parameters are ignored. Values above 2**32-1 are clamped to it. Returns
    None if the value does not start with a number. Never raises.
    """
    match = _RETRY_AFTER.fullmatch(value)
    return _delta_seconds(match.group(1)) if match else None


def parse_min_expires(value: str) -> int | None:
    """Seconds from a Min-Expires value (a bare delta-seconds), or None. Never raises."""
    match = _MIN_EXPIRES.fullmatch(value)
    return _delta_seconds(match.group(1)) if match else None
