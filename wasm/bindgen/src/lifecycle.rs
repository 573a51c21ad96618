//! Lifecycle operations for JavaScript: the npm package hands over the
//! actor and the records of the actor's user, and gets back what to show
//! and the writes to apply. Every decision is the core's.

use std::rc::Rc;

use tessera_core::{
    Actor, CreateRequest, Edit, Expiry, Lifecycle, LifecycleError, Standing, Status, TokenRecord,
    Write, code,
};
use wasm_bindgen::JsValue;
use wasm_bindgen::prelude::wasm_bindgen;

use crate::deployment::{Deployment, entropy};
use crate::fail::{fail, millis};
use crate::index::RecordIndex;
use crate::json::{self, Json};
use crate::record::{List, Record, client_ip, scope_spec, take_list};

/// The records of one user, handed to a lifecycle operation.
#[wasm_bindgen]
#[derive(Default)]
pub struct RecordSet {
    records: Vec<Rc<TokenRecord>>,
}

#[wasm_bindgen]
impl RecordSet {
    /// An empty set.
    #[wasm_bindgen(constructor)]
    pub fn new() -> RecordSet {
        Self::default()
    }

    /// Adds a record (consumed: its JavaScript handle is freed).
    pub fn push(&mut self, record: Record) {
        self.records.push(Rc::new(record.inner));
    }
}

impl RecordSet {
    /// References to the records, as lifecycle operations read them.
    fn refs(&self) -> Vec<&TokenRecord> {
        self.records.iter().map(|r| &**r).collect()
    }
}

#[wasm_bindgen]
impl RecordIndex {
    /// The user's records as a set for a lifecycle operation: shared with
    /// the index inside the module, with no JSON, no copy and no crossing
    /// per record.
    pub fn user_set(&self, user_id: &str) -> RecordSet {
        RecordSet {
            records: self.user_shared(user_id),
        }
    }
}

fn failed(error: LifecycleError) -> JsValue {
    fail(error.code(), error)
}

/// The writes as JSON: `[{ "put": record } | { "delete": id }]`.
fn writes_json(writes: &[Write]) -> String {
    let items: Vec<String> = writes
        .iter()
        .map(|write| {
            let mut json = Json::new();
            json.open();
            match write {
                Write::Put(record) => json.key("put").raw(&json::record(record, true)),
                Write::Delete(id) => json.key("delete").string(id),
            };
            json.close();
            json.finish()
        })
        .collect();
    ["[", &items.join(","), "]"].concat()
}

/// What lists show of records, as a JSON array.
fn infos_json(records: &[&TokenRecord]) -> String {
    let items: Vec<String> = records.iter().map(|r| json::record(r, false)).collect();
    ["[", &items.join(","), "]"].concat()
}

/// An issue request, read from the flat arguments of [`Deployment::issue`]
/// and [`Deployment::issue_indexed`].
struct IssueInput {
    name: String,
    description: Option<String>,
    expires: Expiry,
    spec: tessera_core::ScopeSpec,
    allowed_ips: Vec<String>,
}

impl IssueInput {
    /// The request. `expiry` is `"never"`, `"days"` or `"at"`, with
    /// `expiry_value` the days or time (`None` with `"at"`: a year ahead);
    /// `BAD_REQUEST` for another kind. The scope's action and resource
    /// items come as one newline-joined string with each list's count
    /// (`-1` for an absent list), the allowed IP ranges as another; an
    /// item holding a newline makes the pieces disagree with the counts:
    /// `SCOPE_INVALID` (as an unknown preset is) or `IPS_INVALID`.
    #[allow(clippy::too_many_arguments)] // One argument per request field.
    fn read(
        name: String,
        description: Option<String>,
        expiry: &str,
        expiry_value: Option<f64>,
        scope_preset: Option<String>,
        scope_items: &str,
        scope_actions: i32,
        scope_resources: i32,
        allowed_ips: &str,
        allowed_ips_count: u32,
    ) -> Result<Self, JsValue> {
        let expires = match (expiry, expiry_value) {
            ("never", _) => Expiry::Never,
            ("days", Some(days)) => Expiry::Days(millis(days)),
            ("at", at) => Expiry::At(at.map(millis)),
            _ => return Err(fail(code::BAD_REQUEST, "expires is never, days or at")),
        };
        let scope_invalid = || fail(code::SCOPE_INVALID, "a preset is all, read or cli");
        let (actions, resources) = split_lists(scope_items, scope_actions, scope_resources)
            .ok_or_else(|| {
                fail(
                    code::SCOPE_INVALID,
                    "an action or resource pattern holds a newline",
                )
            })?;
        let spec =
            scope_spec(scope_preset.as_deref(), actions, resources).ok_or_else(scope_invalid)?;
        let allowed_ips = split_lists(
            allowed_ips,
            i32::try_from(allowed_ips_count).unwrap_or(-2),
            -1,
        )
        .and_then(|(ips, _)| ips)
        .ok_or_else(|| fail(code::IPS_INVALID, "an allowed IP range holds a newline"))?;
        Ok(Self {
            name,
            description,
            expires,
            spec,
            allowed_ips,
        })
    }
}

/// Two lists joined by newlines into one string, split by their counts
/// (see [`take_list`]; an empty text holds no piece when both lists are
/// empty or absent); `None` when the pieces do not match the counts.
fn split_lists(text: &str, first: i32, second: i32) -> Option<(List, List)> {
    let total = first.max(0).checked_add(second.max(0))?;
    if total == 0 && !text.is_empty() {
        return None;
    }
    let mut pieces = text.split('\n').skip(usize::from(total == 0));
    let lists = (
        take_list(&mut pieces, first)?,
        take_list(&mut pieces, second)?,
    );
    pieces.next().is_none().then_some(lists)
}

impl Deployment {
    /// Creates a token for the actor over the user's records `set`.
    #[allow(clippy::too_many_arguments)] // The actor's parts and the inputs.
    fn create(
        &self,
        records: &[&TokenRecord],
        user_id: &str,
        token_id: Option<String>,
        ip: Option<String>,
        request: &IssueInput,
        now: f64,
        entropy_bytes: &[u8],
    ) -> Result<tessera_core::Minted, JsValue> {
        let entropy = entropy(entropy_bytes)?;
        self.acting(records, user_id, token_id, ip, now, |life| {
            life.create(
                &CreateRequest {
                    name: &request.name,
                    description: request.description.as_deref(),
                    expires: request.expires,
                    scope: &request.spec,
                    allowed_ips: &request.allowed_ips,
                },
                &entropy,
            )
            .map_err(failed)
        })
    }

    /// Runs `operation` for the actor: the user `user_id`, or, with
    /// `token_id`, that token of theirs among `set` (a verified principal,
    /// checked again at `now`, from the client address `ip` it was
    /// verified from). An absent or no longer valid token is
    /// refused with its denial's code.
    fn acting<T>(
        &self,
        records: &[&TokenRecord],
        user_id: &str,
        token_id: Option<String>,
        ip: Option<String>,
        now: f64,
        operation: impl FnOnce(&Lifecycle<'_>) -> Result<T, JsValue>,
    ) -> Result<T, JsValue> {
        let now = millis(now);
        let ip = client_ip(ip.as_deref())
            .map_err(|code| fail(code, "the client address is not an IP address"))?;
        let actor = match token_id {
            None => Actor::user(user_id, Standing::OWNER),
            Some(token_id) => {
                let record = records
                    .iter()
                    .copied()
                    .find(|r| r.id() == token_id && r.user_id() == user_id)
                    .ok_or_else(|| fail(code::TOKEN_UNKNOWN, "the acting token is not known"))?;
                let token = self
                    .inner
                    .authenticate(record.hash(), Some(record), Standing::OWNER, ip, now)
                    .map_err(|e| fail(e.code(), e))?;
                Actor::token(token)
            }
        };
        operation(&self.inner.lifecycle_of(actor, records, now))
    }
}

#[wasm_bindgen]
impl Deployment {
    /// Creates a token for the actor. Returns JSON `{ token, record, writes }`.
    #[allow(clippy::too_many_arguments)] // Actor, target and inputs.
    pub fn issue(
        &self,
        set: &RecordSet,
        user_id: &str,
        token_id: Option<String>,
        ip: Option<String>,
        name: String,
        description: Option<String>,
        expiry: &str,
        expiry_value: Option<f64>,
        scope_preset: Option<String>,
        scope_items: &str,
        scope_actions: i32,
        scope_resources: i32,
        allowed_ips: &str,
        allowed_ips_count: u32,
        now: f64,
        entropy_bytes: &[u8],
    ) -> Result<String, JsValue> {
        let request = IssueInput::read(
            name,
            description,
            expiry,
            expiry_value,
            scope_preset,
            scope_items,
            scope_actions,
            scope_resources,
            allowed_ips,
            allowed_ips_count,
        )?;
        let minted = self.create(
            &set.refs(),
            user_id,
            token_id,
            ip,
            &request,
            now,
            entropy_bytes,
        )?;
        Ok(minted_json(&minted))
    }

    /// `issue` over the records of a `MemoryStore`, in one call: the user's
    /// records are read from `index` and the new record is stored there.
    /// Returns JSON `{ token, record, slot }`, `slot` being the new record's.
    #[allow(clippy::too_many_arguments)] // Actor, target and inputs.
    pub fn issue_indexed(
        &self,
        index: &mut RecordIndex,
        user_id: &str,
        token_id: Option<String>,
        ip: Option<String>,
        name: String,
        description: Option<String>,
        expiry: &str,
        expiry_value: Option<f64>,
        scope_preset: Option<String>,
        scope_items: &str,
        scope_actions: i32,
        scope_resources: i32,
        allowed_ips: &str,
        allowed_ips_count: u32,
        now: f64,
        entropy_bytes: &[u8],
    ) -> Result<String, JsValue> {
        let request = IssueInput::read(
            name,
            description,
            expiry,
            expiry_value,
            scope_preset,
            scope_items,
            scope_actions,
            scope_resources,
            allowed_ips,
            allowed_ips_count,
        )?;
        let set = index.user_set(user_id);
        let minted = self.create(
            &set.refs(),
            user_id,
            token_id,
            ip,
            &request,
            now,
            entropy_bytes,
        )?;
        let mut json = Json::new();
        json.open().key("token").string(minted.token.expose());
        json.key("record").record(&minted.record, false);
        // A creation writes the new record and nothing else; it moves into
        // the index.
        let Ok([Write::Put(record)]) = <[Write; 1]>::try_from(minted.writes) else {
            return Err(fail(
                code::INTERNAL,
                "a creation that is not one new record",
            ));
        };
        let slot = index.insert(record)?;
        json.key("slot").integer(i64::from(slot));
        json.close();
        Ok(json.finish())
    }

    /// Rotates the token `id`. Returns JSON `{ token, record, writes }`.
    #[allow(clippy::too_many_arguments)] // Actor, target and inputs.
    pub fn rotate(
        &self,
        set: &RecordSet,
        user_id: &str,
        token_id: Option<String>,
        ip: Option<String>,
        id: &str,
        grace_ms: f64,
        now: f64,
        entropy_bytes: &[u8],
    ) -> Result<String, JsValue> {
        let entropy = entropy(entropy_bytes)?;
        self.acting(&set.refs(), user_id, token_id, ip, now, |life| {
            let minted = life
                .rotate(id, millis(grace_ms), &entropy)
                .map_err(failed)?;
            Ok(minted_json(&minted))
        })
    }

    /// Edits the token `id`: a new name (when given), a new description
    /// (when `describe`; none or empty removes it), a new status
    /// (`"active"` or `"inactive"`). With `cascade`, a deactivation reaches
    /// every token it created. Returns JSON `{ record, writes }`.
    #[allow(clippy::too_many_arguments)] // Actor, target and each edit.
    pub fn update(
        &self,
        set: &RecordSet,
        user_id: &str,
        token_id: Option<String>,
        ip: Option<String>,
        id: &str,
        name: Option<String>,
        describe: bool,
        description: Option<String>,
        status: Option<String>,
        cascade: bool,
        now: f64,
    ) -> Result<String, JsValue> {
        let status = match status.as_deref() {
            None => None,
            Some("active") => Some(Status::Active),
            Some("inactive") => Some(Status::Inactive),
            Some(_) => return Err(fail(code::BAD_REQUEST, "status is active or inactive")),
        };
        let edit = Edit {
            name: name.as_deref(),
            description: describe.then_some(description.as_deref()),
            status,
        };
        self.acting(&set.refs(), user_id, token_id, ip, now, |life| {
            let change = life.update(id, &edit, cascade).map_err(failed)?;
            let record = change
                .record
                .as_ref()
                .ok_or_else(|| fail(code::INTERNAL, "an update without its record"))?;
            let mut json = Json::new();
            json.open().key("record").raw(&json::record(record, false));
            json.key("writes").raw(&writes_json(&change.writes));
            json.close();
            Ok(json.finish())
        })
    }

    /// Deletes the token `id` (with `cascade`, every token it created).
    /// Returns the writes as JSON.
    #[allow(clippy::too_many_arguments)] // Actor, target and inputs.
    pub fn delete(
        &self,
        set: &RecordSet,
        user_id: &str,
        token_id: Option<String>,
        ip: Option<String>,
        id: &str,
        cascade: bool,
        now: f64,
    ) -> Result<String, JsValue> {
        self.acting(&set.refs(), user_id, token_id, ip, now, |life| {
            let change = life.delete(id, cascade).map_err(failed)?;
            Ok(writes_json(&change.writes))
        })
    }

    /// What lists show of the actor's user's tokens, oldest first, as a JSON
    /// array; with `window_ms`, only those valid now that expire within it.
    pub fn list(
        &self,
        set: &RecordSet,
        user_id: &str,
        token_id: Option<String>,
        ip: Option<String>,
        window_ms: Option<f64>,
        now: f64,
    ) -> Result<String, JsValue> {
        self.acting(&set.refs(), user_id, token_id, ip, now, |life| {
            let records = match window_ms {
                None => life.list(),
                Some(window) => life.expiring_within(millis(window)),
            }
            .map_err(failed)?;
            Ok(infos_json(&records))
        })
    }

    /// What lists show of the token `id`, as JSON.
    pub fn get(
        &self,
        set: &RecordSet,
        user_id: &str,
        token_id: Option<String>,
        ip: Option<String>,
        id: &str,
        now: f64,
    ) -> Result<String, JsValue> {
        self.acting(&set.refs(), user_id, token_id, ip, now, |life| {
            Ok(json::record(life.get(id).map_err(failed)?, false))
        })
    }
}

/// `{ token, record, writes }` for a created or rotated token.
fn minted_json(minted: &tessera_core::Minted) -> String {
    let mut json = Json::new();
    json.open().key("token").string(minted.token.expose());
    json.key("record").raw(&json::record(&minted.record, false));
    json.key("writes").raw(&writes_json(&minted.writes));
    json.close();
    json.finish()
}

#[cfg(test)]
mod tests {
    use super::split_lists;

    fn strings(items: &[&str]) -> Option<Vec<String>> {
        Some(items.iter().map(|s| String::from(*s)).collect())
    }

    #[test]
    fn two_joined_lists_split_only_when_the_counts_agree() {
        assert_eq!(split_lists("", -1, -1), Some((None, None)));
        assert_eq!(split_lists("", 0, -1), Some((strings(&[]), None)));
        assert_eq!(split_lists("", 1, -1), Some((strings(&[""]), None)));
        assert_eq!(
            split_lists("a\nb\nc", 1, 2),
            Some((strings(&["a"]), strings(&["b", "c"])))
        );
        assert_eq!(
            split_lists("b\nc", -1, 2),
            Some((None, strings(&["b", "c"])))
        );
        assert_eq!(
            split_lists("a\nb", 2, 0),
            Some((strings(&["a", "b"]), strings(&[])))
        );
        // An item holding a newline adds a piece: refused.
        assert_eq!(split_lists("a\nb", 1, -1), None);
        assert_eq!(split_lists("a\nb", 1, 0), None);
        assert_eq!(split_lists("a", 0, -1), None);
        assert_eq!(split_lists("a", 2, -1), None);
        // Counts below -1 mean nothing: refused.
        assert_eq!(split_lists("", -2, -1), None);
        assert_eq!(split_lists("a", 1, -7), None);
        assert_eq!(split_lists("a", i32::MAX, i32::MAX), None);
    }
}
