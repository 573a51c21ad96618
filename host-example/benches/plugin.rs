//! What running the core as a sandboxed plugin costs: one verification
//! through the component (wasmtime, SQLite lookup, JSON record) beside the
//! same steps done natively with `tessera-core` on the same database, in
//! the same run.
//!
//! Run: `cargo bench -p tessera-host --bench plugin --profile host`

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use tessera_core::{DeploymentConfig, Request as CoreRequest, TokenRecord};
use tessera_host::config::default_config;
use tessera_host::db::Db;
use tessera_host::plugin::{Actor, Expiry, IssueRequest, Plugin, Request};

const NOW: i64 = 1_800_000_000_000;

fn benches(c: &mut Criterion) {
    let db = Arc::new(Db::in_memory().expect("database"));
    let config = default_config();
    let plugin = Plugin::new(db.clone(), config.to_string()).expect("plugin");
    let deployment = serde_json::from_value::<DeploymentConfig>(config)
        .expect("config")
        .build()
        .expect("deployment");
    // Enough other tokens that the lookup is a real index search.
    for n in 0..1000u32 {
        let mut entropy = [0u8; 32];
        entropy[..4].copy_from_slice(&n.to_le_bytes());
        issue(&plugin, &entropy);
    }
    let token = issue(&plugin, &[7; 32]);
    let header = format!("Bearer {token}");
    let request = Request {
        action: "apps.read".into(),
        resource: None,
    };
    // The first verification writes last-used; later ones within the
    // minute do not, on both paths alike.
    plugin
        .verify(&header, Some(&request), None, NOW)
        .expect("no trap")
        .expect("valid");

    let mut group = c.benchmark_group("host");
    group.bench_function("verify through the plugin", |b| {
        b.iter(|| {
            plugin
                .verify(black_box(&header), Some(&request), None, NOW)
                .expect("no trap")
                .expect("valid")
        })
    });
    group.bench_function("verify natively, same database", |b| {
        b.iter(|| {
            let presented = deployment.parse(black_box(&header)).expect("parses");
            let hash = deployment.hash(&presented);
            let found = db
                .token_by_hash(&hash.to_hex())
                .expect("read")
                .expect("found");
            let record: TokenRecord = serde_json::from_str(&found.token.json).expect("record");
            let verified = deployment
                .verify(
                    &hash,
                    Some(&record),
                    found.owner,
                    &CoreRequest::action("apps.read"),
                    NOW,
                )
                .expect("valid");
            verified.principal.user_id.len()
        })
    });
    group.finish();
}

fn issue(plugin: &Plugin, entropy: &[u8; 32]) -> String {
    let request = IssueRequest {
        name: "bench".into(),
        description: None,
        expires: Expiry::Days(30),
        scope: r#"{"preset":"read"}"#.into(),
        allowed_ips: Vec::new(),
    };
    plugin
        .issue(
            &tessera_host::db::Origin::operator(0),
            &Actor::user("bench", tessera_core::Standing::OWNER),
            &request,
            NOW,
            entropy,
        )
        .expect("no trap")
        .expect("issued")
        .token
}

criterion_group!(host_benches, benches);
criterion_main!(host_benches);
