//! Fixed-width base62 with the alphabet `0-9A-Za-z`.
//!
//! The alphabet is in ASCII order, so comparing two encodings of the same
//! width byte by byte compares the numbers they encode. Parsing relies on that
//! to check that a body encodes at most 256 bits without decoding it.

/// The digits, in value order.
pub(crate) const ALPHABET: &[u8; 62] =
    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Width of a 32-byte value in base62: 62^43 is just above 2^256.
pub(crate) const BODY_LEN: usize = 43;

/// Width of a CRC32 in base62: 62^6 is above 2^32.
pub(crate) const CHECKSUM_LEN: usize = 6;

/// 62^5, the largest power of 62 below 2^32, so one long division step by it
/// yields five digits at once.
const CHUNK: u64 = 916_132_832;

/// The encoding of 2^256 - 1, the largest body a token may carry.
pub(crate) const MAX_BODY: [u8; BODY_LEN] = encode_body(&[0xff; 32]);

/// Encodes 32 big-endian bytes as exactly 43 base62 digits, zero-padded.
pub(crate) const fn encode_body(bytes: &[u8; 32]) -> [u8; BODY_LEN] {
    let mut limbs = [0u32; 8];
    let mut i = 0;
    while i < 8 {
        limbs[i] = u32::from_be_bytes([
            bytes[4 * i],
            bytes[4 * i + 1],
            bytes[4 * i + 2],
            bytes[4 * i + 3],
        ]);
        i += 1;
    }
    // Nine rounds of five digits give 45 digits; the top two are always zero
    // because the value is below 62^43.
    let mut digits = [b'0'; 45];
    let mut round = 0;
    while round < 9 {
        let mut rem: u64 = 0;
        let mut j = 0;
        while j < 8 {
            let cur = (rem << 32) | limbs[j] as u64;
            limbs[j] = (cur / CHUNK) as u32;
            rem = cur % CHUNK;
            j += 1;
        }
        let mut k = 0;
        while k < 5 {
            digits[44 - (round * 5 + k)] = ALPHABET[(rem % 62) as usize];
            rem /= 62;
            k += 1;
        }
        round += 1;
    }
    let mut out = [0u8; BODY_LEN];
    let mut m = 0;
    while m < BODY_LEN {
        out[m] = digits[m + 2];
        m += 1;
    }
    out
}

/// Encodes a checksum as exactly six base62 digits, zero-padded.
pub(crate) fn encode_checksum(mut value: u32) -> [u8; CHECKSUM_LEN] {
    let mut out = [b'0'; CHECKSUM_LEN];
    for slot in out.iter_mut().rev() {
        *slot = ALPHABET[(value % 62) as usize];
        value /= 62;
    }
    out
}

/// The value of one base62 digit, or `None` for any other byte.
#[inline]
pub(crate) fn digit(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'A'..=b'Z' => Some(byte - b'A' + 10),
        b'a'..=b'z' => Some(byte - b'a' + 36),
        _ => None,
    }
}

/// Decodes six base62 digits into the number they encode, which may exceed
/// `u32::MAX` for digits no checksum produces. Returns `None` on a non-digit.
#[inline]
pub(crate) fn decode_checksum(text: &[u8]) -> Option<u64> {
    let mut value: u64 = 0;
    for &byte in text {
        value = value * 62 + u64::from(digit(byte)?);
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_encodes_as_all_zero_digits() {
        assert_eq!(encode_body(&[0; 32]), [b'0'; BODY_LEN]);
        assert_eq!(&encode_checksum(0), b"000000");
    }

    #[test]
    fn small_values_encode_in_the_last_digits() {
        let mut one = [0u8; 32];
        one[31] = 61;
        let encoded = encode_body(&one);
        assert_eq!(encoded[BODY_LEN - 1], b'z');
        one[31] = 62;
        let encoded = encode_body(&one);
        assert_eq!(&encoded[BODY_LEN - 2..], b"10");
    }

    #[test]
    fn max_body_is_the_known_encoding_of_2_pow_256_minus_1() {
        // Worked out independently with Python:
        // n = 2**256 - 1; digits = []; while n: digits.append(n % 62); n //= 62
        assert_eq!(&MAX_BODY, b"yhjskwdA6OZ1AL1YmHWZWm8LLG7HjnuCA2j5rOw8Xp1");
    }

    #[test]
    fn checksum_round_trips() {
        for value in [0, 1, 61, 62, 0xdead_beef, u32::MAX] {
            let text = encode_checksum(value);
            assert_eq!(decode_checksum(&text), Some(u64::from(value)));
        }
        assert_eq!(decode_checksum(b"00_000"), None);
    }
}
