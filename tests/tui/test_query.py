"""The filter bar's language: bare words, fields, negation, quotes, and the same answers as --user,
--method, --status, --rule and --call-id."""

from __future__ import annotations

import pytest
from helpers import CAPTURES

from sipsniff.filters import CallFilter
from sipsniff.pipeline import analyze
from sipsniff.tui.query import FIELDS, parse_query
from sipsniff.tui.rows import CallRow


@pytest.fixture(scope="module")
def rows() -> list[CallRow]:
    paths = sorted(CAPTURES.glob("*.pcap"))
    out: list[CallRow] = []
    for p in paths:
        for ac in analyze([p]).calls:
            out.append(CallRow.of(len(out), ac))
    return out


def ids(rows: list[CallRow], text: str) -> set[str]:
    q = parse_query(text)
    return {r.call.call_id for r in rows if q.matches(r)}


def test_empty_query_matches_everything(rows: list[CallRow]) -> None:
    q = parse_query("   ")
    assert q.empty and all(q.matches(r) for r in rows)


def test_bare_words_look_everywhere(rows: list[CallRow]) -> None:
    assert ids(rows, "demo-busy") == {"demo-busy-1@127.0.0.22"}  # Call-ID
    assert "demo-busy-1@127.0.0.22" in ids(rows, "127.0.0.22:5061")  # ip:port
    assert ids(rows, "MALLORY") >= {"hostile-call-1@127.0.0.1"}  # a user, any case
    assert ids(rows, "callee-busy") == ids(rows, "rule:callee-busy")  # a rule id
    assert ids(rows, "registration") == ids(rows, "kind:registration")
    assert ids(rows, "6xx") == {"decline-1@127.0.0.1", "busyall-1@127.0.0.1"}  # a class
    assert ids(rows, "603") == {"decline-1@127.0.0.1"}


def test_several_words_must_all_match(rows: list[CallRow]) -> None:
    assert ids(rows, "127.0.0.22 503") == {"demo-503-1@127.0.0.22"}
    assert ids(rows, "-ok-1 ok-1") == set()
    assert "ok-1@127.0.0.1" not in ids(rows, "call -ok-1")


def test_fields(rows: list[CallRow]) -> None:
    assert ids(rows, "ip:127.0.0.22") == {"demo-busy-1@127.0.0.22", "demo-503-1@127.0.0.22"}
    assert ids(rows, "ip:127.0.0.2") == set()  # exact: not a prefix of .22
    assert ids(rows, "ip:127.0.0.20/30") == ids(rows, "ip:127.0.0.21") | ids(
        rows, "ip:127.0.0.22"
    ) | ids(rows, "ip:127.0.0.23")
    assert ids(rows, "ip:127.0.0.3:5061") == {"hops-1@127.0.0.3", "loop-1@127.0.0.3"}
    assert ids(rows, "method:cancel") == {"cancel-1@127.0.0.1", "demo-cancel-1@127.0.0.23"}
    assert ids(rows, "code:487") == ids(rows, "method:cancel")
    assert ids(rows, "sev:error") == {r.call.call_id for r in rows if r.worst == 2}
    assert ids(rows, "state:timed") == {
        r.call.call_id for r in rows if r.call.state.value == "timed-out"
    }
    assert ids(rows, "rule:reg*") == ids(rows, "rule:registration-interval") | ids(
        rows, "rule:registration-failed"
    )
    assert ids(rows, "from:mallory") and not ids(rows, "to:mallory")
    assert ids(rows, "text:EvilPBX") == {"hostile-call-1@127.0.0.1"}
    assert ids(rows, '"text:Busy Here"') >= {"busy-1@127.0.0.1"}


def test_words_with_colons_that_are_not_fields(rows: list[CallRow]) -> None:
    q = parse_query("sip:alice@127.0.0.21 2001:db8::1")
    assert [t.field for t in q.terms] == ["", ""] and not q.problems
    assert ids(rows, "sip:alice@127.0.0.21") == {
        "demo-call-1@127.0.0.21",
        "demo-call-2@127.0.0.21",
        "demo-call-3@127.0.0.21",
    }


def test_bad_values_are_reported_and_match_nothing(rows: list[CallRow]) -> None:
    for text in ("sev:loud", "code:48", "ip:10.0.0.0/99", "code:"):
        q = parse_query(text)
        assert q.problems, text
        assert not any(q.matches(r) for r in rows)


def test_unbalanced_quote_does_not_fail() -> None:
    q = parse_query('"busy here')
    assert [t.value for t in q.terms] == ["busy", "here"]


@pytest.mark.parametrize(
    ("words", "flt"),
    [
        ("user:alice", CallFilter(users=("alice",))),
        ("user:bob", CallFilter(users=("bob",))),
        ("method:OPTIONS", CallFilter(methods=("OPTIONS",))),
        ("method:ack", CallFilter(methods=("ack",))),
        ("code:4xx", CallFilter(statuses=("4xx",))),
        ("code:200", CallFilter(statuses=("200",))),
        ("rule:auth-rejected", CallFilter(rules=("auth-rejected",))),
        ("id:demo-call", CallFilter(call_ids=("demo-call",))),
    ],
)
def test_same_calls_as_the_command_line_filters(
    rows: list[CallRow], words: str, flt: CallFilter
) -> None:
    """The fields mean what --user, --method, --status, --rule and --call-id mean (user: also
    looks at the URIs, so the cases here are ones where --user finds the call too)."""
    want = {r.uid for r in rows if flt.matches(r.ac)}
    q = parse_query(words)
    assert want and {r.uid for r in rows if q.matches(r)} == want


def test_every_field_alias_parses() -> None:
    value = {"code": "486", "sev": "info", "ip": "10.0.0.1"}
    for name, field in FIELDS.items():
        q = parse_query(f"{name}:{value.get(field, 'x')}")
        assert q.terms[0].field == field and not q.problems, name
