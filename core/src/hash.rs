//! Hashing: what is stored instead of a token, and how it is compared.
//!
//! A store keeps the SHA-256 of the whole token string, or its
//! HMAC-SHA-256 under a server-side pepper, and looks records up by it. The
//! final comparison against the stored hash is constant-time.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::code;

/// Domain separation for token ids, so an id never equals a stored hash.
const ID_CONTEXT: &[u8] = b"tessera.token-id.v1\0";

/// Bytes of the id digest kept: 128 bits, shown as 32 hex digits.
const ID_BYTES: usize = 16;

/// The shortest pepper accepted.
pub const MIN_PEPPER_LEN: usize = 16;

/// The SHA-256 (or peppered HMAC-SHA-256) of a token: the store's lookup key.
///
/// It serializes as 64 lowercase hex digits. `Debug` shows only the first
/// eight, enough to tell records apart in a log.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TokenHash([u8; 32]);

impl TokenHash {
    /// Wraps 32 raw bytes.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The raw bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Compares two hashes in constant time.
    ///
    /// The comparison works on four 64-bit words, each compared with
    /// `subtle`, so it costs a few nanoseconds and its time does not depend
    /// on where the hashes differ.
    pub fn ct_eq(&self, other: &Self) -> bool {
        let mut equal = subtle::Choice::from(1);
        for (a, b) in self.0.chunks_exact(8).zip(other.0.chunks_exact(8)) {
            let a = u64::from_le_bytes(a.try_into().unwrap_or([0; 8]));
            let b = u64::from_le_bytes(b.try_into().unwrap_or([0; 8]));
            equal &= a.ct_eq(&b);
        }
        equal.into()
    }

    /// The hash as 64 lowercase hex digits.
    pub fn to_hex(&self) -> String {
        crate::hex::encode(&self.0)
    }

    /// Reads 64 hex digits (either case).
    pub fn from_hex(text: &str) -> Option<Self> {
        crate::hex::decode_array(text).map(Self)
    }
}

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenHash({}…)", &crate::hex::encode(&self.0[..4]))
    }
}

impl Serialize for TokenHash {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for TokenHash {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <alloc::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::from_hex(&text)
            .ok_or_else(|| serde::de::Error::custom("a token hash is 64 hex digits"))
    }
}

/// A server-side secret mixed into every stored hash (HMAC-SHA-256 instead
/// of SHA-256), so a copy of the store alone cannot confirm a token.
///
/// The key is zeroed on drop and never printed.
#[derive(Clone)]
pub struct Pepper {
    /// The keyed HMAC state, prepared once so each hash costs two SHA-256
    /// blocks instead of four.
    keyed: Hmac<Sha256>,
    /// The key itself, kept only to be compared and zeroed.
    _key: Zeroizing<Vec<u8>>,
}

impl Pepper {
    /// Accepts a pepper of at least 16 bytes.
    pub fn new(key: &[u8]) -> Result<Self, PepperError> {
        if key.len() < MIN_PEPPER_LEN {
            return Err(PepperError);
        }
        let keyed = <Hmac<Sha256> as KeyInit>::new_from_slice(key).map_err(|_| PepperError)?;
        Ok(Self {
            keyed,
            _key: Zeroizing::new(key.to_vec()),
        })
    }
}

impl fmt::Debug for Pepper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pepper(<redacted>)")
    }
}

/// A pepper shorter than 16 bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PepperError;

impl PepperError {
    /// The stable code: `PEPPER_INVALID`.
    pub fn code(&self) -> &'static str {
        code::PEPPER_INVALID
    }
}

impl fmt::Display for PepperError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a pepper must be at least {MIN_PEPPER_LEN} bytes")
    }
}

impl core::error::Error for PepperError {}

/// Hashes a token string: SHA-256 without a pepper, HMAC-SHA-256 with one.
pub fn hash(token: &str, pepper: Option<&Pepper>) -> TokenHash {
    match pepper {
        None => TokenHash(Sha256::digest(token.as_bytes()).into()),
        Some(pepper) => {
            let mut mac = pepper.keyed.clone();
            mac.update(token.as_bytes());
            TokenHash(mac.finalize().into_bytes().into())
        }
    }
}

/// The public id of a token: 32 hex digits derived from the token string
/// with a domain-separated SHA-256.
///
/// Anyone who holds a token can compute its id without the pepper or the
/// store (to revoke a leaked token, say), and the id reveals nothing that
/// helps recover the token or its stored hash.
pub fn token_id(token: &str) -> String {
    let digest = Sha256::new()
        .chain_update(ID_CONTEXT)
        .chain_update(token.as_bytes())
        .finalize();
    crate::hex::encode(&digest[..ID_BYTES])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_known_answer() {
        // FIPS 180-2, appendix B.1.
        assert_eq!(
            hash("abc", None).to_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn hmac_known_answer() {
        // RFC 4231, test case 2 has a 4-byte key, below our minimum; this is
        // the same message under a 20-byte key of 0x0b (test case 1).
        let pepper = Pepper::new(&[0x0b; 20]).unwrap();
        assert_eq!(
            hash("Hi There", Some(&pepper)).to_hex(),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
    }

    #[test]
    fn short_pepper_is_refused() {
        assert_eq!(Pepper::new(&[1; 15]).unwrap_err().code(), "PEPPER_INVALID");
    }

    #[test]
    fn hex_round_trips_and_refuses_junk() {
        let h = hash("x", None);
        assert_eq!(TokenHash::from_hex(&h.to_hex()), Some(h));
        assert_eq!(TokenHash::from_hex(&h.to_hex().to_uppercase()), Some(h));
        assert_eq!(TokenHash::from_hex("zz"), None);
        assert_eq!(TokenHash::from_hex(&"g".repeat(64)), None);
    }

    #[test]
    fn ct_eq_tells_equal_from_different_in_every_word() {
        let a = hash("a", None);
        assert!(a.ct_eq(&a));
        for byte in [0, 7, 8, 15, 16, 31] {
            let mut b = *a.as_bytes();
            b[byte] ^= 1;
            assert!(!a.ct_eq(&TokenHash::from_bytes(b)));
        }
    }

    #[test]
    fn id_differs_from_hash_and_is_stable() {
        let id = token_id("tsr_x");
        assert_eq!(id.len(), 32);
        assert!(!hash("tsr_x", None).to_hex().starts_with(&id));
        assert_eq!(id, token_id("tsr_x"));
    }
}
