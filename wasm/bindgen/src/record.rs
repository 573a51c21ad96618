//! A stored record as a JavaScript object: built from its fields, edited
//! through the core, and written out as JSON.

use tessera_core::{
    AllowedIps, CreatedBy, Preset, RecordParts, Scope, ScopeSpec, Status, TokenHash, TokenRecord,
    VerificationParts, code,
};
use wasm_bindgen::JsValue;
use wasm_bindgen::prelude::wasm_bindgen;

use crate::fail::{fail, millis};
use crate::json;

/// A client address from JavaScript; one that is not an IP address is
/// `BAD_REQUEST`, never taken for an unknown address.
pub(crate) fn client_ip(ip: Option<&str>) -> Result<Option<core::net::IpAddr>, &'static str> {
    ip.map(|text| tessera_core::parse_ip(text).ok_or(code::BAD_REQUEST))
        .transpose()
}

/// A preset by its JSON name.
pub(crate) fn preset(name: &str) -> Option<Preset> {
    [Preset::All, Preset::Read, Preset::Cli]
        .into_iter()
        .find(|p| p.as_str() == name)
}

/// A scope specification from its three JSON members; an unknown preset
/// name is `None`.
pub(crate) fn scope_spec(
    preset_name: Option<&str>,
    actions: Option<Vec<String>>,
    resources: Option<Vec<String>>,
) -> Option<ScopeSpec> {
    let preset = match preset_name {
        Some(name) => Some(preset(name)?),
        None => None,
    };
    Some(ScopeSpec {
        preset,
        actions,
        resources,
    })
}

/// The members of a stored record that the core parses, as the TypeScript
/// layer passes them: one string of newline-separated items (the hash, the
/// status, the preset if there is one, then the scope's actions and
/// resources and the allowed IP ranges), with how many items each list has
/// (`-1` for an absent scope list). One string crosses into the module
/// instead of one value per member and item. An item that holds a newline
/// splits in two, so the pieces outnumber the counts and the record is
/// refused rather than read as other items.
#[derive(Clone, Copy)]
pub(crate) struct Joined<'a> {
    pub(crate) text: &'a str,
    pub(crate) preset: bool,
    pub(crate) actions: i32,
    pub(crate) resources: i32,
    pub(crate) allowed_ips: u32,
}

/// A list that may be absent.
pub(crate) type List = Option<Vec<String>>;

/// Takes the next `count` newline-separated pieces as a list: `Some(None)`
/// for a count of `-1` (the list is absent), `None` when fewer pieces are
/// left or the count is below `-1`. Readers of joined text end by checking
/// that no piece is left, so an item that held a newline is refused.
pub(crate) fn take_list<'a>(
    pieces: &mut impl Iterator<Item = &'a str>,
    count: i32,
) -> Option<List> {
    if count == -1 {
        return Some(None);
    }
    let count = usize::try_from(count).ok()?;
    let items: Vec<String> = pieces.by_ref().take(count).map(String::from).collect();
    (items.len() == count).then_some(Some(items))
}

/// The members [`Joined`] carries, split and counted.
struct Split<'a> {
    hash: &'a str,
    status: &'a str,
    preset: Option<&'a str>,
    actions: Option<Vec<String>>,
    resources: Option<Vec<String>>,
    allowed_ips: Vec<String>,
}

impl<'a> Joined<'a> {
    /// The members, or `None` when the pieces do not match the counts.
    fn split(self) -> Option<Split<'a>> {
        let mut pieces = self.text.split('\n');
        let hash = pieces.next()?;
        let status = pieces.next()?;
        let preset = if self.preset {
            Some(pieces.next()?)
        } else {
            None
        };
        let actions = take_list(&mut pieces, self.actions)?;
        let resources = take_list(&mut pieces, self.resources)?;
        let allowed_ips = take_list(&mut pieces, i32::try_from(self.allowed_ips).ok()?)??;
        pieces.next().is_none().then_some(Split {
            hash,
            status,
            preset,
            actions,
            resources,
            allowed_ips,
        })
    }
}

/// The members of a stored record that verification reads and the core
/// parses (the hash, status, scope and allowed IP ranges), read from their
/// JavaScript values; `None` when one is malformed (`RECORD_INVALID`).
pub(crate) struct Decided {
    hash: TokenHash,
    status: Status,
    scope: Scope,
    allowed_ips: AllowedIps,
}

impl Decided {
    pub(crate) fn read(joined: Joined<'_>) -> Option<Self> {
        let members = joined.split()?;
        let spec = scope_spec(members.preset, members.actions, members.resources)?;
        let allowed_ips = members.allowed_ips;
        Some(Self {
            hash: TokenHash::from_hex(members.hash)?,
            status: match members.status {
                "active" => Status::Active,
                "inactive" => Status::Inactive,
                _ => return None,
            },
            scope: Scope::from_spec(&spec).ok()?,
            allowed_ips: AllowedIps::parse(&allowed_ips).ok()?,
        })
    }

    /// A record of only these members and the two times, for one
    /// verification (see [`TokenRecord::for_verification`]).
    pub(crate) fn record(self, expires_at: Option<f64>, last_used_at: Option<f64>) -> TokenRecord {
        TokenRecord::for_verification(VerificationParts {
            hash: self.hash,
            status: self.status,
            expires_at: expires_at.map(millis),
            last_used_at: last_used_at.map(millis),
            scope: self.scope,
            allowed_ips: self.allowed_ips,
        })
    }
}

/// A stored record, checked as reading its JSON form would check it.
#[wasm_bindgen]
pub struct Record {
    pub(crate) inner: TokenRecord,
}

fn invalid() -> JsValue {
    fail(
        code::RECORD_INVALID,
        "a stored record does not match the record format",
    )
}

#[wasm_bindgen]
impl Record {
    /// Builds a record from its fields (the TypeScript layer has checked
    /// their types); the members the core parses come joined (see
    /// [`Joined`]). A malformed hash, scope, allowed IP range, status or
    /// creator is `RECORD_INVALID`.
    #[wasm_bindgen(constructor)]
    #[allow(clippy::too_many_arguments)] // One argument per record field.
    pub fn new(
        id: String,
        user_id: String,
        name: String,
        description: Option<String>,
        hint: String,
        creator_kind: &str,
        creator_id: Option<String>,
        created_at: f64,
        expires_at: Option<f64>,
        last_used_at: Option<f64>,
        rotated_from: Option<String>,
        replaced_by: Option<String>,
        decided: &str,
        preset: bool,
        actions: i32,
        resources: i32,
        allowed_ips: u32,
    ) -> Result<Record, JsValue> {
        let decided = Decided::read(Joined {
            text: decided,
            preset,
            actions,
            resources,
            allowed_ips,
        })
        .ok_or_else(invalid)?;
        let parts = RecordParts {
            id,
            user_id,
            name,
            description,
            hash: decided.hash,
            hint,
            created_by: match (creator_kind, creator_id) {
                ("user", None) => CreatedBy::User,
                ("token", Some(token_id)) => CreatedBy::Token { token_id },
                ("admin", Some(user_id)) => CreatedBy::Admin { user_id },
                ("service", Some(key_id)) => CreatedBy::Service { key_id },
                _ => return Err(invalid()),
            },
            created_at: millis(created_at),
            expires_at: expires_at.map(millis),
            scope: decided.scope,
            allowed_ips: decided.allowed_ips,
            status: decided.status,
            last_used_at: last_used_at.map(millis),
            rotated_from,
            replaced_by,
        };
        Ok(Self {
            inner: TokenRecord::from_parts(parts),
        })
    }

    /// The record in its stored shape, as JSON.
    pub fn json(&self) -> String {
        json::record(&self.inner, true)
    }

    /// What lists show (everything but the hash), as JSON.
    pub fn info(&self) -> String {
        json::record(&self.inner, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str = "00000000000000000000000000000000000000000000000000000000000000ff";

    fn read(text: &str, preset: bool, actions: i32, resources: i32, ips: u32) -> Option<Decided> {
        Decided::read(Joined {
            text,
            preset,
            actions,
            resources,
            allowed_ips: ips,
        })
    }

    #[test]
    fn joined_members_read_back_only_when_the_counts_agree() {
        let text = format!("{HASH}\nactive\napps.read\ndeploy.run\n10.0.0.0/8");
        let decided = read(&text, false, 2, -1, 1).expect("the counts agree");
        assert_eq!(decided.hash.to_hex(), HASH);
        assert_eq!(decided.allowed_ips.ranges().len(), 1);
        let preset = format!("{HASH}\ninactive\nread");
        let decided = read(&preset, true, -1, -1, 0).expect("a preset");
        assert_eq!(decided.status, Status::Inactive);
        // An item holding a newline is two items: refused, not read as two.
        assert!(read(&text, false, 1, -1, 1).is_none());
        assert!(read(&text, false, 2, -1, 0).is_none());
        assert!(read(&text, false, 3, -1, 1).is_none());
        assert!(read(&text, false, 2, 0, 1).is_none());
        // An empty item is an item; an empty list has none.
        assert!(read(&format!("{HASH}\nactive\n"), false, 1, -1, 0).is_none());
        assert!(read(&format!("{HASH}\nactive"), false, 0, -1, 0).is_none());
        /// The preset and the three lists, as split.
        type Lists<'a> = (
            Option<&'a str>,
            Option<Vec<String>>,
            Option<Vec<String>>,
            Vec<String>,
        );
        fn split(
            text: &str,
            preset: bool,
            actions: i32,
            resources: i32,
            ips: u32,
        ) -> Option<Lists<'_>> {
            Joined {
                text,
                preset,
                actions,
                resources,
                allowed_ips: ips,
            }
            .split()
            .map(|s| (s.preset, s.actions, s.resources, s.allowed_ips))
        }
        assert_eq!(
            split(&format!("{HASH}\nactive\nread"), true, 0, 0, 0),
            Some((Some("read"), Some(vec![]), Some(vec![]), vec![]))
        );
        assert_eq!(
            split(&format!("{HASH}\nactive\n\n"), false, 1, -1, 1),
            Some((None, Some(vec![String::new()]), None, vec![String::new()]))
        );
        assert!(read(&format!("{HASH}\nactive"), true, -1, -1, 0).is_none());
        assert!(read(HASH, false, -1, -1, 0).is_none());
        assert!(
            read(
                &format!("{HASH}\nactive\nread"),
                true,
                i32::MIN,
                -1,
                u32::MAX
            )
            .is_none()
        );
        assert!(read(&format!("{HASH}\nrevoked\nread"), true, -1, -1, 0).is_none());
    }
}
