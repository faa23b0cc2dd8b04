"""One call as the call list holds it: the analysed call plus the facts a filter and a sort need.

Strategy: every fact the filter bar matches on or a column sorts by is worked
out once, when the call arrives from the loader (``CallRow.of``), so typing in
the filter bar or re-sorting 50,000 calls is a pass over small precomputed
fields, never a walk through messages.  The one exception is ``text:``, a
search in the raw messages, which is asked for explicitly.

Rules:
- The record is frozen: the loader's thread builds it, the UI thread reads it.
- Search fields are lower case; wire text stays raw here (escaping happens
  where it is drawn, through ``render.safe``).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..analysis import AnalyzedCall
from ..decode.payload import Endpoint
from ..dialogs.call import Call

__all__ = ["CallRow"]


@dataclass(frozen=True, slots=True, kw_only=True)
class CallRow:
    """A call of the list, with its precomputed search and sort facts."""

    uid: int
    """Position in load order: unique, unlike a Call-ID (one Call-ID can be published twice)."""
    ac: AnalyzedCall
    from_text: str
    """From user, display name and URI, lower case, newline-separated."""
    to_text: str
    """To user, Request-URI user and To URI, lower case."""
    ips: frozenset[str]
    """Every IP address a message of the call came from or went to."""
    endpoints: frozenset[str]
    """The same as ``ip:port`` (``[v6]:port``)."""
    methods: frozenset[str]
    codes: frozenset[int]
    """Every response code of the call, and its final status."""
    rules: frozenset[str]
    haystack: str
    """What a bare word of the filter bar is looked for in (lower case)."""
    severity_counts: tuple[int, int, int]
    """Annotations by severity: info, warning, error."""
    failed: bool
    """``Call.failed``, kept as a field: the quick toggles test it on every row."""
    problem: bool
    """A warning or error annotation (``has_problem``)."""
    kind: str

    @property
    def call(self) -> Call:
        return self.ac.call

    @property
    def worst(self) -> int:
        """Highest annotation severity as an int, -1 when there is none (a sort key)."""
        w = self.ac.worst
        return -1 if w is None else int(w)

    @classmethod
    def of(cls, uid: int, ac: AnalyzedCall) -> CallRow:
        """Work out the facts of one analysed call."""
        c = ac.call
        pairs: set[tuple[Endpoint, Endpoint]] = set()
        methods: set[str] = set()
        codes: set[int] = {c.final_status} if c.final_status else set()
        for m in c.messages:
            pairs.add((m.src, m.dst))
            if m.status:
                codes.add(m.status)
            else:
                methods.add(m.method)
        seen = {e for pair in pairs for e in pair}  # a handful per call: format each once
        ips = {e.ip for e in seen}
        endpoints = {str(e) for e in seen}
        methods = {x.upper() for x in methods}
        rules = frozenset(a.rule for a in ac.annotations)
        counts = [0, 0, 0]
        for a in ac.annotations:
            counts[int(a.severity)] += 1
        from_text = "\n".join((c.from_user, c.from_display, c.from_uri)).lower()
        to_text = "\n".join((c.to_user, c.request_user, c.to_uri)).lower()
        haystack = "\n".join(
            (
                from_text,
                to_text,
                c.call_id.lower(),
                " ".join(sorted(endpoints)),
                " ".join(sorted(methods)).lower(),
                " ".join(str(x) for x in sorted(codes)),
                " ".join(sorted(rules)),
                c.state.value,
                c.kind.value,
            )
        )
        return cls(
            uid=uid,
            ac=ac,
            from_text=from_text,
            to_text=to_text,
            ips=frozenset(ips),
            endpoints=frozenset(endpoints),
            methods=frozenset(methods),
            codes=frozenset(codes),
            rules=rules,
            haystack=haystack,
            severity_counts=(counts[0], counts[1], counts[2]),
            failed=c.failed,
            problem=bool(counts[1] or counts[2]),
            kind=c.kind.value,
        )

    def has_problem(self) -> bool:
        """Does the call carry a warning or an error annotation?"""
        return self.problem
