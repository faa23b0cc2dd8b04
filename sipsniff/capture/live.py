"""Live capture: frames from a network interface, with the kernel's drop counts.

Strategy: two engines hand out the same ``Frame`` records the file readers
do, so a live capture runs the file path's pipeline unchanged.

- ``scapy`` (default): a Linux packet socket read with ``recvmsg_into`` into
  one reused buffer; scapy compiles the BPF filter (through libpcap) and the
  program is attached in the kernel *before* the socket is bound, so no
  unfiltered packet is ever queued.  No scapy packet object is built: the
  bytes become a ``Frame`` directly, stamped with the kernel's receive time
  (``SO_TIMESTAMPNS``).  A named interface is read at its link layer
  (Ethernet for ``eth*``, ``veth*`` and ``lo``); ``any`` and interfaces with no
  Ethernet header (tun, WireGuard) are read "cooked" and each packet gets the
  16-byte LINUX_SLL header libpcap would give it.  On loopback every packet
  passes twice (out, then in); like libpcap we keep one copy.
- ``tshark``: dumpcap writes pcapng to a pipe that sipsniff's own pcapng
  reader reads in a thread (``_dumpcap.py``).

Rules:
- Drops are counted and reported (``PACKET_STATISTICS`` on the socket, the
  ISB from dumpcap), never hidden.
- Every failure to start is a ``CaptureError`` whose one line says how to fix it.
- Only this module may import scapy or pyshark (ruff's banned-api list).
"""

from __future__ import annotations

import ctypes
import errno
import os
import select
import shutil
import socket
import struct
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..diagnostics import CaptureError, Diagnostic
from .frame import Frame, LinkType

__all__ = [
    "DEFAULT_FILTER",
    "ENGINES",
    "SNAPLEN",
    "SOCKET_BUFFER",
    "CaptureStats",
    "LiveCapture",
    "compile_bpf",
    "default_interface",
    "open_live",
    "permission_error",
    "unknown_interface",
]

ENGINES = ("scapy", "tshark")

DEFAULT_FILTER = (
    "(tcp and not port 22)"
    " or (udp and udp[8] >= 0x41 and udp[8] <= 0x5a)"
    " or (ip[6:2] & 0x3fff != 0)"
    " or (ip6 and ip6[6] == 17 and ip6[48] >= 0x41 and ip6[48] <= 0x5a)"
    " or (ip6 and ip6[6] != 6 and ip6[6] != 17 and ip6[6] != 58"
    " and not (ip6[6] == 0 and ip6[40] == 58))"
    " or ip proto 4 or ip proto 41"
)
"""Keep what can carry SIP, drop the media.

SIP is recognised on any port, so the filter tests the payload, not the port:

- TCP, all of it (a SIP message may start in the middle of a segment), except
  SSH so that watching the dashboard over SSH does not capture itself;
- UDP over IPv4 whose payload starts with an uppercase letter: every request
  method (``INVITE``, ``REGISTER``...) and every response (``SIP/2.0``) does,
  while RTP and RTCP start with 0x80-0xbf, STUN with 0x00/0x01 and keep-alive
  CRLFs with 0x0d;
- IPv4 fragments (MF set or a fragment offset): only the first carries the
  UDP header, and reassembly needs all of them;
- the same test for UDP directly over IPv6 (payload at byte 48), and every
  IPv6 packet with an extension header (fragments included) since BPF cannot
  walk the header chain, except the hop-by-hop + ICMPv6 of MLD reports;
- IP-in-IP and 6in4 tunnels, which the decoder opens.
"""

# One packet can exceed the MTU after GRO/TSO (64 KiB on loopback); libpcap's
# default snaplen is 262144 for the same reason.
SNAPLEN = 262_144
# The kernel queue absorbs what arrives while Python renders the dashboard: at
# 1,000 SIP packets/s of ~1 KB, 32 MiB is half a minute (tcpdump's -B default
# is 2 MiB, for a C loop that never pauses).
SOCKET_BUFFER = 32 * 1024 * 1024
# Packets taken from the socket per ``read`` call, so that a flood still lets
# the caller refresh its screen and check its stop conditions.
_BATCH = 1024

_SOL_PACKET = 263
_PACKET_ADD_MEMBERSHIP = 1
_PACKET_STATISTICS = 6
_PACKET_AUXDATA = 8
_PACKET_IGNORE_OUTGOING = 23
_PACKET_MR_PROMISC = 1
_PACKET_OUTGOING = 4
_SO_ATTACH_FILTER = 26
_SO_TIMESTAMPNS = 35
_SO_RCVBUFFORCE = 33
_ETH_P_ALL = 0x0003
_ARPHRD_ETHER = 1
_ARPHRD_LOOPBACK = 772
_TP_STATUS_VLAN_VALID = 0x10
_TP_STATUS_VLAN_TPID_VALID = 0x40
_DLT_EN10MB = 1
_DLT_RAW = 12
_AUXDATA = struct.Struct("@IIIHHHH")
_TIMESPEC = struct.Struct("@ll")
_SLL = struct.Struct("!HHH8sH")
_VLAN_TAG = struct.Struct("!HH")
_PKT_STATS = struct.Struct("@II")


@dataclass(slots=True, kw_only=True)
class CaptureStats:
    """What the capture saw, and what it lost before sipsniff could read it."""

    received: int = 0
    """Packets handed to sipsniff."""
    dropped: int = 0
    """Packets lost before sipsniff read them: the kernel's queue was full (for dumpcap,
    its interface and its own drops)."""


def permission_error(iface: str, engine: str = "scapy") -> CaptureError:
    """The one-line error for a capture without CAP_NET_RAW, with the fix."""
    if engine == "tshark":
        target = shutil.which("dumpcap") or "/usr/bin/dumpcap"
    else:
        target = os.path.realpath(sys.executable)
    return CaptureError(
        f"no permission to capture on {iface}: run it with sudo, or allow capture once "
        f"with: sudo setcap cap_net_raw,cap_net_admin=eip {target}"
    )


def unknown_interface(iface: str) -> CaptureError:
    names = ", ".join(["any", *sorted(n for _i, n in socket.if_nameindex())])
    return CaptureError(f"unknown interface {iface!r}: choose one of {names} (see `ip link`)")


def default_interface() -> str:
    """The system's default capture device, as scapy chooses it (the default route's)."""
    from scapy.all import conf

    return str(conf.iface)


def compile_bpf(expr: str, linktype: int) -> list[tuple[int, int, int, int]]:
    """Compile a tcpdump filter expression to BPF instructions ``(code, jt, jf, k)``.

    Args:
        expr: the filter, in pcap-filter(7) syntax.
        linktype: the DLT the program will see (1 Ethernet, 12 raw IP).

    Raises:
        CaptureError: the expression does not compile (the message says why).
    """
    try:
        from scapy.arch.common import compile_filter, free_filter
        from scapy.error import Scapy_Exception
    except (ImportError, OSError) as exc:  # pragma: no cover - scapy is a dependency
        raise CaptureError(f"cannot compile the capture filter: {exc}") from exc
    try:
        prog = compile_filter(expr, linktype=linktype)
    except ImportError as exc:
        raise CaptureError(
            "cannot compile the capture filter: libpcap is missing "
            "(install it: apt install libpcap0.8)"
        ) from exc
    except Scapy_Exception as exc:
        detail = str(exc).split("(", 1)[-1].rstrip(")") if "(" in str(exc) else str(exc)
        raise CaptureError(f"bad capture filter {expr!r}: {detail}") from exc
    try:
        insns = [
            (
                prog.bf_insns[i].code,
                prog.bf_insns[i].jt,
                prog.bf_insns[i].jf,
                prog.bf_insns[i].k & 0xFFFFFFFF,
            )
            for i in range(prog.bf_len)
        ]
    finally:
        free_filter(prog)
    # scapy compiles with a 64 KiB snaplen; accept whole GRO'd packets instead.
    return [(c, jt, jf, SNAPLEN if c == 0x06 and k else k) for c, jt, jf, k in insns]


class _Insn(ctypes.Structure):
    _fields_ = [
        ("code", ctypes.c_uint16),
        ("jt", ctypes.c_uint8),
        ("jf", ctypes.c_uint8),
        ("k", ctypes.c_uint32),
    ]


class _Fprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_uint16), ("filter", ctypes.POINTER(_Insn))]


def _attach(sock: socket.socket, insns: list[tuple[int, int, int, int]]) -> None:
    arr = (_Insn * len(insns))(*(_Insn(*i) for i in insns))
    prog = _Fprog(len(insns), ctypes.cast(arr, ctypes.POINTER(_Insn)))
    sock.setsockopt(socket.SOL_SOCKET, _SO_ATTACH_FILTER, bytes(prog))


class LiveCapture:
    """A running capture: ``read`` batches of frames, ``stop`` to drain, ``close``."""

    engine: str
    iface: str
    bpf: str
    linktype: int

    def __init__(self) -> None:
        self.stats = CaptureStats()
        self._number = 0

    def read(self, timeout: float) -> list[Frame]:
        """Wait up to ``timeout`` seconds for packets; return those available (maybe none).

        Raises:
            CaptureError: the capture broke (interface gone, dumpcap died).
        """
        raise NotImplementedError

    def stop(self) -> list[Frame]:
        """Stop capturing and return the packets still queued (the kernel's or dumpcap's)."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def poll_stats(self) -> CaptureStats:
        """Refresh and return the counters (drops included)."""
        return self.stats

    def __enter__(self) -> LiveCapture:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class PacketSocketCapture(LiveCapture):
    """The ``scapy`` engine: a Linux AF_PACKET socket with a kernel BPF filter."""

    engine = "scapy"

    def __init__(self, iface: str, bpf: str) -> None:
        super().__init__()
        self.iface = iface
        self.bpf = bpf
        cooked = iface == "any"
        hatype = _ARPHRD_ETHER
        if not cooked:
            try:
                socket.if_nametoindex(iface)
            except OSError:
                raise unknown_interface(iface) from None
            hatype = _sysfs_int(iface, "type", _ARPHRD_ETHER)
            if not _sysfs_int(iface, "flags", 1) & 1:
                raise CaptureError(
                    f"interface {iface} is down: bring it up first (ip link set {iface} up)"
                )
            cooked = hatype not in (_ARPHRD_ETHER, _ARPHRD_LOOPBACK)
        self.cooked = cooked
        self.linktype = LinkType.LINUX_SLL if cooked else LinkType.ETHERNET
        insns = compile_bpf(bpf, _DLT_RAW if cooked else _DLT_EN10MB)
        kind = socket.SOCK_DGRAM if cooked else socket.SOCK_RAW
        try:
            # Protocol 0: the socket receives nothing until it is bound, so the
            # filter is in place before the first packet is queued.
            sock = socket.socket(
                socket.AF_PACKET, kind, 0 if iface != "any" else socket.htons(_ETH_P_ALL)
            )
        except PermissionError:
            raise permission_error(iface) from None
        except OSError as exc:
            raise CaptureError(f"cannot open a packet socket: {exc.strerror or exc}") from exc
        self._sock = sock
        try:
            self._setup(sock, insns, hatype)
        except OSError as exc:
            sock.close()
            if exc.errno in (errno.EPERM, errno.EACCES):
                raise permission_error(iface) from None
            if exc.errno in (errno.ENODEV, errno.ENXIO):
                raise unknown_interface(iface) from None
            raise CaptureError(f"cannot capture on {iface}: {exc.strerror or exc}") from exc
        self._buf = bytearray(SNAPLEN)
        self._view = memoryview(self._buf)
        self._poll = select.poll()
        self._poll.register(sock.fileno(), select.POLLIN)
        self._closed = False

    def _setup(
        self, sock: socket.socket, insns: list[tuple[int, int, int, int]], hatype: int
    ) -> None:
        if self.iface == "any":
            # Already receiving: hold everything back while the queue is emptied,
            # then swap in the real program (libpcap does the same).
            _attach(sock, [(0x06, 0, 0, 0)])
            sock.setblocking(False)
            try:
                while True:
                    sock.recv(1)
            except BlockingIOError:
                pass
            sock.setblocking(True)
        _attach(sock, insns)
        try:
            sock.setsockopt(socket.SOL_SOCKET, _SO_RCVBUFFORCE, SOCKET_BUFFER)
        except OSError:  # no CAP_NET_ADMIN: as much as net.core.rmem_max allows
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SOCKET_BUFFER)
        sock.setsockopt(_SOL_PACKET, _PACKET_AUXDATA, 1)
        sock.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)
        self._skip_outgoing_lo = True
        if self.iface != "any":
            if hatype == _ARPHRD_LOOPBACK:
                try:  # Linux >= 4.20: the kernel keeps only the incoming copy
                    sock.setsockopt(_SOL_PACKET, _PACKET_IGNORE_OUTGOING, 1)
                    self._skip_outgoing_lo = False
                except OSError:
                    pass
            else:
                index = socket.if_nametoindex(self.iface)
                mreq = struct.pack("@iHH8s", index, _PACKET_MR_PROMISC, 0, b"")
                sock.setsockopt(_SOL_PACKET, _PACKET_ADD_MEMBERSHIP, mreq)
            sock.bind((self.iface, _ETH_P_ALL))

    def read(self, timeout: float) -> list[Frame]:
        if self._closed or not self._poll.poll(max(0, int(timeout * 1000))):
            return []
        return self._drain(_BATCH)

    def _drain(self, limit: int) -> list[Frame]:
        out: list[Frame] = []
        recv = self._sock.recvmsg_into
        bufs = [self._buf]
        view = self._view
        flags = socket.MSG_DONTWAIT | socket.MSG_TRUNC
        cooked = self.cooked
        skip_lo = self._skip_outgoing_lo
        linktype = self.linktype
        for _ in range(limit):
            try:
                n, anc, _fl, addr = recv(bufs, 256, flags)
            except BlockingIOError:
                break
            except OSError as exc:
                if out:
                    break
                raise CaptureError(
                    f"capture on {self.iface} stopped: {exc.strerror or exc}"
                ) from exc
            pkttype = addr[2]
            if skip_lo and pkttype == _PACKET_OUTGOING and addr[3] == _ARPHRD_LOOPBACK:
                continue
            ts = 0
            tag = b""
            orig = n
            for lvl, typ, cdata in anc:
                if (
                    lvl == socket.SOL_SOCKET
                    and typ == _SO_TIMESTAMPNS
                    and len(cdata) >= _TIMESPEC.size
                ):
                    sec, nsec = _TIMESPEC.unpack_from(cdata)
                    ts = sec * 1_000_000_000 + nsec
                elif lvl == _SOL_PACKET and typ == _PACKET_AUXDATA and len(cdata) >= _AUXDATA.size:
                    status, tp_len, _snap, _mac, _net, tci, tpid = _AUXDATA.unpack_from(cdata)
                    orig = tp_len
                    if not cooked and (tci or status & _TP_STATUS_VLAN_VALID):
                        # The NIC took the 802.1Q tag off: put it back, as libpcap does.
                        if not status & _TP_STATUS_VLAN_TPID_VALID:
                            tpid = 0x8100
                        tag = _VLAN_TAG.pack(tpid, tci)
            cap = min(n, SNAPLEN)
            if cooked:
                hw = addr[4]
                head = _SLL.pack(pkttype, addr[3], len(hw), hw[:8], addr[1])
                data = head + view[:cap].tobytes()
                orig += _SLL.size
            elif tag:
                data = view[:12].tobytes() + tag + view[12:cap].tobytes()
                orig += 4
            else:
                data = view[:cap].tobytes()
            self._number += 1
            out.append(Frame(self._number, ts or time.time_ns(), linktype, data, orig, 0))
        self.stats.received += len(out)
        return out

    def poll_stats(self) -> CaptureStats:
        if not self._closed:
            try:
                raw = self._sock.getsockopt(_SOL_PACKET, _PACKET_STATISTICS, _PKT_STATS.size)
            except OSError:
                return self.stats
            _packets, drops = _PKT_STATS.unpack(raw)  # the kernel resets them on each read
            self.stats.dropped += drops
        return self.stats

    def stop(self) -> list[Frame]:
        if self._closed:
            return []
        out: list[Frame] = []
        while batch := self._drain(_BATCH):
            out.extend(batch)
        self.poll_stats()
        return out

    def close(self) -> None:
        if not self._closed:
            self.poll_stats()
            self._closed = True
            self._sock.close()


def _sysfs_int(iface: str, name: str, default: int) -> int:
    try:
        return int(Path(f"/sys/class/net/{iface}/{name}").read_text().strip(), 0)
    except (OSError, ValueError):
        return default


def open_live(
    iface: str | None,
    bpf: str | None = None,
    *,
    engine: str = "scapy",
    report: Callable[[Diagnostic], None] = lambda d: None,
) -> LiveCapture:
    """Start capturing on ``iface`` (None: the system default) with ``bpf`` (None: default).

    Raises:
        CaptureError: no permission, unknown interface, bad filter, missing tool.
    """
    if iface is None:
        iface = default_interface()
    if not bpf:
        bpf = DEFAULT_FILTER
    if engine == "tshark":
        from ._dumpcap import DumpcapCapture

        return DumpcapCapture(iface, bpf, report)
    if engine != "scapy":
        raise CaptureError(f"unknown capture engine {engine!r}: use one of {', '.join(ENGINES)}")
    if not sys.platform.startswith("linux"):
        raise CaptureError("the scapy engine needs Linux packet sockets: use --engine tshark")
    return PacketSocketCapture(iface, bpf)
