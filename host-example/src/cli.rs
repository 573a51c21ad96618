//! The command line: `serve`, `user`, `settings` and `token` subcommands,
//! each on the database given by `--db` (default `./tessera.db`).

use std::io::{BufRead, IsTerminal};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

use crate::clock::{Clock, entropy};
use crate::db::{self, Db, Origin};
use crate::plugin::{Actor, Expiry, IssueRequest, Plugin, Request};
use crate::records::Records;
use crate::service_keys::ServiceKeys;
use crate::{auth, client, config, http, settings};

/// A token service: personal access tokens issued and checked by the Tessera
/// core, running as a WebAssembly plugin, stored in SQLite.
#[derive(Parser)]
#[command(name = "tessera-host", version)]
pub struct Cli {
    /// The database: a SQLite file (created if missing), or a
    /// `postgres://user:password@host:port/database` URL when several hosts
    /// share one.
    #[arg(long, global = true, env = "TESSERA_DB", default_value = "tessera.db")]
    db: String,
    /// A deployment configuration JSON file (prefix, catalog, policy,
    /// pepper); the built-in sample deployment when absent.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Shifts the clock by this many milliseconds (for tests of expiry).
    #[arg(
        long,
        global = true,
        default_value_t = 0,
        hide = true,
        allow_negative_numbers = true
    )]
    clock_offset_ms: i64,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serves the HTTP API.
    Serve {
        /// The address to listen on (port 0 picks a free one).
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// A file holding the service credential gateways present to
        /// `GET /api/introspect/{hash}` (at least 16 characters); without
        /// one, introspection is off.
        #[arg(long)]
        introspection_secret_file: Option<PathBuf>,
        /// How long gateways may cache an introspection answer.
        #[arg(long, default_value_t = 5)]
        introspection_cache_seconds: u32,
        /// GitHub's secret scanning public keys (the JSON document GitHub
        /// serves at /meta/public_keys/secret_scanning); with it,
        /// `POST /api/github/secret-scanning` deactivates leaked tokens.
        #[arg(long)]
        github_keys: Option<PathBuf>,
        /// A file of service keys, one `NAME SECRET` per line (secrets of
        /// at least 32 characters): each may issue tokens for users with
        /// `POST /api/usertokens` and a `userId`, presented as
        /// `Authorization: Service SECRET`, when the `issue-for-users`
        /// setting is on.
        #[arg(long)]
        service_keys: Option<PathBuf>,
        /// The Envoy filter's plugin configuration (JSON): with it,
        /// `ANY /ext_authz/...` answers Envoy's ext_authz HTTP checks with
        /// the filter's rules and replies. Its deployment must be this
        /// host's.
        #[arg(long)]
        ext_authz_config: Option<PathBuf>,
        /// How many verified token records to keep in memory (0: none).
        /// The cache is never stale: every change, by this host or any
        /// other process, evicts what it changed before it is acknowledged.
        #[arg(long, default_value_t = 50_000)]
        token_cache: usize,
        #[command(flatten)]
        sign_in: http::SignInOptions,
        #[command(flatten)]
        sessions: http::SessionOptions,
        #[command(flatten)]
        connections: http::ConnectionOptions,
        #[command(flatten)]
        webhooks: crate::webhooks::WebhookFlags,
    },
    /// Manages users.
    #[command(subcommand)]
    User(UserCommand),
    /// Changes deployment settings (a running server sees them at once).
    #[command(subcommand)]
    Settings(SettingsCommand),
    /// Creates, lists, deletes and verifies tokens, for scripts.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Reads the audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Signs in to a running server with a token (asked for without echo,
    /// or read from standard input) and saves it for the commands below.
    Login {
        /// The server's URL (default: TESSERA_URL, else http://127.0.0.1:8080).
        #[arg(long)]
        url: Option<String>,
    },
    /// Forgets the saved token.
    Logout,
    /// GitHub's secret scanning keys, for `serve --github-keys`.
    #[command(subcommand)]
    GithubKeys(GithubKeysCommand),
    /// Finds Tessera tokens (by their shape and checksum, so no false
    /// positives) in files and directories, and with --git in every line
    /// ever committed; prints each place with the token's hint, never the
    /// token. Exits 1 when it finds any, 2 when it cannot finish.
    Scan {
        /// Files or directories (default: the current directory).
        paths: Vec<PathBuf>,
        /// Also scans the git history (all branches) of each path.
        #[arg(long)]
        git: bool,
        /// Deactivates every token found on the server, each by itself.
        #[arg(long)]
        revoke: bool,
        /// The server for --revoke (default: TESSERA_URL, the saved login's,
        /// else http://127.0.0.1:8080).
        #[arg(long)]
        url: Option<String>,
    },
    /// Shows who the saved token (or TESSERA_TOKEN) belongs to.
    Whoami,
    /// The sample API's apps, with the saved token.
    #[command(subcommand)]
    Apps(AppsCommand),
    /// Starts a deploy of an app, with the saved token.
    Deploy {
        /// The app.
        app: String,
    },
}

#[derive(Subcommand)]
enum GithubKeysCommand {
    /// Downloads GitHub's public keys (where a network exists) into FILE,
    /// checked before the old file is replaced.
    Fetch {
        /// Where to save them.
        #[arg(long)]
        out: PathBuf,
        /// Another address (a mirror; tests).
        #[arg(long)]
        url: Option<String>,
    },
}

#[derive(Subcommand)]
enum AppsCommand {
    /// Lists the apps (needs apps.read).
    List,
    /// Creates an app (needs apps.write).
    Create {
        /// The app's name.
        name: String,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Adds a user; the password is read from standard input.
    Add {
        /// The user name.
        name: String,
        /// Makes the user an administrator.
        #[arg(long)]
        admin: bool,
    },
    /// Sets a user's password, read from standard input. Tokens keep working.
    Passwd {
        /// The user name.
        name: String,
    },
    /// Changes a user: `--tokens on|off|inherit` sets whether they may
    /// generate and use tokens (`inherit`: the deployment's default for
    /// members, `members-can-create-tokens`; administrators always may),
    /// `--admin true|false` makes them an administrator or a member.
    /// Turning a member off refuses their tokens at once; nothing is
    /// deleted.
    Set {
        /// The user name.
        name: String,
        /// `on`, `off` or `inherit`.
        #[arg(long, value_name = "on|off|inherit")]
        tokens: Option<String>,
        /// `true` or `false`.
        #[arg(long, value_name = "true|false")]
        admin: Option<bool>,
    },
    /// Lists users: name, administrator or member, token setting, and
    /// whether their tokens are enabled.
    List,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Writes the audit log as JSON lines, oldest first: every event, or
    /// those after the sequence number `--after` (the `seq` of the last
    /// line of an earlier export, to continue it).
    Export {
        /// Only events with a larger `seq`.
        #[arg(long, default_value_t = 0)]
        after: i64,
    },
}

#[derive(Subcommand)]
enum SettingsCommand {
    /// Sets a setting: `members-can-create-tokens true|false`, the default
    /// for members whose own setting is `inherit` (whether they may
    /// generate and use tokens); `issue-for-users true|false`, whether
    /// administrators and service keys may create tokens for users (off by
    /// default).
    Set {
        /// The setting's name.
        name: String,
        /// Its value.
        value: String,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Creates a token for a user and prints it (shown once).
    Create {
        /// The owner.
        #[arg(long)]
        user: String,
        /// The token's name.
        #[arg(long)]
        name: String,
        /// A description.
        #[arg(long)]
        description: Option<String>,
        /// `never`, a number of days, or an RFC 3339 time.
        #[arg(long, default_value = "never")]
        expires: String,
        /// The scope as JSON.
        #[arg(long, default_value = r#"{"preset":"all"}"#)]
        scope: String,
        /// A CIDR range (`10.0.0.0/8`, `2001:db8::/32`) or address the
        /// token may be used from; repeat for several. Without one, the
        /// token may be used from anywhere.
        #[arg(long = "allow-ip", value_name = "CIDR")]
        allow_ip: Vec<String>,
    },
    /// Lists a user's tokens (never their values).
    List {
        /// The owner.
        #[arg(long)]
        user: String,
    },
    /// Deletes a token for good (`revoke` is an older name for it).
    #[command(alias = "revoke")]
    Delete {
        /// The owner.
        #[arg(long)]
        user: String,
        /// Also deletes every token it created, directly or transitively.
        #[arg(long)]
        cascade: bool,
        /// The token's id.
        id: String,
    },
    /// Verifies a token (or `Authorization` value) for an action.
    Verify {
        /// The token, or `-` to read it from standard input.
        token: String,
        /// The action to check; without one, only authenticates.
        #[arg(long)]
        action: Option<String>,
        /// The resource the action is on.
        #[arg(long)]
        resource: Option<String>,
        /// The client address to verify from; a token with allowed IP
        /// ranges is refused without one.
        #[arg(long)]
        ip: Option<IpAddr>,
    },
}

/// Runs the command line.
pub fn run(cli: Cli) -> Result<()> {
    // The database is opened by the commands that use it: the client
    // commands talk to a server over HTTP and never create one.
    let db = || Ok::<_, anyhow::Error>(Arc::new(Db::connect(&cli.db)?));
    let clock = Clock::with_offset(cli.clock_offset_ms);
    let config = || config::load(cli.config.as_deref());
    let plugin = |db: &Arc<Db>| Plugin::new(db.clone(), config()?);
    match cli.command {
        Command::Login { url } => client::login(url),
        Command::Logout => client::logout(),
        Command::GithubKeys(GithubKeysCommand::Fetch { out, url }) => {
            client::fetch_github_keys(&out, url)
        }
        Command::Scan {
            paths,
            git,
            revoke,
            url,
        } => client::scan(paths, git, revoke, url),
        Command::Whoami => client::whoami(clock),
        Command::Apps(AppsCommand::List) => client::apps_list(clock),
        Command::Apps(AppsCommand::Create { name }) => client::apps_create(&name, clock),
        Command::Deploy { app } => client::deploy(&app, clock),
        Command::Serve {
            listen,
            introspection_secret_file,
            introspection_cache_seconds,
            github_keys,
            service_keys,
            ext_authz_config,
            token_cache,
            sign_in,
            sessions,
            connections,
            webhooks,
        } => {
            let introspection = match introspection_secret_file {
                None => None,
                Some(path) => {
                    let secret = std::fs::read_to_string(&path)
                        .with_context(|| format!("cannot read {}", path.display()))?
                        .trim()
                        .to_string();
                    if secret.len() < 16 {
                        bail!(
                            "the service credential in {} is shorter than 16 characters",
                            path.display()
                        );
                    }
                    Some(http::Introspection {
                        secret,
                        cache_seconds: introspection_cache_seconds,
                    })
                }
            };
            let service_keys = match service_keys {
                Some(path) => ServiceKeys::load(&path)?,
                None => ServiceKeys::default(),
            };
            if let Some(introspection) = &introspection
                && service_keys.find(&introspection.secret).is_some()
            {
                bail!("a service key has the introspection credential's secret: give each its own");
            }
            let db = db()?;
            // Read once: the plugin and the catalog route see the same file.
            let deployment = config()?;
            let gate = ext_authz_config
                .as_deref()
                .map(|path| http::Gate::load(path, &deployment))
                .transpose()?;
            let records = Arc::new(match token_cache {
                0 => Records::direct(db.clone()),
                capacity => Records::cached(db.clone(), capacity),
            });
            let app = Arc::new(http::App {
                catalog: config::catalog(&deployment)?,
                policy: config::policy(&deployment)?,
                plugin: Plugin::with_records(records.clone(), deployment)?,
                db,
                clock,
                apps: Mutex::new(Vec::new()),
                introspection,
                writing: Mutex::new(()),
                sign_in: http::SignIn::new(&sign_in).context("cannot start password hashing")?,
                sessions,
                body_timeout: std::time::Duration::from_secs(connections.body_timeout_seconds),
                github: github_keys
                    .as_deref()
                    .map(http::GithubKeys::load)
                    .transpose()?,
                gate,
                service_keys,
                database_turns: tokio::sync::Semaphore::new(db::POSTGRES_POOL_SIZE),
                refusals: Default::default(),
                webhooks: webhooks.options(),
            });
            crate::webhooks::start(app.db.clone(), app.clock, app.webhooks.clone())
                .context("cannot start the webhook delivery thread")?;
            let served = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?
                .block_on(http::serve(app, listen, connections));
            records.flush_touches();
            served
        }
        Command::User(UserCommand::Add { name, admin }) => {
            if name.is_empty()
                || name.len() > 256
                || name.contains(':')
                || name.chars().any(char::is_control)
            {
                bail!("a user name is 1 to 256 bytes without ':' or control characters");
            }
            db()?.add_user(
                &name,
                &auth::hash_password(&read_secret("password")?)?,
                admin,
                &Origin::operator(clock.now()),
            )?;
            println!("added {}{name}", if admin { "administrator " } else { "" });
            Ok(())
        }
        Command::User(UserCommand::Passwd { name }) => {
            let hash = auth::hash_password(&read_secret("new password")?)?;
            if !db()?.set_password(&name, &hash, &Origin::operator(clock.now()))? {
                bail!("no user named {name:?}");
            }
            println!("password changed for {name}; their tokens are unaffected");
            Ok(())
        }
        Command::User(UserCommand::Set {
            name,
            tokens,
            admin,
        }) => {
            let tokens = match tokens.as_deref().map(tessera_core::Enablement::parse) {
                Some(None) => bail!("--tokens is on, off or inherit"),
                Some(Some(tokens)) => Some(tokens),
                None => None,
            };
            if tokens.is_none() && admin.is_none() {
                bail!("nothing to change: give --tokens or --admin");
            }
            let db = db()?;
            if db.user(&name)?.is_none() {
                bail!("no user named {name:?}");
            }
            let origin = Origin::operator(clock.now());
            if let Some(admin) = admin {
                db.set_user_admin(&name, admin, &origin)?;
            }
            if let Some(tokens) = tokens {
                db.set_user_tokens(&name, tokens, &origin)?;
            }
            let standing = settings::standing(&db, &name)?;
            let state = if standing.tokens_enabled() {
                "enabled"
            } else {
                "disabled: their tokens are refused until enabled again; nothing is deleted"
            };
            println!(
                "{name}: {}, tokens {} ({state})",
                if standing.admin { "admin" } else { "member" },
                standing.tokens.as_str()
            );
            Ok(())
        }
        Command::User(UserCommand::List) => {
            let db = db()?;
            let members_enabled = settings::members_can_create_tokens(&db)?;
            for user in db.users()? {
                let standing = tessera_core::Standing {
                    admin: user.admin,
                    tokens: user.tokens,
                    members_enabled,
                };
                println!(
                    "{}\t{}\ttokens {}\t{}",
                    user.name,
                    if user.admin { "admin" } else { "member" },
                    user.tokens.as_str(),
                    if standing.tokens_enabled() {
                        "enabled"
                    } else {
                        "disabled"
                    },
                );
            }
            Ok(())
        }
        Command::Settings(SettingsCommand::Set { name, value }) => {
            settings::set_by_name(&*db()?, &name, &value, &Origin::operator(clock.now()))?;
            println!("{name} = {value}");
            Ok(())
        }
        Command::Token(command) => token(command, &plugin(&db()?)?, clock),
        Command::Audit(AuditCommand::Export { after }) => export_audit(&*db()?, after),
    }
}

/// The CLI acts for `user` with an operator's rights: whoever runs it holds
/// the database, so it may do what the user's administrator could.
fn operator(user: &str) -> Actor {
    Actor::user(user, crate::settings::OPERATOR)
}

/// Writes the audit log after `after` to standard output as JSON lines, a
/// page at a time, so its size never matters.
fn export_audit(db: &Db, mut after: i64) -> Result<()> {
    use std::io::Write;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    loop {
        let page = db.audit_after(after, 1000)?;
        let Some(last) = page.last() else {
            break;
        };
        after = last.seq;
        for entry in &page {
            serde_json::to_writer(&mut out, entry)?;
            out.write_all(b"\n")?;
        }
    }
    out.flush()?;
    Ok(())
}

fn token(command: TokenCommand, plugin: &Plugin, clock: Clock) -> Result<()> {
    let failed = |e: crate::plugin::TokenError| anyhow::anyhow!("{} ({})", e.message, e.code);
    match command {
        TokenCommand::Create {
            user,
            name,
            description,
            expires,
            scope,
            allow_ip,
        } => {
            let request = IssueRequest {
                name,
                description,
                expires: parse_expiry(&expires)?,
                scope,
                allowed_ips: allow_ip,
            };
            let issued = plugin
                .issue(
                    &Origin::operator(clock.now()),
                    &operator(&user),
                    &request,
                    clock.now(),
                    &entropy()?,
                )?
                .map_err(failed)?;
            println!("{}", issued.token);
            eprintln!("record: {}", issued.record);
        }
        TokenCommand::List { user } => {
            for record in plugin
                .list(&operator(&user), clock.now())?
                .map_err(failed)?
            {
                println!("{record}");
            }
        }
        TokenCommand::Delete { user, id, cascade } => {
            let origin = Origin::operator(clock.now());
            let origin = if cascade {
                origin.cascading_from(&id)
            } else {
                origin
            };
            let deleted = plugin
                .delete(&origin, &operator(&user), &id, cascade, clock.now())?
                .map_err(failed)?;
            for id in deleted {
                println!("deleted {id}");
            }
        }
        TokenCommand::Verify {
            token,
            action,
            resource,
            ip,
        } => {
            let token = if token == "-" {
                read_secret("token")?
            } else {
                token
            };
            let request = action.map(|action| Request { action, resource });
            let principal = plugin
                .verify(&token, request.as_ref(), ip, clock.now())?
                .map_err(failed)?;
            println!(
                "valid: user {} token {} scope {}",
                principal.user_id, principal.token_id, principal.scope
            );
        }
    }
    Ok(())
}

/// `never`, a number of days or an RFC 3339 time: the core's grammar.
fn parse_expiry(text: &str) -> Result<Expiry> {
    text.parse::<tessera_core::Expiry>()
        .map(Expiry::from)
        .map_err(|e| anyhow::anyhow!("--expires {text:?}: {e}"))
}

/// A secret: asked for without echo on a terminal, else one line of
/// standard input without its line ending.
fn read_secret(what: &str) -> Result<String> {
    let secret = if std::io::stdin().is_terminal() {
        rpassword::prompt_password(format!("{what} (input is hidden): "))?
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        line.trim_end_matches(['\r', '\n']).to_string()
    };
    if secret.is_empty() {
        bail!("no {what} on standard input");
    }
    Ok(secret)
}
