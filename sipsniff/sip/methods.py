"""SIP methods and response classes: the small enums the rest of the code branches on."""

from __future__ import annotations

from enum import IntEnum, StrEnum

__all__ = ["Method", "StatusClass", "status_class"]


class Method(StrEnum):
    """Methods of RFC 3261 and its extensions (3262, 3265, 3311, 3428, 3515, 3903, 6086)."""

    INVITE = "INVITE"
    ACK = "ACK"
    BYE = "BYE"
    CANCEL = "CANCEL"
    REGISTER = "REGISTER"
    OPTIONS = "OPTIONS"
    PRACK = "PRACK"
    SUBSCRIBE = "SUBSCRIBE"
    NOTIFY = "NOTIFY"
    PUBLISH = "PUBLISH"
    INFO = "INFO"
    REFER = "REFER"
    MESSAGE = "MESSAGE"
    UPDATE = "UPDATE"


class StatusClass(IntEnum):
    """The first digit of a status code (RFC 3261 section 21)."""

    PROVISIONAL = 1
    SUCCESS = 2
    REDIRECTION = 3
    CLIENT_ERROR = 4
    SERVER_ERROR = 5
    GLOBAL_FAILURE = 6


def status_class(code: int) -> StatusClass:
    """Class of a status code, clamped to 1..6."""
    return StatusClass(min(6, max(1, code // 100)))
