//! A cheap answer to "has any connection committed since?": the header of
//! SQLite's WAL index, read from the `-shm` file.
//!
//! In WAL mode every commit, by any connection of any process, rewrites
//! the WAL index header in the shared `-shm` file: its change counter goes
//! up, and its frame count, running frame checksum and salts move with the
//! log. A header read twice with the same bytes therefore means that no
//! commit completed in between. Reading it is one `pread` and takes no
//! database lock, where `PRAGMA data_version` opens a read transaction and
//! takes file locks. A checkpoint that restarts the log rewrites the header
//! too (a needless recheck, never a missed one). The one way back to bytes
//! seen before is a recovery, after a writer died mid-write, rebuilding a
//! header identical to an earlier one: change counter, frame count, salts
//! and a checksum over every frame of the log all equal, which would take
//! the same log.
//!
//! A commit writes the header's second copy first and the first copy
//! last, and returns only after both; this module reads the first copy.
//! A read that races a commit may mix old and new words: it then differs
//! from the old header unless every changed word was still old, that is,
//! unless the commit had not finished (and so had not been acknowledged
//! to anyone) when the read began.
//!
//! The file is read with `pread` rather than mapped: a file truncated under
//! a mapping would kill the process on the next read, where a short read
//! here only means "unknown" and the caller asks SQLite instead.

use std::collections::BTreeMap;
use std::fs::File;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::sync::{Arc, Mutex};

use rusqlite::Connection;

/// The size of one copy of the WAL index header (`WalIndexHdr`).
const HEADER_LEN: usize = 48;

/// `iVersion` of every WAL index SQLite has written since 3.7.0.
const INDEX_VERSION: u32 = 3_007_000;

/// One read of the WAL index header. Two equal marks mean no commit
/// completed between the two reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommitMark([u8; HEADER_LEN]);

#[cfg(test)]
impl CommitMark {
    /// A mark told apart by `n`, for tests of what reads marks.
    pub fn numbered(n: u8) -> Self {
        Self([n; HEADER_LEN])
    }
}

/// The `-shm` file of a database in WAL mode, open for reading.
pub struct WalIndex {
    file: Arc<File>,
}

impl WalIndex {
    /// Opens the WAL index of `conn`'s main database; `None` when the
    /// database is not a file in WAL mode (in memory, or another journal
    /// mode), so that callers fall back to asking SQLite.
    pub fn open(conn: &Connection) -> Option<Self> {
        let mode: String = conn
            .pragma_query_value(None, "journal_mode", |row| row.get(0))
            .ok()?;
        if !mode.eq_ignore_ascii_case("wal") {
            return None;
        }
        // The name SQLite opened the database by: the full path, symbolic
        // links resolved. SQLite names the index by appending `-shm` to this
        // very string, so the file read here is the one its readers map.
        let path = conn.path().filter(|path| !path.is_empty())?;
        let index = Self {
            file: kept_open(&format!("{path}-shm"))?,
        };
        index.mark().map(|_| index)
    }

    /// The header as it is now; `None` when it cannot be read whole or is
    /// not an initialised index of a version this module knows.
    pub fn mark(&self) -> Option<CommitMark> {
        let mut header = [0u8; HEADER_LEN];
        self.file.read_exact_at(&mut header, 0).ok()?;
        let word = |at: usize| {
            u32::from_ne_bytes([header[at], header[at + 1], header[at + 2], header[at + 3]])
        };
        // iVersion at 0; isInit, the byte after iChange, at 12.
        (word(0) == INDEX_VERSION && header[12] == 1).then_some(CommitMark(header))
    }
}

/// The file at `path`, opened for reading once per file and never closed.
///
/// SQLite locks the `-shm` file with POSIX record locks, which belong to
/// the process: closing *any* descriptor of the file would drop every lock
/// the process holds on it, those of SQLite's live connections included
/// (another process could then reinitialise the index under them). So a
/// descriptor opened here stays open for the life of the process, one per
/// file: a later open of the same name shares it while the name still
/// leads to the same file, and a file replaced since gets a descriptor of
/// its own, the old one kept.
fn kept_open(path: &str) -> Option<Arc<File>> {
    /// Every `-shm` file opened, by name: the latest first, replaced ones
    /// after it.
    static OPENED: Mutex<BTreeMap<String, Vec<Arc<File>>>> = Mutex::new(BTreeMap::new());
    let now = std::fs::metadata(path).ok()?;
    let mut opened = OPENED.lock().unwrap_or_else(|p| p.into_inner());
    let files = opened.entry(path.to_owned()).or_default();
    if let Some(latest) = files.first()
        && let Ok(then) = latest.metadata()
        && (then.dev(), then.ino()) == (now.dev(), now.ino())
    {
        return Some(latest.clone());
    }
    let file = Arc::new(File::open(path).ok()?);
    files.insert(0, file.clone());
    Some(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh directory of this test process.
    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("tessera-wal-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn open(path: &std::path::Path) -> Connection {
        let conn = Connection::open(path).unwrap();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        conn.execute_batch("CREATE TABLE IF NOT EXISTS t (x INTEGER)")
            .unwrap();
        conn
    }

    #[test]
    fn every_commit_moves_the_mark_and_reads_do_not() {
        let dir = scratch("commits");
        let path = dir.join("db.sqlite");
        let ours = open(&path);
        let theirs = open(&path);
        let index = WalIndex::open(&ours).expect("a WAL index");
        let first = index.mark().unwrap();
        let count = |conn: &Connection| -> i64 {
            conn.query_row("SELECT count(*) FROM t", [], |row| row.get(0))
                .unwrap()
        };
        count(&ours);
        count(&theirs);
        assert_eq!(index.mark(), Some(first), "reads commit nothing");
        theirs.execute("INSERT INTO t VALUES (1)", []).unwrap();
        let second = index.mark().unwrap();
        assert_ne!(second, first, "another connection's commit");
        ours.execute("INSERT INTO t VALUES (2)", []).unwrap();
        let third = index.mark().unwrap();
        assert_ne!(third, second, "our own commit");
        // A checkpoint that restarts the log still leaves a new mark for the
        // next commit, never an old one back.
        theirs
            .query_row("PRAGMA wal_checkpoint(RESTART)", [], |_| Ok(()))
            .unwrap();
        theirs.execute("INSERT INTO t VALUES (3)", []).unwrap();
        let fourth = index.mark().unwrap();
        assert!(![first, second, third].contains(&fourth));
        drop((ours, theirs, index));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_database_opened_through_a_symbolic_link_reads_the_real_index() {
        let dir = scratch("symlink");
        let real = dir.join("real.sqlite");
        let link = dir.join("link.sqlite");
        let theirs = open(&real);
        std::os::unix::fs::symlink(&real, &link).unwrap();
        // A stale file beside the link must not be taken for the index.
        std::fs::write(dir.join("link.sqlite-shm"), [0u8; 136]).unwrap();
        let ours = open(&link);
        let index = WalIndex::open(&ours).expect("the real file's index");
        let before = index.mark().unwrap();
        theirs.execute("INSERT INTO t VALUES (1)", []).unwrap();
        assert_ne!(index.mark().unwrap(), before);
        drop((ours, theirs, index));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Dropping a database's index never closes the `-shm` file, which
    /// would release the locks SQLite holds on it for other connections
    /// of this process; a second index of the same file shares the first
    /// one's descriptor.
    #[test]
    fn indexes_share_one_descriptor_that_outlives_them() {
        let dir = scratch("descriptor");
        let path = dir.join("db.sqlite");
        let conn = open(&path);
        let first = WalIndex::open(&conn).unwrap();
        let second = WalIndex::open(&conn).unwrap();
        assert!(Arc::ptr_eq(&first.file, &second.file));
        let file = Arc::downgrade(&first.file);
        drop((first, second));
        assert!(file.upgrade().is_some(), "the descriptor was closed");
        drop(conn);
        // A new file under the same name gets a descriptor of its own.
        std::fs::remove_dir_all(&dir).unwrap();
        std::fs::create_dir_all(&dir).unwrap();
        let conn = open(&path);
        let index = WalIndex::open(&conn).unwrap();
        assert!(!Arc::ptr_eq(&index.file, &file.upgrade().unwrap()));
        let before = index.mark().unwrap();
        open(&path).execute("INSERT INTO t VALUES (1)", []).unwrap();
        assert_ne!(
            index.mark().unwrap(),
            before,
            "the new file's index is read"
        );
        drop((conn, index));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn no_index_without_a_wal_file() {
        let memory = Connection::open_in_memory().unwrap();
        assert!(WalIndex::open(&memory).is_none());
        let dir = scratch("rollback");
        let conn = Connection::open(dir.join("rollback.sqlite")).unwrap();
        conn.execute_batch("CREATE TABLE t (x INTEGER)").unwrap();
        assert!(WalIndex::open(&conn).is_none());
        drop(conn);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
