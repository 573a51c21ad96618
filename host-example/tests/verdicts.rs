//! The plugin's remembered verifications answer exactly what the plugin
//! would: never past the token's expiry, never in place of a last use that
//! falls due, never for another request or address, and never after
//! another connection changed the record.

mod common;

use std::sync::Arc;

use serde_json::Value;
use tessera_core::code;
use tessera_host::db::{Db, Origin, TokenWrite};
use tessera_host::plugin::{Actor, Expiry, IssueRequest, Plugin, Principal, Request, TokenError};
use tessera_host::records::Records;

use common::temp_dir;

const NOW: i64 = 1_800_000_000_000;

/// A server's plugin: cached records over a database file.
struct Setup {
    path: std::path::PathBuf,
    records: Arc<Records>,
    plugin: Plugin,
    issued: std::cell::Cell<u8>,
}

fn setup(name: &str) -> Setup {
    let path = temp_dir(name).join("tokens.db");
    let db = Arc::new(Db::open(&path).expect("database"));
    let records = Arc::new(Records::cached(db, 64));
    let plugin = Plugin::with_records(
        records.clone(),
        tessera_host::config::default_config().to_string(),
    )
    .expect("plugin");
    Setup {
        path,
        records,
        plugin,
        issued: std::cell::Cell::new(1),
    }
}

impl Setup {
    /// Issues a token for ann: the token and its id.
    fn issue(&self, expires: Expiry, scope: &str, allowed_ips: &[&str]) -> (String, String) {
        let request = IssueRequest {
            name: "t".into(),
            description: None,
            expires,
            scope: scope.into(),
            allowed_ips: allowed_ips.iter().map(|ip| ip.to_string()).collect(),
        };
        let actor = Actor::user("ann", tessera_core::Standing::OWNER);
        let entropy = [self.issued.get(); 32];
        self.issued.set(self.issued.get() + 1);
        let issued = self
            .plugin
            .issue(&Origin::operator(0), &actor, &request, NOW, &entropy)
            .expect("no trap")
            .expect("issued");
        let record: Value = serde_json::from_str(&issued.record).expect("record");
        (issued.token, record["id"].as_str().expect("id").to_string())
    }

    fn verify(
        &self,
        token: &str,
        action: Option<&str>,
        ip: Option<&str>,
        now: i64,
    ) -> Result<Principal, TokenError> {
        let request = action.map(|action| Request {
            action: action.into(),
            resource: None,
        });
        let ip = ip.map(|ip| ip.parse().expect("address"));
        self.plugin
            .verify(&format!("Bearer {token}"), request.as_ref(), ip, now)
            .expect("no trap")
    }

    /// The stored last-used time of token `id`, after writing what is noted.
    fn last_used(&self, id: &str) -> Option<i64> {
        self.records.flush_touches();
        let stored = self
            .records
            .db()
            .token_by_id(id)
            .expect("read")
            .expect("stored");
        serde_json::from_str::<Value>(&stored.json).expect("JSON")["lastUsedAt"].as_i64()
    }
}

#[test]
fn a_remembered_verification_ends_at_the_tokens_expiry() {
    let s = setup("verdicts-expiry");
    let (token, id) = s.issue(Expiry::At(Some(NOW + 10_000)), r#"{"preset":"all"}"#, &[]);
    s.verify(&token, Some("apps.read"), None, NOW)
        .expect("valid");
    // Writing the use moves the epoch; the next answer is kept until expiry.
    assert_eq!(s.last_used(&id), Some(NOW));
    s.verify(&token, Some("apps.read"), None, NOW + 1)
        .expect("valid");
    assert_eq!(s.plugin.remembered(), 1);
    let principal = s
        .verify(&token, Some("apps.read"), None, NOW + 9_999)
        .expect("valid");
    assert_eq!(principal.recheck_at, NOW + 10_000);
    assert_eq!(s.plugin.recalled(), 1, "the last answer came from the memo");
    let expired = s
        .verify(&token, Some("apps.read"), None, NOW + 10_000)
        .expect_err("expired");
    assert_eq!(expired.code, code::TOKEN_EXPIRED);
}

#[test]
fn a_last_use_that_falls_due_is_recorded_although_the_answer_is_remembered() {
    let s = setup("verdicts-touch");
    let (token, id) = s.issue(Expiry::Days(30), r#"{"preset":"all"}"#, &[]);
    s.verify(&token, None, None, NOW).expect("valid");
    assert_eq!(s.last_used(&id), Some(NOW));
    s.verify(&token, None, None, NOW + 1).expect("valid");
    assert_eq!(s.plugin.remembered(), 1);
    s.verify(&token, None, None, NOW + 59_999).expect("valid");
    assert_eq!(
        s.last_used(&id),
        Some(NOW),
        "within the minute nothing is written"
    );
    s.verify(&token, None, None, NOW + 60_000).expect("valid");
    assert_eq!(
        s.last_used(&id),
        Some(NOW + 60_000),
        "the due use was recorded"
    );
}

#[test]
fn another_request_or_address_is_decided_anew() {
    let s = setup("verdicts-key");
    let (token, _) = s.issue(
        Expiry::Days(30),
        r#"{"actions":["apps.read"]}"#,
        &["10.0.0.0/8"],
    );
    s.verify(&token, Some("apps.read"), Some("10.1.2.3"), NOW)
        .expect("valid");
    s.verify(&token, Some("apps.read"), Some("10.1.2.3"), NOW + 1)
        .expect("valid");
    assert!(s.plugin.remembered() >= 1);
    let denied = |action: Option<&str>, ip: Option<&str>| {
        s.verify(&token, action, ip, NOW + 2)
            .expect_err("refused")
            .code
    };
    assert_eq!(
        denied(Some("apps.write"), Some("10.1.2.3")),
        code::SCOPE_DENIED
    );
    assert_eq!(
        denied(Some("apps.read"), Some("192.168.1.1")),
        code::IP_DENIED
    );
    assert_eq!(denied(Some("apps.read"), None), code::IP_DENIED);
    assert_eq!(denied(None, Some("192.168.1.1")), code::IP_DENIED);
    // A made-up token next to a remembered one.
    let mut other = token.clone();
    other.replace_range(10..11, if &token[10..11] == "A" { "B" } else { "A" });
    let refused = s.verify(&other, Some("apps.read"), Some("10.1.2.3"), NOW + 2);
    assert!(refused.is_err(), "a different token was accepted");
}

#[test]
fn a_change_by_another_connection_ends_every_remembered_answer() {
    let s = setup("verdicts-other");
    let (token, id) = s.issue(Expiry::Days(30), r#"{"preset":"all"}"#, &[]);
    s.verify(&token, None, None, NOW).expect("valid");
    assert_eq!(s.last_used(&id), Some(NOW));
    s.verify(&token, None, None, NOW + 1).expect("valid");
    s.verify(&token, None, None, NOW + 2).expect("valid");
    assert_eq!(s.plugin.remembered(), 1);
    assert_eq!(s.plugin.recalled(), 1);

    // Another process (a CLI, a second host) deactivates the token.
    let other = Db::open(&s.path).expect("second connection");
    let mut stored = other.token_by_id(&id).expect("read").expect("stored");
    let mut record: Value = serde_json::from_str(&stored.json).expect("JSON");
    record["status"] = "inactive".into();
    stored.json = record.to_string();
    other
        .apply_writes(&[TokenWrite::Put(stored)], &Origin::operator(0))
        .expect("write");
    let refused = s.verify(&token, None, None, NOW + 3).expect_err("inactive");
    assert_eq!(refused.code, code::TOKEN_INACTIVE);

    // And one made through these records (the API's path) as well.
    let (token, id) = s.issue(Expiry::Days(30), r#"{"preset":"all"}"#, &[]);
    s.verify(&token, None, None, NOW + 4).expect("valid");
    s.verify(&token, None, None, NOW + 5).expect("valid");
    s.records
        .apply(&[TokenWrite::Delete(id)], &Origin::operator(0))
        .expect("delete");
    let refused = s.verify(&token, None, None, NOW + 6).expect_err("deleted");
    assert_eq!(refused.code, code::TOKEN_UNKNOWN);
}

#[test]
fn a_change_of_the_users_standing_ends_every_remembered_answer() {
    use tessera_core::Enablement;
    let s = setup("verdicts-standing");
    s.records
        .db()
        .add_user("ann", "not-a-hash", false, &Origin::operator(0))
        .expect("user");
    // A member, whose tokens are on by their own setting (not the default).
    let set = |db: &Db, tokens| db.set_user_tokens("ann", tokens, &Origin::operator(0));
    assert!(set(s.records.db(), Enablement::On).expect("on"));
    let (token, id) = s.issue(Expiry::Days(30), r#"{"preset":"all"}"#, &[]);
    s.verify(&token, None, None, NOW).expect("valid");
    assert_eq!(s.last_used(&id), Some(NOW));
    s.verify(&token, None, None, NOW + 1).expect("valid");
    s.verify(&token, None, None, NOW + 2).expect("valid");
    assert_eq!(s.plugin.recalled(), 1);

    // Through this process (the admin API's path).
    assert!(
        s.records
            .change_standing(|db| set(db, Enablement::Off))
            .expect("off")
    );
    let refused = s.verify(&token, None, None, NOW + 3).expect_err("disabled");
    assert_eq!(refused.code, code::TOKENS_DISABLED);
    assert!(
        s.records
            .change_standing(|db| set(db, Enablement::On))
            .expect("on")
    );
    s.verify(&token, None, None, NOW + 4).expect("valid");
    s.verify(&token, None, None, NOW + 5).expect("valid");
    let recalled = s.plugin.recalled();
    assert!(recalled >= 2, "{recalled}");

    // Through another connection (the CLI's path).
    let other = Db::open(&s.path).expect("second connection");
    assert!(set(&other, Enablement::Off).expect("off"));
    let refused = s.verify(&token, None, None, NOW + 6).expect_err("disabled");
    assert_eq!(refused.code, code::TOKENS_DISABLED);
    assert_eq!(s.plugin.recalled(), recalled);
}
