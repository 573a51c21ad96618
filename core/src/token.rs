//! The token format: `<prefix>_<body><checksum>`.
//!
//! The body is 32 bytes of caller-supplied entropy in fixed-width base62 (43
//! characters); the checksum is the CRC32 (IEEE) of `<prefix>_<body>` in
//! fixed-width base62 (6 characters). Parsing checks shape and checksum only:
//! it never needs a store, so garbage and typos are refused before any lookup.

use alloc::string::String;
use core::fmt;

use zeroize::Zeroize;

use crate::base62::{self, BODY_LEN, CHECKSUM_LEN, MAX_BODY};
use crate::code;
use crate::prefix::{Prefix, is_prefix};

/// Characters after the underscore: body plus checksum.
pub const TAIL_LEN: usize = BODY_LEN + CHECKSUM_LEN;

/// Inputs longer than this are refused without being scanned further; no
/// header that carries a token comes close.
const MAX_INPUT_LEN: usize = 1024;

/// Characters of the body shown in a hint.
const HINT_CHARS: usize = 4;

/// The length of every token under `prefix`: the prefix, an underscore, 43
/// body and 6 checksum characters (53 for `tsr`).
pub fn token_len(prefix: &Prefix) -> usize {
    prefix.as_str().len() + 1 + TAIL_LEN
}

/// A regular expression that matches a token under `prefix`, for secret
/// scanners and log filters: `tsr_[0-9A-Za-z]{49}`.
///
/// It is deliberately unanchored and uses only syntax that RE2, PCRE,
/// JavaScript, Rust's `regex` and `grep -E` share; anchor it with `^…$` to
/// match a whole string. A match still needs its checksum checked.
pub fn token_pattern(prefix: &Prefix) -> String {
    alloc::format!("{prefix}_[0-9A-Za-z]{{{TAIL_LEN}}}")
}

/// A token value, as handed out once at creation.
///
/// It has no `Display`, its `Debug` shows only the prefix, and its memory is
/// zeroed on drop. Read it with [`Token::expose`] at the one place it must
/// leave the process (the response that shows it to its owner).
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// Composes the token for `prefix` from 32 bytes of entropy.
    pub(crate) fn compose(prefix: &Prefix, entropy: &[u8; 32]) -> Self {
        let mut value = String::with_capacity(token_len(prefix));
        value.push_str(prefix.as_str());
        value.push('_');
        let body = base62::encode_body(entropy);
        // The alphabet is ASCII, so each digit is one char.
        value.extend(body.iter().map(|&b| char::from(b)));
        let checksum = base62::encode_checksum(crate::crc::crc32(value.as_bytes()));
        value.extend(checksum.iter().map(|&b| char::from(b)));
        Self(value)
    }

    /// The secret value. Every call site is a place the secret leaves the
    /// type's protection; keep them few.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Parses the token back, for the hash, id and hint of a freshly issued
    /// token.
    pub(crate) fn presented(&self) -> Presented<'_> {
        let prefix_len = self.0.find('_').unwrap_or(0);
        Presented {
            token: &self.0,
            prefix_len,
        }
    }
}

impl Drop for Token {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prefix_len = self.0.find('_').unwrap_or(0);
        write!(f, "Token({}_<redacted>)", &self.0[..prefix_len])
    }
}

/// A token someone presented, whose shape and checksum are right but which
/// has not been looked up yet: the unverified half of
/// `parse → hash → lookup → verify`.
///
/// It borrows the caller's input, so parsing allocates nothing.
#[derive(Clone, Copy)]
pub struct Presented<'a> {
    token: &'a str,
    prefix_len: usize,
}

impl<'a> Presented<'a> {
    /// Parses a bare token or an `Authorization` header value.
    ///
    /// Accepted forms are `<token>`, `Bearer <token>` and `UserToken <token>`,
    /// with the scheme in any case and surrounding whitespace ignored. The
    /// checks run in a fixed order, so the same input always yields the same
    /// error: scheme, prefix, length, characters, body range, checksum.
    pub fn parse(input: &'a str, prefix: &Prefix) -> Result<Self, ParseError> {
        if input.len() > MAX_INPUT_LEN {
            return Err(ParseError::Length {
                expected: token_len(prefix),
                actual: input.len(),
            });
        }
        let token = credentials(input)?;
        let bytes = token.as_bytes();
        let prefix_len = prefix.as_str().len();
        if bytes.get(..prefix_len) != Some(prefix.as_str().as_bytes())
            || bytes.get(prefix_len) != Some(&b'_')
        {
            return Err(prefix_error(bytes));
        }
        let tail = &bytes[prefix_len + 1..];
        if tail.len() != TAIL_LEN {
            return Err(ParseError::Length {
                expected: token_len(prefix),
                actual: bytes.len(),
            });
        }
        // A fold without early exit, so the compiler can check many bytes
        // at once; the position is only looked for when there is one.
        if !tail
            .iter()
            .fold(true, |ok, b| ok & b.is_ascii_alphanumeric())
        {
            let at = tail.iter().position(|b| !b.is_ascii_alphanumeric());
            return Err(ParseError::Charset {
                position: prefix_len + 1 + at.unwrap_or(0),
            });
        }
        let (body, checksum) = tail.split_at(BODY_LEN);
        if body > &MAX_BODY[..] {
            return Err(ParseError::BodyRange);
        }
        let expected = crate::crc::crc32(&bytes[..prefix_len + 1 + BODY_LEN]);
        if base62::decode_checksum(checksum) != Some(u64::from(expected)) {
            return Err(ParseError::Checksum);
        }
        Ok(Self { token, prefix_len })
    }

    /// Parses a token of any well-formed prefix, for tools that recognise
    /// tokens without knowing the deployment (secret scanners, CLIs). The
    /// same checks run; only the prefix is taken from the input.
    pub fn parse_any(input: &'a str) -> Result<Self, ParseError> {
        let token = credentials(input.get(..MAX_INPUT_LEN).unwrap_or(input))?;
        let end = token.find('_').ok_or(ParseError::NoPrefix)?;
        let prefix = Prefix::new(&token[..end]).map_err(|_| prefix_error(token.as_bytes()))?;
        Self::parse(input, &prefix)
    }

    /// The token's prefix, such as `tsr`.
    pub fn prefix(&self) -> &'a str {
        &self.token[..self.prefix_len]
    }

    /// The token's public id (see [`crate::token_id`]).
    pub fn id(&self) -> String {
        crate::hash::token_id(self.token)
    }

    /// The token text. It is as secret as the input it was parsed from.
    pub fn expose(&self) -> &'a str {
        self.token
    }

    /// The non-secret hint shown in lists: the prefix, an underscore and
    /// the first four body characters, then an ellipsis (`tsr_AbCd…`).
    pub fn hint(&self) -> String {
        let end = self.prefix_len + 1 + HINT_CHARS;
        let mut hint = String::with_capacity(end + 3);
        hint.push_str(&self.token[..end]);
        hint.push('…');
        hint
    }
}

impl fmt::Debug for Presented<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Presented({}_<redacted>)",
            &self.token[..self.prefix_len]
        )
    }
}

/// Classifies input that does not start with this deployment's prefix:
/// another scheme, another deployment's prefix, or no prefix at all.
#[cold]
fn prefix_error(bytes: &[u8]) -> ParseError {
    if bytes.iter().any(|&b| b == b' ' || b == b'\t') {
        return ParseError::Scheme;
    }
    match bytes.iter().position(|&b| b == b'_') {
        Some(end) if is_prefix(&bytes[..end]) => ParseError::Prefix,
        _ => ParseError::NoPrefix,
    }
}

/// Strips an optional `Bearer` or `UserToken` scheme and the whitespace
/// around it.
fn credentials(input: &str) -> Result<&str, ParseError> {
    let input = input.trim_ascii();
    if input.is_empty() {
        return Err(ParseError::Empty);
    }
    for scheme in [&b"bearer"[..], b"usertoken"] {
        let Some(head) = input.as_bytes().get(..scheme.len()) else {
            continue;
        };
        if !head.eq_ignore_ascii_case(scheme) {
            continue;
        }
        // The scheme is ASCII, so its end is a character boundary.
        let rest = &input[scheme.len()..];
        if rest.is_empty() {
            return Err(ParseError::Empty);
        }
        if rest.starts_with([' ', '\t']) {
            // Not empty: the input was trimmed at the end.
            return Ok(rest.trim_ascii_start());
        }
    }
    Ok(input)
}

/// Why a presented string is not a token of this deployment.
///
/// Messages describe the input's shape and never repeat the input.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseError {
    /// The input, or the credentials after the scheme, is empty.
    Empty,
    /// An `Authorization` scheme other than `Bearer` or `UserToken`.
    Scheme,
    /// No `<prefix>_` at the start.
    NoPrefix,
    /// A well-formed prefix, but not this deployment's.
    Prefix,
    /// The right prefix but the wrong total length.
    Length {
        /// The length every token of this deployment has.
        expected: usize,
        /// The length presented.
        actual: usize,
    },
    /// A character outside `[0-9A-Za-z]` after the prefix.
    Charset {
        /// Byte offset of the first offending character.
        position: usize,
    },
    /// A body that encodes a number of more than 256 bits, which no issued
    /// token has.
    BodyRange,
    /// The checksum does not match the prefix and body.
    Checksum,
}

impl ParseError {
    /// The stable code: `TOKEN_PREFIX` for another deployment's prefix,
    /// `TOKEN_CHECKSUM` for a checksum mismatch, `TOKEN_MALFORMED` otherwise.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Prefix => code::TOKEN_PREFIX,
            Self::Checksum => code::TOKEN_CHECKSUM,
            _ => code::TOKEN_MALFORMED,
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("no token was presented"),
            Self::Scheme => f.write_str("the authorization scheme must be Bearer or UserToken"),
            Self::NoPrefix => f.write_str("the token does not start with a prefix and '_'"),
            Self::Prefix => f.write_str("the token carries another deployment's prefix"),
            Self::Length { expected, actual } => {
                write!(f, "a token has {expected} characters, not {actual}")
            }
            Self::Charset { position } => write!(
                f,
                "the token has a character outside [0-9A-Za-z] at offset {position}"
            ),
            Self::BodyRange => f.write_str("the token body encodes more than 256 bits"),
            Self::Checksum => f.write_str("the token checksum does not match"),
        }
    }
}

impl core::error::Error for ParseError {}

/// Collects the distinct parse errors, for exhaustive tests elsewhere.
#[cfg(test)]
pub(crate) fn all_parse_errors() -> alloc::vec::Vec<ParseError> {
    alloc::vec![
        ParseError::Empty,
        ParseError::Scheme,
        ParseError::NoPrefix,
        ParseError::Prefix,
        ParseError::Length {
            expected: 53,
            actual: 1
        },
        ParseError::Charset { position: 4 },
        ParseError::BodyRange,
        ParseError::Checksum,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::string::ToString;

    fn tsr() -> Prefix {
        Prefix::new("tsr").unwrap()
    }

    #[test]
    fn composed_token_has_the_documented_shape() {
        let token = Token::compose(&tsr(), &[7; 32]);
        let text = token.expose();
        assert_eq!(text.len(), 53);
        assert!(text.starts_with("tsr_"));
        // The checksum is the CRC32 of everything before it.
        let crc = crate::crc::crc32(&text.as_bytes()[..47]);
        assert_eq!(&text.as_bytes()[47..], &base62::encode_checksum(crc));
    }

    #[test]
    fn parse_accepts_bare_and_both_schemes_in_any_case() {
        let token = Token::compose(&tsr(), &[1; 32]);
        let text = token.expose();
        for input in [
            text.to_string(),
            format!("Bearer {text}"),
            format!("bearer\t{text}"),
            format!("  UserToken   {text}  "),
            format!("USERTOKEN {text}\r\n"),
        ] {
            let presented = Presented::parse(&input, &tsr()).unwrap();
            assert_eq!(presented.expose(), text);
        }
    }

    #[test]
    fn parse_refuses_in_a_fixed_order() {
        let token = Token::compose(&tsr(), &[1; 32]);
        let text = token.expose();
        let p = tsr();
        assert_eq!(Presented::parse("", &p).unwrap_err(), ParseError::Empty);
        assert_eq!(
            Presented::parse("Bearer   ", &p).unwrap_err(),
            ParseError::Empty
        );
        assert_eq!(
            Presented::parse(&format!("Basic {text}"), &p).unwrap_err(),
            ParseError::Scheme
        );
        assert_eq!(
            Presented::parse("tsr", &p).unwrap_err(),
            ParseError::NoPrefix
        );
        assert_eq!(
            Presented::parse(&text.replacen("tsr", "ghp", 1), &p).unwrap_err(),
            ParseError::Prefix
        );
        assert_eq!(
            Presented::parse(&text[..52], &p).unwrap_err(),
            ParseError::Length {
                expected: 53,
                actual: 52
            }
        );
        let mut bad = text.to_string();
        bad.replace_range(10..11, "-");
        assert_eq!(
            Presented::parse(&bad, &p).unwrap_err(),
            ParseError::Charset { position: 10 }
        );
        let mut big = String::from("tsr_");
        big.push_str(&"z".repeat(43));
        big.push_str("000000");
        assert_eq!(
            Presented::parse(&big, &p).unwrap_err(),
            ParseError::BodyRange
        );
        let mut wrong = text.to_string();
        let last = if wrong.ends_with('0') { "1" } else { "0" };
        wrong.replace_range(52..53, last);
        assert_eq!(
            Presented::parse(&wrong, &p).unwrap_err(),
            ParseError::Checksum
        );
        assert_eq!(
            Presented::parse(&"a".repeat(5000), &p).unwrap_err().code(),
            code::TOKEN_MALFORMED
        );
    }

    #[test]
    fn secrets_stay_out_of_debug_and_errors() {
        let token = Token::compose(&tsr(), &[9; 32]);
        let text = token.expose().to_string();
        let presented = Presented::parse(&text, &tsr()).unwrap();
        for shown in [format!("{token:?}"), format!("{presented:?}")] {
            assert!(!shown.contains(&text[4..12]), "{shown}");
        }
        for err in all_parse_errors() {
            assert!(!err.to_string().contains(&text[4..12]));
        }
    }

    #[test]
    fn hint_shows_prefix_and_four_characters() {
        let token = Token::compose(&tsr(), &[3; 32]);
        let hint = token.presented().hint();
        assert_eq!(hint.chars().count(), 9);
        assert!(hint.ends_with('…'));
        assert!(token.expose().starts_with(hint.trim_end_matches('…')));
    }

    #[test]
    fn parse_any_takes_the_prefix_from_the_input() {
        let acme = Prefix::new("acme2").unwrap();
        let token = Token::compose(&acme, &[5; 32]);
        let presented = Presented::parse_any(token.expose()).unwrap();
        assert_eq!(presented.prefix(), "acme2");
        assert_eq!(presented.id(), crate::hash::token_id(token.expose()));
        let mut bad = token.expose().to_string();
        bad.replace_range(10..11, if &bad[10..11] == "a" { "b" } else { "a" });
        assert_eq!(
            Presented::parse_any(&bad).unwrap_err(),
            ParseError::Checksum
        );
        assert_eq!(
            Presented::parse_any("Basic x_y").unwrap_err(),
            ParseError::Scheme
        );
        assert_eq!(
            Presented::parse_any("NOPE_x").unwrap_err(),
            ParseError::NoPrefix
        );
        assert_eq!(Presented::parse_any("").unwrap_err(), ParseError::Empty);
    }

    #[test]
    fn pattern_is_published_for_the_prefix() {
        assert_eq!(token_pattern(&tsr()), "tsr_[0-9A-Za-z]{49}");
    }
}
