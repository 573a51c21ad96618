//! Criterion benchmarks of the core's hot paths, each beside a bare SHA-256
//! of the same token measured in the same run (the floor any verification
//! that hashes the token must pay).
//!
//! Run: `cargo bench -p tessera-core --bench verify`

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use sha2::{Digest, Sha256};
use tessera_core::{
    Catalog, Creator, Deployment, Expiry, IssueRequest, Prefix, Request, ScopeSpec, TokenHash,
    TokenRecord,
};

const RECORDS: usize = 100_000;
const NOW: i64 = 1_800_000_000_000;

/// A hasher that takes the first eight bytes of a key that is already a
/// uniform SHA-256: what a store keyed by token hash can use safely, since
/// only hashes of server-generated tokens are ever inserted.
#[derive(Default)]
struct FirstWord(u64);

impl Hasher for FirstWord {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        if let Some(word) = bytes.get(..8) {
            self.0 = u64::from_le_bytes(word.try_into().unwrap_or_default());
        }
    }
}

type Store = HashMap<TokenHash, TokenRecord, BuildHasherDefault<FirstWord>>;

fn deployment() -> Deployment {
    let catalog = Catalog::from_pairs([
        ("apps.read", &["read"][..]),
        ("apps.write", &[][..]),
        ("deploy.run", &["cli"][..]),
        ("orgs.read", &["read"][..]),
        ("tokens.create", &[][..]),
    ])
    .expect("catalog");
    Deployment::new(Prefix::new("tsr").expect("prefix"), catalog)
}

fn entropy(n: usize) -> [u8; 32] {
    Sha256::digest(n.to_le_bytes()).into()
}

fn issue(d: &Deployment, scope: &ScopeSpec, n: usize) -> (String, TokenRecord) {
    let issued = d
        .issue(
            &IssueRequest {
                user_id: "user-1",
                name: "bench",
                description: None,
                expires: Expiry::Days(30),
                scope,
                allowed_ips: &[],
                creator: Creator::User,
                tokens_held: 0,
            },
            NOW,
            &entropy(n),
        )
        .expect("issue");
    (issued.token.expose().to_string(), issued.record)
}

fn benches(c: &mut Criterion) {
    let d = deployment();
    let scope = ScopeSpec::actions(["apps.read", "deploy.run", "orgs.read"]);
    let mut store = Store::default();
    let mut headers = Vec::with_capacity(RECORDS);
    for n in 0..RECORDS {
        let (token, record) = issue(&d, &scope, n);
        store.insert(*record.hash(), record);
        headers.push(format!("Bearer {token}"));
    }
    let request = Request::action("deploy.run");
    let header = headers[RECORDS / 2].clone();
    let token = header["Bearer ".len()..].to_string();
    let mut bad = token.clone();
    bad.replace_range(52..53, if bad.ends_with('0') { "1" } else { "0" });

    let verify = |header: &str| {
        let presented = d.parse(header).expect("parses");
        let hash = d.hash(&presented);
        let verified = d
            .verify(
                &hash,
                store.get(&hash),
                tessera_core::Standing::OWNER,
                &request,
                NOW,
            )
            .expect("verifies");
        verified.principal.user_id.len()
    };

    let mut group = c.benchmark_group("core");
    group.bench_function("sha256 of the token (baseline)", |b| {
        b.iter(|| Sha256::digest(black_box(token.as_bytes())))
    });
    group.bench_function("reject a bad checksum", |b| {
        b.iter(|| d.parse(black_box(&bad)).is_err())
    });
    group.bench_function("verify, one token", |b| {
        b.iter(|| verify(black_box(&header)))
    });
    let mut next = 0;
    group.bench_function("sha256 cycling 100k tokens (baseline)", |b| {
        b.iter(|| {
            next = (next + 1) % RECORDS;
            Sha256::digest(black_box(headers[next].as_bytes()))
        })
    });
    group.bench_function("verify cycling 100k tokens", |b| {
        b.iter(|| {
            next = (next + 1) % RECORDS;
            verify(black_box(&headers[next]))
        })
    });
    let mut n = RECORDS;
    group.bench_function("issue", |b| {
        b.iter(|| {
            n += 1;
            issue(&d, &scope, black_box(n)).1
        })
    });
    group.finish();
}

criterion_group!(core_benches, benches);
criterion_main!(core_benches);
