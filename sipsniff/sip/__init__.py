"""SIP: bytes -> SipMessage (RFC 3261 text); knows nothing of packets or calls."""

from .framing import SipFramer, frame_one
from .headers import Headers, NameAddr, parse_name_addr
from .message import SipMessage, parse_message
from .sdp import Media, Sdp, parse_sdp

__all__ = [
    "Headers",
    "Media",
    "NameAddr",
    "Sdp",
    "SipFramer",
    "SipMessage",
    "frame_one",
    "parse_message",
    "parse_name_addr",
    "parse_sdp",
]
