//! `tests/vectors/format.json`: parsing, checksums and the published pattern.

use super::*;

pub(crate) fn format_vectors() -> Value {
    let d = deployment("open");
    let issued: Vec<Value> = [[0u8; 32], [0xff; 32], entropy("format")]
        .iter()
        .map(|bytes| {
            let token = make_token(&d, bytes);
            json!({
                "entropy": hex(bytes),
                "token": token,
                "id": token_id(&token),
                "hint": d.parse(&token).expect("parses").hint(),
            })
        })
        .collect();
    let t = make_token(&d, &entropy("format"));
    let flip_last = {
        let mut s = t.clone();
        let last = if s.ends_with('A') { "B" } else { "A" };
        s.replace_range(52..53, last);
        s
    };
    let flip_body = {
        let mut s = t.clone();
        let c = if &s[20..21] == "x" { "y" } else { "x" };
        s.replace_range(20..21, c);
        s
    };
    let too_big = format!("tsr_{}000000", "z".repeat(43));
    let ok = |name: &str, input: String| (name.to_string(), input, None);
    let err = |name: &str, input: String, code: &'static str| (name.to_string(), input, Some(code));
    let cases = vec![
        ok("bare token", t.clone()),
        ok("Bearer scheme", format!("Bearer {t}")),
        ok("scheme in lower case", format!("bearer {t}")),
        ok("UserToken scheme", format!("UserToken {t}")),
        ok(
            "surrounding whitespace and a tab",
            format!("  usertoken\t {t}  "),
        ),
        err("empty", String::new(), "TOKEN_MALFORMED"),
        err("scheme without token", "Bearer".into(), "TOKEN_MALFORMED"),
        err(
            "unsupported scheme",
            format!("Basic {t}"),
            "TOKEN_MALFORMED",
        ),
        err("no prefix", t[4..].to_string(), "TOKEN_MALFORMED"),
        err(
            "upper-case prefix",
            t.replacen("tsr", "TSR", 1),
            "TOKEN_MALFORMED",
        ),
        err(
            "another deployment's prefix",
            t.replacen("tsr", "ghp", 1),
            "TOKEN_PREFIX",
        ),
        err(
            "one character short",
            t[..52].to_string(),
            "TOKEN_MALFORMED",
        ),
        err("one character long", format!("{t}0"), "TOKEN_MALFORMED"),
        err(
            "character outside base62",
            t.replacen(&t[30..31], "-", 1),
            "TOKEN_MALFORMED",
        ),
        err(
            "trailing garbage after a space",
            format!("Bearer {t} x"),
            "TOKEN_MALFORMED",
        ),
        err("body above 2^256", too_big, "TOKEN_MALFORMED"),
        err("checksum character changed", flip_last, "TOKEN_CHECKSUM"),
        err("body character changed", flip_body, "TOKEN_CHECKSUM"),
        err("ten kilobytes", "a".repeat(10_240), "TOKEN_MALFORMED"),
    ];
    let parse: Vec<Value> = cases
        .into_iter()
        .map(|(name, input, code)| {
            let outcome = d.parse(&input).map(|p| p.expose().to_string());
            let expect = match (code, outcome) {
                (None, Ok(token)) => json!({ "token": token }),
                (Some(code), Err(e)) if e.code() == code => json!({ "error": code }),
                (intended, got) => panic!("format case {name}: meant {intended:?}, got {got:?}"),
            };
            json!({ "name": name, "input": input, "expect": expect })
        })
        .collect();
    json!({
        "about": "Token format: composition from entropy, and parsing of bare tokens and Authorization headers.",
        "prefix": "tsr",
        "length": 53,
        "pattern": token_pattern(d.prefix()),
        "issued": issued,
        "parse": parse,
    })
}
