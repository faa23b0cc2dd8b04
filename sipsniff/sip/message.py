"""SipMessage: one parsed SIP request or response, and the parser that builds it.

Strategy: one C-level regex scan of the raw header bytes finds the headers
the dialog layer needs on every message (Call-ID, CSeq, From, To, Via,
Content-Length, Content-Type, compact forms included); everything else is
parsed lazily by ``Headers`` on first access.  Folded lines (RFC 3261 section
7.3.1: "Header fields can be extended over multiple lines by preceding each
extra line with at least one SP or horizontal tab") send the hot headers
through the full parser, which joins them.

Rules:
- A message with a valid start line is always returned: missing mandatory
  headers or damaged lines are listed in ``problems`` (and become diagnostics)
  because a network tool must show what was sent, not what should have been.
- Only a bad start line raises :class:`DecodeError`.
- ``SipMessage`` is a ``NamedTuple``: one is built per SIP message on the hot
  path, and tuple construction is several times cheaper than a frozen dataclass.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from ..decode.payload import Endpoint, Transport
from ..diagnostics import DecodeError
from .grammar import START_LINE
from .headers import HOT_HEADERS, ODD_LINE, Headers, NameAddr, parse_name_addr, uri_user
from .sdp import Sdp, parse_sdp

__all__ = ["SipMessage", "parse_datagram", "parse_message"]

_MANDATORY = ("call-id", "cseq", "from", "to", "via")


class SipMessage(NamedTuple):
    """A SIP request or response as seen on the wire."""

    frame: int
    """Wireshark frame number where the message (its last byte) was captured."""
    ts_ns: int
    src: Endpoint
    dst: Endpoint
    transport: str
    method: str
    """Request method; '' for responses (see ``cseq_method``)."""
    status: int
    """Status code; 0 for requests."""
    reason: str
    uri: str
    headers: Headers
    body: bytes
    raw: bytes
    call_id: str
    cseq_num: int
    cseq_method: str
    branch: str
    """Top Via branch parameter ('' when absent)."""
    from_tag: str
    to_tag: str
    sdp: Sdp | None
    problems: tuple[str, ...]
    """What was wrong with the message (empty when well formed)."""
    segments: tuple[int, ...] = ()
    """Over TCP, every frame that carried part of the message (``frame`` is the last);
    empty when the message came in one frame."""

    @property
    def frames(self) -> tuple[int, ...]:
        """All frames that carried the message, for exporting them to a pcap."""
        return self.segments or (self.frame,)

    @property
    def is_request(self) -> bool:
        return self.status == 0

    @property
    def label(self) -> str:
        """``INVITE`` or ``180 Ringing``: what a ladder arrow shows."""
        if self.status == 0:
            return self.method
        return f"{self.status} {self.reason}".rstrip()

    @property
    def from_addr(self) -> NameAddr:
        return parse_name_addr(self.headers.get("from") or "")

    @property
    def to_addr(self) -> NameAddr:
        return parse_name_addr(self.headers.get("to") or "")

    @property
    def user_agent(self) -> str:
        return self.headers.get("user-agent") or self.headers.get("server") or ""

    @property
    def request_user(self) -> str:
        return uri_user(self.uri)

    @property
    def time(self) -> float:
        return self.ts_ns / 1e9


_HOT = re.compile(
    rb"\n(call-id|i|cseq|from|f|to|t|via|v|content-length|l|content-type|c)[ \t]*:[ \t]*([^\r\n]*)",
    re.IGNORECASE,
)
"""The headers the dialog layer needs on every message, found in one C-level scan
(anchored on a literal LF, which the regex engine finds faster than ``^``)."""
# A NamedTuple's generated ``__new__`` is a Python-level function; ``tuple.__new__``
# builds the same object without that frame (70 ns, paid once per message).  Every
# field must then be given, defaults included (``tests/sip/test_message.py``).
_new = tuple.__new__
_FOLDED = re.compile(rb"\n[ \t]")
_ODD_OR_LFLF = re.compile(ODD_LINE.pattern + rb"|\n\n")
# Spellings of the hot header names -> canonical names.  Case variants are learnt
# as they are met, up to a bound.
_HOT_NAMES = {
    b"call-id": "call-id",
    b"i": "call-id",
    b"cseq": "cseq",
    b"from": "from",
    b"f": "from",
    b"to": "to",
    b"t": "to",
    b"via": "via",
    b"v": "via",
    b"content-length": "content-length",
    b"l": "content-length",
    b"content-type": "content-type",
    b"c": "content-type",
}
# Same grammar as headers.param, inlined here because it runs three times per message.
_BRANCH = re.compile(r";[ \t]*branch[ \t]*=[ \t]*([^;,> \t]*)", re.IGNORECASE)
_TAG = re.compile(r";[ \t]*tag[ \t]*=[ \t]*([^;,> \t]*)", re.IGNORECASE)


def _top_branch(via: str) -> str:
    """Branch of the top Via value only (a line may carry several, comma-separated)."""
    b = _BRANCH.search(via.split(",", 1)[0])
    return b.group(1) if b else ""


def _header_tag(value: str) -> str:
    """The header's ``tag`` parameter, never a ``;tag=`` inside the ``<URI>``."""
    gt = value.rfind(">")
    t = _TAG.search(value, gt + 1 if gt >= 0 else 0)
    return t.group(1) if t else ""


def parse_message(
    data: bytes,
    *,
    frame: int,
    ts_ns: int,
    src: Endpoint,
    dst: Endpoint,
    transport: Transport | str,
) -> SipMessage:
    """Parse one complete SIP message (framing already done).

    Args:
        data: exactly one message: start line, headers, blank line, body.

    Returns:
        The message; ``problems`` lists anything malformed.

    Raises:
        DecodeError: the bytes do not start with a SIP request or status line.
    """
    return parse_datagram(data, frame, ts_ns, src, dst, str(transport))[0]


def parse_datagram(
    data: bytes,
    frame: int,
    ts_ns: int,
    src: Endpoint,
    dst: Endpoint,
    transport: str,
    start: re.Match[bytes] | None = None,
) -> tuple[SipMessage, int]:
    """Parse the message at the start of ``data``; also return where it ends.

    The end is the body's end by Content-Length (or the end of ``data`` when
    absent), so a datagram's caller can tell trailing bytes from the message.
    ``raw`` covers exactly the message.  ``start`` is ``START_LINE.match(data)``
    when the caller has it already (the framer tests every datagram with it).

    Raises:
        DecodeError: the bytes do not start with a SIP request or status line.
    """
    m = start or START_LINE.match(data)
    if m is None:
        first_line = data[:60].split(b"\n", 1)[0]
        raise DecodeError(f"bad start line: {first_line!r}")
    method_b, uri_b, status_b, reason_b = m.groups()
    hstart = m.end()
    hend = data.find(b"\r\n\r\n", hstart - 2)
    if hend >= 0:
        body_off = hend + 4
    else:
        hend = body_off = len(data)
    # One scan finds all that leaves the fast path: folded or colon-less lines, and
    # an empty line before the CRLF CRLF (a bare-LF header block, whose body may
    # still hold CRLF CRLF).  Well-formed messages pay for this one scan only.
    odd = _ODD_OR_LFLF.search(data, hstart - 1, hend + 2)
    if odd is not None:
        lf = data.find(b"\n\n", hstart - 1, hend)
        if lf >= 0:
            hend, body_off = lf, lf + 2
        odd = ODD_LINE.search(data, hstart - 1, hend + 2)
    hot: dict[str, str] = {}
    names = _HOT_NAMES
    for name_b, value_b in _HOT.findall(data, hstart - 1, hend):
        key = names.get(name_b)
        if key is None:  # a spelling not seen yet ("CALL-ID", "Cseq")
            key = names[name_b.lower()]
            if len(names) < 512:  # hostile mixed-case spellings cannot grow it
                names[name_b] = key
        if key not in hot:
            hot[key] = value_b.decode("utf-8", "replace").rstrip()
    problems: list[str] = []
    if odd is None:
        headers = Headers(data, hstart, hend, hot, clean=True)
    elif _FOLDED.search(data, hstart - 1, hend) is not None:
        # folded lines: the full parser joins continuations (RFC 3261 section 7.3.1)
        headers = Headers(data, hstart, hend)
        hot = {k: v for k in HOT_HEADERS if (v := headers.get(k)) is not None}
        problems.extend(headers.problems)
    else:  # a line with no colon: listed as a problem
        headers = Headers(data, hstart, hend, hot)
        problems.extend(headers.problems)
    if (
        len(hot) < 5
        or "call-id" not in hot
        or "cseq" not in hot
        or "from" not in hot
        or "to" not in hot
        or "via" not in hot
    ):
        problems.extend(f"missing {k} header" for k in _MANDATORY if k not in hot)

    cseq = hot.get("cseq", "")
    cparts = cseq.split(None, 1)  # CSeq = 1*DIGIT LWS Method: LWS may be a tab
    try:
        cseq_num = int(cparts[0])
    except (ValueError, IndexError):
        cseq_num = 0
        if cseq:
            problems.append(f"bad CSeq {cseq[:40]!r}")
    cseq_method = cparts[1].strip() if len(cparts) > 1 else ""

    end = len(data)
    cl = hot.get("content-length")
    if cl is not None:
        try:
            n_cl = int(cl)
        except ValueError:
            problems.append(f"bad Content-Length {cl[:20]!r}")
        else:
            if n_cl < 0:
                problems.append(f"negative Content-Length {n_cl}")
            elif body_off + n_cl < end:
                end = body_off + n_cl
            elif body_off + n_cl > end:
                problems.append(f"Content-Length {n_cl} but only {end - body_off} body bytes")
    body = data[body_off:end]
    if end < len(data):
        data = data[:end]
    sdp: Sdp | None = None
    if body:
        ctype = hot.get("content-type", "")
        if "sdp" in ctype.lower() or (not ctype and body[:2] == b"v="):
            sdp = parse_sdp(body)
    via = hot.get("via", "")
    if status_b is None:
        method = method_b.decode("ascii", "replace")
        status = 0
        reason = ""
        uri = uri_b.decode("utf-8", "replace")
    else:
        method = ""
        status = int(status_b)
        reason = (reason_b or b"").decode("utf-8", "replace")
        uri = ""
    msg = _new(
        SipMessage,
        (
            frame,
            ts_ns,
            src,
            dst,
            transport,
            method,
            status,
            reason,
            uri,
            headers,
            body,
            data,
            hot.get("call-id", ""),
            cseq_num,
            cseq_method,
            _top_branch(via) if via else "",
            _header_tag(hot.get("from", "")),
            _header_tag(hot.get("to", "")),
            sdp,
            tuple(problems),
            (),
        ),
    )
    return msg, end
