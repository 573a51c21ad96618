//! The request headers the filter reads, taken from Envoy in one host call.
//!
//! Reading `:method`, `:path` and `authorization` one by one cost a host
//! call each (and a call back into the module to allocate each value), and
//! removing the identity headers on every forwarded request cost one more
//! per header, present or not. The whole map comes across at once instead,
//! and a header that is absent is not removed.

use std::borrow::Cow;

/// A request's headers as Envoy holds them (names in lower case).
pub struct Head {
    headers: Vec<(String, Vec<u8>)>,
}

impl Head {
    /// The headers of one request, as `get_map_bytes` returns them.
    pub fn new(headers: Vec<(String, Vec<u8>)>) -> Self {
        Self { headers }
    }

    /// The first value of header `name`; bytes that are not UTF-8 become
    /// U+FFFD, so a token with them is malformed rather than a failure.
    pub fn value(&self, name: &str) -> Option<Cow<'_, str>> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| String::from_utf8_lossy(value))
    }

    /// Whether the request has a header `name`, in any case.
    pub fn has(&self, name: &str) -> bool {
        self.headers
            .iter()
            .any(|(key, _)| key.eq_ignore_ascii_case(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head() -> Head {
        Head::new(vec![
            (":method".into(), b"GET".to_vec()),
            (":path".into(), b"/api/apps".to_vec()),
            ("authorization".into(), b"Bearer one".to_vec()),
            ("Authorization".into(), b"Bearer two".to_vec()),
            ("x-odd".into(), vec![b'a', 0xff, b'b']),
        ])
    }

    #[test]
    fn values_are_the_first_of_their_name_in_any_case() {
        let head = head();
        assert_eq!(head.value(":method").as_deref(), Some("GET"));
        assert_eq!(head.value("AUTHORIZATION").as_deref(), Some("Bearer one"));
        assert_eq!(head.value("x-odd").as_deref(), Some("a\u{fffd}b"));
        assert_eq!(head.value("x-tessera-user-id"), None);
    }

    #[test]
    fn presence_is_by_name_in_any_case() {
        let head = head();
        assert!(head.has("authorization") && head.has("X-ODD"));
        assert!(!head.has("x-tessera-user-id"));
        assert!(!Head::new(Vec::new()).has(":path"));
    }
}
