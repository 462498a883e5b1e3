//! Content identities of what a recipe reads but does not make (input MeasurementSets,
//! external caltables), kept in `<workdir>/.almacal/stat-cache.json` beside their stat
//! manifests. An identity is the blake3 of every file's bytes; it is recomputed only when
//! the manifest (inode, size, mtime_ns, ctime_ns of every file) changed, so a no-op run
//! stats files and reads none. The cache is only a shortcut: losing it costs one rehash.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::digest::{hash_tree, stat_manifest, FileStat};
use crate::workspace::write_atomic;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Entry {
    files: Vec<FileStat>,
    digest: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Stored {
    /// Absolute, canonical path → identity.
    entries: BTreeMap<String, Entry>,
}

/// The identities of one recipe's inputs, memoised for one process.
pub struct StatCache {
    file: PathBuf,
    stored: Mutex<Stored>,
    /// As asked (not canonicalised) → identity, for this process.
    seen: Mutex<HashMap<PathBuf, String>>,
}

impl StatCache {
    /// The cache of the workspace whose metadata folder is `meta_dir`.
    pub fn open(meta_dir: &Path) -> Self {
        let file = meta_dir.join("stat-cache.json");
        let stored = std::fs::read(&file)
            .ok()
            .and_then(|b| serde_json::from_slice::<Stored>(&b).ok())
            .unwrap_or_default();
        Self {
            file,
            stored: Mutex::new(stored),
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// The content identity of the table (or file) at `path`.
    pub fn identity(&self, path: &Path) -> Result<String, String> {
        if let Some(id) = self.seen.lock().ok().and_then(|m| m.get(path).cloned()) {
            return Ok(id);
        }
        let key = std::fs::canonicalize(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?
            .to_string_lossy()
            .into_owned();
        let now =
            stat_manifest(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let cached = self
            .stored
            .lock()
            .ok()
            .and_then(|s| s.entries.get(&key).cloned())
            .filter(|e| e.files == now)
            .map(|e| e.digest);
        let id = match cached {
            Some(d) => d,
            None => {
                let (digest, files) =
                    hash_tree(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                let digest = format!("blake3:{digest}");
                if let Ok(mut s) = self.stored.lock() {
                    s.entries.insert(
                        key,
                        Entry {
                            files,
                            digest: digest.clone(),
                        },
                    );
                    self.save(&s);
                }
                digest
            }
        };
        if let Ok(mut m) = self.seen.lock() {
            m.insert(path.to_path_buf(), id.clone());
        }
        Ok(id)
    }

    /// Persist (only inside an existing workspace: `plan` on a fresh recipe creates none).
    fn save(&self, s: &Stored) {
        if self.file.parent().is_some_and(Path::is_dir) {
            if let Ok(json) = serde_json::to_vec(s) {
                // A failed write only costs a rehash next time.
                let _ = write_atomic(&self.file, &json);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_follows_content_and_rehashes_only_on_stat_change() {
        let t = tempfile::tempdir().expect("tmp");
        let meta = t.path().join(".almacal");
        std::fs::create_dir_all(&meta).expect("mkdir");
        let ms = t.path().join("x.ms");
        std::fs::create_dir_all(&ms).expect("mkdir");
        std::fs::write(ms.join("table.dat"), "rows=10").expect("w");
        std::fs::write(ms.join("table.f0"), "aaaa").expect("w");
        std::fs::write(ms.join("table.lock"), "lock").expect("w");
        let id1 = StatCache::open(&meta).identity(&ms).expect("id");
        // Same bytes, a new lock file: same identity.
        std::fs::write(ms.join("table.lock"), "other lock").expect("w");
        assert_eq!(StatCache::open(&meta).identity(&ms).expect("id"), id1);
        // Same size, other content (a cheap size-only identity would miss this).
        std::fs::write(ms.join("table.f0"), "aaab").expect("w");
        let id2 = StatCache::open(&meta).identity(&ms).expect("id");
        assert_ne!(id2, id1);
        // Stored: a later process trusts the unchanged manifest.
        let stored: Stored =
            serde_json::from_slice(&std::fs::read(meta.join("stat-cache.json")).expect("r"))
                .expect("json");
        assert_eq!(stored.entries.len(), 1);
        assert!(stored.entries.values().all(|e| e.digest == id2));
        // Restoring the old bytes restores the old identity.
        std::fs::write(ms.join("table.f0"), "aaaa").expect("w");
        assert_eq!(StatCache::open(&meta).identity(&ms).expect("id"), id1);
    }
}
