//! The filter's decisions as plain functions over data: what to do with a
//! request before any lookup ([`start`]), and once the record (or its
//! absence) is known ([`finish`]). The proxy-wasm glue only carries out the
//! [`Reply`] these return; every token rule is the core's.

use core::net::IpAddr;

use tessera_core::{Denial, Request, Standing, TokenHash, TokenRecord, code};

use crate::config::{FailureMode, Settings, Unmatched};
use crate::rules::{Need, has_dot_segment};

/// What the request must be checked against once its record is known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A catalog action, on a resource if the rule names one.
    Action {
        /// The action.
        action: String,
        /// The resource, if any.
        resource: Option<String>,
    },
    /// Any active, unexpired token (unmatched requests under
    /// `"unmatched": "authenticate"`).
    AnyToken,
}

/// A request that needs its token's record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lookup {
    /// The token's hash: the lookup key, the only thing sent out.
    pub hash: TokenHash,
    /// What the token must allow.
    pub target: Target,
    /// The client's address (Envoy's downstream remote address), checked
    /// against the token's allowed IP ranges; `None` when unknown. [`start`]
    /// leaves it unread: the caller reads it (a host call) only when the
    /// record may need it (see [`needs_ip`]).
    pub ip: Option<IpAddr>,
}

/// What to do with a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// Send it upstream after these header changes (`None` removes).
    Forward {
        /// Header changes, in order.
        headers: Vec<(String, Option<String>)>,
        /// Who was let through, for the debug log: the token id.
        token_id: Option<String>,
    },
    /// Answer it here.
    Deny(Denied),
}

/// A local answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Denied {
    /// The HTTP status.
    pub status: u16,
    /// The body's `code` (one 401 code, `UNAUTHENTICATED`, whatever the
    /// reason).
    pub code: &'static str,
    /// The body's `message`.
    pub message: &'static str,
    /// The precise reason, for the log only.
    pub reason: &'static str,
    /// The `WWW-Authenticate` value, if any.
    pub www_authenticate: Option<String>,
    /// The token's public id, for the log, when the record was found.
    pub token_id: Option<String>,
}

impl Denied {
    /// The JSON body: `{"code": .., "message": ..}`.
    pub fn body(&self) -> String {
        let mut body = String::from("{\"code\":");
        crate::json::push_string(&mut body, self.code);
        body.push_str(",\"message\":");
        crate::json::push_string(&mut body, self.message);
        body.push('}');
        body
    }
}

/// The client's address from Envoy's `source.address` property
/// (`203.0.113.7:5000`, `[2001:db8::1]:5000`, or a bare address); `None`
/// when it is not one (a Unix socket peer, an address with a zone), which
/// only a token without allowed IP ranges passes. Addresses are read by the
/// core's reader.
pub fn source_ip(bytes: &[u8]) -> Option<IpAddr> {
    let text = core::str::from_utf8(bytes).ok()?;
    if let Some(ip) = tessera_core::parse_ip(text) {
        return Some(ip);
    }
    let (host, port) = text.rsplit_once(':')?;
    if port.is_empty() || port.len() > 5 || !port.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(v6) => tessera_core::parse_ip(v6).filter(IpAddr::is_ipv6),
        None => tessera_core::parse_ip(host).filter(IpAddr::is_ipv4),
    }
}

/// What [`start`] decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Start {
    /// Decided without a lookup.
    Reply(Reply),
    /// The record must be found first.
    Lookup(Lookup),
}

/// Decides what can be decided from the request alone: the rule, the
/// token's shape and checksum. `path` may carry a query string.
/// `authorization` reads the `Authorization` header; it is called only when
/// the rule needs a token, so a public rule, a refused path or a request
/// no rule matches (while such requests are denied) costs no header read
/// (a host call in a filter). A lookup leaves the client's address unread
/// (see [`Lookup::ip`]).
pub fn start<H: AsRef<str>>(
    settings: &Settings,
    method: &str,
    path: &str,
    authorization: impl FnOnce() -> Option<H>,
) -> Start {
    let path = path.split(['?', '#']).next().unwrap_or_default();
    if has_dot_segment(path) {
        return Start::Reply(Reply::Deny(Denied {
            status: 400,
            code: code::BAD_REQUEST,
            message: "the path has a dot segment",
            reason: code::BAD_REQUEST,
            www_authenticate: None,
            token_id: None,
        }));
    }
    let target = match settings.route(method, path) {
        Some(Need::Nothing) => {
            return Start::Reply(Reply::Forward {
                headers: identity_removed(settings),
                token_id: None,
            });
        }
        Some(Need::Action { action, resource }) => Target::Action { action, resource },
        None if settings.unmatched == Unmatched::Authenticate => Target::AnyToken,
        None => {
            return Start::Reply(Reply::Deny(Denied {
                status: 403,
                code: code::FORBIDDEN,
                message: "no rule allows this request",
                reason: code::FORBIDDEN,
                www_authenticate: None,
                token_id: None,
            }));
        }
    };
    let Some(header) = authorization() else {
        return Start::Reply(Reply::Deny(unauthenticated(
            settings,
            code::TOKEN_MALFORMED,
            false,
        )));
    };
    match settings.deployment.parse(header.as_ref()) {
        Ok(presented) => Start::Lookup(Lookup {
            hash: settings.deployment.hash(&presented),
            target,
            ip: None,
        }),
        Err(error) => Start::Reply(Reply::Deny(unauthenticated(settings, error.code(), true))),
    }
}

/// Whether deciding on `record` needs the client's address: only a token
/// with allowed IP ranges is checked against it (and an unknown token, a
/// record yet to come, is decided without). A filter reads the address, a
/// host call, only then.
pub fn needs_ip(record: Option<&TokenRecord>) -> bool {
    record.is_some_and(|r| !r.allowed_ips().is_anywhere())
}

/// Decides once the record is known (`None`: the token service has no
/// record for the hash), with its user's standing, at `now_ms` by Envoy's
/// clock.
pub fn finish(
    settings: &Settings,
    lookup: &Lookup,
    record: Option<&TokenRecord>,
    owner: Standing,
    now_ms: i64,
) -> Reply {
    let deployment = &settings.deployment;
    let principal = match &lookup.target {
        Target::Action { action, resource } => {
            let request = match resource {
                Some(resource) => Request::on(action, resource),
                None => Request::action(action),
            }
            .from_ip(lookup.ip);
            deployment
                .verify(&lookup.hash, record, owner, &request, now_ms)
                .map(|verified| verified.principal)
        }
        Target::AnyToken => deployment
            .authenticate(&lookup.hash, record, owner, lookup.ip, now_ms)
            .map(|authenticated| authenticated.principal()),
    };
    match principal {
        Ok(principal) => {
            let mut headers = Vec::new();
            if settings.forward.strip_authorization {
                headers.push(("authorization".to_owned(), None));
            }
            if let Some(name) = &settings.forward.user_id_header {
                headers.push((name.clone(), Some(principal.user_id.to_owned())));
            }
            if let Some(name) = &settings.forward.token_id_header {
                headers.push((name.clone(), Some(principal.token_id.to_owned())));
            }
            Reply::Forward {
                headers,
                token_id: Some(principal.token_id.to_owned()),
            }
        }
        Err(denial) => {
            // The id is public; only a record whose hash matched names it.
            let token_id = match denial {
                Denial::Unknown => None,
                _ => record.map(|r| r.id().to_owned()),
            };
            let mut denied = if denial.is_unauthenticated() {
                unauthenticated(settings, denial.code(), true)
            } else if denial == Denial::IpDenied {
                Denied {
                    status: 403,
                    code: code::IP_DENIED,
                    message: "the token may not be used from this address",
                    reason: code::IP_DENIED,
                    www_authenticate: None,
                    token_id: None,
                }
            } else {
                Denied {
                    status: 403,
                    code: code::SCOPE_DENIED,
                    message: "the token's scope does not allow this request",
                    reason: denial.code(),
                    www_authenticate: Some(format!(
                        "Bearer realm=\"{}\", error=\"insufficient_scope\"",
                        settings.realm
                    )),
                    token_id: None,
                }
            };
            denied.token_id = token_id;
            Reply::Deny(denied)
        }
    }
}

/// What a request gets when the filter has no settings (its configuration
/// was missing or refused on this worker): never let through, whatever the
/// failure mode, since no rule says which requests are public.
pub fn unconfigured() -> Reply {
    Reply::Deny(Denied {
        status: 503,
        code: code::INTERNAL,
        message: "the gateway's token filter is not configured",
        reason: "no filter configuration",
        www_authenticate: None,
        token_id: None,
    })
}

/// What a request gets when the token service cannot answer.
pub fn unavailable(settings: &Settings) -> Reply {
    match settings.failure_mode {
        FailureMode::Closed => Reply::Deny(Denied {
            status: 503,
            code: code::STORE_FAILED,
            message: "the token service is unavailable",
            reason: code::STORE_FAILED,
            www_authenticate: None,
            token_id: None,
        }),
        FailureMode::Open => {
            let mut headers = identity_removed(settings);
            if settings.forward.strip_authorization {
                headers.push(("authorization".to_owned(), None));
            }
            Reply::Forward {
                headers,
                token_id: None,
            }
        }
    }
}

/// Removes identity headers a client may have sent itself.
pub fn identity_removed(settings: &Settings) -> Vec<(String, Option<String>)> {
    [
        &settings.forward.user_id_header,
        &settings.forward.token_id_header,
    ]
    .into_iter()
    .flatten()
    .map(|name| (name.clone(), None))
    .collect()
}

fn unauthenticated(settings: &Settings, reason: &'static str, presented: bool) -> Denied {
    // RFC 6750: no error attribute when no credentials were presented.
    let www_authenticate = if presented {
        format!(
            "Bearer realm=\"{}\", error=\"invalid_token\"",
            settings.realm
        )
    } else {
        format!("Bearer realm=\"{}\"", settings.realm)
    };
    Denied {
        status: 401,
        code: code::UNAUTHENTICATED,
        message: "a valid token is required",
        reason,
        www_authenticate: Some(www_authenticate),
        token_id: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::sample;
    use serde_json::json;
    use tessera_core::Enablement;

    const OWNER: Standing = Standing::OWNER;

    #[test]
    fn a_disabled_users_token_is_refused_as_unauthenticated() {
        let s = settings(|_| {});
        let record = record(json!({ "preset": "read" }), "active", None);
        let off = Standing {
            admin: false,
            tokens: Enablement::Off,
            members_enabled: true,
        };
        let reply = finish(&s, &lookup(&s, "GET", "/api/apps/1"), Some(&record), off, 5);
        let d = denied(&reply);
        assert_eq!(
            (d.status, d.code, d.reason),
            (401, "UNAUTHENTICATED", "TOKENS_DISABLED")
        );
        let inherit_on = Standing {
            tokens: Enablement::Inherit,
            ..off
        };
        let reply = finish(
            &s,
            &lookup(&s, "GET", "/api/apps/1"),
            Some(&record),
            inherit_on,
            5,
        );
        assert!(matches!(reply, Reply::Forward { .. }), "{reply:?}");
    }

    #[test]
    fn the_address_decides_for_a_token_with_allowed_ips() {
        let s = settings(|_| {});
        let mut gated = record(json!({ "preset": "read" }), "active", None);
        let mut value = serde_json::to_value(&gated).unwrap();
        value["allowedIps"] = json!(["10.0.0.0/8", "2001:db8::/32"]);
        gated = serde_json::from_value(value).unwrap();
        let from = |ip: Option<&str>| Lookup {
            ip: ip.map(|ip| ip.parse().unwrap()),
            ..lookup(&s, "GET", "/api/apps/1")
        };
        for inside in ["10.1.2.3", "::ffff:10.1.2.3", "2001:db8::7"] {
            let reply = finish(&s, &from(Some(inside)), Some(&gated), OWNER, 5);
            assert!(
                matches!(reply, Reply::Forward { .. }),
                "{inside}: {reply:?}"
            );
        }
        for outside in [Some("127.0.0.1"), Some("2001:db9::1"), None] {
            let reply = finish(&s, &from(outside), Some(&gated), OWNER, 5);
            let d = denied(&reply);
            assert_eq!((d.status, d.code), (403, "IP_DENIED"), "{outside:?}");
            assert!(d.www_authenticate.is_none());
        }
        // Without allowed IPs, any address (or none) passes: the filter
        // need not read it.
        let open = record(json!({ "preset": "read" }), "active", None);
        for ip in [None, Some("127.0.0.1")] {
            let reply = finish(&s, &from(ip), Some(&open), OWNER, 5);
            assert!(matches!(reply, Reply::Forward { .. }), "{reply:?}");
        }
        assert!(needs_ip(Some(&gated)));
        assert!(!needs_ip(Some(&open)));
        assert!(!needs_ip(None));
    }

    #[test]
    fn the_source_address_is_read_with_or_without_a_port() {
        let ip = |text: &str| source_ip(text.as_bytes()).map(|ip| ip.to_string());
        assert_eq!(ip("203.0.113.7:5000").as_deref(), Some("203.0.113.7"));
        assert_eq!(ip("[2001:db8::1]:443").as_deref(), Some("2001:db8::1"));
        assert_eq!(ip("10.0.0.1").as_deref(), Some("10.0.0.1"));
        assert_eq!(ip("/tmp/envoy.sock"), None);
        assert_eq!(source_ip(&[0xff, 0xfe]), None);
    }

    #[test]
    fn the_source_address_reads_as_the_standard_library_reads_it() {
        use core::net::SocketAddr;
        let theirs = |text: &str| {
            text.parse::<SocketAddr>()
                .map(|socket| socket.ip())
                .or_else(|_| text.parse::<IpAddr>())
                .ok()
        };
        // Everything Envoy writes, and near misses, read alike.
        for text in [
            "203.0.113.7:5000",
            "203.0.113.7:0",
            "203.0.113.7:00080",
            "203.0.113.7:65535",
            "203.0.113.7:",
            "203.0.113.7:-1",
            "203.0.113.7:+1",
            "[2001:db8::1]:443",
            "[10.0.0.1]:443",
            "[2001:db8::1]",
            "2001:db8::1:443",
            "::ffff:10.0.0.1",
            "[::ffff:10.0.0.1]:1",
            "::1:80",
            "10.0.0.1",
            "10.0.0.1:80:80",
            "/tmp/envoy.sock",
            "",
            ":80",
        ] {
            assert_eq!(source_ip(text.as_bytes()), theirs(text), "{text:?}");
        }
        // Where the standard library is more lenient, a client address
        // with a zone or an out-of-range port is none: Envoy writes
        // neither.
        assert_eq!(source_ip(b"[fe80::1%2]:443"), None);
        assert_eq!(source_ip(b"203.0.113.7:123456"), None);
    }

    const TOKEN: &str = "tsr_QCOQ0McPkKWUWN6i8t9ngCnQ4hiAgp7UxPQhE220q9j1ko1Og";

    fn settings(change: impl FnOnce(&mut serde_json::Value)) -> Settings {
        let mut value = sample();
        change(&mut value);
        Settings::from_json(value.to_string().as_bytes()).unwrap()
    }

    fn record(scope: serde_json::Value, status: &str, expires: Option<i64>) -> TokenRecord {
        let s = settings(|_| {});
        let Start::Lookup(lookup) = start(&s, "GET", "/api/apps", || Some(TOKEN)) else {
            panic!("a well-formed token needs a lookup");
        };
        serde_json::from_value(json!({
            "id": "c0b8b86a21e27de5eee2ec5125d3f74c", "userId": "u1", "name": "n",
            "description": null, "hash": lookup.hash.to_hex(), "hint": "tsr_QCOQ…",
            "createdBy": { "kind": "user" }, "createdAt": 1, "expiresAt": expires,
            "scope": scope, "status": status, "lastUsedAt": null, "rotatedFrom": null
        }))
        .unwrap()
    }

    fn denied(reply: &Reply) -> &Denied {
        match reply {
            Reply::Deny(denied) => denied,
            Reply::Forward { .. } => panic!("expected a denial, got {reply:?}"),
        }
    }

    fn lookup(s: &Settings, method: &str, path: &str) -> Lookup {
        match start(s, method, path, || Some(format!("Bearer {TOKEN}"))) {
            Start::Lookup(lookup) => lookup,
            Start::Reply(reply) => panic!("expected a lookup, got {reply:?}"),
        }
    }

    #[test]
    fn requests_without_a_good_token_are_refused_before_any_lookup() {
        let s = settings(|_| {});
        let bad_checksum = format!("Bearer {}0", &TOKEN[..TOKEN.len() - 1]);
        for (header, reason, error_attr) in [
            (None, "TOKEN_MALFORMED", false),
            (Some("Bearer nope"), "TOKEN_MALFORMED", true),
            (Some("Basic dTpw"), "TOKEN_MALFORMED", true),
            (Some(bad_checksum.as_str()), "TOKEN_CHECKSUM", true),
        ] {
            let Start::Reply(reply) = start(&s, "GET", "/api/apps?x=1", || header) else {
                panic!("{header:?} needs no lookup");
            };
            let d = denied(&reply);
            assert_eq!(
                (d.status, d.code, d.reason),
                (401, "UNAUTHENTICATED", reason)
            );
            assert_eq!(
                d.body(),
                r#"{"code":"UNAUTHENTICATED","message":"a valid token is required"}"#
            );
            let www = d.www_authenticate.as_deref().unwrap();
            assert_eq!(www.contains("invalid_token"), error_attr, "{www}");
        }
    }

    /// The header reader for a request whose rule needs no token: it must
    /// not be called (a public rule, a request no rule matches while such
    /// requests are denied, a dot segment).
    fn unread() -> Option<&'static str> {
        panic!("the authorization header was read for a request that needs no token")
    }

    #[test]
    fn public_unmatched_and_dot_paths() {
        let s = settings(|_| {});
        let Start::Reply(Reply::Forward { headers, .. }) = start(&s, "GET", "/healthz", unread)
        else {
            panic!("public rules need no token");
        };
        assert_eq!(
            headers,
            vec![
                ("x-tessera-user-id".to_owned(), None),
                ("x-tessera-token-id".to_owned(), None)
            ]
        );
        let Start::Reply(reply) = start(&s, "DELETE", "/api/apps", unread) else {
            panic!("unmatched requests are denied by default");
        };
        assert_eq!(
            (denied(&reply).status, denied(&reply).code),
            (403, "FORBIDDEN")
        );
        let Start::Reply(reply) = start(&s, "GET", "/api/apps/../admin", unread) else {
            panic!("dot segments are refused");
        };
        assert_eq!(denied(&reply).status, 400);
        let s = settings(|v| v["unmatched"] = json!("authenticate"));
        assert_eq!(lookup(&s, "DELETE", "/other").target, Target::AnyToken);
    }

    #[test]
    fn allowed_requests_carry_identity_and_lose_the_token() {
        let s = settings(|_| {});
        let record = record(json!({ "preset": "read" }), "active", None);
        let reply = finish(
            &s,
            &lookup(&s, "GET", "/api/apps/1"),
            Some(&record),
            OWNER,
            5,
        );
        assert_eq!(
            reply,
            Reply::Forward {
                headers: vec![
                    ("authorization".to_owned(), None),
                    ("x-tessera-user-id".to_owned(), Some("u1".to_owned())),
                    (
                        "x-tessera-token-id".to_owned(),
                        Some("c0b8b86a21e27de5eee2ec5125d3f74c".to_owned())
                    ),
                ],
                token_id: Some("c0b8b86a21e27de5eee2ec5125d3f74c".to_owned()),
            }
        );
        let s = settings(|v| {
            v["forward"] = json!({ "stripAuthorization": false, "tokenIdHeader": null })
        });
        let Reply::Forward { headers, .. } =
            finish(&s, &lookup(&s, "GET", "/api/apps"), Some(&record), OWNER, 5)
        else {
            panic!("allowed");
        };
        assert_eq!(
            headers,
            vec![("x-tessera-user-id".to_owned(), Some("u1".to_owned()))]
        );
    }

    #[test]
    fn denials_map_to_401_or_403_with_the_precise_reason_logged() {
        let s = settings(|_| {});
        let read = record(json!({ "preset": "read" }), "active", Some(100));
        let inactive = record(json!({ "preset": "all" }), "inactive", None);
        let cases = [
            ("POST", Some(&read), 5, 403, "SCOPE_DENIED", "SCOPE_DENIED"),
            (
                "GET",
                Some(&read),
                100,
                401,
                "UNAUTHENTICATED",
                "TOKEN_EXPIRED",
            ),
            (
                "GET",
                Some(&inactive),
                5,
                401,
                "UNAUTHENTICATED",
                "TOKEN_INACTIVE",
            ),
            ("GET", None, 5, 401, "UNAUTHENTICATED", "TOKEN_UNKNOWN"),
        ];
        for (method, record, now, status, code, reason) in cases {
            let reply = finish(&s, &lookup(&s, method, "/api/apps"), record, OWNER, now);
            let d = denied(&reply);
            assert_eq!(
                (d.status, d.code, d.reason),
                (status, code, reason),
                "{reason}"
            );
        }
        let reply = finish(&s, &lookup(&s, "POST", "/api/apps"), Some(&read), OWNER, 5);
        assert!(
            denied(&reply)
                .www_authenticate
                .as_deref()
                .unwrap()
                .contains("insufficient_scope")
        );
    }

    #[test]
    fn a_record_under_another_hash_is_unknown() {
        let s = settings(|_| {});
        let mut other =
            serde_json::to_value(record(json!({ "preset": "all" }), "active", None)).unwrap();
        other["hash"] = json!("00".repeat(32));
        let other: TokenRecord = serde_json::from_value(other).unwrap();
        let reply = finish(&s, &lookup(&s, "GET", "/api/apps"), Some(&other), OWNER, 5);
        assert_eq!(denied(&reply).reason, "TOKEN_UNKNOWN");
        assert_eq!(denied(&reply).token_id, None);
    }

    #[test]
    fn resource_templates_reach_the_scope_check() {
        let s = settings(|v| {
            v["rules"] = json!([{ "prefix": "/orgs/{org}", "action": "apps.read", "resource": "orgs/{org}" }]);
        });
        let narrowed = record(
            json!({ "preset": "all", "resources": ["orgs/acme/**"] }),
            "active",
            None,
        );
        let ok = finish(
            &s,
            &lookup(&s, "GET", "/orgs/acme/x"),
            Some(&narrowed),
            OWNER,
            5,
        );
        assert!(matches!(ok, Reply::Forward { .. }));
        let no = finish(
            &s,
            &lookup(&s, "GET", "/orgs/other/x"),
            Some(&narrowed),
            OWNER,
            5,
        );
        assert_eq!(denied(&no).status, 403);
    }

    #[test]
    fn without_settings_every_request_is_refused() {
        let d = denied(&unconfigured()).clone();
        assert_eq!((d.status, d.code), (503, "INTERNAL"));
        assert!(d.www_authenticate.is_none());
    }

    #[test]
    fn failure_modes() {
        let closed = settings(|_| {});
        let d = denied(&unavailable(&closed)).clone();
        assert_eq!((d.status, d.code), (503, "STORE_FAILED"));
        let open = settings(|v| v["failureMode"] = json!("open"));
        let Reply::Forward { headers, token_id } = unavailable(&open) else {
            panic!("fail open forwards");
        };
        assert_eq!(token_id, None);
        assert!(headers.iter().all(|(_, value)| value.is_none()));
        assert_eq!(headers.len(), 3);
    }
}
