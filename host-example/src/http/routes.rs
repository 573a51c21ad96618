//! Every route the host serves, in one table: the method, the path, the
//! handler and what the API documentation says of it. The router is built
//! from this table ([`super::router`]) and so is the OpenAPI document
//! ([`super::openapi`]), so the two cannot drift apart; a test compares the
//! document with what the running binary answers.

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::{MethodRouter, any, delete, get, patch, post, put};

use super::{
    App, admin, audit, console, docs, ext_authz, github, introspect, sample, session, tokens, ui,
    webhooks,
};

/// An HTTP method, as a route is served and documented.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verb {
    Get,
    Post,
    Put,
    Patch,
    Delete,
    /// Any method (Envoy's ext_authz checks forward the client's).
    Any,
}

impl Verb {
    /// The methods the document lists for the verb, lowercase as OpenAPI
    /// names them.
    pub fn methods(self) -> &'static [&'static str] {
        match self {
            Self::Get => &["get"],
            Self::Post => &["post"],
            Self::Put => &["put"],
            Self::Patch => &["patch"],
            Self::Delete => &["delete"],
            Self::Any => &["get", "post", "put", "patch", "delete"],
        }
    }
}

/// A credential a route accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Auth {
    /// HTTP Basic with the user's password.
    Password,
    /// The token page's session cookie, with its CSRF token on writes.
    Session,
    /// A token (`Authorization: Bearer`), whose scope must allow the
    /// route's action.
    Token,
    /// The introspection service credential (`Authorization: Service`).
    Service,
    /// A service key (`Authorization: Service`), to issue tokens for users.
    ServiceKey,
    /// GitHub's signature over the body.
    GithubSignature,
}

/// A query parameter's type.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    /// Text.
    Text,
    /// A whole number.
    Integer,
    /// `true` or `false`.
    Boolean,
    /// One of these words.
    OneOf(&'static [&'static str]),
}

/// A query parameter.
#[derive(Clone, Copy, Debug)]
pub struct Param {
    /// Its name.
    pub name: &'static str,
    /// Its type.
    pub kind: Kind,
    /// What it does, in one sentence.
    pub doc: &'static str,
}

const fn param(name: &'static str, kind: Kind, doc: &'static str) -> Param {
    Param { name, kind, doc }
}

/// What the documentation says of a route.
#[derive(Clone, Copy, Debug)]
pub struct Doc {
    /// A unique name for the operation (OpenAPI's `operationId`).
    pub id: &'static str,
    /// The group it is listed under.
    pub tag: &'static str,
    /// What it does, in one line.
    pub summary: &'static str,
    /// More, in sentences.
    pub description: &'static str,
    /// The credentials it accepts (none: open).
    pub auth: &'static [Auth],
    /// The action a token's scope must allow, when a token is accepted.
    pub action: Option<&'static str>,
    /// Its query parameters.
    pub query: &'static [Param],
    /// The schema of its JSON body (a name in the document's components).
    pub body: Option<&'static str>,
    /// The status of its success and the schema of that answer's body
    /// (`None`: no JSON body).
    pub answer: (u16, Option<&'static str>),
    /// The statuses of its refusals, each with an error body.
    pub errors: &'static [u16],
    /// The media type of a success that is not JSON.
    pub media: Option<&'static str>,
}

const DOC: Doc = Doc {
    id: "",
    tag: "",
    summary: "",
    description: "",
    auth: &[],
    action: None,
    query: &[],
    body: None,
    answer: (200, None),
    errors: &[],
    media: None,
};

/// A route: how it is served and what the documentation says.
pub struct Route {
    /// The method.
    pub verb: Verb,
    /// The path, with `{name}` segments (`{*name}`: the rest of the path).
    pub path: &'static str,
    /// What the documentation says.
    pub doc: Doc,
    /// The handler, with its layers.
    pub handler: MethodRouter<Arc<App>>,
}

fn route(verb: Verb, path: &'static str, handler: MethodRouter<Arc<App>>, doc: Doc) -> Route {
    Route {
        verb,
        path,
        doc,
        handler,
    }
}

const USER: &[Auth] = &[Auth::Password, Auth::Session, Auth::Token];
const PASSWORD: &[Auth] = &[Auth::Password, Auth::Session];
const TOKEN: &[Auth] = &[Auth::Token];
const SERVICE: &[Auth] = &[Auth::Service];
const CASCADE: &[Param] = &[param(
    "cascade",
    Kind::Boolean,
    "Also changes every token the target created, directly or transitively.",
)];
const AUTH_ERRORS: &[u16] = &[401, 403];
const WRITE_ERRORS: &[u16] = &[400, 401, 403, 404, 409, 413, 415, 422];

const EXPIRING_QUERY: &[Param] = &[param(
    "days",
    Kind::Integer,
    "The window in days (default 7).",
)];
const ADMIN_LIST_QUERY: &[Param] = &[
    param(
        "status",
        Kind::OneOf(&["active", "inactive"]),
        "Only tokens with this status.",
    ),
    param("neverUsed", Kind::Boolean, "Only tokens never used."),
    param(
        "createdBy",
        Kind::OneOf(&["user", "token"]),
        "Only tokens made by the user, or by a token.",
    ),
    param(
        "expiringDays",
        Kind::Integer,
        "Only tokens valid now that expire within this many days.",
    ),
];
const AUDIT_QUERY: &[Param] = &[
    param(
        "user",
        Kind::Text,
        "Only events about this user (administrators; yourself otherwise).",
    ),
    param("tokenId", Kind::Text, "Only events about this token."),
    param(
        "event",
        Kind::Text,
        "Only events with this name, such as token.created.",
    ),
    param(
        "since",
        Kind::Text,
        "Only events at or after this RFC 3339 time.",
    ),
    param("cursor", Kind::Text, "The `next` of the previous page."),
    param(
        "limit",
        Kind::Integer,
        "Events per page, 1 to 500 (default 100).",
    ),
];
const FEED_QUERY: &[Param] = &[param(
    "after",
    Kind::Integer,
    "The cursor of the previous answer.",
)];

/// Every route, in the order the documentation lists them.
pub fn all() -> Vec<Route> {
    use Verb::{Any, Delete, Get, Patch, Post, Put};
    vec![
        route(
            Post,
            "/api/usertokens",
            post(tokens::create),
            Doc {
                id: "createToken",
                tag: "tokens",
                summary: "Create a token",
                description: "Creates a token for the caller, shown once in the answer. A token creates only within its own scope and lifetime. With `userId`, an administrator (by password or session) or a service key issues the token for that user, when the deployment's `issueForUsers` setting is on.",
                auth: &[Auth::Password, Auth::Session, Auth::Token, Auth::ServiceKey],
                action: Some("tokens.create"),
                body: Some("CreateToken"),
                answer: (201, Some("Created")),
                errors: WRITE_ERRORS,
                ..DOC
            },
        ),
        route(
            Get,
            "/api/usertokens",
            get(tokens::list),
            Doc {
                id: "listTokens",
                tag: "tokens",
                summary: "List your tokens",
                description: "The caller's tokens, oldest first: metadata, hint, creator, expiry, status and last use; never a token or its hash.",
                auth: USER,
                action: Some("tokens.read"),
                answer: (200, Some("TokenList")),
                errors: AUTH_ERRORS,
                ..DOC
            },
        ),
        route(
            Get,
            "/api/usertokens/expiring",
            get(tokens::expiring),
            Doc {
                id: "listExpiringTokens",
                tag: "tokens",
                summary: "List your tokens that expire soon",
                description: "The caller's tokens that are valid now and expire within the window.",
                auth: USER,
                action: Some("tokens.read"),
                query: EXPIRING_QUERY,
                answer: (200, Some("TokenList")),
                errors: &[400, 401, 403],
                ..DOC
            },
        ),
        route(
            Get,
            "/api/usertokens/{id}",
            get(tokens::detail),
            Doc {
                id: "getToken",
                tag: "tokens",
                summary: "Show one of your tokens",
                description: "Another user's token id is 404, like an unknown one.",
                auth: USER,
                action: Some("tokens.read"),
                answer: (200, Some("Token")),
                errors: &[401, 403, 404],
                ..DOC
            },
        ),
        route(
            Patch,
            "/api/usertokens/{id}",
            patch(tokens::update),
            Doc {
                id: "updateToken",
                tag: "tokens",
                summary: "Rename, describe, deactivate or re-activate a token",
                description: "Scope and expiry are fixed at creation (422 `IMMUTABLE_FIELD`). With `cascade`, a deactivation also deactivates every token the target created, in one transaction; re-activation never cascades. A token may always deactivate itself.",
                auth: USER,
                action: Some("tokens.write"),
                query: CASCADE,
                body: Some("Edit"),
                answer: (200, Some("Updated")),
                errors: WRITE_ERRORS,
                ..DOC
            },
        ),
        route(
            Delete,
            "/api/usertokens/{id}",
            delete(tokens::delete),
            Doc {
                id: "deleteToken",
                tag: "tokens",
                summary: "Delete a token for good",
                description: "204, or with `cascade` 200 and the ids deleted: every token it created goes too, in one transaction. A token may always delete itself.",
                auth: USER,
                action: Some("tokens.write"),
                query: CASCADE,
                answer: (204, None),
                errors: &[400, 401, 403, 404],
                ..DOC
            },
        ),
        route(
            Post,
            "/api/usertokens/{id}/rotate",
            post(tokens::rotate),
            Doc {
                id: "rotateToken",
                tag: "tokens",
                summary: "Rotate a token",
                description: "A new token with the same name, scope and lifetime takes over, shown once; the old one keeps working for the grace period and meanwhile cannot be rotated again or re-activated (409 `TOKEN_ROTATED`).",
                auth: USER,
                action: Some("tokens.create"),
                body: Some("Rotate"),
                answer: (201, Some("Created")),
                errors: WRITE_ERRORS,
                ..DOC
            },
        ),
        route(
            Post,
            "/api/usertokens/deactivate",
            post(tokens::deactivate_all),
            Doc {
                id: "deactivateAllTokens",
                tag: "tokens",
                summary: "Deactivate all your tokens",
                description: "Every active token of the caller, in one transaction. A token may not (403).",
                auth: PASSWORD,
                answer: (200, Some("Deactivated")),
                errors: &[401, 403, 415],
                ..DOC
            },
        ),
        route(
            Get,
            "/api/whoami",
            get(sample::whoami),
            Doc {
                id: "whoami",
                tag: "sample",
                summary: "Who a token belongs to",
                auth: TOKEN,
                answer: (200, Some("Whoami")),
                errors: &[401],
                ..DOC
            },
        ),
        route(
            Get,
            "/api/catalog",
            get(sample::catalog),
            Doc {
                id: "catalog",
                tag: "sample",
                summary: "The deployment's actions",
                description: "The action catalog scopes are made of.",
                auth: USER,
                answer: (200, Some("Catalog")),
                errors: &[401],
                ..DOC
            },
        ),
        route(
            Get,
            "/api/policy",
            get(sample::policy),
            Doc {
                id: "policy",
                tag: "tokens",
                summary: "The deployment's limits on tokens",
                description: "Whether tokens may never expire, the longest lifetime in days and the most tokens a user may hold (null: no limit).",
                auth: USER,
                answer: (200, Some("Policy")),
                errors: &[401],
                ..DOC
            },
        ),
        route(
            Get,
            "/api/apps",
            get(sample::list_apps),
            Doc {
                id: "listApps",
                tag: "sample",
                summary: "List the sample API's apps",
                auth: TOKEN,
                action: Some("apps.read"),
                answer: (200, Some("Apps")),
                errors: AUTH_ERRORS,
                ..DOC
            },
        ),
        route(
            Post,
            "/api/apps",
            post(sample::create_app),
            Doc {
                id: "createApp",
                tag: "sample",
                summary: "Create an app in the sample API",
                auth: TOKEN,
                action: Some("apps.write"),
                body: Some("NewApp"),
                answer: (201, Some("App")),
                errors: &[400, 401, 403, 415],
                ..DOC
            },
        ),
        route(
            Post,
            "/api/deploys",
            post(sample::deploy),
            Doc {
                id: "deploy",
                tag: "sample",
                summary: "Start a deploy in the sample API",
                auth: TOKEN,
                action: Some("deploy.run"),
                body: Some("NewDeploy"),
                answer: (202, Some("Deploy")),
                errors: &[400, 401, 403, 415],
                ..DOC
            },
        ),
        route(
            Put,
            "/api/password",
            put(admin::change_password),
            Doc {
                id: "changePassword",
                tag: "account",
                summary: "Change your password",
                description: "Ends every session of the user (the caller's is renewed); tokens are not affected.",
                auth: PASSWORD,
                body: Some("NewPassword"),
                answer: (204, None),
                errors: &[400, 401, 415, 422],
                ..DOC
            },
        ),
        route(
            Post,
            "/api/session",
            post(session::sign_in),
            Doc {
                id: "signIn",
                tag: "account",
                summary: "Sign in a browser",
                description: "Checks the password (throttled like every password) and sets the session cookie; the answer's CSRF token goes in `X-CSRF-Token` on every write.",
                body: Some("SignIn"),
                answer: (200, Some("Session")),
                errors: &[400, 401, 415, 429, 503],
                ..DOC
            },
        ),
        route(
            Get,
            "/api/session",
            get(session::current),
            Doc {
                id: "currentSession",
                tag: "account",
                summary: "Who is signed in",
                auth: &[Auth::Session],
                answer: (200, Some("Session")),
                errors: &[401],
                ..DOC
            },
        ),
        route(
            Delete,
            "/api/session",
            delete(session::sign_out),
            Doc {
                id: "signOut",
                tag: "account",
                summary: "Sign out",
                auth: PASSWORD,
                answer: (204, None),
                errors: &[401],
                ..DOC
            },
        ),
        route(
            Get,
            "/api/settings",
            get(admin::settings),
            Doc {
                id: "getSettings",
                tag: "administration",
                summary: "The deployment's settings",
                description: "Administrators only.",
                auth: PASSWORD,
                answer: (200, Some("Settings")),
                errors: AUTH_ERRORS,
                ..DOC
            },
        ),
        route(
            Put,
            "/api/settings",
            put(admin::update_settings),
            Doc {
                id: "updateSettings",
                tag: "administration",
                summary: "Change the deployment's settings",
                description: "Sets each setting present (at least one). Administrators only.",
                auth: PASSWORD,
                body: Some("SettingsChange"),
                answer: (200, Some("Settings")),
                errors: &[400, 401, 403, 415],
                ..DOC
            },
        ),
        route(
            Get,
            "/api/users",
            get(admin::users),
            Doc {
                id: "listUsers",
                tag: "administration",
                summary: "Every user and whether their tokens are enabled",
                auth: PASSWORD,
                answer: (200, Some("Users")),
                errors: AUTH_ERRORS,
                ..DOC
            },
        ),
        route(
            Put,
            "/api/users/{name}/tokens",
            put(admin::set_user_tokens),
            Doc {
                id: "setUserTokens",
                tag: "administration",
                summary: "Enable or disable a user's tokens",
                description: "Turning a member off refuses their tokens at once on every surface (`TOKENS_DISABLED`); nothing is deleted, and turning them on again restores the tokens.",
                auth: PASSWORD,
                body: Some("UserTokens"),
                answer: (200, Some("User")),
                errors: &[400, 401, 403, 404, 415],
                ..DOC
            },
        ),
        route(
            Get,
            "/api/admin/users/{name}/tokens",
            get(console::list),
            Doc {
                id: "adminListTokens",
                tag: "administration",
                summary: "A user's tokens, for an administrator",
                auth: PASSWORD,
                query: ADMIN_LIST_QUERY,
                answer: (200, Some("TokenList")),
                errors: &[400, 401, 403],
                ..DOC
            },
        ),
        route(
            Patch,
            "/api/admin/users/{name}/tokens/{id}",
            patch(console::update),
            Doc {
                id: "adminUpdateToken",
                tag: "administration",
                summary: "Deactivate or re-activate a user's token",
                description: "`status` only: a name or description is the owner's (403).",
                auth: PASSWORD,
                query: CASCADE,
                body: Some("Edit"),
                answer: (200, Some("Updated")),
                errors: WRITE_ERRORS,
                ..DOC
            },
        ),
        route(
            Delete,
            "/api/admin/users/{name}/tokens/{id}",
            delete(console::delete),
            Doc {
                id: "adminDeleteToken",
                tag: "administration",
                summary: "Delete a user's token",
                auth: PASSWORD,
                query: CASCADE,
                answer: (204, None),
                errors: &[400, 401, 403, 404],
                ..DOC
            },
        ),
        route(
            Post,
            "/api/admin/users/{name}/tokens/deactivate",
            post(console::deactivate_all),
            Doc {
                id: "adminDeactivateAllTokens",
                tag: "administration",
                summary: "Deactivate every token of a user",
                auth: PASSWORD,
                answer: (200, Some("Deactivated")),
                errors: &[401, 403, 415],
                ..DOC
            },
        ),
        route(
            Get,
            "/api/audit",
            get(audit::list),
            Doc {
                id: "listAuditEvents",
                tag: "audit",
                summary: "The audit log, newest first",
                description: "Administrators read every event; anyone else the events about them or done by them. No token reads it.",
                auth: PASSWORD,
                query: AUDIT_QUERY,
                answer: (200, Some("AuditPage")),
                errors: &[400, 401, 404],
                ..DOC
            },
        ),
        route(
            Post,
            "/api/webhooks",
            post(webhooks::create),
            Doc {
                id: "createWebhook",
                tag: "webhooks",
                summary: "Subscribe to webhooks about tokens",
                description: "Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature) for token.expiring, token.expired, token.leaked, token.deactivated and token.deleted: the caller's own tokens, or every user's (deploymentWide, administrators only). The answer holds the signing secret, shown this once. Delivery retries with exponential backoff and survives restarts; an event keeps its id on every attempt.",
                auth: PASSWORD,
                body: Some("CreateWebhook"),
                answer: (201, Some("WebhookCreated")),
                errors: &[400, 401, 403, 415, 422],
                ..DOC
            },
        ),
        route(
            Get,
            "/api/webhooks",
            get(webhooks::list),
            Doc {
                id: "listWebhooks",
                tag: "webhooks",
                summary: "Webhook subscriptions and how their delivery goes",
                description: "The caller's; an administrator's list holds every subscription. Secrets are never listed.",
                auth: PASSWORD,
                answer: (200, Some("Webhooks")),
                errors: &[401],
                ..DOC
            },
        ),
        route(
            Delete,
            "/api/webhooks/{id}",
            delete(webhooks::delete),
            Doc {
                id: "deleteWebhook",
                tag: "webhooks",
                summary: "Unsubscribe",
                auth: PASSWORD,
                answer: (204, None),
                errors: &[401, 404],
                ..DOC
            },
        ),
        route(
            Get,
            "/api/introspect/{hash}",
            get(introspect::introspect),
            Doc {
                id: "introspect",
                tag: "gateways",
                summary: "The record stored under a token hash",
                description: "For gateways that verify tokens themselves with the core (the Envoy filter). Served only when the host has an introspection credential.",
                auth: SERVICE,
                answer: (200, Some("Introspection")),
                errors: &[401, 404],
                ..DOC
            },
        ),
        route(
            Get,
            "/api/revocations",
            get(introspect::changes),
            Doc {
                id: "revocations",
                tag: "gateways",
                summary: "The change feed gateways poll",
                description: "Hashes of tokens changed or deleted after the cursor, oldest first.",
                auth: SERVICE,
                query: FEED_QUERY,
                answer: (200, Some("Revocations")),
                errors: &[400, 401, 404],
                ..DOC
            },
        ),
        route(
            Post,
            "/api/last-used",
            post(introspect::last_used).layer(DefaultBodyLimit::max(introspect::USES_BODY_LIMIT)),
            Doc {
                id: "reportLastUsed",
                tag: "gateways",
                summary: "Report uses of tokens a gateway let through",
                auth: SERVICE,
                body: Some("Uses"),
                answer: (204, None),
                errors: &[400, 401, 404, 413, 415],
                ..DOC
            },
        ),
        route(
            Any,
            ext_authz::PREFIX,
            any(ext_authz::check),
            Doc {
                id: "extAuthzRoot",
                tag: "gateways",
                summary: "Envoy ext_authz check of the path /",
                description: "Envoy's ext_authz HTTP protocol: the same rules, codes and identity headers as the Envoy filter. Served only with an ext_authz configuration.",
                auth: TOKEN,
                answer: (200, None),
                errors: &[401, 403, 404],
                ..DOC
            },
        ),
        route(
            Any,
            "/ext_authz/{*path}",
            any(ext_authz::check),
            Doc {
                id: "extAuthz",
                tag: "gateways",
                summary: "Envoy ext_authz check of a path",
                description: "As above, for the request path after `/ext_authz`.",
                auth: TOKEN,
                answer: (200, None),
                errors: &[401, 403, 404],
                ..DOC
            },
        ),
        route(
            Post,
            "/api/github/secret-scanning",
            post(github::alert).layer(DefaultBodyLimit::max(github::BODY_LIMIT)),
            Doc {
                id: "githubSecretScanning",
                tag: "gateways",
                summary: "GitHub secret scanning alerts",
                description: "Deactivates every real token GitHub found in public code. Served only with GitHub's keys.",
                auth: &[Auth::GithubSignature],
                body: Some("GithubAlerts"),
                answer: (200, Some("GithubVerdicts")),
                errors: &[400, 401, 404, 413, 415],
                ..DOC
            },
        ),
        route(
            Get,
            "/api/openapi.json",
            get(docs::openapi),
            Doc {
                id: "openapi",
                tag: "documentation",
                summary: "This document",
                answer: (200, None),
                media: Some("application/json"),
                ..DOC
            },
        ),
        route(
            Get,
            "/api/docs",
            get(docs::page),
            Doc {
                id: "docs",
                tag: "documentation",
                summary: "This document as a page, with Try it out",
                media: Some("text/html"),
                ..DOC
            },
        ),
        route(
            Get,
            "/",
            get(ui::index),
            Doc {
                id: "page",
                tag: "page",
                summary: "The token page",
                media: Some("text/html"),
                ..DOC
            },
        ),
        route(
            Get,
            "/ui/{asset}",
            get(ui::asset_named),
            Doc {
                id: "asset",
                tag: "page",
                summary: "The pages' scripts, stylesheet and icon",
                description: "app.js and the modules it imports, docs.js, app.css, icon.svg; anything else is 404.",
                errors: &[404],
                media: Some("text/javascript"),
                ..DOC
            },
        ),
        route(
            Get,
            "/healthz",
            get(sample::healthz),
            Doc {
                id: "healthz",
                tag: "sample",
                summary: "Whether the host is up",
                media: Some("text/plain"),
                ..DOC
            },
        ),
    ]
}
