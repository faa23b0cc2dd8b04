"""SDP bodies (RFC 4566/8866): origin, connection addresses, media lines, codecs, direction.

Strategy: one C-level regex pass splits the ``type=value`` lines, a single
Python pass reads them; junk lines are reported through ``problems``, never
raised.  ``Sdp`` and ``Media`` are ``NamedTuple``s: two INVITE-dialog messages in
five carry SDP, and tuple construction is several times cheaper than a frozen
dataclass's.  Static payload types that carry
no ``a=rtpmap`` get their RFC 3551 names so codec lists are always readable.
"""

from __future__ import annotations

import re
from typing import NamedTuple

__all__ = ["Media", "Sdp", "parse_sdp", "rtpmap", "static_codec"]

_STATIC_PT = {
    0: "PCMU/8000",
    3: "GSM/8000",
    4: "G723/8000",
    5: "DVI4/8000",
    6: "DVI4/16000",
    7: "LPC/8000",
    8: "PCMA/8000",
    9: "G722/8000",
    10: "L16/44100",
    11: "L16/44100",
    12: "QCELP/8000",
    13: "CN/8000",
    14: "MPA/90000",
    15: "G728/8000",
    16: "DVI4/11025",
    17: "DVI4/22050",
    18: "G729/8000",
    25: "CelB/90000",
    26: "JPEG/90000",
    28: "nv/90000",
    31: "H261/90000",
    32: "MPV/90000",
    33: "MP2T/90000",
    34: "H263/90000",
}
_DIRECTIONS = ("sendrecv", "sendonly", "recvonly", "inactive")


class Media(NamedTuple):
    """One ``m=`` section."""

    kind: str
    """audio, video, image (T.38), application..."""
    port: int
    proto: str
    formats: tuple[str, ...]
    """Payload types as written on the m= line."""
    codecs: tuple[str, ...]
    """Encoding names in the m= order (``PCMU/8000``, ``telephone-event/8000``...)."""
    connection: str
    """The effective connection address: the media-level c= or else the session-level one."""
    direction: str
    """Effective direction: media-level attribute, else session-level, else sendrecv."""


class Sdp(NamedTuple):
    """A parsed session description."""

    origin_addr: str
    session_id: str
    version: str
    connection: str
    """Session-level c= address ('' if absent)."""
    direction: str
    media: tuple[Media, ...]
    problems: tuple[str, ...] = ()

    @property
    def audio(self) -> Media | None:
        return next((m for m in self.media if m.kind == "audio"), None)

    def summary(self) -> str:
        """One line for ladders: ``audio 10.0.0.1:4000 PCMU,PCMA sendrecv``."""
        parts = []
        for m in self.media:
            codecs = ",".join(c.split("/", 1)[0] for c in m.codecs) or "-"
            parts.append(f"{m.kind} {m.connection}:{m.port} {codecs} {m.direction}")
        return "; ".join(parts) or "no media"


class _M:
    __slots__ = ("conn", "direction", "formats", "kind", "port", "proto", "rtpmap")

    def __init__(self, parts: list[str], problems: list[str]) -> None:
        self.kind = parts[0] if parts else ""
        try:
            self.port = int(parts[1].split("/", 1)[0])
        except (IndexError, ValueError):
            problems.append(f"bad media line: {' '.join(parts)[:40]!r}")
            self.port = 0
        self.proto = parts[2] if len(parts) > 2 else ""
        self.formats = tuple(parts[3:])
        self.rtpmap: dict[str, str] = {}
        self.conn = ""
        self.direction = ""


_SDP_LINE = re.compile(r"^(?:([^\n])=([^\n]*)|([^\n]*))$", re.M)
"""Every line: ``type=value`` (groups 1-2, the value keeps a CR) or anything else (group 3)."""


def parse_sdp(body: bytes) -> Sdp:
    """Parse an SDP body; never raises."""
    text = body.decode("utf-8", "replace")
    origin = sess_id = version = conn = ""
    sess_dir = ""
    problems: list[str] = []
    media: list[_M] = []
    cur: _M | None = None
    for t, value, other in _SDP_LINE.findall(text):
        if not t:
            other = other.rstrip("\r")
            if other.strip():
                problems.append(f"not an SDP line: {other[:40]!r}")
            continue
        value = value.rstrip("\r")
        if t == "a":
            name, _, val = value.partition(":")
            if name in _DIRECTIONS:
                if cur is None:
                    sess_dir = name
                else:
                    cur.direction = name
            elif name == "rtpmap" and cur is not None:
                pt, _, enc = val.partition(" ")
                cur.rtpmap[pt.strip()] = enc.strip()
        elif t == "m":
            cur = _M(value.split(), problems)
            media.append(cur)
        elif t == "c":
            parts = value.split()
            addr = parts[2].split("/", 1)[0] if len(parts) >= 3 else ""
            if cur is None:
                conn = addr
            else:
                cur.conn = addr
        elif t == "o":
            parts = value.split()
            if len(parts) >= 6:
                sess_id, version, origin = parts[1], parts[2], parts[5]
    return Sdp(
        origin_addr=origin,
        session_id=sess_id,
        version=version,
        connection=conn,
        direction=sess_dir or "sendrecv",
        media=tuple(
            Media(
                kind=m.kind,
                port=m.port,
                proto=m.proto,
                formats=m.formats,
                codecs=tuple(
                    m.rtpmap.get(f) or (_STATIC_PT.get(int(f), f) if f.isdigit() else f)
                    for f in m.formats
                ),
                connection=m.conn or conn,
                direction=m.direction or sess_dir or "sendrecv",
            )
            for m in media
        ),
        problems=tuple(problems),
    )


def static_codec(pt: int) -> str:
    """The RFC 3551 name of a static payload type (``PCMA``), or the number as text."""
    return _STATIC_PT.get(pt, str(pt)).split("/", 1)[0]


def rtpmap(media: Media) -> list[tuple[int, str]]:
    """An m= line's ``a=rtpmap`` pairs (payload type, ``name/rate``), as the native core
    reads them: the static names ``parse_sdp`` fills in for the rest are left out."""
    return [
        (int(f), c)
        for f, c in zip(media.formats, media.codecs, strict=False)
        if f.isdigit() and c != f and c != _STATIC_PT.get(int(f))
    ]
