//! Feeds arbitrary text to resource-pattern parsing and matching. Neither
//! may panic, and a literal pattern (no wildcards) matches the resource it
//! spells.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_core::ResourcePattern;

fuzz_target!(|input: (&str, &str)| {
    let (pattern, resource) = input;
    if let Ok(parsed) = ResourcePattern::parse(pattern) {
        let _ = parsed.matches(resource);
        if !pattern.contains('*') {
            assert!(parsed.matches(pattern));
        }
    }
    let _ = ResourcePattern::parse(resource).map(|p| p.matches(pattern));
});
