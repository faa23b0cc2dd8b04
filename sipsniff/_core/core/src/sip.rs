//! SIP start line and the headers dialogs need, for clean messages.
//!
//! Strategy: the same two scans as `sipsniff/sip/message.py`
//! (`parse_datagram`): the start line (`grammar.START_LINE`), then one pass
//! over the header block for Call-ID, CSeq, From, To, Via, Content-Length and
//! Content-Type (compact forms too, first occurrence wins).  Only a *clean*
//! message is answered: every header line has a colon, no line is folded,
//! nothing is missing or malformed, every value is plain enough that Python
//! would read it the same way.  Anything else is `None` (a fallback): the
//! reference parser takes it, with its problem list and its wording.
//!
//! RFC 3261 section 25.1:
//!
//! ```text
//! Request-Line  =  Method SP Request-URI SP SIP-Version CRLF
//! Status-Line   =  SIP-Version SP Status-Code SP Reason-Phrase CRLF
//! ```
//! A bare LF line end is accepted, the version must be `SIP/2.0`.

use std::borrow::Cow;
use std::ops::Range;

/// A start line: request or response, with byte ranges into the message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Start {
    Request {
        method: Range<usize>,
        uri: Range<usize>,
    },
    Response {
        status: u16,
        reason: Option<Range<usize>>,
    },
}

fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!%*_+`'~.-".contains(&b)
}

/// `START_LINE.match(d)`: the start line and the offset just past its LF.
pub fn start_line(d: &[u8]) -> Option<(Start, usize)> {
    let line_end = |pos: usize| -> Option<usize> {
        match d.get(pos) {
            Some(b'\n') => Some(pos + 1),
            Some(b'\r') if d.get(pos + 1) == Some(&b'\n') => Some(pos + 2),
            _ => None,
        }
    };
    // request alternative first, as in the regex
    let tok = d.iter().take_while(|&&b| is_token(b)).count();
    if tok > 0 && d.get(tok) == Some(&b' ') {
        let u0 = tok + 1;
        let ulen = d[u0..]
            .iter()
            .take_while(|&&b| !matches!(b, b' ' | b'\r' | b'\n'))
            .count();
        let after = u0 + ulen;
        if ulen > 0 && d[after..].starts_with(b" SIP/2.0") {
            if let Some(end) = line_end(after + 8) {
                return Some((
                    Start::Request {
                        method: 0..tok,
                        uri: u0..after,
                    },
                    end,
                ));
            }
        }
    }
    if d.starts_with(b"SIP/2.0 ") && d.len() >= 11 {
        let c = &d[8..11];
        if (b'1'..=b'9').contains(&c[0]) && c[1].is_ascii_digit() && c[2].is_ascii_digit() {
            let status =
                u16::from(c[0] - b'0') * 100 + u16::from(c[1] - b'0') * 10 + u16::from(c[2] - b'0');
            if d.get(11) == Some(&b' ') {
                let r0 = 12;
                let rlen = d[r0..]
                    .iter()
                    .take_while(|&&b| !matches!(b, b'\r' | b'\n'))
                    .count();
                if let Some(end) = line_end(r0 + rlen) {
                    return Some((
                        Start::Response {
                            status,
                            reason: Some(r0..r0 + rlen),
                        },
                        end,
                    ));
                }
            }
            if let Some(end) = line_end(11) {
                return Some((
                    Start::Response {
                        status,
                        reason: None,
                    },
                    end,
                ));
            }
        }
    }
    None
}

/// The hot headers, in `HOT_HEADERS` terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hot {
    CallId = 0,
    CSeq = 1,
    From = 2,
    To = 3,
    Via = 4,
    ContentLength = 5,
    ContentType = 6,
}

impl Hot {
    /// The canonical (Python) name.
    pub fn name(self) -> &'static str {
        match self {
            Hot::CallId => "call-id",
            Hot::CSeq => "cseq",
            Hot::From => "from",
            Hot::To => "to",
            Hot::Via => "via",
            Hot::ContentLength => "content-length",
            Hot::ContentType => "content-type",
        }
    }
}

/// The alternation of `message._HOT`, in its order (the first that fits wins).
const HOT_NAMES: [(&[u8], Hot); 13] = [
    (b"call-id", Hot::CallId),
    (b"i", Hot::CallId),
    (b"cseq", Hot::CSeq),
    (b"from", Hot::From),
    (b"f", Hot::From),
    (b"to", Hot::To),
    (b"t", Hot::To),
    (b"via", Hot::Via),
    (b"v", Hot::Via),
    (b"content-length", Hot::ContentLength),
    (b"l", Hot::ContentLength),
    (b"content-type", Hot::ContentType),
    (b"c", Hot::ContentType),
];

/// A clean message, with everything `SipMessage` needs beyond the bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub start: Start,
    /// Header block: `hstart..hend` (what `Headers` is built over).
    pub hstart: usize,
    pub hend: usize,
    pub body_off: usize,
    /// The message is `d[..end]`; a datagram may go on after it.
    pub end: usize,
    /// First value of each hot header present, in the order the scan met them.
    pub hot: Vec<(Hot, String)>,
    pub cseq_num: u64,
    pub cseq_method: String,
    pub branch: String,
    pub from_tag: String,
    pub to_tag: String,
    /// The body is SDP (`parse_sdp` must read it).
    pub sdp: bool,
    /// That SDP, when the native parser could read it (else Python parses it).
    pub parsed_sdp: Option<crate::sdp::Sdp>,
}

impl Message {
    pub fn get(&self, h: Hot) -> Option<&str> {
        self.hot
            .iter()
            .find(|(k, _)| *k == h)
            .map(|(_, v)| v.as_str())
    }
}

/// What the native parser can say of a message: `Clean`, or `Fallback` (not
/// clean: the reference parser must read it, and word its problems).
pub type Parsed = Option<Message>;

/// Python's `str.isspace` (Unicode White_Space plus the C0 separators 0x1C-0x1F).
fn py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// `bytes.decode("utf-8", "replace").rstrip()`.
fn value_text(b: &[u8]) -> String {
    match String::from_utf8_lossy(b) {
        Cow::Borrowed(s) => s.trim_end_matches(py_space).to_owned(),
        Cow::Owned(s) => s.trim_end_matches(py_space).to_owned(),
    }
}

fn find(hay: &[u8], needle: &[u8], from: usize, to: usize) -> Option<usize> {
    let to = to.min(hay.len());
    if from >= to || to - from < needle.len() {
        return None;
    }
    hay[from..to]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// `ODD_LINE.pattern + "|\n\n"` searched in `d[from..to]`: a folded line, a line
/// with no colon, or an empty line (a bare-LF header block end).
fn odd_or_lflf(d: &[u8], from: usize, to: usize) -> bool {
    let to = to.min(d.len());
    let mut i = from;
    while i < to {
        if d[i] == b'\n' {
            match d.get(i + 1).filter(|_| i + 1 < to) {
                Some(b' ' | b'\t' | b'\n') => return true,
                Some(&c) if c != b':' && !matches!(c, b'\r' | b'\x0b' | b'\x0c') => {
                    // [^:\s][^:\n]*\n : a line with no colon before its LF
                    let mut j = i + 2;
                    while j < to && d[j] != b':' && d[j] != b'\n' {
                        j += 1;
                    }
                    if j < to && d[j] == b'\n' {
                        return true;
                    }
                }
                _ => {}
            }
        }
        i += 1;
    }
    false
}

/// `NAME[ \t]*:[ \t]*([^\r\n]*)` at the start of `line`, NAME matched without
/// regard to ASCII case: the value's range within `line`, or None.
pub fn named_value(line: &[u8], name: &[u8]) -> Option<Range<usize>> {
    if line.len() < name.len() || !line[..name.len()].eq_ignore_ascii_case(name) {
        return None;
    }
    let skip = |mut i: usize| {
        while i < line.len() && matches!(line[i], b' ' | b'\t') {
            i += 1;
        }
        i
    };
    let i = skip(name.len());
    if line.get(i) != Some(&b':') {
        return None;
    }
    let v0 = skip(i + 1);
    let len = line[v0..]
        .iter()
        .take_while(|&&b| !matches!(b, b'\r' | b'\n'))
        .count();
    Some(v0..v0 + len)
}

/// The hot header at `d[pos..to]` (just after an LF): which, and its value's range.
fn hot_at(d: &[u8], pos: usize, to: usize) -> Option<(Hot, Range<usize>)> {
    let line = &d[pos..to];
    HOT_NAMES
        .iter()
        .find_map(|&(name, h)| named_value(line, name).map(|r| (h, pos + r.start..pos + r.end)))
}

/// `;[ \t]*NAME[ \t]*=[ \t]*([^;,> \t]*)`, case-insensitive, searched from `from`.
fn param<'a>(s: &'a str, from: usize, name: &str) -> Option<&'a str> {
    let b = s.as_bytes();
    let mut i = from;
    while let Some(p) = b[i.min(b.len())..].iter().position(|&c| c == b';') {
        let semi = i + p;
        let mut j = semi + 1;
        while j < b.len() && matches!(b[j], b' ' | b'\t') {
            j += 1;
        }
        if b.len() >= j + name.len() && b[j..j + name.len()].eq_ignore_ascii_case(name.as_bytes()) {
            j += name.len();
            while j < b.len() && matches!(b[j], b' ' | b'\t') {
                j += 1;
            }
            if b.get(j) == Some(&b'=') {
                j += 1;
                while j < b.len() && matches!(b[j], b' ' | b'\t') {
                    j += 1;
                }
                let v0 = j;
                while j < b.len() && !matches!(b[j], b';' | b',' | b'>' | b' ' | b'\t') {
                    j += 1;
                }
                return Some(&s[v0..j]);
            }
        }
        i = semi + 1;
    }
    None
}

/// `message._header_tag`: the header's tag, never one inside `<URI>`.
fn header_tag(v: &str) -> String {
    let from = v.rfind('>').map_or(0, |g| g + 1);
    param(v, from, "tag").unwrap_or("").to_owned()
}

/// Plain decimal digits that Python's `int()` reads the same way (no sign,
/// underscore or non-ASCII digit, small enough for a u64).
fn plain_int(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 18 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Parse the message at the start of `d` (`parse_datagram`), given its start line.
pub fn parse(d: &[u8], start: Start, hstart: usize) -> Parsed {
    let (hend, body_off) = match find(d, b"\r\n\r\n", hstart.saturating_sub(2), d.len()) {
        Some(h) => (h, h + 4),
        None => (d.len(), d.len()),
    };
    if odd_or_lflf(d, hstart - 1, hend + 2) {
        return None;
    }
    let mut hot: Vec<(Hot, String)> = Vec::with_capacity(7);
    let mut seen = [false; 7];
    let mut i = hstart - 1;
    while i < hend {
        if d[i] != b'\n' {
            i += 1;
            continue;
        }
        match hot_at(d, i + 1, hend) {
            Some((h, r)) => {
                if !seen[h as usize] {
                    seen[h as usize] = true;
                    hot.push((h, value_text(&d[r.clone()])));
                }
                i = r.end;
            }
            None => i += 1,
        }
    }
    if !seen[..5].iter().all(|&s| s) {
        return None; // "missing X header"
    }
    let get = |h: Hot| hot.iter().find(|(k, _)| *k == h).map(|(_, v)| v.as_str());
    // CSeq = 1*DIGIT LWS Method, read as Python's split(None, 1) does
    let cseq = get(Hot::CSeq).unwrap_or("");
    if !cseq
        .bytes()
        .all(|b| (0x20..0x7f).contains(&b) || b == b'\t')
    {
        return None;
    }
    let (cseq_num, cseq_method) = {
        let t = cseq.trim_start_matches([' ', '\t']);
        if t.is_empty() {
            (0, String::new())
        } else {
            let n = t.find([' ', '\t']).unwrap_or(t.len());
            let num = plain_int(&t[..n])?;
            (num, t[n..].trim_matches([' ', '\t']).to_owned())
        }
    };
    let mut end = d.len();
    if let Some(cl) = get(Hot::ContentLength) {
        let n = plain_int(cl)?;
        let n = n as usize;
        if body_off + n < end {
            end = body_off + n;
        } else if body_off + n > end {
            return None; // "Content-Length N but only M body bytes"
        }
    }
    let body = &d[body_off.min(end)..end];
    let mut sdp = false;
    if !body.is_empty() {
        let ctype = get(Hot::ContentType).unwrap_or("");
        if !ctype.is_ascii() {
            return None;
        }
        sdp = ctype.to_ascii_lowercase().contains("sdp")
            || (ctype.is_empty() && body.starts_with(b"v="));
    }
    let via = get(Hot::Via).unwrap_or("");
    let top = via.split(',').next().unwrap_or("");
    let branch = if via.is_empty() {
        String::new()
    } else {
        param(top, 0, "branch").unwrap_or("").to_owned()
    };
    let from_tag = header_tag(get(Hot::From).unwrap_or(""));
    let to_tag = header_tag(get(Hot::To).unwrap_or(""));
    let parsed_sdp = if sdp { crate::sdp::parse(body) } else { None };
    Some(Message {
        start,
        hstart,
        hend,
        body_off,
        end,
        hot,
        cseq_num,
        cseq_method,
        branch,
        from_tag,
        to_tag,
        sdp,
        parsed_sdp,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean(d: &[u8]) -> Message {
        let (s, h) = start_line(d).expect("start line");
        parse(d, s, h).expect("clean")
    }

    const INVITE: &[u8] = b"INVITE sip:bob@b.example SIP/2.0\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/UDP b;branch=z2\r\n\
f: \"A\" <sip:a@a;tag=inuri>;tag=ft1\r\nTo: <sip:b@b>\r\ni: abc@host  \r\nCSeq: 1\tINVITE\r\nl: 4\r\nc: application/SDP\r\n\r\nv=0\r\nXX";

    #[test]
    fn request_fields() {
        let m = clean(INVITE);
        assert_eq!(m.get(Hot::CallId), Some("abc@host"));
        assert_eq!((m.cseq_num, m.cseq_method.as_str()), (1, "INVITE"));
        assert_eq!(m.branch, "z9hG4bK1");
        assert_eq!(m.from_tag, "ft1");
        assert_eq!(m.to_tag, "");
        assert!(m.sdp);
        assert_eq!(&INVITE[m.body_off..m.end], b"v=0\r");
    }

    #[test]
    fn start_lines() {
        assert!(start_line(b"SIP/2.0 200 OK\r\n").is_some());
        assert_eq!(start_line(b"SIP/2.0 200\n").map(|x| x.1), Some(12));
        assert!(start_line(b"SIP/2.0 2000 OK\r\n").is_none());
        assert!(start_line(b"SIP/2.0 200 OK\rX\n").is_none());
        assert!(start_line(b"SIP/2.0 099 OK\r\n").is_none());
        assert!(start_line(b"INVITE  sip:a SIP/2.0\r\n").is_none());
        assert!(start_line(b"INVITE sip:a SIP/2.1\r\n").is_none());
        assert!(start_line(b"INVITE sip:a SIP/2.0 \r\n").is_none());
    }

    #[test]
    fn unclean_goes_to_the_reference() {
        for d in [
            &b"OPTIONS sip:a SIP/2.0\r\nVia: x\r\n folded\r\nFrom: a\r\nTo: b\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n"[..],
            b"OPTIONS sip:a SIP/2.0\r\nVia: x\r\nFrom: a\r\nTo: b\r\nCSeq: 1 OPTIONS\r\n\r\n",
            b"OPTIONS sip:a SIP/2.0\r\nVia: x\r\nnocolon\r\nFrom: a\r\nTo: b\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n",
            b"OPTIONS sip:a SIP/2.0\r\nVia: x\r\nFrom: a\r\nTo: b\r\nCall-ID: c\r\nCSeq: x OPTIONS\r\n\r\n",
            b"OPTIONS sip:a SIP/2.0\r\nVia: x\r\nFrom: a\r\nTo: b\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nl: 9\r\n\r\nab",
        ] {
            let (s, h) = start_line(d).unwrap();
            assert_eq!(parse(d, s, h), None, "{}", String::from_utf8_lossy(d));
        }
    }

    #[test]
    fn python_whitespace_is_stripped() {
        assert_eq!(value_text(b"abc \x1f\xc2\xa0"), "abc");
        assert_eq!(value_text(b"a\xff"), "a\u{fffd}");
    }
}
