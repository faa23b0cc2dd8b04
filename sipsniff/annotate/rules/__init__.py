"""Rule plugins: the Protocol, the registry, and the runner.

Each rule lives in its own module in this package and exposes a module-level
singleton registered with :func:`register`.  A rule that raises never costs
the report: the runner turns the exception into a ``rule-failed`` Diagnostic.

Rules that need to see several calls (``server-unavailable`` across calls,
say) implement ``check_many`` too; the runner calls it once at the end.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol, runtime_checkable

from ...diagnostics import Diagnostic, Stage, Trigger
from ...dialogs.call import Call
from ..annotation import Annotation
from ._claims import claims
from ._facts import CallFacts, facts_of

__all__ = [
    "ManyCallRule",
    "Rule",
    "all_rules",
    "many_rules",
    "register",
    "register_many",
    "rule_ids",
    "run_many",
    "run_rules",
]


@runtime_checkable
class Rule(Protocol):
    """A diagnosis over one call.

    A rule that only ever explains the error responses claimed for it
    (``_claims``) may set a class attribute ``claimed_only = True``: the runner
    then skips it on the many calls with no error response at all.  A rule may
    also define ``applies(facts: CallFacts, errors: bool) -> bool``, a necessary
    condition of its firing (``_facts``): the runner skips it when false.
    """

    id: str
    description: str

    def check(self, call: Call) -> Iterable[Annotation]: ...


@runtime_checkable
class ManyCallRule(Protocol):
    """A diagnosis that needs several calls (fed every finished call, asked at the end)."""

    id: str
    description: str

    def observe(self, call: Call) -> None: ...

    def merge(self, other: Any) -> None:
        """Take in what the same rule observed in another shard of a parallel analysis
        (another set of Call-IDs, see ``shards``); ``other`` has the same type."""
        ...

    def finish(self) -> Iterable[tuple[str, Annotation]]:
        """Return ``(call_id, annotation)`` pairs."""
        ...


_REGISTRY: dict[str, Rule] = {}
_MANY: dict[str, Callable[[], ManyCallRule]] = {}
_loaded = False


def register(rule: Rule) -> Rule:
    """Add a single-call rule to the registry (module import time)."""
    _REGISTRY[rule.id] = rule
    return rule


def register_many(factory: Callable[[], ManyCallRule], rule_id: str) -> None:
    """Add a cross-call rule factory (a fresh instance per analysis)."""
    _MANY[rule_id] = factory


def _load() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")


def all_rules() -> list[Rule]:
    """Every single-call rule, in id order."""
    _load()
    return [_REGISTRY[k] for k in sorted(_REGISTRY)]


def many_rules() -> list[ManyCallRule]:
    """Fresh instances of every cross-call rule."""
    _load()
    return [_MANY[k]() for k in sorted(_MANY)]


def rule_ids() -> list[str]:
    """Every known rule id, single- and cross-call."""
    _load()
    return sorted({*_REGISTRY, *_MANY})


def run_rules(
    call: Call, rules: Sequence[Rule], report: Callable[[Diagnostic], None]
) -> list[Annotation]:
    """Run each rule on a call; a failing rule becomes a diagnostic, never an exception."""
    out: list[Annotation] = []
    errors: bool | None = None
    facts: CallFacts | None = None
    for rule in rules:
        if getattr(rule, "claimed_only", False):
            if errors is None:
                errors = bool(claims(call))
            if not errors:
                continue
        applies = getattr(rule, "applies", None)
        if applies is not None:
            if facts is None:
                facts = facts_of(call)
            if errors is None:
                errors = bool(claims(call))
            if not applies(facts, errors):
                continue
        try:
            out.extend(rule.check(call))
        except Exception as exc:  # noqa: BLE001 - a plugin must never cost the report
            report(
                Diagnostic(
                    frame=call.messages[0].frame if call.messages else 0,
                    stage=Stage.ANNOTATE,
                    trigger=Trigger.RULE_FAILED,
                    detail=f"rule {rule.id} failed on Call-ID {call.call_id[:60]!r}: "
                    f"{type(exc).__name__}: {exc}",
                )
            )
    return out


def run_many(
    rules: Sequence[ManyCallRule], report: Callable[[Diagnostic], None]
) -> list[tuple[str, Annotation]]:
    """Collect the cross-call annotations at the end of an analysis."""
    out: list[tuple[str, Annotation]] = []
    for rule in rules:
        try:
            out.extend(rule.finish())
        except Exception as exc:  # noqa: BLE001
            report(
                Diagnostic(
                    frame=0,
                    stage=Stage.ANNOTATE,
                    trigger=Trigger.RULE_FAILED,
                    detail=f"rule {rule.id} failed: {type(exc).__name__}: {exc}",
                )
            )
    return out
