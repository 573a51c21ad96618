//! A stateful property test of the lifecycle: random sequences of
//! operations (create by password or by token, rotate with and without
//! grace, update, delete with and without cascade, verify, clock advances)
//! by random actors over a model store.
//!
//! After every step it checks the invariants the actor rule promises:
//! - a token a token actor obtained has no scope beyond the actor's and no
//!   expiry after it;
//! - no operation by a token actor changed a token outside its reach (its
//!   own user's tokens with scope and expiry within its own, or itself for a
//!   deactivation or deletion), nor another user's token;
//! - no user holds more live, non-retiring tokens than the policy allows;
//! - nothing deleted with cascade still verifies.

use std::collections::BTreeMap;

use proptest::prelude::*;
use tessera_core::{
    Actor, Catalog, CreateRequest, CreatedBy, Deployment, Edit, Expiry, Policy, Prefix, Request,
    ScopeSpec, Standing, Status, TokenRecord, Write,
};

const LIMIT: u32 = 4;
const USERS: [&str; 2] = ["ann", "bob"];
const START: i64 = 1_800_000_000_000;
const DAY: i64 = 86_400_000;

fn deployment() -> Deployment {
    let catalog = Catalog::from_pairs([
        ("apps.read", &["read"][..]),
        ("apps.write", &[][..]),
        ("deploy.run", &["cli"][..]),
        ("tokens.create", &[][..]),
        ("tokens.read", &["read"][..]),
        ("tokens.write", &[][..]),
    ])
    .expect("catalog");
    Deployment::new(Prefix::new("tsr").expect("prefix"), catalog).with_policy(Policy {
        allow_non_expiring: true,
        max_lifetime_days: None,
        max_tokens_per_user: Some(LIMIT),
    })
}

fn scopes() -> Vec<ScopeSpec> {
    vec![
        ScopeSpec::preset(tessera_core::Preset::All),
        ScopeSpec::preset(tessera_core::Preset::Read),
        ScopeSpec::actions(["tokens.create", "tokens.read", "tokens.write", "apps.read"]),
        ScopeSpec::actions(["tokens.create", "apps.read"]),
        ScopeSpec::actions(["tokens.write", "tokens.read"]),
        ScopeSpec::actions(["apps.read"]),
        ScopeSpec::actions(["deploy.run", "tokens.create"]),
    ]
}

fn expiries() -> Vec<Expiry> {
    vec![
        Expiry::Never,
        Expiry::Days(1),
        Expiry::Days(30),
        Expiry::At(None),
    ]
}

/// Who acts: a user by password, or the `n`-th token ever issued (modulo
/// how many there are).
#[derive(Clone, Debug)]
enum Who {
    User(usize),
    Token(usize),
}

#[derive(Clone, Debug)]
enum Op {
    Create {
        who: Who,
        scope: usize,
        expiry: usize,
    },
    Rotate {
        who: Who,
        target: usize,
        grace_s: i64,
    },
    Update {
        who: Who,
        target: usize,
        status: Option<bool>,
        rename: bool,
        cascade: bool,
    },
    Delete {
        who: Who,
        target: usize,
        cascade: bool,
    },
    Verify {
        token: usize,
    },
    Advance {
        ms: i64,
    },
}

fn who() -> impl Strategy<Value = Who> {
    prop_oneof![
        (0..USERS.len()).prop_map(Who::User),
        (0..64usize).prop_map(Who::Token),
        (0..64usize).prop_map(Who::Token),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (who(), 0..7usize, 0..4usize).prop_map(|(who, scope, expiry)| Op::Create { who, scope, expiry }),
        2 => (who(), 0..64usize, prop_oneof![Just(0i64), Just(60), Just(3600)])
            .prop_map(|(who, target, grace_s)| Op::Rotate { who, target, grace_s }),
        2 => (who(), 0..64usize, prop::option::of(any::<bool>()), any::<bool>(), any::<bool>())
            .prop_map(|(who, target, status, rename, cascade)| Op::Update { who, target, status, rename, cascade }),
        2 => (who(), 0..64usize, any::<bool>()).prop_map(|(who, target, cascade)| Op::Delete { who, target, cascade }),
        1 => (0..64usize).prop_map(|token| Op::Verify { token }),
        1 => prop_oneof![Just(1_000i64), Just(DAY / 2), Just(2 * DAY)].prop_map(|ms| Op::Advance { ms }),
    ]
}

/// The model: the store's records by id, every token value ever issued
/// (with its id), and the clock.
struct Model {
    d: Deployment,
    store: BTreeMap<String, TokenRecord>,
    tokens: Vec<(String, String)>,
    /// Every token ever replaced by a successful rotation, kept by the
    /// model itself (not read from the records).
    retired: std::collections::BTreeSet<String>,
    now: i64,
    entropy: u64,
}

impl Model {
    fn new() -> Self {
        Self {
            d: deployment(),
            store: BTreeMap::new(),
            tokens: Vec::new(),
            retired: std::collections::BTreeSet::new(),
            now: START,
            entropy: 0,
        }
    }

    fn entropy(&mut self) -> [u8; 32] {
        self.entropy += 1;
        let mut bytes = [7u8; 32];
        bytes[..8].copy_from_slice(&self.entropy.to_le_bytes());
        bytes
    }

    fn records_of(&self, user: &str) -> Vec<TokenRecord> {
        self.store
            .values()
            .filter(|r| r.user_id() == user)
            .cloned()
            .collect()
    }

    /// The record a token value finds by its hash, if any.
    fn lookup(&self, token: &str) -> Option<&TokenRecord> {
        let hash = self.d.hash(&self.d.parse(token).expect("own token parses"));
        self.store.values().find(|r| r.hash() == &hash)
    }

    fn apply(&mut self, writes: &[Write]) {
        for write in writes {
            match write {
                Write::Put(record) => {
                    self.store.insert(record.id().into(), record.clone());
                }
                Write::Delete(id) => {
                    self.store.remove(id);
                }
            }
        }
    }

    fn is_retiring(&self, record: &TokenRecord) -> bool {
        !record.is_expired(self.now) && self.retired.contains(record.id())
    }

    /// Every token `root` created, directly or transitively.
    fn descendants(&self, root: &str) -> Vec<String> {
        let mut found = vec![root.to_string()];
        let mut i = 0;
        while i < found.len() {
            let parent = found[i].clone();
            for r in self.store.values() {
                if matches!(r.created_by(), CreatedBy::Token { token_id } if *token_id == parent)
                    && !found.iter().any(|f| f == r.id())
                {
                    found.push(r.id().into());
                }
            }
            i += 1;
        }
        found.remove(0);
        found
    }

    fn check_limits(&self) -> Result<(), TestCaseError> {
        for user in USERS {
            let live = self
                .store
                .values()
                .filter(|r| r.user_id() == user && !r.is_expired(self.now) && !self.is_retiring(r))
                .count();
            prop_assert!(live <= LIMIT as usize, "{user} holds {live} live tokens");
        }
        Ok(())
    }
}

/// Whether `target` is within `actor`'s reach: the same user, scope and
/// expiry within the actor's.
fn within(d: &Deployment, actor: &TokenRecord, target: &TokenRecord) -> bool {
    target.user_id() == actor.user_id()
        && target.scope().is_subset(actor.scope(), d.catalog())
        && match (target.expires_at(), actor.expires_at()) {
            (_, None) => true,
            (Some(t), Some(a)) => t <= a,
            (None, Some(_)) => false,
        }
}

fn step(model: &mut Model, op: &Op) -> Result<(), TestCaseError> {
    let now = model.now;
    // Resolve the actor: its token's record (authenticated now) or a user.
    let actor_of = |model: &Model, who: &Who| -> Option<(String, Option<TokenRecord>)> {
        match who {
            Who::User(i) => Some((USERS[*i].to_string(), None)),
            Who::Token(n) => {
                let (_, token) = model.tokens.get(n % model.tokens.len().max(1))?;
                let record = model.lookup(token)?.clone();
                let hash = *record.hash();
                model
                    .d
                    .authenticate(&hash, Some(&record), Standing::OWNER, None, now)
                    .ok()?;
                Some((record.user_id().to_string(), Some(record)))
            }
        }
    };
    let target_of = |model: &Model, n: usize| -> Option<String> {
        let ids: Vec<&String> = model.store.keys().collect();
        (!ids.is_empty()).then(|| ids[n % ids.len()].clone())
    };
    match op {
        Op::Advance { ms } => model.now += ms,
        Op::Verify { token } => {
            if let Some((_, value)) = model.tokens.get(token % model.tokens.len().max(1)) {
                let found = model.lookup(value).cloned();
                let hash = model.d.hash(&model.d.parse(value).expect("parses"));
                let verified = model.d.verify(
                    &hash,
                    found.as_ref(),
                    Standing::OWNER,
                    &Request::action("apps.read"),
                    now,
                );
                if let Ok(v) = verified {
                    prop_assert!(model.store.contains_key(v.principal.token_id));
                }
            }
        }
        Op::Create { who, scope, expiry } => {
            let Some((user, token)) = actor_of(model, who) else {
                return Ok(());
            };
            let records = model.records_of(&user);
            let entropy = model.entropy();
            let scope = &scopes()[*scope];
            let outcome = {
                let actor = actor(&model.d, &user, token.as_ref(), now);
                model
                    .d
                    .lifecycle(actor, &records, now)
                    .create(
                        &CreateRequest {
                            name: "t",
                            description: None,
                            expires: expiries()[*expiry],
                            scope,
                            allowed_ips: &[],
                        },
                        &entropy,
                    )
                    .map(|m| (m.token.expose().to_string(), m.record, m.writes))
            };
            if let Ok((value, record, writes)) = outcome {
                if let Some(parent) = &token {
                    prop_assert!(
                        within(&model.d, parent, &record),
                        "a created token exceeds its parent"
                    );
                }
                model.apply(&writes);
                model.tokens.push((record.id().into(), value));
            }
        }
        Op::Rotate {
            who,
            target,
            grace_s,
        } => {
            let Some((user, token)) = actor_of(model, who) else {
                return Ok(());
            };
            let Some(target) = target_of(model, *target) else {
                return Ok(());
            };
            let before = model.store[&target].clone();
            let records = model.records_of(&user);
            let entropy = model.entropy();
            let outcome = {
                let actor = actor(&model.d, &user, token.as_ref(), now);
                model
                    .d
                    .lifecycle(actor, &records, now)
                    .rotate(&target, grace_s * 1000, &entropy)
                    .map(|m| (m.token.expose().to_string(), m.record, m.writes))
            };
            if let Ok((value, record, writes)) = outcome {
                prop_assert_eq!(
                    before.user_id(),
                    user.as_str(),
                    "rotated another user's token"
                );
                if let Some(actor) = &token {
                    prop_assert!(
                        within(&model.d, actor, &before),
                        "rotated a token out of reach"
                    );
                    prop_assert!(
                        within(&model.d, actor, &record),
                        "a rotated token exceeds the actor"
                    );
                }
                model.apply(&writes);
                model.tokens.push((record.id().into(), value));
                model.retired.insert(target);
            }
        }
        Op::Update {
            who,
            target,
            status,
            rename,
            cascade,
        } => {
            let Some((user, token)) = actor_of(model, who) else {
                return Ok(());
            };
            let Some(target) = target_of(model, *target) else {
                return Ok(());
            };
            let records = model.records_of(&user);
            let edit = Edit {
                name: rename.then_some("renamed"),
                description: None,
                status: status.map(|a| if a { Status::Active } else { Status::Inactive }),
            };
            let outcome = {
                let actor = actor(&model.d, &user, token.as_ref(), now);
                model
                    .d
                    .lifecycle(actor, &records, now)
                    .update(&target, &edit, *cascade)
            };
            if let Ok(change) = outcome {
                for write in &change.writes {
                    let before = &model.store[write.id()];
                    prop_assert_eq!(
                        before.user_id(),
                        user.as_str(),
                        "edited another user's token"
                    );
                    if let Some(actor) = &token {
                        let own_deactivation = before.id() == actor.id()
                            && edit.name.is_none()
                            && edit.status == Some(Status::Inactive);
                        prop_assert!(
                            own_deactivation || within(&model.d, actor, before),
                            "edited a token out of reach"
                        );
                    }
                    if edit.status == Some(Status::Active) && before.status() == Status::Inactive {
                        prop_assert!(!model.is_retiring(before), "re-activated a rotated token");
                    }
                }
                model.apply(&change.writes);
            }
        }
        Op::Delete {
            who,
            target,
            cascade,
        } => {
            let Some((user, token)) = actor_of(model, who) else {
                return Ok(());
            };
            let Some(target) = target_of(model, *target) else {
                return Ok(());
            };
            let records = model.records_of(&user);
            let descendants = model.descendants(&target);
            let outcome = {
                let actor = actor(&model.d, &user, token.as_ref(), now);
                model
                    .d
                    .lifecycle(actor, &records, now)
                    .delete(&target, *cascade)
            };
            if let Ok(change) = outcome {
                for write in &change.writes {
                    let before = &model.store[write.id()];
                    prop_assert_eq!(
                        before.user_id(),
                        user.as_str(),
                        "deleted another user's token"
                    );
                    if let Some(actor) = &token {
                        prop_assert!(
                            before.id() == actor.id() || within(&model.d, actor, before),
                            "deleted a token out of reach"
                        );
                    }
                }
                model.apply(&change.writes);
                let gone: Vec<String> = if *cascade { descendants } else { Vec::new() };
                for id in gone.iter().chain([&target]) {
                    prop_assert!(
                        !model.store.contains_key(id),
                        "a deleted token is still stored"
                    );
                    for (token_id, value) in &model.tokens {
                        if token_id == id {
                            prop_assert!(
                                model.lookup(value).is_none(),
                                "a deleted token still verifies"
                            );
                        }
                    }
                }
            }
        }
    }
    model.check_limits()
}

/// The actor for a user, or for a token's record (authenticated again:
/// `actor_of` already checked it is valid now).
fn actor<'a>(d: &Deployment, user: &'a str, token: Option<&'a TokenRecord>, now: i64) -> Actor<'a> {
    match token {
        None => Actor::user(user, Standing::OWNER),
        Some(record) => Actor::token(
            d.authenticate(record.hash(), Some(record), Standing::OWNER, None, now)
                .expect("valid actor"),
        ),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 384, ..ProptestConfig::default() })]

    #[test]
    fn no_actor_ever_escapes_its_reach(ops in prop::collection::vec(op(), 1..48)) {
        let mut model = Model::new();
        for op in &ops {
            step(&mut model, op)?;
        }
    }
}
