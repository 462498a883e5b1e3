//! Content digests of products, cheap identities of input MeasurementSets
//! and of external caltables, and stat manifests that let a no-op run trust
//! a product without re-reading it. Never hashes absolute paths or mtimes
//! (mtimes live only in manifests, which are not part of any fingerprint).

use std::fs;
use std::io::{self, Read};
use std::path::Path;
use std::time::UNIX_EPOCH;

use serde::{Deserialize, Serialize};

/// Size and modification time of one file of a product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileStat {
    /// Path relative to the product root ("" for a single-file product).
    pub rel: String,
    pub size: u64,
    pub mtime_ns: u64,
}

/// A product's content digest plus the stat manifest it was computed from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductDigest {
    pub digest: String,
    pub files: Vec<FileStat>,
}

/// Files under `root` (or `root` itself), sorted by relative path.
fn walk(root: &Path) -> io::Result<Vec<(String, std::path::PathBuf, fs::Metadata)>> {
    let meta = fs::metadata(root)?;
    if meta.is_file() {
        return Ok(vec![(String::new(), root.to_path_buf(), meta)]);
    }
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir)? {
            let entry = entry?;
            let path = entry.path();
            let meta = fs::metadata(&path)?;
            if meta.is_dir() {
                stack.push(path);
            } else {
                let rel = path
                    .strip_prefix(root)
                    .map(|p| p.to_string_lossy().replace('\\', "/"))
                    .unwrap_or_default();
                out.push((rel, path, meta));
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

fn mtime_ns(meta: &fs::Metadata) -> u64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// Is `root` a CASA calibration table (`table.info` says `Type = Calibration`)?
fn is_caltable(root: &Path) -> bool {
    fs::read_to_string(root.join("table.info"))
        .is_ok_and(|t| t.lines().next().is_some_and(|l| l.contains("Calibration")))
}

/// A caltable's content digest: its solutions, flags, errors, keywords and the spectral
/// window / antenna / field subtables — not HISTORY (wall-clock times) and not casacore's
/// byte layout (its storage managers leave unwritten bytes that vary between identical
/// writes), so a re-solve with identical solutions keeps dependants cached.
fn caltable_content_digest(root: &Path) -> Option<String> {
    let t = almacal_casa::caltable::read_caltable(root).ok()?;
    let mut h = blake3::Hasher::new();
    let k = &t.keywords;
    h.update(format!("{:?}|{}|{}", k.par_type, k.viscal, k.pol_basis).as_bytes());
    h.update(format!("{:?}", t.rows).as_bytes());
    h.update(format!("{:?}", t.sub.spws).as_bytes());
    h.update(format!("{:?}", t.sub.antennas).as_bytes());
    h.update(format!("{:?}", t.sub.fields).as_bytes());
    Some(format!("caltable:{}", h.finalize().to_hex()))
}

/// Hash every file's relative path, size and content (caltables: their decoded content).
pub fn digest_product(root: &Path) -> io::Result<ProductDigest> {
    if fs::metadata(root)?.is_dir() && is_caltable(root) {
        if let Some(digest) = caltable_content_digest(root) {
            let files = walk(root)?
                .into_iter()
                .map(|(rel, _, meta)| FileStat {
                    rel,
                    size: meta.len(),
                    mtime_ns: mtime_ns(&meta),
                })
                .collect();
            return Ok(ProductDigest { digest, files });
        }
    }
    let mut h = blake3::Hasher::new();
    let mut files = Vec::new();
    let mut buf = vec![0u8; 1 << 20];
    for (rel, path, meta) in walk(root)? {
        h.update(rel.as_bytes());
        h.update(&[0]);
        h.update(&meta.len().to_le_bytes());
        let mut f = fs::File::open(&path)?;
        loop {
            let n = f.read(&mut buf)?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
        }
        files.push(FileStat {
            rel,
            size: meta.len(),
            mtime_ns: mtime_ns(&meta),
        });
    }
    Ok(ProductDigest {
        digest: h.finalize().to_hex().to_string(),
        files,
    })
}

/// Does the product still match its manifest (same files, sizes, mtimes)?
pub fn manifest_matches(root: &Path, expected: &ProductDigest) -> bool {
    let Ok(files) = walk(root) else {
        return false;
    };
    files.len() == expected.files.len()
        && files
            .iter()
            .zip(&expected.files)
            .all(|((rel, _, meta), e)| {
                *rel == e.rel && meta.len() == e.size && mtime_ns(meta) == e.mtime_ns
            })
}

/// Is the product intact? Trusts an unchanged manifest; otherwise rehashes.
pub fn verify_product(root: &Path, expected: &ProductDigest) -> bool {
    if !root.exists() {
        return false;
    }
    manifest_matches(root, expected)
        || digest_product(root).is_ok_and(|d| d.digest == expected.digest)
}

/// Small table-system files whose content is part of an MS identity.
const IDENTITY_CONTENT: &[&str] = &["table.dat", "table.info"];

/// Cheap identity of a MeasurementSet or caltable directory: relative paths
/// and sizes of all files, plus the content of the small table descriptor
/// files (which hold row counts and column descriptions). Reads no data.
pub fn table_identity(root: &Path) -> io::Result<String> {
    let mut h = blake3::Hasher::new();
    for (rel, path, meta) in walk(root)? {
        h.update(rel.as_bytes());
        h.update(&[0]);
        h.update(&meta.len().to_le_bytes());
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if IDENTITY_CONTENT.contains(&name) && meta.len() < (1 << 20) {
            h.update(&fs::read(&path)?);
        }
    }
    Ok(h.finalize().to_hex().to_string())
}

/// blake3 of a byte string, hex.
pub fn hash_bytes(b: &[u8]) -> String {
    blake3::hash(b).to_hex().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_depends_on_content_not_location() {
        let a = tempfile::tempdir().expect("tmp");
        let b = tempfile::tempdir().expect("tmp");
        for d in [a.path(), b.path()] {
            fs::create_dir_all(d.join("t/sub")).expect("mkdir");
            fs::write(d.join("t/table.dat"), "abc").expect("w");
            fs::write(d.join("t/sub/x"), "123").expect("w");
        }
        let da = digest_product(&a.path().join("t")).expect("digest");
        let db = digest_product(&b.path().join("t")).expect("digest");
        assert_eq!(da.digest, db.digest);
        assert_eq!(da.files.len(), 2);
        assert!(verify_product(&a.path().join("t"), &da));
        fs::write(b.path().join("t/sub/x"), "124").expect("w");
        assert_ne!(
            digest_product(&b.path().join("t")).expect("d").digest,
            da.digest
        );
        assert!(!verify_product(&b.path().join("t"), &da));
        assert!(!verify_product(&b.path().join("missing"), &da));
    }

    #[test]
    fn identity_reads_descriptors_and_sizes_only() {
        let a = tempfile::tempdir().expect("tmp");
        let t = a.path().join("x.ms");
        fs::create_dir_all(&t).expect("mkdir");
        fs::write(t.join("table.dat"), "rows=10").expect("w");
        fs::write(t.join("table.f0"), "aaaa").expect("w");
        let id1 = table_identity(&t).expect("id");
        fs::write(t.join("table.f0"), "bbbb").expect("w");
        assert_eq!(
            table_identity(&t).expect("id"),
            id1,
            "same size: cheap identity unchanged"
        );
        fs::write(t.join("table.dat"), "rows=11").expect("w");
        assert_ne!(table_identity(&t).expect("id"), id1);
    }
}
