//! Load and validate a recipe: walk the spanned TOML tree section by
//! section, check every stage against its task schema, apply `[defaults]`
//! and CASA defaults, then hand over to [`crate::refs`] for references,
//! dependencies, outputs and cycles. Every error is collected; nothing stops
//! at the first one.

use crate::overlap::{ReadPath, WritePath};
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;

use crate::convert::{convert_param, Cx};
use crate::diag::{Diagnostic, ParamSite, RecipeErrors, SiteOrigin};
use crate::plots;
use crate::raw::{self, Key, Node, RawValue};
use crate::recipe::{Input, Recipe};
use crate::rules;
use crate::schema::{default_value, Role, TaskSpec, Ty};
use crate::source::SourceFile;
use crate::suggest::did_you_mean;
use crate::support;
use crate::tasks;
use crate::value::{ParamValue, Params};

/// Options for loading.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Accept the test-only tasks (`_test_cal`, ...).
    pub allow_test_tasks: bool,
    /// Do not check that inputs, caltable paths and text files (`inpfile`, `infile`)
    /// exist on disk (`check --offline`, and tools that only read the recipe text).
    pub skip_input_checks: bool,
}

/// Read and validate the recipe at `path`.
pub fn load(path: &Path, opts: &LoadOptions) -> Result<Recipe, RecipeErrors> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        RecipeErrors(vec![Diagnostic {
            kind: crate::diag::DiagKind::Recipe,
            file: path.to_path_buf(),
            pos: crate::source::LineCol { line: 1, col: 1 },
            message: format!("cannot read recipe: {e}"),
            snippet: None,
            help: None,
        }])
    })?;
    load_str(path, text, opts)
}

/// Validate recipe text; `path` is used for messages and to resolve
/// relative paths (against its folder).
pub fn load_str(path: &Path, text: String, opts: &LoadOptions) -> Result<Recipe, RecipeErrors> {
    let src = SourceFile::new(path, text);
    let mut diags = Vec::new();
    let recipe = validate(&src, opts, &mut diags);
    // One bad `[defaults]` value is reported once, not once per stage.
    let mut seen = std::collections::HashSet::new();
    diags.retain(|d| seen.insert((d.file.clone(), d.pos, d.message.clone())));
    diags.sort_by_key(|d| (d.file != path, d.pos));
    match recipe {
        Some(r) if diags.is_empty() => Ok(r),
        _ => Err(RecipeErrors(diags)),
    }
}

use crate::draft::Draft;

const SECTIONS: &[&str] = &["recipe", "defaults", "inputs", "stage"];
/// The stage key listing the plots made after the stage (not a task parameter).
const PLOTS_KEY: &str = "plots";
const RECIPE_KEYS: &[&str] = &["name", "workdir", "description"];

fn validate(src: &SourceFile, opts: &LoadOptions, diags: &mut Vec<Diagnostic>) -> Option<Recipe> {
    let root = match raw::parse(&src.text) {
        Ok(r) => r,
        Err(e) => {
            diags.push(Diagnostic::at(
                src,
                e.span.clone(),
                format!("TOML syntax error: {}", e.message),
            ));
            return None;
        }
    };
    let dir = src
        .path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let stem = src
        .path
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_else(|| "recipe".into());

    let mut recipe_name = stem.clone();
    let mut workdir = dir.join(format!("{stem}.almacal"));
    let mut workdir_span: Range<usize> = 0..0;
    let mut defaults: Vec<(&Key, &Node)> = Vec::new();
    let mut inputs: Vec<(Input, Range<usize>)> = Vec::new();
    let mut stage_nodes: Vec<(&Key, &Node)> = Vec::new();
    let empty = Vec::new();
    let root_entries = match &root.value {
        RawValue::Table(t) => t,
        _ => &empty,
    };

    for (key, node) in root_entries {
        let Some(entries) = node.as_table() else {
            let help = if SECTIONS.contains(&key.name.as_str()) {
                Some(format!("write it as a section: [{}]", key.name))
            } else if is_any_param(&key.name) {
                Some(format!(
                    "task parameters go in a stage or in [defaults]: move `{}` under [defaults]",
                    key.name
                ))
            } else {
                did_you_mean(&key.name, SECTIONS.iter().copied())
            };
            diags.push(
                Diagnostic::at(src, key.span.clone(), format!("unexpected top-level key `{}`; a recipe has the sections [recipe], [defaults], [inputs] and [stage.NAME]", key.name))
                    .with_help_opt(help),
            );
            continue;
        };
        match key.name.as_str() {
            "recipe" => {
                for (k, v) in entries {
                    match (k.name.as_str(), v.as_str()) {
                        ("name", Some(s)) => recipe_name = s.to_string(),
                        ("workdir", Some(s)) => {
                            workdir = dir.join(s);
                            workdir_span = v.span.clone();
                        }
                        ("description", Some(_)) => {}
                        (n, None) if RECIPE_KEYS.contains(&n) => diags.push(Diagnostic::at(
                            src,
                            v.span.clone(),
                            format!(
                                "`recipe.{n}` must be a string, found {}",
                                v.value.type_name()
                            ),
                        )),
                        (n, _) => {
                            let help = if is_any_param(n) {
                                Some(format!(
                                    "defaults for stages go in [defaults]: move `{n}` there"
                                ))
                            } else {
                                did_you_mean(n, RECIPE_KEYS.iter().copied())
                            };
                            diags.push(
                                Diagnostic::at(src, k.span.clone(), format!("unknown key `{n}` in [recipe]; expected one of `name`, `workdir`, `description`"))
                                    .with_help_opt(help),
                            );
                        }
                    }
                }
            }
            "defaults" => defaults = entries.iter().map(|(k, v)| (k, v)).collect(),
            "inputs" => {
                for (k, v) in entries {
                    if !valid_name(&k.name) {
                        diags.push(Diagnostic::at(src, k.span.clone(), format!("invalid input name `{}`: use letters, digits, `_` and `-`, starting with a letter or `_`", k.name)));
                        continue;
                    }
                    let Some(written) = v.as_str() else {
                        diags.push(Diagnostic::at(
                            src,
                            v.span.clone(),
                            format!(
                                "input `{}` must be a path string, found {}",
                                k.name,
                                v.value.type_name()
                            ),
                        ));
                        continue;
                    };
                    let path = dir.join(written);
                    if !opts.skip_input_checks {
                        if !path.exists() {
                            diags.push(
                                Diagnostic::at(
                                    src,
                                    v.span.clone(),
                                    format!(
                                        "input `{}`: no such MeasurementSet: {}",
                                        k.name,
                                        path.display()
                                    ),
                                )
                                .input_data(),
                            );
                        } else if !path.join("table.dat").is_file() {
                            diags.push(
                                Diagnostic::at(
                                    src,
                                    v.span.clone(),
                                    format!(
                                        "input `{}`: {} is not a MeasurementSet (no table.dat)",
                                        k.name,
                                        path.display()
                                    ),
                                )
                                .input_data(),
                            );
                        }
                    }
                    inputs.push((
                        Input {
                            name: k.name.clone(),
                            written: written.to_string(),
                            path,
                        },
                        v.span.clone(),
                    ));
                }
            }
            "stage" => {
                for (k, v) in entries {
                    stage_nodes.push((k, v));
                }
            }
            other => {
                let help = did_you_mean(other, SECTIONS.iter().copied());
                diags.push(
                    Diagnostic::at(src, key.span.clone(), format!("unknown section [{other}]; a recipe has the sections [recipe], [defaults], [inputs] and [stage.NAME]"))
                        .with_help_opt(help),
                );
            }
        }
    }

    check_defaults(src, &defaults, opts, diags);

    let mut drafts = Vec::new();
    for (key, node) in &stage_nodes {
        if let Some(d) = stage_draft(src, key, node, &defaults, &inputs, opts, diags) {
            drafts.push(d);
        }
    }
    if stage_nodes.is_empty() && diags.is_empty() {
        diags.push(Diagnostic::at(
            src,
            0..0,
            "the recipe has no stages: add a [stage.NAME] section with a `task`",
        ));
    }

    let mut reads: Vec<ReadPath> = inputs
        .iter()
        .map(|(i, span)| ReadPath {
            what: format!("input `{}`", i.name),
            path: i.path.clone(),
            span: span.clone(),
        })
        .collect();
    let mut writes: Vec<WritePath> = Vec::new();
    let inputs: Vec<Input> = inputs.into_iter().map(|(i, _)| i).collect();
    let stages = crate::refs::link(
        src,
        &dir,
        &inputs,
        drafts,
        &mut reads,
        &mut writes,
        opts.skip_input_checks,
        diags,
    );
    crate::overlap::check(src, &workdir, workdir_span, &reads, &writes, diags);
    Some(Recipe {
        name: recipe_name,
        path: src.path.clone(),
        dir,
        workdir,
        inputs,
        stages,
    })
}

pub(crate) fn valid_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn is_any_param(name: &str) -> bool {
    tasks::TASKS.iter().any(|t| t.param(name).is_some())
}

fn all_param_names() -> Vec<&'static str> {
    let mut v: Vec<&str> = tasks::TASKS.iter().flat_map(|t| t.param_names()).collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// `[defaults]`: every key must be a parameter of some task, type-checked
/// once against the first task that has it.
fn check_defaults(
    src: &SourceFile,
    defaults: &[(&Key, &Node)],
    opts: &LoadOptions,
    diags: &mut Vec<Diagnostic>,
) {
    for (k, v) in defaults {
        let spec = tasks::TASKS
            .iter()
            .chain(if opts.allow_test_tasks {
                tasks::TEST_TASKS.iter()
            } else {
                [].iter()
            })
            .find_map(|t| t.param(&k.name));
        match spec {
            None if k.name == PLOTS_KEY => diags.push(
                Diagnostic::at(
                    src,
                    k.span.clone(),
                    "`plots` cannot have a default: each stage lists the plots of its own products",
                )
                .with_help("move `plots = [...]` into the stages that should make them"),
            ),
            None => {
                let names = all_param_names();
                let help = did_you_mean(&k.name, names.iter().copied());
                diags.push(
                    Diagnostic::at(
                        src,
                        k.span.clone(),
                        format!(
                            "unknown parameter `{}` in [defaults]: no task has it",
                            k.name
                        ),
                    )
                    .with_help_opt(help),
                );
            }
            Some(spec) if spec.role != Role::Plain => diags.push(Diagnostic::at(
                src,
                k.span.clone(),
                format!(
                    "`{}` cannot have a default: each stage names its own",
                    k.name
                ),
            )),
            Some(spec) => {
                let mut cx = Cx { src, diags };
                let _ = convert_param(&mut cx, spec, &k.name, v);
            }
        }
    }
}

fn stage_draft(
    src: &SourceFile,
    key: &Key,
    node: &Node,
    defaults: &[(&Key, &Node)],
    inputs: &[(Input, Range<usize>)],
    opts: &LoadOptions,
    diags: &mut Vec<Diagnostic>,
) -> Option<Draft> {
    let name = key.name.clone();
    if !valid_name(&name) {
        diags.push(Diagnostic::at(src, key.span.clone(), format!("invalid stage name `{name}`: use letters, digits, `_` and `-`, starting with a letter or `_`")));
    }
    if inputs.iter().any(|(i, _)| i.name == name) {
        diags.push(Diagnostic::at(src, key.span.clone(), format!("stage `{name}` has the same name as an input; names of inputs and stages must differ")));
    }
    let Some(entries) = node.as_table() else {
        diags.push(
            Diagnostic::at(
                src,
                node.span.clone(),
                format!(
                    "`stage.{name}` must be a table, found {}",
                    node.value.type_name()
                ),
            )
            .with_help(format!("write the stage as a section: [stage.{name}]")),
        );
        return None;
    };
    let mut draft = Draft {
        name: name.clone(),
        key: key.clone(),
        task: None,
        params: Params::new(),
        spans: BTreeMap::new(),
        after: Vec::new(),
        cal_sites: Vec::new(),
        plots: Vec::new(),
        sites: BTreeMap::new(),
    };
    let task_entry = entries.iter().find(|(k, _)| k.name == "task");
    let task = match task_entry {
        None => {
            diags.push(
                Diagnostic::at(
                    src,
                    key.span.clone(),
                    format!("stage `{name}` has no `task`"),
                )
                .with_help(format!(
                    "add e.g. task = \"gaincal\" (one of {})",
                    tasks::names(false).join(", ")
                )),
            );
            None
        }
        Some((_, v)) => match v.as_str() {
            None => {
                diags.push(Diagnostic::at(
                    src,
                    v.span.clone(),
                    format!(
                        "`task` must be a string (a CASA task name), found {}",
                        v.value.type_name()
                    ),
                ));
                None
            }
            Some(t) => match tasks::find(t, opts.allow_test_tasks) {
                Some(spec) => Some(spec),
                None => {
                    let help =
                        did_you_mean(t, tasks::names(opts.allow_test_tasks)).unwrap_or_else(|| {
                            format!("known tasks: {}", tasks::names(false).join(", "))
                        });
                    diags.push(
                        Diagnostic::at(
                            src,
                            v.span.clone(),
                            format!("unknown task {t:?} in stage `{name}`"),
                        )
                        .with_help(help),
                    );
                    None
                }
            },
        },
    };
    draft.task = task;
    if let (Some(spec), Some((_, v))) = (task, task_entry) {
        if let Some(why) = spec.not_implemented {
            diags.push(
                Diagnostic::at(
                    src,
                    v.span.clone(),
                    format!(
                        "task {:?} (stage `{name}`) is not implemented yet in almacal",
                        spec.name
                    ),
                )
                .with_help(why),
            );
        }
    }

    // `after` is checked even when the task is unknown.
    if let Some((_, v)) = entries.iter().find(|(k, _)| k.name == "after") {
        collect_strings(src, "after", v, &mut draft.after, diags);
    }
    let Some(task) = task else {
        return Some(draft);
    };

    let mut given: BTreeMap<String, ParamValue> = BTreeMap::new();
    let mut plot_names = Vec::new();
    for (k, v) in entries {
        if k.name == "task" || k.name == "after" {
            continue;
        }
        if k.name == PLOTS_KEY {
            plot_names = plots::collect(src, v, diags);
            continue;
        }
        if let Some((_, why)) = task.reserved.iter().find(|(n, _)| *n == k.name) {
            diags.push(Diagnostic::at(
                src,
                k.span.clone(),
                format!("parameter `{}` is not set in recipes: {why}", k.name),
            ));
            continue;
        }
        let Some(spec) = task.param(&k.name) else {
            diags.push(unknown_param(src, k, task, opts));
            continue;
        };
        draft
            .spans
            .insert(k.name.clone(), (k.span.clone(), v.span.clone()));
        nested_sites(src, &k.name, v, &mut draft.sites);
        if spec.role == Role::Caltables {
            collect_strings(src, &k.name, v, &mut draft.cal_sites, diags);
        }
        if matches!(spec.ty, Ty::Groups) {
            collect_group_sites(src, v, &mut draft.cal_sites, diags);
        }
        let mut cx = Cx { src, diags };
        if let Some(val) = convert_param(&mut cx, spec, &k.name, v) {
            given.insert(k.name.clone(), val);
        }
    }

    // [defaults], then CASA defaults.
    let skip_defaults = rules::params_without_defaults(task);
    let mut params = given.clone();
    let mut default_spans: BTreeMap<String, Range<usize>> = BTreeMap::new();
    for (k, v) in defaults {
        if given.contains_key(&k.name) || skip_defaults.contains(&k.name.as_str()) {
            continue;
        }
        if let Some(spec) = task.param(&k.name) {
            if spec.role != Role::Plain {
                continue;
            }
            let mut cx = Cx { src, diags };
            if let Some(val) = convert_param(&mut cx, spec, &k.name, v) {
                params.insert(k.name.clone(), val);
                default_spans.insert(k.name.clone(), v.span.clone());
            }
        }
    }
    for spec in task.all_params() {
        if params.contains_key(spec.name) || skip_defaults.contains(&spec.name) {
            continue;
        }
        match default_value(spec) {
            Ok(Some(v)) => {
                params.insert(spec.name.to_string(), v);
            }
            Ok(None) => {}
            Err(()) => diags.push(
                Diagnostic::at(
                    src,
                    key.span.clone(),
                    format!(
                        "stage `{name}` ({}) is missing the required parameter `{}`",
                        task.name, spec.name
                    ),
                )
                .with_help(format!("add `{} = ...` to [stage.{name}]", spec.name)),
            ),
        }
    }
    check_support(src, key, &draft, task, &params, &default_spans, diags);
    for name in params.keys() {
        let site = if let Some((_, v)) = draft.spans.get(name) {
            ParamSite::at(src, v.clone(), SiteOrigin::Stage)
        } else if let Some(v) = default_spans.get(name) {
            ParamSite::at(src, v.clone(), SiteOrigin::Defaults)
        } else {
            ParamSite::at(src, key.span.clone(), SiteOrigin::CasaDefault)
        };
        draft.sites.insert(name.clone(), site);
    }
    rules::apply(src, &draft, task, &given, &mut params, diags);
    draft.plots = plots::check(src, &name, task.name, &params, &plot_names, diags);
    // flagcmd(action='plot') draws its commands: that plot is the stage's product.
    if task.name == "flagcmd"
        && params.get("action").and_then(|a| a.as_str()) == Some("plot")
        && !draft.plots.contains(&plots::PlotName::FlagCmd)
    {
        draft.plots.push(plots::PlotName::FlagCmd);
    }
    draft.params = params;
    Some(draft)
}

/// Every resolved parameter must have a value almacal implements ([`crate::support`]):
/// reported at the value in the stage, in `[defaults]`, or (for a CASA default almacal
/// does not implement) at the stage's header.
fn check_support(
    src: &SourceFile,
    key: &Key,
    draft: &Draft,
    task: &TaskSpec,
    params: &Params,
    default_spans: &BTreeMap<String, Range<usize>>,
    diags: &mut Vec<Diagnostic>,
) {
    let stage = &draft.name;
    for spec in task.all_params() {
        let Some(value) = params.get(spec.name) else {
            continue;
        };
        let Some(u) = support::check(spec, task.support_of(spec), value) else {
            continue;
        };
        let (span, message) = if let Some((_, v)) = draft.spans.get(spec.name) {
            (v.clone(), u.message)
        } else if let Some(v) = default_spans.get(spec.name) {
            (
                v.clone(),
                format!(
                    "[defaults] for stage `{stage}` ({}): {}",
                    task.name, u.message
                ),
            )
        } else {
            (
                key.span.clone(),
                format!(
                    "stage `{stage}` ({}): CASA's default {}",
                    task.name, u.message
                ),
            )
        };
        diags.push(Diagnostic::at(src, span, message).with_help(u.help));
    }
}

/// Sites of the entries of an inline table (`name.key`) or of a list of inline tables
/// (`name[i]` and `name[i].key`).
fn nested_sites(src: &SourceFile, name: &str, v: &Node, sites: &mut BTreeMap<String, ParamSite>) {
    let at = |span: &Range<usize>| ParamSite::at(src, span.clone(), SiteOrigin::Stage);
    match &v.value {
        RawValue::Table(entries) => {
            for (k, e) in entries {
                sites.insert(format!("{name}.{}", k.name), at(&e.span));
            }
        }
        RawValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                sites.insert(format!("{name}[{i}]"), at(&item.span));
                for (k, e) in item.as_table().unwrap_or_default() {
                    sites.insert(format!("{name}[{i}].{}", k.name), at(&e.span));
                }
            }
        }
        _ => {}
    }
}

fn unknown_param(src: &SourceFile, k: &Key, task: &TaskSpec, opts: &LoadOptions) -> Diagnostic {
    let mut candidates: Vec<&str> = task.param_names().collect();
    candidates.extend(task.reserved.iter().map(|(n, _)| *n));
    candidates.extend(["task", "after", PLOTS_KEY]);
    let help = did_you_mean(&k.name, candidates).or_else(|| {
        let owners: Vec<&str> = tasks::TASKS
            .iter()
            .chain(if opts.allow_test_tasks {
                tasks::TEST_TASKS.iter()
            } else {
                [].iter()
            })
            .filter(|t| t.param(&k.name).is_some())
            .map(|t| t.name)
            .collect();
        (!owners.is_empty()).then(|| {
            format!(
                "`{}` is a parameter of {}, not of {}",
                k.name,
                owners.join(", "),
                task.name
            )
        })
    });
    Diagnostic::at(
        src,
        k.span.clone(),
        format!("unknown parameter `{}` for task {}", k.name, task.name),
    )
    .with_help_opt(help)
}

/// A string or list of strings, kept with their spans (references).
fn collect_strings(
    src: &SourceFile,
    name: &str,
    node: &Node,
    out: &mut Vec<(String, Range<usize>)>,
    diags: &mut Vec<Diagnostic>,
) {
    match &node.value {
        RawValue::Str(s) => out.push((s.clone(), node.span.clone())),
        RawValue::Array(items) => {
            for item in items {
                match &item.value {
                    RawValue::Str(s) => out.push((s.clone(), item.span.clone())),
                    _ if name == "after" => diags.push(Diagnostic::at(
                        src,
                        item.span.clone(),
                        format!(
                            "`after` lists stage names (strings), found {}",
                            item.value.type_name()
                        ),
                    )),
                    _ => {}
                }
            }
        }
        _ if name == "after" => diags.push(Diagnostic::at(
            src,
            node.span.clone(),
            format!(
                "`after` must be a list of stage names, found {}",
                node.value.type_name()
            ),
        )),
        _ => {}
    }
}

fn collect_group_sites(
    src: &SourceFile,
    node: &Node,
    out: &mut Vec<(String, Range<usize>)>,
    diags: &mut Vec<Diagnostic>,
) {
    if let RawValue::Array(groups) = &node.value {
        for g in groups {
            if let Some(entries) = g.as_table() {
                for (k, v) in entries {
                    if k.name == "gaintable" {
                        collect_strings(src, "gaintable", v, out, diags);
                    }
                }
            }
        }
    }
}
