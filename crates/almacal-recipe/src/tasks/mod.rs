//! The task table: every task a recipe may name, with its CASA parameters
//! and defaults (one file per task; shared parameter groups in `common`).

mod applycal;
mod bandpass;
pub mod common;
mod delmod;
mod flagcmd;
mod flagdata;
mod flagmanager;
mod fluxscale;
mod gaincal;
mod gencal;
mod listobs;
mod mstransform;
mod plotants;
mod renorm;
mod setjy;
mod split;
mod testing;

use crate::schema::TaskSpec;

pub use flagdata::FLAG_COMMAND_PARAMS;

/// Every public task, in documentation order.
pub const TASKS: &[&TaskSpec] = &[
    &flagdata::FLAGDATA,
    &flagcmd::FLAGCMD,
    &flagmanager::FLAGMANAGER,
    &gencal::GENCAL,
    &applycal::APPLYCAL,
    &split::SPLIT,
    &mstransform::MSTRANSFORM,
    &gaincal::GAINCAL,
    &bandpass::BANDPASS,
    &setjy::SETJY,
    &delmod::DELMOD,
    &fluxscale::FLUXSCALE,
    &renorm::RENORM,
    &listobs::LISTOBS,
    &plotants::PLOTANTS,
];

/// Test-only tasks (enabled by `LoadOptions::allow_test_tasks`).
pub const TEST_TASKS: &[&TaskSpec] = testing::TEST_TASKS;

/// Look a task up by name.
pub fn find(name: &str, allow_test: bool) -> Option<&'static TaskSpec> {
    TASKS
        .iter()
        .chain(if allow_test {
            TEST_TASKS.iter()
        } else {
            [].iter()
        })
        .find(|t| t.name == name)
        .copied()
}

/// Names of the tasks that are visible with these options.
pub fn names(allow_test: bool) -> Vec<&'static str> {
    TASKS
        .iter()
        .chain(if allow_test {
            TEST_TASKS.iter()
        } else {
            [].iter()
        })
        .map(|t| t.name)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Def, Role};
    use std::collections::HashSet;

    #[test]
    fn every_task_has_vis_and_unique_params() {
        for t in TASKS.iter().chain(TEST_TASKS.iter()) {
            let mut seen = HashSet::new();
            for p in t.all_params() {
                assert!(seen.insert(p.name), "{}: duplicate {}", t.name, p.name);
            }
            let vis = t.param("vis").expect("vis");
            assert_eq!(vis.role, Role::Vis, "{}", t.name);
            if !t.test_only {
                assert!(matches!(vis.default, Def::Required), "{}", t.name);
            }
            for (res, _) in t.reserved {
                assert!(
                    t.param(res).is_none(),
                    "{} reserves its own param {res}",
                    t.name
                );
            }
        }
    }

    /// Every numeric parameter of every task (and of a flag command) has bounds, and its
    /// default lies within them.
    #[test]
    fn every_numeric_param_is_bounded() {
        use crate::schema::Bounds;
        let specs = TASKS
            .iter()
            .chain(TEST_TASKS.iter())
            .flat_map(|t| t.all_params().map(move |p| (t.name, p)))
            .chain(FLAG_COMMAND_PARAMS.iter().map(|p| ("flag command", p)));
        for (task, p) in specs {
            if !p.is_numeric() {
                assert_eq!(p.bounds, Bounds::None, "{task}.{}", p.name);
                continue;
            }
            assert_ne!(p.bounds, Bounds::None, "{task}.{} has no bounds", p.name);
            let check = |v: f64| p.bounds.check_float(v);
            match p.default {
                Def::Int(i) => assert!(p.bounds.check_int(i).is_ok(), "{task}.{}", p.name),
                Def::Float(f) => assert!(check(f).is_ok(), "{task}.{}", p.name),
                Def::IntList(l) => {
                    for i in l {
                        assert!(p.bounds.check_int(*i).is_ok(), "{task}.{}", p.name);
                    }
                }
                Def::FloatList(l) => {
                    for f in l {
                        assert!(check(*f).is_ok(), "{task}.{}", p.name);
                    }
                }
                _ => {}
            }
            for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
                assert!(check(bad).is_err(), "{task}.{} accepts {bad}", p.name);
            }
        }
    }

    #[test]
    fn casa_defaults_spot_checks() {
        let g = find("gaincal", false).expect("gaincal");
        assert!(matches!(
            g.param("solint").map(|p| p.default),
            Some(Def::Str("inf"))
        ));
        assert!(matches!(g.param("minsnr").map(|p| p.default), Some(Def::Float(v)) if v == 3.0));
        assert!(matches!(
            g.param("minblperant").map(|p| p.default),
            Some(Def::Int(4))
        ));
        assert!(matches!(
            g.param("calmode").map(|p| p.default),
            Some(Def::Str("ap"))
        ));
        let b = find("bandpass", false).expect("bandpass");
        assert!(matches!(
            b.param("combine").map(|p| p.default),
            Some(Def::StrList(["scan"]))
        ));
        assert!(find("_test_cal", false).is_none());
        assert!(find("_test_cal", true).is_some());
    }
}
