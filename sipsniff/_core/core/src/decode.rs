//! Frame -> UDP datagram, for the frames the reference decoder would pass
//! without a word.
//!
//! Strategy: mirror `sipsniff/decode/link.py` and `decoder.py` for link
//! layers, IPv4 and IPv6 and UDP, and return `None` at the first thing that
//! decoder would count, report, reassemble or tunnel (fragments, extension
//! headers, TCP, damaged lengths...).  `None` means "give this frame to the
//! Python decoder", never "drop it", so both engines decode every frame alike.

/// LINKTYPE_* values (tcpdump.org registry), as in `capture/frame.py`.
mod linktype {
    pub const NULL: u32 = 0;
    pub const ETHERNET: u32 = 1;
    pub const RAW: u32 = 101;
    pub const LOOP: u32 = 108;
    pub const LINUX_SLL: u32 = 113;
    pub const IPV4: u32 = 228;
    pub const IPV6: u32 = 229;
    pub const LINUX_SLL2: u32 = 276;
    pub const BSD_RAW_12: u32 = 12;
    pub const BSD_RAW_14: u32 = 14;
}

const ETH_IPV4: u16 = 0x0800;
const ETH_IPV6: u16 = 0x86DD;
const PROTO_UDP: u8 = 17;

/// An IP address as captured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Addr {
    V4([u8; 4]),
    V6([u8; 16]),
}

impl Addr {
    /// The text `socket.inet_ntop` gives.
    pub fn text(&self) -> String {
        match self {
            Addr::V4(a) => crate::ntop::ipv4(a),
            Addr::V6(a) => crate::ntop::ipv6(a),
        }
    }
}

/// A UDP datagram found in a frame: addresses, ports and where its payload lies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Udp {
    pub src: Addr,
    pub sport: u16,
    pub dst: Addr,
    pub dport: u16,
    /// `data[start..stop]` of the frame is the UDP payload.
    pub start: usize,
    pub stop: usize,
}

fn u16_at(d: &[u8], off: usize) -> u16 {
    u16::from_be_bytes([d[off], d[off + 1]])
}

fn is_vlan(et: u16) -> bool {
    matches!(et, 0x8100 | 0x88A8 | 0x9100)
}

fn version_ethertype(d: &[u8], off: usize) -> u16 {
    match d.get(off).map(|b| b >> 4) {
        Some(4) => ETH_IPV4,
        Some(6) => ETH_IPV6,
        _ => 0,
    }
}

/// `link.network_offset`: (ethertype, offset of the IP header); (0, 0) when none.
fn network_offset(linktype: u32, d: &[u8]) -> (u16, usize) {
    match linktype {
        linktype::ETHERNET => {
            if d.len() < 14 {
                return (0, 0);
            }
            let mut off = 12;
            let mut et = u16_at(d, off);
            while is_vlan(et) {
                off += 4;
                if d.len() < off + 2 {
                    return (0, 0);
                }
                et = u16_at(d, off);
            }
            (et, off + 2)
        }
        linktype::LINUX_SLL => {
            if d.len() < 16 {
                return (0, 0);
            }
            let mut et = u16_at(d, 14);
            let mut off = 16;
            while is_vlan(et) && d.len() >= off + 4 {
                et = u16_at(d, off + 2);
                off += 4;
            }
            (et, off)
        }
        linktype::LINUX_SLL2 => {
            if d.len() < 20 {
                return (0, 0);
            }
            (u16_at(d, 0), 20)
        }
        linktype::RAW
        | linktype::IPV4
        | linktype::IPV6
        | linktype::BSD_RAW_12
        | linktype::BSD_RAW_14 => (version_ethertype(d, 0), 0),
        linktype::NULL | linktype::LOOP => {
            if d.len() < 4 {
                return (0, 0);
            }
            let fam = if d[0] != 0 { d[0] } else { d[3] };
            match fam {
                2 => (ETH_IPV4, 4),
                10 | 24 | 28 | 30 => (ETH_IPV6, 4),
                _ => (0, 0),
            }
        }
        _ => (0, 0),
    }
}

/// UDP destination ports of encapsulations the reference decoder opens
/// (VXLAN 4789, VXLAN-GPE 4790, Geneve 6081, GTP-U 2152): a frame to one of
/// them goes the slow way, so both engines see the same inner packets.
pub const TUNNEL_PORTS: [u16; 4] = [4789, 4790, 6081, 2152];

/// UDP header at `off`, payload bounded by `end` (`decoder._transport`).
fn udp(d: &[u8], off: usize, end: usize, src: Addr, dst: Addr) -> Option<Udp> {
    if off + 8 > end {
        return None;
    }
    let ulen = usize::from(u16_at(d, off + 4));
    let stop = if 8 <= ulen && ulen <= end - off {
        off + ulen
    } else {
        end
    };
    let (sport, dport) = (u16_at(d, off), u16_at(d, off + 2));
    if TUNNEL_PORTS.contains(&dport) {
        return None; // a tunnel: the reference decoder opens it
    }
    Some(Udp {
        src,
        sport,
        dst,
        dport,
        start: off + 8,
        stop,
    })
}

/// The UDP datagram of a frame, or `None` when the reference decoder must see it.
pub fn udp_datagram(linktype: u32, d: &[u8]) -> Option<Udp> {
    let (et, off) = network_offset(linktype, d);
    match et {
        ETH_IPV4 => {
            if d.len() < off + 20 {
                return None;
            }
            let vihl = d[off];
            let ihl = usize::from(vihl & 0x0F) * 4;
            if vihl >> 4 != 4 || ihl < 20 {
                return None;
            }
            let total = usize::from(u16_at(d, off + 2));
            let mut end = off + total;
            if end > d.len() {
                return None;
            }
            if total < ihl {
                end = d.len(); // TSO-captured packets have total length 0
            }
            if u16_at(d, off + 6) & 0x3FFF != 0 || d[off + 9] != PROTO_UDP {
                return None;
            }
            let src = Addr::V4([d[off + 12], d[off + 13], d[off + 14], d[off + 15]]);
            let dst = Addr::V4([d[off + 16], d[off + 17], d[off + 18], d[off + 19]]);
            udp(d, off + ihl, end, src, dst)
        }
        ETH_IPV6 => {
            if d.len() < off + 40 || d[off] >> 4 != 6 {
                return None;
            }
            let end = off + 40 + usize::from(u16_at(d, off + 4));
            if end > d.len() || d[off + 6] != PROTO_UDP {
                return None;
            }
            let mut s = [0u8; 16];
            let mut t = [0u8; 16];
            s.copy_from_slice(&d[off + 8..off + 24]);
            t.copy_from_slice(&d[off + 24..off + 40]);
            udp(d, off + 40, end, Addr::V6(s), Addr::V6(t))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eth_ipv4_udp(payload: &[u8]) -> Vec<u8> {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x08, 0x00]);
        let total = (20 + 8 + payload.len()) as u16;
        f.extend_from_slice(&[
            0x45,
            0,
            (total >> 8) as u8,
            total as u8,
            0,
            1,
            0x40,
            0,
            64,
            17,
            0,
            0,
        ]);
        f.extend_from_slice(&[127, 0, 0, 1, 127, 0, 0, 2]);
        let ulen = (8 + payload.len()) as u16;
        f.extend_from_slice(&[0x13, 0xC4, 0x13, 0xC5, (ulen >> 8) as u8, ulen as u8, 0, 0]);
        f.extend_from_slice(payload);
        f
    }

    #[test]
    fn ethernet_ipv4_udp() {
        let f = eth_ipv4_udp(b"hello");
        let u = udp_datagram(1, &f).unwrap();
        assert_eq!(u.src.text(), "127.0.0.1");
        assert_eq!((u.sport, u.dport), (5060, 5061));
        assert_eq!(&f[u.start..u.stop], b"hello");
    }

    #[test]
    fn fragments_and_damage_go_to_the_reference() {
        let mut f = eth_ipv4_udp(b"hello");
        f[20] = 0x20; // more fragments
        assert!(udp_datagram(1, &f).is_none());
        let mut f = eth_ipv4_udp(b"hello");
        f[17] = 200; // total length beyond the frame
        assert!(udp_datagram(1, &f).is_none());
        let f = eth_ipv4_udp(b"hello");
        for cut in 0..f.len() - 5 {
            assert!(udp_datagram(1, &f[..cut]).is_none(), "cut at {cut}");
        }
        assert!(udp_datagram(999, &f).is_none());
        let mut f = eth_ipv4_udp(b"hello");
        f[36..38].copy_from_slice(&4789u16.to_be_bytes()); // VXLAN
        assert!(udp_datagram(1, &f).is_none());
    }
}
