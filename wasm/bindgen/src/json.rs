//! JSON text for what goes out to JavaScript, written by hand: records in
//! the documented shape (the same as the core's serde form) and small result
//! objects. JavaScript reads it with `JSON.parse`.

use tessera_core::{CreatedBy, Scope, Status, TokenRecord};

/// A JSON text under construction.
#[derive(Default)]
pub struct Json {
    out: String,
    /// Whether the next member or element needs a comma before it.
    comma: bool,
}

impl Json {
    /// An empty text, with room for a record and its wrapping (most
    /// outputs), so writing one seldom reallocates.
    pub fn new() -> Self {
        Self {
            out: String::with_capacity(640),
            ..Self::default()
        }
    }

    /// The text written so far.
    pub fn finish(self) -> String {
        self.out
    }

    fn separate(&mut self) {
        if self.comma {
            self.out.push(',');
        }
        self.comma = true;
    }

    /// Opens an object.
    pub fn open(&mut self) -> &mut Self {
        self.out.push('{');
        self.comma = false;
        self
    }

    /// Closes an object.
    pub fn close(&mut self) -> &mut Self {
        self.out.push('}');
        self.comma = true;
        self
    }

    /// Writes a member's key, after a comma when needed.
    pub fn key(&mut self, key: &str) -> &mut Self {
        self.separate();
        self.string(key);
        self.out.push(':');
        self.comma = false;
        self
    }

    /// Writes a string value, escaped, in ASCII: characters beyond it are
    /// written as `\u` escapes (UTF-16 units), so the text JavaScript reads
    /// is a one-byte string, which it decodes and parses faster (every
    /// record has one such character, the hint's ellipsis). Runs of
    /// characters that need no escape are copied whole; a cut falls before
    /// an ASCII byte or a character's first byte, so on a boundary.
    pub fn string(&mut self, text: &str) -> &mut Self {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let bytes = text.as_bytes();
        self.out.push('"');
        let mut start = 0;
        let mut at = 0;
        while let Some(&byte) = bytes.get(at) {
            if (0x20..0x80).contains(&byte) && byte != b'"' && byte != b'\\' {
                at += 1;
                continue;
            }
            self.out.push_str(text.get(start..at).unwrap_or_default());
            let mut units = [0u16; 2];
            let (escaped, width): (&[u16], usize) = match byte {
                b'"' => (&[u16::from(b'"')], 1),
                b'\\' => (&[u16::from(b'\\')], 1),
                0x00..=0x1f => {
                    units[0] = u16::from(byte);
                    (&units[..1], 1)
                }
                _ => match text.get(at..).and_then(|rest| rest.chars().next()) {
                    Some(c) => (&*c.encode_utf16(&mut units), c.len_utf8()),
                    // Not reached: `at` is always on a boundary.
                    None => break,
                },
            };
            for &unit in escaped {
                match unit {
                    0x22 => self.out.push_str("\\\""),
                    0x5c => self.out.push_str("\\\\"),
                    _ => {
                        self.out.push_str("\\u");
                        for shift in [12, 8, 4, 0] {
                            self.out
                                .push(char::from(HEX[usize::from((unit >> shift) & 0xf)]));
                        }
                    }
                }
            }
            at += width;
            start = at;
        }
        self.out.push_str(text.get(start..).unwrap_or_default());
        self.out.push('"');
        self.comma = true;
        self
    }

    /// Writes a string value or `null`.
    pub fn optional(&mut self, text: Option<&str>) -> &mut Self {
        match text {
            Some(text) => self.string(text),
            None => self.null(),
        }
    }

    /// Writes an integer.
    pub fn integer(&mut self, value: i64) -> &mut Self {
        let mut digits = [0u8; 20];
        let mut n = value.unsigned_abs();
        let mut at = digits.len();
        loop {
            at -= 1;
            digits[at] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        if value < 0 {
            self.out.push('-');
        }
        self.out.extend(digits[at..].iter().map(|&d| char::from(d)));
        self.comma = true;
        self
    }

    /// Writes an integer or `null`.
    pub fn optional_integer(&mut self, value: Option<i64>) -> &mut Self {
        match value {
            Some(value) => self.integer(value),
            None => self.null(),
        }
    }

    /// Writes `null`.
    pub fn null(&mut self) -> &mut Self {
        self.out.push_str("null");
        self.comma = true;
        self
    }

    /// Writes an array of strings.
    pub fn strings<'a>(&mut self, items: impl Iterator<Item = &'a str>) -> &mut Self {
        self.out.push('[');
        self.comma = false;
        for item in items {
            self.separate();
            self.string(item);
        }
        self.out.push(']');
        self.comma = true;
        self
    }

    /// Writes a raw JSON value already written by this module.
    pub fn raw(&mut self, json: &str) -> &mut Self {
        self.out.push_str(json);
        self.comma = true;
        self
    }

    /// Writes a scope: `{ "preset": .. }` or `{ "actions": [..] }`, with
    /// `"resources"` when narrowed.
    pub fn scope(&mut self, scope: &Scope) -> &mut Self {
        self.open();
        if let Some(preset) = scope.preset() {
            self.key("preset").string(preset.as_str());
        }
        if let Some(actions) = scope.custom_actions() {
            self.key("actions").strings(actions);
        }
        if let Some(resources) = scope.resources() {
            self.key("resources").strings(resources);
        }
        self.close()
    }

    /// Writes a record in its stored shape, or without the hash for what
    /// lists show.
    pub fn record(&mut self, record: &TokenRecord, with_hash: bool) -> &mut Self {
        self.open();
        self.key("id").string(record.id());
        self.key("userId").string(record.user_id());
        self.key("name").string(record.name());
        self.key("description").optional(record.description());
        if with_hash {
            self.key("hash").string(&record.hash().to_hex());
        }
        self.key("hint").string(record.hint());
        self.key("createdBy").open();
        match record.created_by() {
            CreatedBy::User => {
                self.key("kind").string("user");
            }
            CreatedBy::Token { token_id } => {
                self.key("kind").string("token");
                self.key("tokenId").string(token_id);
            }
            CreatedBy::Admin { user_id } => {
                self.key("kind").string("admin");
                self.key("userId").string(user_id);
            }
            CreatedBy::Service { key_id } => {
                self.key("kind").string("service");
                self.key("keyId").string(key_id);
            }
        }
        self.close();
        self.key("createdAt").integer(record.created_at());
        self.key("expiresAt").optional_integer(record.expires_at());
        self.key("scope").scope(record.scope());
        let ranges = record.allowed_ips().to_strings();
        self.key("allowedIps")
            .strings(ranges.iter().map(String::as_str));
        self.key("status").string(match record.status() {
            Status::Active => "active",
            Status::Inactive => "inactive",
        });
        self.key("lastUsedAt")
            .optional_integer(record.last_used_at());
        self.key("rotatedFrom").optional(record.rotated_from());
        self.key("replacedBy").optional(record.replaced_by());
        self.close()
    }
}

/// A record as JSON: stored shape with the hash, or the list shape without.
pub fn record(record: &TokenRecord, with_hash: bool) -> String {
    let mut json = Json::new();
    json.record(record, with_hash);
    json.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped_and_integers_signed() {
        let mut json = Json::new();
        json.open()
            .key("s")
            .string("a\"b\\c\n\u{1}é…😀x")
            .key("n")
            .integer(-1_800_000_000_000)
            .key("z")
            .integer(0)
            .key("l")
            .strings(["x", "y"].into_iter())
            .close();
        assert_eq!(
            json.finish(),
            r#"{"s":"a\"b\\c\u000a\u0001\u00e9\u2026\ud83d\ude00x","n":-1800000000000,"z":0,"l":["x","y"]}"#
        );
    }
}
