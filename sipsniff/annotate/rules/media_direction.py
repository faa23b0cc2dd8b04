"""``media-direction``: sendonly/recvonly/inactive or 0.0.0.0 in a call's first offer/answer.

Strategy: RFC 3264 section 8.4 puts a call on hold with a re-INVITE whose offer
is ``a=sendonly`` or ``a=inactive`` (or, in RFC 2543 style, ``c=0.0.0.0``).  In
the *first* offer/answer of a call there is no hold, so the same attributes mean
that one direction of audio (or both) was disabled from the start: a device
misconfigured for early media, a gateway that does not know its media address
yet, or an SBC that rewrote the SDP.  The callee cannot send RTP to 0.0.0.0.

Rules:
- Only the initial INVITE's exchange is checked (the request had no To tag);
  holds in re-INVITEs are normal and not reported.  Early-media SDP in a 1xx
  (ringback, announcements) is one-way by design and not reported either.
- One annotation per call, warning, naming each SDP (offer or answer, frame,
  sender) and what it disables; frames are those SDP messages.
- A rejected stream (port 0) is ``codec-mismatch``'s, not this rule's.
"""

from __future__ import annotations

from collections.abc import Iterator

from ...dialogs.call import Call
from ...sip.message import SipMessage
from ..annotation import Annotation
from ..knowledge import Severity
from . import register
from ._common import evidence, ip_kind, sentences
from ._facts import CallFacts
from .codec_mismatch import offer_answer

__all__ = ["MediaDirectionRule", "media_problems"]

_EFFECT = {
    "sendonly": "its sender will not receive audio",
    "recvonly": "its sender will not send audio",
    "inactive": "no audio flows either way",
}


def media_problems(msg: SipMessage) -> list[str]:
    """What the audio streams of a message's SDP disable, one phrase each ([] when fine)."""
    out: list[str] = []
    if msg.sdp is None:
        return out
    for m in msg.sdp.media:
        if m.kind != "audio" or m.port == 0:
            continue
        if m.direction in _EFFECT:
            out.append(f"a={m.direction} ({_EFFECT[m.direction]})")
        if ip_kind(m.connection) == "unspecified":
            out.append(f"c={m.connection} (nobody can send RTP to it)")
    return out


class MediaDirectionRule:
    """One-way or no audio set up on purpose-looking SDP outside a hold."""

    id = "media-direction"
    description = "sendonly/recvonly/inactive or 0.0.0.0 in a call's first offer or answer."

    @staticmethod
    def applies(facts: CallFacts, errors: bool) -> bool:
        """Only offer/answer exchanges are read: two SDP bodies at least."""
        return facts.sdp >= 2

    def check(self, call: Call) -> Iterator[Annotation]:
        parts: list[str] = []
        frames: list[int] = []
        details: list[tuple[str, str]] = []
        short: list[str] = []
        for ex in offer_answer(call):
            if not ex.initial:
                continue
            for role, m in (("offer", ex.offer), ("answer", ex.answer)):
                if 100 <= m.status < 200:
                    continue  # early media (ringback, announcements) is often one-way on purpose
                found = media_problems(m)
                if not found:
                    continue
                frames.append(m.frame)
                what = "; ".join(found)
                label = "INVITE" if m.status == 0 and m.method == "INVITE" else m.label
                parts.append(
                    f"The {role} in the {label} (frame {m.frame}, from {m.src}) sets audio {what}."
                )
                details.append((role, f"frame {m.frame}: {what}"))
                short.extend(f.split(" (", 1)[0] for f in found if f.split(" (", 1)[0] not in short)
        if not parts:
            return
        parts.append(
            "This is the call's first offer/answer, not a hold (a hold is a re-INVITE, RFC 3264 "
            "section 8.4): expect one-way or no audio from the start."
        )
        yield Annotation(
            rule=self.id,
            severity=Severity.WARNING,
            title=f"One-way or no audio risk: {', '.join(short)} outside a hold",
            cause=sentences(*parts),
            resolution=(
                "Check the SDP settings of the device that sent it: media direction, early media "
                "and 'hold' options, and that it knows its own media address (no 0.0.0.0).",
                "If an SBC or PBX sits in between, compare the SDP on both of its sides: it may "
                "rewrite direction or address (media anchoring, transcoding, music on hold).",
                "Answer a sendonly offer with recvonly only when one-way media is intended.",
            ),
            frames=evidence(frames),
            call_id=call.call_id,
            details=tuple(details),
        )


register(MediaDirectionRule())
