//! Criterion benchmarks of lifecycle operations over a user who holds many
//! tokens, beside a bare `issue` (which reads no records) measured in the
//! same run: each operation reads the user's records once, so its cost
//! should grow linearly with their number, never quadratically.
//!
//! Run: `cargo bench -p tessera-core --bench lifecycle`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use tessera_core::{
    Actor, Catalog, CreateRequest, Creator, Deployment, Expiry, IssueRequest, Prefix, ScopeSpec,
    Standing, TokenRecord, Write,
};

const NOW: i64 = 1_800_000_000_000;

fn deployment() -> Deployment {
    let catalog = Catalog::from_pairs([("apps.read", &["read"][..]), ("tokens.create", &[][..])])
        .expect("catalog");
    Deployment::new(Prefix::new("tsr").expect("prefix"), catalog)
}

/// `n` tokens of one user, each made by the one before it: one long chain,
/// the worst case for a cascade.
fn chain(d: &Deployment, n: usize) -> Vec<TokenRecord> {
    let scope = ScopeSpec::actions(["tokens.create", "apps.read"]);
    let mut records: Vec<TokenRecord> = Vec::with_capacity(n);
    for i in 0..n {
        let mut entropy = [0u8; 32];
        entropy[..8].copy_from_slice(&(i as u64).to_le_bytes());
        let parent = records.last().map(|p| {
            d.authenticate(p.hash(), Some(p), Standing::OWNER, None, NOW)
                .expect("valid")
        });
        let creator = parent.map_or(Creator::User, Creator::Token);
        let request = IssueRequest {
            user_id: "u1",
            name: "t",
            description: None,
            expires: Expiry::Never,
            scope: &scope,
            allowed_ips: &[],
            creator,
            tokens_held: 0,
        };
        records.push(d.issue(&request, NOW, &entropy).expect("issued").record);
    }
    records
}

fn benches(c: &mut Criterion) {
    let d = deployment();
    let scope = ScopeSpec::actions(["apps.read"]);
    let request = CreateRequest {
        name: "n",
        description: None,
        expires: Expiry::Never,
        scope: &scope,
        allowed_ips: &[],
    };
    let mut group = c.benchmark_group("lifecycle");
    group.bench_function("issue, no records read (baseline)", |b| {
        let request = IssueRequest {
            user_id: "u1",
            name: "n",
            description: None,
            expires: Expiry::Never,
            scope: &scope,
            allowed_ips: &[],
            creator: Creator::User,
            tokens_held: 0,
        };
        b.iter(|| d.issue(black_box(&request), NOW, &[7; 32]).expect("issued"))
    });
    for n in [1_000, 10_000] {
        let records = chain(&d, n);
        let actor = Actor::user("u1", Standing::OWNER);
        group.bench_function(format!("create among {n} tokens"), |b| {
            b.iter(|| {
                d.lifecycle(actor, black_box(&records), NOW)
                    .create(&request, &[7; 32])
                    .expect("created")
            })
        });
        let root = records[0].id().to_string();
        group.bench_function(format!("delete with cascade, a chain of {n}"), |b| {
            b.iter(|| {
                let change = d
                    .lifecycle(actor, black_box(&records), NOW)
                    .delete(&root, true)
                    .expect("deleted");
                assert!(matches!(change.writes.last(), Some(Write::Delete(_))));
                change.writes.len()
            })
        });
    }
    group.finish();
}

criterion_group!(lifecycle_benches, benches);
criterion_main!(lifecycle_benches);
