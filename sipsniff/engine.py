"""Which engine runs the per-packet path: the native core (Rust) or the reference (Python).

Strategy: the native core (``sipsniff/_core``, built into ``sipsniff._native``)
takes the common case of every frame -- a UDP datagram over Ethernet, Linux
cooked, raw or loopback links and IPv4/IPv6, a SIP message whose header block
is clean -- and hands everything else back to the pure-Python stages, which
stay the complete reference.  So both engines give the same output by
construction, and ``tests/test_engine.py`` compares them byte for byte on
every capture we have.

The choice, made once per process (children of a sharded run inherit it):
``--engine`` on the command line, else ``SIPSNIFF_ENGINE``, else native when
the extension imports, else python.  A machine without a Rust toolchain
installs sipsniff without the extension and runs the Python engine.

This module also turns the core's plain tuples into the records the rest of
sipsniff reads (``SipMessage`` with a lazy ``Headers`` view over the same
bytes), and words the core's diagnostic codes.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from types import ModuleType
from typing import Any, Final

from .capture import wording
from .decode.payload import Endpoint, Transport
from .diagnostics import CaptureError, Diagnostic, Stage, Trigger
from .sip.headers import Headers
from .sip.message import SipMessage
from .sip.message import parse_datagram as reference_parse
from .sip.sdp import Media, Sdp, parse_sdp

__all__ = [
    "ENGINES",
    "EV_BAD_INTERFACE",
    "EV_BAD_TIMESTAMP",
    "EV_DIAG",
    "EV_FALLBACK",
    "EV_MESSAGE",
    "EV_READ_STOP",
    "EV_SLOW",
    "EV_SLOW_FRAME",
    "EV_TICK",
    "describe",
    "diagnostic",
    "message",
    "native_module",
    "open_file",
    "parse_datagram",
    "reader_diagnostic",
    "select",
    "selected",
]

ENGINES: Final = ("native", "python")

# Event kinds and diagnostic codes of ``sipsniff._native`` (py/src/lib.rs).
EV_MESSAGE: Final = 0
EV_FALLBACK: Final = 1
EV_SLOW: Final = 2
EV_DIAG: Final = 3
EV_TICK: Final = 4
EV_SLOW_FRAME: Final = 5
EV_READ_STOP: Final = 6
EV_BAD_INTERFACE: Final = 7
EV_BAD_TIMESTAMP: Final = 8
_D_TRAILING, _D_BAD_START, _D_JUNK_PORT, _D_TIME_JUMP = 0, 1, 2, 3

_native: ModuleType | None = None
_import_error = ""
_loaded = False
_choice: str | None = None


def native_module() -> ModuleType | None:
    """The extension module, or None when it is not built (``describe`` says why)."""
    global _native, _import_error, _loaded
    if not _loaded:
        _loaded = True
        try:
            from . import _native as mod
        except ImportError as exc:
            _import_error = str(exc) or type(exc).__name__
        else:
            _native = mod
    return _native


def select(name: str | None) -> str:
    """Choose the engine for this process (None: the default); return the one chosen.

    Raises:
        ValueError: an unknown name, or ``native`` when the extension is not built.
    """
    global _choice
    if name is None:
        name = os.environ.get("SIPSNIFF_ENGINE") or None
    if name is None:
        _choice = "native" if native_module() is not None else "python"
        return _choice
    if name not in ENGINES:
        raise ValueError(f"unknown engine {name!r} (choose from {', '.join(ENGINES)})")
    if name == "native" and native_module() is None:
        raise ValueError(f"the native engine is not built here ({_import_error})")
    _choice = name
    return name


def selected() -> str:
    """The engine this process runs."""
    return _choice if _choice is not None else select(None)


def describe() -> str:
    """One line for ``sipsniff --version``."""
    mod = native_module()
    try:
        name = selected()
    except ValueError as exc:
        return f"engine: {exc}"
    if mod is None:
        return f"engine: python (the native core is not built: {_import_error})"
    return f"engine: {name} (native core {mod.version()} available)"


_new = tuple.__new__


def message(ev: tuple[Any, ...]) -> SipMessage:
    """The ``SipMessage`` of a native message event, as ``parse_datagram`` builds it."""
    _, (frame, ts_ns, src, sport, dst, dport), fields, tail = ev
    return _build(
        frame, ts_ns, _new(Endpoint, (src, sport)), _new(Endpoint, (dst, dport)), Transport.UDP,
        fields, tail,
    )  # fmt: skip


def parse_datagram(
    data: bytes,
    frame: int,
    ts_ns: int,
    src: Endpoint,
    dst: Endpoint,
    transport: str,
    start: re.Match[bytes] | None = None,
) -> tuple[SipMessage, int]:
    """``sip.message.parse_datagram`` with the native parser first (same result).

    The framer calls it for each complete message of a TCP stream; what the
    core does not call clean goes to the reference parser, problems and all.
    """
    mod = native_module()
    parts = mod.parse_message(data) if mod is not None else None
    if parts is None:
        return reference_parse(data, frame, ts_ns, src, dst, transport, start)
    msg = _build(frame, ts_ns, src, dst, transport, *parts)
    return msg, len(msg.raw)


def _build(
    frame: int,
    ts_ns: int,
    src: Endpoint,
    dst: Endpoint,
    transport: str,
    fields: tuple[Any, ...],
    tail: tuple[Any, ...],
) -> SipMessage:
    method, status, reason, uri, raw, hstart, hend, body_off, hot, call_id, cseq_num, cseq_m = (
        fields
    )
    branch, from_tag, to_tag, sdp = tail
    body = raw[body_off:]
    if sdp.__class__ is tuple:  # parsed by the core: (session fields..., media tuples)
        o, sid, ver, conn, direction, media = sdp
        sdp = _new(Sdp, (o, sid, ver, conn, direction, tuple([_new(Media, m) for m in media]), ()))
    elif sdp:  # an SDP body the core left to the reference parser
        sdp = parse_sdp(body)
    else:
        sdp = None
    return _new(
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
            Headers(raw, hstart, hend, hot, clean=True),
            body,
            raw,
            call_id,
            cseq_num,
            cseq_m,
            branch,
            from_tag,
            to_tag,
            sdp,
            (),
            (),
        ),
    )


_WORDS: Final = {
    _D_TRAILING: (Trigger.NOT_SIP, "{0} trailing bytes after the SIP message in a UDP datagram"),
    _D_BAD_START: (Trigger.BAD_START_LINE, "not a valid SIP start line: {0!r}"),
    _D_JUNK_PORT: (
        Trigger.NOT_SIP,
        "{0} bytes on SIP port {1} are not a SIP message (starting {2!r})",
    ),
}
"""The framer's words (``sip/framing.py``) for the core's SIP diagnostic codes."""


def diagnostic(ev: tuple[Any, ...]) -> Diagnostic:
    """Word a native diagnostic event exactly as the Python stages word the same problem."""
    _, code, frame, arg = ev
    if code == _D_TIME_JUMP:
        return time_jump(frame, arg)
    trigger, words = _WORDS[code]
    args = arg if isinstance(arg, tuple) else (arg,)
    return Diagnostic(frame=frame, stage=Stage.SIP, trigger=trigger, detail=words.format(*args))


def time_jump(frame: int, delta_ns: int) -> Diagnostic:
    """The capture clock jumped: timings around this frame are unreliable."""
    return Diagnostic(
        frame=frame,
        stage=Stage.CAPTURE,
        trigger=Trigger.TIME_JUMP,
        detail=f"timestamp jumps {delta_ns / 1e9:+,.0f} s from the previous frame; "
        "timings and timeouts around it are unreliable",
    )


def open_file(path: Path) -> Any:
    """The native reader of one uncompressed capture file.

    Raises:
        CaptureError: worded as the Python readers word the same problem.
    """
    mod = native_module()
    assert mod is not None
    try:
        return mod.FileReader(str(path))
    except OSError as exc:
        raise CaptureError(f"{path}: read error: {exc.strerror or exc}") from exc
    except ValueError as exc:
        kind, n = exc.args[0]
        raise CaptureError(
            f"{path}: too short to be a pcap file ({n} bytes)"
            if kind == "too-short"
            else f"{path}: pcapng section header has a bad byte-order mark"
            if kind == "bad-bom"
            else f"{path}: not a pcapng file"
            if kind == "not-pcapng"
            else f"{path}: not a pcap or pcapng capture"
        ) from exc


def reader_diagnostic(name: str, ev: tuple[Any, ...]) -> Diagnostic:
    """Word a native reader event (a file that stops, a block skipped, a time moved)."""
    if ev[0] == EV_READ_STOP:
        _, frame, loaded, code, args = ev  # args: two numbers; a stop words the ones it has
        return Diagnostic(
            frame=frame,
            stage=Stage.CAPTURE,
            trigger=Trigger.TRUNCATED_FILE,
            detail=wording.stopped(name, loaded, code, *args),
        )
    if ev[0] == EV_BAD_TIMESTAMP:
        _, frame, ts_ns = ev
        return Diagnostic(
            frame=frame,
            stage=Stage.CAPTURE,
            trigger=Trigger.BAD_TIMESTAMP,
            detail=wording.out_of_range(name, ts_ns),
        )
    _, frame, iface, interfaces = ev
    return Diagnostic(
        frame=frame,
        stage=Stage.CAPTURE,
        trigger=Trigger.BAD_BLOCK,
        detail=wording.bad_interface(name, iface, interfaces),
    )
