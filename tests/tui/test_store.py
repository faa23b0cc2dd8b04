"""CallStore: batches, filter and toggles, sort, selection, the final replacement."""

from __future__ import annotations

import dataclasses

from helpers import capture

from sipsniff.analysis import AnalyzedCall
from sipsniff.pipeline import analyze
from sipsniff.tui.store import KINDS, CallStore


def demo() -> list[AnalyzedCall]:
    return list(analyze([capture("demo.pcap")]).calls)


def ids(st: CallStore) -> list[str]:
    return [r.call.call_id.split("@")[0] for r in st.view]


def test_batches_keep_the_sort_order() -> None:
    calls = demo()
    st = CallStore()
    st.add(calls[4:])
    st.add(calls[:4])  # an earlier batch arriving late is merged in order
    assert [r.uid for r in st.rows] == list(range(8))
    assert ids(st) == [
        c.call.call_id.split("@")[0] for c in sorted(calls, key=lambda c: c.call.start_ns)
    ]
    st.sort_by("start", reverse=True)
    v = st.version
    st.add([])
    assert st.version == v


def test_filter_toggles_and_kind_cycle() -> None:
    st = CallStore()
    st.add(demo())
    st.set_query("alice")
    assert len(st.view) == 7 and st.filtered
    st.toggle_failed()
    assert ids(st) == ["demo-busy-1", "demo-cancel-1", "demo-503-1"]
    st.toggle_problems()
    assert ids(st) == ["demo-503-1"]
    st.toggle_failed(), st.toggle_problems(), st.set_query("")
    assert not st.filtered and len(st.view) == 8
    seen = [st.cycle_kind() for _ in KINDS]
    assert seen[-1] == "" and seen[0] == "call"
    st.kind = "registration"
    st.refresh()
    assert ids(st) == ["demo-reg-1"]


def test_sort_by_column_and_flip() -> None:
    st = CallStore()
    st.add(demo())
    st.sort_by("code")
    codes = [r.call.final_status for r in st.view]
    assert codes == sorted(codes)
    st.sort_by("code")  # same column again: descending
    assert st.reverse and [r.call.final_status for r in st.view] == sorted(codes, reverse=True)
    st.sort_by("notes", reverse=True)
    assert ids(st)[0] == "demo-503-1"
    try:
        st.sort_by("nope")
    except KeyError:
        pass
    else:
        raise AssertionError("unknown column accepted")
    assert st.sort_key == "notes"


def test_selection_survives_filters() -> None:
    st = CallStore()
    st.add(demo())
    assert st.toggle(5) and not st.toggle(5) and st.toggle(5)
    st.set_query("demo-503")
    st.select_shown()
    assert [r.call.call_id.split("@")[0] for r in st.selected_rows()] == [
        "demo-busy-1",
        "demo-503-1",
    ]
    assert st.index_of(5) is None and st.index_of(7) == 0
    st.clear_selection()
    assert st.selected_rows() == []


def test_replace_takes_the_final_annotations() -> None:
    calls = demo()
    st = CallStore()
    st.add(calls)
    st.set_query("rule:late-rule")
    assert st.view == []
    extra = dataclasses.replace(
        calls[0].annotations[0] if calls[0].annotations else calls[5].annotations[0],
        rule="late-rule",
    )
    final = list(calls)
    final[2] = AnalyzedCall(call=calls[2].call, annotations=(extra,))
    st.replace(final)
    assert [r.uid for r in st.view] == [2] and st.rows[2].ac is final[2]
