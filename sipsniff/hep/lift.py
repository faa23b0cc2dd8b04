"""HEP inside a capture: the SIP a HEP packet carries, as if captured where the agent was.

A capture taken in front of a HOMER collector (or of ``sngrep -H``) holds UDP
packets to the HEP port, each wrapping one SIP message with the addresses and
ports it travelled between.  This lift unwraps them before SIP framing, so those
messages group into calls like any other (what ``sngrep -E`` does).

Rules:
- Recognised by content, on any port, exactly as the native core's ``is_hep``
  (``HEP3``, or a HEPv1/v2 header), so both engines hand the same packets here.
- The message keeps the outer frame number (Wireshark's) and the capture's
  time: timers run on the capture clock, and a remote agent's clock may be off.
- HEP that carries no SIP (RTCP reports, logs: protocol type != 1) is counted
  and gives nothing; HEP inside HEP is refused (no recursion); damaged HEP is one
  ``hep`` diagnostic with the frame number.
"""

from __future__ import annotations

from collections.abc import Callable

from ..decode.payload import Endpoint, Payload, Transport
from ..diagnostics import Diagnostic, Stage, Trigger
from .codec import HepError, decode

__all__ = ["HepLift", "is_hep"]


def is_hep(d: bytes) -> bool:
    """A HEP packet: ``HEP3``, or a v1/v2 header (16/28 bytes for IPv4, 40/52 for IPv6)."""
    if d[:4] == b"HEP3":
        return True
    return (
        len(d) >= 3
        and d[0] in (1, 2)
        and d[1] in (16, 28, 40, 52)
        and d[2] in (2, 10)
        and len(d) >= d[1]
    )


class HepLift:
    """``Pipeline.lifts`` stage: UDP payloads that are HEP become the SIP they carry."""

    def __init__(self, report: Callable[[Diagnostic], None]) -> None:
        self._report = report
        self.packets = 0
        self.not_sip = 0
        self.damaged = 0

    def _diag(self, frame: int, detail: str) -> None:
        self.damaged += 1
        self._report(
            Diagnostic(frame=frame, stage=Stage.DECODE, trigger=Trigger.HEP, detail=detail)
        )

    def __call__(self, p: Payload) -> list[Payload] | None:
        if p.transport != Transport.UDP or not is_hep(p.data):
            return None
        try:
            h = decode(p.data)
        except HepError as exc:
            self._diag(p.frame, f"HEP packet from {p.src}: {exc}")
            return []
        self.packets += 1
        if h.proto_type != 1:
            self.not_sip += 1
            return []
        if is_hep(h.payload):
            self._diag(p.frame, f"HEP packet from {p.src} carries HEP again: refused")
            return []
        return [
            Payload(
                p.frame,
                p.ts_ns,
                Endpoint(h.src_ip, h.src_port),
                Endpoint(h.dst_ip, h.dst_port),
                Transport.UDP,
                h.payload,
            )
        ]
