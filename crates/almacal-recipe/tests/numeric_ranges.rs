//! Numeric parameters are range-checked at load (`almacal check`) time: NaN and infinities
//! are rejected everywhere, integers must fit what the stages convert them to, and each
//! error sits at the offending value's file:line:column.

use std::path::{Path, PathBuf};

use almacal_recipe::{load, LoadOptions, ParamValue, RecipeErrors};

fn fake_ms(dir: &Path, name: &str) {
    std::fs::create_dir_all(dir.join(name)).expect("mkdir");
    std::fs::write(dir.join(name).join("table.dat"), b"x").expect("write");
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write");
    p
}

fn load_text(text: &str) -> Result<almacal_recipe::Recipe, RecipeErrors> {
    let dir = tempfile::tempdir().expect("tmp");
    fake_ms(dir.path(), "raw.ms");
    load(&write(dir.path(), "r.toml", text), &LoadOptions::default())
}

/// The (line, column, message) of every error.
fn errors(text: &str) -> Vec<(usize, usize, String)> {
    let e = load_text(text).expect_err("must be invalid");
    e.0.iter()
        .map(|d| (d.pos.line, d.pos.col, d.message.clone()))
        .collect()
}

const HEAD: &str = "[inputs]\nraw = \"raw.ms\"\n";

fn stage(task: &str, body: &str) -> String {
    format!("{HEAD}[stage.s]\ntask = \"{task}\"\nvis = \"raw\"\n{body}")
}

#[test]
fn nan_and_inf_are_rejected_with_positions() {
    for (value, shown) in [
        ("nan", "NaN"),
        ("inf", "inf"),
        ("-inf", "-inf"),
        ("+inf", "inf"),
    ] {
        let e = errors(&stage("gaincal", &format!("minsnr = {value}\n")));
        assert_eq!(e.len(), 1, "{value}: {e:?}");
        let (line, col, msg) = &e[0];
        assert_eq!((*line, *col), (6, 10), "{value}: {msg}");
        assert!(
            msg.contains("parameter `minsnr`")
                && msg.contains(&format!("{shown} is out of range"))
                && msg.contains("finite"),
            "{value}: {msg}"
        );
    }
}

#[test]
fn integers_must_fit_downstream_types() {
    let e = errors(&stage(
        "gaincal",
        "minblperant = 9223372036854775807\nminsnr = -1\n",
    ));
    let got: Vec<(usize, usize)> = e.iter().map(|(l, c, _)| (*l, *c)).collect();
    assert_eq!(got, [(6, 15), (7, 10)], "{e:?}");
    assert!(e[0].2.contains("minblperant") && e[0].2.contains("an integer from 0 to"));
    assert!(
        e[1].2.contains("minsnr") && e[1].2.contains(">= 0"),
        "{e:?}"
    );
}

#[test]
fn list_elements_are_checked_at_their_own_position() {
    let e = errors(&stage(
        "setjy",
        "standard = \"manual\"\nfluxdensity = [1.0, nan, 0.0, 0.0]\n",
    ));
    assert!(
        e.iter().any(
            |(l, c, m)| (*l, *c) == (7, 21) && m.contains("`fluxdensity`: NaN is out of range")
        ),
        "{e:?}"
    );

    let e = errors(&stage(
        "gencal",
        "caltype = \"antpos\"\nantenna = \"CM01\"\nparameter = [0.0, inf, 0.0]\n",
    ));
    assert!(
        e.iter()
            .any(|(l, c, m)| (*l, *c) == (8, 19) && m.contains("parameter `parameter`")),
        "{e:?}"
    );

    let e = errors(&stage("split", "width = [1, 0]\n"));
    assert_eq!((e[0].0, e[0].1), (6, 13), "{e:?}");
    assert!(e[0].2.contains("from 1 to"), "{e:?}");
}

#[test]
fn every_task_kind_rejects_bad_numbers() {
    let cases = [
        ("bandpass", "maskedge = 101\n"),
        ("bandpass", "fillgaps = -1\n"),
        (
            "fluxscale",
            "caltable = \"x.cal\"\nreference = \"0\"\nfitorder = -2\n",
        ),
        (
            "fluxscale",
            "caltable = \"x.cal\"\nreference = \"0\"\nrefspwmap = [0, 4294967296]\n",
        ),
        ("renorm", "threshold = 0.5\n"),
        ("mstransform", "chanbin = 0\n"),
        ("setjy", "rotmeas = nan\n"),
        ("flagdata", "mode = \"quack\"\nquackinterval = -1.0\n"),
        (
            "flagdata",
            "commands = [{ mode = \"clip\", clipminmax = [0.0, inf] }]\n",
        ),
        ("gaincal", "spwmap = [[0, 4294967296]]\n"),
    ];
    for (task, body) in cases {
        let e = errors(&stage(task, body));
        assert!(
            e.iter().any(|(_, _, m)| m.contains("out of range")
                || m.contains("spw ids must be integers from 0")),
            "{task} {body:?}: {e:?}"
        );
    }
}

#[test]
fn defaults_are_checked_too() {
    let text =
        format!("[defaults]\nminsnr = nan\n{HEAD}[stage.s]\ntask = \"gaincal\"\nvis = \"raw\"\n");
    let e = errors(&text);
    assert!(
        e.iter()
            .any(|(l, c, m)| (*l, *c) == (2, 10) && m.contains("minsnr")),
        "{e:?}"
    );
}

#[test]
fn flag_file_numbers_are_checked_in_the_file() {
    let dir = tempfile::tempdir().expect("tmp");
    fake_ms(dir.path(), "raw.ms");
    write(
        dir.path(),
        "flags.txt",
        "mode='manual' antenna='1'\nmode='quack' quackinterval=-5.0\n",
    );
    let recipe = write(
        dir.path(),
        "r.toml",
        &stage("flagdata", "inpfile = \"flags.txt\"\n"),
    );
    let e = load(&recipe, &LoadOptions::default()).expect_err("must be invalid");
    let d =
        e.0.iter()
            .find(|d| d.message.contains("quackinterval"))
            .unwrap_or_else(|| panic!("no quackinterval error: {e}"));
    assert!(d.file.ends_with("flags.txt"), "{}", d.file.display());
    assert_eq!(d.pos.line, 2, "{e}");
}

#[test]
fn valid_numbers_still_load() {
    let r = load_text(&stage(
        "gaincal",
        "minsnr = 0\nminblperant = 2\npreavg = -1\nsmodel = []\n",
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    let p = &r.stages[0].params;
    assert_eq!(p.get("minsnr"), Some(&ParamValue::Float(0.0)));
    assert_eq!(p.get("minblperant"), Some(&ParamValue::Int(2)));
}
