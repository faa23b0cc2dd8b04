"""``sipsniff flow`` end to end: ladders, filters, --ascii, --width, --merge, bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from factories import ipv4_udp_frame, make_invite, make_response, sip_bytes, write_pcap
from helpers import capture
from rich.cells import cell_len

from sipsniff.cli import main
from sipsniff.decode.payload import Endpoint


def run(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, list(args))
    return r.exit_code, r.stdout, r.stderr


def test_draws_the_ladder_of_a_call() -> None:
    code, out, _ = run("flow", str(capture("call_ok.pcap")))
    assert code == 0
    assert out.startswith("Call ok-1@127.0.0.1")
    for label in ("INVITE", "100 Trying", "180 Ringing", "200 OK", "ACK", "BYE"):
        assert label in out
    assert "┌" in out and "▶" in out
    assert "\x1b" not in out  # not a terminal: no colour


def test_ascii_and_width() -> None:
    code, out, _ = run("flow", "--ascii", "--width", "60", str(capture("call_cancel.pcap")))
    assert code == 0
    assert out.isascii()
    assert "487 Request Terminated" in out
    assert max(cell_len(ln) for ln in out.splitlines()) <= 60


def test_width_is_validated() -> None:
    code, _, err = run("flow", "--width", "10", str(capture("call_ok.pcap")))
    assert code == 2 and "--width" in err


def test_filters_select_calls() -> None:
    path = str(capture("call_codec_mismatch.pcap"))
    code, out, _ = run("flow", path)
    assert code == 0 and out.count("\nCall ") + out.startswith("Call ") == 2
    code, out, _ = run("flow", "--failed", path)
    assert code == 0
    assert "codec488-1" in out and "codecpcma-1" not in out
    code, out, _ = run("flow", "--call-id", "codecpcma", path)
    assert "codecpcma-1" in out and "codec488-1" not in out


def test_no_match_says_so() -> None:
    code, out, err = run("flow", "--call-id", "nope", str(capture("call_ok.pcap")))
    assert code == 1 and out == ""
    assert "no call matches the filters (1 call in the capture)" in err


def test_limit() -> None:
    code, out, err = run("flow", "--limit", "1", str(capture("server_unavailable.pcap")))
    assert code == 0
    assert out.count("Call overload-") == 1
    assert "drew 1 of 3 ladders" in err


def test_missing_file_is_a_usage_error() -> None:
    code, _, err = run("flow", "/nonexistent/capture.pcap")
    assert code == 2 and "error" in err


def test_help_has_examples() -> None:
    code, out, _ = run("flow", "--help")
    assert code == 0
    assert "Examples:" in out and "sipsniff flow capture.pcap --call-id" in out
    assert "--merge" in out and "--ascii" in out


def test_hostile_capture_is_inert() -> None:
    code, out, _ = run("flow", "--width", "100", str(capture("hostile.pcap")))
    assert code == 0
    assert "\x1b" not in out and "\x00" not in out
    assert "[bold red]HACK[/bold red]" in out
    assert max(cell_len(ln) for ln in out.splitlines()) <= 100


def test_analyze_flow_uses_the_ladder() -> None:
    code, out, _ = run("analyze", "--flow", "--ascii", str(capture("call_busy.pcap")))
    assert code == 0
    assert "Call busy-1@127.0.0.1 | call rejected 486" in out
    assert "|<" in out and "486 Busy Here" in out


# -- --merge ----------------------------------------------------------------------------

CALLER = Endpoint("10.0.0.1", 5060)
B2BUA = Endpoint("10.0.0.2", 5060)
CALLEE = Endpoint("10.0.0.3", 5060)


def b2bua_capture(path: Path) -> Path:
    """Leg A caller -> B2BUA, leg B B2BUA -> callee (new Call-ID, X-CID naming leg A)."""
    a = {"call_id": "leg-a@10.0.0.1", "from_tag": "caller-tag"}
    b = {"call_id": "leg-b@10.0.0.2", "from_tag": "b2bua-tag", "branch": "z9hG4bK-b"}
    frames = [
        (make_invite(**a), CALLER, B2BUA),
        (make_response(100, "Trying", to_tag="", **a), B2BUA, CALLER),
        (make_invite(extra=["X-CID: leg-a@10.0.0.1"], **b), B2BUA, CALLEE),
        (make_response(486, "Busy Here", **b), CALLEE, B2BUA),
        (sip_bytes("ACK sip:bob@10.0.0.3 SIP/2.0", cseq="1 ACK", to_tag="tt1", **b), B2BUA, CALLEE),
        (make_response(486, "Busy Here", **a), B2BUA, CALLER),
        (sip_bytes("ACK sip:bob@10.0.0.2 SIP/2.0", cseq="1 ACK", to_tag="tt1", **a), CALLER, B2BUA),
        # an unrelated call from another caller
        (make_invite(call_id="other@10.0.0.9", from_tag="o"), Endpoint("10.0.0.9", 5060), B2BUA),
    ]
    return write_pcap(path, [ipv4_udp_frame(data, s, d) for data, s, d in frames])


@pytest.fixture
def b2bua_pcap(tmp_path: Path) -> Path:
    return b2bua_capture(tmp_path / "b2bua.pcap")


def test_without_merge_legs_are_separate(b2bua_pcap: Path) -> None:
    code, out, _ = run("flow", str(b2bua_pcap))
    assert code == 0
    assert out.count("Leg ") == 0
    assert "Call leg-a@10.0.0.1" in out and "Call leg-b@10.0.0.2" in out


def test_merge_draws_both_legs_in_one_diagram(b2bua_pcap: Path) -> None:
    code, out, _ = run("flow", "--merge", "--width", "120", str(b2bua_pcap))
    assert code == 0
    first, _, rest = out.partition("\n\nCall ")
    assert "Leg A: Call leg-a@10.0.0.1" in first and "Leg B: Call leg-b@10.0.0.2" in first
    for ep in ("10.0.0.1:5060", "10.0.0.2:5060", "10.0.0.3:5060"):
        assert ep in first
    assert "A #1" in first and "B #3" in first  # gutter tags each arrow with its leg
    assert rest.startswith("other@10.0.0.9")


def test_merge_keeps_the_group_of_a_selected_leg(b2bua_pcap: Path) -> None:
    code, out, _ = run("flow", "--merge", "--call-id", "leg-b", str(b2bua_pcap))
    assert code == 0
    assert "Leg A: Call leg-a@10.0.0.1" in out and "Leg B: Call leg-b@10.0.0.2" in out
    assert "other@10.0.0.9" not in out
