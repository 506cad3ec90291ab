//! The audit log: every login, SQL query, export, reveal and report download,
//! appended to `<lake>/_xuncha/audit.jsonl`. Each entry carries the hash of
//! the one before and its own hash over both, so editing, deleting or
//! reordering any line breaks the chain, and `verify` says where.

use crate::DashboardError;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// One audited event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub seq: u64,
    pub at: String,
    pub user: String,
    pub action: String,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

impl Entry {
    fn digest(&self) -> String {
        let mut h = Sha256::new();
        for part in [self.seq.to_string().as_str(), &self.at, &self.user, &self.action, &self.detail, &self.prev_hash] {
            h.update(part.as_bytes());
            h.update([0u8]);
        }
        hex::encode(h.finalize())
    }
}

/// The log file; appends are serialized.
#[derive(Debug)]
pub struct AuditLog {
    path: PathBuf,
    last: Mutex<Option<(u64, String)>>,
}

impl AuditLog {
    /// The audit log of the lake at `lake_root`.
    pub fn of_lake(lake_root: &Path) -> AuditLog {
        AuditLog { path: lake_root.join("_xuncha").join("audit.jsonl"), last: Mutex::new(None) }
    }

    /// Appends an event (flushed and synced before returning).
    pub fn record(&self, user: &str, action: &str, detail: &str) -> Result<(), DashboardError> {
        let mut last = self.last.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if last.is_none() {
            *last = Some(self.entries()?.last().map_or((0, String::new()), |e| (e.seq, e.hash.clone())));
        }
        let (seq, prev_hash) = last.clone().expect("loaded above");
        let mut entry = Entry {
            seq: seq + 1,
            at: chrono::Local::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, false),
            user: user.to_string(),
            action: action.to_string(),
            detail: detail.to_string(),
            prev_hash,
            hash: String::new(),
        };
        entry.hash = entry.digest();
        std::fs::create_dir_all(self.path.parent().expect("audit.jsonl has a folder"))?;
        let mut file = std::fs::OpenOptions::new().create(true).append(true).open(&self.path)?;
        let mut line = serde_json::to_string(&entry).map_err(|e| DashboardError::Usage(e.to_string()))?;
        line.push('\n');
        file.write_all(line.as_bytes())?;
        file.sync_data()?;
        *last = Some((entry.seq, entry.hash));
        Ok(())
    }

    /// Every entry, oldest first.
    pub fn entries(&self) -> Result<Vec<Entry>, DashboardError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e.into()),
        };
        text.lines()
            .enumerate()
            .map(|(i, line)| serde_json::from_str(line).map_err(|e| DashboardError::Usage(format!("审计日志第 {} 行无法解析: {e}", i + 1))))
            .collect()
    }

    /// `Ok(n)` when all `n` entries chain; otherwise the first broken entry.
    pub fn verify(&self) -> Result<Result<usize, String>, DashboardError> {
        let entries = match self.entries() {
            Ok(entries) => entries,
            Err(e) => return Ok(Err(e.to_string())),
        };
        let mut prev = String::new();
        for (i, e) in entries.iter().enumerate() {
            if e.seq != i as u64 + 1 || e.prev_hash != prev || e.digest() != e.hash {
                return Ok(Err(format!("第 {} 条记录(序号 {})被改动、删除或重排", i + 1, e.seq)));
            }
            prev = e.hash.clone();
        }
        Ok(Ok(entries.len()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chain_verifies_and_any_edit_breaks_it() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::of_lake(dir.path());
        for i in 0..5 {
            log.record("wang", "sql", &format!("SELECT {i}")).unwrap();
        }
        assert_eq!(log.verify().unwrap(), Ok(5));
        // A second handle continues the same chain.
        AuditLog::of_lake(dir.path()).record("li", "login", "").unwrap();
        assert_eq!(log.verify().unwrap(), Ok(6));
        let path = dir.path().join("_xuncha/audit.jsonl");
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replace("SELECT 2", "SELECT 9")).unwrap();
        assert!(log.verify().unwrap().unwrap_err().contains("第 3 条"));
        let lines: Vec<&str> = text.lines().collect();
        std::fs::write(&path, [lines[0], lines[2]].join("\n")).unwrap();
        assert!(log.verify().unwrap().is_err(), "a deleted line is found");
    }
}
