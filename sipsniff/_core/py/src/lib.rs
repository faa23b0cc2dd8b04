//! `sipsniff._native`: the PyO3 face of `sipsniff-core`.
//!
//! Strategy: Python hands over frames in batches (a list of `Frame` tuples)
//! and gets back one list of plain tuples per batch, so the crossing costs a
//! call per thousand frames, not per packet.  Records are tuples, not
//! classes: `sipsniff/engine.py` turns a message tuple into a `SipMessage`
//! with `Headers` over the same bytes, and words each diagnostic.
//! `sipsniff/_native.pyi` types this module for mypy.

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple};
use sipsniff_core::capture::{Fatal, Item, Reader, Stop};
use sipsniff_core::decode::Addr;
use sipsniff_core::scan::{Diag, Event, Flow, Scanner as Core};
use sipsniff_core::sdp::Sdp;
use sipsniff_core::sip::{Hot, Message, Start};
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Read};

/// Event kinds, the first item of each event tuple (mirrored in engine.py).
const EV_MESSAGE: u8 = 0;
const EV_FALLBACK: u8 = 1;
const EV_SLOW: u8 = 2;
const EV_DIAG: u8 = 3;
const EV_TICK: u8 = 4;
const EV_SLOW_FRAME: u8 = 5;
const EV_READ_STOP: u8 = 6;
const EV_BAD_INTERFACE: u8 = 7;
const EV_BAD_TIMESTAMP: u8 = 8;

/// Diagnostic codes, the second item of a diagnostic event.
const D_TRAILING: u8 = 0;
const D_BAD_START: u8 = 1;
const D_JUNK_PORT: u8 = 2;
const D_TIME_JUMP: u8 = 3;

#[pyclass(module = "sipsniff._native")]
struct Scanner {
    core: Core,
    events: Vec<Event>,
    /// Address texts already made, so each address is one Python string
    /// (bounded like the Python decoder's cache).
    addrs: HashMap<Addr, Py<PyString>>,
}

const ADDR_CACHE_MAX: usize = 65_536;

/// The canonical name of a hot header, interned once.
fn hot_name(py: Python<'_>, h: Hot) -> &Bound<'_, PyString> {
    match h {
        Hot::CallId => pyo3::intern!(py, "call-id"),
        Hot::CSeq => pyo3::intern!(py, "cseq"),
        Hot::From => pyo3::intern!(py, "from"),
        Hot::To => pyo3::intern!(py, "to"),
        Hot::Via => pyo3::intern!(py, "via"),
        Hot::ContentLength => pyo3::intern!(py, "content-length"),
        Hot::ContentType => pyo3::intern!(py, "content-type"),
    }
}

/// An `Sdp` as the tuple `engine.py` turns into `sdp.Sdp` (media as `sdp.Media` tuples).
fn sdp_tuple<'py>(py: Python<'py>, s: &Sdp) -> PyResult<Bound<'py, PyTuple>> {
    let media = s
        .media
        .iter()
        .map(|m| {
            (
                m.kind.as_str(),
                m.port,
                m.proto.as_str(),
                PyTuple::new(py, &m.formats)?,
                PyTuple::new(py, &m.codecs)?,
                m.connection.as_str(),
                m.direction.as_str(),
            )
                .into_pyobject(py)
        })
        .collect::<PyResult<Vec<_>>>()?;
    (
        s.origin_addr.as_str(),
        s.session_id.as_str(),
        s.version.as_str(),
        s.connection.as_str(),
        s.direction.as_str(),
        PyTuple::new(py, media)?,
    )
        .into_pyobject(py)
}

fn parse_addr(s: &str) -> PyResult<Addr> {
    match s.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(a)) => Ok(Addr::V4(a.octets())),
        Ok(std::net::IpAddr::V6(a)) => Ok(Addr::V6(a.octets())),
        Err(_) => Err(pyo3::exceptions::PyValueError::new_err(format!(
            "not an IP address: {s:?}"
        ))),
    }
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

impl Scanner {
    /// The address as text, one Python string per address.
    fn addr<'py>(&mut self, py: Python<'py>, a: Addr) -> Bound<'py, PyString> {
        if let Some(s) = self.addrs.get(&a) {
            return s.bind(py).clone();
        }
        if self.addrs.len() >= ADDR_CACHE_MAX {
            self.addrs.clear();
        }
        let s = PyString::new(py, &a.text());
        self.addrs.insert(a, s.clone().unbind());
        s
    }

    /// Convert the pending events into tuples; `frames`/`index` name the batch
    /// item a `Slow` event refers to.
    fn drain<'py>(
        &mut self,
        py: Python<'py>,
        buf: &[u8],
        list: &Bound<'py, PyList>,
        slow_index: usize,
    ) -> PyResult<()> {
        let mut events = std::mem::take(&mut self.events);
        for ev in events.drain(..) {
            let item: Bound<'py, PyTuple> = match ev {
                Event::Message {
                    frame,
                    ts_ns,
                    flow,
                    bytes,
                    msg,
                } => {
                    let (fields, tail) = message_parts(py, &buf[bytes], &msg)?;
                    let head = (
                        frame,
                        ts_ns,
                        self.addr(py, flow.src),
                        flow.sport,
                        self.addr(py, flow.dst),
                        flow.dport,
                    );
                    PyTuple::new(
                        py,
                        [
                            EV_MESSAGE.into_pyobject(py)?.into_any(),
                            head.into_pyobject(py)?.into_any(),
                            fields.into_any(),
                            tail.into_any(),
                        ],
                    )?
                }
                Event::Fallback {
                    frame,
                    ts_ns,
                    flow,
                    payload,
                } => {
                    let t = (
                        EV_FALLBACK,
                        frame,
                        ts_ns,
                        flow.src.text(),
                        flow.sport,
                        flow.dst.text(),
                        flow.dport,
                        PyBytes::new(py, &buf[payload]),
                    );
                    t.into_pyobject(py)?
                }
                Event::Slow => (EV_SLOW, slow_index).into_pyobject(py)?,
                Event::Diag(d) => match d {
                    Diag::TrailingBytes { frame, len } => {
                        (EV_DIAG, D_TRAILING, frame, len).into_pyobject(py)?
                    }
                    Diag::BadStartLine { frame, first } => {
                        (EV_DIAG, D_BAD_START, frame, PyBytes::new(py, &first)).into_pyobject(py)?
                    }
                    Diag::JunkOnSipPort {
                        frame,
                        len,
                        port,
                        head,
                    } => (
                        EV_DIAG,
                        D_JUNK_PORT,
                        frame,
                        (len, port, PyBytes::new(py, &head)),
                    )
                        .into_pyobject(py)?,
                    Diag::TimeJump { frame, delta_ns } => {
                        (EV_DIAG, D_TIME_JUMP, frame, delta_ns).into_pyobject(py)?
                    }
                },
                Event::Tick(ts) => (EV_TICK, ts).into_pyobject(py)?,
            };
            list.append(item)?;
        }
        self.events = events; // keep the allocation
        Ok(())
    }
}

/// A reader that counts the bytes it has read, for progress bars.
struct Counted<R> {
    inner: R,
    read: u64,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        Ok(n)
    }
}

/// An open capture file (classic pcap or pcapng, uncompressed).
#[pyclass(module = "sipsniff._native")]
struct FileReader {
    reader: Reader<Counted<BufReader<File>>>,
}

/// Stop code and arguments, in `sipsniff/capture/wording.py`'s numbering.
fn stop_code(s: Stop) -> (u8, (u64, u64)) {
    match s {
        Stop::CorruptRecord { length, offset } => (0, (u64::from(length), offset)),
        Stop::InsideRecord { left } => (1, (left, 0)),
        Stop::BlockHeaderCut => (2, (0, 0)),
        Stop::BadBomInSection => (3, (0, 0)),
        Stop::BadSectionLength(n) => (4, (u64::from(n), 0)),
        Stop::SectionCut => (5, (0, 0)),
        Stop::BadBlockLength { length, btype } => (6, (u64::from(length), u64::from(btype))),
        Stop::BlockCut { btype } => (7, (u64::from(btype), 0)),
        Stop::EpbTooShort => (8, (0, 0)),
        Stop::SpbWithoutInterface => (9, (0, 0)),
        Stop::PbTooShort => (10, (0, 0)),
        Stop::IdbTooShort => (11, (0, 0)),
    }
}

fn io_error(e: std::io::Error) -> PyErr {
    PyErr::from(e)
}

#[pymethods]
impl FileReader {
    /// Open `path`.  Raises ValueError(kind, n) for a file that is no usable capture
    /// (kind: "too-short", "bad-bom", "not-pcapng", "not-capture"), OSError otherwise.
    #[new]
    fn new(path: &str) -> PyResult<Self> {
        let file = File::open(path).map_err(io_error)?;
        let src = Counted {
            inner: BufReader::with_capacity(1 << 20, file),
            read: 0,
        };
        match Reader::open(src, 1) {
            Ok(reader) => Ok(FileReader { reader }),
            Err(Fatal::Io(e)) => Err(io_error(e)),
            Err(f) => {
                let (kind, n) = match f {
                    Fatal::TooShort(n) => ("too-short", n),
                    Fatal::BadBom => ("bad-bom", 0),
                    Fatal::NotPcapng => ("not-pcapng", 0),
                    _ => ("not-capture", 0),
                };
                Err(pyo3::exceptions::PyValueError::new_err((kind, n)))
            }
        }
    }
}

#[pymethods]
impl Scanner {
    /// `shard`: (index, count) of a sharded analysis, or None.
    #[new]
    #[pyo3(signature = (shard=None))]
    fn new(shard: Option<(u32, u32)>) -> Self {
        Scanner {
            core: Core::new(shard),
            events: Vec::with_capacity(16),
            addrs: HashMap::new(),
        }
    }

    /// Scan a batch of `Frame` tuples; return the events, in order.
    fn feed<'py>(
        &mut self,
        py: Python<'py>,
        frames: &Bound<'py, PyList>,
    ) -> PyResult<Bound<'py, PyList>> {
        let out = PyList::empty(py);
        for (i, fr) in frames.iter().enumerate() {
            let t = fr.cast::<PyTuple>()?;
            let number: u64 = t.get_item(0)?.extract()?;
            let ts_ns: i128 = t.get_item(1)?.extract()?;
            let linktype: u32 = t.get_item(2)?.extract()?;
            let data_obj = t.get_item(3)?;
            let data = data_obj.cast::<PyBytes>()?.as_bytes();
            let orig_len: u64 = t.get_item(4)?.extract()?;
            self.core
                .frame(number, ts_ns, linktype, data, orig_len, &mut self.events);
            if !self.events.is_empty() {
                self.drain(py, data, &out, i)?;
            }
        }
        Ok(out)
    }

    /// Read and scan up to `max_frames` frames of a file: (events, bytes read so far,
    /// frames read so far, finished).  Raises OSError on a read error, with the
    /// events of the frames before it lost (the Python reader loses them too).
    fn scan_file<'py>(
        &mut self,
        py: Python<'py>,
        file: &Bound<'py, FileReader>,
        max_frames: usize,
    ) -> PyResult<(Bound<'py, PyList>, u64, u64, bool)> {
        let out = PyList::empty(py);
        let mut f = file.borrow_mut();
        let mut done = false;
        for _ in 0..max_frames {
            let item = match f.reader.next_item() {
                Ok(item) => item,
                Err(Fatal::Io(e)) => return Err(io_error(e)),
                Err(_) => return Err(pyo3::exceptions::PyValueError::new_err(("not-pcapng", 0))),
            };
            match item {
                Item::Frame(r) => {
                    if let Some(ts) = r.out_of_range {
                        out.append((EV_BAD_TIMESTAMP, r.number, ts))?;
                    }
                    let data = f.reader.data();
                    self.core.frame(
                        r.number,
                        r.ts_ns,
                        r.linktype,
                        data,
                        r.orig_len,
                        &mut self.events,
                    );
                    if matches!(self.events.first(), Some(Event::Slow)) {
                        // the reference decoder takes this frame: it crosses whole
                        self.events.remove(0);
                        let fr = (
                            r.number,
                            r.ts_ns,
                            r.linktype,
                            PyBytes::new(py, data),
                            r.orig_len,
                            r.iface,
                        );
                        out.append((EV_SLOW_FRAME, fr))?;
                    }
                    if !self.events.is_empty() {
                        self.drain(py, data, &out, 0)?;
                    }
                }
                Item::BadInterface {
                    frame,
                    iface,
                    interfaces,
                } => {
                    out.append((EV_BAD_INTERFACE, frame, iface, interfaces))?;
                }
                Item::Stop {
                    frame,
                    loaded,
                    stop,
                } => {
                    let (code, args) = stop_code(stop);
                    out.append((EV_READ_STOP, frame, loaded, code, args))?;
                    done = true;
                    break;
                }
                Item::End => {
                    done = true;
                    break;
                }
            }
        }
        let c = &self.core.counters;
        Ok((out, f.reader.source().read, c.frames, done))
    }

    /// A UDP datagram the reference decoder found (fragments, tunnels...).
    #[allow(clippy::too_many_arguments)]
    fn datagram<'py>(
        &mut self,
        py: Python<'py>,
        frame: u64,
        ts_ns: i128,
        src: &str,
        sport: u16,
        dst: &str,
        dport: u16,
        data: &Bound<'py, PyBytes>,
    ) -> PyResult<Bound<'py, PyList>> {
        let out = PyList::empty(py);
        let flow = Flow {
            src: parse_addr(src)?,
            sport,
            dst: parse_addr(dst)?,
            dport,
        };
        let buf = data.as_bytes();
        self.core
            .datagram(frame, ts_ns, flow, buf, 0..buf.len(), &mut self.events);
        self.drain(py, buf, &out, 0)?;
        Ok(out)
    }

    /// The RTP streams (issue 12), sorted by first frame: (src, sport, dst,
    /// dport, ssrc, first_frame, last_frame, first_ts_ns, last_ts_ns, packets,
    /// bytes, payload_types, expected, lost, seq_errors, duplicates,
    /// max_delta_ns, mean_delta_ns, jitter_ms, max_jitter_ms, mean_jitter_ms,
    /// clock_rate, markers, events [(event, frame)]).
    fn streams<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let out = PyList::empty(py);
        let rows: Vec<_> = self
            .core
            .media
            .streams()
            .into_iter()
            .map(|(k, s)| (*k, s.clone()))
            .collect();
        for (k, s) in rows {
            let mean_delta = if s.delta_samples > 0 {
                s.sum_delta_ns as f64 / s.delta_samples as f64
            } else {
                0.0
            };
            let mean_jitter = s.mean_jitter_ms;
            let head = (
                self.addr(py, k.0),
                k.1,
                self.addr(py, k.2),
                k.3,
                k.4,
                s.first_frame,
                s.last_frame,
                s.first_ts_ns,
                s.last_ts_ns,
                s.packets,
                s.bytes,
                PyTuple::new(py, &s.payload_types)?,
            );
            let tail = (
                s.expected(),
                s.lost(),
                s.seq_errors,
                s.duplicates,
                s.max_delta_ns,
                mean_delta,
                s.jitter_ms(),
                s.max_jitter_ms,
                mean_jitter,
                s.clock_rate,
                s.markers,
                s.events.clone(),
            );
            let row = head.into_pyobject(py)?.add(tail.into_pyobject(py)?)?;
            out.append(row)?;
        }
        Ok(out)
    }

    /// The RTCP senders, sorted by first frame: (src, sport, dst, dport,
    /// sender ssrc, first_frame, last_frame, sr, rr, fraction_lost (/256),
    /// cumulative_lost, jitter (timestamp units), rtt_ms or None).
    fn rtcp<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let out = PyList::empty(py);
        let rows: Vec<_> = self
            .core
            .media
            .rtcp()
            .into_iter()
            .map(|(k, r)| (*k, r.clone()))
            .collect();
        for (k, r) in rows {
            let row = (
                self.addr(py, k.0),
                k.1,
                self.addr(py, k.2),
                k.3,
                k.4,
                r.first_frame,
                r.last_frame,
            );
            let tail = (
                r.sr,
                r.rr,
                r.fraction_lost,
                r.cumulative_lost,
                r.jitter,
                r.rtt_ms,
            );
            let row = row.into_pyobject(py)?.add(tail.into_pyobject(py)?)?;
            out.append(row)?;
        }
        Ok(out)
    }

    /// (streams evicted because the table was full, frame of the first eviction).
    fn media_evicted(&self) -> (u64, u64) {
        (self.core.media.evicted, self.core.media.first_evicted_frame)
    }

    /// (frames, bytes, payloads, messages, malformed, not_sip, first_ts, last_ts).
    fn counters(&self) -> (u64, u64, u64, u64, u64, u64, i128, i128) {
        let c = &self.core.counters;
        (
            c.frames,
            c.bytes,
            c.payloads,
            c.messages,
            c.malformed,
            c.not_sip,
            self.core.first_ts,
            self.core.last_ts,
        )
    }
}

/// A clean message's fields and tail, as `engine.message` unpacks them.
fn message_parts<'py>(
    py: Python<'py>,
    raw: &[u8],
    msg: &Message,
) -> PyResult<(Bound<'py, PyTuple>, Bound<'py, PyTuple>)> {
    let (method, status, reason, uri) = match &msg.start {
        Start::Request { method, uri } => (
            lossy(&raw[method.clone()]),
            0u16,
            String::new(),
            lossy(&raw[uri.clone()]),
        ),
        Start::Response { status, reason } => (
            String::new(),
            *status,
            reason.clone().map(|r| lossy(&raw[r])).unwrap_or_default(),
            String::new(),
        ),
    };
    let hot = PyDict::new(py);
    for (k, v) in &msg.hot {
        hot.set_item(hot_name(py, *k), v)?;
    }
    let call_id = msg.get(Hot::CallId).unwrap_or("").to_owned();
    let fields = (
        method,
        status,
        reason,
        uri,
        PyBytes::new(py, &raw[..msg.end]),
        msg.hstart,
        msg.hend,
        msg.body_off,
        hot,
        call_id,
        msg.cseq_num,
        msg.cseq_method.as_str(),
    );
    let sdp: Bound<'py, PyAny> = match (&msg.parsed_sdp, msg.sdp) {
        (Some(s), _) => sdp_tuple(py, s)?.into_any(),
        (None, flag) => flag.into_pyobject(py)?.to_owned().into_any(),
    };
    let tail = (
        msg.branch.as_str(),
        msg.from_tag.as_str(),
        msg.to_tag.as_str(),
        sdp,
    );
    Ok((fields.into_pyobject(py)?, tail.into_pyobject(py)?))
}

/// Parse one complete SIP message (a TCP stream's, framing done): the fields and
/// tail of a message event, or None when the reference parser must read it.
#[pyfunction]
fn parse_message<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyBytes>,
) -> PyResult<Option<(Bound<'py, PyTuple>, Bound<'py, PyTuple>)>> {
    let d = data.as_bytes();
    let Some((start, hstart)) = sipsniff_core::sip::start_line(d) else {
        return Ok(None);
    };
    match sipsniff_core::sip::parse(d, start, hstart) {
        Some(m) => Ok(Some(message_parts(py, d, &m)?)),
        None => Ok(None),
    }
}

/// The native core's version, for `sipsniff --version`.
#[pyfunction]
fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Scanner>()?;
    m.add_class::<FileReader>()?;
    m.add_function(wrap_pyfunction!(version, m)?)?;
    m.add_function(wrap_pyfunction!(parse_message, m)?)?;
    Ok(())
}
