//! Scopes: which actions, on which resources, a token allows.
//!
//! A scope is a preset (`all`, `read`, `cli`) that follows the catalog as it
//! grows, or a custom list of actions frozen at creation; either may be
//! narrowed to resource patterns. A checked [`Scope`] answers
//! [`Scope::allows`] without allocating.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::catalog::{Catalog, is_action_name};
use crate::code;
use crate::resource::{PatternError, ResourcePattern};

/// The most actions a custom scope may list.
pub const MAX_ACTIONS: usize = 256;
/// The most resource patterns a scope may carry.
pub const MAX_RESOURCES: usize = 64;

/// A scope preset. Each follows the catalog: actions added later are
/// included when they carry the preset's kind (`all`: every action).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    /// Every action in the catalog, now and later.
    All,
    /// Every action tagged `read`, now and later.
    Read,
    /// Every action tagged `cli`, now and later.
    Cli,
}

impl Preset {
    /// The preset's name as it appears in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Read => "read",
            Self::Cli => "cli",
        }
    }
}

impl fmt::Display for Preset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A scope as written in JSON: `{ "preset": "read" }` or `{ "actions":
/// ["apps.read"] }`, either with an optional `"resources": [..]`.
///
/// In a request to issue a token, `actions` may also name a whole resource
/// (`"apps"` for every `apps.*` action the catalog has at that moment).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScopeSpec {
    /// A preset name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset: Option<Preset>,
    /// A custom list of actions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actions: Option<Vec<String>>,
    /// Resource patterns that narrow the scope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Vec<String>>,
}

impl ScopeSpec {
    /// A preset scope.
    pub fn preset(preset: Preset) -> Self {
        Self {
            preset: Some(preset),
            ..Self::default()
        }
    }

    /// A custom scope of the given actions (or whole resources).
    pub fn actions<I, S>(actions: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            actions: Some(actions.into_iter().map(Into::into).collect()),
            ..Self::default()
        }
    }

    /// The same scope narrowed to the given resource patterns.
    pub fn with_resources<I, S>(mut self, resources: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.resources = Some(resources.into_iter().map(Into::into).collect());
        self
    }
}

/// The actions part of a checked scope.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Actions {
    Preset(Preset),
    /// Sorted and without repeats, so membership is a binary search.
    Custom(Vec<Box<str>>),
}

/// A checked scope, ready to answer requests.
///
/// It serializes as a [`ScopeSpec`] with custom actions sorted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "ScopeSpec", into = "ScopeSpec")]
pub struct Scope {
    actions: Actions,
    resources: Option<Vec<ResourcePattern>>,
}

/// What a request asks to do: an action from the catalog and, for narrowed
/// scopes, the resource it acts on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request<'a> {
    /// The catalog action, such as `apps.read`.
    pub action: &'a str,
    /// The resource acted on, such as `orgs/acme/apps/1`.
    pub resource: Option<&'a str>,
    /// The client's address, checked against the token's allowed IP
    /// ranges; `None` when the caller cannot tell it.
    pub ip: Option<IpAddr>,
}

impl<'a> Request<'a> {
    /// A request for `action` with no resource, from an unknown address.
    pub fn action(action: &'a str) -> Self {
        Self {
            action,
            resource: None,
            ip: None,
        }
    }

    /// A request for `action` on `resource`, from an unknown address.
    pub fn on(action: &'a str, resource: &'a str) -> Self {
        Self {
            action,
            resource: Some(resource),
            ip: None,
        }
    }

    /// The same request from the client address `ip`.
    pub fn from_ip(self, ip: Option<IpAddr>) -> Self {
        Self { ip, ..self }
    }
}

impl Scope {
    /// Checks a stored scope's shape. Custom actions are not checked against
    /// a catalog here: a stored list is frozen, whatever the catalog became.
    pub fn from_spec(spec: &ScopeSpec) -> Result<Self, ScopeError> {
        let actions = match (&spec.preset, &spec.actions) {
            (Some(preset), None) => Actions::Preset(*preset),
            (None, Some(list)) => {
                if list.is_empty() {
                    return Err(ScopeError::Empty);
                }
                if list.len() > MAX_ACTIONS {
                    return Err(ScopeError::TooMany);
                }
                if !list.iter().all(|a| is_action_name(a)) {
                    return Err(ScopeError::ActionName);
                }
                let mut list: Vec<Box<str>> = list.iter().map(|a| a.as_str().into()).collect();
                crate::order::sort_by(&mut list, |a, b| a < b);
                list.dedup();
                Actions::Custom(list)
            }
            _ => return Err(ScopeError::Shape),
        };
        let resources = match &spec.resources {
            None => None,
            Some(list) if list.is_empty() => return Err(ScopeError::NoResources),
            Some(list) if list.len() > MAX_RESOURCES => return Err(ScopeError::TooMany),
            Some(list) => Some(
                list.iter()
                    .map(|p| ResourcePattern::parse(p))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(ScopeError::Pattern)?,
            ),
        };
        Ok(Self { actions, resources })
    }

    /// Checks a requested scope against the catalog as it is now, expanding
    /// whole-resource selections into that resource's current actions.
    pub fn resolve(spec: &ScopeSpec, catalog: &Catalog) -> Result<Self, ScopeError> {
        let Some(requested) = &spec.actions else {
            return Self::from_spec(spec);
        };
        let mut expanded = Vec::with_capacity(requested.len());
        for name in requested {
            if !is_action_name(name) {
                return Err(ScopeError::ActionName);
            }
            if catalog.contains(name) {
                expanded.push(name.clone());
                continue;
            }
            let before = expanded.len();
            expanded.extend(catalog.actions_of(name).map(String::from));
            if expanded.len() == before {
                return Err(ScopeError::UnknownAction(name.clone()));
            }
        }
        Self::from_spec(&ScopeSpec {
            actions: Some(expanded),
            ..spec.clone()
        })
    }

    /// The preset, if this is a preset scope.
    pub fn preset(&self) -> Option<Preset> {
        match self.actions {
            Actions::Preset(preset) => Some(preset),
            Actions::Custom(_) => None,
        }
    }

    /// The custom actions, sorted, if this is a custom scope.
    pub fn custom_actions(&self) -> Option<impl Iterator<Item = &str>> {
        match &self.actions {
            Actions::Custom(list) => Some(list.iter().map(|a| &**a)),
            Actions::Preset(_) => None,
        }
    }

    /// The resource patterns, if the scope is narrowed.
    pub fn resources(&self) -> Option<impl Iterator<Item = &str>> {
        self.resources
            .as_ref()
            .map(|list| list.iter().map(ResourcePattern::as_str))
    }

    /// Whether the scope allows `action`, whatever the resource. A request
    /// for an action the catalog does not declare is never allowed.
    pub fn allows_action(&self, action: &str, catalog: &Catalog) -> bool {
        let Some(info) = catalog.info(action) else {
            return false;
        };
        match &self.actions {
            Actions::Preset(Preset::All) => true,
            Actions::Preset(Preset::Read) => info.read,
            Actions::Preset(Preset::Cli) => info.cli,
            Actions::Custom(list) => list.binary_search_by(|a| (**a).cmp(action)).is_ok(),
        }
    }

    /// Whether the scope allows the request: its action is allowed and, if
    /// the scope is narrowed, the request names a resource one of the
    /// patterns matches. Allocates nothing.
    pub fn allows(&self, request: &Request<'_>, catalog: &Catalog) -> bool {
        self.allows_action(request.action, catalog)
            && match &self.resources {
                None => true,
                Some(patterns) => request
                    .resource
                    .is_some_and(|resource| patterns.iter().any(|p| p.matches(resource))),
            }
    }

    /// Whether every request this scope allows, `other` allows too, under
    /// `catalog` and every catalog it may grow into (actions are added; an
    /// action's kinds do not change).
    ///
    /// So a preset is never within a custom list, and a custom list is within
    /// a preset when each of its actions carries the preset's kind.
    pub fn is_subset(&self, other: &Self, catalog: &Catalog) -> bool {
        let has = |action: &str, read: bool| {
            catalog
                .info(action)
                .is_some_and(|info| if read { info.read } else { info.cli })
        };
        let actions = match (&self.actions, &other.actions) {
            (_, Actions::Preset(Preset::All)) => true,
            (Actions::Preset(mine), Actions::Preset(theirs)) => mine == theirs,
            (Actions::Preset(_), Actions::Custom(_)) => false,
            (Actions::Custom(mine), Actions::Preset(Preset::Read)) => {
                mine.iter().all(|a| has(a, true))
            }
            (Actions::Custom(mine), Actions::Preset(Preset::Cli)) => {
                mine.iter().all(|a| has(a, false))
            }
            (Actions::Custom(mine), Actions::Custom(theirs)) => {
                mine.iter().all(|a| theirs.binary_search(a).is_ok())
            }
        };
        let resources = match (&self.resources, &other.resources) {
            (_, None) => true,
            (None, Some(_)) => false,
            (Some(mine), Some(theirs)) => mine.iter().all(|p| p.covered_by(theirs)),
        };
        actions && resources
    }
}

impl TryFrom<ScopeSpec> for Scope {
    type Error = ScopeError;

    fn try_from(spec: ScopeSpec) -> Result<Self, Self::Error> {
        Self::from_spec(&spec)
    }
}

impl From<Scope> for ScopeSpec {
    fn from(scope: Scope) -> Self {
        let (preset, actions) = match scope.actions {
            Actions::Preset(preset) => (Some(preset), None),
            Actions::Custom(list) => (None, Some(list.into_iter().map(Into::into).collect())),
        };
        Self {
            preset,
            actions,
            resources: scope
                .resources
                .map(|list| list.into_iter().map(Into::into).collect()),
        }
    }
}

/// Why a scope was refused (`SCOPE_INVALID`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ScopeError {
    /// Neither or both of `preset` and `actions`.
    Shape,
    /// An empty custom list: never read as "everything".
    Empty,
    /// More than 256 actions or 64 resource patterns.
    TooMany,
    /// An action name outside `[a-z0-9_.-]{1,128}`.
    ActionName,
    /// A name that is neither an action nor a resource in the catalog.
    UnknownAction(String),
    /// An empty resource list: never read as "every resource".
    NoResources,
    /// A malformed resource pattern.
    Pattern(PatternError),
}

impl ScopeError {
    /// The stable code: `SCOPE_INVALID`.
    pub fn code(&self) -> &'static str {
        code::SCOPE_INVALID
    }
}

impl fmt::Display for ScopeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Shape => {
                f.write_str("a scope needs exactly one of a preset or a list of actions")
            }
            Self::Empty => f.write_str("a custom scope needs at least one action"),
            Self::TooMany => write!(
                f,
                "a scope may list at most {MAX_ACTIONS} actions and {MAX_RESOURCES} resource patterns"
            ),
            Self::ActionName => {
                f.write_str("an action name must be 1 to 128 characters of [a-z0-9_.-]")
            }
            Self::UnknownAction(name) => {
                write!(f, "the catalog has no action or resource named \"{name}\"")
            }
            Self::NoResources => {
                f.write_str("a narrowed scope needs at least one resource pattern")
            }
            Self::Pattern(error) => write!(f, "{error}"),
        }
    }
}

impl core::error::Error for ScopeError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Catalog {
        Catalog::from_pairs([
            ("apps.read", &["read"][..]),
            ("apps.write", &[][..]),
            ("deploy.run", &["cli"][..]),
            ("tokens.create", &[][..]),
        ])
        .unwrap()
    }

    #[test]
    fn presets_follow_a_growing_catalog_and_custom_lists_do_not() {
        let before = catalog();
        let read = Scope::resolve(&ScopeSpec::preset(Preset::Read), &before).unwrap();
        let custom = Scope::resolve(&ScopeSpec::actions(["apps"]), &before).unwrap();
        let grown = Catalog::from_pairs([
            ("apps.read", &["read"][..]),
            ("apps.write", &[][..]),
            ("apps.logs", &["read"][..]),
        ])
        .unwrap();
        assert!(read.allows(&Request::action("apps.logs"), &grown));
        assert!(!custom.allows(&Request::action("apps.logs"), &grown));
        assert!(custom.allows(&Request::action("apps.write"), &grown));
    }

    #[test]
    fn unknown_actions_are_denied_under_every_preset() {
        let all = Scope::from_spec(&ScopeSpec::preset(Preset::All)).unwrap();
        assert!(!all.allows(&Request::action("nope.nope"), &catalog()));
    }

    #[test]
    fn empty_and_unknown_lists_are_errors() {
        let c = catalog();
        assert_eq!(
            Scope::resolve(&ScopeSpec::actions(Vec::<String>::new()), &c).unwrap_err(),
            ScopeError::Empty
        );
        assert_eq!(
            Scope::resolve(&ScopeSpec::actions(["apps.delete"]), &c).unwrap_err(),
            ScopeError::UnknownAction("apps.delete".into())
        );
        assert_eq!(
            Scope::resolve(&ScopeSpec::default(), &c).unwrap_err(),
            ScopeError::Shape
        );
        assert_eq!(
            Scope::resolve(
                &ScopeSpec::preset(Preset::All).with_resources(Vec::<String>::new()),
                &c
            )
            .unwrap_err(),
            ScopeError::NoResources
        );
    }

    #[test]
    fn narrowed_scopes_need_a_matching_resource() {
        let scope = Scope::resolve(
            &ScopeSpec::preset(Preset::All).with_resources(["orgs/acme/**"]),
            &catalog(),
        )
        .unwrap();
        let c = catalog();
        assert!(scope.allows(&Request::on("apps.read", "orgs/acme/apps/1"), &c));
        assert!(!scope.allows(&Request::on("apps.read", "orgs/other"), &c));
        assert!(!scope.allows(&Request::action("apps.read"), &c));
        assert!(scope.allows_action("apps.read", &c));
    }

    #[test]
    fn subset_rules() {
        let c = catalog();
        let s = |spec: ScopeSpec| Scope::resolve(&spec, &c).unwrap();
        let all = s(ScopeSpec::preset(Preset::All));
        let read = s(ScopeSpec::preset(Preset::Read));
        let list_read = s(ScopeSpec::actions(["apps.read"]));
        let list_both = s(ScopeSpec::actions(["apps.read", "apps.write"]));
        assert!(read.is_subset(&all, &c));
        assert!(!all.is_subset(&read, &c));
        assert!(!read.is_subset(&list_both, &c));
        assert!(list_read.is_subset(&read, &c));
        assert!(!list_both.is_subset(&read, &c));
        assert!(list_read.is_subset(&list_both, &c));
        let narrowed = s(ScopeSpec::actions(["apps.read"]).with_resources(["orgs/acme/**"]));
        assert!(narrowed.is_subset(&list_read, &c));
        assert!(!list_read.is_subset(&narrowed, &c));
    }

    #[test]
    fn json_shape_is_stable() {
        let scope = Scope::resolve(
            &ScopeSpec::actions(["apps.write", "apps.read", "apps.read"]).with_resources(["a/**"]),
            &catalog(),
        )
        .unwrap();
        let spec = ScopeSpec::from(scope);
        assert_eq!(
            spec.actions.as_deref(),
            Some(&["apps.read".into(), "apps.write".into()][..])
        );
    }
}
