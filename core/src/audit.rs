//! The audit log: every login, SQL query (dashboard and command line),
//! export, evidence view, reveal and report download, appended to
//! `<lake>/_xuncha/audit.jsonl`.
//!
//! Each entry carries the hash of the one before and its own hash over
//! both, so editing, deleting or reordering a line breaks the chain. A chain
//! alone cannot tell that its last lines were cut off, or that someone
//! deleted entries and computed the chain again; so every append also
//! writes an **anchor** kept outside the lake — the last entry's number and
//! hash, signed (HMAC-SHA256) with a key that lives only beside the anchor
//! (`[server] audit_anchor_dir`, by default `~/.local/state/xuncha`). One
//! who can write the lake but not that folder can neither shorten the log
//! nor rebuild it without `verify` saying so.
//!
//! Every entry is also signed (HMAC of its hash with the anchor key), so an
//! entry appended by hand after the anchor — with a valid chain — does not
//! verify either; an entry past the anchor is accepted only when signed (a
//! crash between the append and the anchor's update).
//!
//! Appends from several processes (the server, `xuncha sql`) are serialized
//! by an exclusive lock on the log file, so the chain never forks.

use crate::CoreError;
use crate::keys::{KeyRing, write_private};
use crate::lake::Lake;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

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
    /// The entry's hash signed with the anchor key: one who can write the
    /// lake but not the key folder cannot add an entry that verifies.
    /// (Entries written before signing began have none.)
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub mac: String,
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

/// The last entry's number and hash, signed with the anchor key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Anchor {
    seq: u64,
    hash: String,
    mac: String,
}

/// The key the anchor is signed with (in the lake's key folder).
const ANCHOR_KEY: &str = "key";

/// The longest detail kept for one entry (a console query is at most 64 KiB).
const MAX_DETAIL_BYTES: usize = 72 * 1024;

/// The log file and its anchor.
#[derive(Debug)]
pub struct AuditLog {
    path: PathBuf,
    keys: KeyRing,
}

impl AuditLog {
    /// The audit log of `lake`, anchored beside the lake's keys (outside
    /// the lake: `[server] audit_anchor_dir`, default the user's state
    /// folder, in a sub-folder named after the lake's path).
    pub fn open(lake: &Lake) -> AuditLog {
        AuditLog { path: lake.root().join("_xuncha").join("audit.jsonl"), keys: lake.keys().clone() }
    }

    /// Where the anchor and its key are.
    pub fn anchor_dir(&self) -> &Path {
        self.keys.dir()
    }

    /// Appends an event (synced, and the anchor moved, before returning).
    pub fn record(&self, user: &str, action: &str, detail: &str) -> Result<(), CoreError> {
        std::fs::create_dir_all(self.path.parent().expect("audit.jsonl has a folder"))?;
        let mut file = std::fs::OpenOptions::new().create(true).read(true).append(true).open(&self.path)?;
        file.lock()?;
        let (seq, prev_hash) = last_entry(&mut file)?.map_or((0, String::new()), |e| (e.seq, e.hash));
        let detail = if detail.len() > MAX_DETAIL_BYTES {
            let mut end = MAX_DETAIL_BYTES;
            while !detail.is_char_boundary(end) {
                end -= 1;
            }
            format!("{}…(共 {} 字节)", &detail[..end], detail.len())
        } else {
            detail.to_string()
        };
        let mut entry = Entry {
            seq: seq + 1,
            at: chrono::Local::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, false),
            user: user.to_string(),
            action: action.to_string(),
            detail,
            prev_hash,
            hash: String::new(),
            mac: String::new(),
        };
        entry.hash = entry.digest();
        entry.mac = self.sign_entry(&entry.hash)?;
        let mut line = serde_json::to_string(&entry).map_err(|e| CoreError::Config(e.to_string()))?;
        line.push('\n');
        file.write_all(line.as_bytes())?;
        file.sync_data()?;
        self.write_anchor(entry.seq, &entry.hash)?;
        Ok(())
    }

    /// Whether any entry has `action` (a quick scan of the log's text).
    pub fn has_action(&self, action: &str) -> Result<bool, CoreError> {
        let needle = format!("\"action\":{}", serde_json::to_string(action).map_err(|e| CoreError::Config(e.to_string()))?);
        match std::fs::read_to_string(&self.path) {
            Ok(text) => Ok(text.contains(&needle)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Every entry, oldest first.
    pub fn entries(&self) -> Result<Vec<Entry>, CoreError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e.into()),
        };
        text.lines().enumerate().map(|(i, line)| serde_json::from_str(line).map_err(|e| CoreError::Config(format!("审计日志第 {} 行无法解析: {e}", i + 1)))).collect()
    }

    /// `Ok(n)` when all `n` entries chain and end where the anchor says;
    /// otherwise what is wrong.
    pub fn verify(&self) -> Result<Result<usize, String>, CoreError> {
        let entries = match self.entries() {
            Ok(entries) => entries,
            Err(e) => return Ok(Err(e.to_string())),
        };
        let mut prev = String::new();
        let mut signed = false;
        for (i, e) in entries.iter().enumerate() {
            if e.seq != i as u64 + 1 || e.prev_hash != prev || e.digest() != e.hash {
                return Ok(Err(format!("第 {} 条记录(序号 {})被改动、删除或重排", i + 1, e.seq)));
            }
            // Unsigned entries may only come before the first signed one (a log begun by an older version).
            if !e.mac.is_empty() || signed {
                if e.mac != self.sign_entry(&e.hash)? {
                    return Ok(Err(format!("第 {} 条记录(序号 {})的签名不符:它不是本系统写入的", i + 1, e.seq)));
                }
                signed = true;
            }
            prev = e.hash.clone();
        }
        let anchor = match self.read_anchor()? {
            Some(anchor) => anchor,
            None if entries.is_empty() => return Ok(Ok(0)),
            None => return Ok(Err(format!("找不到审计日志的锚点({}):无法确认日志未被截断或重建", self.anchor_dir().display()))),
        };
        if anchor.mac != self.sign(anchor.seq, &anchor.hash)? {
            return Ok(Err("锚点签名不符:锚点文件被改动".into()));
        }
        let held = entries.len() as u64;
        let anchored = usize::try_from(anchor.seq).ok().and_then(|s| s.checked_sub(1)).and_then(|i| entries.get(i));
        match anchored {
            _ if held < anchor.seq => Ok(Err(format!("日志只有 {held} 条,锚点记录到第 {} 条:末尾的记录被删除(截断)", anchor.seq))),
            Some(e) if e.hash != anchor.hash => Ok(Err(format!("第 {} 条记录与锚点不符:日志被删改后重新计算了哈希链", anchor.seq))),
            // One signed entry past the anchor: a crash between the append
            // and the anchor's update (an unsigned one failed above).
            _ if held > anchor.seq + 1 => Ok(Err(format!("锚点之后还有 {} 条记录:它们不是本系统写入的", held - anchor.seq))),
            _ if held == anchor.seq + 1 && entries.last().is_some_and(|e| e.mac.is_empty()) => Ok(Err("锚点之后有 1 条没有签名的记录:它不是本系统写入的".into())),
            _ => Ok(Ok(entries.len())),
        }
    }

    fn sign_entry(&self, hash: &str) -> Result<String, CoreError> {
        self.keys.mac(ANCHOR_KEY, format!("entry\0{hash}").as_bytes())
    }

    fn sign(&self, seq: u64, hash: &str) -> Result<String, CoreError> {
        self.keys.mac(ANCHOR_KEY, format!("{seq}\0{hash}").as_bytes())
    }

    fn read_anchor(&self) -> Result<Option<Anchor>, CoreError> {
        match std::fs::read_to_string(self.anchor_dir().join("anchor.json")) {
            Ok(text) => Ok(Some(serde_json::from_str(&text).map_err(|e| CoreError::Config(format!("审计锚点无法解析: {e}")))?)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    fn write_anchor(&self, seq: u64, hash: &str) -> Result<(), CoreError> {
        let anchor = Anchor { seq, hash: hash.to_string(), mac: self.sign(seq, hash)? };
        let temp = self.anchor_dir().join("anchor.json.tmp");
        write_private(&temp, &serde_json::to_vec(&anchor).map_err(|e| CoreError::Config(e.to_string()))?)?;
        std::fs::rename(&temp, self.anchor_dir().join("anchor.json"))?;
        Ok(())
    }
}

/// The log's last entry, read from its end.
fn last_entry(file: &mut std::fs::File) -> Result<Option<Entry>, CoreError> {
    let len = file.seek(SeekFrom::End(0))?;
    let mut window = 64 * 1024u64;
    loop {
        let start = len.saturating_sub(window);
        file.seek(SeekFrom::Start(start))?;
        let mut tail = Vec::new();
        Read::by_ref(file).take(len - start).read_to_end(&mut tail)?;
        let text = String::from_utf8_lossy(&tail);
        let body = text.trim_end_matches('\n');
        match body.rfind('\n') {
            Some(i) => return parse_line(&body[i + 1..]).map(Some),
            None if start == 0 => return if body.is_empty() { Ok(None) } else { parse_line(body).map(Some) },
            None => window *= 4,
        }
    }
}

fn parse_line(line: &str) -> Result<Entry, CoreError> {
    serde_json::from_str(line).map_err(|e| CoreError::Config(format!("审计日志最后一行无法解析,未写入新记录: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log_in(dir: &Path) -> AuditLog {
        AuditLog::open(&Lake::open(dir).unwrap().with_key_dir(Some(&dir.join("anchor"))))
    }

    #[test]
    fn the_chain_verifies_and_any_edit_cut_or_rebuild_breaks_it() {
        let dir = tempfile::tempdir().unwrap();
        let log = log_in(dir.path());
        for i in 0..60 {
            log.record("wang", "sql", &format!("statement {i}")).unwrap();
        }
        assert_eq!(log.verify().unwrap(), Ok(60));
        // A second handle continues the same chain.
        log_in(dir.path()).record("li", "login", "").unwrap();
        assert_eq!(log.verify().unwrap(), Ok(61));
        let path = dir.path().join("_xuncha/audit.jsonl");
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();

        std::fs::write(&path, text.replace("statement 2\"", "statement 9\"")).unwrap();
        assert!(log.verify().unwrap().unwrap_err().contains("第 3 条"), "an edit");
        std::fs::write(&path, [lines[0], lines[2]].join("\n") + "\n").unwrap();
        assert!(log.verify().unwrap().is_err(), "a deleted line");
        std::fs::write(&path, [lines[1], lines[0]].join("\n") + "\n").unwrap();
        assert!(log.verify().unwrap().is_err(), "a reordering");
        std::fs::write(&path, lines[..11].join("\n") + "\n").unwrap();
        assert!(log.verify().unwrap().unwrap_err().contains("截断"), "the last 50 lines cut off");

        // Delete entries 5..=9 and compute the chain again: every line is
        // consistent, but the head no longer matches the anchor.
        let mut rebuilt: Vec<Entry> = lines.iter().map(|l| serde_json::from_str(l).unwrap()).filter(|e: &Entry| !(5..=9).contains(&e.seq)).collect();
        let mut prev = String::new();
        for (i, e) in rebuilt.iter_mut().enumerate() {
            e.seq = i as u64 + 1;
            e.prev_hash = prev.clone();
            e.hash = e.digest();
            prev = e.hash.clone();
        }
        std::fs::write(&path, rebuilt.iter().map(|e| serde_json::to_string(e).unwrap() + "\n").collect::<String>()).unwrap();
        assert!(log.verify().unwrap().is_err(), "a rebuilt chain");

        // An entry appended after the anchor with a valid chain but no key.
        std::fs::write(&path, &text).unwrap();
        let mut forged: Entry = serde_json::from_str(lines[60]).unwrap();
        forged.seq = 62;
        forged.prev_hash = forged.hash.clone();
        forged.detail = "伪造".into();
        forged.hash = forged.digest();
        for mac in [String::new(), "ab".repeat(32)] {
            forged.mac = mac;
            std::fs::write(&path, format!("{text}{}\n", serde_json::to_string(&forged).unwrap())).unwrap();
            assert!(log.verify().unwrap().is_err(), "a forged tail entry");
        }
        // A crash between the append and the anchor: one signed entry past it.
        std::fs::write(&path, &text).unwrap();
        let anchor_path = log.anchor_dir().join("anchor.json");
        let anchored = std::fs::read(&anchor_path).unwrap();
        log.record("wang", "sql", "after").unwrap();
        std::fs::write(&anchor_path, &anchored).unwrap();
        assert_eq!(log.verify().unwrap(), Ok(62), "a signed entry just past the anchor");

        // A forged anchor (without the key) is found too.
        std::fs::write(&path, &text).unwrap();
        std::fs::write(&anchor_path, &anchored).unwrap();
        assert_eq!(log.verify().unwrap(), Ok(61));
        let mut anchor: Anchor = serde_json::from_str(&std::fs::read_to_string(&anchor_path).unwrap()).unwrap();
        anchor.seq = 11;
        std::fs::write(&anchor_path, serde_json::to_vec(&anchor).unwrap()).unwrap();
        assert!(log.verify().unwrap().unwrap_err().contains("签名"));
    }

    #[test]
    fn appends_from_many_threads_keep_one_chain() {
        let dir = tempfile::tempdir().unwrap();
        std::thread::scope(|s| {
            for t in 0..4 {
                let root = dir.path().to_path_buf();
                s.spawn(move || {
                    let log = log_in(&root);
                    for i in 0..25 {
                        log.record(&format!("u{t}"), "sql", &format!("statement {i}")).unwrap();
                    }
                });
            }
        });
        assert_eq!(log_in(dir.path()).verify().unwrap(), Ok(100));
    }
}
