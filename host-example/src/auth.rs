//! Passwords: argon2id hashes, HTTP Basic credentials.

use std::cell::RefCell;
use std::fmt;
use std::sync::OnceLock;

use anyhow::{Result, anyhow};
use argon2::password_hash::{Output, PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// The longest password accepted, in bytes.
pub const MAX_PASSWORD_LEN: usize = 1024;

/// The shortest new password accepted, in characters.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// A new password that breaks the length rules (`PASSWORD_INVALID`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordInvalid;

impl fmt::Display for PasswordInvalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: a password must be at least {MIN_PASSWORD_CHARS} characters and at most \
             {MAX_PASSWORD_LEN} bytes",
            tessera_core::code::PASSWORD_INVALID
        )
    }
}

impl std::error::Error for PasswordInvalid {}

/// Checks a new password: at least [`MIN_PASSWORD_CHARS`] characters, at
/// most [`MAX_PASSWORD_LEN`] bytes. Only new passwords are checked; signing
/// in with an old, shorter one still works.
pub fn check_new_password(password: &str) -> Result<(), PasswordInvalid> {
    if password.chars().count() < MIN_PASSWORD_CHARS || password.len() > MAX_PASSWORD_LEN {
        return Err(PasswordInvalid);
    }
    Ok(())
}

/// An argon2id hash (PHC string) of a new `password` with a fresh salt;
/// refuses one that [`check_new_password`] refuses.
pub fn hash_password(password: &str) -> Result<String> {
    check_new_password(password)?;
    hash_unchecked(password)
}

fn hash_unchecked(password: &str) -> Result<String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| anyhow!("no randomness from the OS: {e}"))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| anyhow!("salt: {e}"))?;
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| anyhow!("hashing the password failed: {e}"))?
        .to_string())
}

/// Whether `password` matches the PHC string `hash`. When `hash` is `None`
/// (no such user) a dummy hash is checked anyway, so the response time does
/// not tell which user names exist.
pub fn verify_password(password: &str, hash: Option<&str>) -> bool {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let dummy = DUMMY.get_or_init(|| hash_unchecked("no such user").unwrap_or_default());
    // A password longer than any that can be set is refused without
    // hashing: argon2 over megabytes would cost the server, not the caller.
    if password.len() > MAX_PASSWORD_LEN {
        return false;
    }
    let Ok(parsed) = PasswordHash::new(hash.unwrap_or(dummy)) else {
        return false;
    };
    let matches = verify_in_place(password, &parsed).unwrap_or(false);
    matches && hash.is_some()
}

thread_local! {
    /// argon2's working memory (19 MiB with the default parameters), kept
    /// by each thread that hashes and used again for its next hash. Freed
    /// after each hash, such blocks would pile up in the allocator's
    /// per-thread arenas: a flood of sign-ins then holds hundreds of MiB.
    static BLOCKS: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Checks `password` against a parsed argon2 hash in this thread's
/// working memory; `None` when the hash cannot be read.
fn verify_in_place(password: &str, parsed: &PasswordHash<'_>) -> Option<bool> {
    let algorithm = Algorithm::try_from(parsed.algorithm).ok()?;
    let version = match parsed.version {
        Some(version) => Version::try_from(version).ok()?,
        None => Version::default(),
    };
    let params = Params::try_from(parsed).ok()?;
    let expected = parsed.hash?;
    let mut salt = [0u8; 64];
    let salt = parsed.salt?.decode_b64(&mut salt).ok()?;
    let mut computed = vec![0u8; expected.len()];
    let needed = params.block_count();
    let argon2 = Argon2::new(algorithm, version, params);
    BLOCKS.with(|blocks| {
        let mut blocks = blocks.borrow_mut();
        if blocks.len() != needed {
            *blocks = vec![Block::default(); needed];
        }
        argon2
            .hash_password_into_with_memory(
                password.as_bytes(),
                salt,
                &mut computed,
                &mut blocks[..],
            )
            .ok()
    })?;
    // `Output`'s comparison takes the same time wherever they differ.
    Some(Output::new(&computed).ok()? == expected)
}

/// Compares two secrets in time that depends only on their lengths.
pub fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The user name and password of a `Basic` authorization value.
pub fn parse_basic(header: &str) -> Option<(String, String)> {
    let (scheme, encoded) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

/// Whether an authorization value uses the Basic scheme.
pub fn is_basic(header: &str) -> bool {
    header
        .trim_start()
        .get(..6)
        .is_some_and(|s| s.eq_ignore_ascii_case("basic "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_and_dummy_never_matches() {
        let hash = hash_password("correct horse").unwrap();
        assert!(verify_password("correct horse", Some(&hash)));
        assert!(!verify_password("wrong", Some(&hash)));
        assert!(!verify_password("correct horse", None));
        assert!(hash_password("").is_err());
    }

    #[test]
    fn new_passwords_have_a_length_range() {
        assert_eq!(check_new_password("seven77"), Err(PasswordInvalid));
        assert_eq!(check_new_password("eight888"), Ok(()));
        // Characters, not bytes: eight two-byte letters pass.
        assert_eq!(check_new_password("éééééééé"), Ok(()));
        assert_eq!(check_new_password(&"x".repeat(MAX_PASSWORD_LEN)), Ok(()));
        assert_eq!(
            check_new_password(&"x".repeat(MAX_PASSWORD_LEN + 1)),
            Err(PasswordInvalid)
        );
        let error = hash_password("a").unwrap_err().to_string();
        assert!(error.starts_with("PASSWORD_INVALID"), "{error}");
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same(b"x", b"x") && !same(b"x", b"y") && !same(b"x", b"xx"));
    }

    #[test]
    fn basic_credentials_parse() {
        let header = format!("Basic {}", STANDARD.encode("ann:pa:ss"));
        assert_eq!(parse_basic(&header), Some(("ann".into(), "pa:ss".into())));
        assert!(is_basic(&header));
        assert_eq!(parse_basic("Basic !!!"), None);
        assert_eq!(parse_basic("Bearer x"), None);
    }
}
