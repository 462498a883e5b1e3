//! Linking: resolve `vis`, caltable and `after` references and referenced
//! text files, derive implicit flag-layer/model dependencies (a flag or
//! setjy stage applies to later-declared stages reading the same vis),
//! declare each stage's output paths, and reject duplicate outputs and
//! dependency cycles (naming the stages).

use crate::overlap::{ReadPath, WritePath};
use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::path::{Path, PathBuf};

use petgraph::graph::{DiGraph, NodeIndex};

use crate::diag::{Diagnostic, ParamSite, SiteOrigin};
use crate::draft::Draft;
use crate::flagfile::parse_flag_file;
use crate::recipe::{CalRef, Dep, DepKind, Input, ProductDecl, Stage, TextFile, VisSource};
use crate::schema::{ProductKind, Role};
use crate::source::SourceFile;
use crate::suggest::did_you_mean;
use crate::value::{ParamValue, Params};

/// Names the workspace keeps for itself.
const RESERVED_OUTPUTS: &[&str] = &[".almacal", "run.json", "plots", "report"];

#[allow(clippy::too_many_arguments)]
pub(crate) fn link(
    src: &SourceFile,
    dir: &Path,
    inputs: &[Input],
    drafts: Vec<Draft>,
    reads: &mut Vec<ReadPath>,
    writes: &mut Vec<WritePath>,
    offline: bool,
    diags: &mut Vec<Diagnostic>,
) -> Vec<Stage> {
    let index: HashMap<&str, usize> = drafts
        .iter()
        .enumerate()
        .map(|(i, d)| (d.name.as_str(), i))
        .collect();
    let stage_names: Vec<&str> = drafts.iter().map(|d| d.name.as_str()).collect();
    let input_names: Vec<&str> = inputs.iter().map(|i| i.name.as_str()).collect();
    let mut outputs: Vec<Option<Vec<ProductKind>>> = drafts
        .iter()
        .map(|d| d.task.map(|t| (t.outputs)(&d.params)))
        .collect();
    let cal_vis = caltable_vis(dir, &input_names, &drafts, &index, &mut outputs);
    check_caltable_flagging(src, &drafts, &cal_vis, diags);
    check_stage_kind_refs(src, &drafts, &index, diags);

    let mut stages = Vec::new();
    let mut owners: BTreeMap<PathBuf, (String, Range<usize>)> = BTreeMap::new();
    for (i, d) in drafts.iter().enumerate() {
        let Some(task) = d.task else {
            check_after(src, d, &index, &stage_names, diags);
            continue;
        };
        let mut deps = Vec::new();
        let value_span = |n: &str| {
            d.spans
                .get(n)
                .map(|(_, v)| v.clone())
                .unwrap_or_else(|| d.key.span.clone())
        };

        // vis: a flagdata stage on a caltable reads that table instead
        let mut caltables: Vec<(String, CalRef)> = Vec::new();
        let vis_of = d.params.get("vis").and_then(|v| v.as_str());
        let vis = vis_of.and_then(|v| {
            let span = value_span("vis");
            if let Some(cal) = &cal_vis[i] {
                match cal {
                    CalVis::Stage(name) => {
                        deps.push(Dep { stage: name.clone(), kind: DepKind::Caltable });
                        caltables.push((name.clone(), CalRef::Stage { name: name.clone() }));
                    }
                    CalVis::Path(path) => {
                        reads.push(ReadPath { what: format!("caltable {v:?}"), path: path.clone(), span });
                        caltables.push((v.to_string(), CalRef::Path { written: v.to_string(), path: path.clone() }));
                    }
                }
                None
            } else if input_names.contains(&v) {
                Some(VisSource::Input(v.to_string()))
            } else if let Some(&j) = index.get(v) {
                match &outputs[j] {
                    Some(kinds) if !kinds.contains(&ProductKind::Vis) => {
                        diags.push(
                            Diagnostic::at(src, span, format!("`vis = {v:?}`: stage `{v}` ({}) does not write a vis", drafts[j].task.map_or("?", |t| t.name)))
                                .with_help("`vis` names an input or a stage that writes a MeasurementSet (applycal, split, mstransform)"),
                        );
                        None
                    }
                    _ => {
                        deps.push(Dep { stage: v.to_string(), kind: DepKind::Vis });
                        Some(VisSource::Stage(v.to_string()))
                    }
                }
            } else {
                let help = did_you_mean(v, input_names.iter().chain(stage_names.iter()).copied());
                diags.push(Diagnostic::at(src, span, format!("`vis = {v:?}` is neither an input nor a stage")).with_help_opt(help));
                None
            }
        });

        // caltables
        for (s, span) in &d.cal_sites {
            if caltables.iter().any(|(w, _)| w == s) {
                continue;
            }
            if let Some(&j) = index.get(s.as_str()) {
                if j == i {
                    diags.push(Diagnostic::at(
                        src,
                        span.clone(),
                        format!("stage `{s}` cannot apply its own caltable"),
                    ));
                    continue;
                }
                if let Some(kinds) = &outputs[j] {
                    if !kinds.contains(&ProductKind::Caltable) {
                        let what = kinds.first().map_or("nothing", |k| k.a_noun());
                        diags.push(
                            Diagnostic::at(src, span.clone(), format!("stage `{s}` ({}) writes {what}, not a caltable", drafts[j].task.map_or("?", |t| t.name)))
                                .with_help("gaintable entries name stages that write caltables (gencal, gaincal, bandpass, fluxscale, renorm with apply = true) or paths to existing caltables"),
                        );
                        continue;
                    }
                }
                deps.push(Dep {
                    stage: s.clone(),
                    kind: DepKind::Caltable,
                });
                caltables.push((s.clone(), CalRef::Stage { name: s.clone() }));
            } else {
                let path = dir.join(s);
                // Offline (`check --offline`), a path-like reference stands for a table
                // that will exist where the recipe runs.
                let pathlike = s.contains('/') || s.contains('.');
                if !s.is_empty() && (path.is_dir() || (offline && pathlike)) {
                    reads.push(ReadPath {
                        what: format!("caltable {s:?}"),
                        path: path.clone(),
                        span: span.clone(),
                    });
                    caltables.push((
                        s.clone(),
                        CalRef::Path {
                            written: s.clone(),
                            path,
                        },
                    ));
                } else {
                    let help = did_you_mean(s, stage_names.iter().copied());
                    let d = Diagnostic::at(src, span.clone(), format!("caltable {s:?} is neither a stage nor an existing caltable (looked for {})", path.display()))
                        .with_help_opt(help.clone());
                    diags.push(if help.is_none() && (s.contains('/') || s.contains('.')) {
                        d.input_data()
                    } else {
                        d
                    });
                }
            }
        }

        // text files
        let mut files = Vec::new();
        let mut file_commands = Vec::new();
        let mut sites = d.sites.clone();
        for spec in task.all_params().filter(|p| p.role == Role::TextFile) {
            let Some(written) = d.params.get(spec.name).and_then(|v| v.as_str()) else {
                continue;
            };
            let path = dir.join(written);
            reads.push(ReadPath {
                what: format!("`{}` file", spec.name),
                path: path.clone(),
                span: value_span(spec.name),
            });
            if offline && !path.exists() {
                continue;
            }
            match std::fs::read_to_string(&path) {
                Ok(content) => {
                    if matches!(task.name, "flagdata" | "flagcmd") && spec.name == "inpfile" {
                        let fsrc = SourceFile::new(&path, content.clone());
                        file_commands = parse_flag_file(&fsrc, diags);
                        for (i, c) in file_commands.iter().enumerate() {
                            sites.insert(
                                format!("file_commands[{i}]"),
                                ParamSite::at(&fsrc, fsrc.line_span(c.line), SiteOrigin::Stage),
                            );
                        }
                    }
                    files.push(TextFile {
                        param: spec.name.to_string(),
                        written: written.to_string(),
                        path,
                        content,
                    });
                }
                Err(e) => diags.push(
                    Diagnostic::at(
                        src,
                        value_span(spec.name),
                        format!(
                            "`{} = {written:?}`: cannot read {}: {e}",
                            spec.name,
                            path.display()
                        ),
                    )
                    .input_data(),
                ),
            }
        }

        // after
        for name in check_after(src, d, &index, &stage_names, diags) {
            deps.push(Dep {
                stage: name,
                kind: DepKind::After,
            });
        }

        // implicit flag layers and models: earlier stages on the same vis
        if let Some(v) = vis_of.filter(|_| cal_vis[i].is_none()) {
            for (j, e) in drafts.iter().enumerate().take(i) {
                if e.params.get("vis").and_then(|x| x.as_str()) != Some(v) {
                    continue;
                }
                let kinds = outputs[j].as_deref().unwrap_or(&[]);
                if kinds.contains(&ProductKind::FlagLayer) {
                    deps.push(Dep {
                        stage: e.name.clone(),
                        kind: DepKind::FlagLayer,
                    });
                }
                if kinds.contains(&ProductKind::Model) {
                    deps.push(Dep {
                        stage: e.name.clone(),
                        kind: DepKind::Model,
                    });
                }
                // Only flagmanager reads saved versions; other stages need not wait for a save.
                if kinds.contains(&ProductKind::FlagVersions) && task.name == "flagmanager" {
                    deps.push(Dep {
                        stage: e.name.clone(),
                        kind: DepKind::FlagVersions,
                    });
                }
            }
        }

        // outputs
        let mut decls = Vec::new();
        for kind in outputs[i].clone().unwrap_or_default() {
            let custom = match kind {
                ProductKind::Vis => d
                    .params
                    .get("outputvis")
                    .and_then(|v| v.as_str())
                    .map(|s| (s.to_string(), value_span("outputvis")))
                    .or_else(|| {
                        d.params
                            .get("output")
                            .and_then(|o| o.as_table())
                            .and_then(|o| o.get("split"))
                            .and_then(|s| s.as_str())
                            .map(|s| (s.to_string(), value_span("output")))
                    }),
                // CASA keeps a vis's versions in `<ms>.flagversions` beside it: do the
                // same for a vis product, unless an earlier stage already owns that name.
                ProductKind::FlagVersions => match &vis {
                    Some(VisSource::Stage(v)) => stages
                        .iter()
                        .find(|s: &&Stage| &s.name == v)
                        .and_then(|s| s.output(ProductKind::Vis))
                        .map(|o| {
                            let mut name = o.rel_path.clone().into_os_string();
                            name.push(".flagversions");
                            PathBuf::from(name)
                        })
                        .filter(|p| !owners.contains_key(p))
                        .map(|p| (p.to_string_lossy().into_owned(), value_span("vis"))),
                    _ => None,
                },
                _ => None,
            };
            let (rel, span) = match custom {
                Some((p, span)) => (PathBuf::from(p), span),
                None => (
                    PathBuf::from(kind.default_file_name(&d.name)),
                    d.key.span.clone(),
                ),
            };
            let norm: PathBuf = rel
                .components()
                .filter(|c| !matches!(c, std::path::Component::CurDir))
                .collect();
            if RESERVED_OUTPUTS.iter().any(|r| norm.starts_with(r)) {
                diags.push(Diagnostic::at(
                    src,
                    span.clone(),
                    format!(
                        "stage `{}` would write {}, which the workspace reserves",
                        d.name,
                        norm.display()
                    ),
                ));
            } else if let Some((other, _)) = owners.get(&norm) {
                diags.push(
                    Diagnostic::at(
                        src,
                        span.clone(),
                        format!(
                            "stage `{}` writes {}, which stage `{other}` also writes",
                            d.name,
                            norm.display()
                        ),
                    )
                    .with_help("give one of them another output path"),
                );
            } else {
                owners.insert(norm.clone(), (d.name.clone(), span.clone()));
            }
            writes.push(WritePath {
                what: format!("stage `{}` writes {}", d.name, norm.display()),
                rel: norm.clone(),
                span: span.clone(),
            });
            decls.push(ProductDecl {
                kind,
                rel_path: norm,
            });
        }

        stages.push(Stage {
            name: d.name.clone(),
            task: task.name.to_string(),
            params: d.params.clone(),
            vis,
            caltables,
            files,
            file_commands,
            deps,
            outputs: decls,
            plots: d.plots.clone(),
            sites,
        });
    }
    check_cycles(src, &drafts, &stages, diags);
    for st in &stages {
        if let Some(&j) = index.get(st.name.as_str()) {
            check_spwmap_auto(&drafts[j], st, &drafts, &index, diags);
        }
    }
    stages
}

/// `spwmap = "auto"` is tsysspwmap: it maps a Tsys table, so the matching `gaintable`
/// entry must be a gencal stage with caltype "tsys" (a path is checked when the table is
/// opened). Applycal groups inherit the stage-level gaintable and spwmap.
fn check_spwmap_auto(
    d: &Draft,
    st: &Stage,
    drafts: &[Draft],
    index: &HashMap<&str, usize>,
    diags: &mut Vec<Diagnostic>,
) {
    let strs = |v: Option<&ParamValue>| -> Vec<String> {
        match v {
            Some(ParamValue::Str(s)) => vec![s.clone()],
            Some(ParamValue::List(l)) => l
                .iter()
                .map(|x| x.as_str().unwrap_or("").to_string())
                .collect(),
            _ => Vec::new(),
        }
    };
    let mut sets: Vec<(String, &Params)> = vec![(String::new(), &d.params)];
    if let Some(ParamValue::List(groups)) = d.params.get("groups") {
        for (i, g) in groups.iter().enumerate() {
            if let ParamValue::Table(t) = g {
                sets.push((format!("groups[{i}]."), t));
            }
        }
    }
    for (prefix, p) in sets {
        let own = |k: &str| p.get(k).or_else(|| d.params.get(k));
        let spwmap = strs(own("spwmap"));
        let tables = strs(own("gaintable"));
        for (k, entry) in spwmap.iter().enumerate() {
            if entry != "auto" {
                continue;
            }
            let Some(table) = tables.get(k) else { continue };
            let Some(&(mut j)) = index.get(table.as_str()) else {
                continue;
            };
            // A flagged copy of a Tsys table is a Tsys table: follow flagdata stages on
            // caltables back to the table they flag.
            let mut hops = 0;
            while drafts[j].task.is_some_and(|t| t.name == "flagdata") && hops < drafts.len() {
                match drafts[j]
                    .params
                    .get("vis")
                    .and_then(ParamValue::as_str)
                    .and_then(|v| index.get(v))
                {
                    Some(&k) => j = k,
                    None => break,
                }
                hops += 1;
            }
            let other = &drafts[j];
            let is_tsys = other.task.is_some_and(|t| t.name == "gencal")
                && other.params.get("caltype").and_then(ParamValue::as_str) == Some("tsys");
            if is_tsys {
                continue;
            }
            if let Some(site) = st.site(&format!("{prefix}spwmap")) {
                let at = match site.origin {
                    SiteOrigin::Defaults => "[defaults] for ",
                    _ => "",
                };
                diags.push(
                    site.error(format!(
                        "{at}stage `{}`: spwmap entry {k} is \"auto\" (tsysspwmap), but gaintable entry {k} is stage `{table}` ({}), not a Tsys table",
                        st.name,
                        other.task.map_or("?", |t| t.name)
                    ))
                    .with_help("\"auto\" maps a gencal(caltype = \"tsys\") table; give this table [] (each spw by itself) or an explicit list"),
                );
            }
        }
    }
}

fn check_after(
    src: &SourceFile,
    d: &Draft,
    index: &HashMap<&str, usize>,
    stage_names: &[&str],
    diags: &mut Vec<Diagnostic>,
) -> Vec<String> {
    let mut out = Vec::new();
    for (name, span) in &d.after {
        if name == &d.name {
            diags.push(Diagnostic::at(
                src,
                span.clone(),
                format!("stage `{name}` cannot run after itself"),
            ));
        } else if index.contains_key(name.as_str()) {
            out.push(name.clone());
        } else {
            let help = did_you_mean(name, stage_names.iter().copied());
            diags.push(
                Diagnostic::at(
                    src,
                    span.clone(),
                    format!("`after` names unknown stage `{name}`"),
                )
                .with_help_opt(help),
            );
        }
    }
    out
}

/// Report every dependency cycle once, at its first-declared stage.
fn check_cycles(src: &SourceFile, drafts: &[Draft], stages: &[Stage], diags: &mut Vec<Diagnostic>) {
    let mut g: DiGraph<&str, ()> = DiGraph::new();
    let nodes: HashMap<&str, NodeIndex> = stages
        .iter()
        .map(|s| (s.name.as_str(), g.add_node(s.name.as_str())))
        .collect();
    for s in stages {
        for d in &s.deps {
            if let (Some(&a), Some(&b)) = (nodes.get(d.stage.as_str()), nodes.get(s.name.as_str()))
            {
                g.update_edge(a, b, ());
            }
        }
    }
    let order: HashMap<&str, usize> = drafts
        .iter()
        .enumerate()
        .map(|(i, d)| (d.name.as_str(), i))
        .collect();
    for scc in petgraph::algo::tarjan_scc(&g) {
        if scc.len() < 2 {
            continue;
        }
        let Some(&first) = scc
            .iter()
            .min_by_key(|n| order.get(g[**n]).copied().unwrap_or(usize::MAX))
        else {
            continue;
        };
        // Walk the cycle in dependency direction (downstream) from `first`.
        let mut path = vec![first];
        let mut cur = first;
        while path.len() <= scc.len() {
            let next = g
                .neighbors(cur)
                .filter(|n| scc.contains(n))
                .min_by_key(|n| (*n != first, order.get(g[*n]).copied().unwrap_or(usize::MAX)));
            match next {
                Some(n) if n == first => break,
                Some(n) if !path.contains(&n) => {
                    path.push(n);
                    cur = n;
                }
                _ => break,
            }
        }
        let names: Vec<&str> = path.iter().map(|n| g[*n]).collect();
        let cycle = format!("{} -> {}", names.join(" -> "), g[first]);
        let span = drafts
            .iter()
            .find(|d| d.name == g[first])
            .map(|d| d.key.span.clone())
            .unwrap_or(0..0);
        diags.push(
            Diagnostic::at(src, span, format!("dependency cycle: {cycle}"))
                .with_help("each arrow is a `vis`, `gaintable`, flag-layer/model or `after` dependency; remove one to break the cycle"),
        );
    }
}

/// What a flagdata stage's `vis` names when it flags a caltable (CASA's
/// `flagdata(vis='x.ms.tsys', ...)`): a stage that writes a caltable, or an existing
/// CASA caltable on disk. Such a stage writes a new caltable, the input's with those
/// solutions flagged; products stay immutable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CalVis {
    Stage(String),
    Path(PathBuf),
}

/// Is `path` a CASA calibration table (`table.info` says `Type = Calibration`)?
fn is_caltable_dir(path: &Path) -> bool {
    std::fs::read_to_string(path.join("table.info")).is_ok_and(|info| {
        info.lines()
            .next()
            .is_some_and(|l| l.contains("Calibration"))
    })
}

/// For each draft, the caltable its `vis` names if it is a flagdata stage on a caltable;
/// such stages' outputs become a caltable (and their report) instead of a flag layer.
/// A chain of such stages (flagdata on a flagged table) resolves in any declaration order.
fn caltable_vis(
    dir: &Path,
    input_names: &[&str],
    drafts: &[Draft],
    index: &HashMap<&str, usize>,
    outputs: &mut [Option<Vec<ProductKind>>],
) -> Vec<Option<CalVis>> {
    let is_flagdata = |d: &Draft| d.task.is_some_and(|t| t.name == "flagdata");
    let mut cal: Vec<Option<CalVis>> = vec![None; drafts.len()];
    // Paths and non-flagdata stages first; then flagdata stages on flagdata stages, to a
    // fixed point (a cycle never resolves and is reported by the cycle check).
    let mut changed = true;
    while changed {
        changed = false;
        for (i, d) in drafts.iter().enumerate() {
            if cal[i].is_some() || !is_flagdata(d) {
                continue;
            }
            let Some(v) = d.params.get("vis").and_then(|v| v.as_str()) else {
                continue;
            };
            if input_names.contains(&v) {
                continue;
            }
            let found = match index.get(v) {
                Some(&j) if j != i => {
                    let writes_cal = outputs[j].as_deref().is_some_and(|k| {
                        k.contains(&ProductKind::Caltable) && !k.contains(&ProductKind::Vis)
                    });
                    writes_cal.then(|| CalVis::Stage(v.to_string()))
                }
                Some(_) => None,
                None => {
                    let path = dir.join(v);
                    is_caltable_dir(&path).then_some(CalVis::Path(path))
                }
            };
            if let Some(c) = found {
                if let Some(kinds) = outputs[i].as_mut() {
                    for k in kinds.iter_mut() {
                        if *k == ProductKind::FlagLayer {
                            *k = ProductKind::Caltable;
                        }
                    }
                }
                cal[i] = Some(c);
                changed = true;
            }
        }
    }
    cal
}

/// Parameters that must name a stage of one task: setjy `fluxscale` (its result is that
/// fluxscale stage's report) and gaincal `append_to` (a gaincal stage, or a CASA caltable
/// path).
fn check_stage_kind_refs(
    src: &SourceFile,
    drafts: &[Draft],
    index: &HashMap<&str, usize>,
    diags: &mut Vec<Diagnostic>,
) {
    for d in drafts {
        let Some(task) = d.task else { continue };
        let (param, want, paths_ok, what) = match task.name {
            "setjy" => (
                "fluxscale",
                "fluxscale",
                false,
                "whose result sets the model",
            ),
            "gaincal" => (
                "append_to",
                "gaincal",
                true,
                "whose table this stage extends",
            ),
            _ => continue,
        };
        let Some(v) = d.params.get(param).and_then(|v| v.as_str()) else {
            continue;
        };
        let span = d
            .spans
            .get(param)
            .map_or(d.key.span.clone(), |s| s.1.clone());
        let found = index.get(v).map(|&j| &drafts[j]);
        let msg = match found {
            Some(e) if e.task.is_some_and(|t| t.name == want) => continue,
            Some(e) => format!(
                "stage `{}`: `{param}` names stage `{v}`, a {} stage; it must name a {want} stage",
                d.name,
                e.task.map_or("task-less", |t| t.name)
            ),
            None if paths_ok => continue,
            None => format!(
                "stage `{}`: `{param}` must name a {want} stage of this recipe (its result is read from that stage's report), not {v:?}",
                d.name
            ),
        };
        diags.push(
            Diagnostic::at(src, span, msg)
                .with_help(format!("write the name of the {want} stage {what}")),
        );
    }
}

/// Products are immutable, so flagging a caltable (flagdata on it) or appending to one
/// (gaincal `append_to`) makes a new one: a CASA script's later `gaintable='x.ms.tsys'`
/// means the changed table. Reject a recipe where that meaning is lost: two stages changing
/// the same caltable (chain them), or another stage applying the caltable a stage changes
/// (apply the changing stage instead).
fn check_caltable_flagging(
    src: &SourceFile,
    drafts: &[Draft],
    cal_vis: &[Option<CalVis>],
    diags: &mut Vec<Diagnostic>,
) {
    let writes_table = |i: usize| {
        drafts[i]
            .task
            .is_some_and(|t| (t.outputs)(&drafts[i].params).contains(&ProductKind::FlagLayer))
    };
    fn param<'a>(d: &'a Draft, name: &str) -> &'a str {
        d.params.get(name).and_then(|v| v.as_str()).unwrap_or("")
    }
    let span_of = |d: &Draft, name: &str| {
        d.spans
            .get(name)
            .map_or(d.key.span.clone(), |s| s.1.clone())
    };
    // table -> (stage changing it, "flags" / "appends to", the parameter naming it)
    let mut changer: HashMap<&str, (usize, &str, &str)> = HashMap::new();
    for (i, d) in drafts.iter().enumerate() {
        let found = if cal_vis[i].is_some() && writes_table(i) {
            Some(("flags", "vis"))
        } else if d.task.is_some_and(|t| t.name == "gaincal") && !param(d, "append_to").is_empty() {
            Some(("appends to", "append_to"))
        } else {
            None
        };
        let Some((verb, key)) = found else { continue };
        let v = param(d, key);
        if let Some(&(first, first_verb, _)) = changer.get(v) {
            diags.push(
                Diagnostic::at(src, span_of(d, key), format!(
                    "stage `{}` {first_verb} caltable `{v}` and stage `{}` {verb} it: each would write its own copy, and neither would have the other's change",
                    drafts[first].name, d.name
                ))
                .with_help(format!("chain them: `{key} = \"{}\"` in stage `{}`", drafts[first].name, d.name)),
            );
        } else {
            changer.insert(v, (i, verb, key));
        }
    }
    for (j, d) in drafts.iter().enumerate() {
        for (s, span) in &d.cal_sites {
            let Some(&(f, verb, _)) = changer.get(s.as_str()) else {
                continue;
            };
            if f == j {
                continue; // the appending stage names the table it extends
            }
            let without = if verb == "flags" {
                "without those flags"
            } else {
                "without those solutions"
            };
            diags.push(
                Diagnostic::at(src, span.clone(), format!(
                    "stage `{}` applies caltable `{s}`, but stage `{}` {verb} it: `{s}` is the table {without}",
                    d.name, drafts[f].name
                ))
                .with_help(format!("apply the changed table: write `{}` instead of `{s}`", drafts[f].name)),
            );
        }
    }
}
