//! IP addresses as text, exactly as glibc's `inet_ntop` writes them.
//!
//! The Python engine prints addresses with `socket.inet_ntop`; a user greps
//! reports for them, so both engines must spell every address the same way.
//! glibc (from BIND) compresses the longest run of two or more zero groups
//! (the first on ties) and writes an IPv4 tail for `::a.b.c.d` and
//! `::ffff:a.b.c.d`.  Rust's `Ipv6Addr` display differs on the first form.

use std::fmt::Write;

/// Dotted quad of four bytes.
pub fn ipv4(a: &[u8; 4]) -> String {
    format!("{}.{}.{}.{}", a[0], a[1], a[2], a[3])
}

/// glibc `inet_ntop(AF_INET6, ...)`.
pub fn ipv6(a: &[u8; 16]) -> String {
    let mut w = [0u16; 8];
    for (i, word) in w.iter_mut().enumerate() {
        *word = u16::from_be_bytes([a[2 * i], a[2 * i + 1]]);
    }
    // longest run of zero words, first on ties, only if at least 2 long
    let (mut best_base, mut best_len) = (usize::MAX, 0usize);
    let mut i = 0;
    while i < 8 {
        if w[i] == 0 {
            let start = i;
            while i < 8 && w[i] == 0 {
                i += 1;
            }
            let len = i - start;
            if len > best_len {
                best_base = start;
                best_len = len;
            }
        } else {
            i += 1;
        }
    }
    if best_len < 2 {
        best_base = usize::MAX;
        best_len = 0;
    }
    let mut out = String::with_capacity(40);
    let mut i = 0;
    while i < 8 {
        if i == best_base {
            out.push(':');
            i += best_len;
            if i == 8 {
                out.push(':');
            }
            continue;
        }
        if i != 0 {
            out.push(':');
        }
        if i == 6 && best_base == 0 && (best_len == 6 || (best_len == 5 && w[5] == 0xFFFF)) {
            let _ = write!(out, "{}.{}.{}.{}", a[12], a[13], a[14], a[15]);
            break;
        }
        let _ = write!(out, "{:x}", w[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::ipv6;
    use std::net::Ipv6Addr;

    fn t(s: &str) -> String {
        ipv6(&s.parse::<Ipv6Addr>().unwrap().octets())
    }

    #[test]
    fn glibc_spelling() {
        // expected values printed by python3 socket.inet_ntop on glibc
        assert_eq!(t("::1.2.3.4"), "::1.2.3.4");
        assert_eq!(t("::ffff:1.2.3.4"), "::ffff:1.2.3.4");
        assert_eq!(t("1:0:1:0:0:0:0:1"), "1:0:1::1");
        assert_eq!(t("1:0:0:1:0:0:0:1"), "1:0:0:1::1");
        assert_eq!(t("::"), "::");
        assert_eq!(t("::1"), "::1");
        assert_eq!(t("2001:db8::"), "2001:db8::");
        assert_eq!(t("0:0:0:0:0:1:0:0"), "::1:0:0");
        assert_eq!(t("1:2:3:4:5:6:0:8"), "1:2:3:4:5:6:0:8");
        assert_eq!(t("::0.0.0.2"), "::2");
        assert_eq!(t("0:0:0:0:0:ffff:0:0"), "::ffff:0.0.0.0");
        assert_eq!(t("fe80::1:2"), "fe80::1:2");
    }
}
