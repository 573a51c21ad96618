//! Service keys: named secrets the host holds, with which another system
//! (an organisation's provisioning service, Workbench's organisation
//! credential) issues tokens for users by `POST /api/usertokens` with a
//! `userId`, presented as `Authorization: Service <secret>`.
//!
//! A key can do nothing else, and nothing at all unless the deployment
//! lets tokens be issued for users (`issue-for-users`). The record of each
//! token it issues names it (`createdBy: {"kind": "service", "keyId"}`),
//! and so does the audit log.
//!
//! The file holds one key per line, `NAME SECRET`; blank lines and lines
//! starting with `#` are skipped.

use std::fmt;
use std::path::Path;

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};

/// The shortest secret accepted.
pub const MIN_SECRET_CHARS: usize = 32;
/// The longest key name.
pub const MAX_NAME_CHARS: usize = 64;

/// One key: its name and the SHA-256 of its secret (compared in constant
/// time, whatever the presented secret's length).
struct Key {
    name: String,
    digest: [u8; 32],
}

/// The service keys of a running host (none unless configured).
#[derive(Default)]
pub struct ServiceKeys {
    keys: Vec<Key>,
}

/// Only the names: a secret never reaches a log or a panic message.
impl fmt::Debug for ServiceKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.keys.iter().map(|k| &k.name))
            .finish()
    }
}

fn digest(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_CHARS
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

impl ServiceKeys {
    /// Reads the keys from `text`; a malformed line, a short secret or a
    /// name or secret given twice is an error naming the line (never the
    /// secret).
    pub fn parse(text: &str) -> Result<Self> {
        let mut keys: Vec<Key> = Vec::new();
        for (number, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let number = number + 1;
            let mut words = line.split_whitespace();
            let (Some(name), Some(secret), None) = (words.next(), words.next(), words.next())
            else {
                bail!("line {number}: a key is NAME SECRET");
            };
            if !valid_name(name) {
                bail!(
                    "line {number}: a key's name is 1 to {MAX_NAME_CHARS} letters, digits, '.', '_' or '-'"
                );
            }
            if secret.chars().count() < MIN_SECRET_CHARS {
                bail!(
                    "line {number}: the secret of {name} is shorter than {MIN_SECRET_CHARS} characters"
                );
            }
            let digest = digest(secret);
            if keys.iter().any(|k| k.name == name) {
                bail!("line {number}: {name} is named twice");
            }
            if keys.iter().any(|k| k.digest == digest) {
                bail!("line {number}: {name} has another key's secret");
            }
            keys.push(Key {
                name: name.to_owned(),
                digest,
            });
        }
        Ok(Self { keys })
    }

    /// Reads the keys from a file (see [`ServiceKeys::parse`]).
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("service keys in {}", path.display()))
    }

    /// The name of the key whose secret was presented, if any. Every key is
    /// compared, each in constant time.
    pub fn find(&self, presented: &str) -> Option<&str> {
        let presented = digest(presented);
        let mut found = None;
        for key in &self.keys {
            if crate::auth::same(&key.digest, &presented) {
                found = Some(key.name.as_str());
            }
        }
        found
    }

    /// Whether no key is configured.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    #[test]
    fn finds_a_key_by_its_secret_and_nothing_else() {
        let keys =
            ServiceKeys::parse(&format!("# keys\n\nworkbench {A}\n  ci-bot {B}  \n")).unwrap();
        assert_eq!(keys.find(A), Some("workbench"));
        assert_eq!(keys.find(B), Some("ci-bot"));
        assert_eq!(keys.find(&A[1..]), None);
        assert_eq!(keys.find(""), None);
        assert_eq!(format!("{keys:?}"), r#"["workbench", "ci-bot"]"#);
    }

    #[test]
    fn refuses_malformed_files_without_showing_secrets() {
        for (text, why) in [
            ("workbench".to_string(), "NAME SECRET"),
            (format!("workbench {A} extra"), "NAME SECRET"),
            ("workbench short".to_string(), "shorter"),
            (format!("work/bench {A}"), "name"),
            (format!("w {A}\nw {B}"), "twice"),
            (format!("w {A}\nv {A}"), "another key's secret"),
        ] {
            let error = format!("{:#}", ServiceKeys::parse(&text).unwrap_err());
            assert!(error.contains(why), "{error}");
            assert!(!error.contains(A), "{error}");
        }
    }
}
