//! The scanner: frames in, events out, with the per-frame bookkeeping of
//! `sipsniff/pipeline.py` and the UDP half of `sipsniff/sip/framing.py`.
//!
//! Strategy: a frame the fast decoder understands never leaves Rust unless it
//! carries SIP: RTP, DNS and keep-alives are counted here.  A SIP datagram
//! becomes [`Event::Message`]s when every message in it is clean, or one
//! [`Event::Fallback`] (the reference framer parses the whole datagram) when
//! one is not, so a datagram is never split between the engines.  Any other
//! frame is [`Event::Slow`]: the reference decoder takes it, and hands the UDP
//! datagrams it finds back to [`Scanner::datagram`].
//!
//! Rules:
//! - Events come out in the order the reference pipeline would act on them:
//!   a frame's messages, then its time-jump warning, then the expiry tick.
//! - The set of SIP ports is bounded (1024) like the framer's.

use crate::crc32::crc32;
use crate::decode::{udp_datagram, Addr};
use crate::media::Media;
use crate::sip::{self, named_value, Message};
use std::collections::HashSet;
use std::ops::Range;

const EXPIRE_EVERY_NS: i128 = 1_000_000_000;
const JUMP_BACK_NS: i128 = 10 * 1_000_000_000;
const JUMP_FORWARD_NS: i128 = 24 * 3600 * 1_000_000_000;
const MAX_SIP_PORTS: usize = 1024;

/// A UDP datagram's addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flow {
    pub src: Addr,
    pub sport: u16,
    pub dst: Addr,
    pub dport: u16,
}

/// A problem, as a code with its arguments (Python words it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Diag {
    /// not-sip: `len` bytes after the last message of a datagram are no message.
    TrailingBytes { frame: u64, len: usize },
    /// bad-start-line: `first` is the datagram's first line (at most 120 bytes).
    BadStartLine { frame: u64, first: Vec<u8> },
    /// not-sip: a datagram on a port that carried SIP is not SIP.
    JunkOnSipPort {
        frame: u64,
        len: usize,
        port: u16,
        head: Vec<u8>,
    },
    /// time-jump: the capture clock moved by `delta_ns` from the previous frame.
    TimeJump { frame: u64, delta_ns: i128 },
}

/// What the caller must do, in order.
///
/// `Message` is much larger than the rest; events live briefly in one reused
/// `Vec`, so boxing it would only add an allocation per message.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A clean SIP message: `bytes` is its range in the datagram given.
    Message {
        frame: u64,
        ts_ns: i128,
        flow: Flow,
        bytes: Range<usize>,
        msg: Message,
    },
    /// The reference framer must parse this datagram (`payload` range of the frame).
    Fallback {
        frame: u64,
        ts_ns: i128,
        flow: Flow,
        payload: Range<usize>,
    },
    /// The reference decoder must decode this frame.
    Slow,
    Diag(Diag),
    /// Expire timers at this capture time (`Pipeline.feed`'s once-a-second call).
    Tick(i128),
}

/// What the scanner counted (summed with the reference stages' own counters).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    pub frames: u64,
    pub bytes: u64,
    /// UDP datagrams decoded here (the reference decoder counts the rest).
    pub payloads: u64,
    pub messages: u64,
    pub malformed: u64,
    pub not_sip: u64,
}

/// Sans-I/O scanner state.
pub struct Scanner {
    shard: Option<(u32, u32)>,
    primary: bool,
    sip_ports: HashSet<u16>,
    pub counters: Counters,
    pub first_ts: i128,
    pub last_ts: i128,
    next_expire: i128,
    /// RTP/RTCP accounting (the primary shard's only, so media counts once).
    pub media: Media,
}

/// `_SIPISH.match(first)`: a line that tries to be a SIP start line.
fn sipish(first: &[u8]) -> bool {
    if first.starts_with(b"SIP/") {
        return true;
    }
    let letters = first.iter().take_while(|b| b.is_ascii_alphabetic()).count();
    if !(2..=20).contains(&letters) || first.get(letters) != Some(&b' ') {
        return false;
    }
    let rest = &first[letters + 1..];
    let line = &rest[..rest
        .iter()
        .position(|&b| b == b'\r' || b == b'\n')
        .unwrap_or(rest.len())];
    line.windows(4).any(|w| w == b"SIP/")
}

/// `framing.shard_of`: crc32 of the first Call-ID line's value, modulo `count`.
pub fn shard_of(d: &[u8], count: u32) -> u32 {
    let mut i = 0;
    while let Some(p) = d[i..].iter().position(|&b| b == b'\n') {
        let at = i + p + 1;
        let line = &d[at..];
        if let Some(r) = named_value(line, b"call-id").or_else(|| named_value(line, b"i")) {
            let mut v = &line[r];
            while let [rest @ .., last] = v {
                if matches!(last, b' ' | b'\t' | b'\n' | b'\r' | b'\x0b' | b'\x0c') {
                    v = rest;
                } else {
                    break;
                }
            }
            return crc32(v) % count;
        }
        i = at;
    }
    0
}

/// A HEP packet: version 3 (`HEP3`) or versions 1/2 (a 16- or 28-byte header
/// for IPv4, 40- or 52-byte for IPv6, as Kamailio and OpenSIPS write them).
pub fn is_hep(d: &[u8]) -> bool {
    if d.starts_with(b"HEP3") {
        return true;
    }
    matches!(d, [1 | 2, 16 | 28 | 40 | 52, 2 | 10, ..] if d.len() >= d[1] as usize)
}

fn strip_set<'a>(mut d: &'a [u8], set: &[u8]) -> &'a [u8] {
    while let [first, rest @ ..] = d {
        if set.contains(first) {
            d = rest
        } else {
            break;
        }
    }
    while let [rest @ .., last] = d {
        if set.contains(last) {
            d = rest
        } else {
            break;
        }
    }
    d
}

impl Scanner {
    /// `shard`: (index, count) of a sharded analysis, as `Pipeline(shard=...)`.
    pub fn new(shard: Option<(u32, u32)>) -> Self {
        Scanner {
            shard,
            primary: shard.is_none_or(|(i, _)| i == 0),
            sip_ports: HashSet::from([5060, 5061]),
            counters: Counters::default(),
            first_ts: 0,
            last_ts: 0,
            next_expire: 0,
            media: Media::new(),
        }
    }

    /// One captured frame; its events are appended to `out`.
    pub fn frame(
        &mut self,
        number: u64,
        ts_ns: i128,
        linktype: u32,
        data: &[u8],
        orig_len: u64,
        out: &mut Vec<Event>,
    ) {
        self.counters.frames += 1;
        self.counters.bytes += orig_len;
        match udp_datagram(linktype, data) {
            Some(u) => {
                if self.primary {
                    self.counters.payloads += 1;
                }
                let flow = Flow {
                    src: u.src,
                    sport: u.sport,
                    dst: u.dst,
                    dport: u.dport,
                };
                self.datagram(number, ts_ns, flow, data, u.start..u.stop, out);
            }
            None => out.push(Event::Slow),
        }
        self.clock(number, ts_ns, out);
    }

    /// `Pipeline.feed`'s bookkeeping after a frame: time jumps and expiry ticks.
    fn clock(&mut self, number: u64, ts: i128, out: &mut Vec<Event>) {
        let last = self.last_ts;
        if (ts < last - JUMP_BACK_NS || ts > last + JUMP_FORWARD_NS) && last != 0 {
            out.push(Event::Diag(Diag::TimeJump {
                frame: number,
                delta_ns: ts - last,
            }));
        }
        self.last_ts = ts;
        if self.first_ts == 0 {
            self.first_ts = ts;
        }
        if ts >= self.next_expire {
            if self.next_expire != 0 {
                out.push(Event::Tick(ts));
            }
            self.next_expire = ts + EXPIRE_EVERY_NS;
        }
    }

    /// One UDP datagram, `buf[payload]` (`SipFramer._datagram`).
    pub fn datagram(
        &mut self,
        frame: u64,
        ts_ns: i128,
        flow: Flow,
        buf: &[u8],
        payload: Range<usize>,
        out: &mut Vec<Event>,
    ) {
        let data = &buf[payload.clone()];
        let Some((start, hstart)) = sip::start_line(data) else {
            if is_hep(data) {
                // HEP carries SIP (and more) from another capture point: the
                // reference pipeline unwraps it before any framing.
                out.push(Event::Fallback {
                    frame,
                    ts_ns,
                    flow,
                    payload,
                });
                return;
            }
            if self.primary {
                self.media.datagram(frame, ts_ns, &flow, data);
                self.counters.not_sip += 1;
                if !strip_set(data, b"\r\n\x00 ").is_empty() {
                    self.junk(frame, flow, data, out);
                }
            }
            return;
        };
        let ports = &mut self.sip_ports;
        if ports.len() < MAX_SIP_PORTS
            && (!ports.contains(&flow.sport) || !ports.contains(&flow.dport))
        {
            ports.insert(flow.sport);
            ports.insert(flow.dport);
        }
        if let Some((index, count)) = self.shard {
            if shard_of(data, count) != index {
                return;
            }
        }
        let mark = out.len();
        let mut base = payload.start;
        let (mut start, mut hstart) = (start, hstart);
        let mut n = 0;
        loop {
            let d = &buf[base..payload.end];
            let msg = match sip::parse(d, start, hstart) {
                Some(m) => m,
                None => {
                    out.truncate(mark);
                    out.push(Event::Fallback {
                        frame,
                        ts_ns,
                        flow,
                        payload,
                    });
                    return;
                }
            };
            let end = msg.end;
            if self.primary {
                self.announce(&msg);
            }
            out.push(Event::Message {
                frame,
                ts_ns,
                flow,
                bytes: base..base + end,
                msg,
            });
            n += 1;
            if end >= d.len() {
                break;
            }
            let lead = d[end..]
                .iter()
                .take_while(|&&b| b == b'\r' || b == b'\n')
                .count();
            let rest = &d[end + lead..];
            if strip_set(rest, b"\x00 \t").is_empty() {
                break;
            }
            match sip::start_line(rest) {
                Some((s, h)) => {
                    base += end + lead;
                    start = s;
                    hstart = h;
                }
                None => {
                    out.push(Event::Diag(Diag::TrailingBytes {
                        frame,
                        len: rest.len(),
                    }));
                    break;
                }
            }
        }
        self.counters.messages += n;
    }

    /// Remember the clock rates of every media endpoint an SDP announces.
    fn announce(&mut self, msg: &Message) {
        if let Some(sdp) = &msg.parsed_sdp {
            for m in &sdp.media {
                if let Ok(port) = u16::try_from(m.port) {
                    self.media.announce(&m.connection, port, &m.rtpmap);
                }
            }
        }
    }

    /// `SipFramer._junk`: report what looks like SIP, or sits on a SIP port.
    fn junk(&mut self, frame: u64, flow: Flow, data: &[u8], out: &mut Vec<Event>) {
        let head = &data[..data.len().min(120)];
        let mut first = &head[..head.iter().position(|&b| b == b'\n').unwrap_or(head.len())];
        while let [rest @ .., b'\r'] = first {
            first = rest;
        }
        if sipish(first) {
            self.counters.malformed += 1;
            out.push(Event::Diag(Diag::BadStartLine {
                frame,
                first: first.to_vec(),
            }));
            return;
        }
        let port = if self.sip_ports.contains(&flow.dport) {
            flow.dport
        } else if self.sip_ports.contains(&flow.sport) {
            flow.sport
        } else {
            return;
        };
        out.push(Event::Diag(Diag::JunkOnSipPort {
            frame,
            len: data.len(),
            port,
            head: data[..data.len().min(24)].to_vec(),
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPTIONS: &[u8] = b"OPTIONS sip:a SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9\r\nFrom: <sip:a>;tag=1\r\nTo: <sip:b>\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";

    fn flow() -> Flow {
        Flow {
            src: Addr::V4([127, 0, 0, 1]),
            sport: 5060,
            dst: Addr::V4([127, 0, 0, 2]),
            dport: 5060,
        }
    }

    #[test]
    fn two_messages_in_one_datagram() {
        let mut s = Scanner::new(None);
        let mut d = OPTIONS.to_vec();
        d.extend_from_slice(b"\r\n");
        d.extend_from_slice(OPTIONS);
        let mut out = vec![];
        s.datagram(1, 0, flow(), &d, 0..d.len(), &mut out);
        assert_eq!(out.len(), 2);
        assert_eq!(s.counters.messages, 2);
    }

    #[test]
    fn junk_on_a_sip_port_is_reported_rtp_elsewhere_is_not() {
        let mut s = Scanner::new(None);
        let mut out = vec![];
        s.datagram(1, 0, flow(), b"\x80\x00junk", 0..6, &mut out);
        assert!(matches!(
            out[0],
            Event::Diag(Diag::JunkOnSipPort { port: 5060, .. })
        ));
        out.clear();
        let f = Flow {
            sport: 40000,
            dport: 40002,
            ..flow()
        };
        s.datagram(2, 0, f, b"\x80\x00junk", 0..6, &mut out);
        assert!(out.is_empty());
        assert_eq!(s.counters.not_sip, 2);
        s.datagram(3, 0, f, b"REGISTER x SIP/1.0\r\n", 0..20, &mut out);
        assert!(matches!(out[0], Event::Diag(Diag::BadStartLine { .. })));
    }

    #[test]
    fn rtp_is_accounted_by_the_primary_shard_only_with_the_sdp_clock() {
        let sdp = b"v=0\r\no=a 1 1 IN IP4 127.0.0.2\r\ns=-\r\nc=IN IP4 127.0.0.2\r\nt=0 0\r\nm=audio 40002 RTP/AVP 96\r\na=rtpmap:96 opus/48000/2\r\n";
        let mut invite = format!(
            "INVITE sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9\r\nFrom: <sip:a>;tag=1\r\nTo: <sip:b>\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n",
            sdp.len()
        )
        .into_bytes();
        invite.extend_from_slice(sdp);
        let media = Flow {
            sport: 40000,
            dport: 40002,
            ..flow()
        };
        for (shard, want) in [(None, 1), (Some((1, 2)), 0)] {
            let mut s = Scanner::new(shard);
            let mut out = vec![];
            s.datagram(1, 0, flow(), &invite, 0..invite.len(), &mut out);
            for seq in 1u16..=3 {
                let mut d = vec![0x80, 96];
                d.extend_from_slice(&seq.to_be_bytes());
                d.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 9, 1, 2]);
                s.datagram(u64::from(seq) + 1, 0, media, &d, 0..d.len(), &mut out);
            }
            let streams = s.media.streams();
            assert_eq!(streams.len(), want);
            if want == 1 {
                assert_eq!(streams[0].1.clock_rate, 48_000);
                assert_eq!(s.counters.not_sip, 3);
            }
        }
    }

    #[test]
    fn shards_split_by_call_id() {
        assert_eq!(shard_of(OPTIONS, 7), crc32(b"c1") % 7);
        assert_eq!(shard_of(b"no call id", 7), 0);
    }

    #[test]
    fn clock_ticks_once_a_second_and_flags_jumps() {
        let mut s = Scanner::new(None);
        let mut out = vec![];
        s.clock(1, 50_000_000_000, &mut out);
        s.clock(2, 50_500_000_000, &mut out);
        assert!(out.is_empty());
        s.clock(3, 51_000_000_000, &mut out);
        assert_eq!(out, vec![Event::Tick(51_000_000_000)]);
        out.clear();
        s.clock(4, 1_000_000_000, &mut out);
        assert!(matches!(
            out[0],
            Event::Diag(Diag::TimeJump { frame: 4, .. })
        ));
    }
}
