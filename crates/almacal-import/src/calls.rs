//! Which calls of a script count: the CASA task names, the analysis-utility helpers (plots,
//! read-only, data-changing), and a finder of every call inside one statement's expressions.

use rustpython_parser::ast::{self, Expr};

/// CASA tasks a calibration script may call (bare names, as in CASA's Python namespace).
/// Plotting tasks (plotms, plotants, plotcal, plotbandpass) are helpers, not task calls.
pub const CASA_TASKS: &[&str] = &[
    "applycal",
    "bandpass",
    "clearcal",
    "concat",
    "cvel",
    "cvel2",
    "delmod",
    "exportasdm",
    "exportfits",
    "exportuvfits",
    "fixplanets",
    "fixvis",
    "flagcmd",
    "flagdata",
    "flagmanager",
    "fluxscale",
    "gaincal",
    "gencal",
    "hanningsmooth",
    "imhead",
    "immath",
    "importasdm",
    "importfits",
    "importuvfits",
    "importvla",
    "imstat",
    "initweights",
    "listcal",
    "listobs",
    "mstransform",
    "partition",
    "polcal",
    "setjy",
    "smoothcal",
    "split",
    "split2",
    "statwt",
    "tclean",
    "clean",
    "uvcontsub",
    "vishead",
    "wvrgcal",
];

/// Helpers that change data and have no almacal equivalent: they count as task calls
/// (a recipe without them does not do what the script does) and are always unsupported.
pub const DATA_CHANGING_HELPERS: &[&str] = &[
    "es.fixForCSV2555",
    "bdflags2MS",
    "es.bdflags2MS",
    "aU.fixForCSV2555",
    "tb.removerows",
    "tb.putcol",
    "tb.putcell",
    "fixsyscaltimes_casa",
];

/// Helpers whose output is a plot: they become the stage's `plots`.
pub const PLOT_HELPERS: &[&str] = &[
    "es.checkCalTable",
    "aU.plotbandpass",
    "plotbandpass",
    "plotms",
    "plotants",
    "plotcal",
    "aU.plotWVRSolutions",
    "aU.plotms",
];

/// One call found in a statement.
#[derive(Debug, Clone)]
pub struct Found<'a> {
    /// `flagdata`, `es.checkCalTable`, `os.system`, ...
    pub name: String,
    pub call: &'a ast::ExprCall,
}

/// The dotted name of a call's function (`aU.plotbandpass`), if it is a name or attribute.
pub fn func_name(e: &Expr) -> Option<String> {
    match e {
        Expr::Name(n) => Some(n.id.to_string()),
        Expr::Attribute(a) => func_name(&a.value).map(|base| format!("{base}.{}", a.attr)),
        _ => None,
    }
}

/// Whether a call name counts as a task call (a CASA task or a data-changing helper).
pub fn is_task_call(name: &str) -> bool {
    CASA_TASKS.contains(&name) || DATA_CHANGING_HELPERS.contains(&name)
}

/// Every call in `e`, outermost first.
pub fn calls_in<'a>(e: &'a Expr, out: &mut Vec<Found<'a>>) {
    match e {
        Expr::Call(c) => {
            out.push(Found {
                name: func_name(&c.func).unwrap_or_default(),
                call: c,
            });
            calls_in(&c.func, out);
            c.args.iter().for_each(|a| calls_in(a, out));
            c.keywords.iter().for_each(|k| calls_in(&k.value, out));
        }
        Expr::BinOp(b) => {
            calls_in(&b.left, out);
            calls_in(&b.right, out);
        }
        Expr::BoolOp(b) => b.values.iter().for_each(|v| calls_in(v, out)),
        Expr::UnaryOp(u) => calls_in(&u.operand, out),
        Expr::Compare(c) => {
            calls_in(&c.left, out);
            c.comparators.iter().for_each(|v| calls_in(v, out));
        }
        Expr::IfExp(i) => {
            calls_in(&i.test, out);
            calls_in(&i.body, out);
            calls_in(&i.orelse, out);
        }
        Expr::List(l) => l.elts.iter().for_each(|v| calls_in(v, out)),
        Expr::Tuple(t) => t.elts.iter().for_each(|v| calls_in(v, out)),
        Expr::Set(s) => s.elts.iter().for_each(|v| calls_in(v, out)),
        Expr::Dict(d) => {
            d.keys.iter().flatten().for_each(|v| calls_in(v, out));
            d.values.iter().for_each(|v| calls_in(v, out));
        }
        Expr::Attribute(a) => calls_in(&a.value, out),
        Expr::Subscript(s) => {
            calls_in(&s.value, out);
            calls_in(&s.slice, out);
        }
        Expr::Starred(s) => calls_in(&s.value, out),
        Expr::Lambda(l) => calls_in(&l.body, out),
        Expr::ListComp(c) => {
            calls_in(&c.elt, out);
            c.generators.iter().for_each(|g| {
                calls_in(&g.iter, out);
                g.ifs.iter().for_each(|v| calls_in(v, out));
            });
        }
        Expr::GeneratorExp(c) => {
            calls_in(&c.elt, out);
            c.generators.iter().for_each(|g| calls_in(&g.iter, out));
        }
        Expr::JoinedStr(j) => j.values.iter().for_each(|v| calls_in(v, out)),
        Expr::FormattedValue(f) => calls_in(&f.value, out),
        Expr::Slice(s) => {
            [&s.lower, &s.upper, &s.step]
                .into_iter()
                .flatten()
                .for_each(|v| calls_in(v, out));
        }
        _ => {}
    }
}
