//! Lowercase hex, for hashes in records and peppers in configuration.

use alloc::string::String;
use alloc::vec::Vec;

/// Encodes bytes as lowercase hex.
pub(crate) fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for &byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0xf)]));
    }
    out
}

/// The lowercase hex digits, by value.
const DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Decodes hex of either case; `None` for an odd length or a non-hex digit.
pub(crate) fn decode(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() / 2);
    for pair in bytes.chunks_exact(2) {
        out.push(byte(pair[0], pair[1])?);
    }
    Some(out)
}

/// Decodes exactly `N` bytes of hex of either case, without allocating;
/// `None` for another length or a non-hex digit. Hashes in records are
/// read this way on every verification through a store, so the loop has
/// no branch per digit: a table gives each digit's value, or a high bit
/// for a non-digit, and the high bits are checked once at the end.
pub(crate) fn decode_array<const N: usize>(text: &str) -> Option<[u8; N]> {
    let bytes = text.as_bytes();
    if bytes.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    let mut bad = 0u8;
    for (slot, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        let high = VALUES[usize::from(pair[0])];
        let low = VALUES[usize::from(pair[1])];
        bad |= high | low;
        *slot = (high << 4) | (low & 0x0f);
    }
    (bad & NOT_HEX == 0).then_some(out)
}

/// The mark in [`VALUES`] of a byte that is not a hex digit.
const NOT_HEX: u8 = 0x80;

/// Each byte's value as a hex digit, or [`NOT_HEX`].
const VALUES: [u8; 256] = {
    let mut table = [NOT_HEX; 256];
    let mut i = 0;
    while i < 256 {
        if let Some(value) = nibble(i as u8) {
            table[i] = value;
        }
        i += 1;
    }
    table
};

/// The byte two hex digits spell, high digit first.
fn byte(high: u8, low: u8) -> Option<u8> {
    Some((nibble(high)? << 4) | nibble(low)?)
}

/// The value of one hex digit, either case.
pub(crate) const fn nibble(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_junk() {
        assert_eq!(encode(&[0x00, 0xab, 0xff]), "00abff");
        assert_eq!(decode("00ABff"), Some(alloc::vec![0x00, 0xab, 0xff]));
        assert_eq!(decode("abc"), None);
        assert_eq!(decode("zz"), None);
    }

    #[test]
    fn fixed_size_decoding_takes_exactly_its_length() {
        assert_eq!(decode_array::<3>("00ABff"), Some([0x00, 0xab, 0xff]));
        assert_eq!(decode_array::<3>("00abf"), None);
        assert_eq!(decode_array::<3>("00abff00"), None);
        assert_eq!(decode_array::<2>("0g"), None);
        assert_eq!(decode_array::<2>("abcg"), None);
        assert_eq!(decode_array::<1>("é"), None);
        assert_eq!(decode_array::<0>(""), Some([]));
        let every: String = (0..=255u8).map(|b| encode(&[b])).collect();
        let decoded: [u8; 256] = decode_array(&every).unwrap();
        assert!(
            decoded
                .iter()
                .enumerate()
                .all(|(i, &b)| usize::from(b) == i)
        );
    }
}
