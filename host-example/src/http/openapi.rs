//! The OpenAPI 3.1 document of the whole HTTP API, generated from the
//! route table ([`super::routes`]) the router is built from, and from the
//! core's own vocabulary: the record's members ([`tessera_core::RECORD_FIELDS`])
//! and the audit log's event names ([`tessera_core::AuditEvent`]).

use serde_json::{Map, Value, json};
use tessera_core::{AuditEvent, RECORD_FIELDS};

use super::routes::{self, Auth, Kind, Param, Route};

/// OpenAPI's path template for an axum path: `{*rest}` (the rest of the
/// path) becomes `{rest}`, the only form OpenAPI has.
pub fn template(path: &str) -> String {
    path.replace("{*", "{")
}

/// The names of a path's `{parameters}`.
fn path_params(path: &str) -> Vec<&str> {
    path.split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| name.trim_start_matches('*'))
        .collect()
}

fn path_param_doc(name: &str) -> &'static str {
    match name {
        "id" => "A token's public id (32 hex digits).",
        "name" => "A user's name.",
        "hash" => "A token's SHA-256 (or peppered HMAC) in 64 hex digits.",
        "path" => "The path of the request the gateway checks (several segments).",
        "asset" => "An asset's file name, such as app.js.",
        _ => "A path segment.",
    }
}

fn kind_schema(kind: Kind) -> Value {
    match kind {
        Kind::Text => json!({ "type": "string" }),
        Kind::Integer => json!({ "type": "integer" }),
        Kind::Boolean => json!({ "type": "boolean" }),
        Kind::OneOf(words) => json!({ "type": "string", "enum": words }),
    }
}

fn query_param(param: &Param) -> Value {
    json!({
        "name": param.name,
        "in": "query",
        "required": false,
        "description": param.doc,
        "schema": kind_schema(param.kind),
    })
}

fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn security_name(auth: Auth) -> &'static str {
    match auth {
        Auth::Password => "password",
        Auth::Session => "session",
        Auth::Token => "token",
        Auth::Service => "serviceCredential",
        Auth::ServiceKey => "serviceKey",
        Auth::GithubSignature => "githubSignature",
    }
}

/// A short reason phrase for the statuses the API answers with.
fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No content",
        400 => "The request is malformed (`BAD_REQUEST`)",
        401 => "No valid credential (`UNAUTHENTICATED`; the log has the precise reason)",
        403 => "Not allowed (`FORBIDDEN`, `SCOPE_DENIED`, `PARENT_INVALID`)",
        404 => "No such token, user or route (`NOT_FOUND`)",
        409 => "The token's state does not allow it (`TOKEN_ROTATED`)",
        413 => "The body is too large (`PAYLOAD_TOO_LARGE`)",
        415 => "The body is not declared JSON (`UNSUPPORTED_MEDIA_TYPE`)",
        422 => "The values are not acceptable (the core's code)",
        429 => "Too many attempts (`TOO_MANY_ATTEMPTS`, with Retry-After)",
        503 => "Overloaded or the store failed (`OVERLOADED`, `STORE_FAILED`)",
        _ => "See the code",
    }
}

fn operation(route: &Route) -> Value {
    let doc = &route.doc;
    let mut parameters: Vec<Value> = path_params(route.path)
        .into_iter()
        .map(|name| {
            json!({
                "name": name,
                "in": "path",
                "required": true,
                "description": path_param_doc(name),
                "schema": { "type": "string" },
            })
        })
        .collect();
    parameters.extend(doc.query.iter().map(query_param));
    let mut responses = Map::new();
    let (status, schema) = doc.answer;
    let mut success = json!({ "description": reason(status) });
    if let Some(name) = schema {
        success["content"] = json!({ "application/json": { "schema": schema_ref(name) } });
    } else if let Some(media) = doc.media {
        success["content"] = json!({ media: { "schema": { "type": "string" } } });
    }
    responses.insert(status.to_string(), success);
    for status in doc.errors {
        responses.insert(
            status.to_string(),
            json!({
                "description": reason(*status),
                "content": { "application/json": { "schema": schema_ref("Error") } },
            }),
        );
    }
    let mut description = doc.description.to_owned();
    if let Some(action) = doc.action {
        if !description.is_empty() {
            description.push(' ');
        }
        description.push_str(&format!("A token needs `{action}` in its scope."));
    }
    let mut op = json!({
        "operationId": doc.id,
        "tags": [doc.tag],
        "summary": doc.summary,
        "responses": responses,
    });
    if !description.is_empty() {
        op["description"] = json!(description);
    }
    if !parameters.is_empty() {
        op["parameters"] = json!(parameters);
    }
    if let Some(body) = doc.body {
        op["requestBody"] = json!({
            "required": true,
            "content": { "application/json": { "schema": schema_ref(body) } },
        });
    }
    // An empty list means the route is open; OpenAPI says so with `[]`.
    op["security"] = json!(
        doc.auth
            .iter()
            .map(|auth| json!({ security_name(*auth): [] }))
            .collect::<Vec<_>>()
    );
    if let Some(action) = doc.action {
        op["x-tessera-action"] = json!(action);
    }
    op
}

/// A record member's schema, from the core's description of it.
fn field_schema(kind: &str) -> Value {
    match kind {
        "string" => json!({ "type": "string" }),
        "string?" => json!({ "type": ["string", "null"] }),
        "millis" => json!({ "type": "integer", "description": "Milliseconds since the epoch." }),
        "millis?" => {
            json!({ "type": ["integer", "null"], "description": "Milliseconds since the epoch." })
        }
        "hash" => json!({ "type": "string", "pattern": "^[0-9a-f]{64}$" }),
        "createdBy" => schema_ref("CreatedBy"),
        "scope" => schema_ref("Scope"),
        "ips" => schema_ref("AllowedIps"),
        "status" => json!({ "type": "string", "enum": ["active", "inactive"] }),
        other => json!({ "description": other }),
    }
}

/// A token's record as lists show it: every member but the hash.
fn token_schema() -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for field in RECORD_FIELDS.iter().filter(|f| f.name != "hash") {
        let mut schema = field_schema(field.kind);
        if schema.get("$ref").is_none() {
            schema["description"] = json!(field.doc);
        }
        properties.insert(field.name.into(), schema);
        required.push(field.name);
    }
    json!({ "type": "object", "properties": properties, "required": required })
}

fn object(properties: Value, required: &[&str]) -> Value {
    json!({ "type": "object", "properties": properties, "required": required, "additionalProperties": false })
}

fn schemas() -> Value {
    let events: Vec<&str> = AuditEvent::ALL.iter().map(|e| e.name()).collect();
    let time = json!({ "type": "integer", "description": "Milliseconds since the epoch." });
    let ids = json!({ "type": "array", "items": { "type": "string" } });
    let mut all = Map::new();
    let tokens = json!({
        "Error": object(json!({
            "code": { "type": "string", "description": "A stable code, such as UNAUTHENTICATED or SCOPE_DENIED." },
            "message": { "type": "string", "description": "What went wrong, for people; never a secret." },
        }), &["code", "message"]),
        "Token": token_schema(),
        "TokenList": { "type": "array", "items": schema_ref("Token") },
        "CreatedBy": { "oneOf": [
            object(json!({ "kind": { "const": "user" } }), &["kind"]),
            object(json!({ "kind": { "const": "token" }, "tokenId": { "type": "string" } }), &["kind", "tokenId"]),
            object(json!({ "kind": { "const": "admin" }, "userId": { "type": "string" } }), &["kind", "userId"]),
            object(json!({ "kind": { "const": "service" }, "keyId": { "type": "string" } }), &["kind", "keyId"]),
        ] },
        "Scope": { "oneOf": [
            object(json!({
                "preset": { "type": "string", "enum": ["all", "read", "cli"] },
                "resources": { "type": "array", "items": { "type": "string" } },
            }), &["preset"]),
            object(json!({
                "actions": { "type": "array", "items": { "type": "string" }, "minItems": 1 },
                "resources": { "type": "array", "items": { "type": "string" } },
            }), &["actions"]),
        ] },
        "Expiry": { "oneOf": [
            { "const": "never" },
            object(json!({ "days": { "type": "integer", "description": "Days from now; -1 means never." } }), &["days"]),
            object(json!({ "at": { "type": ["string", "null"], "format": "date-time", "description": "An RFC 3339 time; null for a year ahead." } }), &["at"]),
        ] },
        "CreateToken": {
            "type": "object",
            "additionalProperties": false,
            "required": ["name", "scope"],
            "properties": {
                "name": { "type": "string", "maxLength": 100 },
                "description": { "type": ["string", "null"], "maxLength": 1000 },
                "expires": { "oneOf": [schema_ref("Expiry"), { "type": "null" }] },
                "scope": schema_ref("Scope"),
                "allowedIps": { "oneOf": [schema_ref("AllowedIps"), { "type": "null" }] },
                "userId": { "type": "string", "description": "The user to issue the token for (an administrator or a service key, when issueForUsers is on)." },
            },
            "examples": [
                { "name": "CI", "scope": { "preset": "read" }, "expires": { "days": 30 } },
                { "name": "office", "scope": { "preset": "all" }, "allowedIps": ["10.0.0.0/8", "2001:db8::/32"] },
            ],
        },
        "CreateWebhook": {
            "type": "object",
            "additionalProperties": false,
            "required": ["url"],
            "properties": {
                "url": { "type": "string", "maxLength": 2048, "description": "An http or https URL; not in a loopback or private network unless the host allows it." },
                "events": { "type": "array", "items": { "enum": crate::webhooks::events::TYPES }, "description": "The event types to receive; all when absent." },
                "deploymentWide": { "type": "boolean", "description": "Every user's tokens (administrators only)." },
            },
            "examples": [{ "url": "https://hooks.example.com/tessera", "events": ["token.expiring", "token.leaked"] }],
        },
        "Webhook": object(json!({
            "id": { "type": "string" },
            "owner": { "type": ["string", "null"], "description": "The user whose tokens it follows; null for every user." },
            "url": { "type": "string" },
            "events": { "type": "array", "items": { "type": "string" } },
            "createdAt": time,
            "delivered": { "type": "integer" },
            "attempts": { "type": "integer", "description": "Failed attempts at the next event." },
            "nextAttemptAt": { "type": ["integer", "null"] },
            "lastError": { "type": ["string", "null"] },
        }), &["id", "owner", "url", "events", "createdAt", "delivered", "attempts", "nextAttemptAt", "lastError"]),
        "WebhookCreated": {
            "allOf": [schema_ref("Webhook")],
            "properties": { "secret": { "type": "string", "description": "The signing secret (whsec_…), shown this once." } },
            "required": ["secret"],
        },
        "Webhooks": { "type": "array", "items": schema_ref("Webhook") },
        "AllowedIps": {
            "type": "array",
            "maxItems": tessera_core::MAX_RANGES,
            "items": { "type": "string", "examples": ["10.0.0.0/8", "2001:db8::/32", "192.0.2.7"] },
            "description": "CIDR ranges (or single addresses) the token may be used from; empty for anywhere. No bits may be set beyond a range's prefix. A token made by a token must name ranges within its parent's. A request from outside them is refused with 403 IP_DENIED.",
        },
        "Created": object(json!({
            "token": { "type": "string", "description": "The token, shown this once." },
            "record": schema_ref("Token"),
        }), &["token", "record"]),
        "Edit": {
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "name": { "type": "string" },
                "description": { "type": ["string", "null"] },
                "status": { "type": "string", "enum": ["active", "inactive"] },
            },
            "examples": [{ "status": "inactive" }],
        },
        "Updated": { "oneOf": [
            schema_ref("Token"),
            object(json!({ "record": schema_ref("Token"), "deactivated": ids }), &["record", "deactivated"]),
        ] },
        "Deactivated": object(json!({ "deactivated": ids }), &["deactivated"]),
        "Rotate": object(json!({ "graceSeconds": { "type": "integer", "minimum": 0 } }), &["graceSeconds"]),
    });
    let account = json!({
        "Whoami": {
            "type": "object",
            "properties": { "userId": { "type": "string" }, "tokenId": { "type": "string" }, "scope": schema_ref("Scope") },
        },
        "Catalog": { "type": "array", "items": { "type": "object" } },
        "Policy": object(json!({
            "allowNonExpiring": { "type": "boolean" },
            "maxLifetimeDays": { "type": ["integer", "null"] },
            "maxTokensPerUser": { "type": ["integer", "null"] },
        }), &["allowNonExpiring", "maxLifetimeDays", "maxTokensPerUser"]),
        "Apps": object(json!({ "apps": { "type": "array", "items": { "type": "string" } } }), &["apps"]),
        "NewApp": object(json!({ "name": { "type": "string", "minLength": 1, "maxLength": 100 } }), &["name"]),
        "App": object(json!({ "name": { "type": "string" }, "createdBy": { "type": "string" } }), &["name", "createdBy"]),
        "NewDeploy": object(json!({ "app": { "type": "string" } }), &["app"]),
        "Deploy": object(json!({ "app": { "type": "string" }, "status": { "type": "string" } }), &["app", "status"]),
        "NewPassword": object(json!({ "password": { "type": "string", "minLength": 8 } }), &["password"]),
        "SignIn": object(json!({ "user": { "type": "string" }, "password": { "type": "string" } }), &["user", "password"]),
        "Session": object(json!({
            "user": { "type": "string" },
            "admin": { "type": "boolean" },
            "csrfToken": { "type": "string", "description": "Sent back in X-CSRF-Token on every write." },
        }), &["user", "admin", "csrfToken"]),
        "Settings": object(json!({
            "membersCanCreateTokens": { "type": "boolean", "description": "The default for members whose own setting is inherit: whether they may generate and use tokens." },
            "issueForUsers": { "type": "boolean", "description": "Whether administrators and service keys may issue tokens for users." },
        }), &["membersCanCreateTokens", "issueForUsers"]),
        "SettingsChange": {
            "type": "object",
            "additionalProperties": false,
            "minProperties": 1,
            "properties": {
                "membersCanCreateTokens": { "type": "boolean" },
                "issueForUsers": { "type": "boolean" },
            },
        },
        "User": object(json!({
            "name": { "type": "string" },
            "admin": { "type": "boolean" },
            "tokens": { "type": "string", "enum": ["inherit", "on", "off"] },
            "tokensEnabled": { "type": "boolean" },
        }), &["name", "admin", "tokens", "tokensEnabled"]),
        "Users": object(json!({
            "membersCanCreateTokens": { "type": "boolean" },
            "users": { "type": "array", "items": schema_ref("User") },
        }), &["membersCanCreateTokens", "users"]),
        "UserTokens": object(json!({ "tokens": { "type": "string", "enum": ["inherit", "on", "off"] } }), &["tokens"]),
    });
    let gateways = json!({
        "AuditEvent": {
            "type": "object",
            "properties": {
                "seq": { "type": "integer" },
                "at": time,
                "event": { "type": "string", "enum": events },
                "userId": { "type": ["string", "null"] },
                "tokenId": { "type": ["string", "null"] },
                "actor": {
                    "type": "object",
                    "properties": {
                        "kind": { "type": "string", "enum": ["password", "token", "admin", "operator", "scanner", "service"] },
                        "userId": { "type": "string" },
                        "tokenId": { "type": "string" },
                    },
                    "required": ["kind"],
                },
                "address": { "type": ["string", "null"] },
                "detail": { "type": ["object", "null"] },
            },
        },
        "AuditPage": object(json!({
            "events": { "type": "array", "items": schema_ref("AuditEvent") },
            "next": { "type": ["string", "null"], "description": "The cursor of the next (older) page, if any." },
        }), &["events", "next"]),
        "Introspection": {
            "type": "object",
            "properties": {
                "record": { "type": "object", "description": "The whole stored record, hash included." },
                "owner": { "type": "object" },
                "cacheSeconds": { "type": "integer" },
            },
        },
        "Revocations": {
            "type": "object",
            "properties": {
                "cursor": { "type": "integer" },
                "hashes": { "type": "array", "items": { "type": "string" } },
                "reset": { "type": "boolean" },
                "more": { "type": "boolean" },
            },
        },
        "Uses": object(json!({
            "uses": { "type": "array", "maxItems": 10000, "items": object(json!({ "id": { "type": "string" }, "at": time }), &["id", "at"]) },
        }), &["uses"]),
        "GithubAlerts": { "type": "array", "items": { "type": "object", "properties": {
            "token": { "type": "string" }, "type": { "type": "string" }, "url": { "type": "string" }, "source": { "type": "string" },
        } } },
        "GithubVerdicts": { "type": "array", "items": { "type": "object", "properties": {
            "token_hash": { "type": "string" }, "token_type": { "type": "string" }, "label": { "type": "string" },
        } } },
    });
    for part in [tokens, account, gateways] {
        if let Value::Object(entries) = part {
            all.extend(entries);
        }
    }
    Value::Object(all)
}

fn security_schemes() -> Value {
    json!({
        "password": { "type": "http", "scheme": "basic", "description": "A user's name and password." },
        "session": {
            "type": "apiKey", "in": "cookie", "name": "tessera_session",
            "description": "The token page's session, with its CSRF token in X-CSRF-Token on writes.",
        },
        "token": { "type": "http", "scheme": "bearer", "description": "A Tessera token (tsr_…)." },
        "serviceCredential": {
            "type": "apiKey", "in": "header", "name": "Authorization",
            "description": "`Service SECRET`: the introspection credential gateways present.",
        },
        "serviceKey": {
            "type": "apiKey", "in": "header", "name": "Authorization",
            "description": "`Service SECRET`: a service key that issues tokens for users.",
        },
        "githubSignature": {
            "type": "apiKey", "in": "header", "name": "Github-Public-Key-Signature",
            "description": "GitHub's ECDSA signature over the body, with Github-Public-Key-Identifier.",
        },
    })
}

/// The whole document.
pub fn document() -> Value {
    let mut paths = Map::new();
    for route in routes::all() {
        let item = paths
            .entry(template(route.path))
            .or_insert_with(|| json!({}));
        for method in route.verb.methods() {
            let mut op = operation(&route);
            if route.verb.methods().len() > 1 {
                op["operationId"] = json!(format!("{}_{method}", route.doc.id));
            }
            item[*method] = op;
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Tessera token service",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Personal access tokens: create, list, rotate and revoke them, and the routes gateways and administrators use. Errors are `{code, message}`.",
            "license": { "name": "MIT OR Apache-2.0", "identifier": "MIT OR Apache-2.0" },
        },
        "tags": [
            { "name": "tokens", "description": "Your own tokens: create, list, edit, rotate, delete." },
            { "name": "account", "description": "Signing in and your password." },
            { "name": "administration", "description": "Settings, users and every user's tokens, for administrators." },
            { "name": "audit", "description": "Who did what to which token, and when." },
            { "name": "webhooks", "description": "Signed messages to users and administrators about tokens that expire, leak, are deactivated or deleted." },
            { "name": "sample", "description": "A small API whose routes map to catalog actions, to try tokens on." },
            { "name": "gateways", "description": "What gateways (the Envoy filter, Envoy ext_authz) and GitHub call." },
            { "name": "documentation", "description": "This document and its page." },
            { "name": "page", "description": "The token page." },
        ],
        "paths": paths,
        "components": { "schemas": schemas(), "securitySchemes": security_schemes() },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reference_resolves_and_every_operation_id_is_unique() {
        let doc = document();
        let text = doc.to_string();
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        for piece in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
            let name = &piece[..piece.find('"').unwrap()];
            assert!(schemas.contains_key(name), "{name}");
        }
        let mut ids = std::collections::BTreeSet::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let id = op["operationId"].as_str().unwrap();
                assert!(ids.insert(id.to_owned()), "{method} {path}: {id} twice");
                for name in path_params(path) {
                    assert!(op["parameters"].to_string().contains(name), "{path}");
                }
            }
        }
    }

    #[test]
    fn every_operation_is_in_a_declared_tag() {
        let doc = document();
        let tags: Vec<&str> = doc["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap())
            .collect();
        for route in routes::all() {
            assert!(tags.contains(&route.doc.tag), "{}", route.path);
        }
    }

    #[test]
    fn templates_are_openapis() {
        assert_eq!(template("/ext_authz/{*path}"), "/ext_authz/{path}");
        assert_eq!(
            path_params("/api/admin/users/{name}/tokens/{id}"),
            ["name", "id"]
        );
        assert_eq!(path_params("/ext_authz/{*path}"), ["path"]);
    }
}
