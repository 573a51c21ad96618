//! Tessera's core: personal access tokens that are issued, hashed, scoped
//! and verified as pure functions over data.
//!
//! # What this crate does not do
//!
//! It performs no I/O. It never reads a clock, never draws randomness and
//! never talks to a store: the caller passes `now` (milliseconds since the
//! Unix epoch), 32 bytes of entropy from a CSPRNG, and the records it looked
//! up. Every adapter (the npm package, the wasmtime plugin, the Envoy
//! filter) moves data in and out of these functions and maps their errors;
//! none of them holds token logic of its own.
//!
//! # The flow
//!
//! ```
//! use tessera_core::{Catalog, Creator, Deployment, Expiry, IssueRequest, Prefix, Request, ScopeSpec, Standing};
//!
//! let catalog = Catalog::from_pairs([("apps.read", &["read"][..]), ("apps.write", &[][..])])?;
//! let deployment = Deployment::new(Prefix::new("tsr")?, catalog);
//!
//! // Issue: the token is shown once; the record is what a store keeps.
//! let now = 1_800_000_000_000;
//! let entropy = [42u8; 32]; // from a CSPRNG in real use
//! let scope = ScopeSpec::actions(["apps.read"]);
//! let issued = deployment.issue(
//!     &IssueRequest {
//!         user_id: "u1",
//!         name: "CI",
//!         description: None,
//!         expires: Expiry::Days(30),
//!         scope: &scope,
//!         allowed_ips: &[], // anywhere; or CIDR ranges such as "10.0.0.0/8"
//!         creator: Creator::User,
//!         tokens_held: 0,
//!     },
//!     now,
//!     &entropy,
//! )?;
//! let header = format!("Bearer {}", issued.token.expose());
//!
//! // Verify: parse and checksum, hash, look up, then check.
//! let presented = deployment.parse(&header)?;
//! let hash = deployment.hash(&presented);
//! let found = (issued.record.hash() == &hash).then_some(&issued.record); // your store
//! let verified = deployment.verify(&hash, found, Standing::OWNER, &Request::action("apps.read"), now + 1)?;
//! assert_eq!(verified.principal.user_id, "u1");
//!
//! let denied = deployment.verify(&hash, found, Standing::OWNER, &Request::action("apps.write"), now + 1);
//! assert_eq!(denied.unwrap_err().code(), "SCOPE_DENIED");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

mod actor;
mod address;
mod audit;
mod base62;
mod catalog;
pub mod code;
mod config;
mod crc;
mod deployment;
mod expiry;
mod hash;
mod hex;
mod issue;
mod lifecycle;
mod network;
mod notice;
mod order;
mod prefix;
mod record;
mod resource;
mod rfc3339;
mod rotate;
mod scope;
mod token;
mod verify;

pub use actor::{Actor, Enablement, Issuer, Standing};
pub use address::parse_ip;
pub use audit::{AuditEvent, token_events};
pub use catalog::{Catalog, CatalogEntry, CatalogError, KIND_CLI, KIND_READ};
pub use config::{ConfigError, DeploymentConfig};
pub use deployment::{
    DEFAULT_CREATION_ACTION, DEFAULT_READ_ACTION, DEFAULT_WRITE_ACTION, Deployment,
};
pub use expiry::{
    DAY_MS, DEFAULT_DAYS, Expiry, ExpiryTextError, MAX_EXPIRES_AT, Policy, PolicyError,
};
pub use hash::{Pepper, PepperError, TokenHash, hash, token_id};
pub use issue::{Creator, IssueError, IssueRequest, Issued};
pub use lifecycle::{Change, CreateRequest, Edit, Lifecycle, LifecycleError, Minted, Write};
pub use network::{AllowedIps, IpRange, IpsError, MAX_RANGES};
pub use notice::{EXPIRED_NOTICE_MS, ExpiryNotice, MAX_THRESHOLDS};
pub use prefix::{Prefix, PrefixError};
pub use record::{
    CreatedBy, EditError, Field, RECORD_FIELDS, RecordParts, Status, TOUCH_INTERVAL_MS, TokenInfo,
    TokenRecord, VerificationParts,
};
pub use resource::{PatternError, ResourcePattern};
pub use rfc3339::parse_rfc3339;
pub use rotate::{RotateError, Rotated};
pub use scope::{Preset, Request, Scope, ScopeError, ScopeSpec};
pub use token::{ParseError, Presented, Token, token_len, token_pattern};
pub use verify::{Authenticated, Denial, Principal, Verified};

/// Compiles and runs the Rust examples of the repository README.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
