"""The filter bar's language: words that select calls (sngrep's display filter, plus diagnoses).

Grammar::

    query = term *( SP term )          every term must hold
    term  = [ "-" ] [ field ":" ] value    "-" keeps the calls the term does NOT match
    value = word / DQUOTE phrase DQUOTE

A bare word is looked for (case-insensitive substring) in the From and To
users, display names and URIs, the Call-ID, the ``ip:port`` of every message,
the request methods, the response codes, the rule ids of the annotations, the
state and the kind; a bare ``4xx`` stands for any response of that class.
With a field, the word is matched against that fact only:

==============  =====================================================================
field           matches
==============  =====================================================================
user            From, To or Request-URI user, display name or URI (numbers are users)
from, to        the From side, the To side (To and Request-URI)
ip              an address (exact), ``ip:port``, a CIDR prefix (``10.0.0.0/8``)
id, callid      the Call-ID (substring, as ``--call-id``)
method          a request method of the call (exact, as ``--method``)
code, status    a response of the call or its final status: ``486`` or ``4xx``
                (as ``--status``)
rule            an annotation's rule id (exact, or a prefix ending ``*``)
sev, severity   an annotation at least that severe (``warning``, ``error``)
state, kind     the call's state (``rejected``) or kind (``registration``), prefix
text            the raw text of any message (slow on a big capture: asked for)
==============  =====================================================================

A word whose prefix before ``:`` is not a field (``sip:alice@x``, ``2001:db8::1``)
is a bare word.  Parsing never fails: a bad value (``sev:loud``, ``ip:10.0.0.0/99``)
is reported in ``Query.problems`` and matches nothing.
"""

from __future__ import annotations

import ipaddress
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass

from ..annotate.knowledge import Severity
from .rows import CallRow

__all__ = ["FIELDS", "Query", "Term", "parse_query"]

FIELDS: dict[str, str] = {
    "user": "user",
    "from": "from",
    "to": "to",
    "ip": "ip",
    "id": "id",
    "callid": "id",
    "call-id": "id",
    "method": "method",
    "code": "code",
    "status": "code",
    "rule": "rule",
    "sev": "sev",
    "severity": "sev",
    "state": "state",
    "kind": "kind",
    "text": "text",
}
"""Field names (and aliases) of the filter bar -> the canonical field."""
_CLASS = re.compile(r"[1-6]xx")


@dataclass(frozen=True, slots=True, kw_only=True)
class Term:
    """One word of the query and how it matches a row."""

    text: str
    """As typed (for the status line)."""
    field: str
    """Canonical field, '' for a bare word."""
    value: str
    negate: bool
    test: Callable[[CallRow], bool]

    def matches(self, row: CallRow) -> bool:
        return self.test(row) != self.negate


@dataclass(frozen=True, slots=True, kw_only=True)
class Query:
    """A parsed filter: every term must hold."""

    text: str
    terms: tuple[Term, ...]
    problems: tuple[str, ...] = ()

    def matches(self, row: CallRow) -> bool:
        return all(t.matches(row) for t in self.terms)

    @property
    def empty(self) -> bool:
        return not self.terms


def _code_test(value: str) -> Callable[[CallRow], bool] | None:
    v = value.lower()
    if v.isdigit() and len(v) == 3:
        code = int(v)
        return lambda r: code in r.codes
    if _CLASS.fullmatch(v):
        klass = int(v[0])
        return lambda r: any(c // 100 == klass for c in r.codes)
    return None


def _ip_test(value: str) -> Callable[[CallRow], bool] | None:
    v = value.strip("[]") if value.count("[") == 1 and value.endswith("]") else value
    if "/" in v:
        try:
            net = ipaddress.ip_network(v, strict=False)
        except ValueError:
            return None

        def in_net(r: CallRow) -> bool:
            for ip in r.ips:
                try:
                    if ipaddress.ip_address(ip) in net:
                        return True
                except ValueError:
                    continue
            return False

        return in_net
    return lambda r: v in r.ips or v in r.endpoints


def _term(text: str) -> tuple[Term | None, str]:
    """One term, or (None, why) when its value cannot match anything."""
    negate = text.startswith("-") and len(text) > 1
    body = text[1:] if negate else text
    name, sep, rest = body.partition(":")
    field = FIELDS.get(name.lower(), "") if sep else ""
    value = rest if field else body
    low = value.lower()
    test: Callable[[CallRow], bool] | None
    if not value:
        return None, f"{text!r}: nothing after the colon"
    if field == "":
        cls = _code_test(low) if _CLASS.fullmatch(low) else None
        test = cls or (lambda r: low in r.haystack)
    elif field == "user":
        test = lambda r: low in r.from_text or low in r.to_text  # noqa: E731
    elif field == "from":
        test = lambda r: low in r.from_text  # noqa: E731
    elif field == "to":
        test = lambda r: low in r.to_text  # noqa: E731
    elif field == "ip":
        test = _ip_test(value)
        if test is None:
            return None, f"{text!r}: not an address or prefix"
    elif field == "id":
        test = lambda r: low in r.call.call_id.lower()  # noqa: E731
    elif field == "method":
        up = value.upper()
        test = lambda r: up in r.methods  # noqa: E731
    elif field == "code":
        test = _code_test(value)
        if test is None:
            return None, f"{text!r}: use a code like 486 or a class like 4xx"
    elif field == "rule":
        if low.endswith("*"):
            stem = low[:-1]
            test = lambda r: any(x.startswith(stem) for x in r.rules)  # noqa: E731
        else:
            test = lambda r: low in r.rules  # noqa: E731
    elif field == "sev":
        try:
            floor = int(Severity.parse(value))
        except ValueError:
            return None, f"{text!r}: severity is info, warning or error"
        test = lambda r: r.worst >= floor  # noqa: E731
    elif field == "state":
        test = lambda r: r.call.state.value.startswith(low)  # noqa: E731
    elif field == "kind":
        test = lambda r: r.call.kind.value.startswith(low)  # noqa: E731
    else:  # text
        needle = low.encode("utf-8", "surrogateescape")
        test = lambda r: any(needle in m.raw.lower() for m in r.call.messages)  # noqa: E731
    return Term(text=text, field=field, value=value, negate=negate, test=test), ""


def _never(_r: CallRow) -> bool:
    return False


def _split(text: str) -> list[str]:
    """Words, honouring double quotes; an unbalanced quote splits on spaces instead."""
    try:
        lex = shlex.shlex(text, posix=True)
        lex.whitespace_split = True
        lex.quotes = '"'
        lex.escape = ""
        lex.commenters = ""
        return list(lex)
    except ValueError:
        return text.replace('"', " ").split()


def parse_query(text: str) -> Query:
    """Parse what the user typed in the filter bar (never raises)."""
    terms: list[Term] = []
    problems: list[str] = []
    for word in _split(text):
        term, why = _term(word)
        if term is None:
            problems.append(why)
            term = Term(text=word, field="", value=word, negate=False, test=_never)
        terms.append(term)
    return Query(text=text.strip(), terms=tuple(terms), problems=tuple(problems))
