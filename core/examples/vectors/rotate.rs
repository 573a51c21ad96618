//! `tests/vectors/rotate.json`: rotation with a grace period.

use super::*;

/// Name, deployment, old token, grace, now and intended error.
type RotateCase<'a> = (&'a str, &'a str, &'a Issued, i64, i64, Option<&'a str>);

pub(crate) fn rotate_vectors() -> Value {
    let open = deployment("open");
    let strict = deployment("strict");
    let month = make(
        &open,
        "rotate-month",
        "u1",
        json!({"preset": "read"}),
        Expiry::Days(30),
    );
    let never = make(
        &open,
        "rotate-never",
        "u1",
        json!({"preset": "all"}),
        Expiry::Never,
    );
    let mut inactive = make(
        &open,
        "rotate-inactive",
        "u1",
        json!({"preset": "all"}),
        Expiry::Days(30),
    );
    inactive.record.set_status(Status::Inactive);
    let soon = make(
        &open,
        "rotate-soon",
        "u1",
        json!({"preset": "all"}),
        Expiry::At(Some(NOW + 60_000)),
    );
    let cases: Vec<RotateCase<'_>> = vec![
        (
            "keeps the lifetime, old token gets an hour",
            "open",
            &month,
            3_600_000,
            NOW,
            None,
        ),
        (
            "never-expiring stays never; old gets no grace",
            "open",
            &never,
            0,
            NOW,
            None,
        ),
        (
            "grace never extends the old expiry",
            "open",
            &soon,
            3_600_000,
            NOW,
            None,
        ),
        (
            "inactive token",
            "open",
            &inactive,
            0,
            NOW,
            Some("TOKEN_INACTIVE"),
        ),
        (
            "expired token",
            "open",
            &month,
            0,
            NOW + 40 * DAY,
            Some("TOKEN_EXPIRED"),
        ),
        (
            "negative grace",
            "open",
            &month,
            -1,
            NOW,
            Some("EXPIRY_INVALID"),
        ),
        (
            "never-expiring under a policy that requires expiry",
            "strict",
            &never,
            0,
            NOW,
            Some("EXPIRY_EXCEEDS_POLICY"),
        ),
    ];
    let out: Vec<Value> = cases
        .into_iter()
        .enumerate()
        .map(|(n, (name, dep, old, grace, now, intended))| {
            let d = if dep == "strict" { &strict } else { &open };
            let bytes = entropy(&format!("rotate-{n}"));
            let got = d.rotate(&old.record, grace, now, &bytes);
            let expect = match (intended, got) {
                (None, Ok(r)) => json!({
                    "token": r.issued.token.expose(),
                    "record": record_json(&r.issued.record),
                    "retired": record_json(&r.retired),
                }),
                (Some(code), Err(e)) if e.code() == code => json!({ "error": code }),
                (intended, got) => panic!(
                    "rotate case {name}: meant {intended:?}, got {:?}",
                    got.map(|r| r.retired)
                ),
            };
            json!({
                "name": name,
                "deployment": dep,
                "record": record_json(&old.record),
                "graceMs": grace,
                "now": now,
                "entropy": hex(&bytes),
                "expect": expect,
            })
        })
        .collect();
    json!({
        "about": "Rotation: a new token with the old one's owner, name, scope and lifetime; the old record's expiry becomes min(its expiry, now + graceMs).",
        "deployments": deployments(),
        "cases": out,
    })
}
