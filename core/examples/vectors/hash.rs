//! `tests/vectors/hash.json`: SHA-256 and peppered HMAC-SHA-256 of tokens.

use super::*;

pub(crate) fn hash_vectors() -> Value {
    let open = deployment("open");
    let peppered = deployment("peppered");
    let cases: Vec<Value> = ["hash-a", "hash-b"]
        .iter()
        .flat_map(|label| {
            let token = make_token(&open, &entropy(label));
            let p = open.parse(&token).expect("parses");
            let plain = open.hash(&p).to_hex();
            let keyed = peppered.hash(&p).to_hex();
            assert_ne!(plain, keyed);
            [
                json!({ "token": token, "pepper": null, "hash": plain }),
                json!({ "token": token, "pepper": PEPPER_HEX, "hash": keyed }),
            ]
        })
        .collect();
    json!({
        "about": "Stored hashes: SHA-256 of the token string, or HMAC-SHA-256 keyed with the pepper (hex).",
        "cases": cases,
    })
}
