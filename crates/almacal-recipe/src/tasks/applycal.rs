//! `applycal`: apply caltables to a vis and write the calibrated vis as a new
//! MeasurementSet (optionally a split of it, via `output`). Per-field table
//! sets go in `groups`; stage-level gaintable/gainfield/interp/spwmap/calwt
//! are the defaults of every group.

use crate::schema::{p, Def, ParamSpec, ProductKind, Support, TaskSpec, Ty};
use crate::value::Params;

use super::common::{NO_CALLIB, NO_CALLIB2, NO_FLAGBACKUP, PREAPPLY, SELECTION, VIS};

pub const APPLYMODES: &[&str] = &[
    "",
    "calflag",
    "calflagstrict",
    "trial",
    "flagonly",
    "flagonlystrict",
    "calonly",
];

const OWN: &[ParamSpec] = &[
    VIS,
    p("selectdata", Ty::Bool, Def::Bool(true)),
    p("calwt", Ty::BoolList, Def::BoolList(&[true])),
    p("applymode", Ty::Choice(APPLYMODES), Def::Str("")).supports(Support::Values(&[
        "",
        "calflag",
        "calflagstrict",
        "trial",
        "flagonly",
        "calonly",
    ])),
    p("groups", Ty::Groups, Def::Absent),
    p("output", Ty::Output, Def::Absent),
    // almacal: by default a caltable that has no solution for any selected row (wrong
    // antennas/spws/fields, e.g. a VLA table on ALMA data) fails the stage; `true` passes
    // such rows through uncalibrated, as CASA does.
    p("allow_uncalibrated", Ty::Bool, Def::Bool(false)),
];

pub const APPLYCAL: TaskSpec = TaskSpec {
    name: "applycal",
    params: &[OWN, SELECTION, PREAPPLY],
    reserved: &[NO_FLAGBACKUP, NO_CALLIB, NO_CALLIB2],
    outputs,
    test_only: false,
    support: &[
        (
            "uvrange",
            Support::DefaultOnly("selects baselines by uv distance"),
        ),
        (
            "selectdata",
            Support::DefaultOnly("turns the selection parameters off"),
        ),
    ],
    not_implemented: None,
};

fn outputs(_: &Params) -> Vec<ProductKind> {
    vec![ProductKind::Vis]
}
