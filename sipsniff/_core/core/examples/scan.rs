//! Time the native scanner alone on a classic pcap file (no Python):
//! `cargo run --release --example scan -- FILE`.  Prints frames, events and
//! nanoseconds per frame, for the stage breakdown of `make bench`.

use sipsniff_core::scan::{Event, Scanner};
use std::time::Instant;

fn main() {
    let path = std::env::args().nth(1).expect("usage: scan FILE.pcap");
    let data = std::fs::read(&path).expect("read");
    assert!(data.len() >= 24, "not a pcap");
    let le = data[..4] == [0xd4, 0xc3, 0xb2, 0xa1] || data[..4] == [0x4d, 0x3c, 0xb2, 0xa1];
    let u32_at = |o: usize| {
        let b = [data[o], data[o + 1], data[o + 2], data[o + 3]];
        if le {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        }
    };
    let linktype = u32_at(20);
    let mut frames = Vec::new();
    let mut pos = 24;
    while pos + 16 <= data.len() {
        let incl = u32_at(pos + 8) as usize;
        if pos + 16 + incl > data.len() {
            break;
        }
        frames.push((
            i128::from(u32_at(pos)) * 1_000_000_000,
            pos + 16..pos + 16 + incl,
        ));
        pos += 16 + incl;
    }
    let mut s = Scanner::new(None);
    let mut out: Vec<Event> = Vec::new();
    let (mut messages, mut slow) = (0usize, 0usize);
    let t = Instant::now();
    for (n, (ts, r)) in frames.iter().enumerate() {
        s.frame(
            n as u64 + 1,
            *ts,
            linktype,
            &data[r.clone()],
            r.len() as u64,
            &mut out,
        );
        for e in out.drain(..) {
            match e {
                Event::Message { .. } => messages += 1,
                Event::Slow => slow += 1,
                _ => {}
            }
        }
    }
    let el = t.elapsed();
    println!(
        "{} frames, {messages} messages, {slow} slow, {:.0} ns/frame",
        frames.len(),
        el.as_nanos() as f64 / frames.len() as f64
    );
}
