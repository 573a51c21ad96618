//! The Envoy filter's own JSON reader against serde_json, on any bytes:
//! whatever it reads, serde_json reads the same; whatever serde_json reads
//! that the filter's documents could hold (whole numbers, nesting within
//! the reader's bound), it reads too. Records it reads, serde_json reads
//! alike, and any string it quotes, serde_json reads back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use tessera_core::TokenRecord;
use tessera_envoy::json;

/// Whether a document holds only what the filter's reader takes: integers,
/// and arrays and objects nested at most `json::MAX_DEPTH` deep. Read from
/// the text itself, every value of it: a `Value` keeps only the last of
/// duplicate members, so a member overwritten later would go unseen.
struct Plain(bool);

impl<'de> serde::Deserialize<'de> for Plain {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(Walk(1)).map(Plain)
    }
}

/// Visits one value at a depth.
struct Walk(u32);

impl<'de> serde::de::DeserializeSeed<'de> for Walk {
    type Value = bool;

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Walk {
    type Value = bool;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<bool, E> {
        Ok(true)
    }
    fn visit_i64<E>(self, _: i64) -> Result<bool, E> {
        Ok(true)
    }
    fn visit_u64<E>(self, _: u64) -> Result<bool, E> {
        Ok(true)
    }
    fn visit_f64<E>(self, _: f64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_str<E>(self, _: &str) -> Result<bool, E> {
        Ok(true)
    }
    fn visit_unit<E>(self) -> Result<bool, E> {
        Ok(true)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        let mut plain = self.0 <= json::MAX_DEPTH;
        while let Some(item) = seq.next_element_seed(Walk(self.0 + 1))? {
            plain &= item;
        }
        Ok(plain)
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        let mut plain = self.0 <= json::MAX_DEPTH;
        while let Some(_key) = map.next_key::<serde::de::IgnoredAny>()? {
            plain &= map.next_value_seed(Walk(self.0 + 1))?;
        }
        Ok(plain)
    }
}

fuzz_target!(|data: &[u8]| {
    let ours = json::from_slice::<Value>(data);
    let theirs = serde_json::from_slice::<Value>(data);
    match (&ours, &theirs) {
        (Ok(a), Ok(b)) => assert_eq!(a, b),
        (Ok(_), Err(_)) => panic!("the filter read what serde_json refuses"),
        (Err(_), Ok(_)) => assert!(
            !serde_json::from_slice::<Plain>(data).is_ok_and(|p| p.0),
            "the filter refused a plain document"
        ),
        (Err(_), Err(_)) => {}
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let mut written = String::new();
        json::push_string(&mut written, text);
        assert_eq!(serde_json::from_str::<String>(&written).unwrap(), text);
    }
    if let Ok(record) = json::from_slice::<TokenRecord>(data) {
        assert_eq!(
            serde_json::from_slice::<TokenRecord>(data).ok(),
            Some(record)
        );
    }
});
