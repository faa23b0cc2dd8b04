"""Tests for sipsniff/annotate/knowledge.py and the data files it validates.

The data is the product here. These tests check three things: the registry is complete, the
user's guide is carried faithfully, and the wire parsers never raise on garbage.
"""

from __future__ import annotations

import copy
import tomllib
from importlib import resources

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from sipsniff.annotate import knowledge as kb
from sipsniff.annotate.knowledge import (
    CodeInfo,
    KnowledgeError,
    Q850Info,
    Severity,
    all_codes,
    all_q850,
    class_info,
    codes_in_class,
    guide,
    lookup,
    parse_min_expires,
    parse_reason,
    parse_retry_after,
    parse_warning,
    q850,
    search,
    warning,
)

# The IANA "Response Codes" registry, 100..608 (75 codes).
# fmt: off
IANA_CODES = (
    100, 180, 181, 182, 183, 199, 200, 202, 204, 300, 301, 302, 305, 380,
    400, 401, 402, 403, 404, 405, 406, 407, 408, 410, 412, 413, 414, 415, 416, 417,
    420, 421, 422, 423, 424, 425, 428, 429, 430, 433, 436, 437, 438, 439, 440, 469, 470,
    480, 481, 482, 483, 484, 485, 486, 487, 488, 489, 491, 493, 494,
    500, 501, 502, 503, 504, 505, 513, 555, 580, 600, 603, 604, 606, 607, 608,
)
# fmt: on


def _text(info: CodeInfo, *fields: str) -> str:
    """Lower-cased concatenation of the named fields, for substring checks."""
    parts: list[str] = []
    for name in fields:
        value = getattr(info, name)
        parts.extend(value if isinstance(value, tuple) else (value,))
    return " ".join(parts).lower()


# --------------------------------------------------------------------------- registry


def test_every_iana_code_is_present_and_registered() -> None:
    assert len(IANA_CODES) == 75
    assert tuple(i.code for i in all_codes()) == IANA_CODES
    for code in IANA_CODES:
        info = lookup(code)
        assert info.registered, code
        assert info.code == code
        assert info.klass == code // 100


def test_every_entry_is_complete() -> None:
    for info in all_codes():
        assert info.reason and info.meaning, info.code
        assert info.rfc.startswith("RFC "), info.code
        assert info.causes and all(c.strip() for c in info.causes), info.code
        assert info.resolution and all(r.strip() for r in info.resolution), info.code


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (180, "Ringing"),
        (486, "Busy Here"),
        (500, "Server Internal Error"),
        (437, "Unsupported Credential"),
    ],
)
def test_reason_phrases(code: int, reason: str) -> None:
    assert lookup(code).reason == reason


@pytest.mark.parametrize(
    ("codes", "severity"),
    [
        ((100, 180, 183, 200, 302, 401, 407, 486, 487, 600, 603), Severity.INFO),
        ((403, 404, 480, 484, 488, 606), Severity.WARNING),
        ((500, 502, 503, 504), Severity.ERROR),
    ],
)
def test_severities(codes: tuple[int, ...], severity: Severity) -> None:
    for code in codes:
        assert lookup(code).severity is severity, code


def test_retry_flags() -> None:
    assert lookup(503).retry and lookup(480).retry and lookup(486).retry
    assert not lookup(404).retry and not lookup(603).retry


def test_class_names() -> None:
    names = {k: class_info(k).class_name for k in range(1, 7)}
    assert names[4] == "Client Error"
    assert names[5] == "Server Error"
    assert lookup(404).class_name == "Client Error"


def test_codes_in_class() -> None:
    assert [i.code for i in codes_in_class(6)] == [600, 603, 604, 606, 607, 608]
    assert codes_in_class(7) == ()


# --------------------------------------------------------------------------- fallbacks


def test_unregistered_code_falls_back_to_its_class() -> None:
    info = lookup(499)
    assert info.code == 499
    assert info.klass == 4
    assert not info.registered
    assert info.reason == "Unknown client error"
    assert info.severity is Severity.WARNING
    assert "400" in info.meaning  # RFC 3261 8.1.3.2: treat as x00
    assert info.causes and info.resolution


@pytest.mark.parametrize("code", [-1, 0, 42, 99, 700, 999, 10**12])
def test_out_of_range_codes_get_a_generic_entry(code: int) -> None:
    info = lookup(code)
    assert info.code == code
    assert info.klass == 0
    assert not info.registered
    assert info.causes and info.resolution


def test_every_code_in_range_resolves() -> None:
    for code in range(100, 700):
        info = lookup(code)
        assert info.klass == code // 100
        assert info.causes and info.resolution


def test_class_info() -> None:
    info = class_info(4)
    assert info.code == 400
    assert not info.registered
    assert "client" in info.meaning.lower()
    with pytest.raises(ValueError, match=r"1\.\.6"):
        class_info(9)


# --------------------------------------------------------------------------- the user's guide

# For each code in the guide: words that must appear in its causes (and meaning) and in its
# resolution. Each word stands for one fact the guide states.
GUIDE_FACTS: dict[int, tuple[tuple[str, ...], tuple[str, ...]]] = {
    400: (("malformed", "syntax"), ("headers", "formatting", "parameters")),
    401: (
        ("authentication", "credentials", "missing", "incorrect"),
        ("credentials", "device", "pbx"),
    ),
    403: (("understood", "refuse"), ("permission", "blocked", "ip")),
    404: (("address", "user", "resource"), ("sip address", "phone number")),
    408: (("timely", "response"), ("network connectivity", "respond")),
    480: (("unavailable",), ("retry later", "device")),
    500: (("unexpected",), ("logs", "restart")),
    503: (("temporarily", "out of service"), ("health", "resources", "connectivity")),
    504: (("too long",), ("latency", "performance")),
    600: (("busy", "every device"), ("tell the caller", "retry later")),
    603: (("declined",), ("contact the user", "available")),
    606: (("media type", "parameters", "not supported"), ("media settings", "sip client", "pbx")),
}


@pytest.mark.parametrize("code", sorted(GUIDE_FACTS))
def test_guide_codes_carry_the_guides_facts(code: int) -> None:
    cause_words, resolution_words = GUIDE_FACTS[code]
    info = lookup(code)
    causes = _text(info, "meaning", "causes")
    resolution = _text(info, "resolution")
    for word in cause_words:
        assert word in causes, (code, word)
    for word in resolution_words:
        assert word in resolution, (code, word)


def test_guide_codes_are_extended_beyond_the_guide() -> None:
    for code in GUIDE_FACTS:
        info = lookup(code)
        assert len(info.causes) >= 2 or len(info.resolution) >= 3, code
    forbidden = _text(lookup(403), "causes")
    for word in ("disabled", "domain", "realm", "toll", "acl"):
        assert word in forbidden
    timeout = _text(lookup(408), "causes")
    for word in ("transport", "firewall", "dns srv"):
        assert word in timeout


def test_class_descriptions_carry_the_guides_examples() -> None:
    expected = {1: "180 ringing", 2: "200 ok", 3: "302", 4: "404", 5: "503", 6: "603"}
    for klass, example_text in expected.items():
        assert example_text in class_info(klass).meaning.lower(), klass
    assert "progress" in class_info(1).meaning.lower()
    assert "entire system" in class_info(6).meaning.lower()


def test_general_advice() -> None:
    advice = guide()
    diagnosing = " ".join(advice.diagnosing).lower()
    preventing = " ".join(advice.preventing).lower()
    for word in ("wireshark", "trunk", "credentials", "firewall", "nat", "ladder"):
        assert word in diagnosing, word
    for word in ("configur", "firmware", "qos", "alg", "resources", "stability"):
        assert word in preventing, word


# --------------------------------------------------------------------------- Q.850 and Warning


def test_q850_listed_causes() -> None:
    for cause in (16, 17, 18, 19, 21, 27, 31, 34, 38, 41, 47, 88, 102, 127):
        info = q850(cause)
        assert info is not None, cause
        assert info.name and info.meaning
    assert len(all_q850()) >= 60
    assert q850(0) is None and q850(200) is None


@pytest.mark.parametrize(
    ("cause", "sip"),
    [
        (17, 486),
        (18, 408),
        (19, 480),
        (21, 403),
        (27, 502),
        (34, 503),
        (88, 488),
        (102, 504),
        (127, 500),
    ],
)
def test_q850_sip_mapping(cause: int, sip: int) -> None:
    info = q850(cause)
    assert info is not None and info.sip == sip


def test_q850_normal_clearing_has_no_error_mapping() -> None:
    info = q850(16)
    assert info is not None
    assert info.sip is None
    assert info.severity is Severity.INFO


def test_warning_codes() -> None:
    for code in (300, 301, 302, 303, 304, 305, 306, 307, 330, 331, 370, 380, 399):
        info = warning(code)
        assert info is not None, code
        assert info.text and info.meaning and info.resolution
    assert warning(305) is not None and warning(305).text == "Incompatible media format"  # type: ignore[union-attr]
    assert warning(308) is None


# --------------------------------------------------------------------------- Reason header


def test_reason_several_values() -> None:
    value = 'Q.850;cause=16;text="Normal call clearing", SIP;cause=600;text="Busy Everywhere"'
    first, second = parse_reason(value)
    assert (first.protocol, first.cause, first.text) == ("Q.850", 16, "Normal call clearing")
    assert "normal call clearing" in first.explanation.lower()
    assert (second.protocol, second.cause, second.text) == ("SIP", 600, "Busy Everywhere")
    assert "busy everywhere" in second.explanation.lower()


def test_reason_quoted_commas_semicolons_and_escapes() -> None:
    value = r'sip ; cause=200 ; text="Call completed, elsewhere; really \"done\"" ,q.850;cause=17'
    first, second = parse_reason(value)
    assert first.protocol == "SIP"
    assert first.cause == 200
    assert first.text == 'Call completed, elsewhere; really "done"'
    assert second.protocol == "Q.850"
    assert second.cause == 17
    assert second.text is None


def test_reason_unknown_protocol_and_bad_cause() -> None:
    (unknown,) = parse_reason("X.int;cause=5")
    assert unknown.protocol == "X.int"
    assert unknown.cause == 5
    (bad,) = parse_reason("Q.850;cause=abc")
    assert bad.cause is None
    (undefined,) = parse_reason("Q.850;cause=99999")
    assert "not a value" in undefined.explanation


def test_reason_unregistered_sip_cause_uses_fallback() -> None:
    (info,) = parse_reason("SIP;cause=499")
    assert "unknown client error" in info.explanation.lower()


# --------------------------------------------------------------------------- Warning header


def test_warning_header() -> None:
    (one,) = parse_warning('304 sbc.example.net "Media type not available"')
    assert (one.code, one.agent, one.text) == (304, "sbc.example.net", "Media type not available")
    assert one.info is not None and one.info.code == 304


def test_warning_header_several_values_with_commas_in_text() -> None:
    value = '370 [2001:db8::1]:5060 "Too much, really", 399 pbx "Codec list: a, b"'
    first, second = parse_warning(value)
    assert (first.code, first.agent, first.text) == (370, "[2001:db8::1]:5060", "Too much, really")
    assert (second.code, second.text) == (399, "Codec list: a, b")


def test_warning_header_unregistered_code() -> None:
    (one,) = parse_warning('392 proxy "Noisy"')
    assert one.info is None


# --------------------------------------------------------------------------- delta-seconds


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120),
        (" 120 ", 120),
        ("120 (maintenance);duration=3600", 120),
        ("18000;duration=3600", 18000),
        ("30 (nested (comment))", 30),
        ("99999999999999", kb.MAX_DELTA_SECONDS),
        ("9" * 5000, kb.MAX_DELTA_SECONDS),
        ("", None),
        ("soon", None),
        ("-5", None),
        ("１２", None),  # full-width digits are not SIP DIGITs
    ],
)
def test_parse_retry_after(value: str, seconds: int | None) -> None:
    assert parse_retry_after(value) == seconds


@pytest.mark.parametrize(
    ("value", "seconds"), [("60", 60), (" 3600\t", 3600), ("60s", None), ("", None)]
)
def test_parse_min_expires(value: str, seconds: int | None) -> None:
    assert parse_min_expires(value) == seconds


# --------------------------------------------------------------------------- garbage


@pytest.mark.parametrize("value", ["", " ", ",,,", ";;;", '"unterminated', "\x00\x1b[2J", "=;=,="])
def test_garbage_gives_nothing(value: str) -> None:
    assert parse_reason(value) == ()
    assert parse_warning(value) == ()
    assert parse_retry_after(value) is None
    assert parse_min_expires(value) is None


@given(st.text())
@example('Q.850;cause=16;text="unterminated, SIP;cause=')
@example("\\")
@example('"\\')
def test_parsers_never_raise(value: str) -> None:
    for reason in parse_reason(value):
        assert isinstance(reason.explanation, str)
    for warn in parse_warning(value):
        assert 100 <= warn.code <= 999
    for result in (parse_retry_after(value), parse_min_expires(value)):
        assert result is None or 0 <= result <= kb.MAX_DELTA_SECONDS


@given(st.integers())
def test_lookup_never_raises(code: int) -> None:
    assert lookup(code).code == code


# --------------------------------------------------------------------------- search


def test_search_busy_ranks_reason_matches_first() -> None:
    found = search("busy")
    assert [getattr(e, "code", None) for e in found[:2]] == [486, 600]
    assert isinstance(found[2], Q850Info) and found[2].cause == 17


def test_search_all_words_must_match_case_insensitively() -> None:
    found = search("SERVICE unavailable")
    assert isinstance(found[0], CodeInfo) and found[0].code == 503
    for entry in search("codec srtp"):
        text = (
            _text(entry, "reason", "meaning", "causes", "resolution")
            if isinstance(entry, CodeInfo)
            else f"{entry.name} {entry.meaning}".lower()
        )
        assert "codec" in text and "srtp" in text
    assert search("") == ()
    assert search("zzzz-no-such-word") == ()


# --------------------------------------------------------------------------- validation


def _documents() -> tuple[dict[str, object], dict[str, object], dict[str, object]]:
    data = resources.files("sipsniff.annotate") / "data"
    return tuple(  # type: ignore[return-value]
        tomllib.loads((data / name).read_text(encoding="utf-8"))
        for name in ("response_codes.toml", "q850.toml", "warning_codes.toml")
    )


def test_validation_names_file_and_code() -> None:
    responses, causes, warnings = _documents()
    broken = copy.deepcopy(responses)
    del broken["codes"]["486"]["reason"]  # type: ignore[index]
    with pytest.raises(KnowledgeError, match=r"response_codes\.toml\[codes\.486\]: .*'reason'"):
        kb._build(broken, causes, warnings)


@pytest.mark.parametrize(
    ("section", "key", "value", "message"),
    [
        ("codes", "486", {"severity": "fatal"}, "unknown severity"),
        ("codes", "486", {"causes": []}, "non-empty array"),
        ("codes", "486", {"retry": "yes"}, "true or false"),
        ("codes", "999", None, r"100\.\.699"),
    ],
)
def test_validation_rejects_bad_values(
    section: str, key: str, value: dict[str, object] | None, message: str
) -> None:
    responses, causes, warnings = _documents()
    broken = copy.deepcopy(responses)
    table = broken[section]
    assert isinstance(table, dict)
    if value is None:
        table[key] = copy.deepcopy(table["486"])
    else:
        table[key].update(value)
    with pytest.raises(KnowledgeError, match=message):
        kb._build(broken, causes, warnings)


def test_validation_checks_q850_and_warning_files() -> None:
    responses, causes, warnings = _documents()
    broken_causes = copy.deepcopy(causes)
    broken_causes["causes"]["17"]["sip"] = "486"  # type: ignore[index]
    with pytest.raises(KnowledgeError, match=r"q850\.toml\[causes\.17\]: 'sip'"):
        kb._build(responses, broken_causes, warnings)
    broken_warnings = copy.deepcopy(warnings)
    del broken_warnings["codes"]["304"]["text"]  # type: ignore[index]
    with pytest.raises(KnowledgeError, match=r"warning_codes\.toml\[codes\.304\]"):
        kb._build(responses, causes, broken_warnings)


def test_severity_enum() -> None:
    assert str(Severity.WARNING) == "warning"
    assert Severity.parse(" Error ") is Severity.ERROR
    assert Severity.ERROR > Severity.WARNING > Severity.INFO
    with pytest.raises(ValueError, match="info, warning, error"):
        Severity.parse("fatal")
