//! Property tests: format round-trips, single-character changes are caught,
//! `is_subset` is sound under catalogs that grow, and a child token never
//! exceeds its parent, and a record cut down to what verification reads
//! verifies as the whole record does.

use proptest::prelude::*;
use tessera_core::{
    AllowedIps, Catalog, Creator, Deployment, Enablement, Expiry, IssueRequest, Prefix, Request,
    Scope, ScopeSpec, Standing, Status, TokenRecord, VerificationParts, token_pattern,
};

/// Every action a generated catalog may hold, with the kinds it always has
/// (an action's kinds never change as a catalog grows).
const UNIVERSE: &[(&str, &[&str])] = &[
    ("apps.read", &["read"]),
    ("apps.write", &[]),
    ("apps.logs", &["read", "cli"]),
    ("deploy.run", &["cli"]),
    ("deploy.read", &["read"]),
    ("orgs.read", &["read"]),
    ("orgs.admin", &[]),
    ("tokens.create", &[]),
];

fn catalog_of(mask: u8) -> Catalog {
    Catalog::from_pairs(
        UNIVERSE
            .iter()
            .enumerate()
            .filter(|(i, _)| mask & (1 << i) != 0)
            .map(|(_, &(action, kinds))| (action, kinds)),
    )
    .expect("valid catalog")
}

fn pattern() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(prop::sample::select(vec!["x", "y", "*"]), 1..4),
        any::<bool>(),
    )
        .prop_map(|(segments, rest)| {
            let mut text = segments.join("/");
            if rest {
                text.push_str("/**");
            }
            text
        })
}

fn resource() -> impl Strategy<Value = Option<String>> {
    prop::option::of(
        prop::collection::vec(prop::sample::select(vec!["x", "y", "z"]), 1..6)
            .prop_map(|s| s.join("/")),
    )
}

/// A scope spec whose custom actions come from `mask`'s catalog.
fn scope_spec(mask: u8) -> impl Strategy<Value = ScopeSpec> {
    let names: Vec<&'static str> = UNIVERSE
        .iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .map(|(_, (a, _))| *a)
        .collect();
    let actions = prop::sample::subsequence(names.clone(), 1..=names.len().max(1));
    let kind = prop_oneof![
        prop::sample::select(vec!["all", "read", "cli"]).prop_map(|p| {
            serde_json::from_value::<ScopeSpec>(serde_json::json!({ "preset": p })).unwrap()
        }),
        actions.prop_map(ScopeSpec::actions),
    ];
    (
        kind,
        prop::option::of(prop::collection::vec(pattern(), 1..3)),
    )
        .prop_map(|(spec, resources)| match resources {
            Some(list) => spec.with_resources(list),
            None => spec,
        })
}

/// A base catalog (non-empty), a grown one (a superset) and the set of all
/// requests worth checking.
fn catalogs() -> impl Strategy<Value = (u8, u8)> {
    (1u8.., any::<u8>()).prop_map(|(base, extra)| (base, base | extra))
}

fn requests() -> impl Strategy<Value = Vec<(usize, Option<String>)>> {
    prop::collection::vec((0..UNIVERSE.len() + 1, resource()), 1..24)
}

fn action_of(index: usize) -> &'static str {
    UNIVERSE.get(index).map_or("not.declared", |(a, _)| a)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn format_round_trips(prefix in "[a-z0-9]{1,16}", entropy in any::<[u8; 32]>()) {
        let prefix = Prefix::new(&prefix).unwrap();
        let d = Deployment::new(prefix.clone(), catalog_of(0xff));
        let issued = d.issue(&IssueRequest {
            user_id: "u", name: "n", description: None, expires: Expiry::Never,
            scope: &ScopeSpec::actions(["apps.read"]), allowed_ips: &[], creator: Creator::User, tokens_held: 0,
        }, 0, &entropy).unwrap();
        let token = issued.token.expose();
        prop_assert_eq!(token.len(), prefix.as_str().len() + 50);
        let pattern = regex::Regex::new(&format!("^{}$", token_pattern(&prefix))).unwrap();
        prop_assert!(pattern.is_match(token));
        let presented = d.parse(token).unwrap();
        prop_assert_eq!(presented.expose(), token);
        prop_assert_eq!(&d.hash(&presented), issued.record.hash());
    }

    #[test]
    fn any_single_character_change_is_rejected(
        entropy in any::<[u8; 32]>(),
        position in 0usize..53,
        replacement in prop::char::range(' ', '~'),
    ) {
        let d = Deployment::new(Prefix::new("tsr").unwrap(), catalog_of(0xff));
        let issued = d.issue(&IssueRequest {
            user_id: "u", name: "n", description: None, expires: Expiry::Never,
            scope: &ScopeSpec::actions(["apps.read"]), allowed_ips: &[], creator: Creator::User, tokens_held: 0,
        }, 0, &entropy).unwrap();
        let token = issued.token.expose();
        prop_assume!(token.as_bytes()[position] != replacement as u8);
        let mut changed = token.to_string();
        changed.replace_range(position..position + 1, &replacement.to_string());
        prop_assert!(d.parse(&changed).is_err(), "accepted {} changed at {}", changed, position);
    }

    #[test]
    fn subset_is_sound_under_growing_catalogs(
        (base, grown, a_spec, b_spec) in catalogs()
            .prop_flat_map(|(base, grown)| (Just(base), Just(grown), scope_spec(base), scope_spec(base))),
        reqs in requests(),
    ) {
        let base_catalog = catalog_of(base);
        let a = Scope::resolve(&a_spec, &base_catalog).unwrap();
        let b = Scope::resolve(&b_spec, &base_catalog).unwrap();
        if a.is_subset(&b, &base_catalog) {
            for catalog in [catalog_of(base), catalog_of(grown)] {
                for (index, resource) in &reqs {
                    let request = Request { action: action_of(*index), resource: resource.as_deref(), ip: None };
                    prop_assert!(
                        !a.allows(&request, &catalog) || b.allows(&request, &catalog),
                        "{:?} within {:?} but {:?} only allowed by the first", a_spec, b_spec, request
                    );
                }
            }
        }
        prop_assert!(a.is_subset(&a, &base_catalog));
    }

    #[test]
    fn a_child_never_exceeds_its_parent(
        (base, grown, mut parent_spec, child_spec) in catalogs()
            .prop_map(|(base, grown)| (base | 0x80, grown | 0x80)) // tokens.create is declared
            .prop_flat_map(|(base, grown)| (Just(base), Just(grown), scope_spec(base), scope_spec(base))),
        parent_days in prop_oneof![Just(-1i64), 1i64..60],
        child_days in prop_oneof![Just(-1i64), 1i64..90],
        reqs in requests(),
    ) {
        if let Some(actions) = &mut parent_spec.actions {
            actions.push("tokens.create".into());
        }
        let d = Deployment::new(Prefix::new("tsr").unwrap(), catalog_of(base));
        let now = 1_800_000_000_000;
        let parent = d.issue(&IssueRequest {
            user_id: "u", name: "parent", description: None, expires: Expiry::Days(parent_days),
            scope: &parent_spec, allowed_ips: &[], creator: Creator::User, tokens_held: 0,
        }, now, &[1; 32]).unwrap();
        let hash = d.hash(&d.parse(parent.token.expose()).unwrap());
        let authenticated = d.authenticate(&hash, Some(&parent.record), tessera_core::Standing::OWNER, None, now).unwrap();
        let child = d.issue(&IssueRequest {
            user_id: "u", name: "child", description: None, expires: Expiry::Days(child_days),
            scope: &child_spec, allowed_ips: &[], creator: Creator::Token(authenticated), tokens_held: 1,
        }, now, &[2; 32]);
        if let Ok(child) = child {
            let (c, p) = (&child.record, &parent.record);
            if let Some(parent_end) = p.expires_at() {
                prop_assert!(c.expires_at().is_some_and(|end| end <= parent_end));
            }
            for catalog in [catalog_of(base), catalog_of(grown)] {
                for (index, resource) in &reqs {
                    let request = Request { action: action_of(*index), resource: resource.as_deref(), ip: None };
                    prop_assert!(!c.scope().allows(&request, &catalog) || p.scope().allows(&request, &catalog));
                }
            }
        }
    }

    #[test]
    fn a_record_cut_to_what_verification_reads_verifies_alike(
        (mask, spec) in (1u8.., Just(())).prop_flat_map(|(mask, ())| (Just(mask), scope_spec(mask))),
        inactive in any::<bool>(),
        expiry in prop::option::of(-3i64..3),
        last_use in prop::option::of(-3i64..1),
        ranges in prop::sample::select(vec![&[][..], &["10.0.0.0/8"][..], &["10.1.2.3", "::1"][..]]),
        ip in prop::sample::select(vec![None, Some("10.1.2.3"), Some("192.0.2.1"), Some("::1")]),
        tokens in prop::sample::select(vec![Enablement::On, Enablement::Off, Enablement::Inherit]),
        admin in any::<bool>(),
        members_enabled in any::<bool>(),
        same_hash in any::<bool>(),
        reqs in requests(),
    ) {
        let d = Deployment::new(Prefix::new("tsr").unwrap(), catalog_of(mask));
        let now = 1_800_000_000_000;
        let minute = 60_000;
        let issued = d.issue(&IssueRequest {
            user_id: "u", name: "whole", description: None, expires: Expiry::Never,
            scope: &spec, allowed_ips: &[], creator: Creator::User, tokens_held: 0,
        }, now, &[7; 32]).unwrap();
        let presented = d.hash(&d.parse(issued.token.expose()).unwrap());
        let hash = if same_hash { presented } else { tessera_core::hash("tsr_other", None) };
        // The whole record, through its stored JSON as a store hands it back.
        let mut json = serde_json::to_value(&issued.record).unwrap();
        json["hash"] = serde_json::json!(hash.to_hex());
        json["status"] = serde_json::json!(if inactive { "inactive" } else { "active" });
        json["expiresAt"] = serde_json::json!(expiry.map(|e| now + e * minute));
        json["lastUsedAt"] = serde_json::json!(last_use.map(|l| now + l * minute));
        json["allowedIps"] = serde_json::json!(ranges);
        let whole: TokenRecord = serde_json::from_value(json).unwrap();
        let cut = TokenRecord::for_verification(VerificationParts {
            hash,
            status: if inactive { Status::Inactive } else { Status::Active },
            expires_at: whole.expires_at(),
            last_used_at: whole.last_used_at(),
            scope: Scope::from_spec(&spec).unwrap(),
            allowed_ips: AllowedIps::parse(ranges).unwrap(),
        });
        let owner = Standing { admin, tokens, members_enabled };
        let ip = ip.map(|text| tessera_core::parse_ip(text).unwrap());
        for at in [now - minute, now, now + 2 * minute] {
            let whole_auth = d.authenticate(&presented, Some(&whole), owner, ip, at).map(|a| a.record().touch_due(at));
            let cut_auth = d.authenticate(&presented, Some(&cut), owner, ip, at).map(|a| a.record().touch_due(at));
            prop_assert_eq!(whole_auth, cut_auth);
            for (index, resource) in &reqs {
                let request = Request { action: action_of(*index), resource: resource.as_deref(), ip };
                let outcome = |record: &TokenRecord| {
                    d.verify(&presented, Some(record), owner, &request, at).map(|v| (v.touch, v.recheck_at))
                };
                prop_assert_eq!(outcome(&whole), outcome(&cut));
            }
        }
    }
}
