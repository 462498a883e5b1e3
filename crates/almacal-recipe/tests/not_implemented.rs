//! Issue 15: a value CASA accepts but almacal does not implement is a `check` error at the
//! value's line:column ("not implemented yet", naming what is implemented), never accepted
//! and then ignored or rejected only by `run` after upstream stages ran.

use std::path::{Path, PathBuf};

use almacal_recipe::{load, LoadOptions, RecipeErrors};

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write");
    p
}

fn load_text(text: &str, files: &[(&str, &str)]) -> Result<almacal_recipe::Recipe, RecipeErrors> {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::create_dir_all(dir.path().join("raw.ms")).expect("mkdir");
    std::fs::write(dir.path().join("raw.ms/table.dat"), b"x").expect("write");
    for (n, t) in files {
        write(dir.path(), n, t);
    }
    load(&write(dir.path(), "r.toml", text), &LoadOptions::default())
}

/// (file name, line, column, message, help) of every error.
fn errors(text: &str, files: &[(&str, &str)]) -> Vec<(String, usize, usize, String, String)> {
    match load_text(text, files) {
        Ok(_) => Vec::new(),
        Err(e) => {
            e.0.iter()
                .map(|d| {
                    (
                        d.file
                            .file_name()
                            .map(|f| f.to_string_lossy().into_owned())
                            .unwrap_or_default(),
                        d.pos.line,
                        d.pos.col,
                        d.message.clone(),
                        d.help.clone().unwrap_or_default(),
                    )
                })
                .collect()
        }
    }
}

const HEAD: &str = "[inputs]\nraw = \"raw.ms\"\n";

/// A recipe with one stage `s` of `task`; `body`'s first line is line 6.
fn stage(task: &str, body: &str) -> String {
    format!("{HEAD}[stage.s]\ntask = \"{task}\"\nvis = \"raw\"\n{body}\n")
}

/// A solve stage needs a caltable-free recipe; fluxscale needs a gain table stage.
fn fluxscale(body: &str) -> String {
    format!(
        "{HEAD}[stage.g]\ntask = \"gaincal\"\nvis = \"raw\"\n\n[stage.s]\ntask = \"fluxscale\"\n\
         vis = \"raw\"\ncaltable = \"g\"\nreference = \"0\"\n{body}\n"
    )
}

/// One case per CASA value of a string parameter, at line 6 (the value starts after
/// `key = `).
fn values(
    task: &str,
    key: &str,
    vals: &[&str],
    needle: &'static str,
) -> Vec<(String, usize, usize, &'static str)> {
    vals.iter()
        .map(|x| {
            (
                stage(task, &format!("{key} = \"{x}\"")),
                6,
                key.len() + 4,
                needle,
            )
        })
        .collect()
}

/// Every case of issue 15: (recipe, line, column of the value, text the message must hold).
fn cases() -> Vec<(String, usize, usize, &'static str)> {
    let mut v = Vec::new();
    v.extend(values("flagdata", "mode", &["list"], "manual"));
    v.extend(values(
        "gencal",
        "caltype",
        &["amp", "ph", "sbd", "mbd", "opac", "gc", "eff", "gceff"],
        "\"tsys\", \"antpos\"",
    ));
    v.extend(values(
        "gaincal",
        "gaintype",
        &["K", "KCROSS", "XY", "XYf", "GSPLINE"],
        "\"G\", \"T\"",
    ));
    v.push((stage("gaincal", "preavg = 30.0"), 6, 10, "preavg"));
    v.push((
        stage("gaincal", "solmode = \"L1R\""),
        6,
        11,
        "not implemented",
    ));
    v.push((stage("bandpass", "bandtype = \"BPOLY\""), 6, 12, "\"B\""));
    v.extend(values(
        "setjy",
        "standard",
        &[
            "Perley-Butler 2013",
            "Perley-Butler 2010",
            "Perley-Taylor 99",
        ],
        "Perley-Butler 2017",
    ));
    v.push((stage("plotants", ""), 4, 8, "almacal plot ants"));
    v.push((
        stage("split", "combine = \"spw\""),
        6,
        11,
        "not implemented",
    ));
    v.push((
        stage("applycal", "gaintable = []\nuvrange = \">10m\""),
        7,
        11,
        "uv distance",
    ));
    v.push((fluxscale("incremental = true"), 12, 15, "not implemented"));
    v.push((
        fluxscale("timerange = \"10:00:00~11:00:00\""),
        12,
        13,
        "not implemented",
    ));
    v.push((
        stage("flagmanager", "mode = \"delete\""),
        6,
        8,
        "\"list\", \"save\", \"restore\"",
    ));
    v.push((
        stage("flagmanager", "mode = \"rename\""),
        6,
        8,
        "\"restore\"",
    ));
    v.push((
        stage("gaincal", "combine = \"spw,bogus\""),
        6,
        11,
        "unknown combine axis",
    ));
    v.push((
        stage("bandpass", "combine = \"scan,spw\""),
        6,
        11,
        "\"spw\"",
    ));
    // accepted and then ignored, before issue 15
    for (task, body, col) in [
        ("flagdata", "mode = \"clip\"\nchannelavg = true", 14),
        ("flagdata", "mode = \"quack\"\nquackincrement = true", 18),
        ("flagdata", "mode = \"flagcmd\"\ntbuff = 0.5", 9),
        ("gaincal", "\nsmodel = [1.0, 0.0, 0.0, 0.0]", 10),
        ("gaincal", "\ncorrdepflags = true", 16),
        ("bandpass", "\nsmodel = [1.0, 0.0, 0.0, 0.0]", 10),
        ("bandpass", "\ncorrdepflags = true", 16),
        ("bandpass", "\ndegamp = 5", 10),
        ("bandpass", "\ndegphase = 5", 12),
        ("bandpass", "\nvisnorm = true", 11),
        ("bandpass", "\nmaskcenter = 2", 14),
        ("bandpass", "\nmaskedge = 5", 12),
        ("gaincal", "\nparang = true", 10),
        ("applycal", "gaintable = []\nparang = true", 10),
        ("setjy", "\npolindex = [0.1]", 12),
        ("setjy", "\npolangle = [0.3]", 12),
        ("setjy", "\nrotmeas = 1.0", 11),
        ("setjy", "\nscan = \"1\"", 8),
        ("setjy", "\nintent = \"*AMPLI*\"", 10),
        ("setjy", "\ntimerange = \"10:00:00~11:00:00\"", 13),
        ("setjy", "\nobservation = \"0\"", 15),
        ("listobs", "\nfield = \"0\"", 9),
        ("gaincal", "\nmsselect = \"ANTENNA1 == 0\"", 12),
    ] {
        v.push((stage(task, body), 7, col, "not implemented"));
    }
    v
}

#[test]
fn every_unimplemented_value_is_a_check_error_at_its_value() {
    let all = cases();
    assert!(all.len() >= 30, "{} cases", all.len());
    for (text, line, col, needle) in &all {
        let errs = errors(text, &[]);
        let hit = errs.iter().find(|(_, l, c, m, h)| {
            l == line && c == col && (m.contains(needle) || h.contains(needle))
        });
        assert!(
            hit.is_some(),
            "expected an error at {line}:{col} containing {needle:?} for\n{text}\ngot {errs:#?}"
        );
        let (_, _, _, m, _) = hit.expect("checked");
        assert!(
            m.contains("not implemented") || m.contains("unknown combine axis"),
            "{m}"
        );
    }
}

#[test]
fn implemented_values_still_load() {
    for text in [
        stage("flagdata", "mode = \"clip\"\nclipminmax = [0.0, 10.0]"),
        stage("flagdata", "mode = \"quack\"\nquackinterval = 2.0"),
        stage("gencal", "caltype = \"tsys\""),
        stage(
            "gaincal",
            "gaintype = \"T\"\ncombine = \"scan,spw\"\npreavg = -1.0",
        ),
        stage(
            "gaincal",
            "smodel = []\nparang = false\ncorrdepflags = false",
        ),
        stage(
            "bandpass",
            "bandtype = \"B\"\ncombine = [\"scan\", \"field\"]",
        ),
        stage(
            "setjy",
            "standard = \"manual\"\nfluxdensity = [1.0, 0.0, 0.0, 0.0]",
        ),
        stage("mstransform", "reindex = false\nchanbin = 1"),
        stage("mstransform", "reindex = true"),
        stage("mstransform", ""),
        stage("split", "reindex = false"),
        stage(
            "applycal",
            "gaintable = []\noutput = { split = \"x.ms\", spw = \"16:4~27\", reindex = true }",
        ),
        stage("split", "width = 1\ntimebin = \"0s\"\narray = \"0\""),
        stage(
            "split",
            "width = [4, 7]\ntimebin = \"30s\"\ncombine = \"state\"",
        ),
        stage(
            "mstransform",
            "chanaverage = true\nchanbin = 4\ntimeaverage = true\ntimebin = \"1min\"",
        ),
        stage("flagmanager", "mode = \"save\"\nversionname = \"v1\""),
        stage("listobs", "field = \"\""),
    ] {
        let errs = errors(&text, &[]);
        assert!(errs.is_empty(), "{text}\n{errs:#?}");
    }
}

#[test]
fn unimplemented_values_in_commands_and_flag_files_are_located() {
    // An inline command: the value's own line and column.
    let text = stage("flagdata", "commands = [\n  { mode = \"list\" },\n]");
    let errs = errors(&text, &[]);
    assert!(
        errs.iter().any(|(f, l, c, m, _)| f == "r.toml"
            && *l == 7
            && *c == 12
            && m.contains("not implemented")),
        "{errs:#?}"
    );
    // A flag file: its own file:line.
    let text = stage("flagdata", "inpfile = \"flags.txt\"");
    let flags = "mode='manual' antenna='CM01'\nmode='list' spw='0'\n";
    let errs = errors(&text, &[("flags.txt", flags)]);
    assert!(
        errs.iter().any(|(f, l, _, m, _)| f == "flags.txt"
            && *l == 2
            && m.contains("list")
            && m.contains("not implemented")),
        "{errs:#?}"
    );
    // A label `reason` is fine in a flag file (it does not change what is flagged).
    let flags = "mode='manual' antenna='CM01' reason='bad amplitudes'\n";
    assert!(errors(&text, &[("flags.txt", flags)]).is_empty());
}

#[test]
fn a_value_in_defaults_that_is_not_implemented_is_reported_there() {
    // mstransform's CASA default reindex = true is implemented; a value that is not, given
    // in [defaults], is reported at [defaults].
    let text = format!(
        "[defaults]\ncorrelation = \"XX\"\n{}",
        stage("mstransform", "reindex = false")
    );
    let errs = errors(&text, &[]);
    assert!(
        errs.iter().any(|(_, l, _, m, _)| *l == 2
            && m.contains("[defaults]")
            && m.contains("correlation")),
        "{errs:#?}"
    );
}
