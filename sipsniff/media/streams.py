"""RTP and RTCP accounting per stream: the pure-Python reference of the native core's ``media.rs``.

Both engines must report the same figures, so this module follows the rules the
core documents (``/work/notes`` spec, mirrored in the core's header) one for one:

- A UDP datagram that is not SIP or HEP is RTCP when version 2, packet type 200..207
  and its length word fits; else RTP when 12 bytes or more, version 2, payload type
  not 72..76 and CSRC/extension/padding fit (``rtp_payload``).
- Sequence (RFC 3550 A.3): the highest extended sequence number moves on small
  forward steps; a step back is a late packet (a duplicate when its number was seen
  in the last 128), and moves the base back when older than it.  ``lost`` is
  expected minus unique packets, so reordering and duplicates are not loss.
- Jitter (RFC 3550 A.8) on every packet after the first, with the clock of the
  SDP's ``a=rtpmap`` for the destination, else RFC 3551's static clock.
- Delta and jitter statistics skip what Wireshark skips (the first packet, marker
  packets, comfort noise and the packet after it, a timestamp stepping back), so
  the figures compare with ``tshark -z rtp,streams``.
- A stream is listed only once a packet followed its predecessor by one (DNS or
  NetBIOS with RTP-looking first bytes never do).
- Tables are bounded (``MAX_STREAMS``), the least recently seen evicted and counted.

Rules: sans-I/O; nothing of SIP beyond the (address, port, rtpmap) an SDP announces.
"""

from __future__ import annotations

import struct
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "MAX_STREAMS",
    "MediaTable",
    "RtcpTuple",
    "StreamTuple",
    "is_rtcp",
    "rtp_payload",
    "static_clock",
]

# As the core: 4,096 streams is 2,048 two-way calls at once, more than a trunk
# capture holds; past it the least recently seen stream is evicted and counted.
MAX_STREAMS = 4096
MAX_PAYLOAD_TYPES = 8
MAX_EVENTS = 64
MAX_SR_TIMES = 4096
MAX_ENDPOINTS = 4096
_SEEN_WINDOW = 128
_I32 = struct.Struct("!i")
_U32 = struct.Struct("!I")

StreamTuple = tuple[Any, ...]
"""``Scanner.streams()``'s layout: (src, sport, dst, dport, ssrc, first_frame, last_frame,
first_ts_ns, last_ts_ns, packets, bytes, payload_types, expected, lost, seq_errors,
duplicates, max_delta_ns, mean_delta_ns, jitter_ms, max_jitter_ms, mean_jitter_ms,
clock_rate, markers, events)."""
RtcpTuple = tuple[Any, ...]
"""``Scanner.rtcp()``'s layout: (src, sport, dst, dport, ssrc, first_frame, last_frame, sr, rr,
fraction_lost, cumulative_lost, jitter, rtt_ms)."""


def static_clock(pt: int) -> int:
    """The RTP clock of a static payload type (RFC 3551 tables 4 and 5), 0 if none."""
    if 0 <= pt <= 8 or pt in (12, 13, 15, 18):
        return 8000  # G.722 (9) too: 16 kHz sampled, 8 kHz RTP clock (RFC 3551 4.5.2)
    if pt == 9:
        return 8000
    if pt in (10, 11):
        return 44_100
    if pt in (14, 25, 26, 28, 31, 32, 33, 34):
        return 90_000
    return {16: 11_025, 17: 22_050}.get(pt, 0)


def rtp_payload(d: bytes) -> tuple[int, int] | None:
    """(offset, length) of an RTP packet's payload, or None when ``d`` is not RTP."""
    n = len(d)
    if n < 12 or d[0] >> 6 != 2 or 72 <= (d[1] & 0x7F) <= 76:
        return None
    off = 12 + 4 * (d[0] & 0x0F)
    if d[0] & 0x10:
        if off + 4 > n:
            return None
        off += 4 + 4 * int.from_bytes(d[off + 2 : off + 4], "big")
    end = n
    if d[0] & 0x20:
        pad = d[-1]
        if pad == 0 or pad > end:
            return None
        end -= pad
    if off > end:
        return None
    return off, end - off


def is_rtcp(d: bytes) -> bool:
    """An RTCP packet (its first one's header): version 2, type 200..207, length fits."""
    return (
        len(d) >= 4
        and d[0] >> 6 == 2
        and 200 <= d[1] <= 207
        and (int.from_bytes(d[2:4], "big") + 1) * 4 <= len(d)
    )


@dataclass(slots=True)
class _Stream:
    first_frame: int
    first_ts_ns: int
    last_ts_ns: int
    base_ext: int
    max_ext: int
    clock_rate: int
    payload_types: list[int]
    event_pts: int
    last_frame: int = 0
    packets: int = 0
    nbytes: int = 0
    seq_errors: int = 0
    duplicates: int = 0
    max_delta_ns: int = 0
    sum_delta_ns: int = 0
    delta_samples: int = 0
    jitter: float = 0.0
    max_jitter_ms: float = 0.0
    mean_jitter_ms: float = 0.0
    markers: int = 0
    events: list[tuple[int, int]] = field(default_factory=list)
    seen: int = 0
    after_cn: bool = False
    last_rtp_ts: int = 0
    sequential: bool = False
    last_transit: float = 0.0
    have_transit: bool = False
    last_event_ts: int | None = None

    def packet(self, frame: int, ts_ns: int, d: bytes, off: int, size: int) -> None:
        pt = d[1] & 0x7F
        seq = (d[2] << 8) | d[3]
        rtp_ts = _U32.unpack_from(d, 4)[0]
        event_pt = size >= 4 and bool(self.event_pts >> pt & 1)
        first = self.packets == 0
        self.last_frame = frame
        self.packets += 1
        self.nbytes += size
        marker = bool(d[1] & 0x80)
        if marker:
            self.markers += 1
        cn = pt in (13, 19)
        back = not first and _I32.unpack(_U32.pack((rtp_ts - self.last_rtp_ts) & 0xFFFFFFFF))[0] < 0
        self.last_rtp_ts = rtp_ts
        counted = not first and not marker and not cn and not self.after_cn and not back
        self.after_cn = cn
        if not first:
            delta = ts_ns - self.last_ts_ns
            if counted:
                self.max_delta_ns = max(self.max_delta_ns, delta)
                self.sum_delta_ns += delta
                self.delta_samples += 1
            self.last_ts_ns = ts_ns
            udelta = (seq - self.max_ext) & 0xFFFF
            if udelta == 0:
                self.duplicates += 1
            elif udelta < 0x8000:
                if udelta == 1:
                    self.sequential = True
                else:
                    self.seq_errors += 1
                self.seen = (
                    0 if udelta >= _SEEN_WINDOW else (self.seen << udelta) & ((1 << 128) - 1)
                )
                self.seen |= 1
                self.max_ext += udelta
            else:
                older = (-udelta) & 0xFFFF
                if older < _SEEN_WINDOW and self.seen >> older & 1:
                    self.duplicates += 1
                else:
                    self.seq_errors += 1
                    if older < _SEEN_WINDOW:
                        self.seen |= 1 << older
                    self.base_ext = min(self.base_ext, max(self.max_ext - older, 0))
        else:
            self.seen = 1
        rate = self.clock_rate
        if rate:
            transit = float(ts_ns) * rate / 1e9 - rtp_ts
            if self.have_transit:
                dd = transit - self.last_transit
                if dd > 2_147_483_648.0:
                    dd -= 4_294_967_296.0
                elif dd < -2_147_483_648.0:
                    dd += 4_294_967_296.0
                self.jitter += (abs(dd) - self.jitter) / 16.0
                ms = self.jitter * 1000.0 / rate
                if counted:
                    self.max_jitter_ms = max(self.max_jitter_ms, ms)
                    n = float(self.packets - 1)
                    self.mean_jitter_ms = (self.mean_jitter_ms * (n - 1.0) + ms) / n
            self.last_transit = transit
            self.have_transit = True
        if event_pt and self.last_event_ts != rtp_ts:
            self.last_event_ts = rtp_ts
            if len(self.events) < MAX_EVENTS:
                self.events.append((d[off], frame))


@dataclass(slots=True)
class _Rtcp:
    first_frame: int
    last_frame: int = 0
    sr: int = 0
    rr: int = 0
    fraction_lost: int = 0
    cumulative_lost: int = 0
    jitter: int = 0
    rtt_ms: float | None = None


_Key = tuple[str, int, str, int, int]


class MediaTable:
    """``datagram(...)`` for every non-SIP UDP payload; ``streams()``/``rtcp()`` at the end."""

    def __init__(self) -> None:
        self._streams: dict[_Key, _Stream] = {}
        self._rtcp: dict[_Key, _Rtcp] = {}
        self._endpoints: dict[tuple[str, int], list[tuple[int, int, bool]]] = {}
        self._sr_times: OrderedDict[int, int] = OrderedDict()
        self.evicted = 0
        self.first_evicted_frame = 0

    def announce(self, addr: str, port: int, rtpmap: Iterable[tuple[int, str]]) -> None:
        """An SDP's media endpoint and its ``a=rtpmap`` (payload type, ``name/rate``) pairs."""
        rates = []
        for pt, enc in list(rtpmap)[:32]:
            parts = enc.split("/")
            try:
                rate = int(parts[1].strip()) if len(parts) > 1 else 0
            except ValueError:
                continue
            if rate > 0:
                rates.append((pt & 0x7F, rate, parts[0].lower() == "telephone-event"))
        key = (addr, port)
        if len(self._endpoints) >= MAX_ENDPOINTS and key not in self._endpoints:
            return
        self._endpoints[key] = rates

    def _clock(self, dst: str, dport: int, pt: int) -> tuple[int, bool]:
        known = self._endpoints.get((dst, dport))
        if known is None:
            return static_clock(pt), pt == 101
        for p, rate, tel in known:
            if p == pt:
                return rate, tel
        return static_clock(pt), False

    def _room(self, table: dict[_Key, _Stream] | dict[_Key, _Rtcp], frame: int) -> None:
        if len(table) < MAX_STREAMS:
            return
        oldest = min(table, key=lambda k: table[k].last_frame)
        del table[oldest]
        if self.evicted == 0:
            self.first_evicted_frame = frame
        self.evicted += 1

    def datagram(
        self, frame: int, ts_ns: int, src: str, sport: int, dst: str, dport: int, d: bytes
    ) -> bool:
        """Account one UDP payload; False when it is neither RTP nor RTCP."""
        if is_rtcp(d):
            self._rtcp_packet(frame, ts_ns, (src, sport, dst, dport), d)
            return True
        found = rtp_payload(d)
        if found is None:
            return False
        off, size = found
        key = (src, sport, dst, dport, _U32.unpack_from(d, 8)[0])
        pt = d[1] & 0x7F
        s = self._streams.get(key)
        if s is not None:
            if pt not in s.payload_types:
                rate, tel = self._clock(dst, dport, pt)
                if len(s.payload_types) < MAX_PAYLOAD_TYPES:
                    s.payload_types.append(pt)
                s.event_pts |= int(tel) << pt
                if rate and not tel:
                    s.clock_rate = rate
            s.packet(frame, ts_ns, d, off, size)
            return True
        self._room(self._streams, frame)
        rate, tel = self._clock(dst, dport, pt)
        seq = ((d[2] << 8) | d[3]) + 0x10000
        s = _Stream(
            first_frame=frame,
            first_ts_ns=ts_ns,
            last_ts_ns=ts_ns,
            base_ext=seq,
            max_ext=seq,
            clock_rate=0 if tel else rate,
            payload_types=[pt],
            event_pts=int(tel) << pt,
        )
        s.packet(frame, ts_ns, d, off, size)
        self._streams[key] = s
        return True

    def _rtcp_packet(
        self, frame: int, ts_ns: int, flow: tuple[str, int, str, int], d: bytes
    ) -> None:
        at = 0
        while at + 8 <= len(d):
            if d[at] >> 6 != 2:
                break
            size = (int.from_bytes(d[at + 2 : at + 4], "big") + 1) * 4
            if size > len(d) - at:
                break
            p = d[at : at + size]
            if p[1] not in (200, 201) or len(p) < 8:
                at += size
                continue
            blocks_at, sr = (28, True) if p[1] == 200 else (8, False)
            key = (*flow, _U32.unpack_from(p, 4)[0])
            r = self._rtcp.get(key)
            if r is None:
                self._room(self._rtcp, frame)
                r = self._rtcp[key] = _Rtcp(first_frame=frame)
            r.last_frame = frame
            if sr:
                r.sr += 1
            else:
                r.rr += 1
            if p[0] & 0x1F and blocks_at + 24 <= len(p):
                b = p[blocks_at : blocks_at + 24]
                r.fraction_lost = b[4]
                r.cumulative_lost = _I32.unpack(b[5:8] + b"\0")[0] >> 8
                r.jitter = _U32.unpack_from(b, 12)[0]
                lsr, dlsr = _U32.unpack_from(b, 16)[0], _U32.unpack_from(b, 20)[0]
                sent = self._sr_times.get(lsr) if lsr else None
                if sent is not None:
                    r.rtt_ms = (ts_ns - sent) / 1e6 - dlsr * 1000.0 / 65536.0
            if sr and len(p) >= 16:
                mid = (
                    (_U32.unpack_from(p, 8)[0] << 16) | (_U32.unpack_from(p, 12)[0] >> 16)
                ) & 0xFFFFFFFF
                if mid not in self._sr_times and len(self._sr_times) >= MAX_SR_TIMES:
                    self._sr_times.popitem(last=False)
                self._sr_times[mid] = ts_ns
            at += size

    def streams(self) -> list[StreamTuple]:
        """Listed streams, in ``Scanner.streams()``'s layout, by (first frame, SSRC)."""
        out: list[StreamTuple] = []
        for k, s in sorted(
            ((k, s) for k, s in self._streams.items() if s.sequential),
            key=lambda ks: (ks[1].first_frame, ks[0][4]),
        ):
            expected = s.max_ext - s.base_ext + 1
            out.append(
                (
                    *k,
                    s.first_frame,
                    s.last_frame,
                    s.first_ts_ns,
                    s.last_ts_ns,
                    s.packets,
                    s.nbytes,
                    tuple(s.payload_types),
                    expected,
                    expected - (s.packets - s.duplicates),
                    s.seq_errors,
                    s.duplicates,
                    s.max_delta_ns,
                    s.sum_delta_ns / s.delta_samples if s.delta_samples else 0.0,
                    s.jitter * 1000.0 / s.clock_rate if s.clock_rate else 0.0,
                    s.max_jitter_ms,
                    s.mean_jitter_ms,
                    s.clock_rate,
                    s.markers,
                    list(s.events),
                )
            )
        return out

    def rtcp(self) -> list[RtcpTuple]:
        """RTCP senders, in ``Scanner.rtcp()``'s layout, by (first frame, SSRC)."""
        return [
            (
                *k,
                r.first_frame,
                r.last_frame,
                r.sr,
                r.rr,
                r.fraction_lost,
                r.cumulative_lost,
                r.jitter,
                r.rtt_ms,
            )
            for k, r in sorted(self._rtcp.items(), key=lambda kr: (kr[1].first_frame, kr[0][4]))
        ]
