//! `sipsniff._native`: the PyO3 face of `sipsniff-core`.
//!
//! Strategy: Python hands over frames in batches (a list of `Frame` tuples)
//! and gets back one list of plain tuples per batch, so the crossing costs a
//! call per thousand frames, not per packet.  Records are tuples, not
//! classes: `sipsniff/engine.py` turns a message tuple into a `SipMessage`
//! with `Headers` over the same bytes, and words each diagnostic.
//! `sipsniff/_native.pyi` types this module for mypy.

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyTuple};
use sipsniff_core::decode::Addr;
use sipsniff_core::scan::{Diag, Event, Flow, Scanner as Core};
use sipsniff_core::sip::Start;

/// Event kinds, the first item of each event tuple (mirrored in engine.py).
const EV_MESSAGE: u8 = 0;
const EV_FALLBACK: u8 = 1;
const EV_SLOW: u8 = 2;
const EV_DIAG: u8 = 3;
const EV_TICK: u8 = 4;

/// Diagnostic codes, the second item of a diagnostic event.
const D_TRAILING: u8 = 0;
const D_BAD_START: u8 = 1;
const D_JUNK_PORT: u8 = 2;
const D_TIME_JUMP: u8 = 3;

#[pyclass(module = "sipsniff._native")]
struct Scanner {
    core: Core,
    events: Vec<Event>,
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
    /// Convert the pending events into tuples; `frames`/`index` name the batch
    /// item a `Slow` event refers to.
    fn drain<'py>(
        &mut self,
        py: Python<'py>,
        buf: &[u8],
        list: &Bound<'py, PyList>,
        slow_index: usize,
    ) -> PyResult<()> {
        for ev in self.events.drain(..) {
            let item: Bound<'py, PyTuple> = match ev {
                Event::Message {
                    frame,
                    ts_ns,
                    flow,
                    bytes,
                    msg,
                } => {
                    let raw = &buf[bytes.clone()];
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
                        hot.set_item(k.name(), v)?;
                    }
                    let call_id = msg
                        .get(sipsniff_core::sip::Hot::CallId)
                        .unwrap_or("")
                        .to_owned();
                    let head = (
                        frame,
                        ts_ns,
                        flow.src.text(),
                        flow.sport,
                        flow.dst.text(),
                        flow.dport,
                    );
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
                        msg.cseq_method,
                    );
                    let tail = (msg.branch, msg.from_tag, msg.to_tag, msg.sdp);
                    let t = PyTuple::new(
                        py,
                        [
                            EV_MESSAGE.into_pyobject(py)?.into_any(),
                            head.into_pyobject(py)?.into_any(),
                            fields.into_pyobject(py)?.into_any(),
                            tail.into_pyobject(py)?.into_any(),
                        ],
                    )?;
                    t
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
        Ok(())
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

/// The native core's version, for `sipsniff --version`.
#[pyfunction]
fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Scanner>()?;
    m.add_function(wrap_pyfunction!(version, m)?)?;
    Ok(())
}
