//! Routing rules: which catalog action (and resource) a request asks for.
//!
//! A rule matches a path prefix segment by segment, so `/api/apps` matches
//! `/api/apps` and `/api/apps/7` but not `/api/appsx`. A prefix segment
//! written `{name}` matches any one non-empty segment and captures it for
//! the rule's resource template (`orgs/{org}` → `orgs/acme`). The first rule
//! that matches the path and method decides.

use serde::Deserialize;
use tessera_core::Catalog;

/// One rule as written in the plugin configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RuleConfig {
    /// The path prefix, starting with `/`; `{name}` segments capture.
    pub prefix: String,
    /// The methods the rule applies to (upper case); absent means all.
    #[serde(default)]
    pub methods: Option<Vec<String>>,
    /// The catalog action the request needs; required unless `public`.
    #[serde(default)]
    pub action: Option<String>,
    /// A resource template such as `orgs/{org}/apps/{app}`, built from the
    /// prefix's captures.
    #[serde(default)]
    pub resource: Option<String>,
    /// Lets matching requests through without a token.
    #[serde(default)]
    pub public: bool,
}

/// What a matching rule asks of the request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Need {
    /// Nothing: the route is public.
    Nothing,
    /// A valid token whose scope allows `action` (on `resource`, if any).
    Action {
        /// The catalog action.
        action: String,
        /// The resource named by the path, if the rule has a template.
        resource: Option<String>,
    },
}

/// A checked rule.
#[derive(Clone, Debug)]
pub struct Rule {
    segments: Vec<Segment>,
    methods: Option<Vec<String>>,
    action: Option<String>,
    resource: Option<Vec<Piece>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Capture(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Text(String),
    Capture(usize),
}

impl Rule {
    /// Checks a rule against the catalog. The error says what is wrong in
    /// a sentence (`rule 2: ...` is added by the caller).
    pub fn new(config: &RuleConfig, catalog: &Catalog) -> Result<Self, String> {
        let segments = parse_prefix(&config.prefix)?;
        let methods = match &config.methods {
            None => None,
            Some(list) if list.is_empty() => {
                return Err("methods, when given, must list at least one method".into());
            }
            Some(list) => {
                for method in list {
                    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_uppercase()) {
                        return Err(format!(
                            "method {method:?} is not an upper-case HTTP method"
                        ));
                    }
                }
                Some(list.clone())
            }
        };
        if config.public {
            if config.action.is_some() || config.resource.is_some() {
                return Err("a public rule takes neither an action nor a resource".into());
            }
            return Ok(Self {
                segments,
                methods,
                action: None,
                resource: None,
            });
        }
        let action = config
            .action
            .clone()
            .ok_or("a rule needs an action (or \"public\": true)")?;
        if !catalog.contains(&action) {
            return Err(format!("action {action:?} is not in the catalog"));
        }
        let resource = match &config.resource {
            None => None,
            Some(template) => Some(parse_template(template, &segments)?),
        };
        Ok(Self {
            segments,
            methods,
            action: Some(action),
            resource,
        })
    }

    /// What the rule asks of a request for `path` with `method`, or `None`
    /// when the rule does not apply. `path` has no query string.
    pub fn matches(&self, method: &str, path: &str) -> Option<Need> {
        if let Some(methods) = &self.methods
            && !methods.iter().any(|m| m == method)
        {
            return None;
        }
        let mut parts = path.strip_prefix('/')?.split('/');
        let mut captured: Vec<&str> = Vec::new();
        for segment in &self.segments {
            let part = parts.next()?;
            match segment {
                Segment::Literal(text) if text == part => {}
                Segment::Capture(_) if !part.is_empty() => captured.push(part),
                _ => return None,
            }
        }
        let Some(action) = &self.action else {
            return Some(Need::Nothing);
        };
        let resource = self.resource.as_ref().map(|pieces| {
            pieces
                .iter()
                .map(|piece| match piece {
                    Piece::Text(text) => text.as_str(),
                    Piece::Capture(index) => captured[*index],
                })
                .collect::<String>()
        });
        Some(Need::Action {
            action: action.clone(),
            resource,
        })
    }
}

fn parse_prefix(prefix: &str) -> Result<Vec<Segment>, String> {
    let rest = prefix
        .strip_prefix('/')
        .ok_or_else(|| format!("prefix {prefix:?} does not start with '/'"))?;
    if rest.is_empty() {
        return Ok(Vec::new());
    }
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let mut segments = Vec::new();
    for part in rest.split('/') {
        if part.is_empty() || part == "." || part == ".." {
            return Err(format!("prefix {prefix:?} has an empty or dot segment"));
        }
        if let Some(name) = part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            if !is_name(name) {
                return Err(format!("capture {part:?} is not {{name}} with [a-z0-9_]"));
            }
            if segments.contains(&Segment::Capture(name.into())) {
                return Err(format!("capture {part:?} appears twice"));
            }
            segments.push(Segment::Capture(name.into()));
        } else if part.contains(['{', '}']) {
            return Err(format!("segment {part:?} mixes text and a capture"));
        } else {
            segments.push(Segment::Literal(part.into()));
        }
    }
    Ok(segments)
}

fn parse_template(template: &str, segments: &[Segment]) -> Result<Vec<Piece>, String> {
    if template.is_empty() {
        return Err("a resource template must not be empty".into());
    }
    let names: Vec<&str> = segments
        .iter()
        .filter_map(|s| match s {
            Segment::Capture(name) => Some(name.as_str()),
            Segment::Literal(_) => None,
        })
        .collect();
    let mut pieces = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        if open > 0 {
            pieces.push(Piece::Text(rest[..open].into()));
        }
        let close = rest[open..]
            .find('}')
            .ok_or_else(|| format!("resource {template:?} has an unclosed '{{'"))?;
        let name = &rest[open + 1..open + close];
        let index = names.iter().position(|n| *n == name).ok_or_else(|| {
            format!("resource {template:?} uses {{{name}}}, which the prefix does not capture")
        })?;
        pieces.push(Piece::Capture(index));
        rest = &rest[open + close + 1..];
    }
    if rest.contains('}') {
        return Err(format!("resource {template:?} has a stray '}}'"));
    }
    if !rest.is_empty() {
        pieces.push(Piece::Text(rest.into()));
    }
    Ok(pieces)
}

fn is_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Whether a request path holds a `.` or `..` segment, plain or
/// percent-encoded: such paths are refused, since an upstream that
/// normalises them would serve another path than the rule matched.
pub fn has_dot_segment(path: &str) -> bool {
    path.split('/').any(is_dot_segment)
}

/// Whether `segment` is `.` or `..`, each dot plain or as `%2e`/`%2E`.
fn is_dot_segment(segment: &str) -> bool {
    let bytes = segment.as_bytes();
    let (mut at, mut dots) = (0, 0);
    while at < bytes.len() {
        if bytes[at] == b'.' {
            at += 1;
        } else if bytes[at] == b'%'
            && bytes.get(at + 1) == Some(&b'2')
            && matches!(bytes.get(at + 2), Some(b'e' | b'E'))
        {
            at += 3;
        } else {
            return false;
        }
        dots += 1;
    }
    dots == 1 || dots == 2
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Catalog {
        Catalog::from_pairs([("apps.read", &["read"][..]), ("apps.write", &[][..])]).unwrap()
    }

    fn rule(json: &str) -> Result<Rule, String> {
        Rule::new(&serde_json::from_str(json).unwrap(), &catalog())
    }

    fn need(action: &str, resource: Option<&str>) -> Option<Need> {
        Some(Need::Action {
            action: action.into(),
            resource: resource.map(Into::into),
        })
    }

    #[test]
    fn prefixes_match_whole_segments() {
        let r = rule(r#"{"prefix":"/api/apps","methods":["GET"],"action":"apps.read"}"#).unwrap();
        assert_eq!(r.matches("GET", "/api/apps"), need("apps.read", None));
        assert_eq!(r.matches("GET", "/api/apps/7"), need("apps.read", None));
        assert_eq!(r.matches("GET", "/api/appsx"), None);
        assert_eq!(r.matches("POST", "/api/apps"), None);
        assert_eq!(r.matches("GET", "/api"), None);
        assert_eq!(r.matches("GET", "api/apps"), None);
    }

    #[test]
    fn captures_fill_the_resource_template() {
        let r = rule(
            r#"{"prefix":"/orgs/{org}/apps/{app}","action":"apps.write","resource":"orgs/{org}/apps/{app}"}"#,
        )
        .unwrap();
        assert_eq!(
            r.matches("DELETE", "/orgs/acme/apps/7/logs"),
            need("apps.write", Some("orgs/acme/apps/7"))
        );
        assert_eq!(r.matches("DELETE", "/orgs//apps/7"), None);
    }

    #[test]
    fn the_root_prefix_and_public_rules() {
        let r = rule(r#"{"prefix":"/","public":true}"#).unwrap();
        assert_eq!(r.matches("GET", "/anything/at/all"), Some(Need::Nothing));
        assert_eq!(r.matches("GET", "/"), Some(Need::Nothing));
    }

    #[test]
    fn bad_rules_are_refused_with_a_reason() {
        for (json, words) in [
            (r#"{"prefix":"api","action":"apps.read"}"#, "start with '/'"),
            (r#"{"prefix":"/a//b","action":"apps.read"}"#, "empty or dot"),
            (r#"{"prefix":"/a/..","action":"apps.read"}"#, "empty or dot"),
            (r#"{"prefix":"/a/{X}","action":"apps.read"}"#, "[a-z0-9_]"),
            (r#"{"prefix":"/{a}/{a}","action":"apps.read"}"#, "twice"),
            (r#"{"prefix":"/a{b}","action":"apps.read"}"#, "mixes"),
            (
                r#"{"prefix":"/a","action":"nope.read"}"#,
                "not in the catalog",
            ),
            (r#"{"prefix":"/a"}"#, "needs an action"),
            (
                r#"{"prefix":"/a","public":true,"action":"apps.read"}"#,
                "public",
            ),
            (
                r#"{"prefix":"/a","methods":[],"action":"apps.read"}"#,
                "at least one",
            ),
            (
                r#"{"prefix":"/a","methods":["get"],"action":"apps.read"}"#,
                "upper-case",
            ),
            (
                r#"{"prefix":"/{a}","action":"apps.read","resource":"x/{b}"}"#,
                "does not capture",
            ),
            (
                r#"{"prefix":"/{a}","action":"apps.read","resource":"x/{a"}"#,
                "unclosed",
            ),
            (
                r#"{"prefix":"/{a}","action":"apps.read","resource":"x}"}"#,
                "stray",
            ),
            (
                r#"{"prefix":"/{a}","action":"apps.read","resource":""}"#,
                "empty",
            ),
        ] {
            let error = rule(json).unwrap_err();
            assert!(error.contains(words), "{json}: {error}");
        }
    }

    #[test]
    fn dot_segments_are_found_plain_and_encoded() {
        assert!(has_dot_segment("/a/../b"));
        assert!(has_dot_segment("/a/./b"));
        assert!(has_dot_segment("/a/%2E%2e/b"));
        assert!(!has_dot_segment("/a/.b/c"));
        assert!(!has_dot_segment("/a/b..c"));
        assert!(has_dot_segment("/a/%2e./b") && has_dot_segment("/%2E"));
        assert!(
            !has_dot_segment("/a/.../b")
                && !has_dot_segment("/a/%2f/b")
                && !has_dot_segment("/a/%2/b")
        );
        assert!(!has_dot_segment("/a/%252e/b") && !has_dot_segment("//"));
    }
}
