//! Every parameter a recipe may set is honoured: for each task the schema lists
//! (almacal-recipe `tasks::TASKS`), each parameter that is not restricted to CASA's default
//! must be read by name somewhere in the engine or the stage code (`src/**/*.rs` of this
//! crate: `ctx.param("x")`, `param_str(ctx, "x")`, a selection's `"x"`, ...), or be one
//! the recipe layer resolves itself (`vis`, text files, references, `output`, groups).
//! A parameter that no code names would be accepted and then ignored.

use std::path::Path;

use almacal_recipe::schema::{Role, Support};
use almacal_recipe::tasks::TASKS;

/// Parameters the recipe layer consumes before a stage runs (references, files, plots).
const RESOLVED_BY_RECIPE: &[&str] = &["vis"];

/// Parameters whose support rule admits only values that change nothing (so there is
/// nothing to read), with the rule.
const RULE_WITHOUT_EFFECT: &[(&str, &str)] = &[(
    "gaincal.preavg",
    "only <= 0: the whole solint, CASA's default",
)];

fn sources(dir: &Path, out: &mut String) {
    for e in std::fs::read_dir(dir).expect("read_dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push_str(&std::fs::read_to_string(&p).expect("read"));
        }
    }
}

#[test]
fn every_accepted_parameter_is_read_by_name() {
    let mut code = String::new();
    sources(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut code,
    );
    let mut unread = Vec::new();
    for task in TASKS {
        if task.not_implemented.is_some() {
            continue;
        }
        for p in task.all_params() {
            let id = format!("{}.{}", task.name, p.name);
            let support = task.support_of(p);
            if matches!(support, Support::DefaultOnly(_))
                || RESOLVED_BY_RECIPE.contains(&p.name)
                || p.role == Role::OutputVis
            {
                continue;
            }
            if let Some((_, why)) = RULE_WITHOUT_EFFECT.iter().find(|(n, _)| *n == id) {
                assert!(
                    matches!(support, Support::Rule(..)),
                    "{id} is listed as a rule without effect ({why}) but has no rule"
                );
                continue;
            }
            if !code.contains(&format!("\"{}\"", p.name)) {
                unread.push(id);
            }
        }
    }
    assert!(
        unread.is_empty(),
        "accepted but never read by name in almacal-pipeline: {unread:?}"
    );
}
