//! IP addresses read from text by hand.
//!
//! [`parse_ip`] accepts exactly what the standard library's
//! `IpAddr::from_str` accepts (a property test compares the two over
//! generated text): dotted decimal IPv4 with no leading zeros, and IPv6 with
//! at most one `::` and an optional dotted IPv4 tail. It exists so the
//! WebAssembly modules do not carry the standard library's general parser
//! (about 4 KB of code); every surface reads client addresses through it.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Reads an IPv4 or IPv6 address; `None` for anything else (a port, a
/// zone, brackets, whitespace).
pub fn parse_ip(text: &str) -> Option<IpAddr> {
    let bytes = text.as_bytes();
    if let Some(v4) = read_ipv4(bytes) {
        return Some(IpAddr::V4(Ipv4Addr::from(v4)));
    }
    read_ipv6(bytes).map(|v6| IpAddr::V6(Ipv6Addr::from(v6)))
}

/// Four decimal octets of one to three digits, none above 255 and none with
/// a leading zero.
fn read_ipv4(text: &[u8]) -> Option<u32> {
    let mut value = 0u32;
    let mut octets = 0;
    for part in text.split(|&b| b == b'.') {
        if octets == 4 || part.is_empty() || part.len() > 3 || (part.len() > 1 && part[0] == b'0') {
            return None;
        }
        let mut octet = 0u32;
        for &b in part {
            if !b.is_ascii_digit() {
                return None;
            }
            octet = octet * 10 + u32::from(b - b'0');
        }
        if octet > 255 {
            return None;
        }
        value = value << 8 | octet;
        octets += 1;
    }
    (octets == 4).then_some(value)
}

/// Groups of one to four hex digits, eight in all, or fewer around one
/// `::` that stands for at least one zero group. The last two groups may be
/// written as an IPv4 address.
fn read_ipv6(text: &[u8]) -> Option<u128> {
    let split = text.windows(2).position(|w| w == b"::");
    let (head, tail) = match split {
        Some(at) => (&text[..at], Some(&text[at + 2..])),
        None => (text, None),
    };
    let mut groups = [0u16; 8];
    // Only the last part of the address may be an IPv4 tail.
    let head_len = read_groups(head, &mut groups, tail.is_none())?;
    let value = |groups: &[u16; 8]| groups.iter().fold(0u128, |v, &g| v << 16 | u128::from(g));
    let Some(tail) = tail else {
        return (head_len == 8).then(|| value(&groups));
    };
    let mut back = [0u16; 8];
    let tail_len = read_groups(tail, &mut back, true)?;
    if head_len + tail_len > 7 {
        return None;
    }
    groups[8 - tail_len..].copy_from_slice(&back[..tail_len]);
    Some(value(&groups))
}

/// Reads `:`-separated groups into the front of `out` and says how many
/// slots they fill (an IPv4 tail fills two); an empty part reads as none.
fn read_groups(text: &[u8], out: &mut [u16; 8], ipv4_tail: bool) -> Option<usize> {
    if text.is_empty() {
        return Some(0);
    }
    let mut len = 0;
    let mut parts = text.split(|&b| b == b':').peekable();
    while let Some(part) = parts.next() {
        let last = parts.peek().is_none();
        if ipv4_tail && last && part.contains(&b'.') {
            let v4 = read_ipv4(part)?;
            if len + 2 > 8 {
                return None;
            }
            out[len] = (v4 >> 16) as u16;
            out[len + 1] = v4 as u16;
            return Some(len + 2);
        }
        if len == 8 || part.is_empty() || part.len() > 4 {
            return None;
        }
        let mut group = 0u16;
        for &b in part {
            group = group << 4 | u16::from(crate::hex::nibble(b)?);
        }
        out[len] = group;
        len += 1;
    }
    Some(len)
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;
    use core::str::FromStr;
    use proptest::prelude::*;
    use std::string::String;

    fn std_ip(text: &str) -> Option<IpAddr> {
        IpAddr::from_str(text).ok()
    }

    #[test]
    fn reads_what_the_standard_library_reads() {
        for text in [
            "0.0.0.0",
            "255.255.255.255",
            "10.1.2.3",
            "::",
            "::1",
            "1::",
            "2001:db8::8a2e:370:7334",
            "2001:DB8:0:0:0:0:0:1",
            "0001:0002:0003:0004:0005:0006:0007:0008",
            "::ffff:10.1.2.3",
            "1:2:3:4:5:6:10.1.2.3",
            "1:2:3:4:5::10.1.2.3",
            "1:2:3:4:5:6:7::",
            "::2:3:4:5:6:7:8",
        ] {
            assert_eq!(parse_ip(text), std_ip(text), "{text}");
            assert!(parse_ip(text).is_some(), "{text}");
        }
    }

    #[test]
    fn refuses_what_the_standard_library_refuses() {
        for text in [
            "",
            "1",
            "1.2.3",
            "1.2.3.4.5",
            "01.2.3.4",
            "1.2.3.256",
            "1.2.3.4 ",
            "+1.2.3.4",
            "1.2.3.4:80",
            "[::1]",
            ":::",
            ":1::2",
            "1:::2",
            "1::2::3",
            "1:2:3:4:5:6:7:8::",
            "::1:2:3:4:5:6:7:8",
            "1:2:3:4:5:6:7:8:9",
            "1:2:3:4:5:6:7",
            "12345::",
            "::g",
            "1.2.3.4::",
            "1:2:3:4:5:6:7:1.2.3.4",
            "1:2:3:4:5:6::1.2.3.4",
            "::1.2.3.4:5",
            "fe80::1%eth0",
            "１.2.3.4",
        ] {
            assert_eq!(parse_ip(text), std_ip(text), "{text:?}");
            assert!(parse_ip(text).is_none(), "{text:?}");
        }
    }

    fn ipv4_text() -> impl Strategy<Value = String> {
        // Octets in range and out, with and without leading zeros, three
        // to five of them.
        let octet = "(0|[1-9][0-9]{0,2}|25[4-9]|0[0-9]{1,2}|[0-9]{4})";
        proptest::collection::vec(octet, 3..=5).prop_map(|octets| octets.join("."))
    }

    fn ipv6_text() -> impl Strategy<Value = String> {
        // Zero to nine groups of one to five hex digits; maybe one `::`
        // (sometimes two) at any position; maybe an IPv4 tail.
        let groups = proptest::collection::vec("[0-9a-fA-F]{1,5}", 0..=9);
        let gaps = proptest::collection::vec(0usize..10, 0..=2);
        (groups, gaps, proptest::option::of(ipv4_text())).prop_map(|(groups, gaps, tail)| {
            let mut text = String::new();
            for (i, group) in groups.iter().enumerate() {
                if gaps.contains(&i) {
                    text.push_str("::");
                } else if i > 0 {
                    text.push(':');
                }
                text.push_str(group);
            }
            if gaps.contains(&groups.len()) {
                text.push_str("::");
            }
            if let Some(tail) = tail {
                if !text.is_empty() && !text.ends_with(':') {
                    text.push(':');
                }
                text.push_str(&tail);
            }
            text
        })
    }

    fn near_addresses() -> impl Strategy<Value = String> {
        // Well-formed and nearly well-formed addresses, then a few edits of
        // single characters from the alphabet addresses use.
        let edit = (
            any::<prop::sample::Index>(),
            0u8..3,
            prop::sample::select(&b"0:.1fFg% "[..]),
        );
        (
            prop_oneof![ipv4_text(), ipv6_text()],
            proptest::collection::vec(edit, 0..=2),
        )
            .prop_map(|(text, edits)| {
                let mut bytes = text.into_bytes();
                for (at, op, b) in edits {
                    let at = at.index(bytes.len() + 1);
                    match op {
                        0 => bytes.insert(at, b),
                        1 if at < bytes.len() => drop(bytes.remove(at)),
                        _ if at < bytes.len() => bytes[at] = b,
                        _ => {}
                    }
                }
                String::from_utf8(bytes).unwrap()
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(10_000))]

        #[test]
        fn agrees_with_the_standard_library(text in near_addresses()) {
            prop_assert_eq!(parse_ip(&text), std_ip(&text), "{:?}", text);
        }

        #[test]
        fn reads_every_written_address(bits in any::<u128>(), v4 in any::<u32>(), start in 0u32..8, run in 0u32..=8) {
            // Runs of zero groups, so `::` appears wherever the standard
            // library writes it.
            let end = (start + run).min(8);
            let zeros = (start..end).fold(0u128, |m, g| m | 0xffff << (16 * (7 - g)));
            let bits = bits & !zeros;
            let v6 = Ipv6Addr::from(bits);
            prop_assert_eq!(parse_ip(&std::format!("{v6}")), Some(IpAddr::V6(v6)));
            let v4 = Ipv4Addr::from(v4);
            prop_assert_eq!(parse_ip(&std::format!("{v4}")), Some(IpAddr::V4(v4)));
        }
    }
}
