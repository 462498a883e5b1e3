//! The 22 real archive calibration scripts (../shared/scripts, read-only test data): each
//! imports, its task calls are all accounted for (translated + unsupported == task_calls),
//! task_calls equals a count made here independently from the parser's token stream, and
//! the recipe loads with almacal-recipe's validation (`check --offline`).

use rustpython_parser::lexer::lex;
use rustpython_parser::{Mode, Tok};
use std::path::{Path, PathBuf};

/// CASA tasks, as this test knows them (independently of the importer's list).
const TASKS: &[&str] = &[
    "importasdm",
    "listobs",
    "flagdata",
    "flagcmd",
    "flagmanager",
    "gencal",
    "wvrgcal",
    "applycal",
    "split",
    "mstransform",
    "gaincal",
    "bandpass",
    "setjy",
    "fluxscale",
    "delmod",
    "concat",
    "fixplanets",
    "statwt",
    "clearcal",
    "tclean",
    "clean",
    "uvcontsub",
    "exportuvfits",
    "cvel",
    "fixvis",
    "initweights",
    "polcal",
    "smoothcal",
    "hanningsmooth",
    "listcal",
    "importvla",
    "importuvfits",
    "importfits",
    "exportfits",
    "imstat",
    "immath",
    "imhead",
    "vishead",
    "partition",
    "split2",
    "cvel2",
    "exportasdm",
];
/// `object.method` helpers that change data.
const CHANGING: &[(&str, &str)] = &[
    ("es", "fixForCSV2555"),
    ("es", "bdflags2MS"),
    ("aU", "fixForCSV2555"),
    ("tb", "removerows"),
    ("tb", "putcol"),
    ("tb", "putcell"),
];

fn scripts_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/scripts");
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var_os("ALMACAL_REQUIRE_REFDATA").is_none(),
        "ALMACAL_REQUIRE_REFDATA is set but {} is missing",
        dir.display()
    );
    println!(
        "note: {} is missing; archive-script tests skipped",
        dir.display()
    );
    None
}

fn scripts() -> Vec<PathBuf> {
    let Some(dir) = scripts_dir() else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read scripts dir")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "py"))
        .collect();
    v.sort();
    v
}

/// Task call sites from the lexer: a task name followed by `(`, not after `.` or `def`;
/// or `obj . method (` for the data-changing helpers.
fn independent_count(src: &str) -> usize {
    let py3 = almacal_import::py2::to_py3(src);
    let toks: Vec<Tok> = lex(&py3, Mode::Module)
        .filter_map(|t| t.ok())
        .map(|(t, _)| t)
        .collect();
    let mut n = 0;
    for i in 0..toks.len() {
        let Tok::Name { name } = &toks[i] else {
            continue;
        };
        if toks.get(i + 1) != Some(&Tok::Lpar) {
            continue;
        }
        let prev = i.checked_sub(1).map(|j| &toks[j]);
        if TASKS.contains(&name.as_str()) && !matches!(prev, Some(Tok::Dot | Tok::Def)) {
            n += 1;
        }
        if let (Some(Tok::Dot), Some(Tok::Name { name: obj })) =
            (prev, i.checked_sub(2).map(|j| &toks[j]))
        {
            if CHANGING.contains(&(obj.as_str(), name.as_str())) {
                n += 1;
            }
        }
    }
    n
}

#[test]
fn all_scripts_import_with_every_task_call_accounted() {
    let paths = scripts();
    if paths.is_empty() {
        return;
    }
    assert_eq!(paths.len(), 22, "expected the 22 archive scripts");
    let mut total = (0, 0);
    for p in &paths {
        let src = std::fs::read_to_string(p).expect("read script");
        let imp = almacal_import::import_file(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        let independent = independent_count(&src);
        assert_eq!(
            imp.task_calls, independent,
            "{}: task_calls vs the lexer's count",
            imp.script
        );
        assert_eq!(
            imp.translated + imp.unsupported.len(),
            imp.task_calls,
            "{}: translated + unsupported",
            imp.script
        );
        assert!(
            imp.task_calls >= 8,
            "{}: only {} task calls",
            imp.script,
            imp.task_calls
        );
        assert!(!imp.stages.is_empty(), "{}: no stage", imp.script);
        // The JSON account says the same.
        let j = almacal_import::emit::account_json(&imp);
        assert_eq!(j["task_calls"].as_u64(), Some(independent as u64));
        let unsup = j["unsupported"].as_array().map_or(0, Vec::len);
        assert_eq!(
            j["translated"].as_u64().unwrap_or(0) as usize + unsup,
            independent
        );
        // Every unsupported call is a commented block in the recipe.
        let toml = almacal_import::emit::recipe_toml(&imp);
        assert_eq!(
            toml.matches("# UNSUPPORTED (script line").count(),
            imp.unsupported.len(),
            "{}",
            imp.script
        );
        println!(
            "{:<62} {:>3}/{:<3} stages {:>2}",
            imp.script,
            imp.translated,
            imp.task_calls,
            imp.stages.len()
        );
        total.0 += imp.translated;
        total.1 += imp.task_calls;
    }
    println!("total translated {}/{}", total.0, total.1);
    assert!(
        total.0 * 10 >= total.1 * 8,
        "fewer than 80% of the task calls translated: {}/{}",
        total.0,
        total.1
    );
}

#[test]
fn recipes_pass_offline_validation() {
    let paths = scripts();
    let opts = almacal_recipe::LoadOptions {
        allow_test_tasks: false,
        skip_input_checks: true,
    };
    let mut failures = Vec::new();
    for p in &paths {
        let imp = almacal_import::import_file(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        let toml = almacal_import::emit::recipe_toml(&imp);
        let path = PathBuf::from(format!("{}.toml", imp.name));
        if let Err(errs) = almacal_recipe::load_str(&path, toml, &opts) {
            let msgs: Vec<String> = errs
                .0
                .iter()
                .map(|d| format!("{}:{}: {}", d.pos.line, d.pos.col, d.message))
                .collect();
            failures.push(format!("{}:\n  {}", imp.name, msgs.join("\n  ")));
        }
    }
    println!(
        "{} of {} recipes pass offline validation",
        paths.len() - failures.len(),
        paths.len()
    );
    assert!(
        failures.is_empty(),
        "recipes failing validation:\n{}",
        failures.join("\n")
    );
}

#[test]
fn script_01_translation_details() {
    let Some(dir) = scripts_dir() else { return };
    let p = dir.join("01_uid___A002_Xaeaf96_X515.ms.scriptForCalibration.py");
    let imp = almacal_import::import_file(&p).expect("imports");
    assert_eq!(imp.refant.as_deref(), Some("DV02"));
    assert_eq!(
        imp.inputs,
        vec![("raw".to_string(), "uid___A002_Xaeaf96_X515.ms".to_string())]
    );
    let st = |n: &str| {
        imp.stages.iter().find(|s| s.name == n).unwrap_or_else(|| {
            panic!(
                "stage {n}: {:?}",
                imp.stages.iter().map(|s| &s.name).collect::<Vec<_>>()
            )
        })
    };
    let tsys = st("tsys");
    assert_eq!(tsys.task, "gencal");
    assert!(tsys
        .params
        .iter()
        .any(|(k, v)| k == "fixsyscaltimes" && *v == almacal_import::eval::Value::Bool(true)));
    assert_eq!(tsys.plots, vec!["tsys".to_string()]);
    // The 13 per-field applycal calls of step 7 are one stage with 13 groups, spwmap "auto".
    let apply = imp
        .stages
        .iter()
        .find(|s| s.task == "applycal" && s.step == Some(7))
        .expect("step 7 applycal");
    assert_eq!(apply.groups.len(), 13);
    let toml = almacal_import::emit::recipe_toml(&imp);
    assert!(toml.contains("spwmap = [\"auto\", [], []]"), "{toml}");
    assert!(toml.contains("[stage.phase_int]"));
    assert!(
        toml.contains("gaintable = [\"bandpass\", \"phase_int\", \"flux_inf\"]"),
        "{toml}"
    );
    // Step 17's applycal reads the split of step 8 and folds step 18's split.
    let cal = st("cal");
    assert_eq!(cal.task, "applycal");
    assert_eq!(
        cal.params[0],
        (
            "vis".to_string(),
            almacal_import::eval::Value::Str("split".into())
        )
    );
    assert_eq!(cal.groups.len(), 2);
    assert_eq!(cal.lines, vec![752, 760, 787]);
    assert!(st("split").comments.iter().any(|c| c.contains("'uid___A002_Xaeaf96_X515.ms.wvr' is written by the unsupported wvrgcal at script line 151")), "{:?}", st("split").comments);
    let wvr: Vec<_> = imp
        .unsupported
        .iter()
        .filter(|u| u.call == "wvrgcal")
        .collect();
    assert_eq!(wvr.len(), 1);
    assert_eq!(wvr[0].line, 151);
}
