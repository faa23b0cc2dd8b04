"""``codec-mismatch``: the two sides share no codec (488/606/415, or an answer outside the offer).

Strategy: RFC 3264 offer/answer.  The offer is the INVITE's SDP (or, for a late
offer, the 2xx's, answered in the ACK); the answer is the 2xx's SDP, else the
first provisional response's.  m-lines pair up by position (RFC 3264 section 6).
Codecs compare by encoding name and clock rate, case-insensitively (RFC 4855
section 3: ``pcmu`` is ``PCMU``); channel counts are ignored.  telephone-event,
CN, RED, FEC and RTX are not voice codecs and never count as a match.

Rules:
- A 488, 606 or 415 final response (claimed from ``response-code`` through
  ``_claims``) is explained with the codecs that were offered, the decoded
  Warning header (often 304/305 naming the media problem) and, for 415, the
  Accept header: a warning (the knowledge base's severity).
- An answer whose voice codecs do not intersect the offer's, or that rejects
  the audio stream (port 0), is an error: the call is "up" but nobody hears anything.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from ...dialogs.call import Call
from ...sip.message import SipMessage
from ...sip.sdp import Media, Sdp
from ..annotation import Annotation
from ..knowledge import Severity
from . import register
from ._claims import claimed_by
from ._common import evidence, quote, response_facts
from ._facts import CallFacts

__all__ = ["CodecMismatchRule", "Exchange", "codec_key", "offer_answer", "voice_codecs"]

_NOT_VOICE = frozenset({"TELEPHONE-EVENT", "CN", "RED", "ULPFEC", "FLEXFEC", "RTX", "PARITYFEC"})


def codec_key(codec: str) -> str:
    """``pcmu/8000/1`` -> ``PCMU/8000``: the identity RFC 4855 compares."""
    parts = codec.strip().upper().split("/")
    return "/".join(parts[:2])


def voice_codecs(media: Media) -> list[str]:
    """The media's codecs, as keys, without telephone-event/CN/RED/FEC/RTX."""
    out = []
    for c in media.codecs:
        key = codec_key(c)
        if key.split("/", 1)[0] not in _NOT_VOICE and key not in out:
            out.append(key)
    return out


def _names(keys: list[str]) -> str:
    return ", ".join(k.split("/", 1)[0] for k in keys) or "none"


class Exchange(NamedTuple):
    """One SDP offer and its answer in an INVITE transaction."""

    offer: SipMessage
    answer: SipMessage
    initial: bool
    """The call's first exchange (the INVITE had no To tag), not a re-INVITE."""


def offer_answer(call: Call) -> list[Exchange]:
    """The offer/answer exchanges of a call, one per INVITE transaction that completed one."""
    msgs = call.messages
    out = []
    for t in call.transactions:
        if t.method != "INVITE" or not t.requests:
            continue
        req = msgs[t.requests[0]]
        resp = [msgs[i] for i in t.responses if msgs[i].sdp is not None and msgs[i].status < 300]
        final = [m for m in resp if m.status >= 200]
        initial = not req.to_tag
        if req.sdp is not None:
            answer = final[0] if final else (resp[0] if resp else None)
            if answer is not None:
                out.append(Exchange(req, answer, initial))
        elif final:
            ack = next(
                (
                    m
                    for m in msgs
                    if m.method == "ACK" and m.cseq_num == t.cseq and m.sdp is not None
                ),
                None,
            )
            if ack is not None:
                out.append(Exchange(final[0], ack, initial))
    return out


class CodecMismatchRule:
    """No codec in common: a 488/606/415 rejection, or an answer outside the offer."""

    id = "codec-mismatch"
    description = "488/606/415, or an SDP answer with no codec in common with the offer."

    @staticmethod
    def applies(facts: CallFacts, errors: bool) -> bool:
        """A 488/606/415 is a claimed error; a bad answer needs an offer and an answer."""
        return errors or facts.sdp >= 2

    def check(self, call: Call) -> Iterator[Annotation]:
        yield from self._rejections(call)
        for ex in offer_answer(call):
            ann = self._compare(call, ex.offer, ex.answer)
            if ann is not None:
                yield ann

    def _rejections(self, call: Call) -> Iterator[Annotation]:
        seen: set[int] = set()
        for i in claimed_by(call, self.id):
            f = response_facts(call, i)
            if f.msg.status in seen:
                continue
            seen.add(f.msg.status)
            extra: list[str] = []
            details = list(f.details)
            req = f.request
            sdp = req.sdp if req is not None else None
            if sdp is not None:
                offered = (
                    "; ".join(
                        f"{m.kind} {_names(voice_codecs(m)) if m.kind == 'audio' else ', '.join(m.codecs)}"
                        for m in sdp.media
                    )
                    or "no media"
                )
                extra.append(f"The offer (frame {req.frame if req else '?'}) was: {offered}.")
                details.insert(1, ("offered", offered))
            elif req is not None and req.body:
                ctype = req.headers.get("content-type") or "no Content-Type"
                extra.append(f"The request carried a {quote(ctype, 60)} body.")
                details.insert(1, ("body type", quote(ctype, 60)))
            accept = f.msg.headers.get("accept")
            if accept:
                extra.append(f"The responder accepts: {quote(accept, 100)}.")
                details.append(("accept", quote(accept, 100)))
            steps: tuple[str, ...]
            if f.msg.status == 415:
                steps = (
                    "Send a body type the server accepts (see its Accept header); for a "
                    "session, application/sdp.",
                )
            else:
                steps = (
                    "Configure at least one codec both sides support (G.711 PCMU/PCMA is the "
                    "safe common choice) on the caller, the callee and every SBC between them.",
                    "Check that packetisation (ptime), SRTP (RTP/SAVP vs RTP/AVP) and media types "
                    "(video, T.38) match what the callee accepts.",
                )
            yield Annotation(
                rule=self.id,
                severity=f.info.severity,
                title=f"{f.method} rejected: {f.label}",
                cause=f.cause(*extra),
                resolution=f.resolution(*steps),
                frames=f.frames,
                call_id=call.call_id,
                details=tuple(details),
            )

    def _compare(self, call: Call, offer: SipMessage, answer: SipMessage) -> Annotation | None:
        o_sdp, a_sdp = offer.sdp, answer.sdp
        assert isinstance(o_sdp, Sdp) and isinstance(a_sdp, Sdp)
        for o, a in zip(o_sdp.media, a_sdp.media, strict=False):
            if o.kind != "audio" or o.port == 0:
                continue
            offered, answered = voice_codecs(o), voice_codecs(a)
            details = (
                ("offered", _names(offered)),
                ("answered", _names(answered) if a.port else "stream rejected (port 0)"),
                ("offer", f"frame {offer.frame} from {offer.src}"),
                ("answer", f"frame {answer.frame} from {answer.src}"),
            )
            if a.port == 0:
                what = (
                    f"The answer ({answer.label}, frame {answer.frame}) rejected the audio stream "
                    f"offered in frame {offer.frame} (m=audio port 0): no common audio codec or media "
                    "type. Offered: " + _names(offered) + "."
                )
            elif offered and answered and not set(offered) & set(answered):
                what = (
                    f"The offer in frame {offer.frame} ({offer.label} from {offer.src}) listed "
                    f"{_names(offered)}; the answer in frame {answer.frame} ({answer.label} from "
                    f"{answer.src}) chose {_names(answered)}, which the offer did not contain. "
                    "RFC 3264 section 6.1 requires the answer to use codecs from the offer."
                )
            else:
                continue
            return Annotation(
                rule=self.id,
                severity=Severity.ERROR,
                title=f"No common codec: offered {_names(offered)}, answered "
                f"{_names(answered) if a.port else 'port 0'}",
                cause=what + " The call was set up, but the two sides cannot decode each "
                "other's audio: expect silence.",
                resolution=(
                    "Align the codec lists: enable at least one common codec (G.711 PCMU/PCMA) on "
                    "both sides and on every SBC or PBX between them.",
                    "If a B2BUA or SBC rewrites SDP, check that it transcodes or passes the "
                    "offer through unchanged.",
                    "Update the answering device: answering outside the offer breaks RFC 3264.",
                ),
                frames=evidence([offer.frame, answer.frame]),
                call_id=call.call_id,
                details=details,
            )
        return None


register(CodecMismatchRule())
