"""The live loop's endings: every signal leaves complete files or none (issue 16, items 7-8).

A fake capture drives the real loop (``live._run``) and sends the process real
signals at chosen moments: the first Ctrl-C while packets flow, a second one
while the capture drains at shutdown.  Before the fix the streamed ``--report``
JSON was opened when the capture started, so the second Ctrl-C left it 0 bytes.
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from factories import A, B, ipv4_udp_frame, make_invite, make_response

from sipsniff.capture.frame import Frame, LinkType
from sipsniff.capture.live import LiveCapture
from sipsniff.capture.sources import read_frames
from sipsniff.cli._common import make_console
from sipsniff.cli._live_session import Events, ReportOut, Session, Stop
from sipsniff.cli.live import _run
from sipsniff.diagnostics import CaptureError
from sipsniff.render.registry import choose

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


class FakeCapture(LiveCapture):
    """Hands out a busy call, then presses Ctrl-C once; ``on_stop`` runs during the drain."""

    engine = "fake"
    iface = "fake0"
    bpf = "udp"
    linktype = LinkType.ETHERNET

    def __init__(self, on_stop: Callable[[], None]) -> None:
        super().__init__()
        t0 = 1_700_000_000_000_000_000
        payloads = [
            ipv4_udp_frame(make_invite(), A, B),
            ipv4_udp_frame(make_response(486, "Busy Here"), B, A),
        ]
        self.frames = [
            Frame(i + 1, t0 + i * 10_000_000, LinkType.ETHERNET, p, len(p))
            for i, p in enumerate(payloads)
        ]
        self.on_stop = on_stop

    def read(self, timeout: float) -> list[Frame]:
        out, self.frames = self.frames, []
        if out:
            os.kill(os.getpid(), signal.SIGINT)  # the first Ctrl-C: stop cleanly
        return out

    def stop(self) -> list[Frame]:
        self.on_stop()
        return []

    def close(self) -> None:
        pass


def _session(tmp_path: Path, on_stop: Callable[[], None], report: str) -> Session:
    opts: dict[str, Any] = {
        "failed": False,
        "json": False,
        "write_pcap": str(tmp_path / "sip.pcap"),
        "rotate": None,
        "report": str(tmp_path / report),
        "report_exporter": choose(None, report),
        "count": None,
        "calls": None,
        "duration": None,
        "dashboard": False,
    }
    return Session(FakeCapture(on_stop), opts, make_console(no_color=True))


def _second_ctrl_c() -> None:
    os.kill(os.getpid(), signal.SIGINT)


@pytest.mark.parametrize("report", ["r.json", "r.ndjson", "r.html"])
def test_second_ctrl_c_at_shutdown_leaves_no_report_and_complete_pcaps(
    tmp_path: Path, report: str
) -> None:
    s = _session(tmp_path, _second_ctrl_c, report)
    with pytest.raises(KeyboardInterrupt):
        _run(s, s.console, interactive=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sip.pcap"]  # no 0-byte report
    assert len(list(read_frames([tmp_path / "sip.pcap"], lambda d: pytest.fail(d.line())))) == 2
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handlers restored


def test_second_ctrl_c_keeps_the_previous_report(tmp_path: Path) -> None:
    (tmp_path / "r.json").write_text('{"previous": true}')
    s = _session(tmp_path, _second_ctrl_c, "r.json")
    with pytest.raises(KeyboardInterrupt):
        _run(s, s.console, interactive=False)
    assert json.loads((tmp_path / "r.json").read_text()) == {"previous": True}


def test_one_ctrl_c_writes_the_whole_report(tmp_path: Path) -> None:
    s = _session(tmp_path, lambda: None, "r.json")
    _run(s, s.console, interactive=False)
    doc = json.loads((tmp_path / "r.json").read_text())
    assert [c["final_status"] for c in doc["calls"]] == [486]
    assert s.stop.reason == "SIGINT"


def test_a_third_ctrl_c_does_not_cut_the_cleanup_short() -> None:
    stop = Stop()
    stop.on_signal(signal.SIGINT, None)
    assert stop.reason == "SIGINT"
    with pytest.raises(KeyboardInterrupt):
        stop.on_signal(signal.SIGINT, None)
    stop.on_signal(signal.SIGINT, None)  # ignored: the abort's cleanup runs to its end


def test_report_never_follows_a_symlink(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious")
    (tmp_path / "r.json").symlink_to(victim)
    with pytest.raises(CaptureError, match="symbolic link"):
        ReportOut(tmp_path / "r.json", choose(None, "r.json"))
    assert victim.read_text() == "precious"


def test_events_write_hiding_characters_as_escapes() -> None:
    import io

    buf = io.StringIO()
    Events(buf, failed_only=False).emit({"from_user": "evil\u202egpj\u061c\U000e0041"})
    line = buf.getvalue()
    assert line == '{"from_user":"evil\\u202egpj\\u061c\\udb40\\udc41"}\n'
    assert json.loads(line)["from_user"] == "evil\u202egpj\u061c\U000e0041"
