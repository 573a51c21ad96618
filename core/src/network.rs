//! Network allowlists: the CIDR ranges a token may be used from.
//!
//! A list is parsed and normalised once ([`AllowedIps::parse`]): each range
//! is an IPv4 or IPv6 network with its prefix length (`10.0.0.0/8`,
//! `2001:db8::/32`); a bare address is a range of one (`/32` or `/128`).
//! A range with bits set beyond its prefix (`10.0.0.1/8`) or a prefix too
//! long for its family (`203.0.113.7/33`) is refused, never silently
//! rounded. The normal form is sorted, without duplicates and without a
//! range that another range of the list already covers.
//!
//! An empty list means anywhere. An address matches a range of its own
//! family; an IPv4-mapped IPv6 address (`::ffff:10.1.2.3`) is the IPv4
//! address it carries, so it matches IPv4 ranges.
//!
//! A token made by a token may narrow its parent's list, never widen it
//! ([`AllowedIps::within`]): every range of the child must lie inside one
//! range of the parent, and a child of a restricted parent must name ranges
//! (an empty list would mean anywhere).

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::code;

/// The most ranges one token may carry.
pub const MAX_RANGES: usize = 64;

/// One range: a network address of one family and a prefix length, with
/// no bits set beyond the prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IpRange {
    /// IPv4 before IPv6, so lists sort by family first.
    v6: bool,
    /// The network address, as 32 or 128 bits in the low bits.
    bits: u128,
    /// The prefix length: 0–32 for IPv4, 0–128 for IPv6.
    prefix: u8,
}

/// Why an allowlist was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum IpsError {
    /// An entry is not an address or range (`IPS_INVALID`).
    Malformed {
        /// The entry's position in the list.
        index: usize,
    },
    /// An entry's prefix is longer than its family allows (`IPS_INVALID`).
    PrefixTooLong {
        /// The entry's position in the list.
        index: usize,
    },
    /// An entry has bits set beyond its prefix (`IPS_INVALID`).
    HostBits {
        /// The entry's position in the list.
        index: usize,
    },
    /// More ranges than [`MAX_RANGES`] (`IPS_INVALID`).
    TooMany,
}

impl IpsError {
    /// The position of the entry refused, counting from 0, if one entry
    /// was (messages count from 1).
    pub fn index(&self) -> Option<usize> {
        match self {
            Self::Malformed { index }
            | Self::PrefixTooLong { index }
            | Self::HostBits { index } => Some(*index),
            Self::TooMany => None,
        }
    }

    /// The stable code: `IPS_INVALID`.
    pub fn code(&self) -> &'static str {
        code::IPS_INVALID
    }
}

impl fmt::Display for IpsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed { index } => write!(
                f,
                "allowed IP entry {} is not an address or a CIDR range",
                index + 1
            ),
            Self::PrefixTooLong { index } => write!(
                f,
                "allowed IP entry {} has a prefix longer than its family allows",
                index + 1
            ),
            Self::HostBits { index } => write!(
                f,
                "allowed IP entry {} has bits set beyond its prefix; name the network address",
                index + 1
            ),
            Self::TooMany => write!(f, "at most {MAX_RANGES} allowed IP ranges"),
        }
    }
}

impl core::error::Error for IpsError {}

/// An address as the bits ranges compare, and its family: IPv4-mapped IPv6
/// addresses as the IPv4 address they carry.
fn address_bits(address: IpAddr) -> (bool, u128) {
    match address {
        IpAddr::V4(v4) => (false, u128::from(u32::from(v4))),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => (false, u128::from(u32::from(v4))),
            None => (true, u128::from(v6)),
        },
    }
}

/// The mask of a prefix within a family's width: its first `prefix` bits.
fn mask(width: u8, prefix: u8) -> u128 {
    let full: u128 = if width == 128 {
        u128::MAX
    } else {
        (1u128 << width) - 1
    };
    full & !full.checked_shr(u32::from(prefix)).unwrap_or(0)
}

impl IpRange {
    fn width(self) -> u8 {
        if self.v6 { 128 } else { 32 }
    }

    /// Parses one entry: `ADDRESS` or `ADDRESS/PREFIX`.
    fn parse(text: &str, index: usize) -> Result<Self, IpsError> {
        let malformed = IpsError::Malformed { index };
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let address = crate::parse_ip(address).ok_or_else(|| malformed.clone())?;
        // A range is named in its own family: `::ffff:10.0.0.0/104` is
        // refused rather than read as an IPv4 range.
        let (v6, bits) = match address {
            IpAddr::V4(v4) => (false, u128::from(u32::from(v4))),
            IpAddr::V6(v6) => (true, u128::from(v6)),
        };
        let width = if v6 { 128 } else { 32 };
        let prefix = match prefix {
            None => width,
            // Digits only, without a leading zero (`/08` is nobody's prefix).
            Some(p)
                if (1..=3).contains(&p.len())
                    && p.bytes().all(|b| b.is_ascii_digit())
                    && (p == "0" || !p.starts_with('0')) =>
            {
                let p = p.bytes().fold(0u16, |v, b| v * 10 + u16::from(b - b'0'));
                let p = u8::try_from(p).map_err(|_| malformed.clone())?;
                if p > width {
                    return Err(IpsError::PrefixTooLong { index });
                }
                p
            }
            Some(_) => return Err(malformed),
        };
        if bits & !mask(width, prefix) != 0 {
            return Err(IpsError::HostBits { index });
        }
        Ok(Self { v6, bits, prefix })
    }

    /// Whether the range holds this address (of its own family, an
    /// IPv4-mapped address counting as IPv4).
    pub fn contains(self, address: IpAddr) -> bool {
        let (v6, bits) = address_bits(address);
        v6 == self.v6 && bits & mask(self.width(), self.prefix) == self.bits
    }

    /// The range's network address: its first address.
    pub fn network(self) -> IpAddr {
        if self.v6 {
            IpAddr::V6(Ipv6Addr::from(self.bits))
        } else {
            // The bits hold 32 at most: the cast keeps them all.
            IpAddr::V4(Ipv4Addr::from(self.bits as u32))
        }
    }

    /// Whether the range lies inside `outer`.
    pub fn within(self, outer: IpRange) -> bool {
        self.v6 == outer.v6
            && self.prefix >= outer.prefix
            && self.bits & mask(self.width(), outer.prefix) == outer.bits
    }
}

/// Appends `value` in decimal.
fn push_decimal(out: &mut String, value: u8) {
    if value >= 100 {
        out.push(char::from(b'0' + value / 100));
    }
    if value >= 10 {
        out.push(char::from(b'0' + value / 10 % 10));
    }
    out.push(char::from(b'0' + value % 10));
}

/// Appends an IPv4 address in dotted decimal.
fn push_ipv4(out: &mut String, address: u32) {
    for (i, octet) in address.to_be_bytes().into_iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        push_decimal(out, octet);
    }
}

/// Appends an IPv6 address as RFC 5952 writes it (the standard library's
/// form): lower-case groups without leading zeros, the first longest run of
/// two or more zero groups as `::`, an IPv4-mapped address as
/// `::ffff:a.b.c.d`.
fn push_ipv6(out: &mut String, address: u128) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    if address >> 32 == 0xffff {
        out.push_str("::ffff:");
        // The low 32 bits, kept whole by the cast.
        push_ipv4(out, address as u32);
        return;
    }
    // The groups, most significant first; each cast keeps its 16 bits.
    let groups: [u16; 8] = core::array::from_fn(|i| (address >> (112 - 16 * i)) as u16);
    let (mut best, mut best_len, mut run, mut run_len) = (0, 0, 0, 0);
    for (i, &group) in groups.iter().enumerate() {
        if group == 0 {
            if run_len == 0 {
                run = i;
            }
            run_len += 1;
            if run_len > best_len {
                (best, best_len) = (run, run_len);
            }
        } else {
            run_len = 0;
        }
    }
    let mut i = 0;
    while i < 8 {
        if best_len > 1 && i == best {
            out.push_str("::");
            i += best_len;
            continue;
        }
        if i > 0 && !(best_len > 1 && i == best + best_len) {
            out.push(':');
        }
        let group = groups[i];
        let digits = (16 - group.leading_zeros()).div_ceil(4).max(1);
        for d in (0..digits).rev() {
            out.push(char::from(HEX[usize::from((group >> (4 * d)) as u8 & 0xf)]));
        }
        i += 1;
    }
}

impl IpRange {
    /// Appends the range as records write it: `10.0.0.0/8`,
    /// `2001:db8::/32`. Written by hand rather than through `core::fmt`,
    /// which keeps the formatting machinery out of the WebAssembly modules.
    pub fn push_text(self, out: &mut String) {
        if self.v6 {
            push_ipv6(out, self.bits);
        } else {
            // The bits hold 32 at most: the cast keeps them all.
            push_ipv4(out, self.bits as u32);
        }
        out.push('/');
        push_decimal(out, self.prefix);
    }
}

impl fmt::Display for IpRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = String::new();
        self.push_text(&mut text);
        f.write_str(&text)
    }
}

/// A token's allowlist in normal form: sorted, without duplicates or a
/// range another range covers. Empty means anywhere.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct AllowedIps {
    ranges: Vec<IpRange>,
}

impl AllowedIps {
    /// Anywhere: no ranges.
    pub const ANYWHERE: Self = Self { ranges: Vec::new() };

    /// Parses and normalises a list of entries.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<Self, IpsError> {
        if entries.len() > MAX_RANGES {
            return Err(IpsError::TooMany);
        }
        // Sorted by insertion, without duplicates: at most MAX_RANGES
        // entries, and smaller in the WebAssembly modules than a copy of
        // `order::sort_by` for ranges (about 300 bytes gzipped in the filter).
        let mut ranges: Vec<IpRange> = Vec::with_capacity(entries.len());
        for (index, entry) in entries.iter().enumerate() {
            let range = IpRange::parse(entry.as_ref(), index)?;
            let at = ranges.partition_point(|r| *r < range);
            if ranges.get(at) != Some(&range) {
                ranges.insert(at, range);
            }
        }
        // Without duplicates, no two ranges lie within each other, so each
        // range another one covers can go.
        let all = ranges.clone();
        ranges.retain(|r| !all.iter().any(|outer| outer != r && r.within(*outer)));
        Ok(Self { ranges })
    }

    /// Whether the list names no ranges (anywhere).
    pub fn is_anywhere(&self) -> bool {
        self.ranges.is_empty()
    }

    /// The ranges, in normal form.
    pub fn ranges(&self) -> &[IpRange] {
        &self.ranges
    }

    /// The ranges as text, in normal form (what records store).
    pub fn to_strings(&self) -> Vec<String> {
        self.ranges
            .iter()
            .map(|r| {
                let mut text = String::new();
                r.push_text(&mut text);
                text
            })
            .collect()
    }

    /// Whether a request from `address` may use the token: anywhere when
    /// the list is empty; else only from inside one of its ranges. A
    /// restricted token with no known address is refused.
    pub fn allows(&self, address: Option<IpAddr>) -> bool {
        if self.ranges.is_empty() {
            return true;
        }
        address.is_some_and(|a| self.ranges.iter().any(|r| r.contains(a)))
    }

    /// Whether this list is no wider than `parent`'s: anything goes under
    /// an unrestricted parent; under a restricted one, this list names
    /// ranges and each lies inside one of the parent's.
    pub fn within(&self, parent: &AllowedIps) -> bool {
        if parent.is_anywhere() {
            return true;
        }
        !self.is_anywhere()
            && self
                .ranges
                .iter()
                .all(|r| parent.ranges.iter().any(|p| r.within(*p)))
    }
}

/// Records write the list as its ranges in normal form.
impl serde::Serialize for AllowedIps {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.to_strings())
    }
}

/// Reading a record parses and normalises its list; a malformed entry makes
/// the record unreadable, as a malformed scope does.
impl<'de> serde::Deserialize<'de> for AllowedIps {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let entries = Vec::<String>::deserialize(deserializer)?;
        Self::parse(&entries).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(list: &[&str]) -> Result<AllowedIps, IpsError> {
        AllowedIps::parse(list)
    }

    fn ip(text: &str) -> Option<IpAddr> {
        Some(text.parse().unwrap())
    }

    #[test]
    fn parses_and_normalises() {
        let list = parse(&[
            "2001:db8::/32",
            "10.0.0.0/8",
            "10.1.0.0/16",
            "10.0.0.0/8",
            "203.0.113.7",
        ])
        .unwrap();
        assert_eq!(
            list.to_strings(),
            ["10.0.0.0/8", "203.0.113.7/32", "2001:db8::/32"]
        );
        assert_eq!(parse(&["0.0.0.0/0"]).unwrap().to_strings(), ["0.0.0.0/0"]);
        assert_eq!(parse(&["::/0"]).unwrap().to_strings(), ["::/0"]);
        assert!(parse(&[]).unwrap().is_anywhere());
    }

    #[test]
    fn refuses_bad_entries_by_position() {
        for (entry, error) in [
            ("203.0.113.7/33", IpsError::PrefixTooLong { index: 1 }),
            ("2001:db8::/129", IpsError::PrefixTooLong { index: 1 }),
            ("10.0.0.1/8", IpsError::HostBits { index: 1 }),
            ("2001:db8::1/32", IpsError::HostBits { index: 1 }),
            ("10.0.0.0/", IpsError::Malformed { index: 1 }),
            ("10.0.0.0/-1", IpsError::Malformed { index: 1 }),
            ("10.0.0.0/08", IpsError::Malformed { index: 1 }),
            ("10.0.0.0/8/8", IpsError::Malformed { index: 1 }),
            ("10.0.0", IpsError::Malformed { index: 1 }),
            ("", IpsError::Malformed { index: 1 }),
            (" 10.0.0.0/8", IpsError::Malformed { index: 1 }),
            ("example.com", IpsError::Malformed { index: 1 }),
            ("10.0.0.0/1000", IpsError::Malformed { index: 1 }),
        ] {
            assert_eq!(parse(&["192.0.2.0/24", entry]), Err(error), "{entry:?}");
        }
        let many: Vec<String> = (0..=MAX_RANGES)
            .map(|i| alloc::format!("10.0.{i}.0/24"))
            .collect();
        assert_eq!(AllowedIps::parse(&many), Err(IpsError::TooMany));
        assert_eq!(IpsError::TooMany.code(), "IPS_INVALID");
    }

    #[test]
    fn matches_addresses_of_their_family_and_mapped_ipv4() {
        let list = parse(&["10.0.0.0/8", "2001:db8::/32"]).unwrap();
        assert!(list.allows(ip("10.200.3.4")));
        assert!(list.allows(ip("::ffff:10.200.3.4")));
        assert!(list.allows(ip("2001:db8:1::5")));
        assert!(!list.allows(ip("11.0.0.1")));
        assert!(!list.allows(ip("::ffff:11.0.0.1")));
        assert!(!list.allows(ip("2001:db9::1")));
        assert!(!list.allows(ip("::a00:1")), "IPv4-compatible is not mapped");
        assert!(!list.allows(None), "a restricted token needs an address");
        assert!(AllowedIps::ANYWHERE.allows(None));
        assert!(parse(&["0.0.0.0/0"]).unwrap().allows(ip("::ffff:1.2.3.4")));
        assert!(!parse(&["0.0.0.0/0"]).unwrap().allows(ip("::1")));
    }

    #[test]
    fn a_child_narrows_never_widens() {
        let parent = parse(&["10.0.0.0/8", "2001:db8::/32"]).unwrap();
        let within = |child: &[&str]| parse(child).unwrap().within(&parent);
        assert!(within(&["10.1.0.0/16"]));
        assert!(within(&["10.0.0.0/8", "2001:db8:5::/48"]));
        assert!(within(&["10.9.9.9"]));
        assert!(!within(&[]), "anywhere is wider");
        assert!(!within(&["0.0.0.0/0"]));
        assert!(!within(&["10.0.0.0/7"]));
        assert!(!within(&["11.0.0.0/8"]));
        assert!(!within(&["10.1.0.0/16", "192.0.2.0/24"]));
        assert!(parse(&["0.0.0.0/0"]).unwrap().within(&AllowedIps::ANYWHERE));
        assert!(AllowedIps::ANYWHERE.within(&AllowedIps::ANYWHERE));
    }
}
