//! `tessera-host scan`: finds Tessera tokens in files, directories and git
//! history by their shape *and* their checksum, so that every finding is a
//! real token (a random string of the same shape passes the CRC32 check once
//! in four billion). Findings name the place and the token's hint, never the
//! token; with `--revoke`, each token found deactivates itself through the
//! server's API (a token may always deactivate itself).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use tessera_core::Presented;

/// Files larger than this are passed over (and said so).
const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// The longest prefix a deployment may choose.
const MAX_PREFIX: usize = 16;

/// The characters after the prefix's underscore: 43 of body, 6 of checksum.
const TAIL: usize = 49;

/// A token found somewhere. Its `Debug` shows the hint only.
pub struct Finding {
    /// Where: `path:line`, or `commit:path:line` in history.
    pub place: String,
    /// The token's hint (`tsr_AbCd…`).
    pub hint: String,
    token: String,
}

impl std::fmt::Debug for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Finding({} {})", self.place, self.hint)
    }
}

impl Finding {
    /// The token itself, for revoking it; never printed.
    pub fn token(&self) -> &str {
        &self.token
    }
}

/// The tokens in one line of text: every `prefix_` + 49 letters and digits,
/// bounded by characters that cannot be part of a token, whose checksum
/// holds.
pub fn tokens_in(line: &str) -> Vec<Presented<'_>> {
    let bytes = line.as_bytes();
    let mut found = Vec::new();
    for (underscore, _) in line.match_indices('_') {
        let mut start = underscore;
        while start > 0
            && underscore - start < MAX_PREFIX
            && matches!(bytes[start - 1], b'a'..=b'z' | b'0'..=b'9')
        {
            start -= 1;
        }
        let end = underscore + 1 + TAIL;
        let bounded_before = start == 0 || !is_token_byte(bytes[start - 1]);
        let bounded_after = bytes.get(end).is_none_or(|b| !is_token_byte(*b));
        if start == underscore || !bounded_before || !bounded_after || end > bytes.len() {
            continue;
        }
        if let Some(candidate) = line.get(start..end)
            && let Ok(token) = Presented::parse_any(candidate)
        {
            found.push(token);
        }
    }
    found
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Scans `text`, naming each finding `label:line`.
fn scan_text(label: &str, text: &str, findings: &mut Vec<Finding>) {
    for (index, line) in text.lines().enumerate() {
        for token in tokens_in(line) {
            findings.push(Finding {
                place: format!("{label}:{}", index + 1),
                hint: token.hint(),
                token: token.expose().to_string(),
            });
        }
    }
}

/// Scans files and directories (recursively; `.git` folders and symbolic
/// links are passed over). Files that cannot be read are reported on
/// standard error and skipped.
pub fn scan_paths(paths: &[PathBuf]) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut pending: Vec<PathBuf> = paths.to_vec();
    // Bounded: every directory entry is visited once (links are not
    // followed), so the walk ends with the tree.
    while let Some(path) = pending.pop() {
        let Ok(metadata) = std::fs::symlink_metadata(&path) else {
            eprintln!("scan: cannot read {}", path.display());
            continue;
        };
        if metadata.is_dir() {
            if path.file_name().is_some_and(|name| name == ".git") {
                continue;
            }
            match std::fs::read_dir(&path) {
                Ok(entries) => {
                    let mut children: Vec<PathBuf> =
                        entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
                    children.sort();
                    children.reverse();
                    pending.extend(children);
                }
                Err(e) => eprintln!("scan: cannot list {}: {e}", path.display()),
            }
        } else if metadata.is_file() {
            if metadata.len() > MAX_FILE_BYTES {
                eprintln!("scan: {} is over 64 MiB; passed over", path.display());
                continue;
            }
            match std::fs::read(&path) {
                Ok(bytes) => scan_text(
                    &path.display().to_string(),
                    &String::from_utf8_lossy(&bytes),
                    &mut findings,
                ),
                Err(e) => eprintln!("scan: cannot read {}: {e}", path.display()),
            }
        }
    }
    findings
}

/// Scans every line ever added in the git history of the repository at
/// `repo` (all branches), naming findings `commit:path:line`.
pub fn scan_history(repo: &Path) -> Result<Vec<Finding>> {
    let output = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args([
            "log",
            "--all",
            "-p",
            "--no-color",
            "--no-ext-diff",
            "--unified=0",
            "--format=commit %H",
        ])
        .output()
        .context("cannot run git")?;
    if !output.status.success() {
        bail!(
            "git log in {} failed: {}",
            repo.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let log = String::from_utf8_lossy(&output.stdout);
    let mut findings = Vec::new();
    let (mut commit, mut file, mut line_no) = (String::new(), String::new(), 0usize);
    for line in log.lines() {
        if let Some(hash) = line.strip_prefix("commit ") {
            commit = hash.chars().take(12).collect();
        } else if let Some(path) = line.strip_prefix("+++ ") {
            file = path.strip_prefix("b/").unwrap_or(path).to_string();
        } else if let Some(hunk) = line.strip_prefix("@@ ") {
            // "@@ -a,b +c,d @@": added lines are numbered from c.
            line_no = hunk
                .split_whitespace()
                .find_map(|part| part.strip_prefix('+'))
                .and_then(|part| part.split(',').next())
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
        } else if let Some(added) = line.strip_prefix('+') {
            for token in tokens_in(added) {
                findings.push(Finding {
                    place: format!("{commit}:{file}:{line_no}"),
                    hint: token.hint(),
                    token: token.expose().to_string(),
                });
            }
            line_no += 1;
        }
    }
    Ok(findings)
}

/// The distinct tokens among `findings`, each with its first place.
pub fn distinct(findings: &[Finding]) -> BTreeMap<&str, &Finding> {
    let mut tokens = BTreeMap::new();
    for finding in findings {
        tokens.entry(finding.token()).or_insert(finding);
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real token of prefix `tsr`, made by the core.
    fn token() -> String {
        let catalog = tessera_core::Catalog::from_pairs([("a.b", &[][..])]).unwrap();
        let deployment =
            tessera_core::Deployment::new(tessera_core::Prefix::new("tsr").unwrap(), catalog);
        let scope = tessera_core::ScopeSpec::actions(["a.b"]);
        let issued = deployment
            .issue(
                &tessera_core::IssueRequest {
                    user_id: "u",
                    name: "n",
                    description: None,
                    expires: tessera_core::Expiry::Never,
                    scope: &scope,
                    allowed_ips: &[],
                    creator: tessera_core::Creator::User,
                    tokens_held: 0,
                },
                1_800_000_000_000,
                &[7u8; 32],
            )
            .unwrap();
        issued.token.expose().to_string()
    }

    #[test]
    fn finds_real_tokens_only_and_shows_hints() {
        let real = token();
        let mut typo = real.clone().into_bytes();
        typo[10] = if typo[10] == b'a' { b'b' } else { b'a' };
        let typo = String::from_utf8(typo).unwrap();
        let text = format!(
            "export TOKEN={real}\n\"{typo}\"\nghp_{}\nx{real}\n({real})",
            "a".repeat(36)
        );
        let found: Vec<String> = text
            .lines()
            .flat_map(|line| tokens_in(line).into_iter().map(|t| t.hint()))
            .collect();
        // The real one twice (bounded by '=' and by parentheses); not the
        // typo, not another vendor's, not one glued to a letter.
        assert_eq!(
            found,
            [real[..8].to_string() + "…", real[..8].to_string() + "…"]
        );
        let finding = Finding {
            place: "f:1".into(),
            hint: "h".into(),
            token: real.clone(),
        };
        assert!(!format!("{finding:?}").contains(&real));
    }
}
