//! Task-specific rules that span several parameters: flagdata's command
//! forms, applycal's per-field groups and output, list lengths of the
//! pre-application parameters, and a few CASA preconditions (setjy manual
//! needs a flux density, gencal antpos needs a file).

use std::collections::BTreeMap;

use crate::diag::Diagnostic;
use crate::draft::Draft;
use crate::schema::TaskSpec;
use crate::source::SourceFile;
use crate::tasks::FLAG_COMMAND_PARAMS;
use crate::value::{ParamValue, Params};

/// Parameters that get neither `[defaults]` nor CASA defaults at stage level.
pub(crate) fn params_without_defaults(task: &TaskSpec) -> Vec<&'static str> {
    match task.name {
        "flagdata" => FLAG_COMMAND_PARAMS.iter().map(|p| p.name).collect(),
        _ => Vec::new(),
    }
}

const GROUP_KEYS: &[&str] = &[
    "field",
    "gaintable",
    "gainfield",
    "interp",
    "spwmap",
    "calwt",
];

pub(crate) fn apply(
    src: &SourceFile,
    draft: &Draft,
    task: &TaskSpec,
    given: &BTreeMap<String, ParamValue>,
    params: &mut Params,
    diags: &mut Vec<Diagnostic>,
) {
    let key_span = |name: &str| draft.spans.get(name).map(|(k, _)| k.clone());
    let value_span = |name: &str| draft.spans.get(name).map(|(_, v)| v.clone());
    let stage = &draft.name;
    match task.name {
        "flagdata" => {
            let cmd_keys: Vec<&str> = given
                .keys()
                .map(String::as_str)
                .filter(|k| FLAG_COMMAND_PARAMS.iter().any(|p| p.name == *k))
                .collect();
            // Written in the recipe (even if the value itself was invalid).
            let has_cmds = draft.spans.contains_key("commands");
            let has_file = draft.spans.contains_key("inpfile");
            if has_cmds || has_file {
                let form = if has_cmds { "commands" } else { "inpfile" };
                for k in &cmd_keys {
                    if let Some(span) = key_span(k) {
                        diags.push(
                            Diagnostic::at(src, span, format!("`{k}` is a flag-command parameter, but stage `{stage}` lists its commands in `{form}`"))
                                .with_help(format!("move `{k}` into each command, e.g. {{ mode = \"manual\", {k} = ... }}")),
                        );
                    }
                }
                if has_cmds
                    && !has_file
                    && given
                        .get("commands")
                        .and_then(|c| c.as_list())
                        .is_some_and(|l| l.is_empty())
                {
                    if let Some(span) = value_span("commands") {
                        diags.push(Diagnostic::at(
                            src,
                            span,
                            format!("stage `{stage}` has an empty `commands` list"),
                        ));
                    }
                }
            } else if cmd_keys.is_empty() {
                diags.push(
                    Diagnostic::at(src, draft.key.span.clone(), format!("flagdata stage `{stage}` has no flag commands"))
                        .with_help("add `commands = [ { mode = \"manual\", ... } ]`, `inpfile = \"flags.txt\"`, or a single command's parameters such as mode = \"shadow\""),
                );
            } else {
                let mut cmd = BTreeMap::new();
                for k in cmd_keys {
                    if let Some(v) = params.remove(k) {
                        cmd.insert(k.to_string(), v);
                    }
                }
                cmd.entry("mode".to_string())
                    .or_insert_with(|| ParamValue::Str("manual".into()));
                params.insert(
                    "commands".into(),
                    ParamValue::List(vec![ParamValue::Table(cmd)]),
                );
            }
        }
        "applycal" => {
            if draft.spans.contains_key("groups") {
                if let Some(span) = key_span("field") {
                    diags.push(
                        Diagnostic::at(src, span, format!("stage `{stage}` has `groups`: give each group its own `field`"))
                            .with_help("stage-level gaintable, gainfield, interp, spwmap and calwt are defaults for every group; field is not"),
                    );
                }
            }
            let base: BTreeMap<String, ParamValue> = GROUP_KEYS
                .iter()
                .filter_map(|k| params.remove(*k).map(|v| (k.to_string(), v)))
                .collect();
            let groups: Vec<ParamValue> = match given.get("groups").and_then(|g| g.as_list()) {
                Some(list) => list
                    .iter()
                    .map(|g| {
                        let mut t = g.as_table().cloned().unwrap_or_default();
                        for (k, v) in &base {
                            if k != "field" {
                                t.entry(k.clone()).or_insert_with(|| v.clone());
                            }
                        }
                        t.entry("field".into())
                            .or_insert_with(|| ParamValue::Str(String::new()));
                        ParamValue::Table(t)
                    })
                    .collect(),
                None => vec![ParamValue::Table(base)],
            };
            let span = value_span("groups").unwrap_or_else(|| draft.key.span.clone());
            for (i, g) in groups.iter().enumerate() {
                if let Some(t) = g.as_table() {
                    let what = if given.contains_key("groups") {
                        format!("group {}", i + 1)
                    } else {
                        format!("stage `{stage}`")
                    };
                    check_lengths(src, &what, t, span.clone(), diags);
                }
            }
            params.insert("groups".into(), ParamValue::List(groups));
            if let Some(ParamValue::Table(out)) = params.get_mut("output") {
                for (k, v) in [
                    ("datacolumn", ParamValue::Str("corrected".into())),
                    ("keepflags", ParamValue::Bool(true)),
                    // CASA split's default (split always re-indexes).
                    ("reindex", ParamValue::Bool(true)),
                    ("spw", ParamValue::Str(String::new())),
                    ("field", ParamValue::Str(String::new())),
                    ("intent", ParamValue::Str(String::new())),
                ] {
                    out.entry(k.to_string()).or_insert(v);
                }
            }
        }
        "gaincal" | "bandpass" => {
            let span = value_span("gaintable").unwrap_or_else(|| draft.key.span.clone());
            check_lengths(src, &format!("stage `{stage}`"), params, span, diags);
        }
        "setjy" => {
            if params.contains_key("fluxscale") {
                if params.get("standard").and_then(|s| s.as_str()) != Some("manual") {
                    let span = value_span("standard").unwrap_or_else(|| draft.key.span.clone());
                    diags.push(
                        Diagnostic::at(
                            src,
                            span,
                            format!("stage `{stage}`: `fluxscale` sets a manual model"),
                        )
                        .with_help("write standard = \"manual\""),
                    );
                }
                for k in ["fluxdensity", "spix", "reffreq"] {
                    if let Some(span) = key_span(k) {
                        diags.push(
                            Diagnostic::at(src, span, format!("stage `{stage}`: `{k}` comes from the fluxscale result named in `fluxscale`"))
                                .with_help(format!("remove `{k}`, or remove `fluxscale` and give the model yourself")),
                        );
                    }
                }
            }
            if given.contains_key("fluxscale_fit") && !params.contains_key("fluxscale") {
                if let Some(span) = key_span("fluxscale_fit") {
                    diags.push(
                        Diagnostic::at(src, span, format!("stage `{stage}`: `fluxscale_fit` chooses how the result of `fluxscale` is used, but the stage names no fluxscale stage"))
                            .with_help("add fluxscale = \"<fluxscale stage>\", or remove `fluxscale_fit`"),
                    );
                }
            }
            let manual = params.get("standard").and_then(|s| s.as_str()) == Some("manual")
                && !params.contains_key("fluxscale");
            let unset = params
                .get("fluxdensity")
                .and_then(|f| f.as_list())
                .is_none_or(|l| l.first().and_then(|v| v.as_f64()).is_none_or(|v| v < 0.0));
            if manual && unset {
                let span = value_span("standard").unwrap_or_else(|| draft.key.span.clone());
                diags.push(
                    Diagnostic::at(
                        src,
                        span,
                        format!("stage `{stage}`: standard = \"manual\" needs `fluxdensity`"),
                    )
                    .with_help(
                        "add fluxdensity = [I, Q, U, V] in Jy, and optionally spix and reffreq",
                    ),
                );
            }
            if let (Some(f), Some(span)) = (
                params.get("fluxdensity").and_then(|f| f.as_list()),
                value_span("fluxdensity"),
            ) {
                if f.len() > 4 {
                    diags.push(Diagnostic::at(src, span, format!("stage `{stage}`: fluxdensity has {} values; expected at most 4 (I, Q, U, V)", f.len())));
                }
            }
        }
        "flagcmd" => {
            let mode = params
                .get("inpmode")
                .and_then(|m| m.as_str())
                .unwrap_or("table");
            let at = |name: &str| value_span(name).or_else(|| key_span(name));
            if mode == "list" && !params.contains_key("inpfile") {
                let span = at("inpmode").unwrap_or_else(|| draft.key.span.clone());
                diags.push(
                    Diagnostic::at(
                        src,
                        span,
                        format!("stage `{stage}`: inpmode = \"list\" needs `inpfile`"),
                    )
                    .with_help(
                        "name a text file of flag commands, one per line (flagdata's list format)",
                    ),
                );
            }
            if mode == "table" {
                if let Some(span) = at("inpfile") {
                    diags.push(
                        Diagnostic::at(src, span, format!("stage `{stage}`: inpmode = \"table\" reads the FLAG_CMD table of `vis`; `inpfile` is only for inpmode = \"list\""))
                            .with_help("remove `inpfile` (to use another MS's FLAG_CMD, make that MS the stage's `vis`), or set inpmode = \"list\""),
                    );
                }
            }
            if mode == "list" {
                for (k, default) in [
                    (
                        "tablerows",
                        given
                            .get("tablerows")
                            .and_then(|v| v.as_list())
                            .is_some_and(|l| l.is_empty()),
                    ),
                    (
                        "useapplied",
                        given.get("useapplied").and_then(|v| v.as_bool()) == Some(false),
                    ),
                ] {
                    if let (true, false, Some(span)) = (given.contains_key(k), default, at(k)) {
                        diags.push(
                            Diagnostic::at(src, span, format!("stage `{stage}`: `{k}` selects FLAG_CMD rows; it has no meaning with inpmode = \"list\""))
                                .with_help(format!("remove `{k}`, or use inpmode = \"table\"")),
                        );
                    }
                }
            }
        }
        "gencal"
            if params.get("caltype").and_then(|c| c.as_str()) == Some("antpos")
                && !params.contains_key("infile")
                && !(params.contains_key("antenna") && params.contains_key("parameter")) =>
        {
            let span = value_span("caltype").unwrap_or_else(|| draft.key.span.clone());
            diags.push(
                    Diagnostic::at(src, span, format!("stage `{stage}`: caltype = \"antpos\" needs `infile` or `antenna` + `parameter`"))
                        .with_help("name an antenna-position file (CASA's JSON format), or list the antennas and their [dx, dy, dz] offsets in m; almacal never queries online services"),
                );
        }
        "gencal"
            if params.get("fixsyscaltimes").and_then(|v| v.as_bool()) == Some(true)
                && params.get("caltype").and_then(|c| c.as_str()) != Some("tsys") =>
        {
            let span = value_span("fixsyscaltimes").unwrap_or_else(|| draft.key.span.clone());
            diags.push(
                Diagnostic::at(src, span, format!("stage `{stage}`: fixsyscaltimes fixes the SYSCAL times of caltype = \"tsys\""))
                    .with_help("remove it from this stage"),
            );
        }
        _ => {}
    }
}

/// gainfield/interp/spwmap/calwt may not list more entries than gaintable.
fn check_lengths(
    src: &SourceFile,
    what: &str,
    t: &BTreeMap<String, ParamValue>,
    span: std::ops::Range<usize>,
    diags: &mut Vec<Diagnostic>,
) {
    let n = t
        .get("gaintable")
        .and_then(|g| g.as_list())
        .map_or(0, |l| l.len());
    for k in ["gainfield", "interp", "spwmap", "calwt"] {
        let m = t.get(k).and_then(|g| g.as_list()).map_or(0, |l| l.len());
        let limit = if k == "calwt" { n.max(1) } else { n };
        if m > limit {
            diags.push(Diagnostic::at(
                src,
                span.clone(),
                format!("{what}: `{k}` has {m} entries but `gaintable` has {n}; give at most one per table"),
            ));
        }
    }
}
