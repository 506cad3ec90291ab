//! The office's secret keys, kept outside the lake: one who can read (or
//! write) the lake's files cannot compute them. Each lake has its own
//! folder, `<state>/audit-<16 hex of the lake's path>/`, where `<state>` is
//! `[server] audit_anchor_dir` or `$XDG_STATE_HOME/xuncha` (by default
//! `~/.local/state/xuncha`). A key is made (32 random bytes, hex, mode 0600)
//! the first time it is needed.
//!
//! - `key`: signs the audit log's anchor (see the dashboard's `audit`);
//! - `ids.key`: makes the identifiers users see — finding links and case
//!   numbers — as keyed MACs (HMAC-SHA256), so an identifier never reveals
//!   the ID number or account it stands for, even to one who guesses it.
//!
//! Losing `ids.key` does not lose data: existing case numbers are in the
//! lake; new findings of an existing subject keep finding their case by
//! rule and subject, new cases get numbers under the new key, and finding
//! links made before stop opening (open the finding again from its list).

use crate::CoreError;
use hmac::{Hmac, Mac};
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The keys of one lake.
#[derive(Debug, Clone)]
pub struct KeyRing {
    dir: PathBuf,
    loaded: Arc<Mutex<HashMap<String, Vec<u8>>>>,
}

/// The key the identifiers users see are made with.
const IDS: &str = "ids.key";

impl KeyRing {
    /// The keys of the lake at `lake_root`, under `state` (default: the
    /// user's state folder).
    pub fn for_lake(lake_root: &Path, state: Option<&Path>) -> KeyRing {
        let base = state.map(Path::to_path_buf).unwrap_or_else(default_state_dir);
        let lake = std::fs::canonicalize(lake_root).unwrap_or_else(|_| lake_root.to_path_buf());
        let id = hex::encode(Sha256::digest(lake.to_string_lossy().as_bytes()));
        KeyRing { dir: base.join(format!("audit-{}", &id[..16])), loaded: Arc::default() }
    }

    /// The folder the keys are in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Key `name`, made the first time (by one process only: a key is
    /// written aside and linked into place, so two processes agree).
    pub fn key(&self, name: &str) -> Result<Vec<u8>, CoreError> {
        let mut loaded = self.loaded.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(key) = loaded.get(name) {
            return Ok(key.clone());
        }
        let path = self.dir.join(name);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir_all(&self.dir)?;
                let mut bytes = [0u8; 32];
                OsRng.fill_bytes(&mut bytes);
                let aside = self.dir.join(format!("{name}.{}.new", hex::encode(&bytes[..6])));
                write_private(&aside, hex::encode(bytes).as_bytes())?;
                let linked = std::fs::hard_link(&aside, &path);
                std::fs::remove_file(&aside)?;
                match linked {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                    Err(e) => return Err(e.into()),
                }
                std::fs::read_to_string(&path)?
            }
            Err(e) => return Err(e.into()),
        };
        let key = hex::decode(text.trim()).ok().filter(|k| k.len() >= 16).ok_or_else(|| CoreError::Config(format!("密钥文件 {} 已损坏(应为十六进制)", path.display())))?;
        loaded.insert(name.to_string(), key.clone());
        Ok(key)
    }

    /// HMAC-SHA256 of `message` under key `name`, as hex.
    pub fn mac(&self, name: &str, message: &[u8]) -> Result<String, CoreError> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key(name)?).expect("HMAC takes any key length");
        mac.update(message);
        Ok(hex::encode(mac.finalize().into_bytes()))
    }

    /// The identifier users see for `parts` of kind `kind` (`finding`,
    /// `case`): the first `len` hex digits of a keyed MAC over the kind and
    /// the parts, each ended by a NUL.
    pub fn identifier(&self, kind: &str, parts: &[&str], len: usize) -> Result<String, CoreError> {
        let message: Vec<u8> = std::iter::once(kind).chain(parts.iter().copied()).flat_map(|p| p.bytes().chain([0])).collect();
        let mut mac = self.mac(IDS, &message)?;
        mac.truncate(len);
        Ok(mac)
    }
}

/// Whether `text` has the shape [`KeyRing::identifier`] gives with one of
/// the lengths `lens`: that many lowercase hex digits. A path segment is
/// checked with this before it reaches a query.
pub fn is_identifier(text: &str, lens: &[usize]) -> bool {
    lens.contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// `$XDG_STATE_HOME/xuncha`, or `~/.local/state/xuncha`.
fn default_state_dir() -> PathBuf {
    match std::env::var_os("XDG_STATE_HOME").filter(|v| !v.is_empty()) {
        Some(state) => PathBuf::from(state).join("xuncha"),
        None => PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| ".".into())).join(".local/state/xuncha"),
    }
}

/// Writes a file only its owner can read, synced.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), CoreError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_keyed_stable_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let ring = KeyRing::for_lake(dir.path(), Some(&dir.path().join("state")));
        let id = ring.identifier("finding", &["430223195001011234"], 20).unwrap();
        assert!(is_identifier(&id, &[20]) && !is_identifier(&id, &[12]));
        assert!(!is_identifier("ABCDEF0123", &[10]) && !is_identifier("' OR 1=1 -", &[10]));
        // Another handle (another process) reads the same key.
        assert_eq!(KeyRing::for_lake(dir.path(), Some(&dir.path().join("state"))).identifier("finding", &["430223195001011234"], 20).unwrap(), id);
        // Not the unkeyed digest anyone could compute.
        assert!(!hex::encode(Sha256::digest(b"430223195001011234")).starts_with(&id));
        // Another office's key gives another identifier; kinds are separate.
        let other = KeyRing::for_lake(dir.path(), Some(&dir.path().join("elsewhere")));
        assert_ne!(other.identifier("finding", &["430223195001011234"], 20).unwrap(), id);
        assert_ne!(ring.identifier("case", &["430223195001011234"], 20).unwrap(), id);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(ring.dir().join("ids.key")).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }

    #[test]
    fn many_threads_agree_on_one_key() {
        let dir = tempfile::tempdir().unwrap();
        let ids: Vec<String> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8).map(|_| s.spawn(|| KeyRing::for_lake(dir.path(), Some(&dir.path().join("s"))).identifier("case", &["x"], 12).unwrap())).collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(ids.iter().all(|i| i == &ids[0]));
    }
}
