//! A small JSON reader for serde, in place of `serde_json`, and the string
//! quoting the filter's own JSON bodies need.
//!
//! The filter reads three documents: its configuration, the token
//! service's answers and revocation feed pages. (It writes only small
//! bodies, by hand, and keeps the service's answers in shared data as they
//! came.) `serde_json` brought in far more than that needs: its number
//! parsing and error reporting, with the float formatting that serde's
//! error messages pull in, were about a fifth of the module. This reader
//! takes exactly what those documents hold: objects, arrays, strings,
//! booleans, `null`, integers, and enum variants by name. A number with a
//! fraction or an exponent is refused, as is anything after the value, a
//! nesting deeper than [`MAX_DEPTH`] or input that is not UTF-8.
//!
//! Error messages never repeat a value from the input (a mistyped
//! credential must not reach a log): they name the field or variant, or the
//! line and column where reading stopped.

use std::borrow::Cow;
use std::fmt::{self, Display, Write as _};

use serde::de::{self, DeserializeOwned, IntoDeserializer, Visitor};

/// How deeply arrays and objects may nest.
pub const MAX_DEPTH: u32 = 64;

/// Why a document could not be read or written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    message: String,
    line: usize,
    column: usize,
}

impl Error {
    /// Where reading stopped: 1-based line and column (0 when unknown).
    pub fn position(&self) -> (usize, usize) {
        (self.line, self.column)
    }

    /// Whether the message only names fields or variants, never a value:
    /// safe to repeat in a log.
    pub fn names_only(&self) -> bool {
        [
            "unknown field",
            "missing field",
            "unknown variant",
            "duplicate field",
        ]
        .iter()
        .any(|start| self.message.starts_with(start))
    }

    fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            line: 0,
            column: 0,
        }
    }
}

impl Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if self.line > 0 {
            write!(f, " at line {} column {}", self.line, self.column)?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

/// What kind of value `unexpected` was, without the value itself.
fn kind(unexpected: de::Unexpected<'_>) -> &'static str {
    use de::Unexpected as U;
    match unexpected {
        U::Bool(_) => "a boolean",
        U::Unsigned(_) | U::Signed(_) | U::Float(_) => "a number",
        U::Char(_) | U::Str(_) => "a string",
        U::Bytes(_) => "bytes",
        U::Unit | U::Option => "null",
        U::NewtypeStruct | U::NewtypeVariant | U::TupleVariant | U::StructVariant => "a variant",
        U::Seq => "an array",
        U::Map => "an object",
        U::Enum | U::UnitVariant => "a variant",
        U::Other(other) => other_kind(other),
    }
}

fn other_kind(_: &str) -> &'static str {
    "another value"
}

impl de::Error for Error {
    fn custom<T: Display>(message: T) -> Self {
        Self::new(message.to_string())
    }

    // Written out, so that serde's rendering of the unexpected value (which
    // would quote it, and formats floats) is never linked in.
    fn invalid_type(unexpected: de::Unexpected<'_>, expected: &dyn de::Expected) -> Self {
        Self::new(format!(
            "invalid type: {}, expected {expected}",
            kind(unexpected)
        ))
    }

    fn invalid_value(unexpected: de::Unexpected<'_>, expected: &dyn de::Expected) -> Self {
        Self::new(format!(
            "invalid value: {}, expected {expected}",
            kind(unexpected)
        ))
    }
}

/// Reads `bytes` as one JSON document of type `T`.
pub fn from_slice<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    let mut reader = Reader::open(bytes)?;
    match T::deserialize(&mut reader) {
        Ok(value) => reader.end().map(|()| value),
        Err(error) => Err(reader.locate(error)),
    }
}

/// A number as the reader met it.
enum Number {
    Unsigned(u64),
    Negative(i64),
}

/// Reads one document, position by position.
struct Reader<'de> {
    input: &'de str,
    pos: usize,
    depth: u32,
}

impl<'de> Reader<'de> {
    /// A reader of `bytes`, which must be UTF-8.
    #[inline(never)]
    fn open(bytes: &'de [u8]) -> Result<Self, Error> {
        let input = std::str::from_utf8(bytes).map_err(|e| {
            let (line, column) = line_column(bytes, e.valid_up_to());
            Error {
                message: "the document is not UTF-8".into(),
                line,
                column,
            }
        })?;
        Ok(Self {
            input,
            pos: 0,
            depth: 0,
        })
    }

    /// Checks that only whitespace follows the document.
    #[inline(never)]
    fn end(&mut self) -> Result<(), Error> {
        self.skip_space();
        if self.pos < self.input.len() {
            return Err(self.located("trailing characters after the document"));
        }
        Ok(())
    }

    /// `error` with the reader's position, unless it has one.
    #[inline(never)]
    fn locate(&self, mut error: Error) -> Error {
        if error.line == 0 {
            let (line, column) = line_column(self.input.as_bytes(), self.pos);
            error.line = line;
            error.column = column;
        }
        error
    }

    #[inline(never)]
    fn located(&self, message: &str) -> Error {
        self.locate(Error::new(message))
    }

    fn bytes(&self) -> &'de [u8] {
        self.input.as_bytes()
    }

    #[inline(never)]
    fn skip_space(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes().get(self.pos) {
            self.pos += 1;
        }
    }

    /// The next byte after whitespace, not consumed.
    #[inline(never)]
    fn peek(&mut self) -> Result<u8, Error> {
        self.skip_space();
        self.bytes()
            .get(self.pos)
            .copied()
            .ok_or_else(|| self.located("the document ends early"))
    }

    #[inline(never)]
    fn expect(&mut self, byte: u8, what: &str) -> Result<(), Error> {
        if self.peek()? == byte {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.located(what))
        }
    }

    #[inline(never)]
    fn literal(&mut self, word: &str) -> Result<(), Error> {
        if self.input[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(self.located("expected a value"))
        }
    }

    #[inline(never)]
    fn enter(&mut self) -> Result<(), Error> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.located("arrays and objects nest too deeply"));
        }
        Ok(())
    }

    #[inline(never)]
    fn number(&mut self) -> Result<Number, Error> {
        let start = self.pos;
        let negative = self.bytes().get(self.pos) == Some(&b'-');
        if negative {
            self.pos += 1;
        }
        let digits = self.pos;
        while let Some(b'0'..=b'9') = self.bytes().get(self.pos) {
            self.pos += 1;
        }
        let text = &self.input[digits..self.pos];
        if text.is_empty() || (text.len() > 1 && text.starts_with('0')) {
            return Err(self.located("expected a number"));
        }
        if let Some(b'.' | b'e' | b'E') = self.bytes().get(self.pos) {
            return Err(self.located("expected a whole number"));
        }
        let out_of_range = || self.located("a number out of range");
        if negative {
            let value: i64 = self.input[start..self.pos]
                .parse()
                .map_err(|_| out_of_range())?;
            if value == 0 {
                // -0 is a float's signed zero, as serde_json reads it.
                return Err(self.located("expected a whole number"));
            }
            Ok(Number::Negative(value))
        } else {
            let value: u64 = text.parse().map_err(|_| out_of_range())?;
            Ok(Number::Unsigned(value))
        }
    }

    /// A string, at its opening quote: borrowed when it has no escapes.
    #[inline(never)]
    fn string(&mut self) -> Result<Cow<'de, str>, Error> {
        self.expect(b'"', "expected a string")?;
        let start = self.pos;
        loop {
            let Some(&byte) = self.bytes().get(self.pos) else {
                return Err(self.located("a string does not end"));
            };
            match byte {
                b'"' => {
                    self.pos += 1;
                    return Ok(Cow::Borrowed(&self.input[start..self.pos - 1]));
                }
                b'\\' => return self.string_rest(String::new(), start),
                0..=0x1f => return Err(self.located("a control character in a string")),
                _ => self.pos += 1,
            }
        }
    }

    /// The rest of a string from `start`, once it holds an escape: `text`
    /// is what came before `start`.
    #[inline(never)]
    fn string_rest(&mut self, mut text: String, mut start: usize) -> Result<Cow<'de, str>, Error> {
        loop {
            let Some(&byte) = self.bytes().get(self.pos) else {
                return Err(self.located("a string does not end"));
            };
            match byte {
                b'"' => {
                    text.push_str(&self.input[start..self.pos]);
                    self.pos += 1;
                    return Ok(Cow::Owned(text));
                }
                b'\\' => {
                    text.push_str(&self.input[start..self.pos]);
                    self.pos += 1;
                    text.push(self.escape()?);
                    start = self.pos;
                }
                0..=0x1f => return Err(self.located("a control character in a string")),
                _ => self.pos += 1,
            }
        }
    }

    /// The character of an escape, after its backslash.
    #[inline(never)]
    fn escape(&mut self) -> Result<char, Error> {
        let Some(&byte) = self.bytes().get(self.pos) else {
            return Err(self.located("a string does not end"));
        };
        self.pos += 1;
        Ok(match byte {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let first = self.hex4()?;
                if (0xd800..0xdc00).contains(&first) {
                    // A high surrogate: its low half must follow.
                    if !self.input[self.pos..].starts_with("\\u") {
                        return Err(self.located("a lone surrogate in a string"));
                    }
                    self.pos += 2;
                    let second = self.hex4()?;
                    if !(0xdc00..0xe000).contains(&second) {
                        return Err(self.located("a lone surrogate in a string"));
                    }
                    let code = 0x10000 + ((first - 0xd800) << 10) + (second - 0xdc00);
                    char::from_u32(code).ok_or_else(|| self.located("a bad escape"))?
                } else {
                    char::from_u32(first)
                        .ok_or_else(|| self.located("a lone surrogate in a string"))?
                }
            }
            _ => return Err(self.located("a bad escape in a string")),
        })
    }

    fn hex4(&mut self) -> Result<u32, Error> {
        let digits = self
            .input
            .get(self.pos..self.pos + 4)
            .filter(|d| d.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| self.located("a bad \\u escape"))?;
        self.pos += 4;
        u32::from_str_radix(digits, 16).map_err(|_| self.located("a bad \\u escape"))
    }

    /// The error for a value of the wrong kind where `expected` was due:
    /// one function for every visitor (serde's per-visitor defaults would
    /// each carry their own copy).
    #[inline(never)]
    fn wrong_kind(&mut self, expected: &dyn de::Expected) -> Error {
        let kind = match self.peek() {
            Ok(b'n') => "null",
            Ok(b't' | b'f') => "a boolean",
            Ok(b'"') => "a string",
            Ok(b'-' | b'0'..=b'9') => "a number",
            Ok(b'[') => "an array",
            Ok(b'{') => "an object",
            Ok(_) => "something that is not JSON",
            Err(error) => return error,
        };
        self.located(&format!("invalid type: {kind}, expected {expected}"))
    }

    /// Whether another element or member follows, before `close`: consumes
    /// the comma between items, and for an object checks that a name comes.
    #[inline(never)]
    fn next_item(&mut self, first: &mut bool, close: u8) -> Result<bool, Error> {
        if self.peek()? == close {
            return Ok(false);
        }
        let (comma, name) = if close == b'}' {
            ("expected , or } in an object", true)
        } else {
            ("expected , or ] in an array", false)
        };
        if !std::mem::take(first) {
            self.expect(b',', comma)?;
        }
        if name && self.peek()? != b'"' {
            return Err(self.located("expected a member name"));
        }
        Ok(true)
    }

    // `array` and `object` differ only in the visitor method they call;
    // written out twice, since sharing them through a closure costs the
    // module bytes in every visitor's copy.

    /// An array, at its `[`.
    fn array<V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value, Error> {
        self.enter()?;
        self.pos += 1;
        let value = visitor.visit_seq(Items {
            reader: self,
            first: true,
        })?;
        self.expect(b']', "expected , or ] in an array")?;
        self.depth -= 1;
        Ok(value)
    }

    /// An object, at its `{`.
    fn object<V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value, Error> {
        self.enter()?;
        self.pos += 1;
        let value = visitor.visit_map(Items {
            reader: self,
            first: true,
        })?;
        self.expect(b'}', "expected , or } in an object")?;
        self.depth -= 1;
        Ok(value)
    }
}

/// The 1-based line and column of `offset` in `bytes`.
fn line_column(bytes: &[u8], offset: usize) -> (usize, usize) {
    let before = &bytes[..offset.min(bytes.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let column = before.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
    (line, column)
}

/// Deserializer methods that only call another one of the same shape.
macro_rules! forward {
    ($($($method:ident)+ => $to:ident;)+) => {
        $($(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
                self.$to(visitor)
            }
        )+)+
    };
}

impl<'de> de::Deserializer<'de> for &mut Reader<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.peek()? {
            b'n' => {
                self.literal("null")?;
                visitor.visit_unit()
            }
            b't' => {
                self.literal("true")?;
                visitor.visit_bool(true)
            }
            b'f' => {
                self.literal("false")?;
                visitor.visit_bool(false)
            }
            b'"' => match self.string()? {
                Cow::Borrowed(text) => visitor.visit_borrowed_str(text),
                Cow::Owned(text) => visitor.visit_string(text),
            },
            b'-' | b'0'..=b'9' => match self.number()? {
                Number::Unsigned(n) => visitor.visit_u64(n),
                Number::Negative(n) => visitor.visit_i64(n),
            },
            b'[' => self.array(visitor),
            b'{' => self.object(visitor),
            _ => Err(self.located("expected a value")),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.peek()? == b'n' {
            self.literal("null")?;
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        // Only variants without content, by name: the documents hold no
        // others.
        if self.peek()? != b'"' {
            return Err(self.wrong_kind(&visitor));
        }
        let name = self.string()?.into_owned();
        visitor.visit_enum(IntoDeserializer::<Error>::into_deserializer(name))
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_any(de::IgnoredAny)?;
        visitor.visit_unit()
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.peek()? {
            b't' => {
                self.literal("true")?;
                visitor.visit_bool(true)
            }
            b'f' => {
                self.literal("false")?;
                visitor.visit_bool(false)
            }
            _ => Err(self.wrong_kind(&visitor)),
        }
    }

    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.peek()? {
            b'-' | b'0'..=b'9' => match self.number()? {
                Number::Unsigned(n) => visitor.visit_u64(n),
                Number::Negative(n) => visitor.visit_i64(n),
            },
            _ => Err(self.wrong_kind(&visitor)),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.peek()? != b'"' {
            return Err(self.wrong_kind(&visitor));
        }
        match self.string()? {
            Cow::Borrowed(text) => visitor.visit_borrowed_str(text),
            Cow::Owned(text) => visitor.visit_string(text),
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.peek()? != b'[' {
            return Err(self.wrong_kind(&visitor));
        }
        self.array(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.peek()? != b'{' {
            return Err(self.wrong_kind(&visitor));
        }
        self.object(visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_map(visitor)
    }

    forward! {
        deserialize_identifier deserialize_string => deserialize_str;
        deserialize_u8 deserialize_u16 deserialize_u32 deserialize_i8 deserialize_i16
        deserialize_i32 deserialize_i64 => deserialize_u64;
    }

    serde::forward_to_deserialize_any! {
        i128 u128 f32 f64 char bytes byte_buf unit unit_struct tuple tuple_struct
    }
}

/// The elements of an array, or the members of an object.
struct Items<'a, 'de> {
    reader: &'a mut Reader<'de>,
    first: bool,
}

impl<'de> de::SeqAccess<'de> for Items<'_, 'de> {
    type Error = Error;

    fn next_element_seed<T: de::DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        if !self.reader.next_item(&mut self.first, b']')? {
            return Ok(None);
        }
        seed.deserialize(&mut *self.reader).map(Some)
    }
}

impl<'de> de::MapAccess<'de> for Items<'_, 'de> {
    type Error = Error;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        if !self.reader.next_item(&mut self.first, b'}')? {
            return Ok(None);
        }
        seed.deserialize(&mut *self.reader).map(Some)
    }

    fn next_value_seed<V: de::DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        self.reader.expect(b':', "expected : after a member name")?;
        seed.deserialize(&mut *self.reader)
    }
}

/// Appends `text` to `out` as a JSON string.
pub fn push_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use tessera_core::TokenRecord;

    fn read<T: DeserializeOwned>(text: &str) -> Result<T, Error> {
        from_slice(text.as_bytes())
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    struct Sample {
        name: String,
        count: u32,
        offset: i64,
        tags: Vec<String>,
        note: Option<String>,
        #[serde(default)]
        on: bool,
    }

    #[test]
    fn reads_what_serde_json_reads() {
        let text = r#" { "name" : "a\"b\\c\/d\u00e9\ud83d\ude00\n", "count": 7,
            "offset": -42, "tags": ["x", "", "z"], "note": null, "on": true } "#;
        let ours: Sample = read(text).unwrap();
        let theirs: Sample = serde_json::from_str(text).unwrap();
        assert_eq!(ours, theirs);
        assert_eq!(ours.name, "a\"b\\c/d\u{e9}\u{1f600}\n");
    }

    #[test]
    fn refuses_what_the_documents_never_hold_or_json_forbids() {
        let base = |count: &str| {
            format!(r#"{{"name":"n","count":{count},"offset":0,"tags":[],"note":null}}"#)
        };
        assert!(read::<Sample>(&base("1")).is_ok());
        for count in [
            "1.5",
            "1e3",
            "01",
            "-",
            "-0",
            "4294967296",
            "+1",
            "0x10",
            "NaN",
            "\"1\"",
        ] {
            assert!(read::<Sample>(&base(count)).is_err(), "{count}");
        }
        for text in [
            "",
            "{",
            r#"{"name":"n"} x"#,
            r#"{"name":"a"#,
            "{\"name\":\"tab\there\"}",
            r#"{"name":"\x"}"#,
            r#"{"name":"\ud800"}"#,
            r#"{"name":"\ud800\u0041"}"#,
            r#"{"name":"\u12"}"#,
            r#"{"name" "n"}"#,
            r#"{"name":"n",}"#,
            r#"{name:"n"}"#,
            r#"["a",]"#,
            "nul",
            "tru",
        ] {
            assert!(read::<serde::de::IgnoredAny>(text).is_err(), "{text:?}");
        }
        assert!(from_slice::<String>(b"\"\xff\"").is_err(), "not UTF-8");
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert!(read::<serde::de::IgnoredAny>(&deep(MAX_DEPTH as usize)).is_ok());
        let error = read::<serde::de::IgnoredAny>(&deep(MAX_DEPTH as usize + 1)).unwrap_err();
        assert!(error.to_string().contains("nest too deeply"), "{error}");
        // Far deeper than any stack could take, refused all the same.
        assert!(read::<serde::de::IgnoredAny>(&deep(100_000)).is_err());
    }

    #[test]
    fn errors_name_fields_and_positions_never_values() {
        let secret = "s3cr3t-credential-value";
        let error = read::<Sample>(&format!(
            r#"{{"name":"n","count":"{secret}","offset":0,"tags":[],"note":null}}"#
        ))
        .unwrap_err();
        assert!(!error.to_string().contains(secret), "{error}");
        assert!(!error.names_only());
        assert_eq!(error.position().0, 1);
        let unknown = read::<Sample>(r#"{"nmae":"n"}"#).unwrap_err();
        assert!(
            unknown.names_only() && unknown.to_string().starts_with("unknown field `nmae`"),
            "{unknown}"
        );
        let missing = read::<Sample>(r#"{"name":"n"}"#).unwrap_err();
        assert!(
            missing.names_only() && missing.to_string().contains("count"),
            "{missing}"
        );
        let late = read::<Sample>("{\n  \"name\": 5\n}").unwrap_err();
        assert_eq!(late.position().0, 2, "{late}");
    }

    #[test]
    fn records_read_as_serde_json_reads_them() {
        let text = r#"{"id":"0123456789abcdef0123456789abcdef","userId":"u\"1","name":"n\u0001é",
            "description":null,"hash":"aa0000000000000000000000000000000000000000000000000000000000000b",
            "hint":"tsr_ab…","createdBy":{"kind":"token","tokenId":"fedcba9876543210fedcba9876543210"},
            "createdAt":1700000000000,"expiresAt":-5,"scope":{"actions":["apps.read"],"resources":["orgs/*"]},
            "status":"inactive","lastUsedAt":null,"rotatedFrom":null}"#;
        let ours: TokenRecord = read(text).unwrap();
        let theirs: TokenRecord = serde_json::from_str(text).unwrap();
        assert_eq!(ours, theirs);
        // And what serde_json writes of it reads back the same.
        let written = serde_json::to_string(&theirs).unwrap();
        assert_eq!(read::<TokenRecord>(&written).unwrap(), ours);
        for created_by in [
            r#"{"kind":"user"}"#,
            r#"{"kind":"token"}"#,
            r#"{"kind":"admin"}"#,
            r#"{"kind":"admin","userId":"root"}"#,
            r#"{"userId":"root","kind":"admin"}"#,
            r#"{"kind":"service","keyId":"workbench"}"#,
            r#"{"kind":"service","userId":"workbench"}"#,
        ] {
            let text = text.replace(
                r#"{"kind":"token","tokenId":"fedcba9876543210fedcba9876543210"}"#,
                created_by,
            );
            assert_eq!(
                read::<TokenRecord>(&text).is_ok(),
                serde_json::from_str::<TokenRecord>(&text).is_ok(),
                "{created_by}"
            );
        }
    }

    #[test]
    fn strings_round_trip_both_ways_with_serde_json() {
        // A fixed pseudo-random walk over every kind of character.
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..2_000 {
            let len = (next() % 24) as usize;
            let text: String = (0..len)
                .map(|_| match next() % 5 {
                    0 => char::from_u32((next() % 0x20) as u32).unwrap(),
                    1 => ['"', '\\', '/', '\u{7f}'][(next() % 4) as usize],
                    2 => char::from_u32(0x1_0000 + (next() % 0xf_0000) as u32).unwrap_or('x'),
                    3 => char::from_u32(0x80 + (next() % 0xd000) as u32).unwrap_or('y'),
                    _ => char::from_u32(0x20 + (next() % 0x5f) as u32).unwrap(),
                })
                .collect();
            let mut ours = String::new();
            push_string(&mut ours, &text);
            assert_eq!(serde_json::from_str::<String>(&ours).unwrap(), text);
            let theirs = serde_json::to_string(&text).unwrap();
            assert_eq!(read::<String>(&theirs).unwrap(), text);
            // And with every character escaped as \u, surrogate pairs included.
            let escaped: String = text
                .encode_utf16()
                .map(|unit| format!("\\u{unit:04X}"))
                .collect();
            assert_eq!(read::<String>(&format!("\"{escaped}\"")).unwrap(), text);
        }
    }
}

#[cfg(test)]
mod agreement {
    use super::*;
    use serde_json::Value;

    /// Documents both readers must read alike, edge cases of numbers and
    /// whitespace included.
    #[test]
    fn values_agree_with_serde_json() {
        for text in [
            "0",
            "-1",
            "18446744073709551615",
            "-9223372036854775808",
            " [ ] ",
            "{}",
            r#"{"a":1,"a":2}"#,
            r#"[null,true,false,"",{"":[]}]"#,
            "\t\r\n 7 \n",
        ] {
            let ours: Value = from_slice(text.as_bytes()).unwrap();
            let theirs: Value = serde_json::from_str(text).unwrap();
            assert_eq!(ours, theirs, "{text}");
        }
    }
}
