//! The store database (SQLite): which paths are valid, their NAR hash and size, references,
//! deriver and registration time. A path is valid iff it has a row here; files on disk without a
//! row are litter from an interrupted operation.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use thiserror::Error;

use super::hash::{Hash, HashError};
use super::path::{StoreDir, StorePath, StorePathError};

/// Why a database operation failed.
#[derive(Debug, Error)]
pub enum DbError {
    /// SQLite failed.
    #[error("store database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A row holds a path that does not parse (the database was edited by hand?).
    #[error("store database holds an invalid path: {0}")]
    BadPath(#[from] StorePathError),
    /// A row holds a hash that does not parse.
    #[error("store database holds an invalid hash: {0}")]
    BadHash(#[from] HashError),
    /// Registering a path whose reference is neither valid nor registered with it.
    #[error("cannot register {path}: its reference {reference} is not valid")]
    MissingReference {
        /// The path being registered.
        path: String,
        /// The reference that is missing.
        reference: String,
    },
    /// Invalidating a path that a valid path still refers to.
    #[error("cannot delete {path}: it is still referenced by {referrer}")]
    StillReferenced {
        /// The path to delete.
        path: String,
        /// A valid path referring to it.
        referrer: String,
    },
}

/// Everything the store records about a valid path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathInfo {
    /// The path.
    pub path: StorePath,
    /// SHA-256 of its NAR serialisation.
    pub nar_hash: Hash,
    /// Length of its NAR serialisation.
    pub nar_size: u64,
    /// Store paths it refers to (possibly itself).
    pub references: BTreeSet<StorePath>,
    /// The derivation that built it, if any.
    pub deriver: Option<StorePath>,
    /// Seconds since the epoch when it became valid.
    pub registration_time: i64,
    /// Content address (`fixed:r:sha256:...`, `text:sha256:...`), when content-addressed.
    pub ca: Option<String>,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS ValidPaths (
    id               INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    path             TEXT UNIQUE NOT NULL,
    hash             TEXT NOT NULL,
    registrationTime INTEGER NOT NULL,
    deriver          TEXT,
    narSize          INTEGER,
    ca               TEXT
);
CREATE TABLE IF NOT EXISTS Refs (
    referrer  INTEGER NOT NULL,
    reference INTEGER NOT NULL,
    PRIMARY KEY (referrer, reference),
    FOREIGN KEY (referrer) REFERENCES ValidPaths(id) ON DELETE CASCADE,
    FOREIGN KEY (reference) REFERENCES ValidPaths(id) ON DELETE RESTRICT
);
CREATE INDEX IF NOT EXISTS IndexReferrer ON Refs(referrer);
CREATE INDEX IF NOT EXISTS IndexReference ON Refs(reference);
";

/// An open store database.
pub struct StoreDb {
    conn: Connection,
    store_dir: StoreDir,
}

impl StoreDb {
    /// Opens (creating if needed) the database file for a store with this logical directory.
    pub fn open(file: &Path, store_dir: &StoreDir) -> Result<StoreDb, DbError> {
        let conn = Connection::open(file)?;
        // Other processes may hold the write lock for a while (a big registration).
        conn.busy_timeout(Duration::from_secs(600))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.execute_batch(SCHEMA)?;
        Ok(StoreDb {
            conn,
            store_dir: store_dir.clone(),
        })
    }

    fn full(&self, p: &StorePath) -> String {
        self.store_dir.display(p)
    }

    fn id_of(&self, p: &StorePath) -> Result<Option<i64>, DbError> {
        Ok(self
            .conn
            .query_row(
                "SELECT id FROM ValidPaths WHERE path = ?1",
                [self.full(p)],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Whether the path is registered.
    pub fn is_valid(&self, p: &StorePath) -> Result<bool, DbError> {
        Ok(self.id_of(p)?.is_some())
    }

    /// The registered facts about a path, if valid.
    pub fn query_info(&self, p: &StorePath) -> Result<Option<PathInfo>, DbError> {
        let row = self
            .conn
            .query_row(
                "SELECT id, hash, registrationTime, deriver, narSize, ca FROM ValidPaths WHERE path = ?1",
                [self.full(p)],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, Option<String>>(3)?,
                        r.get::<_, Option<i64>>(4)?,
                        r.get::<_, Option<String>>(5)?,
                    ))
                },
            )
            .optional()?;
        let Some((id, hash, time, deriver, size, ca)) = row else {
            return Ok(None);
        };
        let mut stmt = self.conn.prepare_cached(
            "SELECT v.path FROM Refs r JOIN ValidPaths v ON r.reference = v.id WHERE r.referrer = ?1",
        )?;
        let references = stmt
            .query_map([id], |r| r.get::<_, String>(0))?
            .map(|s| Ok(self.store_dir.parse_path(&s?)?))
            .collect::<Result<BTreeSet<_>, DbError>>()?;
        Ok(Some(PathInfo {
            path: p.clone(),
            nar_hash: Hash::parse(&hash, None)?,
            nar_size: size.unwrap_or(0) as u64,
            references,
            deriver: deriver.map(|d| self.store_dir.parse_path(&d)).transpose()?,
            registration_time: time,
            ca,
        }))
    }

    /// The references of a valid path (empty if it is not valid).
    pub fn references(&self, p: &StorePath) -> Result<BTreeSet<StorePath>, DbError> {
        Ok(self
            .query_info(p)?
            .map(|i| i.references)
            .unwrap_or_default())
    }

    /// The valid paths that refer to `p`.
    pub fn referrers(&self, p: &StorePath) -> Result<BTreeSet<StorePath>, DbError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT v.path FROM Refs r JOIN ValidPaths v ON r.referrer = v.id
             WHERE r.reference = (SELECT id FROM ValidPaths WHERE path = ?1)",
        )?;
        let rows = stmt.query_map([self.full(p)], |r| r.get::<_, String>(0))?;
        rows.map(|s| Ok(self.store_dir.parse_path(&s?)?)).collect()
    }

    /// Every valid path.
    pub fn all_valid(&self) -> Result<BTreeSet<StorePath>, DbError> {
        let mut stmt = self.conn.prepare_cached("SELECT path FROM ValidPaths")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        rows.map(|s| Ok(self.store_dir.parse_path(&s?)?)).collect()
    }

    /// Registers paths in one transaction. References must be valid already or be among
    /// `infos` (including self-references). Paths already valid are left as they are.
    pub fn register(&mut self, infos: &[PathInfo]) -> Result<(), DbError> {
        // IMMEDIATE: a deferred read that later wants to write fails at once in WAL mode.
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        for info in infos {
            tx.execute(
                "INSERT OR IGNORE INTO ValidPaths (path, hash, registrationTime, deriver, narSize, ca)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    self.store_dir.display(&info.path),
                    info.nar_hash.to_string(),
                    info.registration_time,
                    info.deriver.as_ref().map(|d| self.store_dir.display(d)),
                    info.nar_size as i64,
                    info.ca,
                ],
            )?;
        }
        for info in infos {
            for r in &info.references {
                let n = tx.execute(
                    "INSERT OR IGNORE INTO Refs (referrer, reference)
                     SELECT a.id, b.id FROM ValidPaths a, ValidPaths b WHERE a.path = ?1 AND b.path = ?2",
                    params![
                        self.store_dir.display(&info.path),
                        self.store_dir.display(r)
                    ],
                )?;
                if n == 0 {
                    let exists: bool = tx.query_row(
                        "SELECT EXISTS(SELECT 1 FROM ValidPaths WHERE path = ?1)",
                        [self.store_dir.display(r)],
                        |row| row.get(0),
                    )?;
                    if !exists {
                        return Err(DbError::MissingReference {
                            path: self.store_dir.display(&info.path),
                            reference: self.store_dir.display(r),
                        });
                    }
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Removes paths from the database in one transaction. Fails, changing nothing, if a
    /// valid path outside the set still refers to one of them.
    pub fn invalidate(&mut self, paths: &BTreeSet<StorePath>) -> Result<(), DbError> {
        // IMMEDIATE: a deferred read that later wants to write fails at once in WAL mode.
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        for p in paths {
            tx.execute(
                "DELETE FROM Refs WHERE referrer = (SELECT id FROM ValidPaths WHERE path = ?1)",
                [self.store_dir.display(p)],
            )?;
        }
        for p in paths {
            let referrer: Option<String> = tx
                .query_row(
                    "SELECT v.path FROM Refs r JOIN ValidPaths v ON r.referrer = v.id
                     WHERE r.reference = (SELECT id FROM ValidPaths WHERE path = ?1) LIMIT 1",
                    [self.store_dir.display(p)],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(referrer) = referrer {
                return Err(DbError::StillReferenced {
                    path: self.store_dir.display(p),
                    referrer,
                });
            }
            tx.execute(
                "DELETE FROM ValidPaths WHERE path = ?1",
                [self.store_dir.display(p)],
            )?;
        }
        tx.commit()?;
        Ok(())
    }
}
