//! The action catalog a deployment declares.
//!
//! Every API action has a name such as `apps.read` and a set of kind tags
//! such as `read` or `cli`. Presets follow the catalog as it grows; custom
//! scopes copy names out of it at creation and never change.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use serde::{Deserialize, Serialize};

use crate::code;

/// The kind tag the `read` preset follows.
pub const KIND_READ: &str = "read";
/// The kind tag the `cli` preset follows.
pub const KIND_CLI: &str = "cli";
/// The longest action name or kind tag.
pub const MAX_NAME_LEN: usize = 128;

/// One action as declared, the JSON shape `{ "action": "apps.read",
/// "kinds": ["read"] }`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogEntry {
    /// The action's name, `resource.action` or similar.
    pub action: String,
    /// The kind tags; may be empty.
    #[serde(default)]
    pub kinds: Vec<String>,
}

/// What the catalog knows of one action.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ActionInfo {
    pub(crate) read: bool,
    pub(crate) cli: bool,
    kinds: Vec<Box<str>>,
}

/// A checked action catalog.
///
/// It serializes as the list of entries it was built from, sorted by name.
/// The actions are kept as a list sorted by name and found by binary search
/// (no map machinery in the WebAssembly modules).
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "Vec<CatalogEntry>", into = "Vec<CatalogEntry>")]
pub struct Catalog {
    actions: Vec<(Box<str>, ActionInfo)>,
}

impl Catalog {
    /// Builds a catalog, refusing empty, malformed or repeated names.
    pub fn new(entries: impl IntoIterator<Item = CatalogEntry>) -> Result<Self, CatalogError> {
        let mut actions = Vec::new();
        for entry in entries {
            if !is_action_name(&entry.action) {
                return Err(CatalogError::ActionName);
            }
            if !entry.kinds.iter().all(|kind| is_kind(kind)) {
                return Err(CatalogError::Kind);
            }
            let info = ActionInfo {
                read: entry.kinds.iter().any(|k| k == KIND_READ),
                cli: entry.kinds.iter().any(|k| k == KIND_CLI),
                kinds: entry.kinds.iter().map(|k| k.as_str().into()).collect(),
            };
            actions.push((entry.action.into_boxed_str(), info));
        }
        crate::order::sort_by(&mut actions, |a, b| a.0 < b.0);
        if actions.windows(2).any(|pair| pair[0].0 == pair[1].0) {
            return Err(CatalogError::Duplicate);
        }
        Ok(Self { actions })
    }

    /// Builds a catalog from `(action, kinds)` pairs, for code and tests.
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a [&'a str])>,
    ) -> Result<Self, CatalogError> {
        Self::new(pairs.into_iter().map(|(action, kinds)| CatalogEntry {
            action: action.into(),
            kinds: kinds.iter().map(|&k| k.into()).collect(),
        }))
    }

    /// Whether the catalog declares `action`.
    pub fn contains(&self, action: &str) -> bool {
        self.info(action).is_some()
    }

    /// The action names, sorted.
    pub fn actions(&self) -> impl Iterator<Item = &str> {
        self.actions.iter().map(|(k, _)| &**k)
    }

    /// The kind tags of `action`, if the catalog declares it.
    pub fn kinds(&self, action: &str) -> Option<impl Iterator<Item = &str>> {
        self.info(action)
            .map(|info| info.kinds.iter().map(|k| &**k))
    }

    pub(crate) fn info(&self, action: &str) -> Option<&ActionInfo> {
        self.actions
            .binary_search_by(|(name, _)| (**name).cmp(action))
            .ok()
            .map(|at| &self.actions[at].1)
    }

    /// The actions whose resource (the name up to its last `.`) is
    /// `resource`, for scopes that select a whole resource.
    pub(crate) fn actions_of(&self, resource: &str) -> impl Iterator<Item = &str> {
        self.actions()
            .filter(move |action| action.rsplit_once('.').is_some_and(|(r, _)| r == resource))
    }
}

impl TryFrom<Vec<CatalogEntry>> for Catalog {
    type Error = CatalogError;

    fn try_from(entries: Vec<CatalogEntry>) -> Result<Self, Self::Error> {
        Self::new(entries)
    }
}

impl From<Catalog> for Vec<CatalogEntry> {
    fn from(catalog: Catalog) -> Self {
        catalog
            .actions
            .into_iter()
            .map(|(action, info)| CatalogEntry {
                action: action.into(),
                kinds: info.kinds.into_iter().map(Into::into).collect(),
            })
            .collect()
    }
}

/// Whether `name` is a well-formed action name: 1 to 128 characters of
/// `[a-z0-9_.-]`, not starting or ending with `.`.
pub(crate) fn is_action_name(name: &str) -> bool {
    (1..=MAX_NAME_LEN).contains(&name.len())
        && !name.starts_with('.')
        && !name.ends_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.-".contains(&b))
}

fn is_kind(kind: &str) -> bool {
    (1..=MAX_NAME_LEN).contains(&kind.len())
        && kind
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_-".contains(&b))
}

/// Why a catalog was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CatalogError {
    /// An action name outside `[a-z0-9_.-]{1,128}` or with a `.` at an end.
    ActionName,
    /// A kind tag outside `[a-z0-9_-]{1,128}`.
    Kind,
    /// The same action declared twice.
    Duplicate,
}

impl CatalogError {
    /// The stable code: `CATALOG_INVALID`.
    pub fn code(&self) -> &'static str {
        code::CATALOG_INVALID
    }
}

impl fmt::Display for CatalogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::ActionName => {
                "an action name must be 1 to 128 characters of [a-z0-9_.-], not starting or ending with '.'"
            }
            Self::Kind => "a kind tag must be 1 to 128 characters of [a-z0-9_-]",
            Self::Duplicate => "an action is declared twice",
        })
    }
}

impl core::error::Error for CatalogError {}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn refuses_bad_and_duplicate_names() {
        assert_eq!(
            Catalog::from_pairs([("Apps.read", &[][..])]).unwrap_err(),
            CatalogError::ActionName
        );
        assert_eq!(
            Catalog::from_pairs([("apps.read", &["Read"][..])]).unwrap_err(),
            CatalogError::Kind
        );
        assert_eq!(
            Catalog::from_pairs([("a", &[][..]), ("a", &[][..])]).unwrap_err(),
            CatalogError::Duplicate
        );
    }

    #[test]
    fn resource_selection_takes_actions_up_to_the_last_dot() {
        let catalog = Catalog::from_pairs([
            ("apps.read", &[][..]),
            ("apps.write", &[][..]),
            ("apps.keys.read", &[][..]),
            ("appsx.read", &[][..]),
        ])
        .unwrap();
        let apps: Vec<&str> = catalog.actions_of("apps").collect();
        assert_eq!(apps, vec!["apps.read", "apps.write"]);
    }
}
