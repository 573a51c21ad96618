//! Feeds arbitrary text to header/token parsing. Parsing must never panic,
//! and whatever it accepts must be exactly one token: the right length, a
//! checksum that matches, and the same token when parsed again bare.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_core::{Prefix, Presented, token_len};

fuzz_target!(|input: &str| {
    let prefix = Prefix::new("tsr").expect("valid prefix");
    if let Ok(presented) = Presented::parse(input, &prefix) {
        let token = presented.expose();
        assert_eq!(token.len(), token_len(&prefix));
        let again = Presented::parse(token, &prefix).expect("a parsed token parses bare");
        assert_eq!(again.expose(), token);
        assert!(presented.hint().starts_with("tsr_"));
    }
});
