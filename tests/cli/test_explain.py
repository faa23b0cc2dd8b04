"""``sipsniff explain`` and ``sipsniff codes``: knowledge-base entries, searches, listings."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from sipsniff.annotate.knowledge import all_codes, all_q850, codes_in_class
from sipsniff.cli import main


def run(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, list(args))
    return r.exit_code, r.stdout, r.stderr


def test_explain_a_code() -> None:
    code, out, _ = run("explain", "488")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "488 Not Acceptable Here"
    assert lines[1] == "  4xx Client Error · RFC 3261 · severity warning"
    assert "Meaning" in lines and "Likely causes" in lines and "What to do" in lines
    assert "  1. Compare the codecs in the SDP offer" in out
    assert "Q.850 causes usually sent as 488" in out and "Incompatible destination" in out


def test_piped_output_is_plain() -> None:
    for args in (("explain", "488"), ("explain", "busy"), ("codes",), ("codes", "--q850")):
        code, out, _ = run(*args)
        assert code == 0
        assert "\x1b[" not in out, args
        assert all(line == line.rstrip() for line in out.splitlines()), args


def test_explain_search_shows_title_matches_in_full_then_a_list() -> None:
    code, out, _ = run("explain", "busy")
    assert code == 0
    assert out.startswith("486 Busy Here\n")
    assert "\n600 Busy Everywhere\n" in out
    assert "\nQ.850 cause 17 User busy\n" in out
    assert "Also mentioning 'busy'" in out


def test_explain_q850_warning_class_and_reason_header() -> None:
    code, out, _ = run("explain", "q850:34")
    assert code == 0 and out.startswith("Q.850 cause 34 No circuit/channel available\n")
    assert "503 Service Unavailable (see: sipsniff explain 503)" in out
    code, out, _ = run("explain", "warning:304")
    assert code == 0 and out.startswith("Warning 304 Media type not available\n")
    code, out, _ = run("explain", "4xx")
    assert code == 0 and out.startswith("4xx Client Error\n") and "\n486   Busy Here" in out
    code, out, _ = run("explain", 'Q.850;cause=16;text="Normal call clearing"')
    assert code == 0 and out.startswith("Reason Q.850 cause 16\n")
    assert 'text="Normal call clearing" (the sender\'s words)' in out


def test_unregistered_and_invalid_codes_fall_back() -> None:
    code, out, _ = run("explain", "499")
    assert code == 0 and out.startswith("499 Unknown client error\n")
    assert "not in the IANA registry" in out
    code, out, _ = run("explain", "999")
    assert code == 0 and "not a valid status code" in out


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("xyzzy", "no SIP code or Q.850 cause matches 'xyzzy'"),
        ("q850:200", "Q.850 defines no cause 200"),
        ("warning:299", "299 is not a registered Warning code"),
    ],
)
def test_nothing_found_exits_1(query: str, message: str) -> None:
    code, out, err = run("explain", query)
    assert (code, out) == (1, "")
    assert message in err


def test_wire_text_is_never_interpreted() -> None:
    code, out, err = run("explain", "[bold red]\x1b[2J<script>")
    assert code == 1
    assert "\x1b" not in err and "\\x1b[2J" in err
    code, out, _ = run("explain", 'Q.850;cause=16;text="[red]\x1b[31mhi"')
    assert code == 0 and "\x1b" not in out and "[red]" in out


def test_codes_lists_every_registered_code() -> None:
    code, out, _ = run("codes")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["code", "reason", "class", "severity", "RFC"]
    assert len(lines) == 1 + len(all_codes())
    assert any(line.startswith("486   Busy Here") for line in lines)


def test_codes_by_class_q850_and_warnings() -> None:
    for klass in ("4xx", "4XX", "4"):
        code, out, _ = run("codes", "--class", klass)
        assert code == 0 and len(out.splitlines()) == 1 + len(codes_in_class(4))
    code, out, _ = run("codes", "--q850")
    assert code == 0 and len(out.splitlines()) == 1 + len(all_q850())
    code, out, _ = run("codes", "--warnings")
    assert code == 0 and "304   Media type not available" in out


def test_codes_rejects_a_bad_class_and_mixed_options() -> None:
    code, _, err = run("codes", "--class", "7xx")
    assert code == 2 and "use a class such as 4xx" in err
    code, _, err = run("codes", "--class", "4xx", "--q850")
    assert code == 2 and "only one of" in err


def test_help_has_examples() -> None:
    for cmd in ("explain", "codes"):
        code, out, _ = run(cmd, "--help")
        assert code == 0 and "Examples:" in out and f"sipsniff {cmd} " in out
