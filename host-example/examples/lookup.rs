//! Lookup latency by token hash: fills a database with synthetic tokens
//! (hash = the row number in 64 hex digits) unless it already holds them,
//! then times random `token_by_hash` lookups through the host's storage
//! layer and prints the median and 99th percentile.
//!
//! Run: `cargo run --profile host -p tessera-host --example lookup -- DB ROWS [LOOKUPS]`
//! where DB is a SQLite path or a `postgres://` URL (used by
//! `scripts/bench-storage.sh`).

use std::time::Instant;

use anyhow::{Context, Result, bail};
use tessera_host::db::{Db, StoredToken};

fn hash_of(n: u64) -> String {
    format!("{n:064x}")
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, spec, rows, rest @ ..] = args.as_slice() else {
        bail!("usage: lookup DB ROWS [LOOKUPS]");
    };
    let rows: u64 = rows.parse().context("ROWS is a number")?;
    let lookups: usize = rest
        .first()
        .map_or(Ok(20_000), |s| s.parse())
        .context("LOOKUPS")?;
    let db = Db::connect(spec)?;
    if db.token_by_hash(&hash_of(rows - 1))?.is_none() {
        bail!(
            "the database does not hold {rows} synthetic tokens; scripts/bench-storage.sh fills it"
        );
    }
    // Sanity: the stored row is what the fill wrote.
    let probe: StoredToken = db.token_by_hash(&hash_of(0))?.context("row 0")?.token;
    if probe.id != "t0" {
        bail!("unexpected row 0: {}", probe.id);
    }
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut times = Vec::with_capacity(lookups);
    for _ in 0..lookups {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let hash = hash_of(state % rows);
        let start = Instant::now();
        let found = db.token_by_hash(&hash)?;
        times.push(start.elapsed().as_nanos());
        if found.is_none() {
            bail!("row {hash} missing");
        }
    }
    times.sort_unstable();
    let at = |q: f64| times[((times.len() as f64 - 1.0) * q) as usize] as f64 / 1000.0;
    println!(
        "{rows:>9} rows: lookup p50 {:7.1} us   p99 {:7.1} us   ({lookups} random lookups)",
        at(0.5),
        at(0.99)
    );
    Ok(())
}
