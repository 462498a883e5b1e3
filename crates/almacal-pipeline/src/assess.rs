//! Deciding whether a stage is up to date: build its fingerprint components
//! from the current upstream digests, input identities and referenced files,
//! compare with its record, and check its products on disk.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

use almacal_recipe::{CalRef, DepKind, ProductKind, Recipe, Stage, VisSource};

use crate::digest::{hash_bytes, verify_product};
use crate::executor::{Layer, TaskRegistry, VisInput};
use crate::fingerprint::{diff, Components, FileComponent, Reason};
use crate::workspace::{Record, Workspace};

/// Known product digests: stage → kind → digest.
pub type Digests = BTreeMap<String, BTreeMap<ProductKind, String>>;

/// The product kind a dependency reads (`None` for pure ordering).
pub fn dep_product(kind: DepKind) -> Option<ProductKind> {
    match kind {
        DepKind::Vis => Some(ProductKind::Vis),
        DepKind::Caltable => Some(ProductKind::Caltable),
        DepKind::FlagLayer => Some(ProductKind::FlagLayer),
        DepKind::Model => Some(ProductKind::Model),
        DepKind::FlagVersions => Some(ProductKind::FlagVersions),
        DepKind::After => None,
    }
}

/// Shared state for assessing stages of one recipe.
pub struct Assessor<'a> {
    pub recipe: &'a Recipe,
    pub registry: &'a TaskRegistry,
    pub ws: Workspace,
    identities: crate::statcache::StatCache,
    /// Per-spw digests of known products: stage → kind → spw → digest.
    spw_digests: Mutex<SpwDigests>,
}

/// stage → product kind → spw → digest.
pub type SpwDigests = BTreeMap<String, BTreeMap<String, BTreeMap<u32, String>>>;

impl<'a> Assessor<'a> {
    pub fn new(recipe: &'a Recipe, registry: &'a TaskRegistry) -> Self {
        Self {
            recipe,
            registry,
            ws: Workspace::new(&recipe.workdir),
            identities: crate::statcache::StatCache::open(
                &Workspace::new(&recipe.workdir).meta_dir(),
            ),
            spw_digests: Mutex::new(SpwDigests::new()),
        }
    }

    /// Remember the per-spw digests of `stage`'s products (after it ran or was cached).
    pub fn note_spws(&self, stage: &str, products: &[crate::workspace::ProductRecord]) {
        if let Ok(mut m) = self.spw_digests.lock() {
            let e = m.entry(stage.to_string()).or_default();
            e.clear();
            for p in products {
                if let Some(s) = &p.digest.spws {
                    let m: Option<BTreeMap<u32, String>> = s
                        .iter()
                        .map(|(k, v)| k.parse::<u32>().ok().map(|k| (k, v.clone())))
                        .collect();
                    if let Some(m) = m {
                        e.insert(p.kind.to_string(), m);
                    }
                }
            }
        }
    }

    fn identity(&self, path: &Path) -> Result<String, String> {
        self.identities.identity(path)
    }

    /// Fingerprint components of `stage`. Upstream products missing from
    /// `digests` are left out (the caller knows they will run).
    pub fn components(&self, stage: &Stage, digests: &Digests) -> Result<Components, String> {
        let mut upstream: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        let mut upstream_spws = SpwDigests::new();
        let known_spws = self
            .spw_digests
            .lock()
            .map(|m| m.clone())
            .unwrap_or_default();
        for d in &stage.deps {
            let Some(kind) = dep_product(d.kind) else {
                continue;
            };
            if let Some(digest) = digests.get(&d.stage).and_then(|m| m.get(&kind)) {
                upstream
                    .entry(d.stage.clone())
                    .or_default()
                    .insert(kind.to_string(), digest.clone());
                if let Some(s) = known_spws
                    .get(&d.stage)
                    .and_then(|m| m.get(&kind.to_string()))
                {
                    upstream_spws
                        .entry(d.stage.clone())
                        .or_default()
                        .insert(kind.to_string(), s.clone());
                }
            }
        }
        let mut inputs = BTreeMap::new();
        if let Some(VisSource::Input(name)) = &stage.vis {
            if let Some(input) = self.recipe.input(name) {
                inputs.insert(
                    name.clone(),
                    self.identity(&input.path)
                        .map_err(|e| format!("input {name}: {e}"))?,
                );
            }
        }
        let mut caltable_paths = BTreeMap::new();
        for (written, r) in &stage.caltables {
            if let CalRef::Path { path, .. } = r {
                caltable_paths.insert(written.clone(), self.identity(path)?);
            }
        }
        let files = stage
            .files
            .iter()
            .map(|f| {
                (
                    f.param.clone(),
                    FileComponent {
                        written: f.written.clone(),
                        digest: hash_bytes(f.content.as_bytes()),
                        lines: f.content.lines().map(str::to_string).collect(),
                    },
                )
            })
            .collect();
        Ok(Components {
            task: stage.task.clone(),
            build: crate::BUILD_ID.to_string(),
            algorithm_version: self.registry.version(&stage.task),
            params: stage.params.clone(),
            upstream,
            inputs,
            caltable_paths,
            files,
            upstream_spws,
        })
    }

    /// Why `stage` must run (empty: its record and products are current).
    pub fn reasons(
        &self,
        stage: &Stage,
        comps: &Components,
        record: Option<&Record>,
        forced: bool,
    ) -> Vec<Reason> {
        let Some(record) = record else {
            return vec![Reason::NeverRun];
        };
        let mut out = Vec::new();
        if forced {
            out.push(Reason::Forced);
        }
        out.extend(diff(&record.components, comps));
        out.extend(self.product_problems(stage, record));
        out
    }

    /// Missing or modified products of a recorded stage.
    pub fn product_problems(&self, stage: &Stage, record: &Record) -> Vec<Reason> {
        let mut out = Vec::new();
        for decl in &stage.outputs {
            let path = decl.rel_path.display().to_string();
            match record.product(decl.kind) {
                Some(p) if p.rel_path == decl.rel_path => {
                    let full = self.ws.product_path(&decl.rel_path);
                    if !full.exists() {
                        out.push(Reason::ProductMissing { path });
                    } else if !verify_product(&full, &p.digest) {
                        out.push(Reason::ProductModified { path });
                    }
                }
                _ => out.push(Reason::ProductMissing { path }),
            }
        }
        out
    }

    /// Digests of every stage's recorded products (the current workspace).
    pub fn recorded_digests(&self) -> (Digests, BTreeMap<String, Record>) {
        let mut digests = Digests::new();
        let mut records = BTreeMap::new();
        for s in &self.recipe.stages {
            if let Some(r) = self.ws.read_record(&s.name) {
                digests.insert(
                    s.name.clone(),
                    r.products
                        .iter()
                        .map(|p| (p.kind, p.digest.digest.clone()))
                        .collect(),
                );
                self.note_spws(&s.name, &r.products);
                records.insert(s.name.clone(), r);
            }
        }
        (digests, records)
    }
}

/// The vis a stage reads, with the flag layers and models upstream of it.
pub(crate) fn vis_input(a: &Assessor<'_>, stage: &Stage) -> Option<VisInput> {
    let source = stage.vis.clone()?;
    let path = match &source {
        VisSource::Input(name) => a.recipe.input(name)?.path.clone(),
        VisSource::Stage(name) => {
            a.ws.product_path(&a.recipe.stage(name)?.output(ProductKind::Vis)?.rel_path)
        }
    };
    let layer = |kind: DepKind| -> Vec<Layer> {
        stage
            .deps
            .iter()
            .filter(|d| d.kind == kind)
            .filter_map(|d| {
                let up = a.recipe.stage(&d.stage)?;
                let out = up.output(dep_product(kind)?)?;
                Some(Layer {
                    stage: up.name.clone(),
                    task: up.task.clone(),
                    path: a.ws.product_path(&out.rel_path),
                })
            })
            .collect()
    };
    Some(VisInput {
        path,
        source,
        flag_layers: layer(DepKind::FlagLayer),
        models: layer(DepKind::Model),
        flag_versions: layer(DepKind::FlagVersions),
    })
}
