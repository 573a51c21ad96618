//! CRC32 (IEEE 802.3: reflected, polynomial `0xEDB88320`), the checksum at
//! the end of every token.
//!
//! With the `std` feature the `crc32fast` crate computes it, using SIMD
//! instructions it detects at run time. Without it (the WebAssembly builds)
//! a byte-at-a-time loop over one 1 KiB table does: a 47-byte token costs a
//! few dozen table lookups, and the module stays 15 KiB smaller than with
//! `crc32fast`'s sixteen tables.

/// The CRC32 of `bytes`.
#[cfg(feature = "std")]
pub(crate) fn crc32(bytes: &[u8]) -> u32 {
    crc32fast::hash(bytes)
}

/// The CRC32 of `bytes`.
#[cfg(not(feature = "std"))]
pub(crate) fn crc32(bytes: &[u8]) -> u32 {
    bytewise(bytes)
}

/// The table-driven CRC32, one byte per step (with `std`, only the tests
/// use it, to check `crc32fast` against it).
#[cfg_attr(feature = "std", allow(dead_code))]
pub(crate) fn bytewise(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc = TABLE[((crc ^ u32::from(byte)) & 0xff) as usize] ^ (crc >> 8);
    }
    !crc
}

/// The CRC of each byte value.
#[cfg_attr(feature = "std", allow(dead_code))]
const TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut n = 0;
    while n < 256 {
        let mut crc = n as u32;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 == 1 {
                0xEDB8_8320 ^ (crc >> 1)
            } else {
                crc >> 1
            };
            bit += 1;
        }
        table[n] = crc;
        n += 1;
    }
    table
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_answers() {
        // The standard check value of CRC-32/ISO-HDLC.
        assert_eq!(bytewise(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(bytewise(b""), 0);
    }

    #[test]
    fn both_implementations_agree() {
        let mut bytes = alloc::vec::Vec::new();
        let mut state = 0x1234_5678u32;
        for len in 0..200 {
            bytes.clear();
            for _ in 0..len {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                bytes.push((state >> 24) as u8);
            }
            assert_eq!(crc32(&bytes), bytewise(&bytes), "length {len}");
        }
    }
}
