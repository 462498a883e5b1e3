//! Stage fingerprints (design §3): blake3 over the canonical JSON of the
//! task, its algorithm version, the resolved parameters, the digests of the
//! upstream products the stage reads, the identity of input MSs and external
//! caltables, and the content of referenced text files. Also the diff of two
//! fingerprints into human reasons ("parameter solint changed ...").

use std::collections::BTreeMap;
use std::fmt;

use almacal_recipe::{ParamValue, Params};
use serde::{Deserialize, Serialize};

use crate::linediff::{diff_lines, summarize};

/// A referenced text file as fingerprinted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileComponent {
    pub written: String,
    pub digest: String,
    /// Kept so that a later plan can say which line changed.
    pub lines: Vec<String>,
}

/// Everything a fingerprint covers, stored in the stage's record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Components {
    pub task: String,
    /// The almacal build that made the products ([`crate::BUILD_ID`]): an upgrade reruns.
    #[serde(default)]
    pub build: String,
    pub algorithm_version: u32,
    pub params: Params,
    /// upstream stage → product kind → digest, for the products read.
    pub upstream: BTreeMap<String, BTreeMap<String, String>>,
    /// input name → MS identity.
    pub inputs: BTreeMap<String, String>,
    /// external caltable (as written) → identity.
    pub caltable_paths: BTreeMap<String, String>,
    /// parameter → file.
    pub files: BTreeMap<String, FileComponent>,
    /// upstream stage → product kind → spw → digest, where the upstream product has
    /// per-spw digests. Not part of the fingerprint (it refines `upstream`): it tells
    /// which spws an upstream change touched, for partial reruns.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub upstream_spws: BTreeMap<String, BTreeMap<String, BTreeMap<u32, String>>>,
}

impl Components {
    /// The fingerprint: blake3 of the canonical JSON encoding (without `upstream_spws`).
    pub fn fingerprint(&self) -> String {
        let json = if self.upstream_spws.is_empty() {
            serde_json::to_string(self)
        } else {
            let mut c = self.clone();
            c.upstream_spws.clear();
            serde_json::to_string(&c)
        }
        .unwrap_or_default();
        blake3::hash(json.as_bytes()).to_hex().to_string()
    }

    /// The spws whose inputs differ between `old` and `self`, when the only differences
    /// are upstream products that carry per-spw digests on both sides (possibly none: the
    /// change did not reach any spw's data). `None` when any other component changed or
    /// an upstream change cannot be narrowed to spws.
    pub fn changed_spws(&self, old: &Components) -> Option<std::collections::BTreeSet<u32>> {
        if old.task != self.task
            || old.build != self.build
            || old.algorithm_version != self.algorithm_version
            || old.params != self.params
            || old.inputs != self.inputs
            || old.caltable_paths != self.caltable_paths
            || old.files.len() != self.files.len()
            || old
                .files
                .iter()
                .any(|(k, f)| self.files.get(k).map(|n| &n.digest) != Some(&f.digest))
        {
            return None;
        }
        let mut out = std::collections::BTreeSet::new();
        let stages: std::collections::BTreeSet<&String> =
            old.upstream.keys().chain(self.upstream.keys()).collect();
        for st in stages {
            let (o, n) = (old.upstream.get(st)?, self.upstream.get(st)?);
            let kinds: std::collections::BTreeSet<&String> = o.keys().chain(n.keys()).collect();
            for k in kinds {
                if o.get(k) == n.get(k) {
                    continue;
                }
                let os = old.upstream_spws.get(st)?.get(k)?;
                let ns = self.upstream_spws.get(st)?.get(k)?;
                let spws: std::collections::BTreeSet<&u32> = os.keys().chain(ns.keys()).collect();
                for s in spws {
                    if os.get(s) != ns.get(s) {
                        out.insert(*s);
                    }
                }
                // A product whose every spw digest is unchanged changed only in what
                // does not reach the data (e.g. a flag command that flags nothing new):
                // it adds no spw.
            }
        }
        Some(out)
    }
}

/// Why a stage (re)runs.
#[derive(Debug, Clone, PartialEq)]
pub enum Reason {
    NeverRun,
    Forced,
    TaskChanged {
        old: String,
        new: String,
    },
    VersionChanged {
        old: u32,
        new: u32,
    },
    BuildChanged {
        old: String,
        new: String,
    },
    ParamChanged {
        name: String,
        old: Option<ParamValue>,
        new: Option<ParamValue>,
    },
    UpstreamChanged {
        stage: String,
    },
    UpstreamWillRun {
        stage: String,
    },
    InputChanged {
        name: String,
    },
    CaltableChanged {
        written: String,
    },
    FileChanged {
        param: String,
        written: String,
        flag_commands: bool,
        summary: String,
    },
    ProductMissing {
        path: String,
    },
    ProductModified {
        path: String,
    },
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::NeverRun => write!(f, "never run"),
            Reason::Forced => write!(f, "forced (--force)"),
            Reason::TaskChanged { old, new } => write!(f, "task changed {old} -> {new}"),
            Reason::VersionChanged { old, new } => {
                write!(f, "algorithm version changed {old} -> {new}")
            }
            Reason::BuildChanged { old, new } => {
                let old = if old.is_empty() {
                    "an older build"
                } else {
                    old
                };
                write!(f, "almacal build changed {old} -> {new}")
            }
            Reason::ParamChanged { name, old, new } => match (old, new) {
                (Some(o), Some(n)) => match (o, n) {
                    (ParamValue::List(a), ParamValue::List(b))
                        if a.iter().chain(b).any(|v| v.as_table().is_some()) =>
                    {
                        let a: Vec<String> = a.iter().map(|v| v.to_compact()).collect();
                        let b: Vec<String> = b.iter().map(|v| v.to_compact()).collect();
                        let s = summarize(&diff_lines(&a, &b)).replace("line", "item");
                        write!(f, "parameter {name} changed ({s})")
                    }
                    _ => write!(f, "parameter {name} changed {o} -> {n}"),
                },
                (None, Some(n)) => write!(f, "parameter {name} added ({n})"),
                (Some(o), None) => write!(f, "parameter {name} removed (was {o})"),
                (None, None) => write!(f, "parameter {name} changed"),
            },
            Reason::UpstreamChanged { stage } => write!(f, "upstream {stage} changed"),
            Reason::UpstreamWillRun { stage } => write!(f, "upstream {stage} will rerun"),
            Reason::InputChanged { name } => write!(f, "input {name} changed"),
            Reason::CaltableChanged { written } => write!(f, "caltable {written} changed"),
            Reason::FileChanged {
                param,
                written,
                flag_commands,
                summary,
            } => {
                if *flag_commands {
                    write!(f, "flag commands changed ({summary})")
                } else {
                    write!(f, "file {written} ({param}) changed ({summary})")
                }
            }
            Reason::ProductMissing { path } => write!(f, "product {path} is missing"),
            Reason::ProductModified { path } => write!(f, "product {path} was modified"),
        }
    }
}

/// Reasons the new components differ from the old ones (empty if equal).
pub fn diff(old: &Components, new: &Components) -> Vec<Reason> {
    let mut out = Vec::new();
    if old.task != new.task {
        out.push(Reason::TaskChanged {
            old: old.task.clone(),
            new: new.task.clone(),
        });
    }
    if old.build != new.build {
        out.push(Reason::BuildChanged {
            old: old.build.clone(),
            new: new.build.clone(),
        });
    }
    if old.algorithm_version != new.algorithm_version {
        out.push(Reason::VersionChanged {
            old: old.algorithm_version,
            new: new.algorithm_version,
        });
    }
    let names: std::collections::BTreeSet<&String> =
        old.params.keys().chain(new.params.keys()).collect();
    for name in names {
        let (o, n) = (old.params.get(name), new.params.get(name));
        if o != n {
            out.push(Reason::ParamChanged {
                name: name.clone(),
                old: o.cloned(),
                new: n.cloned(),
            });
        }
    }
    let ups: std::collections::BTreeSet<&String> =
        old.upstream.keys().chain(new.upstream.keys()).collect();
    for stage in ups {
        if old.upstream.get(stage) != new.upstream.get(stage) {
            out.push(Reason::UpstreamChanged {
                stage: stage.clone(),
            });
        }
    }
    let ins: std::collections::BTreeSet<&String> =
        old.inputs.keys().chain(new.inputs.keys()).collect();
    for name in ins {
        if old.inputs.get(name) != new.inputs.get(name) {
            out.push(Reason::InputChanged { name: name.clone() });
        }
    }
    let cals: std::collections::BTreeSet<&String> = old
        .caltable_paths
        .keys()
        .chain(new.caltable_paths.keys())
        .collect();
    for written in cals {
        if old.caltable_paths.get(written) != new.caltable_paths.get(written) {
            out.push(Reason::CaltableChanged {
                written: written.clone(),
            });
        }
    }
    let files: std::collections::BTreeSet<&String> =
        old.files.keys().chain(new.files.keys()).collect();
    for param in files {
        let (o, n) = (old.files.get(param), new.files.get(param));
        if o.map(|f| &f.digest) == n.map(|f| &f.digest) {
            continue;
        }
        let empty = Vec::new();
        let summary = summarize(&diff_lines(
            o.map_or(&empty, |f| &f.lines),
            n.map_or(&empty, |f| &f.lines),
        ));
        out.push(Reason::FileChanged {
            param: param.clone(),
            written: n.or(o).map(|f| f.written.clone()).unwrap_or_default(),
            flag_commands: matches!(new.task.as_str(), "flagdata" | "flagcmd")
                && param == "inpfile",
            summary,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comps() -> Components {
        let mut params = Params::new();
        params.insert("solint".into(), ParamValue::Str("inf".into()));
        Components {
            task: "bandpass".into(),
            build: "0.1.0+abc".into(),
            algorithm_version: 1,
            params,
            upstream: BTreeMap::new(),
            inputs: BTreeMap::new(),
            caltable_paths: BTreeMap::new(),
            files: BTreeMap::new(),
            upstream_spws: BTreeMap::new(),
        }
    }

    #[test]
    fn changed_spws_narrows_upstream_changes_to_spws() {
        let spw_map = |v: &[(u32, &str)]| -> BTreeMap<u32, String> {
            v.iter().map(|(k, d)| (*k, d.to_string())).collect()
        };
        let with = |layer: &str, spws: &[(u32, &str)]| {
            let mut c = comps();
            c.upstream.insert(
                "flags".into(),
                [("flag_layer".to_string(), layer.to_string())].into(),
            );
            c.upstream_spws.insert(
                "flags".into(),
                [("flag_layer".to_string(), spw_map(spws))].into(),
            );
            c
        };
        let old = with("A", &[(16, "a"), (18, "b"), (20, "c")]);
        let new = with("B", &[(16, "a"), (18, "b"), (20, "X")]);
        assert_eq!(new.changed_spws(&old), Some([20].into()));
        assert_eq!(old.fingerprint(), with("A", &[]).fingerprint());
        // A change that reaches no spw's data narrows to nothing.
        let same = with("C", &[(16, "a"), (18, "b"), (20, "c")]);
        assert_eq!(same.changed_spws(&old), Some(Default::default()));
        // Without per-spw digests on one side, or with a parameter change: not narrowed.
        let mut blind = with("B", &[]);
        blind.upstream_spws.clear();
        assert_eq!(blind.changed_spws(&old), None);
        let mut param = with("B", &[(16, "a"), (18, "b"), (20, "X")]);
        param
            .params
            .insert("solint".into(), ParamValue::Str("int".into()));
        assert_eq!(param.changed_spws(&old), None);
    }

    #[test]
    fn reasons_read_like_the_issue() {
        let a = comps();
        let mut b = comps();
        assert!(diff(&a, &b).is_empty());
        assert_eq!(a.fingerprint(), b.fingerprint());
        b.params
            .insert("solint".into(), ParamValue::Str("inf,20ch".into()));
        let r = diff(&a, &b);
        assert_eq!(r.len(), 1);
        assert_eq!(
            r[0].to_string(),
            "parameter solint changed \"inf\" -> \"inf,20ch\""
        );
        assert_ne!(a.fingerprint(), b.fingerprint());

        let mut c = comps();
        c.task = "flagdata".into();
        let mut d = c.clone();
        c.files.insert(
            "inpfile".into(),
            FileComponent {
                written: "f.txt".into(),
                digest: "1".into(),
                lines: vec!["a".into()],
            },
        );
        d.files.insert(
            "inpfile".into(),
            FileComponent {
                written: "f.txt".into(),
                digest: "2".into(),
                lines: vec!["a".into(), "b".into()],
            },
        );
        assert_eq!(
            diff(&c, &d)[0].to_string(),
            "flag commands changed (line 2 added)"
        );
    }

    #[test]
    fn a_new_build_changes_every_fingerprint() {
        let a = comps();
        let mut b = comps();
        b.build = "0.1.0+def".into();
        assert_ne!(a.fingerprint(), b.fingerprint());
        let r = diff(&a, &b);
        assert_eq!(r.len(), 1);
        assert_eq!(
            r[0].to_string(),
            "almacal build changed 0.1.0+abc -> 0.1.0+def"
        );
        assert_eq!(b.changed_spws(&a), None, "a new build reruns whole");
        // Records from before the build was recorded rerun too.
        let mut old = comps();
        old.build.clear();
        assert_ne!(old.fingerprint(), a.fingerprint());
    }
}
