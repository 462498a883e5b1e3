//! Products are immutable, so a stage that flags a caltable (flagdata with `vis` = a
//! caltable stage) or appends to one (gaincal `append_to`) makes a new table: a recipe
//! where a CASA script's "the changed table" meaning would be lost is an error, located at
//! the reference, with the fix.

use almacal_recipe::{load, LoadOptions};

fn errors(body: &str) -> String {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    std::fs::create_dir_all(d.join("raw.ms")).expect("mkdir");
    std::fs::write(d.join("raw.ms/table.dat"), b"x").expect("write");
    let text = format!(
        "[recipe]\nname = \"c\"\n\n[inputs]\nraw = \"raw.ms\"\n\n[stage.tsys]\ntask = \"gencal\"\nvis = \"raw\"\ncaltype = \"tsys\"\n\n{body}"
    );
    std::fs::write(d.join("r.toml"), text).expect("write");
    match load(&d.join("r.toml"), &LoadOptions::default()) {
        Ok(_) => String::new(),
        Err(e) => format!("{e}"),
    }
}

fn flag(name: &str, vis: &str) -> String {
    format!("[stage.{name}]\ntask = \"flagdata\"\nvis = \"{vis}\"\nmode = \"manual\"\nspw = \"9:0~3\"\n\n")
}

#[test]
fn changed_caltables_keep_their_meaning() {
    // Two stages flagging the same table.
    let e = errors(&(flag("edges", "tsys") + &flag("bad_ant", "tsys")));
    assert!(
        e.contains("stage `edges` flags caltable `tsys` and stage `bad_ant` flags it")
            && e.contains("chain them: `vis = \"edges\"` in stage `bad_ant`"),
        "{e}"
    );
    // Chained: fine.
    assert_eq!(
        errors(&(flag("edges", "tsys") + &flag("bad_ant", "edges"))),
        ""
    );
    // Applying the unflagged table while a stage flags it.
    let apply = "[stage.apply]\ntask = \"applycal\"\nvis = \"raw\"\ngaintable = [\"tsys\"]\nspwmap = [\"auto\"]\n\n";
    let e = errors(&(flag("edges", "tsys") + apply));
    assert!(
        e.contains("stage `apply` applies caltable `tsys`, but stage `edges` flags it")
            && e.contains("write `edges` instead of `tsys`"),
        "{e}"
    );
    assert_eq!(
        errors(&(flag("edges", "tsys") + &apply.replace("[\"tsys\"]", "[\"edges\"]"))),
        ""
    );

    // Stage references of the wrong task.
    let e = errors(
        "[stage.m]\ntask = \"setjy\"\nvis = \"raw\"\nstandard = \"manual\"\nfluxscale = \"tsys\"\n",
    );
    assert!(
        e.contains(
            "`fluxscale` names stage `tsys`, a gencal stage; it must name a fluxscale stage"
        ),
        "{e}"
    );
    let e = errors("[stage.m]\ntask = \"setjy\"\nvis = \"raw\"\nstandard = \"manual\"\nfluxscale = \"flux.cal\"\n");
    assert!(
        e.contains("must name a fluxscale stage of this recipe"),
        "{e}"
    );
    let e = errors("[stage.g]\ntask = \"gaincal\"\nvis = \"raw\"\nappend_to = \"tsys\"\n");
    assert!(
        e.contains("`append_to` names stage `tsys`, a gencal stage; it must name a gaincal stage"),
        "{e}"
    );
}
