//! Issues a token, verifies it, and prints what a host would store.
//!
//! Run: `cargo run -p tessera-core --example demo`
//!
//! The core draws no randomness and reads no clock: this example takes them
//! from the operating system and hands them in, as every host does.

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use tessera_core::{
    Catalog, Creator, Deployment, Expiry, IssueRequest, Prefix, Request, ScopeSpec, TokenHash,
    TokenRecord,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let catalog = Catalog::from_pairs([
        ("apps.read", &["read"][..]),
        ("apps.write", &[][..]),
        ("deploy.run", &["cli"][..]),
        ("tokens.create", &[][..]),
    ])?;
    let deployment = Deployment::new(Prefix::new("tsr")?, catalog);
    let now = i64::try_from(SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis())?;
    let mut entropy = [0u8; 32];
    getrandom::fill(&mut entropy).map_err(|e| format!("no entropy: {e}"))?;

    let scope = ScopeSpec::actions(["apps.read", "deploy.run"]);
    let issued = deployment.issue(
        &IssueRequest {
            user_id: "alice",
            name: "CI deploys",
            description: Some("used by the deploy pipeline"),
            expires: Expiry::Days(30),
            scope: &scope,
            allowed_ips: &[],
            creator: Creator::User,
            tokens_held: 0,
        },
        now,
        &entropy,
    )?;
    println!("token (shown once):   {}", issued.token.expose());
    println!(
        "pattern for scanners: {}",
        tessera_core::token_pattern(deployment.prefix())
    );
    println!(
        "record a host stores:\n{}",
        serde_json::to_string_pretty(&issued.record)?
    );

    let mut store: HashMap<TokenHash, TokenRecord> = HashMap::new();
    store.insert(*issued.record.hash(), issued.record.clone());
    let header = format!("Bearer {}", issued.token.expose());
    for action in ["apps.read", "deploy.run", "apps.write"] {
        let presented = deployment.parse(&header)?;
        let hash = deployment.hash(&presented);
        let outcome = deployment.verify(
            &hash,
            store.get(&hash),
            tessera_core::Standing::OWNER,
            &Request::action(action),
            now,
        );
        match outcome {
            Ok(v) => println!("{action:<11} allowed for {}", v.principal.user_id),
            Err(denial) => println!("{action:<11} refused: {}", denial.code()),
        }
    }
    let mut typo = issued.token.expose().to_string();
    let last = typo.pop();
    typo.push(if last == Some('x') { 'y' } else { 'x' });
    match deployment.parse(&typo) {
        Ok(_) => println!("a typo slipped through"),
        Err(e) => println!(
            "a one-character typo: {} ({e}), refused before any lookup",
            e.code()
        ),
    }
    Ok(())
}
