"""A crafted capture that attacks every report format at once (complements captures/hostile.pcap).

Each string targets a sink: HTML/JS (``<script>`` setting ``document.title``
and a global, event handlers, ``</script>`` to break out of a data block),
Markdown (backticks, pipes, headings, raw HTML), Mermaid (``%%{init}%%``
directives, ``#`` and ``;``), PlantUML (``@enduml``, ``!include``,
``%getenv()``, creole and ``<img>``), rich markup and terminal escapes.  A
test that finds ``window.__pwned`` set, the title changed, or a line that
breaks a diagram's grammar has found an escaping bug.
"""

from __future__ import annotations

from pathlib import Path

from factories import A, B, ipv4_udp_frame, make_invite, make_response, write_pcap

__all__ = ["CALL_ID", "PWN_TITLE", "REASON", "UA", "hostile_call_pcap"]

PWN_TITLE = "pwned"
_SCRIPT = "<script>document.title='pwned';window.__pwned=1</script>"
CALL_ID = "evil`|" + _SCRIPT + "%%{init: {'securityLevel':'loose'}}%%;#@x"
UA = (
    '\x1b[2J\x1b]0;pwned\x07<img src=x onerror="window.__pwned=2">'
    ' ``` | a | b | @enduml !include /etc/passwd %getenv("HOME") **bold** [[http://x]]'
    " \\n [bold red]markup[/bold red] \u202eevil"
)
REASON = "Busy </script><script>window.__pwned=3</script> # heading"


def hostile_call_pcap(path: Path) -> Path:
    """INVITE / 486 / ACK whose Call-ID, User-Agent, Subject and reason phrase are attacks."""
    extra = [f"User-Agent: {UA}", f"Subject: {_SCRIPT}", "X-Md: # title\t- item | cell `code`"]
    invite = make_invite(call_id=CALL_ID, extra=extra)
    busy = make_response(486, REASON, call_id=CALL_ID, extra=[f"Server: {UA}"])
    ack = (
        make_response(486, "x", call_id=CALL_ID)
        .replace(b"SIP/2.0 486 x", b"ACK sip:bob@127.0.0.1 SIP/2.0", 1)
        .replace(b"CSeq: 1 INVITE", b"CSeq: 1 ACK")
    )
    frames = [
        ipv4_udp_frame(invite, A, B),
        ipv4_udp_frame(busy, B, A),
        ipv4_udp_frame(ack, A, B),
    ]
    return write_pcap(path, frames)
