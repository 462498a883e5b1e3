//! Content digests of products, of input MeasurementSets and of external caltables, and
//! the stat manifests that let a no-op run trust them without re-reading (git's index,
//! cargo's fingerprints): for every file its inode, size, mtime_ns and ctime_ns. A file
//! whose stat changed in any of these is re-read and rehashed (`touch -r` restores mtime,
//! never ctime). Never hashes absolute paths or times (they live only in manifests, which
//! are not part of any fingerprint). casacore's `table.lock` files are ignored: opening a
//! table rewrites them.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Read};
use std::path::Path;
use std::time::UNIX_EPOCH;

use serde::{Deserialize, Serialize};

/// The stat of one file of a product or input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileStat {
    /// Path relative to the product root ("" for a single-file product).
    pub rel: String,
    pub size: u64,
    pub mtime_ns: u64,
    /// Inode number and status-change time: a replaced file (new inode) or one edited
    /// with its mtime restored (new ctime) no longer matches. 0 in records written before
    /// they were kept (such a manifest never matches, so the product is rehashed once).
    #[serde(default)]
    pub ino: u64,
    #[serde(default)]
    pub ctime_ns: u64,
}

impl FileStat {
    fn of(rel: String, meta: &fs::Metadata) -> Self {
        use std::os::unix::fs::MetadataExt;
        let ctime_ns = u64::try_from(meta.ctime())
            .unwrap_or(0)
            .saturating_mul(1_000_000_000)
            .saturating_add(u64::try_from(meta.ctime_nsec()).unwrap_or(0));
        Self {
            rel,
            size: meta.len(),
            mtime_ns: mtime_ns(meta),
            ino: meta.ino(),
            ctime_ns,
        }
    }
}

/// casacore's lock file: rewritten whenever a table is opened, not content.
const LOCK_FILE: &str = "table.lock";

/// A product's content digest plus the stat manifest it was computed from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductDigest {
    pub digest: String,
    pub files: Vec<FileStat>,
    /// Per spectral window content digests (caltables: their rows and SPECTRAL_WINDOW
    /// row; flag layers: their rows of that spw), so that a downstream stage can tell
    /// which spws an upstream change touched and rerun only those (design: partial
    /// reruns). `None`: not known, any change reruns everything.
    /// (Keys are spw ids as text: records flatten this struct, and serde cannot read
    /// integer map keys through `flatten`.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spws: Option<BTreeMap<String, String>>,
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
            } else if entry.file_name() != LOCK_FILE {
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
///
/// Also returns per-spw digests: each spw's rows and SPECTRAL_WINDOW row, plus the
/// keywords and ANTENNA/FIELD subtables (a change there changes every spw).
fn caltable_content_digest(root: &Path) -> Option<(String, BTreeMap<u32, String>)> {
    let t = almacal_casa::caltable::read_caltable(root).ok()?;
    let mut h = blake3::Hasher::new();
    let k = &t.keywords;
    let common = format!(
        "{:?}|{}|{}|{:?}|{:?}",
        k.par_type, k.viscal, k.pol_basis, t.sub.antennas, t.sub.fields
    );
    h.update(format!("{:?}|{}|{}", k.par_type, k.viscal, k.pol_basis).as_bytes());
    h.update(format!("{:?}", t.rows).as_bytes());
    h.update(format!("{:?}", t.sub.spws).as_bytes());
    h.update(format!("{:?}", t.sub.antennas).as_bytes());
    h.update(format!("{:?}", t.sub.fields).as_bytes());
    let mut per: BTreeMap<u32, blake3::Hasher> = BTreeMap::new();
    for (i, w) in t.sub.spws.iter().enumerate() {
        let mut hs = blake3::Hasher::new();
        hs.update(common.as_bytes());
        hs.update(format!("{w:?}").as_bytes());
        per.insert(i as u32, hs);
    }
    for r in &t.rows {
        let Ok(spw) = u32::try_from(r.spw_id) else {
            return None;
        };
        per.entry(spw)
            .or_insert_with(|| {
                let mut hs = blake3::Hasher::new();
                hs.update(common.as_bytes());
                hs
            })
            .update(format!("{r:?}").as_bytes());
    }
    let spws = per
        .into_iter()
        .map(|(s, hs)| (s, hs.finalize().to_hex().to_string()))
        .collect();
    Some((format!("caltable:{}", h.finalize().to_hex()), spws))
}

/// Per-spw digests of a flag-layer product: each spw's flagged rows and masks. `row_spw`
/// maps each row of the vis the layer applies to onto its spw.
pub fn flag_layer_spw_digests(layer: &Path, row_spw: &[u32]) -> Option<BTreeMap<u32, String>> {
    let bytes = fs::read(layer).ok()?;
    let l = almacal_core::flaglayer::FlagLayer::decode(&bytes).ok()?;
    if l.nrows() != row_spw.len() as u64 {
        return None;
    }
    let mut per: BTreeMap<u32, blake3::Hasher> = BTreeMap::new();
    for &s in row_spw {
        per.entry(s).or_default();
    }
    let mut buf = Vec::new();
    for (row, mask) in l.iter() {
        let s = *row_spw.get(row as usize)?;
        buf.clear();
        buf.extend_from_slice(&row.to_le_bytes());
        match mask {
            almacal_core::flaglayer::RowMask::All => buf.push(0),
            almacal_core::flaglayer::RowMask::Cells { nchan, ncorr, bits } => {
                buf.push(1);
                buf.extend_from_slice(&nchan.to_le_bytes());
                buf.extend_from_slice(&ncorr.to_le_bytes());
                for w in bits {
                    buf.extend_from_slice(&w.to_le_bytes());
                }
            }
        }
        per.entry(s).or_default().update(&buf);
    }
    Some(
        per.into_iter()
            .map(|(s, h)| (s, h.finalize().to_hex().to_string()))
            .collect(),
    )
}

/// Hash every file's relative path, size and content (caltables: their decoded content).
pub fn digest_product(root: &Path) -> io::Result<ProductDigest> {
    if fs::metadata(root)?.is_dir() && is_caltable(root) {
        if let Some((digest, spws)) = caltable_content_digest(root) {
            let files = walk(root)?
                .into_iter()
                .map(|(rel, _, meta)| FileStat::of(rel, &meta))
                .collect();
            return Ok(ProductDigest {
                digest,
                files,
                spws: Some(spws.into_iter().map(|(k, v)| (k.to_string(), v)).collect()),
            });
        }
    }
    let (digest, files) = hash_tree(root)?;
    Ok(ProductDigest {
        digest,
        files,
        spws: None,
    })
}

/// The stat manifest of `root` (reads no content).
pub fn stat_manifest(root: &Path) -> io::Result<Vec<FileStat>> {
    Ok(walk(root)?
        .into_iter()
        .map(|(rel, _, meta)| FileStat::of(rel, &meta))
        .collect())
}

/// blake3 over every file's relative path, size and bytes, with the manifest taken
/// *before* reading (a file changed while it is read then fails the next manifest check).
/// Large files are hashed on all cores.
pub fn hash_tree(root: &Path) -> io::Result<(String, Vec<FileStat>)> {
    let entries = walk(root)?;
    let files: Vec<FileStat> = entries
        .iter()
        .map(|(rel, _, meta)| FileStat::of(rel.clone(), meta))
        .collect();
    let mut h = blake3::Hasher::new();
    let mut buf = vec![0u8; 8 << 20];
    for (rel, path, meta) in &entries {
        h.update(rel.as_bytes());
        h.update(&[0]);
        h.update(&meta.len().to_le_bytes());
        let mut f = fs::File::open(path).map_err(|e| with_path(e, path))?;
        loop {
            let n = read_full(&mut f, &mut buf).map_err(|e| with_path(e, path))?;
            if n == 0 {
                break;
            }
            if n >= (1 << 20) {
                h.update_rayon(&buf[..n]);
            } else {
                h.update(&buf[..n]);
            }
        }
    }
    Ok((h.finalize().to_hex().to_string(), files))
}

/// Fill `buf` as far as the file goes; the number of bytes read.
fn read_full(f: &mut fs::File, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

fn with_path(e: io::Error, path: &Path) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

/// A MeasurementSet product's digest without reading its visibilities (hashing a
/// 1.3 GB split cost as much as a third of writing it): the fingerprint of the stage that
/// wrote it (a vis product is a pure function of its inputs) plus its [`table_identity`].
/// Tagged `vis:` so that [`verify_product`] rechecks the identity instead of rehashing.
pub fn digest_vis_product(root: &Path, fingerprint: &str) -> io::Result<ProductDigest> {
    let identity = table_identity(root)?;
    let files = walk(root)?
        .into_iter()
        .map(|(rel, _, meta)| FileStat::of(rel, &meta))
        .collect();
    Ok(ProductDigest {
        digest: format!("vis:{}:{identity}", hash_bytes(fingerprint.as_bytes())),
        files,
        spws: None,
    })
}

/// Does `root` still match the manifest (same files, inodes, sizes, mtimes, ctimes)?
pub fn manifest_matches(root: &Path, expected: &[FileStat]) -> bool {
    stat_manifest(root).is_ok_and(|now| now == expected)
}

/// Is the product intact? Trusts an unchanged manifest; otherwise rehashes and compares.
/// A vis product's digest is not a content hash (hashing a split costs a third of writing
/// it), so a vis product whose manifest changed counts as modified: its stage reruns.
pub fn verify_product(root: &Path, expected: &ProductDigest) -> bool {
    if !root.exists() {
        return false;
    }
    if manifest_matches(root, &expected.files) {
        // Unchanged since almacal wrote it: safe to open without a probe.
        almacal_casa::isolate::trust(root);
        return true;
    }
    if expected.digest.starts_with("vis:") {
        return false;
    }
    digest_product(root).is_ok_and(|d| d.digest == expected.digest)
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
