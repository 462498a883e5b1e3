//! The vocabulary of task schemas: parameter types, defaults, the role a
//! parameter plays in the DAG (vis reference, caltable references, text file,
//! output path), and the products a task writes.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::value::Params;

/// A parameter's type and the value grammar checked at load time.
#[derive(Debug, Clone, Copy)]
pub enum Ty {
    /// Any string.
    Str,
    /// A CASA selection string (`field`, `spw`, `antenna`, ...).
    Sel,
    Bool,
    Int,
    /// A float (integers accepted).
    Float,
    /// One of a fixed set of strings.
    Choice(&'static [&'static str]),
    /// A CASA solint; `freq` allows a `,20ch` / `,7.8MHz` part.
    Solint {
        freq: bool,
    },
    /// A quantity string with one of these units (`"340.93GHz"`).
    Quantity(&'static [&'static str]),
    /// A string or a list of strings (normalised to a list).
    StrList,
    /// An integer or a list of integers (normalised to a list).
    IntList,
    /// A number or a list of numbers (normalised to a list of floats).
    FloatList,
    /// A boolean or a list of booleans (normalised to a list).
    BoolList,
    /// `interp`: a string or list of strings, each `time[,freq]`.
    Interp,
    /// `spwmap`: a list with one entry per gaintable, each a list of spw ids,
    /// `"auto"` (tsysspwmap) or `""`; a flat list of ints maps the first table.
    SpwMap,
    /// A table of string to string (e.g. renorm `excludechan`).
    StrMap,
    /// flagdata `commands`: a list of tables of flag-command parameters.
    Commands,
    /// applycal `groups`: a list of per-field table sets.
    Groups,
    /// applycal `output`: split the result into a new MS.
    Output,
    /// A relative path inside the workdir (split `outputvis`).
    OutPath,
}

impl Ty {
    /// Human description for "expected ..." messages.
    pub fn describe(&self) -> String {
        match self {
            Ty::Str => "a string".into(),
            Ty::Sel => "a string (CASA selection syntax)".into(),
            Ty::Bool => "a boolean (true or false)".into(),
            Ty::Int => "an integer".into(),
            Ty::Float => "a number".into(),
            Ty::Choice(c) => format!("one of {}", quote_list(c)),
            Ty::Solint { .. } => "a solint string such as \"inf\" or \"30s\"".into(),
            Ty::Quantity(u) => format!("a quantity string with unit {}", u.join("/")),
            Ty::StrList => "a string or a list of strings".into(),
            Ty::IntList => "an integer or a list of integers".into(),
            Ty::FloatList => "a number or a list of numbers".into(),
            Ty::BoolList => "a boolean or a list of booleans".into(),
            Ty::Interp => "a string or a list of strings such as \"linear,linear\"".into(),
            Ty::SpwMap => {
                "a list with one entry per gaintable: a list of spw ids, \"auto\" or \"\"".into()
            }
            Ty::StrMap => "a table of strings".into(),
            Ty::Commands => "a list of inline tables of flag-command parameters".into(),
            Ty::Groups => {
                "a list of inline tables {field, gaintable, gainfield, interp, spwmap, calwt}"
                    .into()
            }
            Ty::Output => {
                "an inline table {split, spw, field, datacolumn, keepflags, reindex}".into()
            }
            Ty::OutPath => "a relative path inside the workdir".into(),
        }
    }
}

pub(crate) fn quote_list(items: &[&str]) -> String {
    items
        .iter()
        .map(|c| format!("{c:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A parameter's default.
#[derive(Debug, Clone, Copy)]
pub enum Def {
    /// Must be given (in the stage or in `[defaults]`).
    Required,
    /// Optional; absent from the resolved parameters unless given.
    Absent,
    Str(&'static str),
    Bool(bool),
    Int(i64),
    Float(f64),
    StrList(&'static [&'static str]),
    IntList(&'static [i64]),
    FloatList(&'static [f64]),
    BoolList(&'static [bool]),
}

/// What a parameter means for the DAG.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Plain,
    /// Names an input or a vis-producing stage.
    Vis,
    /// Caltable references: stage names or paths to existing caltables.
    Caltables,
    /// A text file (relative to the recipe) whose content is fingerprinted.
    TextFile,
    /// The stage's own output path (relative to the workdir).
    OutputVis,
}

/// One parameter of a task.
#[derive(Debug, Clone, Copy)]
pub struct ParamSpec {
    pub name: &'static str,
    pub ty: Ty,
    pub default: Def,
    pub role: Role,
}

/// Shorthand constructor for tables of parameters.
pub const fn p(name: &'static str, ty: Ty, default: Def) -> ParamSpec {
    ParamSpec {
        name,
        ty,
        default,
        role: Role::Plain,
    }
}

/// Constructor with a DAG role.
pub const fn r(name: &'static str, ty: Ty, default: Def, role: Role) -> ParamSpec {
    ParamSpec {
        name,
        ty,
        default,
        role,
    }
}

/// Kinds of products a stage writes (design §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProductKind {
    Caltable,
    FlagLayer,
    Model,
    Vis,
    Report,
    Plot,
    /// A CASA `<ms>.flagversions` directory (flagmanager `save`).
    FlagVersions,
}

impl ProductKind {
    /// The default file name of this product for stage `stage`.
    pub fn default_file_name(self, stage: &str) -> String {
        match self {
            ProductKind::Caltable => format!("{stage}.cal"),
            ProductKind::FlagLayer => format!("{stage}.flags"),
            ProductKind::Model => format!("{stage}.model"),
            ProductKind::Vis => format!("{stage}.ms"),
            ProductKind::Report => format!("{stage}.json"),
            ProductKind::Plot => format!("{stage}.png"),
            ProductKind::FlagVersions => format!("{stage}.flagversions"),
        }
    }

    /// Article + noun for messages ("a caltable").
    pub fn a_noun(self) -> &'static str {
        match self {
            ProductKind::Caltable => "a caltable",
            ProductKind::FlagLayer => "a flag layer",
            ProductKind::Model => "a model",
            ProductKind::Vis => "a vis (MeasurementSet)",
            ProductKind::Report => "a report",
            ProductKind::Plot => "a plot",
            ProductKind::FlagVersions => "saved flag versions",
        }
    }
}

impl fmt::Display for ProductKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ProductKind::Caltable => "caltable",
            ProductKind::FlagLayer => "flag_layer",
            ProductKind::Model => "model",
            ProductKind::Vis => "vis",
            ProductKind::Report => "report",
            ProductKind::Plot => "plot",
            ProductKind::FlagVersions => "flag_versions",
        })
    }
}

/// A task's schema.
#[derive(Debug, Clone, Copy)]
pub struct TaskSpec {
    pub name: &'static str,
    /// Groups of parameters (shared groups such as data selection + own).
    pub params: &'static [&'static [ParamSpec]],
    /// CASA parameters almacal owns, with the reason shown to the user.
    pub reserved: &'static [(&'static str, &'static str)],
    /// Products written, given the resolved parameters.
    pub outputs: fn(&Params) -> Vec<ProductKind>,
    /// Test-only tasks are hidden unless enabled.
    pub test_only: bool,
}

impl TaskSpec {
    pub fn param(&self, name: &str) -> Option<&'static ParamSpec> {
        self.params
            .iter()
            .flat_map(|g| g.iter())
            .find(|p| p.name == name)
    }

    pub fn param_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.params.iter().flat_map(|g| g.iter()).map(|p| p.name)
    }

    pub fn all_params(&self) -> impl Iterator<Item = &'static ParamSpec> + '_ {
        self.params.iter().flat_map(|g| g.iter())
    }
}
