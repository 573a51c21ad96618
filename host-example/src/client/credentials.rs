//! The saved sign-in: server URL and token in
//! `$XDG_CONFIG_HOME/tessera/credentials` (or `~/.config/tessera/...`),
//! a file only its owner may read, written atomically.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

/// What `login` saves. No `Debug`: it holds the token.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Credentials {
    /// The server's base URL.
    pub url: String,
    /// The token.
    pub token: String,
    /// When the token expires (ms since the epoch), as the server said at
    /// login, so an expiry can be named once the server refuses the token.
    pub expires_at: Option<i64>,
}

/// The credentials file's path.
pub fn path() -> Result<PathBuf> {
    let base = match std::env::var_os("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => match std::env::var_os("HOME").filter(|v| !v.is_empty()) {
            Some(home) => PathBuf::from(home).join(".config"),
            None => bail!("neither XDG_CONFIG_HOME nor HOME is set: nowhere to keep credentials"),
        },
    };
    Ok(base.join("tessera").join("credentials"))
}

/// The saved credentials, if any. A file others can read or write is
/// refused, with the command that fixes it.
pub fn load() -> Result<Option<Credentials>> {
    let path = path()?;
    let metadata = match fs::metadata(&path) {
        Ok(metadata) => metadata,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let mode = metadata.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        bail!(
            "{} can be read or written by other users (mode {mode:o}), so it is not used; \
             run `chmod 600 {}` (or log in again)",
            path.display(),
            path.display()
        );
    }
    let text =
        fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let credentials = serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is damaged; run `tessera-host login` again",
            path.display()
        )
    })?;
    Ok(Some(credentials))
}

/// Saves credentials: the directory is made (or tightened to) 0700, the
/// file is written to a temporary 0600 file, synced, and renamed over the
/// old one, so a crash leaves either the old file or the new one.
pub fn save(credentials: &Credentials) -> Result<PathBuf> {
    let path = path()?;
    let dir = path
        .parent()
        .context("the credentials path has no directory")?;
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("cannot create {}", dir.display()))?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    let temporary = dir.join(format!(".credentials.{}", std::process::id()));
    let _ = fs::remove_file(&temporary);
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&temporary)
        .with_context(|| format!("cannot create {}", temporary.display()))?;
    file.write_all(serde_json::to_string(credentials)?.as_bytes())?;
    file.sync_all()?;
    drop(file);
    fs::rename(&temporary, &path).with_context(|| format!("cannot write {}", path.display()))?;
    File::open(dir)?.sync_all()?;
    Ok(path)
}

/// Removes the saved credentials; false when there were none.
pub fn remove() -> Result<bool> {
    let path = path()?;
    match fs::remove_file(&path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e).with_context(|| format!("cannot remove {}", path.display())),
    }
}
