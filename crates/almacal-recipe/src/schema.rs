//! The vocabulary of task schemas: parameter types, defaults, the role a
//! parameter plays in the DAG (vis reference, caltable references, text file,
//! output path), and the products a task writes.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::value::{ParamValue, Params};

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
            Ty::Solint { .. } => "a solint string such as \"inf\" or \"30s\" (or CASA 6's list: the first entry is used, as in CASA)".into(),
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

/// The values a numeric parameter (or each element of a numeric list) may take, checked at
/// load time. Floats must always be finite; integer bounds are chosen so that the value fits
/// the type the stage converts it to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bounds {
    /// Not a numeric parameter (or any value of its type is meaningful).
    None,
    /// An integer in `min..=max`.
    Int(i64, i64),
    /// A finite number in `min..=max`.
    Float(f64, f64),
    /// A finite number `> min` and `<= max`.
    FloatAbove(f64, f64),
}

/// Upper bound for counts and sizes (channels, baselines, polynomial orders, ...): far
/// beyond any real value, small enough for `u32`/`usize`/`i32` everywhere downstream.
pub const COUNT_MAX: i64 = 1 << 20;

impl Bounds {
    /// Finite, any sign.
    pub const FINITE: Bounds = Bounds::Float(f64::MIN, f64::MAX);
    /// Finite and `>= 0`.
    pub const NON_NEGATIVE: Bounds = Bounds::Float(0.0, f64::MAX);

    /// Check an integer; `Err` says what is expected.
    pub fn check_int(&self, v: i64) -> Result<(), String> {
        match *self {
            Bounds::Int(lo, hi) if v < lo || v > hi => Err(self.describe()),
            Bounds::Float(..) | Bounds::FloatAbove(..) => self.check_float(v as f64),
            _ => Ok(()),
        }
    }

    /// Check a float (always rejects NaN and infinities); `Err` says what is expected.
    pub fn check_float(&self, v: f64) -> Result<(), String> {
        let ok = v.is_finite()
            && match *self {
                Bounds::None => true,
                Bounds::Int(lo, hi) => v >= lo as f64 && v <= hi as f64,
                Bounds::Float(lo, hi) => v >= lo && v <= hi,
                Bounds::FloatAbove(lo, hi) => v > lo && v <= hi,
            };
        if ok {
            Ok(())
        } else {
            Err(self.describe())
        }
    }

    /// "a finite number >= 0", "an integer from 1 to 1048576".
    pub fn describe(&self) -> String {
        let num = |v: f64| {
            if v == f64::MAX || v == f64::MIN {
                None
            } else {
                Some(v)
            }
        };
        match *self {
            Bounds::None => "a finite number".into(),
            Bounds::Int(lo, hi) => format!("an integer from {lo} to {hi}"),
            Bounds::Float(lo, hi) => match (num(lo), num(hi)) {
                (None, None) => "a finite number".into(),
                (Some(lo), None) => format!("a finite number >= {lo}"),
                (None, Some(hi)) => format!("a finite number <= {hi}"),
                (Some(lo), Some(hi)) => format!("a number from {lo} to {hi}"),
            },
            Bounds::FloatAbove(lo, hi) => match num(hi) {
                None => format!("a finite number > {lo}"),
                Some(hi) => format!("a number > {lo} and <= {hi}"),
            },
        }
    }
}

/// One parameter of a task.
#[derive(Debug, Clone, Copy)]
pub struct ParamSpec {
    pub name: &'static str,
    pub ty: Ty,
    pub default: Def,
    pub role: Role,
    /// Valid values of a numeric parameter (`Bounds::None` for the others).
    pub bounds: Bounds,
    /// Which of the valid values almacal implements ([`Support`]); the others are a
    /// `check` error, never accepted and ignored.
    pub support: Support,
}

impl ParamSpec {
    /// The same parameter with valid values `bounds`.
    pub const fn bounded(self, bounds: Bounds) -> Self {
        ParamSpec { bounds, ..self }
    }

    /// The same parameter with implementation status `support`.
    pub const fn supports(self, support: Support) -> Self {
        ParamSpec { support, ..self }
    }

    /// The same parameter, of which only CASA's default is implemented; `why` says
    /// what the parameter does in CASA (shown in the message).
    pub const fn default_only(self, why: &'static str) -> Self {
        self.supports(Support::DefaultOnly(why))
    }

    /// True for parameters whose values are numbers (scalars or lists).
    pub fn is_numeric(&self) -> bool {
        matches!(self.ty, Ty::Int | Ty::Float | Ty::IntList | Ty::FloatList)
    }
}

/// Shorthand constructor for tables of parameters.
pub const fn p(name: &'static str, ty: Ty, default: Def) -> ParamSpec {
    ParamSpec {
        name,
        ty,
        default,
        role: Role::Plain,
        bounds: Bounds::None,
        support: Support::Full,
    }
}

/// Constructor with a DAG role.
pub const fn r(name: &'static str, ty: Ty, default: Def, role: Role) -> ParamSpec {
    ParamSpec {
        name,
        ty,
        default,
        role,
        bounds: Bounds::None,
        support: Support::Full,
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
    /// Parameters of shared groups (selection, pre-application) whose implementation
    /// status differs in this task from the group's.
    pub support: &'static [(&'static str, Support)],
    /// `Some(why)`: the task is known (a CASA task) but has no executor yet; a recipe
    /// naming it is a `check` error.
    pub not_implemented: Option<&'static str>,
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

    /// What this task implements of parameter `spec` (its override, or the parameter's own).
    pub fn support_of(&self, spec: &ParamSpec) -> Support {
        self.support
            .iter()
            .find(|(n, _)| *n == spec.name)
            .map_or(spec.support, |(_, s)| *s)
    }
}

/// Which valid values of a parameter almacal honours.
#[derive(Debug, Clone, Copy)]
pub enum Support {
    /// Every valid value is honoured.
    Full,
    /// Only CASA's default is implemented; the text says what the parameter does in CASA.
    DefaultOnly(&'static str),
    /// Of a choice (or a string), only these values are implemented.
    Values(&'static [&'static str]),
    /// A rule over the value (`Err` is the whole explanation shown to the user), and
    /// what it allows, for the parameter reference.
    Rule(fn(&ParamValue) -> Result<(), String>, &'static str),
}

impl Support {
    /// One line for the parameter tables in `docs/recipes.md`.
    pub fn describe(&self) -> String {
        match self {
            Support::Full => "yes".into(),
            Support::DefaultOnly(why) => format!("only CASA's default (not implemented: {why})"),
            Support::Values(v) => format!("only {}", quote_list(v)),
            Support::Rule(_, what) => (*what).into(),
        }
    }
}

/// CASA default of a parameter: `Ok(None)` when absent, `Err` if required.
pub(crate) fn default_value(spec: &ParamSpec) -> Result<Option<ParamValue>, ()> {
    Ok(Some(match spec.default {
        Def::Required => return Err(()),
        Def::Absent => return Ok(None),
        Def::Str(s) => ParamValue::Str(s.into()),
        Def::Bool(b) => ParamValue::Bool(b),
        Def::Int(i) => ParamValue::Int(i),
        Def::Float(f) => ParamValue::Float(f),
        Def::StrList(l) => {
            ParamValue::List(l.iter().map(|s| ParamValue::Str((*s).into())).collect())
        }
        Def::IntList(l) => ParamValue::List(l.iter().map(|i| ParamValue::Int(*i)).collect()),
        Def::FloatList(l) => ParamValue::List(l.iter().map(|f| ParamValue::Float(*f)).collect()),
        Def::BoolList(l) => ParamValue::List(l.iter().map(|b| ParamValue::Bool(*b)).collect()),
    }))
}
