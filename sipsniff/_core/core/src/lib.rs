//! sipsniff's native core: the per-packet path, with no Python in it.
//!
//! Strategy: the Python engine (`sipsniff/decode`, `sipsniff/sip`) is the
//! reference.  This crate takes the common case of every stage -- a UDP
//! datagram over Ethernet/SLL/raw/loopback and IPv4/IPv6, a SIP message whose
//! header block is clean -- and answers "I cannot say" for everything else, so
//! the caller hands that frame or datagram to the reference engine.  The
//! results are therefore identical by construction, and a differential test
//! pins it on every capture we have.
//!
//! Rules:
//! - Sans-I/O: bytes in, events out ([`scan::Event`]); no file, clock or socket.
//! - No `unsafe`; every table is bounded like its Python twin.
//! - Diagnostics leave as codes with arguments ([`scan::Diag`]); Python words
//!   them, so one wording serves both engines.
#![forbid(unsafe_code)]

pub mod capture;
pub mod crc32;
pub mod decode;
pub mod media;
pub mod ntop;
pub mod scan;
pub mod sdp;
pub mod sip;
