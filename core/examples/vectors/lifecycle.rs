//! `tests/vectors/lifecycle.json`: the actor rule. Each case names an actor
//! (a user with their standing, or a token value), an operation and the
//! records of the file, and expects either the writes (in order) or a code.
//!
//! The fixture records are made through the lifecycle itself, a day before
//! `NOW`, so they are exactly what a store would hold.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use tessera_core::{
    Actor, CreateRequest, Deployment, DeploymentConfig, Edit, Enablement, Expiry, Issuer,
    LifecycleError, Minted, ScopeSpec, Standing, Status, TokenRecord, Write,
};

use crate::{DAY, NOW, base_catalog, entropy, hex};

/// The catalog of the lifecycle vectors: the base one and the actions that
/// let a token see and edit the user's tokens.
fn catalog() -> Value {
    let mut list = base_catalog().as_array().expect("catalog").clone();
    list.push(json!({ "action": "tokens.read", "kinds": ["read"] }));
    list.push(json!({ "action": "tokens.write", "kinds": [] }));
    Value::Array(list)
}

fn deployments() -> Value {
    let config = |policy: Value| json!({ "prefix": "tsr", "catalog": catalog(), "policy": policy });
    json!({
        "open": config(json!({})),
        "limited": config(json!({ "maxTokensPerUser": 3 })),
        "single": config(json!({ "maxTokensPerUser": 1 })),
    })
}

fn deployment(name: &str) -> Deployment {
    let config: DeploymentConfig =
        serde_json::from_value(deployments()[name].clone()).expect("config");
    config.build().expect("valid config")
}

/// The records every case sees, and the token value of each by label.
struct Fixture {
    records: Vec<TokenRecord>,
    tokens: BTreeMap<&'static str, String>,
    ids: BTreeMap<&'static str, String>,
}

impl Fixture {
    fn id(&self, label: &str) -> &str {
        &self.ids[label]
    }

    fn token(&self, label: &str) -> &str {
        &self.tokens[label]
    }

    fn record(&self, label: &str) -> &TokenRecord {
        self.records
            .iter()
            .find(|r| r.id() == self.id(label))
            .expect("fixture record")
    }

    fn apply(&mut self, writes: Vec<Write>) {
        for write in writes {
            match write {
                Write::Put(record) => {
                    self.records.retain(|r| r.id() != record.id());
                    self.records.push(record);
                }
                Write::Delete(id) => self.records.retain(|r| r.id() != id),
            }
        }
    }

    /// Creates a token by `by` (a user id, or the label of a token) at `at`.
    fn make(&mut self, label: &'static str, by: &str, scope: Value, expires: Expiry, at: i64) {
        self.make_within(label, by, scope, expires, at, &[]);
    }

    /// Creates a token usable only from the ranges `ips`; a parent token
    /// is presented from the first address of the first range.
    fn make_within(
        &mut self,
        label: &'static str,
        by: &str,
        scope: Value,
        expires: Expiry,
        at: i64,
        ips: &[&str],
    ) {
        let d = deployment("open");
        let spec: ScopeSpec = serde_json::from_value(scope).expect("scope");
        let records = self.records.clone();
        let parent = self.ids.get(by).map(|_| self.record(by).clone());
        let from = ips.first().map(|range| {
            let address = range.split('/').next().expect("an address");
            address.parse().expect("an address")
        });
        let actor = match &parent {
            None => Actor::user(by, Standing::OWNER),
            Some(record) => Actor::token(
                d.authenticate(record.hash(), Some(record), Standing::OWNER, from, at)
                    .expect("fixture parent is valid"),
            ),
        };
        let ips: Vec<String> = ips.iter().map(|ip| ip.to_string()).collect();
        let minted = d
            .lifecycle(actor, &records, at)
            .create(
                &CreateRequest {
                    name: label,
                    description: None,
                    expires,
                    scope: &spec,
                    allowed_ips: &ips,
                },
                &entropy(&format!("lifecycle-{label}")),
            )
            .expect("fixture token is created");
        self.tokens.insert(label, minted.token.expose().into());
        self.ids.insert(label, minted.record.id().into());
        self.apply(minted.writes);
    }
}

fn fixture() -> Fixture {
    let mut f = Fixture {
        records: Vec::new(),
        tokens: BTreeMap::new(),
        ids: BTreeMap::new(),
    };
    let t0 = NOW - DAY;
    let actions = |list: &[&str]| json!({ "actions": list });
    f.make("all", "ann", json!({"preset": "all"}), Expiry::Never, t0);
    f.make(
        "narrow",
        "ann",
        actions(&["tokens.read", "tokens.create"]),
        Expiry::Days(2),
        t0,
    );
    f.make(
        "read-never",
        "ann",
        actions(&["tokens.read"]),
        Expiry::Never,
        t0,
    );
    f.make(
        "writer",
        "ann",
        actions(&["tokens.write"]),
        Expiry::Never,
        t0,
    );
    f.make(
        "sleeper",
        "ann",
        json!({"preset": "all"}),
        Expiry::Never,
        t0,
    );
    f.make(
        "creator",
        "ann",
        actions(&["tokens.create", "tokens.write", "apps.read"]),
        Expiry::Days(30),
        t0,
    );
    f.make("self", "ann", actions(&["apps.read"]), Expiry::Days(30), t0);
    f.make("soon", "ann", actions(&["apps.read"]), Expiry::Days(2), t0);
    f.make(
        "old",
        "ann",
        json!({"preset": "read"}),
        Expiry::Days(30),
        t0,
    );
    f.make(
        "child",
        "creator",
        actions(&["tokens.create", "tokens.write", "apps.read"]),
        Expiry::Days(10),
        t0 + 1,
    );
    f.make(
        "grandchild",
        "child",
        actions(&["apps.read"]),
        Expiry::Days(5),
        t0 + 2,
    );
    f.make(
        "bob-all",
        "bob",
        json!({"preset": "all"}),
        Expiry::Never,
        t0,
    );
    for label in ["carol-1", "carol-2", "carol-3"] {
        f.make(label, "carol", actions(&["apps.read"]), Expiry::Never, t0);
    }
    f.make(
        "carol-expired",
        "carol",
        actions(&["apps.read"]),
        Expiry::At(Some(t0 + 1_000)),
        t0,
    );
    f.make(
        "dave-1",
        "dave",
        actions(&["apps.read"]),
        Expiry::Days(30),
        t0,
    );
    f.make(
        "orphan",
        "dave",
        actions(&["apps.read"]),
        Expiry::Days(30),
        t0,
    );

    // Ivy's gate may only be used from 10.0.0.0/8; its child from a part
    // of that; her open token from anywhere.
    f.make_within(
        "ivy-gate",
        "ivy",
        json!({"preset": "all"}),
        Expiry::Never,
        t0,
        &["10.0.0.0/8"],
    );
    f.make_within(
        "ivy-child",
        "ivy-gate",
        json!({"preset": "all"}),
        Expiry::Days(10),
        t0 + 1,
        &["10.1.0.0/16"],
    );
    f.make(
        "ivy-open",
        "ivy",
        json!({"preset": "all"}),
        Expiry::Never,
        t0,
    );

    // The sleeper is deactivated by its owner.
    let d = deployment("open");
    let records = f.records.clone();
    let change = d
        .lifecycle(Actor::user("ann", Standing::OWNER), &records, t0 + 10)
        .update(
            f.id("sleeper"),
            &Edit {
                status: Some(Status::Inactive),
                ..Edit::default()
            },
            false,
        )
        .expect("deactivates");
    f.apply(change.writes);
    // "old" is rotated an hour ago with two hours of grace, then deactivated:
    // it is in its grace period at NOW.
    let records = f.records.clone();
    let at = NOW - 3_600_000;
    let minted = d
        .lifecycle(Actor::user("ann", Standing::OWNER), &records, at)
        .rotate(f.id("old"), 2 * 3_600_000, &entropy("lifecycle-old-next"))
        .expect("rotates");
    f.tokens.insert("old-next", minted.token.expose().into());
    f.ids.insert("old-next", minted.record.id().into());
    f.apply(minted.writes);
    let records = f.records.clone();
    let change = d
        .lifecycle(Actor::user("ann", Standing::OWNER), &records, at + 1)
        .update(
            f.id("old"),
            &Edit {
                status: Some(Status::Inactive),
                ..Edit::default()
            },
            false,
        )
        .expect("deactivates");
    f.apply(change.writes);
    // "orphan" is rotated an hour ago with two hours of grace, and then its
    // successor is deleted: it is still in its grace period, still replaced,
    // and must not count against dave's limit of one.
    let records = f.records.clone();
    let minted = d
        .lifecycle(Actor::user("dave", Standing::OWNER), &records, at)
        .rotate(
            f.id("orphan"),
            2 * 3_600_000,
            &entropy("lifecycle-orphan-next"),
        )
        .expect("rotates");
    let successor = minted.record.id().to_string();
    f.apply(minted.writes);
    let records = f.records.clone();
    let change = d
        .lifecycle(Actor::user("dave", Standing::OWNER), &records, at + 1)
        .delete(&successor, false)
        .expect("deletes");
    f.apply(change.writes);
    f.records.sort_by(|a, b| {
        (a.user_id(), a.created_at(), a.id()).cmp(&(b.user_id(), b.created_at(), b.id()))
    });
    f
}

/// Who acts in a case.
#[derive(Clone, Copy)]
enum Who<'a> {
    /// A user with this standing.
    User(&'a str, Standing),
    /// The token with this label, whose user has this standing, presented
    /// from this client address (`None` when unknown).
    Token(&'a str, Standing, Option<&'a str>),
    /// An administrator (by name, with their standing) acting on another
    /// user's tokens.
    Administrator(&'a str, Standing, &'a str),
    /// An issuer creating a token for a user (by name, with their standing
    /// or `None` for no such user), when the deployment allows it or not.
    Issuer(Issuer<'a>, &'a str, Option<Standing>, bool),
}

/// A standing as the vectors write it.
fn standing_json(standing: Standing) -> Value {
    json!({
        "admin": standing.admin,
        "tokens": standing.tokens.as_str(),
        "membersEnabled": standing.members_enabled,
    })
}

/// One operation, in the vectors' JSON and as the core runs it.
enum Op<'a> {
    Create {
        name: &'a str,
        expires: Value,
        scope: Value,
        /// The allowed IP ranges asked for; none for anywhere.
        ips: &'a [&'a str],
    },
    Rotate(&'a str, i64),
    Update(&'a str, Value, bool),
    Delete(&'a str, bool),
    DeactivateAll,
    List,
    Get(&'a str),
    Expiring(i64),
}

struct Case<'a> {
    name: &'a str,
    deployment: &'a str,
    who: Who<'a>,
    op: Op<'a>,
    /// The code the case must produce, or `None` for success.
    expect: Option<&'a str>,
}

fn expiry(value: &Value) -> Expiry {
    serde_json::from_value(value.clone()).expect("expiry")
}

fn edit(value: &Value) -> Edit<'_> {
    Edit {
        name: value.get("name").and_then(Value::as_str),
        description: value.get("description").map(Value::as_str),
        status: value
            .get("status")
            .map(|s| serde_json::from_value(s.clone()).expect("status")),
    }
}

fn writes_json(writes: &[Write]) -> Value {
    writes
        .iter()
        .map(|w| match w {
            Write::Put(record) => json!({ "put": record }),
            Write::Delete(id) => json!({ "delete": id }),
        })
        .collect()
}

fn ids(records: &[&TokenRecord]) -> Value {
    records.iter().map(|r| r.id()).collect()
}

/// Runs a case through the core: the JSON of the actor and the operation,
/// and the outcome (a value, or a stable code). A token actor the core
/// refuses to authenticate (its user's tokens disabled) is the outcome.
fn run(f: &Fixture, case: &Case<'_>, label: &str) -> (Value, Value, Result<Value, &'static str>) {
    let d = deployment(case.deployment);
    let (actor_json, actor) = match case.who {
        Who::User(user, standing) => {
            let mut json = json!({ "kind": "user", "userId": user });
            json["standing"] = standing_json(standing);
            (json, Ok(Actor::user(user, standing)))
        }
        Who::Token(token, standing, ip) => {
            let presented = d.parse(f.token(token)).expect("fixture token parses");
            let hash = d.hash(&presented);
            let record = f.records.iter().find(|r| r.hash() == &hash);
            let mut json = json!({ "kind": "token", "token": f.token(token) });
            json["standing"] = standing_json(standing);
            if let Some(ip) = ip {
                json["ip"] = json!(ip);
            }
            let ip = ip.map(|ip| ip.parse().expect("an address"));
            let actor = d
                .authenticate(&hash, record, standing, ip, NOW)
                .map(Actor::token)
                .map_err(|denial| denial.code());
            (json, actor)
        }
        Who::Administrator(admin, standing, user) => {
            let mut json = json!({ "kind": "administrator", "adminId": admin, "userId": user });
            json["standing"] = standing_json(standing);
            (json, Ok(Actor::administrator(admin, standing, user)))
        }
        Who::Issuer(issuer, user, owner, allowed) => {
            let by = match issuer {
                Issuer::Administrator { admin_id, standing } => {
                    json!({ "administrator": { "adminId": admin_id, "standing": standing_json(standing) } })
                }
                Issuer::ServiceKey { key_id } => json!({ "serviceKey": key_id }),
            };
            let json = json!({
                "kind": "issuer",
                "issuer": by,
                "userId": user,
                "owner": owner.map(standing_json),
                "allowed": allowed,
            });
            (json, Ok(Actor::issuer(issuer, user, owner, allowed)))
        }
    };
    let actor = match actor {
        Ok(actor) => actor,
        Err(code) => return (actor_json, operation_json(case, label, f), Err(code)),
    };
    let user = actor.user_id();
    let records: Vec<TokenRecord> = f
        .records
        .iter()
        .filter(|r| r.user_id() == user)
        .cloned()
        .collect();
    let life = d.lifecycle(actor, &records, NOW);
    let seed = entropy(&format!("lifecycle-case-{label}"));
    let id = |label: &str| f.ids.get(label).map_or(label.to_string(), Clone::clone);
    let minted = |m: Minted| json!({ "token": m.token.expose(), "writes": writes_json(&m.writes) });
    let outcome = match &case.op {
        Op::Create {
            name,
            expires,
            scope,
            ips,
        } => {
            let spec: ScopeSpec = serde_json::from_value(scope.clone()).expect("scope");
            let ips: Vec<String> = ips.iter().map(|ip| ip.to_string()).collect();
            let request = CreateRequest {
                name,
                description: None,
                expires: expiry(expires),
                scope: &spec,
                allowed_ips: &ips,
            };
            life.create(&request, &seed).map(minted)
        }
        Op::Rotate(target, grace_ms) => life.rotate(&id(target), *grace_ms, &seed).map(minted),
        Op::Update(target, changes, cascade) => life
            .update(&id(target), &edit(changes), *cascade)
            .map(|c| json!({ "writes": writes_json(&c.writes) })),
        Op::Delete(target, cascade) => life
            .delete(&id(target), *cascade)
            .map(|c| json!({ "writes": writes_json(&c.writes) })),
        Op::DeactivateAll => life
            .deactivate_all()
            .map(|c| json!({ "writes": writes_json(&c.writes) })),
        Op::List => life.list().map(|r| json!({ "ids": ids(&r) })),
        Op::Get(target) => life.get(&id(target)).map(|r| json!({ "ids": [r.id()] })),
        Op::Expiring(window_ms) => life
            .expiring_within(*window_ms)
            .map(|r| json!({ "ids": ids(&r) })),
    };
    (
        actor_json,
        operation_json(case, label, f),
        outcome.map_err(|e: LifecycleError| e.code()),
    )
}

/// A case's operation as the vectors write it.
fn operation_json(case: &Case<'_>, label: &str, f: &Fixture) -> Value {
    let seed = entropy(&format!("lifecycle-case-{label}"));
    let id = |label: &str| f.ids.get(label).map_or(label.to_string(), Clone::clone);
    match &case.op {
        Op::Create {
            name,
            expires,
            scope,
            ips,
        } => {
            let mut request = json!({ "name": name, "expires": expires, "scope": scope });
            if !ips.is_empty() {
                request["allowedIps"] = json!(ips);
            }
            json!({ "op": "create", "request": request, "entropy": hex(&seed) })
        }
        Op::Rotate(target, grace_ms) => {
            json!({ "op": "rotate", "id": id(target), "graceMs": grace_ms, "entropy": hex(&seed) })
        }
        Op::Update(target, changes, cascade) => {
            json!({ "op": "update", "id": id(target), "edit": changes, "cascade": cascade })
        }
        Op::Delete(target, cascade) => {
            json!({ "op": "delete", "id": id(target), "cascade": cascade })
        }
        Op::DeactivateAll => json!({ "op": "deactivateAll" }),
        Op::List => json!({ "op": "list" }),
        Op::Get(target) => json!({ "op": "get", "id": id(target) }),
        Op::Expiring(window_ms) => json!({ "op": "expiringWithin", "windowMs": window_ms }),
    }
}

fn cases() -> Vec<Case<'static>> {
    let standing = |admin, tokens, members_enabled| Standing {
        admin,
        tokens,
        members_enabled,
    };
    let owner = |user| Who::User(user, Standing::OWNER);
    let member = |user| Who::User(user, standing(false, Enablement::Inherit, false));
    let admin = |user| Who::User(user, standing(true, Enablement::Off, false));
    let token = |label| Who::Token(label, Standing::OWNER, None);
    let token_from = |label, ip| Who::Token(label, Standing::OWNER, Some(ip));
    let member_on = |user| Who::User(user, standing(false, Enablement::On, false));
    let console =
        |user| Who::Administrator("root", standing(true, Enablement::Inherit, false), user);
    let root = Issuer::Administrator {
        admin_id: "root",
        standing: standing(true, Enablement::Inherit, false),
    };
    let issuing = |issuer, owner, allowed| Who::Issuer(issuer, "dave", owner, allowed);
    let planted = || Op::Create {
        name: "for you",
        expires: json!({ "days": 30 }),
        scope: json!({ "preset": "read" }),
        ips: &[],
    };
    let active = json!({ "status": "active" });
    let inactive = json!({ "status": "inactive" });
    let case = |name, deployment, who, op, expect| Case {
        name,
        deployment,
        who,
        op,
        expect,
    };
    vec![
        // Rotation by a narrow token: the reproduction.
        case(
            "a narrow token may not rotate an all-scope token",
            "open",
            token("narrow"),
            Op::Rotate("all", 0),
            Some("SCOPE_EXCEEDS_PARENT"),
        ),
        case(
            "a narrow token may not rotate a token that outlives it",
            "open",
            token("narrow"),
            Op::Rotate("read-never", 0),
            Some("EXPIRY_EXCEEDS_PARENT"),
        ),
        case(
            "a token may rotate itself; the new one expires with it",
            "open",
            token("narrow"),
            Op::Rotate("narrow", 60_000),
            None,
        ),
        case(
            "rotating needs the creation action",
            "open",
            token("writer"),
            Op::Rotate("writer", 0),
            Some("PARENT_INVALID"),
        ),
        case(
            "a member who may not create tokens may not rotate",
            "open",
            member("ann"),
            Op::Rotate("self", 0),
            Some("FORBIDDEN"),
        ),
        case(
            "a token of such a member is refused before it acts",
            "open",
            Who::Token("narrow", standing(false, Enablement::Inherit, false), None),
            Op::Rotate("narrow", 0),
            Some("TOKENS_DISABLED"),
        ),
        case(
            "a token of a member switched off may not even list",
            "open",
            Who::Token("narrow", standing(false, Enablement::Off, true), None),
            Op::List,
            Some("TOKENS_DISABLED"),
        ),
        case(
            "a member switched on creates where the default is off",
            "open",
            member_on("ann"),
            Op::Create {
                name: "ci",
                expires: json!({ "days": 30 }),
                scope: json!({ "preset": "read" }),
                ips: &[],
            },
            None,
        ),
        case(
            "a member switched off may not create where the default is on",
            "open",
            Who::User("ann", standing(false, Enablement::Off, true)),
            Op::Create {
                name: "ci",
                expires: json!({ "days": 30 }),
                scope: json!({ "preset": "read" }),
                ips: &[],
            },
            Some("FORBIDDEN"),
        ),
        case(
            "a member switched off still sees and deletes their tokens",
            "open",
            Who::User("ann", standing(false, Enablement::Off, true)),
            Op::Delete("narrow", false),
            None,
        ),
        // An administrator's console: another user's tokens.
        case(
            "an administrator lists another user's tokens",
            "open",
            console("dave"),
            Op::List,
            None,
        ),
        case(
            "an administrator deactivates another user's token, and what it made",
            "open",
            console("ann"),
            Op::Update("writer", json!({ "status": "inactive" }), true),
            None,
        ),
        case(
            "an administrator re-activates another user's token",
            "open",
            console("ann"),
            Op::Update("sleeper", json!({ "status": "active" }), false),
            None,
        ),
        case(
            "an administrator deletes another user's token",
            "open",
            console("dave"),
            Op::Delete("orphan", false),
            None,
        ),
        case(
            "an administrator deactivates all of a user's tokens at once",
            "open",
            console("ann"),
            Op::DeactivateAll,
            None,
        ),
        case(
            "an administrator may not rename another user's token",
            "open",
            console("dave"),
            Op::Update("dave-1", json!({ "name": "mine now" }), false),
            Some("FORBIDDEN"),
        ),
        case(
            "an administrator may not rotate another user's token",
            "open",
            console("dave"),
            Op::Rotate("dave-1", 0),
            Some("FORBIDDEN"),
        ),
        case(
            "an administrator may not create a token for another user",
            "open",
            console("dave"),
            Op::Create {
                name: "planted",
                expires: json!({ "days": 30 }),
                scope: json!({ "preset": "all" }),
                ips: &[],
            },
            Some("FORBIDDEN"),
        ),
        case(
            "an administrator's reach is the named user: another user's token is not found",
            "open",
            console("dave"),
            Op::Delete("all", false),
            Some("NOT_FOUND"),
        ),
        case(
            "a member is no administrator, even with their tokens enabled",
            "open",
            Who::Administrator("bob", Standing::OWNER, "dave"),
            Op::List,
            Some("FORBIDDEN"),
        ),
        case(
            "nor may a member delete through the console",
            "open",
            Who::Administrator("bob", Standing::OWNER, "dave"),
            Op::Delete("orphan", false),
            Some("FORBIDDEN"),
        ),
        case(
            "a user deactivates all of their own tokens at once",
            "open",
            owner("dave"),
            Op::DeactivateAll,
            None,
        ),
        case(
            "a token may not deactivate all of its user's tokens",
            "open",
            token("all"),
            Op::DeactivateAll,
            Some("FORBIDDEN"),
        ),
        case(
            "an administrator's tokens work whatever their own setting",
            "open",
            Who::Token("narrow", standing(true, Enablement::Off, false), None),
            Op::List,
            None,
        ),
        case(
            "an administrator rotates",
            "open",
            admin("ann"),
            Op::Rotate("self", 0),
            None,
        ),
        case(
            "a token in its grace period cannot be rotated again",
            "open",
            owner("ann"),
            Op::Rotate("old", 0),
            Some("TOKEN_ROTATED"),
        ),
        case(
            "nor re-activated",
            "open",
            owner("ann"),
            Op::Update("old", active.clone(), false),
            Some("TOKEN_ROTATED"),
        ),
        case(
            "its successor rotates",
            "open",
            owner("ann"),
            Op::Rotate("old-next", 0),
            None,
        ),
        case(
            "rotation counts against the limit like a creation, but a user at the limit can rotate",
            "limited",
            owner("carol"),
            Op::Rotate("carol-1", 3_600_000),
            None,
        ),
        case(
            "a user at the limit cannot create",
            "limited",
            owner("carol"),
            Op::Create {
                name: "more",
                expires: json!("never"),
                scope: json!({"actions": ["apps.read"]}),
                ips: &[],
            },
            Some("LIMIT_REACHED"),
        ),
        case(
            "deleting its successor never makes a rotated token rotatable again",
            "open",
            owner("dave"),
            Op::Rotate("orphan", 0),
            Some("TOKEN_ROTATED"),
        ),
        case(
            "with a limit of one, rotation works",
            "single",
            owner("dave"),
            Op::Rotate("dave-1", 0),
            None,
        ),
        case(
            "with a limit of one, a second token is refused",
            "single",
            owner("dave"),
            Op::Create {
                name: "two",
                expires: json!("never"),
                scope: json!({"actions": ["apps.read"]}),
                ips: &[],
            },
            Some("LIMIT_REACHED"),
        ),
        // Updates.
        case(
            "a write token may not re-activate an all-scope token",
            "open",
            token("writer"),
            Op::Update("sleeper", active.clone(), false),
            Some("SCOPE_EXCEEDS_PARENT"),
        ),
        case(
            "the owner re-activates it",
            "open",
            owner("ann"),
            Op::Update("sleeper", active.clone(), false),
            None,
        ),
        case(
            "a token edits a token within its reach",
            "open",
            token("creator"),
            Op::Update(
                "child",
                json!({ "name": "renamed", "status": "inactive" }),
                false,
            ),
            None,
        ),
        case(
            "a child may not edit its parent, which outlives it",
            "open",
            token("child"),
            Op::Update("creator", inactive.clone(), false),
            Some("EXPIRY_EXCEEDS_PARENT"),
        ),
        case(
            "editing needs the write action",
            "open",
            token("narrow"),
            Op::Update("narrow", json!({ "name": "mine" }), false),
            Some("SCOPE_DENIED"),
        ),
        case(
            "a token may always deactivate itself",
            "open",
            token("self"),
            Op::Update("self", inactive.clone(), false),
            None,
        ),
        case(
            "but not rename itself without the write action",
            "open",
            token("self"),
            Op::Update("self", json!({ "name": "x" }), false),
            Some("SCOPE_DENIED"),
        ),
        case(
            "deactivation cascades on request",
            "open",
            owner("ann"),
            Op::Update("creator", inactive.clone(), true),
            None,
        ),
        case(
            "a token deactivating itself with cascade",
            "open",
            token("child"),
            Op::Update("child", inactive.clone(), true),
            None,
        ),
        case(
            "re-activation never cascades",
            "open",
            owner("ann"),
            Op::Update("creator", active.clone(), true),
            None,
        ),
        case(
            "names refuse format characters",
            "open",
            owner("ann"),
            Op::Update("self", json!({ "name": "ci\u{200b}prod" }), false),
            Some("NAME_INVALID"),
        ),
        case(
            "names refuse bidi overrides",
            "open",
            owner("ann"),
            Op::Create {
                name: "x\u{202e}y",
                expires: json!("never"),
                scope: json!({"preset": "read"}),
                ips: &[],
            },
            Some("NAME_INVALID"),
        ),
        // Deletion.
        case(
            "deletion without cascade removes one token",
            "open",
            owner("ann"),
            Op::Delete("creator", false),
            None,
        ),
        case(
            "deletion with cascade removes every descendant",
            "open",
            owner("ann"),
            Op::Delete("creator", true),
            None,
        ),
        case(
            "a token may always delete itself",
            "open",
            token("self"),
            Op::Delete("self", false),
            None,
        ),
        case(
            "a write token may not delete an all-scope token",
            "open",
            token("writer"),
            Op::Delete("all", false),
            Some("SCOPE_EXCEEDS_PARENT"),
        ),
        case(
            "a token deletes within its reach, with cascade",
            "open",
            token("creator"),
            Op::Delete("child", true),
            None,
        ),
        case(
            "deleting needs the write action",
            "open",
            token("narrow"),
            Op::Delete("read-never", false),
            Some("SCOPE_DENIED"),
        ),
        // Network allowlists: a restricted token acts only from its
        // ranges, and only on tokens within them.
        case(
            "a restricted token lists from inside its ranges",
            "open",
            token_from("ivy-gate", "10.1.2.3"),
            Op::List,
            None,
        ),
        case(
            "a restricted token is refused from outside its ranges",
            "open",
            token_from("ivy-gate", "192.0.2.1"),
            Op::List,
            Some("IP_DENIED"),
        ),
        case(
            "a restricted token is refused from an unknown address",
            "open",
            token("ivy-gate"),
            Op::List,
            Some("IP_DENIED"),
        ),
        case(
            "a restricted token may not delete itself from outside",
            "open",
            token_from("ivy-gate", "192.0.2.1"),
            Op::Delete("ivy-gate", false),
            Some("IP_DENIED"),
        ),
        case(
            "a restricted token creates within its ranges",
            "open",
            token_from("ivy-gate", "10.1.2.3"),
            Op::Create {
                name: "narrower",
                expires: json!({ "days": 5 }),
                scope: json!({ "preset": "read" }),
                ips: &["10.2.0.0/16", "10.2.3.0/24"],
            },
            None,
        ),
        case(
            "a restricted token may not create a token usable anywhere",
            "open",
            token_from("ivy-gate", "10.1.2.3"),
            Op::Create {
                name: "anywhere",
                expires: json!({ "days": 5 }),
                scope: json!({ "preset": "read" }),
                ips: &[],
            },
            Some("IPS_EXCEED_PARENT"),
        ),
        case(
            "a restricted token may not delete a token usable anywhere",
            "open",
            token_from("ivy-gate", "::ffff:10.1.2.3"),
            Op::Delete("ivy-open", false),
            Some("IPS_EXCEED_PARENT"),
        ),
        case(
            "a restricted token rotates its child, whose ranges carry over",
            "open",
            token_from("ivy-gate", "10.1.2.3"),
            Op::Rotate("ivy-child", 0),
            None,
        ),
        case(
            "a user creates a token with allowed IP ranges",
            "open",
            owner("ivy"),
            Op::Create {
                name: "office",
                expires: json!({ "days": 30 }),
                scope: json!({ "preset": "read" }),
                ips: &["2001:db8::/32", "10.0.0.0/8", "10.9.0.0/16"],
            },
            None,
        ),
        case(
            "a malformed allowed IP range",
            "open",
            owner("ivy"),
            Op::Create {
                name: "office",
                expires: json!({ "days": 30 }),
                scope: json!({ "preset": "read" }),
                ips: &["10.0.0.0/33"],
            },
            Some("IPS_INVALID"),
        ),
        // Ownership and reads.
        case(
            "another user's token is not found",
            "open",
            owner("bob"),
            Op::Get("all"),
            Some("NOT_FOUND"),
        ),
        case(
            "another user's token cannot be rotated",
            "open",
            token("bob-all"),
            Op::Rotate("all", 0),
            Some("NOT_FOUND"),
        ),
        case(
            "another user's token cannot be deleted",
            "open",
            owner("bob"),
            Op::Delete("all", true),
            Some("NOT_FOUND"),
        ),
        case(
            "an unknown id is not found",
            "open",
            owner("ann"),
            Op::Update("ffffffffffffffffffffffffffffffff", inactive.clone(), false),
            Some("NOT_FOUND"),
        ),
        case(
            "the owner lists their tokens, oldest first",
            "open",
            owner("carol"),
            Op::List,
            None,
        ),
        case(
            "a token with the read action sees any of the user's tokens",
            "open",
            token("narrow"),
            Op::Get("all"),
            None,
        ),
        case(
            "listing needs the read action",
            "open",
            token("self"),
            Op::List,
            Some("SCOPE_DENIED"),
        ),
        case(
            "expiring within two days",
            "open",
            owner("ann"),
            Op::Expiring(2 * DAY),
            None,
        ),
        // Creation.
        case(
            "a member who may not create tokens is refused",
            "open",
            member("ann"),
            Op::Create {
                name: "x",
                expires: json!("never"),
                scope: json!({"preset": "read"}),
                ips: &[],
            },
            Some("FORBIDDEN"),
        ),
        case(
            "a token creates within itself",
            "open",
            token("narrow"),
            Op::Create {
                name: "x",
                expires: json!({"at": null}),
                scope: json!({"actions": ["tokens.read"]}),
                ips: &[],
            },
            None,
        ),
        case(
            "a token may not create beyond itself",
            "open",
            token("narrow"),
            Op::Create {
                name: "x",
                expires: json!({"days": 1}),
                scope: json!({"preset": "all"}),
                ips: &[],
            },
            Some("SCOPE_EXCEEDS_PARENT"),
        ),
        case(
            "a token without the creation action may not create",
            "open",
            token("self"),
            Op::Create {
                name: "x",
                expires: json!({"days": 1}),
                scope: json!({"actions": ["apps.read"]}),
                ips: &[],
            },
            Some("PARENT_INVALID"),
        ),
        case(
            "an expiry past the year 9999 is invalid",
            "open",
            owner("ann"),
            Op::Create {
                name: "x",
                expires: json!({"days": 100_000_000}),
                scope: json!({"preset": "read"}),
                ips: &[],
            },
            Some("EXPIRY_INVALID"),
        ),
        // Issuing a token for a user (Workbench's user tokens).
        case(
            "an administrator issues a token for a user, and the record names them",
            "open",
            issuing(root, Some(standing(false, Enablement::On, false)), true),
            planted(),
            None,
        ),
        case(
            "a service key issues a token for a user, and the record names it",
            "open",
            Who::Issuer(
                Issuer::ServiceKey {
                    key_id: "workbench",
                },
                "ann",
                Some(standing(false, Enablement::Inherit, true)),
                true,
            ),
            planted(),
            None,
        ),
        case(
            "nobody issues tokens for users unless the deployment allows it",
            "open",
            issuing(root, Some(Standing::OWNER), false),
            planted(),
            Some("FORBIDDEN"),
        ),
        case(
            "a member is no issuer",
            "open",
            issuing(
                Issuer::Administrator {
                    admin_id: "bob",
                    standing: Standing::OWNER,
                },
                Some(Standing::OWNER),
                true,
            ),
            planted(),
            Some("FORBIDDEN"),
        ),
        case(
            "a token is issued only for a user the host has",
            "open",
            issuing(root, None, true),
            planted(),
            Some("NOT_FOUND"),
        ),
        case(
            "no token is issued for a user whose tokens are disabled",
            "open",
            issuing(root, Some(standing(false, Enablement::Off, true)), true),
            planted(),
            Some("FORBIDDEN"),
        ),
        case(
            "the policy's limit holds for tokens issued for a user",
            "limited",
            Who::Issuer(root, "carol", Some(Standing::OWNER), true),
            planted(),
            Some("LIMIT_REACHED"),
        ),
        case(
            "an issuer may not list the user's tokens",
            "open",
            issuing(root, Some(Standing::OWNER), true),
            Op::List,
            Some("FORBIDDEN"),
        ),
        case(
            "an issuer may not delete the user's tokens",
            "open",
            issuing(root, Some(Standing::OWNER), true),
            Op::Delete("dave-1", false),
            Some("FORBIDDEN"),
        ),
        case(
            "an issuer may not rotate the user's tokens",
            "open",
            issuing(root, Some(Standing::OWNER), true),
            Op::Rotate("dave-1", 0),
            Some("FORBIDDEN"),
        ),
    ]
}

pub(crate) fn vectors() -> Value {
    let f = fixture();
    let cases: Vec<Value> = cases()
        .iter()
        .enumerate()
        .map(|(i, case)| {
            let (actor, operation, outcome) = run(&f, case, &i.to_string());
            let expect = match (case.expect, outcome) {
                (None, Ok(value)) => value,
                (Some(code), Err(got)) if got == code => json!({ "error": code }),
                (wanted, got) => panic!(
                    "lifecycle case {:?}: wanted {wanted:?}, the core gave {got:?}",
                    case.name
                ),
            };
            json!({
                "name": case.name,
                "deployment": case.deployment,
                "actor": actor,
                "operation": operation,
                "expect": expect,
            })
        })
        .collect();
    json!({
        "description": "The actor rule: who may do what to which token. Each case runs one operation by `actor` at `now` over `records` (an adapter hands the core the records of the actor's user) and expects the writes, in order, to apply in one transaction, or an error code. A token actor is given by its value. `standing` is the acting user's (for a token, its owner's, as a store lookup returns it): whether they administer the deployment, their own token setting (`inherit`, `on`, `off`) and the deployment's default for members; a token whose user's tokens are not enabled is refused as it authenticates (`TOKENS_DISABLED`).",
        "now": NOW,
        "deployments": deployments(),
        "records": f.records,
        "cases": cases,
    })
}
