"""The calls the UI holds, and the view of them the call list shows (filter, toggles, sort, selection).

Strategy: ``CallStore`` is plain Python, with no Textual in it, so every rule
of the call list is tested without a screen.  Calls arrive in batches from
the loader (``add``), in the order the pipeline finished them; at the end the
cross-call annotations replace the calls they concern (``replace``).  The view
is recomputed from the precomputed row facts on each change: one filter pass
and one sort of small tuples, tens of milliseconds for tens of thousands of
calls; a batch of new calls is merged in with the keys already computed.

Rules:
- Selection is by row ``uid`` and survives filtering: a call selected, then
  hidden by a filter, is still saved with the selection (the status line says
  how many selected calls are hidden).
- "Shown" means the filtered, sorted view; saving offers the selection, the
  shown calls or all calls.
- Memory: every loaded call with its messages (what the ladder and the raw
  view need) plus one ``CallRow`` of search facts per call.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ..analysis import AnalyzedCall
from ..dialogs.states import CallKind
from .columns import by_key
from .query import Query, parse_query
from .rows import CallRow

__all__ = ["KINDS", "CallStore"]

KINDS: tuple[str, ...] = ("", *(k.value for k in CallKind))
"""The kind toggle cycles through these ('' is every kind)."""


class CallStore:
    """Loaded calls, the current filter and sort, and the selection."""

    def __init__(self) -> None:
        self.rows: list[CallRow] = []
        """Every call, in load order (``rows[i].uid == i``)."""
        self.view: list[CallRow] = []
        """The calls the list shows, filtered and sorted."""
        self.selected: set[int] = set()
        self.query: Query = parse_query("")
        self.failed_only = False
        self.problems_only = False
        """Only calls with a warning or error annotation."""
        self.kind = ""
        self.sort_key = "start"
        self.reverse = False
        self.version = 0
        """Bumped whenever ``view`` changes (widgets redraw on a new version)."""
        self.content_version = 0
        """Bumped when rows themselves change (``replace``): drawn rows are stale."""
        self._order: list[int] = []
        """The uids of the view in ascending order (``view`` is it, or its reverse)."""
        self._key_cache: dict[str, list[tuple[object, ...]]] = {}
        """Per column, the sort key of each row by uid (rows never change after ``add``)."""

    # -- input ------------------------------------------------------------------
    def add(self, calls: Iterable[AnalyzedCall]) -> list[CallRow]:
        """Append newly finished calls; the view is refreshed."""
        new = [CallRow.of(len(self.rows) + i, ac) for i, ac in enumerate(calls)]
        if not new:
            return new
        self.rows.extend(new)
        keys = self._keys()
        key = keys.__getitem__  # a C-level key: sorting compares precomputed tuples only
        fresh = sorted((r.uid for r in new if self._keep(r)), key=key)
        if fresh:
            order = self._order
            if not order or keys[fresh[0]] >= keys[order[-1]]:
                order.extend(fresh)
            else:  # two sorted runs: timsort merges them in linear time
                self._order = sorted(order + fresh, key=key)
            self._publish()
        return new

    def _publish(self) -> None:
        rows = self.rows
        view = [rows[u] for u in self._order]
        if self.reverse:
            view.reverse()
        self.view = view
        self.version += 1

    def replace(self, calls: Sequence[AnalyzedCall]) -> None:
        """Swap in the final calls (same count and order as loaded, annotations completed)."""
        changed = False
        for i, ac in enumerate(calls[: len(self.rows)]):
            if ac is not self.rows[i].ac:
                self.rows[i] = CallRow.of(i, ac)
                changed = True
        if changed:
            self.content_version += 1
            self._key_cache.clear()  # a column may sort on the annotations
            self.refresh()

    # -- the view ---------------------------------------------------------------
    def _keep(self, r: CallRow) -> bool:
        return bool(
            (not self.failed_only or r.failed)
            and (not self.problems_only or r.problem)
            and (not self.kind or r.kind == self.kind)
            and self.query.matches(r)
        )

    def _keys(self) -> list[tuple[object, ...]]:
        """The sort key of every row (by uid) for the current column, computed once each."""
        keys = self._key_cache.setdefault(self.sort_key, [])
        if len(keys) < len(self.rows):
            col = by_key(self.sort_key).sort
            keys.extend(col(r) for r in self.rows[len(keys) :])
        return keys

    def refresh(self) -> None:
        """Recompute the view from every row."""
        key = self._keys().__getitem__
        if self.filtered:
            fo, po, kind, q = self.failed_only, self.problems_only, self.kind, self.query
            every = q.empty
            self._order = sorted(
                (
                    r.uid
                    for r in self.rows
                    if (not fo or r.failed)
                    and (not po or r.problem)
                    and (not kind or r.kind == kind)
                    and (every or q.matches(r))
                ),
                key=key,
            )
        else:
            self._order = sorted(range(len(self.rows)), key=key)
        self._publish()

    def warm(self, key: str) -> None:
        """Work out a column's sort keys ahead of time (the app does it while idle, so the
        first sort on each column costs only the sort)."""
        saved = self.sort_key
        self.sort_key = key
        try:
            self._keys()
        finally:
            self.sort_key = saved

    def set_query(self, text: str) -> Query:
        """Filter with what the user typed; the parsed query says what it could not use."""
        self.query = parse_query(text)
        self.refresh()
        return self.query

    def toggle_failed(self) -> None:
        self.failed_only = not self.failed_only
        self.refresh()

    def toggle_problems(self) -> None:
        self.problems_only = not self.problems_only
        self.refresh()

    def cycle_kind(self) -> str:
        """Next kind of the toggle (every kind, then each kind in turn)."""
        self.kind = KINDS[(KINDS.index(self.kind) + 1) % len(KINDS)]
        self.refresh()
        return self.kind

    def sort_by(self, key: str, reverse: bool | None = None) -> None:
        """Sort on a column (same column again: flip the order, as a header click does)."""
        by_key(key)  # unknown key: KeyError before anything changes
        if reverse is None:
            reverse = not self.reverse if key == self.sort_key else False
        if key == self.sort_key:
            if reverse != self.reverse:  # the same order backwards
                self.reverse = reverse
                self._publish()
            return
        self.sort_key, self.reverse = key, reverse
        self.refresh()

    # -- selection --------------------------------------------------------------
    def toggle(self, uid: int) -> bool:
        """Select or unselect a call; True when it is now selected."""
        if uid in self.selected:
            self.selected.discard(uid)
            return False
        self.selected.add(uid)
        return True

    def select_shown(self) -> None:
        """Select every shown call (sngrep: select all)."""
        self.selected.update(r.uid for r in self.view)

    def clear_selection(self) -> None:
        self.selected.clear()

    def selected_rows(self) -> list[CallRow]:
        """The selected calls in load order (hidden ones included)."""
        return [self.rows[u] for u in sorted(self.selected) if u < len(self.rows)]

    @property
    def filtered(self) -> bool:
        return bool(not self.query.empty or self.failed_only or self.problems_only or self.kind)

    def index_of(self, uid: int) -> int | None:
        """Position of a call in the view (None when filtered out)."""
        try:
            at = self._order.index(uid)  # a scan in C: well under a millisecond
        except ValueError:
            return None
        return len(self._order) - 1 - at if self.reverse else at
