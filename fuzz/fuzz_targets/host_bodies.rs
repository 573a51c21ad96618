//! Feeds arbitrary bytes to tessera-host's request-body parsers for create,
//! update and rotate (`host-example/src/requests.rs`, compiled here as it
//! is, without the host's HTTP server or plugin). Parsing must never panic,
//! every refusal must carry a stable code, and what is accepted must be
//! what the bytes said.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use tessera_core::code;

#[path = "../../host-example/src/requests.rs"]
#[allow(dead_code)]
mod requests;

fn coded(error: &requests::BodyError) {
    assert!(
        code::class(error.code).is_some(),
        "{} is not a stable code",
        error.code
    );
}

fuzz_target!(|bytes: &[u8]| {
    let parsed: Option<Value> = serde_json::from_slice(bytes).ok();
    match requests::create(bytes) {
        Ok(create) => {
            let body = parsed.as_ref().expect("a creation came from JSON");
            assert_eq!(body["name"].as_str(), Some(create.name.as_str()));
            assert_eq!(body["scope"].to_string(), create.scope);
        }
        Err(error) => coded(&error),
    }
    match requests::update(bytes) {
        Ok(change) => {
            if let Some(body) = &parsed {
                let fields = body.as_object().expect("an edit is an object");
                assert!(
                    fields
                        .keys()
                        .all(|k| !requests::IMMUTABLE.contains(&k.as_str()))
                );
                assert_eq!(change.name.is_some(), fields.contains_key("name"));
            } else {
                assert!(bytes.is_empty(), "only an empty body is an empty edit");
            }
        }
        Err(error) => coded(&error),
    }
    match requests::rotate(bytes) {
        Ok(grace_ms) => assert_eq!(grace_ms % 1000, 0),
        Err(error) => coded(&error),
    }
});
