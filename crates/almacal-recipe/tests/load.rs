//! Loading and resolving recipes: defaults, references, implicit
//! dependencies, output paths, and collected errors.

use std::path::{Path, PathBuf};

use almacal_recipe::{
    load, CalRef, DepKind, LoadOptions, ParamValue, ProductKind, RecipeErrors, VisSource,
};

fn fake_ms(dir: &Path, name: &str) {
    std::fs::create_dir_all(dir.join(name)).expect("mkdir");
    std::fs::write(dir.join(name).join("table.dat"), b"x").expect("write");
}

fn write(dir: &Path, text: &str) -> PathBuf {
    let p = dir.join("r.toml");
    std::fs::write(&p, text).expect("write");
    p
}

fn opts() -> LoadOptions {
    LoadOptions::default()
}

fn errors(text: &str) -> RecipeErrors {
    let dir = tempfile::tempdir().expect("tmp");
    fake_ms(dir.path(), "raw.ms");
    load(&write(dir.path(), text), &opts()).expect_err("must be invalid")
}

const TUTORIAL: &str = r#"
[recipe]
name = "uid___A002_Xdf0444_X10bd"

[defaults]
refant = "CM12"

[inputs]
raw = "raw.ms"

[stage.initial_flags]
task = "flagdata"
vis = "raw"
commands = [
  { mode = "manual", spw = "4~11,16~23", autocorr = true },
  { mode = "manual", intent = "*POINTING*,*ATMOSPHERE*" },
]

[stage.tsys]
task = "gencal"
vis = "raw"
caltype = "tsys"

[stage.antpos]
task = "gencal"
vis = "raw"
caltype = "antpos"
infile = "antpos.json"

[stage.prep]
task = "applycal"
vis = "raw"
gaintable = ["tsys", "antpos"]
spwmap = ["auto", []]
interp = "linear,linear"
output = { split = "uid.ms.split", spw = "16,18,20,22" }

[stage.split_flags]
task = "flagdata"
vis = "prep"
inpfile = "flags.txt"

[stage.pre_bandpass_phase]
task = "gaincal"
vis = "prep"
field = "0"
scan = "3"
solint = "int"
calmode = "p"

[stage.bandpass]
task = "bandpass"
vis = "prep"
field = "0"
scan = "3"
solint = "inf,20ch"
solnorm = true
gaintable = ["pre_bandpass_phase"]

[stage.setjy]
task = "setjy"
vis = "prep"
field = "J1924-2914"
standard = "manual"
fluxdensity = [2.2942105694549557, 0, 0, 0]
spix = -0.5846359878009907
reffreq = "340.9333355239418GHz"

[stage.phase]
task = "gaincal"
vis = "prep"
field = "0~1"
gaintable = "bandpass"
refant = "CM03"

[stage.apply]
task = "applycal"
vis = "prep"
calwt = true
groups = [
  { field = "0", gaintable = ["bandpass", "phase"], gainfield = ["", "0"] },
  { field = "1", gaintable = ["bandpass", "phase"], gainfield = ["", "1"], calwt = false },
]
"#;

fn tutorial_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tmp");
    fake_ms(dir.path(), "raw.ms");
    std::fs::write(dir.path().join("antpos.json"), "{}").expect("write");
    std::fs::write(
        dir.path().join("flags.txt"),
        "mode='manual' antenna='CM03' spw='20'\n",
    )
    .expect("write");
    write(dir.path(), TUTORIAL);
    dir
}

#[test]
fn tutorial_recipe_resolves() {
    let dir = tutorial_dir();
    let r = load(&dir.path().join("r.toml"), &opts()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.name, "uid___A002_Xdf0444_X10bd");
    assert_eq!(r.workdir, dir.path().join("r.almacal"));
    let names: Vec<&str> = r.stages.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "initial_flags",
            "tsys",
            "antpos",
            "prep",
            "split_flags",
            "pre_bandpass_phase",
            "bandpass",
            "setjy",
            "phase",
            "apply"
        ]
    );

    // [defaults] and CASA defaults
    let pbp = r.stage("pre_bandpass_phase").expect("stage");
    assert_eq!(pbp.params["refant"], ParamValue::Str("CM12".into()));
    assert_eq!(pbp.params["minsnr"], ParamValue::Float(3.0));
    assert_eq!(pbp.params["gaintype"], ParamValue::Str("G".into()));
    let phase = r.stage("phase").expect("stage");
    assert_eq!(
        phase.params["refant"],
        ParamValue::Str("CM03".into()),
        "stage value beats [defaults]"
    );
    assert_eq!(
        phase.params["gaintable"],
        ParamValue::List(vec![ParamValue::Str("bandpass".into())]),
        "string normalised to list"
    );
    assert!(
        !r.stage("tsys")
            .expect("stage")
            .params
            .contains_key("refant"),
        "gencal has no refant"
    );

    // references and implicit dependencies
    let bp = r.stage("bandpass").expect("stage");
    assert_eq!(bp.vis, Some(VisSource::Stage("prep".into())));
    let deps: Vec<(&str, DepKind)> = bp.deps.iter().map(|d| (d.stage.as_str(), d.kind)).collect();
    assert_eq!(
        deps,
        [
            ("prep", DepKind::Vis),
            ("pre_bandpass_phase", DepKind::Caltable),
            ("split_flags", DepKind::FlagLayer)
        ]
    );
    let tsys = r.stage("tsys").expect("stage");
    assert_eq!(
        tsys.deps
            .iter()
            .map(|d| (d.stage.as_str(), d.kind))
            .collect::<Vec<_>>(),
        [("initial_flags", DepKind::FlagLayer)]
    );
    let phase_deps: Vec<(&str, DepKind)> = phase
        .deps
        .iter()
        .map(|d| (d.stage.as_str(), d.kind))
        .collect();
    assert!(
        phase_deps.contains(&("setjy", DepKind::Model)),
        "{phase_deps:?}"
    );
    assert!(
        !bp.deps.iter().any(|d| d.stage == "setjy"),
        "setjy is declared after bandpass"
    );

    // outputs
    let prep = r.stage("prep").expect("stage");
    assert_eq!(prep.outputs[0].kind, ProductKind::Vis);
    assert_eq!(prep.outputs[0].rel_path, PathBuf::from("uid.ms.split"));
    assert_eq!(bp.outputs[0].rel_path, PathBuf::from("bandpass.cal"));
    assert_eq!(
        r.stage("apply").expect("stage").outputs[0].rel_path,
        PathBuf::from("apply.ms")
    );

    // applycal groups get stage-level defaults
    let apply = r.stage("apply").expect("stage");
    let groups = apply.params["groups"].as_list().expect("groups");
    assert_eq!(groups.len(), 2);
    let g0 = groups[0].as_table().expect("table");
    assert_eq!(g0["calwt"], ParamValue::List(vec![ParamValue::Bool(true)]));
    let g1 = groups[1].as_table().expect("table");
    assert_eq!(g1["calwt"], ParamValue::List(vec![ParamValue::Bool(false)]));
    assert!(!apply.params.contains_key("gaintable"), "moved into groups");
    assert_eq!(apply.caltables.len(), 2);
    let prep_groups = prep.params["groups"].as_list().expect("groups");
    assert_eq!(prep_groups.len(), 1);
    assert_eq!(
        prep.params["output"].as_table().expect("t")["datacolumn"],
        ParamValue::Str("corrected".into())
    );

    // flag commands: inline and from a file
    let f = r.stage("initial_flags").expect("stage");
    assert_eq!(f.params["commands"].as_list().expect("list").len(), 2);
    let sf = r.stage("split_flags").expect("stage");
    assert_eq!(sf.file_commands.len(), 1);
    assert_eq!(
        sf.files[0].content,
        "mode='manual' antenna='CM03' spw='20'\n"
    );
}

#[test]
fn caltable_paths_are_accepted() {
    let dir = tempfile::tempdir().expect("tmp");
    fake_ms(dir.path(), "raw.ms");
    std::fs::create_dir_all(dir.path().join("casa/x.tsys")).expect("mkdir");
    let p = write(dir.path(), "[inputs]\nraw = \"raw.ms\"\n[stage.g]\ntask = \"gaincal\"\nvis = \"raw\"\ngaintable = [\"casa/x.tsys\"]\n");
    let r = load(&p, &opts()).unwrap_or_else(|e| panic!("{e}"));
    let g = r.stage("g").expect("stage");
    assert!(matches!(&g.caltables[0].1, CalRef::Path { written, .. } if written == "casa/x.tsys"));
    assert!(g.deps.is_empty());
}

#[test]
fn single_flag_command_form_becomes_commands() {
    let dir = tempfile::tempdir().expect("tmp");
    fake_ms(dir.path(), "raw.ms");
    let p = write(dir.path(), "[inputs]\nraw = \"raw.ms\"\n[stage.shadow]\ntask = \"flagdata\"\nvis = \"raw\"\nmode = \"shadow\"\ntolerance = 0.5\n");
    let r = load(&p, &opts()).unwrap_or_else(|e| panic!("{e}"));
    let s = r.stage("shadow").expect("stage");
    let cmds = s.params["commands"].as_list().expect("list");
    assert_eq!(cmds.len(), 1);
    assert_eq!(
        cmds[0].as_table().expect("t")["tolerance"],
        ParamValue::Float(0.5)
    );
    assert!(!s.params.contains_key("mode"));
}

#[test]
fn all_errors_are_collected_with_positions() {
    let e = errors(
        "[inputs]\nraw = \"raw.ms\"\n[stage.a]\ntask = \"gaincal\"\nvis = \"raw\"\nsoilnt = \"inf\"\ncalmode = \"pa\"\n[stage.b]\ntask = \"bandpas\"\n[stage.c]\ntask = \"gaincal\"\nvis = \"rwa\"\nsolint = \"fast\"\n",
    );
    let got: Vec<(usize, usize, &str)> =
        e.0.iter()
            .map(|d| (d.pos.line, d.pos.col, d.help.as_deref().unwrap_or("")))
            .collect();
    assert_eq!(
        got,
        [
            (6, 1, "did you mean `solint`?"),
            (7, 11, "did you mean `p`?"),
            (9, 8, "did you mean `bandpass`?"),
            (12, 7, "did you mean `raw`?"),
            (13, 10, ""),
        ],
        "{e}"
    );
    assert!(!e.only_input_data());
}

#[test]
fn cycles_name_their_stages() {
    let e = errors(
        "[stage.a]\ntask = \"_test_cal\"\n[stage.b]\ntask = \"gaincal\"\nvis = \"c\"\ngaintable = [\"a\"]\n[stage.c]\ntask = \"split\"\nvis = \"b\"\n",
    );
    // `_test_cal` is hidden by default.
    assert!(e.0[0].message.contains("unknown task \"_test_cal\""), "{e}");
    let dir = tempfile::tempdir().expect("tmp");
    fake_ms(dir.path(), "raw.ms");
    let p = write(dir.path(), "[inputs]\nraw = \"raw.ms\"\n[stage.a]\ntask = \"split\"\nvis = \"c\"\n[stage.b]\ntask = \"split\"\nvis = \"a\"\n[stage.c]\ntask = \"split\"\nvis = \"b\"\n[stage.d]\ntask = \"split\"\nvis = \"raw\"\nafter = [\"d2\"]\n[stage.d2]\ntask = \"split\"\nvis = \"raw\"\nafter = [\"d\"]\n");
    let e = load(&p, &opts()).expect_err("cycle");
    let msgs: Vec<&str> = e.0.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(
        msgs,
        [
            "dependency cycle: a -> b -> c -> a",
            "dependency cycle: d -> d2 -> d"
        ],
        "{e}"
    );
}

#[test]
fn duplicate_outputs_are_rejected() {
    let e = errors("[inputs]\nraw = \"raw.ms\"\n[stage.a]\ntask = \"split\"\nvis = \"raw\"\noutputvis = \"x.ms\"\n[stage.b]\ntask = \"mstransform\"\nvis = \"raw\"\nreindex = false\noutputvis = \"./x.ms\"\n");
    assert_eq!(e.0.len(), 1, "{e}");
    assert_eq!(
        e.0[0].message,
        "stage `b` writes x.ms, which stage `a` also writes"
    );
    assert_eq!((e.0[0].pos.line, e.0[0].pos.col), (11, 13));
}

#[test]
fn missing_input_is_input_data_error() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = write(
        dir.path(),
        "[inputs]\nraw = \"nope.ms\"\n[stage.a]\ntask = \"listobs\"\nvis = \"raw\"\n",
    );
    let e = load(&p, &opts()).expect_err("missing");
    assert!(e.only_input_data(), "{e}");
    let ok = load(
        &p,
        &LoadOptions {
            skip_input_checks: true,
            ..opts()
        },
    );
    assert!(ok.is_ok());
}

#[test]
fn plots_are_checked_per_task_with_positions_and_suggestions() {
    let e = errors(
        "[inputs]\nraw = \"raw.ms\"\n[stage.t]\ntask = \"gencal\"\nvis = \"raw\"\ncaltype = \"tsys\"\nplots = [\"tsy\", \"ants\"]\n[stage.b]\ntask = \"bandpass\"\nvis = \"raw\"\nplots = [\"bandpass\", 3]\n[stage.f]\ntask = \"flagdata\"\nvis = \"raw\"\nmode = \"shadow\"\nplots = [\"amp_time\"]\n[stage.g]\ntask = \"gaincal\"\nvis = \"raw\"\nplot = [\"gain\"]\n",
    );
    let got: Vec<(usize, usize, &str)> =
        e.0.iter()
            .map(|d| (d.pos.line, d.pos.col, d.help.as_deref().unwrap_or("")))
            .collect();
    assert_eq!(
        got,
        [
            (7, 10, "did you mean `tsys`?"),
            (
                7,
                17,
                "\"ants\" is made by gencal stages with caltype = \"antpos\""
            ),
            (11, 22, "e.g. plots = [\"amp_uvdist\", \"amp_time\"]"),
            (
                16,
                10,
                "\"amp_time\" is made by gaincal and fluxscale stages (solutions) and applycal, split and mstransform stages (visibilities)"
            ),
            (20, 1, "did you mean `plots`?"),
        ],
        "{e}"
    );
    let text = e.to_string();
    assert!(
        text.contains("r.toml:7:10: error: unknown plot \"tsy\" in stage `t` (task gencal)"),
        "{text}"
    );
    assert!(
        text.contains("plot \"ants\" is not available for stage `t`: gencal stages with caltype = \"tsys\" make \"tsys\""),
        "{text}"
    );
    assert!(text.contains("flagdata stages make no plots"), "{text}");
}

#[test]
fn plots_are_kept_in_order_and_are_not_parameters() {
    let dir = tempfile::tempdir().expect("tmp");
    fake_ms(dir.path(), "raw.ms");
    let text = "[inputs]\nraw = \"raw.ms\"\n[stage.a]\ntask = \"applycal\"\nvis = \"raw\"\ngaintable = []\nplots = [\"phase_freq\", \"amp_uvdist\", \"phase_freq\"]\n[stage.g]\ntask = \"gaincal\"\nvis = \"a\"\nplots = \"gain\"\n";
    let r = load(&write(dir.path(), text), &opts()).expect("valid");
    let a = r.stage("a").expect("a");
    assert_eq!(
        a.plots,
        [
            almacal_recipe::PlotName::PhaseFreq,
            almacal_recipe::PlotName::AmpUvdist
        ]
    );
    assert!(!a.params.contains_key("plots"));
    assert_eq!(
        r.stage("g").expect("g").plots,
        [almacal_recipe::PlotName::Gain]
    );
    // `plots` has no default.
    let e = errors("[defaults]\nplots = [\"gain\"]\n[inputs]\nraw = \"raw.ms\"\n[stage.g]\ntask = \"gaincal\"\nvis = \"raw\"\n");
    assert!(
        e.to_string().contains("`plots` cannot have a default"),
        "{e}"
    );
}
