//! Time the RTP accounting alone (no file, no decoding):
//! `cargo run --release --example media`.  50 streams of 24,000 packets of
//! 160-byte G.711 at 20 ms, interleaved as on the wire; prints ns per packet.

use sipsniff_core::decode::Addr;
use sipsniff_core::media::Media;
use sipsniff_core::scan::Flow;
use std::time::Instant;

fn main() {
    let (streams, per) = (50u16, 24_000u32);
    let mut packets = Vec::with_capacity(usize::from(streams) * per as usize);
    for i in 0..per {
        for s in 0..streams {
            let mut d = vec![0x80, 8];
            d.extend_from_slice(&((i as u16).wrapping_add(s * 1000)).to_be_bytes());
            d.extend_from_slice(&(i.wrapping_mul(160)).to_be_bytes());
            d.extend_from_slice(&(0x1000 + u32::from(s)).to_be_bytes());
            d.resize(172, 0);
            let flow = Flow {
                src: Addr::V4([127, 0, 0, 1]),
                sport: 20_000 + 2 * s,
                dst: Addr::V4([127, 0, 0, 2]),
                dport: 30_000 + 2 * s,
            };
            let ts = i128::from(i) * 20_000_000 + i128::from(s) * 37_000;
            packets.push((flow, ts, d));
        }
    }
    let mut best = f64::MAX;
    for _ in 0..5 {
        let mut m = Media::new();
        let t = Instant::now();
        for (n, (flow, ts, d)) in packets.iter().enumerate() {
            m.datagram(n as u64 + 1, *ts, flow, d);
        }
        let ns = t.elapsed().as_nanos() as f64 / packets.len() as f64;
        best = best.min(ns);
        assert_eq!(m.streams().len(), usize::from(streams));
    }
    println!(
        "{} RTP packets, {best:.1} ns/packet (best of 5)",
        packets.len()
    );
}
