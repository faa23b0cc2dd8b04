"""Start-line and header grammar, as compiled regular expressions with their ABNF.

RFC 3261 section 25.1::

    Request-Line   =  Method SP Request-URI SP SIP-Version CRLF
    Status-Line    =  SIP-Version SP Status-Code SP Reason-Phrase CRLF
    Method         =  INVITEm / ACKm / ... / extension-method
    extension-method = token
    token          =  1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~" )
    Status-Code    =  Informational / ... / extension-code   ; 3DIGIT
    SIP-Version    =  "SIP" "/" 1*DIGIT "." 1*DIGIT

Rules:
- Recognition is by content only: a buffer is SIP when it starts with one of
  these lines, whatever the port.
- We accept a bare LF line end (seen from broken stacks) but require the
  version ``SIP/2.0``: anything else is not what we can analyse.
"""

from __future__ import annotations

import re

__all__ = ["COMPACT_FORMS", "MULTI_VALUE", "RESYNC", "START_LINE", "split_commas"]

START_LINE = re.compile(
    rb"(?:([A-Za-z0-9!%*_+`'~.-]+) ([^ \r\n]+) SIP/2\.0|SIP/2\.0 ([1-9][0-9][0-9])(?: ([^\r\n]*))?)\r?\n"
)
"""Match at the start of a buffer; groups: method, uri, status, reason."""

RESYNC = re.compile(rb"(?m)^(?:[A-Z][A-Z0-9_-]* [^ \r\n]+ SIP/2\.0\r?$|SIP/2\.0 [1-9][0-9][0-9] )")
"""Search for the next start line inside a stream whose beginning was lost."""

COMPACT_FORMS: dict[str, str] = {
    "a": "accept-contact",
    "b": "referred-by",
    "c": "content-type",
    "d": "request-disposition",
    "e": "content-encoding",
    "f": "from",
    "i": "call-id",
    "j": "reject-contact",
    "k": "supported",
    "l": "content-length",
    "m": "contact",
    "n": "identity-info",
    "o": "event",
    "r": "refer-to",
    "s": "subject",
    "t": "to",
    "u": "allow-events",
    "v": "via",
    "x": "session-expires",
    "y": "identity",
}
"""RFC 3261 section 7.3.3 and later RFCs (3515, 3841, 3892, 4028, 4474...)."""

MULTI_VALUE = frozenset(
    (
        "via",
        "contact",
        "route",
        "record-route",
        "allow",
        "supported",
        "require",
        "proxy-require",
        "unsupported",
        "accept",
        "accept-encoding",
        "accept-language",
        "allow-events",
        "content-encoding",
        "in-reply-to",
        "warning",
        "reason",
        "path",
        "service-route",
        "p-asserted-identity",
        "p-preferred-identity",
        "security-client",
        "security-server",
        "security-verify",
        "accept-contact",
        "reject-contact",
        "request-disposition",
        "history-info",
        "p-associated-uri",
        "error-info",
        "alert-info",
        "call-info",
    )
)
"""Headers whose grammar is ``#(value)``: comma-separated lists (RFC 3261 section 7.3.1)."""


def split_commas(value: str) -> list[str]:
    """Split a header value on commas outside quotes and angle brackets."""
    if "," not in value:
        return [value.strip()] if value.strip() else []
    out: list[str] = []
    depth = 0
    quoted = False
    start = 0
    i = 0
    n = len(value)
    while i < n:
        ch = value[i]
        if quoted:
            if ch == "\\":
                i += 1
            elif ch == '"':
                quoted = False
        elif ch == '"':
            quoted = True
        elif ch == "<":
            depth += 1
        elif ch == ">":
            depth = max(0, depth - 1)
        elif ch == "," and depth == 0:
            part = value[start:i].strip()
            if part:
                out.append(part)
            start = i + 1
        i += 1
    part = value[start:].strip()
    if part:
        out.append(part)
    return out
