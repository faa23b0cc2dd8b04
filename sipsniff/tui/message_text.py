"""One SIP message as the call view shows it: where and when, then the raw text, highlighted.

Sketch::

    frame 30 · 18:07:40.473108 UTC (+0.109 s) · 127.0.0.10:5060 → 127.0.0.22:5061 · UDP
    SIP/2.0 486 Busy Here                      <- start line, bold
    Via: SIP/2.0/UDP 127.0.0.22:5061;...       <- header names coloured
    ...
    SDP  audio 127.0.0.22:55410 PCMU,PCMA sendrecv    <- the decoded SDP, above its body
    v=0

Rules:
- The raw bytes are decoded as UTF-8 with ``backslashreplace`` (a stray
  ``\\xff`` shows as those four characters), then every line goes through
  ``safe.clean``: control characters (ESC, NUL, CR, bidi overrides) are shown
  as ``\\x1b`` escapes, never sent to the terminal.
- Only ``rich.text.Text`` is built, so a header holding ``[bold red]`` shows
  those characters.
- A very long line is cut at ``MAX_LINE`` characters and a huge message at
  ``MAX_LINES`` lines, each with a visible marker.
"""

from __future__ import annotations

import datetime as _dt

from rich.text import Text

from ..render.ladder import Arrow
from ..render.safe import clean
from ..render.summary import status_style
from ..sip.message import SipMessage

__all__ = ["MAX_LINE", "MAX_LINES", "arrow_heading", "message_text"]

MAX_LINE = 4000
"""Characters of one raw line shown (a 60 kB header is cut, with a marker)."""
MAX_LINES = 2000
"""Lines of one message shown."""


def _clock(ts_ns: int) -> str:
    sec, rest = divmod(ts_ns, 1_000_000_000)
    t = _dt.datetime.fromtimestamp(sec, _dt.UTC)
    return f"{t:%H:%M:%S}.{rest // 1000:06d}"


def arrow_heading(a: Arrow) -> Text:
    """``frame 30 · 18:07:40.473000 UTC (+0.109 s) · src → dst · UDP`` (the date is the
    capture's, on the summary screen)."""
    m = a.message
    t = Text()
    t.append(f"frame {a.frame}", style="bold")
    if len(m.frames) > 1:
        t.append(f" (segments {', '.join(str(f) for f in m.frames[:8])}", style="dim")
        t.append("…)" if len(m.frames) > 8 else ")", style="dim")
    t.append(f" · {_clock(a.ts_ns)} UTC")
    if a.delta_ms:
        t.append(f" (+{a.delta_ms / 1000:.3f} s)", style="dim")
    t.append(f" · {clean(str(m.src), 80)} → {clean(str(m.dst), 80)} · {clean(m.transport, 10)}")
    if a.retransmission:
        t.append(" · retransmission", style="yellow")
    return t


def _line(text: str) -> str:
    """One line made inert (tabs kept as spaces, CR and every other control escaped)."""
    return clean(text, MAX_LINE, keep_newlines=True).replace("\t", "    ")


def message_text(m: SipMessage) -> Text:
    """The message's raw text: start line bold, header names coloured, SDP decoded above its body."""
    raw = m.raw.decode("utf-8", "backslashreplace")
    head, sep, body = raw.replace("\r\n", "\n").partition("\n\n")
    lines = head.split("\n")
    out = Text(no_wrap=False, overflow="fold", end="")
    shown = 0

    def add(t: Text) -> bool:
        nonlocal shown
        if shown >= MAX_LINES:
            return False
        if shown:
            out.append("\n")
        out.append_text(t)
        shown += 1
        return True

    style = status_style(m.status) if m.status else ""
    add(Text(_line(lines[0]), style=f"bold {style}".strip()))
    for ln in lines[1:]:
        name, colon, value = ln.partition(":")
        t = Text()
        if colon and name and not name[0].isspace():
            t.append(_line(name), style="bold cyan")
            t.append(":")
            t.append(_line(value))
        else:
            t.append(_line(ln))
        if not add(t):
            break
    if sep:
        add(Text())
        if m.sdp is not None:
            add(Text("SDP  " + clean(m.sdp.summary(), MAX_LINE), style="bold green"))
        for ln in body.split("\n"):
            t = Text()
            if len(ln) > 1 and ln[1] == "=" and m.sdp is not None:
                t.append(_line(ln[:2]), style="green")
                t.append(_line(ln[2:]))
            else:
                t.append(_line(ln))
            if not add(t):
                break
    if shown >= MAX_LINES:
        out.append(f"\n… [cut at {MAX_LINES} lines]", style="dim")
    if m.problems:
        out.append("\n")
        for p in m.problems[:20]:
            out.append(f"\n! {clean(p, 300)}", style="yellow")
    return out
