//! SDP bodies (RFC 4566/8866), for plain ASCII bodies the reference parser
//! would read without a problem.
//!
//! Strategy: the same single pass as `sipsniff/sip/sdp.py` (`parse_sdp`):
//! origin, session and media connection addresses, media lines, `a=rtpmap`
//! codecs (static payload types named from RFC 3551 when no rtpmap), and the
//! effective direction of each stream.  A body with anything the reference
//! would read differently or complain about -- a byte outside printable
//! ASCII, a stray CR, a line that is not `x=value`, a media port that is not
//! plain digits -- is `None`: the Python parser reads it and words the problem.

/// One `m=` section, in `sdp.Media` field order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Media {
    pub kind: String,
    pub port: u32,
    pub proto: String,
    pub formats: Vec<String>,
    pub codecs: Vec<String>,
    pub connection: String,
    pub direction: String,
    /// `a=rtpmap` (payload type, encoding/rate) as written: the media
    /// accounting's clock rates (not part of the Python tuple).
    pub rtpmap: Vec<(String, String)>,
}

/// A session description, in `sdp.Sdp` field order (no problems: those fall back).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sdp {
    pub origin_addr: String,
    pub session_id: String,
    pub version: String,
    pub connection: String,
    pub direction: String,
    pub media: Vec<Media>,
}

const DIRECTIONS: [&str; 4] = ["sendrecv", "sendonly", "recvonly", "inactive"];

/// RFC 3551 static payload types (`sdp._STATIC_PT`).
fn static_pt(pt: u32) -> Option<&'static str> {
    Some(match pt {
        0 => "PCMU/8000",
        3 => "GSM/8000",
        4 => "G723/8000",
        5 => "DVI4/8000",
        6 => "DVI4/16000",
        7 => "LPC/8000",
        8 => "PCMA/8000",
        9 => "G722/8000",
        10 | 11 => "L16/44100",
        12 => "QCELP/8000",
        13 => "CN/8000",
        14 => "MPA/90000",
        15 => "G728/8000",
        16 => "DVI4/11025",
        17 => "DVI4/22050",
        18 => "G729/8000",
        25 => "CelB/90000",
        26 => "JPEG/90000",
        28 => "nv/90000",
        31 => "H261/90000",
        32 => "MPV/90000",
        33 => "MP2T/90000",
        34 => "H263/90000",
        _ => return None,
    })
}

struct M {
    kind: String,
    port: u32,
    proto: String,
    formats: Vec<String>,
    rtpmap: Vec<(String, String)>,
    conn: String,
    direction: String,
}

fn split_ws(s: &str) -> Vec<&str> {
    s.split([' ', '\t']).filter(|p| !p.is_empty()).collect()
}

fn digits(s: &str) -> Option<u32> {
    if s.is_empty() || s.len() > 9 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// `parse_sdp(body)` for a body the reference reads without a problem, else `None`.
pub fn parse(body: &[u8]) -> Option<Sdp> {
    // printable ASCII, tabs, and CR only right before LF or at the very end
    for (i, &b) in body.iter().enumerate() {
        let ok = match b {
            0x20..=0x7e | b'\t' | b'\n' => true,
            b'\r' => i + 1 == body.len() || body[i + 1] == b'\n',
            _ => false,
        };
        if !ok {
            return None;
        }
    }
    let text = std::str::from_utf8(body).ok()?;
    let (mut origin, mut sess_id, mut version, mut conn, mut sess_dir) = (
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
    );
    let mut media: Vec<M> = Vec::new();
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        let b = line.as_bytes();
        if b.len() < 2 || b[1] != b'=' {
            if line.trim_matches([' ', '\t']).is_empty() {
                continue;
            }
            return None; // "not an SDP line"
        }
        let value = &line[2..];
        match b[0] {
            b'a' => {
                let (name, val) = value.split_once(':').unwrap_or((value, ""));
                if DIRECTIONS.contains(&name) {
                    match media.last_mut() {
                        None => sess_dir = name.to_owned(),
                        Some(m) => m.direction = name.to_owned(),
                    }
                } else if name == "rtpmap" {
                    if let Some(m) = media.last_mut() {
                        let (pt, enc) = val.split_once(' ').unwrap_or((val, ""));
                        let (pt, enc) =
                            (pt.trim_matches([' ', '\t']), enc.trim_matches([' ', '\t']));
                        match m.rtpmap.iter_mut().find(|(k, _)| k == pt) {
                            Some(slot) => slot.1 = enc.to_owned(),
                            None => m.rtpmap.push((pt.to_owned(), enc.to_owned())),
                        }
                    }
                }
            }
            b'm' => {
                let parts = split_ws(value);
                let port = digits(parts.get(1)?.split('/').next().unwrap_or(""))?;
                media.push(M {
                    kind: parts[0].to_owned(),
                    port,
                    proto: parts.get(2).map_or("", |p| p).to_owned(),
                    formats: parts.iter().skip(3).map(|f| (*f).to_owned()).collect(),
                    rtpmap: Vec::new(),
                    conn: String::new(),
                    direction: String::new(),
                });
            }
            b'c' => {
                let parts = split_ws(value);
                let addr = parts
                    .get(2)
                    .map_or("", |p| p.split('/').next().unwrap_or(""))
                    .to_owned();
                match media.last_mut() {
                    None => conn = addr,
                    Some(m) => m.conn = addr,
                }
            }
            b'o' => {
                let parts = split_ws(value);
                if parts.len() >= 6 {
                    sess_id = parts[1].to_owned();
                    version = parts[2].to_owned();
                    origin = parts[5].to_owned();
                }
            }
            _ => {}
        }
    }
    let media = media
        .into_iter()
        .map(|m| {
            let codecs = m
                .formats
                .iter()
                .map(|f| {
                    let mapped = m
                        .rtpmap
                        .iter()
                        .find(|(k, _)| k == f)
                        .map(|(_, v)| v.as_str())
                        .filter(|v| !v.is_empty());
                    match mapped {
                        Some(v) => v.to_owned(),
                        None => match digits(f).and_then(static_pt) {
                            Some(name) if f.bytes().all(|b| b.is_ascii_digit()) => name.to_owned(),
                            _ => f.clone(),
                        },
                    }
                })
                .collect();
            let connection = if m.conn.is_empty() {
                conn.clone()
            } else {
                m.conn
            };
            let direction = if !m.direction.is_empty() {
                m.direction
            } else if !sess_dir.is_empty() {
                sess_dir.clone()
            } else {
                "sendrecv".to_owned()
            };
            Media {
                kind: m.kind,
                port: m.port,
                proto: m.proto,
                formats: m.formats,
                codecs,
                connection,
                direction,
                rtpmap: m.rtpmap,
            }
        })
        .collect();
    let direction = if sess_dir.is_empty() {
        "sendrecv".to_owned()
    } else {
        sess_dir
    };
    Some(Sdp {
        origin_addr: origin,
        session_id: sess_id,
        version,
        connection: conn,
        direction,
        media,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offer() {
        let s = parse(b"v=0\r\no=a 1 2 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\na=sendonly\r\n").unwrap();
        assert_eq!(
            (
                s.origin_addr.as_str(),
                s.session_id.as_str(),
                s.version.as_str()
            ),
            ("10.0.0.1", "1", "2")
        );
        let m = &s.media[0];
        assert_eq!(m.codecs, ["PCMU/8000", "PCMA/8000", "telephone-event/8000"]);
        assert_eq!(
            (
                m.connection.as_str(),
                m.direction.as_str(),
                s.direction.as_str()
            ),
            ("10.0.0.2", "sendonly", "sendrecv")
        );
    }

    #[test]
    fn unusual_bodies_fall_back() {
        assert!(parse(b"v=0\r\nm=audio x RTP/AVP 0\r\n").is_none());
        assert!(parse(b"v=0\r\ngarbage\r\n").is_none());
        assert!(parse(b"v=0\rm=audio 1 RTP/AVP 0\r\n").is_none());
        assert!(parse("v=0\r\ns=Ünï\r\n".as_bytes()).is_none());
        assert!(parse(b"v=0\r\nm=audio\r\n").is_none());
    }
}
