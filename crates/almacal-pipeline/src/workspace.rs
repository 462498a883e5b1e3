//! The workspace on disk: product paths, per-stage fingerprint records,
//! temporary directories, and the crash-safe commit of a stage's products
//! (write to temp, drop old record, rename products into place, write the
//! record last, atomically).
//!
//! Layout of `<workdir>/`: products at their declared paths (`<stage>.cal`,
//! `<stage>.ms`, `<stage>.json`, ...), `run.json`, and `.almacal/` with
//! `records/<stage>.json`, `tmp/` and `lock`.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use almacal_recipe::{ProductKind, Stage};
use serde::{Deserialize, Serialize};

use crate::digest::ProductDigest;
use crate::fingerprint::Components;

/// Record format version.
pub const RECORD_FORMAT: u32 = 1;

/// One product as recorded after a successful run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductRecord {
    pub kind: ProductKind,
    /// Relative to the workdir.
    pub rel_path: PathBuf,
    #[serde(flatten)]
    pub digest: ProductDigest,
}

/// What the workspace remembers about a stage's last successful run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    pub format: u32,
    pub stage: String,
    pub fingerprint: String,
    pub components: Components,
    pub products: Vec<ProductRecord>,
    pub wall_s: f64,
    #[serde(default)]
    pub summary: Option<serde_json::Value>,
}

impl Record {
    pub fn product(&self, kind: ProductKind) -> Option<&ProductRecord> {
        self.products.iter().find(|p| p.kind == kind)
    }
}

/// A workspace rooted at a recipe's workdir.
#[derive(Debug, Clone)]
pub struct Workspace {
    pub root: PathBuf,
}

static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// `path: error`: every workspace I/O error names the file or folder it is about.
pub fn at_path(path: &Path, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

impl Workspace {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }
    pub fn meta_dir(&self) -> PathBuf {
        self.root.join(".almacal")
    }
    pub fn records_dir(&self) -> PathBuf {
        self.meta_dir().join("records")
    }
    pub fn tmp_root(&self) -> PathBuf {
        self.meta_dir().join("tmp")
    }
    pub fn lock_path(&self) -> PathBuf {
        self.meta_dir().join("lock")
    }
    pub fn run_json(&self) -> PathBuf {
        self.root.join("run.json")
    }
    fn record_path(&self, stage: &str) -> PathBuf {
        self.records_dir().join(format!("{stage}.json"))
    }
    /// Final path of a product.
    pub fn product_path(&self, rel: &Path) -> PathBuf {
        self.root.join(rel)
    }
    /// Final paths of a stage's declared products.
    pub fn stage_products(&self, stage: &Stage) -> Vec<(ProductKind, PathBuf)> {
        stage
            .outputs
            .iter()
            .map(|o| (o.kind, self.product_path(&o.rel_path)))
            .collect()
    }

    pub fn ensure(&self) -> io::Result<()> {
        for dir in [self.records_dir(), self.tmp_root()] {
            fs::create_dir_all(&dir).map_err(|e| at_path(&dir, e))?;
        }
        Ok(())
    }

    /// The stage's record, if present and readable.
    pub fn read_record(&self, stage: &str) -> Option<Record> {
        let text = fs::read_to_string(self.record_path(stage)).ok()?;
        serde_json::from_str::<Record>(&text)
            .ok()
            .filter(|r| r.format == RECORD_FORMAT)
    }

    pub fn remove_record(&self, stage: &str) -> io::Result<()> {
        match fs::remove_file(self.record_path(stage)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// A fresh temporary directory for `stage` inside the workspace.
    pub fn new_tmp_dir(&self, stage: &str) -> io::Result<PathBuf> {
        let n = TMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = self
            .tmp_root()
            .join(format!("{stage}.{}.{n}", std::process::id()));
        if dir.exists() {
            fs::remove_dir_all(&dir)?;
        }
        fs::create_dir_all(&dir)?;
        Ok(dir)
    }

    /// Remove leftovers of interrupted runs (call with the lock held).
    pub fn clean_tmp(&self) -> io::Result<()> {
        let root = self.tmp_root();
        if root.exists() {
            fs::remove_dir_all(&root).map_err(|e| at_path(&root, e))?;
        }
        fs::create_dir_all(&root).map_err(|e| at_path(&root, e))
    }

    /// Move finished products into place and write the record last.
    /// `staged` pairs each product record with its file in the temp dir.
    pub fn commit(&self, record: &Record, staged: &[(ProductRecord, PathBuf)]) -> io::Result<()> {
        // From here until the record is written, the stage has no record:
        // a crash makes the next run redo it.
        self.remove_record(&record.stage)?;
        for (p, tmp) in staged {
            let dest = self.product_path(&p.rel_path);
            if let Some(parent) = dest.parent() {
                fs::create_dir_all(parent)?;
            }
            if fs::symlink_metadata(&dest).is_ok() {
                let trash = self
                    .new_tmp_dir(&format!("{}-old", record.stage))?
                    .join("old");
                fs::rename(&dest, &trash)?;
            }
            fs::rename(tmp, &dest)?;
        }
        // A rename changes a moved file's ctime: take the manifests where the products
        // now are, so the next run trusts them without rehashing.
        let mut record = record.clone();
        for p in &mut record.products {
            let path = self.product_path(&p.rel_path);
            p.digest.files = crate::digest::stat_manifest(&path)?;
            // Written by this process: later stages open it without a probe.
            almacal_casa::isolate::trust(&path);
        }
        let json = serde_json::to_vec_pretty(&record).map_err(io::Error::other)?;
        write_atomic(&self.record_path(&record.stage), &json)
    }

    /// Remove a stage's products and record. Returns what was removed.
    pub fn remove_stage(&self, stage: &Stage) -> io::Result<Vec<PathBuf>> {
        self.remove_record(&stage.name)?;
        let mut removed = Vec::new();
        for (_, path) in self.stage_products(stage) {
            match fs::symlink_metadata(&path) {
                Ok(m) if m.is_dir() => fs::remove_dir_all(&path)?,
                Ok(_) => fs::remove_file(&path)?,
                Err(_) => continue,
            }
            removed.push(path);
        }
        Ok(removed)
    }
}

/// Write a file atomically (temp file in the same folder, fsync, rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    let n = TMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    let tmp = dir.join(format!(
        ".{}.{}.{n}.tmp",
        path.file_name().and_then(|s| s.to_str()).unwrap_or("file"),
        std::process::id()
    ));
    let written = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    // On failure (a full disk) the previous file stays as it was; no temp file is left.
    written.map_err(|e| {
        let _ = fs::remove_file(&tmp);
        io::Error::new(e.kind(), format!("writing {}: {e}", path.display()))
    })
}
