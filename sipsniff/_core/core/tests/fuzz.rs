//! A property harness for every entry point of the core: random and mutated
//! bytes through the file reader, the decoder, the scanner (SIP framing and
//! parsing) and the SDP parser.  The property: no panic, no hang, and output
//! bounded by the input.  (`cargo fuzz` needs a nightly toolchain this project
//! does not have; this harness runs on stable, in `cargo test` as a smoke run
//! and longer under `make fuzz`: `SIPSNIFF_FUZZ_SECONDS=N`.)

use sipsniff_core::capture::{Item, Reader};
use sipsniff_core::decode::udp_datagram;
use sipsniff_core::scan::{Event, Flow, Scanner};
use sipsniff_core::{decode::Addr, sdp, sip};
use std::time::{Duration, Instant};

/// xorshift64*: deterministic, so a failing seed can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const SIP: &[u8] = b"INVITE sip:bob@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: c@h\r\nCSeq: 1 INVITE\r\nContent-Type: application/sdp\r\nContent-Length: 64\r\n\r\nv=0\r\no=a 1 1 IN IP4 127.0.0.1\r\nc=IN IP4 127.0.0.1\r\nm=audio 4000 RTP/AVP 0 8\r\n";

fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut d = seed.to_vec();
    for _ in 0..1 + rng.below(8) {
        match rng.below(6) {
            0 if !d.is_empty() => {
                let i = rng.below(d.len());
                d[i] = rng.next() as u8;
            }
            1 if !d.is_empty() => {
                let i = rng.below(d.len());
                d.truncate(i);
            }
            2 => {
                let i = rng.below(d.len() + 1);
                let b = *b"\r\n:; ,<>=/\x00\xff0123456789"
                    .get(rng.below(22))
                    .unwrap_or(&b'x');
                d.insert(i, b);
            }
            3 if d.len() > 1 => {
                let (a, b) = (rng.below(d.len()), rng.below(d.len()));
                let (a, b) = (a.min(b), a.max(b));
                let piece = d[a..b].to_vec();
                let at = rng.below(d.len() + 1);
                d.splice(at..at, piece);
            }
            4 => d.extend((0..rng.below(64)).map(|_| rng.next() as u8)),
            _ => {}
        }
    }
    d
}

fn ipv4_udp(payload: &[u8]) -> Vec<u8> {
    let total = (28 + payload.len()) as u16;
    let mut f = vec![
        0x45,
        0,
        (total >> 8) as u8,
        total as u8,
        0,
        0,
        0,
        0,
        64,
        17,
        0,
        0,
        127,
        0,
        0,
        1,
        127,
        0,
        0,
        2,
    ];
    let ulen = (8 + payload.len()) as u16;
    f.extend_from_slice(&[0x13, 0xc4, 0x13, 0xc4, (ulen >> 8) as u8, ulen as u8, 0, 0]);
    f.extend_from_slice(payload);
    f
}

fn pcap(frames: &[Vec<u8>]) -> Vec<u8> {
    let mut f = vec![
        0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 101, 0, 0, 0,
    ];
    for (i, fr) in frames.iter().enumerate() {
        f.extend_from_slice(&(i as u32).to_le_bytes());
        f.extend_from_slice(&0u32.to_le_bytes());
        f.extend_from_slice(&(fr.len() as u32).to_le_bytes());
        f.extend_from_slice(&(fr.len() as u32).to_le_bytes());
        f.extend_from_slice(fr);
    }
    f
}

fn budget() -> Duration {
    let secs = std::env::var("SIPSNIFF_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2);
    Duration::from_secs(secs)
}

fn run(name: &str, mut one: impl FnMut(&mut Rng)) {
    let until = Instant::now() + budget();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut n = 0u64;
    while Instant::now() < until {
        one(&mut rng);
        n += 1;
    }
    eprintln!("{name}: {n} cases, no panic");
}

#[test]
fn sip_and_sdp_parsers_never_panic() {
    run("sip", |rng| {
        let d = mutate(rng, SIP);
        if let Some((start, h)) = sip::start_line(&d) {
            if let Some(m) = sip::parse(&d, start, h) {
                assert!(
                    m.hstart <= m.hend && m.end <= d.len() && m.body_off <= m.end.max(m.body_off)
                );
            }
        }
        let cut = rng.below(d.len() + 1);
        let _ = sdp::parse(&d[cut..]);
    });
}

#[test]
fn scanner_and_decoder_never_panic_and_stay_bounded() {
    let flow = Flow {
        src: Addr::V4([127, 0, 0, 1]),
        sport: 5060,
        dst: Addr::V4([127, 0, 0, 2]),
        dport: 5060,
    };
    run("scan", |rng| {
        let mut s = Scanner::new(if rng.below(3) == 0 {
            Some((rng.below(3) as u32, 3))
        } else {
            None
        });
        let mut out: Vec<Event> = Vec::new();
        let payload = mutate(rng, SIP);
        s.datagram(1, 0, flow, &payload, 0..payload.len(), &mut out);
        assert!(out.len() <= payload.len() + 2);
        let frame = mutate(rng, &ipv4_udp(SIP));
        for lt in [0u32, 1, 101, 113, 276] {
            out.clear();
            let _ = udp_datagram(lt, &frame);
            s.frame(2, 1_000_000_000, lt, &frame, frame.len() as u64, &mut out);
            assert!(out.len() <= frame.len() + 4);
        }
    });
}

#[test]
fn file_reader_never_panics_and_ends() {
    let good = pcap(&[ipv4_udp(SIP), ipv4_udp(b"\x80\x00rtp"), ipv4_udp(SIP)]);
    let mut ng = vec![
        0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 28, 0, 0, 0,
    ];
    ng.extend_from_slice(&[
        1, 0, 0, 0, 20, 0, 0, 0, 101, 0, 0, 0, 0, 0, 0, 0, 20, 0, 0, 0,
    ]);
    run("capture", |rng| {
        let seed: &[u8] = if rng.below(2) == 0 { &good } else { &ng };
        let f = mutate(rng, seed);
        if let Ok(mut r) = Reader::open(&f[..], 1) {
            // every item consumes input, so a read ends within len(f) items
            for _ in 0..=f.len() {
                match r.next_item() {
                    Ok(Item::End | Item::Stop { .. }) | Err(_) => return,
                    Ok(_) => {}
                }
            }
            panic!("the reader did not end on a {}-byte file", f.len());
        }
    });
}

const RTP: &[u8] = b"\x80\x08\x00\x01\x00\x00\x00\xa0\x12\x34\x56\x78payload-payload-";
const RTCP: &[u8] = b"\x81\xc9\x00\x07\xaa\xbb\xcc\xdd\x12\x34\x56\x78\x40\xff\xff\xfe\x00\x00\x00\x64\x00\x00\x00\x28\x00\x01\x00\x00\x00\x00\x80\x00";

#[test]
fn media_accounting_never_panics_and_stays_bounded() {
    use sipsniff_core::media::{Media, MAX_STREAMS};
    let mut m = Media::new();
    let map = vec![("96".to_owned(), "opus/48000/2".to_owned())];
    m.announce("127.0.0.2", 4000, &map);
    let mut frame = 0u64;
    run("media", |rng| {
        for _ in 0..64 {
            frame += 1;
            let seed = if rng.below(4) == 0 { RTCP } else { RTP };
            let d = mutate(rng, seed);
            let flow = Flow {
                src: Addr::V4([127, 0, 0, 1]),
                sport: rng.below(4) as u16,
                dst: Addr::V4([127, 0, 0, 2]),
                dport: if rng.below(2) == 0 { 4000 } else { 4002 },
            };
            let ts = (rng.next() >> 20) as i128 - (1 << 40);
            m.datagram(frame, ts, &flow, &d);
            assert!(m.open_streams() <= 2 * MAX_STREAMS);
        }
        for (_, s) in m.streams() {
            assert!(s.payload_types.len() <= 8 && s.events.len() <= 64);
            assert!(s.jitter.is_finite() && s.expected() >= 1);
        }
    });
}
