//! Capture files: classic pcap and pcapng, streamed record by record.
//!
//! Strategy: mirror `sipsniff/capture/pcap.py` and `pcapng.py` exactly --
//! the same frame numbers (Wireshark's: packet blocks only, including the
//! ones skipped for a bad interface), the same timestamps (pcapng
//! `if_tsresol` in exact integer arithmetic), and the same places where a
//! damaged file stops, reported as [`Stop`] codes that Python words.
//! Memory is one record: the buffer is reused for every frame.
//!
//! Rules:
//! - A record longer than the Python readers accept (4 x 262144 for pcap,
//!   16 MiB for a pcapng block) is a corrupt length, never an allocation.
//! - Only the reading of a stream lives here: gzip, merging several files
//!   and renumbering stay with the Python reader.

use std::io::{self, Read};

const MAX_PCAP_RECORD: u32 = 262_144 * 4;
const MAX_BLOCK: u32 = 16 * 1024 * 1024;
/// 2262-04-11 23:47:16 UTC in ns, the last second an i64 of ns holds (`capture/wording.py: MAX_TS_NS`).
pub const MAX_TS_NS: i128 = 9_223_372_036_000_000_000;
const SHB_MAGIC: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];
const EPB: u32 = 6;
const SPB: u32 = 3;
const PB: u32 = 2;
const IDB: u32 = 1;

/// Why a file cannot be read at all (Python raises `CaptureError`).
#[derive(Debug)]
pub enum Fatal {
    /// A pcap file shorter than its 24-byte header (bytes it has).
    TooShort(usize),
    /// The first pcapng section header has a bad byte-order mark.
    BadBom,
    /// A pcapng file whose first block is not a section header.
    NotPcapng,
    /// Neither pcap nor pcapng magic.
    NotCapture,
    Io(io::Error),
}

impl From<io::Error> for Fatal {
    fn from(e: io::Error) -> Self {
        Fatal::Io(e)
    }
}

/// Where a damaged file stops (worded by `sipsniff/capture/wording.py`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// pcap: a record length over the bound, at this byte offset of the file.
    CorruptRecord {
        length: u32,
        offset: u64,
    },
    /// pcap: the file ends inside a record, this many bytes left over.
    InsideRecord {
        left: u64,
    },
    BlockHeaderCut,
    BadBomInSection,
    BadSectionLength(u32),
    SectionCut,
    BadBlockLength {
        length: u32,
        btype: u32,
    },
    BlockCut {
        btype: u32,
    },
    EpbTooShort,
    SpbWithoutInterface,
    PbTooShort,
    IdbTooShort,
}

/// One packet record; its bytes are [`Reader::data`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record {
    pub number: u64,
    pub ts_ns: i128,
    /// The timestamp the file gave when it was past [`MAX_TS_NS`] (then `ts_ns`
    /// is `MAX_TS_NS`: a date must stay writable), else `None`.
    pub out_of_range: Option<i128>,
    pub linktype: u32,
    pub orig_len: u64,
    pub iface: u32,
}

/// What [`Reader::next`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Item {
    Frame(Record),
    /// A packet block names a missing interface or overflows its block: its
    /// frame number is used up, nothing is yielded (pcapng `bad-block`).
    BadInterface {
        frame: u64,
        iface: u32,
        interfaces: usize,
    },
    /// The file stops here; `frame` is the next frame's number.
    Stop {
        frame: u64,
        loaded: u64,
        stop: Stop,
    },
    End,
}

#[derive(Clone, Copy)]
enum Scale {
    /// ns = units * mul / div
    Ratio(u128, u128),
    /// units so coarse-grained in the other direction that every count is 0 ns
    Zero,
}

enum Kind {
    Pcap {
        big: bool,
        scale: i128,
        linktype: u32,
    },
    Pcapng {
        big: bool,
        first: bool,
        ifaces: Vec<(u32, Scale)>,
    },
}

/// A streaming reader over any `Read` (a file, a pipe).
pub struct Reader<R: Read> {
    src: R,
    kind: Kind,
    buf: Vec<u8>,
    data: (usize, usize),
    number: u64,
    first_number: u64,
    offset: u64,
    done: bool,
    /// pcapng: the magic `open` read, the start of the first block header.
    carry: Option<[u8; 4]>,
}

/// Read up to `n` bytes into `buf` (cleared first); fewer only at the end.
fn read_up_to<R: Read>(src: &mut R, buf: &mut Vec<u8>, n: usize) -> io::Result<usize> {
    buf.clear();
    src.by_ref().take(n as u64).read_to_end(buf)
}

fn u32_of(b: &[u8], big: bool) -> u32 {
    let a = [b[0], b[1], b[2], b[3]];
    if big {
        u32::from_be_bytes(a)
    } else {
        u32::from_le_bytes(a)
    }
}

fn u16_of(b: &[u8], big: bool) -> u16 {
    if big {
        u16::from_be_bytes([b[0], b[1]])
    } else {
        u16::from_le_bytes([b[0], b[1]])
    }
}

/// `pcapng._tsresol_to_ns`.
fn tsresol(value: u8) -> Scale {
    let exp = u32::from(value & 0x7F);
    if value & 0x80 != 0 {
        return Scale::Ratio(1_000_000_000, 1u128 << exp);
    }
    if exp <= 9 {
        Scale::Ratio(10u128.pow(9 - exp), 1)
    } else if exp - 9 <= 38 {
        Scale::Ratio(1, 10u128.pow(exp - 9))
    } else {
        Scale::Zero // a 64-bit count times at most 1e9 is below 10^29
    }
}

fn scaled(units: u64, s: Scale) -> i128 {
    match s {
        // units < 2^64 and mul <= 1e9 < 2^30: the product fits in u128, the quotient in i128
        Scale::Ratio(mul, div) => (u128::from(units) * mul / div) as i128,
        Scale::Zero => 0,
    }
}

/// A timestamp past [`MAX_TS_NS`] is moved there (and the original kept for the warning).
fn clamp(ts_ns: i128) -> (i128, Option<i128>) {
    if ts_ns > MAX_TS_NS {
        (MAX_TS_NS, Some(ts_ns))
    } else {
        (ts_ns, None)
    }
}

/// The record of an enhanced or obsolete packet block on interface `desc`.
fn packet(number: u64, desc: (u32, Scale), hi: u32, lo: u32, orig: u32, iface: u32) -> Record {
    let (linktype, scale) = desc;
    let (ts_ns, out_of_range) = clamp(scaled((u64::from(hi) << 32) | u64::from(lo), scale));
    Record {
        number,
        ts_ns,
        out_of_range,
        linktype,
        orig_len: u64::from(orig),
        iface,
    }
}

/// `pcapng._parse_idb`: (linktype, scale).
fn parse_idb(body: &[u8], big: bool) -> (u32, Scale) {
    let linktype = u32::from(u16_of(body, big));
    let mut scale = Scale::Ratio(1000, 1);
    let mut pos = 8;
    while pos + 4 <= body.len() {
        let code = u16_of(&body[pos..], big);
        let length = usize::from(u16_of(&body[pos + 2..], big));
        if code == 0 || pos + 4 + length > body.len() {
            break;
        }
        if code == 9 && length >= 1 {
            scale = tsresol(body[pos + 4]);
        }
        pos += 4 + ((length + 3) & !3);
    }
    (linktype, scale)
}

impl<R: Read> Reader<R> {
    /// Read the file header; `first_number` is the first frame's number.
    pub fn open(mut src: R, first_number: u64) -> Result<Self, Fatal> {
        let mut buf = Vec::with_capacity(1 << 16);
        let got = read_up_to(&mut src, &mut buf, 4)?;
        if got < 4 {
            return Err(Fatal::NotCapture);
        }
        let magic = [buf[0], buf[1], buf[2], buf[3]];
        let kind = match magic {
            [0xd4, 0xc3, 0xb2, 0xa1]
            | [0x4d, 0x3c, 0xb2, 0xa1]
            | [0xa1, 0xb2, 0xc3, 0xd4]
            | [0xa1, 0xb2, 0x3c, 0x4d] => {
                let big = magic[0] == 0xa1;
                let nanos = magic == [0x4d, 0x3c, 0xb2, 0xa1] || magic == [0xa1, 0xb2, 0x3c, 0x4d];
                let more = read_up_to(&mut src, &mut buf, 20)?;
                if more < 20 {
                    return Err(Fatal::TooShort(4 + more));
                }
                Kind::Pcap {
                    big,
                    scale: if nanos { 1 } else { 1000 },
                    linktype: u32_of(&buf[16..20], big) & 0x0FFF_FFFF,
                }
            }
            SHB_MAGIC => Kind::Pcapng {
                big: false,
                first: true,
                ifaces: vec![],
            },
            _ => return Err(Fatal::NotCapture),
        };
        let carry = matches!(kind, Kind::Pcapng { .. }).then_some(magic);
        Ok(Reader {
            src,
            kind,
            buf,
            data: (0, 0),
            number: first_number,
            first_number,
            offset: 24,
            done: false,
            carry,
        })
    }

    /// The stream being read.
    pub fn source(&self) -> &R {
        &self.src
    }

    /// The bytes of the frame last returned.
    pub fn data(&self) -> &[u8] {
        &self.buf[self.data.0..self.data.1]
    }

    fn stop(&mut self, stop: Stop) -> Item {
        self.done = true;
        Item::Stop {
            frame: self.number,
            loaded: self.number - self.first_number,
            stop,
        }
    }

    /// The next frame, warning or end.
    pub fn next_item(&mut self) -> Result<Item, Fatal> {
        if self.done {
            return Ok(Item::End);
        }
        match self.kind {
            Kind::Pcap {
                big,
                scale,
                linktype,
            } => self.next_pcap(big, scale, linktype),
            Kind::Pcapng { .. } => self.next_pcapng(),
        }
    }

    fn next_pcap(&mut self, big: bool, scale: i128, linktype: u32) -> Result<Item, Fatal> {
        let got = read_up_to(&mut self.src, &mut self.buf, 16)?;
        if got == 0 {
            self.done = true;
            return Ok(Item::End);
        }
        if got < 16 {
            return Ok(self.stop(Stop::InsideRecord { left: got as u64 }));
        }
        let h = &self.buf;
        let (sec, frac, incl, orig) = (
            u32_of(&h[0..], big),
            u32_of(&h[4..], big),
            u32_of(&h[8..], big),
            u32_of(&h[12..], big),
        );
        if incl > MAX_PCAP_RECORD {
            let offset = self.offset;
            return Ok(self.stop(Stop::CorruptRecord {
                length: incl,
                offset,
            }));
        }
        let body = read_up_to(&mut self.src, &mut self.buf, incl as usize)?;
        if body < incl as usize {
            return Ok(self.stop(Stop::InsideRecord {
                left: 16 + body as u64,
            }));
        }
        self.offset += 16 + u64::from(incl);
        self.data = (0, body);
        let number = self.number;
        self.number += 1;
        let ts_ns = i128::from(sec) * 1_000_000_000 + i128::from(frac) * scale;
        Ok(Item::Frame(Record {
            number,
            ts_ns,
            out_of_range: None,
            linktype,
            orig_len: u64::from(orig),
            iface: 0,
        }))
    }

    fn next_pcapng(&mut self) -> Result<Item, Fatal> {
        loop {
            let mut head = [0u8; 8];
            let start = match self.carry.take() {
                Some(m) => {
                    head[..4].copy_from_slice(&m);
                    4
                }
                None => 0,
            };
            let got = start + read_up_to(&mut self.src, &mut self.buf, 8 - start)?;
            head[start..got].copy_from_slice(&self.buf[..got - start]);
            if got == 0 {
                self.done = true;
                return Ok(Item::End);
            }
            if got < 8 {
                return Ok(self.stop(Stop::BlockHeaderCut));
            }
            let Kind::Pcapng { big, first, .. } = &mut self.kind else {
                unreachable!("pcapng reader")
            };
            if head[..4] == SHB_MAGIC {
                let n = read_up_to(&mut self.src, &mut self.buf, 4)?;
                let order = match (n, &self.buf[..n]) {
                    (4, [0x4d, 0x3c, 0x2b, 0x1a]) => false,
                    (4, [0x1a, 0x2b, 0x3c, 0x4d]) => true,
                    _ if *first => return Err(Fatal::BadBom),
                    _ => return Ok(self.stop(Stop::BadBomInSection)),
                };
                *big = order;
                let length = u32_of(&head[4..], order);
                if !(28..=MAX_BLOCK).contains(&length) || length % 4 != 0 {
                    return Ok(self.stop(Stop::BadSectionLength(length)));
                }
                let want = length as usize - 12;
                if read_up_to(&mut self.src, &mut self.buf, want)? < want {
                    return Ok(self.stop(Stop::SectionCut));
                }
                if let Kind::Pcapng { ifaces, first, .. } = &mut self.kind {
                    ifaces.clear();
                    *first = false;
                }
                continue;
            }
            if *first {
                return Err(Fatal::NotPcapng);
            }
            let big = *big;
            let (btype, length) = (u32_of(&head[0..], big), u32_of(&head[4..], big));
            if !(12..=MAX_BLOCK).contains(&length) || length % 4 != 0 {
                return Ok(self.stop(Stop::BadBlockLength { length, btype }));
            }
            let want = length as usize - 8;
            if read_up_to(&mut self.src, &mut self.buf, want)? < want {
                return Ok(self.stop(Stop::BlockCut { btype }));
            }
            let body_len = want - 4;
            let Kind::Pcapng { ifaces, .. } = &mut self.kind else {
                unreachable!("pcapng reader")
            };
            let body = &self.buf[..body_len];
            match btype {
                EPB => {
                    if body.len() < 20 {
                        return Ok(self.stop(Stop::EpbTooShort));
                    }
                    let iface = u32_of(&body[0..], big);
                    let (hi, lo) = (u32_of(&body[4..], big), u32_of(&body[8..], big));
                    let (cap, orig) = (u32_of(&body[12..], big) as usize, u32_of(&body[16..], big));
                    let number = self.number;
                    self.number += 1;
                    if iface as usize >= ifaces.len() || cap > body.len() - 20 {
                        return Ok(Item::BadInterface {
                            frame: number,
                            iface,
                            interfaces: ifaces.len(),
                        });
                    }
                    self.data = (20, 20 + cap);
                    return Ok(Item::Frame(packet(
                        number,
                        ifaces[iface as usize],
                        hi,
                        lo,
                        orig,
                        iface,
                    )));
                }
                SPB => {
                    if ifaces.is_empty() || body.len() < 4 {
                        return Ok(self.stop(Stop::SpbWithoutInterface));
                    }
                    let orig = u32_of(body, big);
                    let linktype = ifaces[0].0;
                    self.data = (4, 4 + (orig as usize).min(body.len() - 4));
                    let number = self.number;
                    self.number += 1;
                    return Ok(Item::Frame(Record {
                        number,
                        ts_ns: 0,
                        out_of_range: None,
                        linktype,
                        orig_len: u64::from(orig),
                        iface: 0,
                    }));
                }
                PB => {
                    if body.len() < 20 {
                        return Ok(self.stop(Stop::PbTooShort));
                    }
                    let iface = u16_of(body, big);
                    let (hi, lo) = (u32_of(&body[4..], big), u32_of(&body[8..], big));
                    let (cap, orig) = (u32_of(&body[12..], big) as usize, u32_of(&body[16..], big));
                    let number = self.number;
                    self.number += 1;
                    if let Some(&desc) = ifaces.get(usize::from(iface)) {
                        self.data = (20, 20 + cap.min(body.len() - 20));
                        return Ok(Item::Frame(packet(
                            number,
                            desc,
                            hi,
                            lo,
                            orig,
                            u32::from(iface),
                        )));
                    }
                }
                IDB => {
                    if body.len() < 8 {
                        return Ok(self.stop(Stop::IdbTooShort));
                    }
                    let idb = parse_idb(body, big);
                    ifaces.push(idb);
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pcap(records: &[(u32, u32, &[u8])]) -> Vec<u8> {
        let mut f = vec![
            0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 1, 0, 0, 0,
        ];
        for (sec, usec, data) in records {
            f.extend_from_slice(&sec.to_le_bytes());
            f.extend_from_slice(&usec.to_le_bytes());
            f.extend_from_slice(&(data.len() as u32).to_le_bytes());
            f.extend_from_slice(&(data.len() as u32).to_le_bytes());
            f.extend_from_slice(data);
        }
        f
    }

    fn all(bytes: &[u8]) -> Vec<Item> {
        let mut r = Reader::open(bytes, 1).unwrap();
        let mut out = vec![];
        loop {
            let it = r.next_item().unwrap();
            out.push(it);
            if matches!(it, Item::End | Item::Stop { .. }) {
                return out;
            }
        }
    }

    #[test]
    fn pcap_frames_and_a_cut_last_record() {
        let f = pcap(&[(1, 2, b"abc"), (3, 4, b"defg")]);
        let items = all(&f);
        assert_eq!(items.len(), 3);
        assert!(matches!(
            items[1],
            Item::Frame(Record {
                number: 2,
                ts_ns: 3_000_004_000,
                ..
            })
        ));
        let items = all(&f[..f.len() - 2]);
        assert_eq!(
            items[1],
            Item::Stop {
                frame: 2,
                loaded: 1,
                stop: Stop::InsideRecord { left: 18 }
            }
        );
        for cut in 24..f.len() {
            let _ = all(&f[..cut]); // every cut ends cleanly
        }
    }

    #[test]
    fn fatal_headers() {
        assert!(matches!(
            Reader::open(&[0xd4u8, 0xc3, 0xb2, 0xa1, 2][..], 1),
            Err(Fatal::TooShort(5))
        ));
        assert!(matches!(
            Reader::open(&b"junkjunk"[..], 1),
            Err(Fatal::NotCapture)
        ));
    }

    #[test]
    fn tsresol_is_exact() {
        assert_eq!(scaled(5, tsresol(6)), 5000);
        assert_eq!(scaled(5, tsresol(0x80 | 1)), 2_500_000_000);
        assert_eq!(
            scaled(u64::MAX, tsresol(0)),
            i128::from(u64::MAX) * 1_000_000_000
        );
        assert_eq!(scaled(u64::MAX, tsresol(127)), 0);
        assert_eq!(clamp(MAX_TS_NS + 1), (MAX_TS_NS, Some(MAX_TS_NS + 1)));
        assert_eq!(clamp(5), (5, None));
    }
}
