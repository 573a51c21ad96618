//! Lowercase hex, for hashes in records and peppers in configuration.

use alloc::string::String;
use alloc::vec::Vec;

/// Encodes bytes as lowercase hex.
pub(crate) fn encode(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = Vec::with_capacity(bytes.len() * 2);
    for &byte in bytes {
        out.push(DIGITS[usize::from(byte >> 4)]);
        out.push(DIGITS[usize::from(byte & 0xf)]);
    }
    // Every byte pushed is an ASCII digit or letter.
    String::from_utf8(out).unwrap_or_default()
}

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
/// read this way on every verification through a store.
pub(crate) fn decode_array<const N: usize>(text: &str) -> Option<[u8; N]> {
    let bytes = text.as_bytes();
    if bytes.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    for (slot, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        *slot = byte(pair[0], pair[1])?;
    }
    Some(out)
}

/// The byte two hex digits spell, high digit first.
fn byte(high: u8, low: u8) -> Option<u8> {
    Some((nibble(high)? << 4) | nibble(low)?)
}

/// The value of one hex digit, either case.
pub(crate) fn nibble(digit: u8) -> Option<u8> {
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
