//! Per-stream RTP/RTCP accounting (issue 12), the native twin of
//! `sipsniff/media/` (the reference; `/work/notes/media-spec.md` is the spec).
//!
//! Strategy: RTP is most of every real capture, so a packet costs one hash
//! look-up and a few integer updates; nothing leaves Rust per packet.  Python
//! reads the finished table once ([`Media::streams`], [`Media::rtcp`]).
//!
//! Rules:
//! - A stream is (src, sport, dst, dport, SSRC); at most [`MAX_STREAMS`] are
//!   open, the least recently seen is evicted and counted ([`Media::evicted`]).
//! - Loss per RFC 3550 A.3 (extended highest minus base plus one, minus
//!   received); a reordered or duplicated packet is not loss.
//! - Jitter per RFC 3550 A.8 in timestamp units, reported in ms with the
//!   payload type's clock rate (RFC 3551 static table, or `a=rtpmap` of the
//!   SDP that announced the destination address:port).
//! - Every list a stream keeps is bounded by a named constant.

use crate::decode::Addr;
use crate::scan::Flow;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// FxHash (rustc's): the per-packet table look-up must be cheap.  Keys are
/// attacker-chosen, but the table is bounded, so a flood of colliding keys
/// costs at most `MAX_STREAMS` probes, never memory.
#[derive(Default)]
pub struct Fx(u64);

impl Hasher for Fx {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for c in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..c.len()].copy_from_slice(c);
            self.write_u64(u64::from_le_bytes(b));
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.write_u64(u64::from(i));
    }
    fn write_u16(&mut self, i: u16) {
        self.write_u64(u64::from(i));
    }
    fn write_u32(&mut self, i: u32) {
        self.write_u64(u64::from(i));
    }
    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(5) ^ i).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }
}

type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<Fx>>;

/// Open streams (RTP and RTCP tables each).
pub const MAX_STREAMS: usize = 4096;
/// Payload types kept per stream, in order of first appearance.
pub const MAX_PAYLOAD_TYPES: usize = 8;
/// RFC 4733 events kept per stream.
pub const MAX_EVENTS: usize = 64;
/// SR send times remembered for LSR/DLSR round-trips.
pub const MAX_SR_TIMES: usize = 4096;
/// SDP media endpoints remembered for their rtpmap clock rates.
pub const MAX_ENDPOINTS: usize = 4096;

/// An announced payload type: (payload type, clock rate, telephone-event).
type RtpMap = (u8, u32, bool);
/// (address text, port) of an SDP media line → its payload types.
type Endpoints = HashMap<(String, u16), Vec<RtpMap>>;

/// The stream key: addresses, ports and SSRC.
pub type Key = (Addr, u16, Addr, u16, u32);

/// RFC 3551 clock rates of the static payload types (0 = unknown).
pub fn static_clock(pt: u8) -> u32 {
    match pt {
        0..=8 | 12 | 13 | 15 | 18 => 8000,
        9 => 8000, // G.722: 16 kHz sampled, 8 kHz RTP clock (RFC 3551 4.5.2)
        10 | 11 => 44_100,
        14 | 25 | 26 | 28 | 31..=34 => 90_000,
        16 => 11_025,
        17 => 22_050,
        _ => 0,
    }
}

/// An RTP stream's figures.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stream {
    pub first_frame: u64,
    pub last_frame: u64,
    pub first_ts_ns: i128,
    pub last_ts_ns: i128,
    pub packets: u64,
    /// RTP payload bytes (header, CSRCs, extension and padding excluded).
    pub bytes: u64,
    pub payload_types: Vec<u8>,
    /// Extended base and highest sequence numbers (cycles << 16 | seq; the
    /// first packet's cycle is 1 so a packet older than it needs no sign).
    pub base_ext: u64,
    pub max_ext: u64,
    pub seq_errors: u64,
    pub duplicates: u64,
    /// Over the packets that count (see [`Stream::packet`]): max, sum, count.
    pub max_delta_ns: i128,
    pub sum_delta_ns: i128,
    pub delta_samples: u64,
    /// Jitter in timestamp units (RFC 3550 A.8 `J`).
    pub jitter: f64,
    pub max_jitter_ms: f64,
    /// Wireshark's running mean: on each counted packet, mean = (mean *
    /// (n - 1) + jitter) / n with n the packets before it (counted or not),
    /// so `tshark -z rtp,streams` and sipsniff print the same figure.
    pub mean_jitter_ms: f64,
    pub clock_rate: u32,
    pub markers: u64,
    /// RFC 4733 events: (event code, frame of its first packet).
    pub events: Vec<(u8, u64)>,
    /// Bit i set: extended sequence `max_ext - i` was received.
    seen: u128,
    /// Bit pt set: payload type pt carries RFC 4733 events.
    event_pts: u128,
    after_cn: bool,
    last_rtp_ts: u32,
    /// One packet followed its predecessor's sequence number: a header check
    /// alone admits DNS and NetBIOS, a steady sequence does not.
    pub sequential: bool,
    last_transit: f64,
    have_transit: bool,
    last_event_ts: Option<u32>,
}

impl Stream {
    /// Expected packets (RFC 3550 A.3).
    pub fn expected(&self) -> u64 {
        self.max_ext - self.base_ext + 1
    }
    /// Lost packets: expected minus received (negative with duplicates).
    pub fn lost(&self) -> i64 {
        self.expected() as i64 - (self.packets - self.duplicates) as i64
    }
    pub fn jitter_ms(&self) -> f64 {
        if self.clock_rate == 0 {
            0.0
        } else {
            self.jitter * 1000.0 / f64::from(self.clock_rate)
        }
    }
}

/// RTCP figures of one sender SSRC.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Rtcp {
    pub first_frame: u64,
    pub last_frame: u64,
    pub sr: u64,
    pub rr: u64,
    /// Of the last report block: fraction lost (/256), cumulative lost, jitter (units).
    pub fraction_lost: u8,
    pub cumulative_lost: i32,
    pub jitter: u32,
    /// Last round-trip from LSR/DLSR in ms (None before a block with LSR).
    pub rtt_ms: Option<f64>,
}

/// The media tables.
#[derive(Default)]
pub struct Media {
    streams: FxMap<Key, Stream>,
    rtcp: FxMap<Key, Rtcp>,
    /// (address text, port) → [(payload type, clock rate, telephone-event)].
    endpoints: Endpoints,
    /// Capture time of each SR seen, by its NTP middle 32 bits (the LSR a
    /// report block echoes), oldest first out: the round-trip is measured on
    /// the capture clock, as Wireshark does, since endpoints' clocks differ.
    sr_times: FxMap<u32, i128>,
    sr_order: std::collections::VecDeque<u32>,
    /// Streams evicted (RTP and RTCP), and the frame of the first eviction.
    pub evicted: u64,
    pub first_evicted_frame: u64,
}

/// A valid RTP header: (payload offset, payload length).
pub fn rtp_payload(d: &[u8]) -> Option<(usize, usize)> {
    if d.len() < 12 || d[0] >> 6 != 2 || (72..=76).contains(&(d[1] & 0x7f)) {
        return None;
    }
    let mut off = 12 + 4 * usize::from(d[0] & 0x0f);
    if d[0] & 0x10 != 0 {
        let h = d.get(off..off + 4)?;
        off += 4 + 4 * usize::from(u16::from_be_bytes([h[2], h[3]]));
    }
    let mut end = d.len();
    if d[0] & 0x20 != 0 {
        let pad = usize::from(*d.last()?);
        if pad == 0 {
            return None;
        }
        end = end.checked_sub(pad)?;
    }
    if off > end {
        return None;
    }
    Some((off, end - off))
}

/// A valid RTCP compound start: version 2, type 200..207, length fits.
pub fn is_rtcp(d: &[u8]) -> bool {
    d.len() >= 4
        && d[0] >> 6 == 2
        && (200..=207).contains(&d[1])
        && (usize::from(u16::from_be_bytes([d[2], d[3]])) + 1) * 4 <= d.len()
}

fn be32(d: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([d[at], d[at + 1], d[at + 2], d[at + 3]])
}

/// (clock rate, is telephone-event) of `pt` towards `flow`'s destination:
/// its SDP's rtpmap, else RFC 3551 (and 101 taken as telephone-event when
/// no SDP announced the destination).
fn clock(endpoints: &Endpoints, flow: &Flow, pt: u8) -> (u32, bool) {
    match endpoints.get(&(flow.dst.text(), flow.dport)) {
        Some(r) => match r.iter().find(|e| e.0 == pt) {
            Some(&(_, rate, tel)) => (rate, tel),
            None => (static_clock(pt), false),
        },
        None => (static_clock(pt), pt == 101),
    }
}

/// Evict the least recently seen entry when `map` is full.
fn make_room<V>(map: &mut FxMap<Key, V>, last: impl Fn(&V) -> u64) -> bool {
    if map.len() < MAX_STREAMS {
        return false;
    }
    if let Some(k) = map.iter().min_by_key(|(_, v)| last(v)).map(|(k, _)| *k) {
        map.remove(&k);
    }
    true
}

impl Media {
    pub fn new() -> Self {
        Self::default()
    }

    /// Remember an SDP media endpoint's rtpmap clock rates.
    pub fn announce(&mut self, addr: &str, port: u16, rtpmap: &[(String, String)]) {
        let mut rates = Vec::new();
        for (pt, enc) in rtpmap.iter().take(32) {
            let Ok(pt) = pt.parse::<u8>() else { continue };
            let mut parts = enc.split('/');
            let name = parts.next().unwrap_or("");
            let rate = parts.next().and_then(|r| r.trim().parse::<u32>().ok());
            let tel = name.eq_ignore_ascii_case("telephone-event");
            if let Some(rate) = rate.filter(|&r| r > 0) {
                rates.push((pt & 0x7f, rate, tel));
            }
        }
        let key = (addr.to_owned(), port);
        if self.endpoints.len() >= MAX_ENDPOINTS && !self.endpoints.contains_key(&key) {
            return;
        }
        self.endpoints.insert(key, rates);
    }

    /// A non-SIP UDP datagram: RTCP or RTP is accounted, anything else ignored.
    /// Returns whether it was media.
    pub fn datagram(&mut self, frame: u64, ts_ns: i128, flow: &Flow, d: &[u8]) -> bool {
        if is_rtcp(d) {
            self.rtcp_packet(frame, ts_ns, flow, d);
            return true;
        }
        match rtp_payload(d) {
            Some((off, len)) => {
                self.rtp(frame, ts_ns, flow, d, off, len);
                true
            }
            None => false,
        }
    }

    fn rtp(&mut self, frame: u64, ts_ns: i128, flow: &Flow, d: &[u8], off: usize, len: usize) {
        let key = (flow.src, flow.sport, flow.dst, flow.dport, be32(d, 8));
        let pt = d[1] & 0x7f;
        if let Some(s) = self.streams.get_mut(&key) {
            if !s.payload_types.contains(&pt) {
                let (rate, tel) = clock(&self.endpoints, flow, pt);
                if s.payload_types.len() < MAX_PAYLOAD_TYPES {
                    s.payload_types.push(pt);
                }
                s.event_pts |= u128::from(tel) << pt;
                if rate != 0 && !tel {
                    s.clock_rate = rate;
                }
            }
            s.packet(frame, ts_ns, d, off, len);
            return;
        }
        if make_room(&mut self.streams, |s| s.last_frame) {
            self.note_eviction(frame);
        }
        let (rate, tel) = clock(&self.endpoints, flow, pt);
        let seq = u64::from(u16::from_be_bytes([d[2], d[3]]));
        let mut s = Stream {
            first_frame: frame,
            first_ts_ns: ts_ns,
            last_ts_ns: ts_ns,
            base_ext: seq + 0x1_0000,
            max_ext: seq + 0x1_0000,
            clock_rate: if tel { 0 } else { rate },
            payload_types: vec![pt],
            event_pts: u128::from(tel) << pt,
            ..Stream::default()
        };
        s.packet(frame, ts_ns, d, off, len);
        self.streams.insert(key, s);
    }
}

impl Stream {
    /// Account one packet of this stream (`d` is a valid RTP header).
    fn packet(&mut self, frame: u64, ts_ns: i128, d: &[u8], off: usize, len: usize) {
        let s = self;
        let pt = d[1] & 0x7f;
        let seq = u16::from_be_bytes([d[2], d[3]]);
        let rtp_ts = be32(d, 4);
        let event_pt = len >= 4 && s.event_pts & (1u128 << pt) != 0;
        let first = s.packets == 0;
        s.last_frame = frame;
        s.packets += 1;
        s.bytes += len as u64;
        if d[1] & 0x80 != 0 {
            s.markers += 1;
        }
        // A talkspurt's first packet (marker), comfort noise (RFC 3389, PT 13
        // or 19) and the packet after it are gaps by design: they update the
        // state but not the max/mean delta and jitter (as Wireshark's analysis).
        let cn = pt == 13 || pt == 19;
        // A timestamp that steps back is wrong (Wireshark's WRONG_TIMESTAMP).
        let back = !first && (rtp_ts.wrapping_sub(s.last_rtp_ts) as i32) < 0;
        s.last_rtp_ts = rtp_ts;
        let counted = !first && d[1] & 0x80 == 0 && !cn && !s.after_cn && !back;
        s.after_cn = cn;
        if !first {
            let delta = ts_ns - s.last_ts_ns;
            if counted {
                s.max_delta_ns = s.max_delta_ns.max(delta);
                s.sum_delta_ns += delta;
                s.delta_samples += 1;
            }
            s.last_ts_ns = ts_ns;
            // Sequence: extend against the highest seen (RFC 3550 A.1); a
            // step of less than half the space forward is new, else old.
            let udelta = seq.wrapping_sub(s.max_ext as u16);
            if udelta == 0 {
                s.duplicates += 1;
            } else if udelta < 0x8000 {
                if udelta == 1 {
                    s.sequential = true;
                } else {
                    s.seq_errors += 1;
                }
                s.seen = if udelta >= 128 { 0 } else { s.seen << udelta };
                s.seen |= 1;
                s.max_ext += u64::from(udelta);
            } else {
                let back = u64::from(udelta.wrapping_neg());
                if back < 128 && s.seen & (1u128 << back) != 0 {
                    s.duplicates += 1;
                } else {
                    s.seq_errors += 1;
                    if back < 128 {
                        s.seen |= 1u128 << back;
                    }
                    // Older than the first packet: it moves the base back.
                    s.base_ext = s.base_ext.min(s.max_ext.saturating_sub(back));
                }
            }
        } else {
            s.seen = 1;
        }
        // Jitter (RFC 3550 A.8) on every packet after the first.
        if s.clock_rate != 0 {
            let arrival = (ts_ns as i64) as f64 * f64::from(s.clock_rate) / 1e9;
            let transit = arrival - f64::from(rtp_ts);
            if s.have_transit {
                let mut dd = transit - s.last_transit;
                // Timestamps are modulo 2^32.
                let wrap = 4_294_967_296.0;
                if dd > wrap / 2.0 {
                    dd -= wrap;
                } else if dd < -wrap / 2.0 {
                    dd += wrap;
                }
                s.jitter += (dd.abs() - s.jitter) / 16.0;
                let ms = s.jitter * 1000.0 / f64::from(s.clock_rate);
                if counted {
                    s.max_jitter_ms = s.max_jitter_ms.max(ms);
                    let n = (s.packets - 1) as f64;
                    s.mean_jitter_ms = (s.mean_jitter_ms * (n - 1.0) + ms) / n;
                }
            }
            s.last_transit = transit;
            s.have_transit = true;
        }
        if event_pt && s.last_event_ts != Some(rtp_ts) {
            s.last_event_ts = Some(rtp_ts);
            if s.events.len() < MAX_EVENTS {
                s.events.push((d[off], frame));
            }
        }
    }
}

impl Media {
    fn note_eviction(&mut self, frame: u64) {
        if self.evicted == 0 {
            self.first_evicted_frame = frame;
        }
        self.evicted += 1;
    }

    fn rtcp_packet(&mut self, frame: u64, ts_ns: i128, flow: &Flow, d: &[u8]) {
        let mut at = 0;
        while at + 8 <= d.len() {
            let p = &d[at..];
            if p[0] >> 6 != 2 {
                break;
            }
            let len = (usize::from(u16::from_be_bytes([p[2], p[3]])) + 1) * 4;
            if len > p.len() {
                break;
            }
            let p = &p[..len];
            let (blocks_at, kind) = match p[1] {
                // A report too short for its sender SSRC is skipped.
                200 | 201 if p.len() < 8 => {
                    at += len;
                    continue;
                }
                200 => (28, 0),
                201 => (8, 1),
                _ => {
                    at += len;
                    continue;
                }
            };
            let key = (flow.src, flow.sport, flow.dst, flow.dport, be32(p, 4));
            if !self.rtcp.contains_key(&key) {
                if make_room(&mut self.rtcp, |r| r.last_frame) {
                    self.note_eviction(frame);
                }
                self.rtcp.insert(
                    key,
                    Rtcp {
                        first_frame: frame,
                        ..Rtcp::default()
                    },
                );
            }
            let r = self.rtcp.get_mut(&key).expect("present");
            r.last_frame = frame;
            if kind == 0 {
                r.sr += 1;
            } else {
                r.rr += 1;
            }
            let count = usize::from(p[0] & 0x1f);
            if count > 0 && blocks_at + 24 <= p.len() {
                let b = &p[blocks_at..blocks_at + 24];
                r.fraction_lost = b[4];
                // 24-bit signed cumulative loss.
                r.cumulative_lost = (i32::from_be_bytes([b[5], b[6], b[7], 0])) >> 8;
                r.jitter = be32(b, 12);
                let (lsr, dlsr) = (be32(b, 16), be32(b, 20));
                if let Some(&sent) = self.sr_times.get(&lsr).filter(|_| lsr != 0) {
                    let dlsr_ms = f64::from(dlsr) * 1000.0 / 65536.0;
                    r.rtt_ms = Some((ts_ns - sent) as f64 / 1e6 - dlsr_ms);
                }
            }
            if kind == 0 && p.len() >= 16 {
                let mid = (be32(p, 8) << 16) | (be32(p, 12) >> 16);
                if self.sr_order.len() >= MAX_SR_TIMES {
                    if let Some(old) = self.sr_order.pop_front() {
                        self.sr_times.remove(&old);
                    }
                }
                if self.sr_times.insert(mid, ts_ns).is_none() {
                    self.sr_order.push_back(mid);
                }
            }
            at += len;
        }
    }

    /// The RTP streams, sorted by first frame: only those whose sequence
    /// stepped by one at least once ([`Stream::sequential`]).
    pub fn streams(&self) -> Vec<(&Key, &Stream)> {
        let mut v: Vec<_> = self.streams.iter().filter(|(_, s)| s.sequential).collect();
        v.sort_by_key(|(k, s)| (s.first_frame, k.4));
        v
    }

    /// The RTCP senders, sorted by first frame.
    pub fn rtcp(&self) -> Vec<(&Key, &Rtcp)> {
        let mut v: Vec<_> = self.rtcp.iter().collect();
        v.sort_by_key(|(k, r)| (r.first_frame, k.4));
        v
    }

    pub fn open_streams(&self) -> usize {
        self.streams.len() + self.rtcp.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flow() -> Flow {
        Flow {
            src: Addr::V4([127, 0, 0, 1]),
            sport: 40000,
            dst: Addr::V4([127, 0, 0, 2]),
            dport: 40002,
        }
    }

    fn rtp(pt: u8, seq: u16, ts: u32, payload: &[u8]) -> Vec<u8> {
        let mut d = vec![0x80, pt];
        d.extend_from_slice(&seq.to_be_bytes());
        d.extend_from_slice(&ts.to_be_bytes());
        d.extend_from_slice(&0x1234_5678u32.to_be_bytes());
        d.extend_from_slice(payload);
        d
    }

    /// Feed (seq, rtp ts, arrival ms) packets of PCMU; return the stream.
    fn run(pkts: &[(u16, u32, i128)]) -> Stream {
        let mut m = Media::new();
        for (i, &(seq, ts, ms)) in pkts.iter().enumerate() {
            assert!(m.datagram(
                i as u64 + 1,
                ms * 1_000_000,
                &flow(),
                &rtp(0, seq, ts, &[0; 160])
            ));
        }
        let s = m.streams.values().next().expect("one stream").clone();
        s
    }

    #[test]
    fn in_order_stream() {
        let s = run(&[(10, 0, 0), (11, 160, 20), (12, 320, 40)]);
        assert_eq!((s.packets, s.bytes, s.expected(), s.lost()), (3, 480, 3, 0));
        assert_eq!((s.seq_errors, s.duplicates), (0, 0));
        assert_eq!(s.max_delta_ns, 20_000_000);
        assert_eq!(s.jitter_ms(), 0.0);
        assert_eq!(s.payload_types, vec![0]);
    }

    #[test]
    fn wraps_at_65535() {
        let s = run(&[(65534, 0, 0), (65535, 160, 20), (0, 320, 40), (1, 480, 60)]);
        assert_eq!((s.expected(), s.lost(), s.seq_errors), (4, 0, 0));
    }

    #[test]
    fn loss_reordering_and_duplicates() {
        // 3 is lost, 5 comes before 4, 6 is duplicated.
        let s = run(&[
            (1, 0, 0),
            (2, 0, 20),
            (5, 0, 40),
            (4, 0, 60),
            (6, 0, 80),
            (6, 0, 81),
        ]);
        assert_eq!(s.expected(), 6);
        assert_eq!(s.duplicates, 1);
        assert_eq!(s.lost(), 1);
        assert_eq!(s.seq_errors, 2); // the jump to 5, then 4 out of order
                                     // A reordered packet across the wrap, older than the first one.
        let s = run(&[(0, 0, 0), (65535, 0, 20), (1, 0, 40)]);
        assert_eq!((s.expected(), s.lost()), (3, 0));
    }

    #[test]
    fn jitter_follows_rfc3550_a8() {
        // 8 kHz, 20 ms: the third packet 10 ms late (D = 80 units, J = 80/16 = 5),
        // the fourth on time (D = -80: J = 5 + (80 - 5)/16 = 9.6875 units).
        let s = run(&[(1, 0, 0), (2, 160, 20), (3, 320, 50), (4, 480, 60)]);
        assert!((s.jitter - 9.6875).abs() < 1e-9);
        assert!((s.jitter_ms() - 1.2109375).abs() < 1e-9);
        assert!((s.max_jitter_ms - 1.2109375).abs() < 1e-9);
        assert!((s.mean_jitter_ms - (0.0 + 0.625 + 1.2109375) / 3.0).abs() < 1e-9);
    }

    #[test]
    fn sdp_clock_rate_and_telephone_events() {
        let mut m = Media::new();
        let map = vec![
            ("96".to_owned(), "opus/48000/2".to_owned()),
            ("101".to_owned(), "telephone-event/8000".to_owned()),
        ];
        m.announce("127.0.0.2", 40002, &map);
        m.datagram(1, 0, &flow(), &rtp(96, 1, 0, &[1; 20]));
        m.datagram(2, 0, &flow(), &rtp(0x80 | 101, 2, 960, &[5, 0, 0, 160]));
        m.datagram(3, 0, &flow(), &rtp(101, 3, 960, &[5, 0x80, 1, 64]));
        m.datagram(4, 0, &flow(), &rtp(101, 4, 2000, &[11, 0, 0, 160]));
        let s = &m.streams()[0].1;
        assert!(s.sequential);
        assert_eq!(s.clock_rate, 48_000);
        assert_eq!(s.payload_types, vec![96, 101]);
        assert_eq!(s.events, vec![(5, 2), (11, 4)]);
        assert_eq!(s.markers, 1);
    }

    #[test]
    fn truncated_and_lying_headers_are_not_rtp() {
        let mut m = Media::new();
        let f = flow();
        assert!(!m.datagram(1, 0, &f, &[0x80, 0, 0, 1]));
        assert!(!m.datagram(1, 0, &f, &rtp(0, 1, 0, &[])[..11]));
        let mut csrc = rtp(0, 1, 0, &[0; 4]);
        csrc[0] = 0x82; // two CSRCs, room for one
        assert!(!m.datagram(1, 0, &f, &csrc));
        let mut ext = rtp(0, 1, 0, &[0, 0, 0, 9]);
        ext[0] = 0x90; // extension of 9 words, none there
        assert!(!m.datagram(1, 0, &f, &ext));
        let mut pad = rtp(0, 1, 0, &[0, 0, 0, 200]);
        pad[0] = 0xa0; // 200 bytes of padding in a 16-byte packet
        assert!(!m.datagram(1, 0, &f, &pad));
        let mut v1 = rtp(0, 1, 0, &[0; 4]);
        v1[0] = 0x40;
        assert!(!m.datagram(1, 0, &f, &v1));
        assert!(!m.datagram(1, 0, &f, &[0x80, 201, 0, 9, 0, 0, 0, 0])); // RTCP length lies
        assert_eq!(m.open_streams(), 0);
        let mut okpad = rtp(0, 1, 0, &[1, 2, 0, 2]);
        okpad[0] = 0xa0;
        assert!(m.datagram(1, 0, &f, &okpad));
        m.datagram(2, 0, &f, &rtp(0, 2, 0, &[]));
        assert_eq!(m.streams()[0].1.bytes, 2);
    }

    #[test]
    fn rtcp_sender_and_receiver_reports() {
        let mut m = Media::new();
        let back = Flow {
            src: flow().dst,
            sport: flow().dport,
            dst: flow().src,
            dport: flow().sport,
        };
        // An SR at 1.0 s with NTP 0x0001_2345.8000_0000: its LSR is 0x2345_8000.
        let mut sr = vec![0x80, 200, 0, 6];
        sr.extend_from_slice(&0x1234_5678u32.to_be_bytes());
        sr.extend_from_slice(&[0, 1, 0x23, 0x45, 0x80, 0, 0, 0]);
        sr.extend_from_slice(&[0; 12]);
        assert!(m.datagram(1, 1_000_000_000, &back, &sr));
        // The RR at 1.75 s: fraction 64/256, cumulative -2 (24 bits), jitter 40,
        // LSR of that SR, DLSR 0.5 s: round-trip 250 ms.
        let mut rr = vec![0x81, 201, 0, 7];
        rr.extend_from_slice(&0xaabb_ccddu32.to_be_bytes());
        rr.extend_from_slice(&0x1234_5678u32.to_be_bytes());
        rr.extend_from_slice(&[64, 0xff, 0xff, 0xfe]);
        rr.extend_from_slice(&100u32.to_be_bytes());
        rr.extend_from_slice(&40u32.to_be_bytes());
        rr.extend_from_slice(&0x2345_8000u32.to_be_bytes());
        rr.extend_from_slice(&0x8000u32.to_be_bytes());
        assert!(m.datagram(7, 1_750_000_000, &flow(), &rr));
        let rows = m.rtcp();
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[0].0 .4, rows[0].1.sr), (0x1234_5678, 1));
        let r = rows[1];
        assert_eq!(r.0 .4, 0xaabb_ccdd);
        assert_eq!(
            (
                r.1.rr,
                r.1.sr,
                r.1.fraction_lost,
                r.1.cumulative_lost,
                r.1.jitter
            ),
            (1, 0, 64, -2, 40)
        );
        assert!((r.1.rtt_ms.unwrap() - 250.0).abs() < 1e-6);
        // A report of one word (no room for its SSRC) is skipped.
        assert!(m.datagram(9, 0, &flow(), &[0x80, 201, 0, 0]));
        assert_eq!(m.rtcp().len(), 2);
    }

    #[test]
    fn a_header_alone_is_not_a_stream() {
        // DNS answers to one query id: same "sequence" again and again.
        let s = run(&[(7, 0, 0), (7, 0, 20), (7, 0, 40)]);
        assert!(!s.sequential);
    }

    #[test]
    fn the_table_is_bounded_and_evicts_the_least_recent() {
        let mut m = Media::new();
        for i in 0..(MAX_STREAMS as u32 + 10) {
            for seq in [1, 2] {
                let mut d = rtp(0, seq, 0, &[0; 4]);
                d[8..12].copy_from_slice(&i.to_be_bytes());
                m.datagram(u64::from(i) + 1, 0, &flow(), &d);
            }
        }
        assert_eq!(m.open_streams(), MAX_STREAMS);
        assert_eq!(m.evicted, 10);
        assert_eq!(m.first_evicted_frame, MAX_STREAMS as u64 + 1);
        assert_eq!(m.streams()[0].1.first_frame, 11);
    }
}
