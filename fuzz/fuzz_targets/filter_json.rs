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

/// Whether `value` holds only what the filter's reader takes: integers,
/// and arrays and objects nested at most `json::MAX_DEPTH` deep.
fn plain(value: &Value, depth: u32) -> bool {
    match value {
        Value::Number(n) => n.is_i64() || n.is_u64(),
        Value::Array(items) => depth <= json::MAX_DEPTH && items.iter().all(|v| plain(v, depth + 1)),
        Value::Object(members) => {
            depth <= json::MAX_DEPTH && members.values().all(|v| plain(v, depth + 1))
        }
        _ => true,
    }
}

fuzz_target!(|data: &[u8]| {
    let ours = json::from_slice::<Value>(data);
    let theirs = serde_json::from_slice::<Value>(data);
    match (&ours, &theirs) {
        (Ok(a), Ok(b)) => assert_eq!(a, b),
        (Ok(_), Err(_)) => panic!("the filter read what serde_json refuses"),
        (Err(_), Ok(b)) => assert!(!plain(b, 1), "the filter refused a plain document"),
        (Err(_), Err(_)) => {}
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let mut written = String::new();
        json::push_string(&mut written, text);
        assert_eq!(serde_json::from_str::<String>(&written).unwrap(), text);
    }
    if let Ok(record) = json::from_slice::<TokenRecord>(data) {
        assert_eq!(serde_json::from_slice::<TokenRecord>(data).ok(), Some(record));
    }
});
