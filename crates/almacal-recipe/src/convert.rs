//! Type checking and conversion of one spanned TOML value into a
//! [`ParamValue`] according to its [`Ty`], reporting located errors.

use std::collections::BTreeMap;
use std::path::{Component, Path};

use crate::checks::{check_interp, check_solint, param_quantity_ok};
use crate::diag::Diagnostic;
use crate::raw::{Node, RawValue};
use crate::schema::{quote_list, ParamSpec, Ty};
use crate::source::SourceFile;
use crate::suggest::did_you_mean;
use crate::tasks::FLAG_COMMAND_PARAMS;
use crate::value::ParamValue;

/// Where errors go while converting values from one source file.
pub(crate) struct Cx<'a> {
    pub src: &'a SourceFile,
    pub diags: &'a mut Vec<Diagnostic>,
}

impl Cx<'_> {
    pub fn err(&mut self, node_span: std::ops::Range<usize>, msg: impl Into<String>) {
        let d = Diagnostic::at(self.src, node_span, msg);
        self.diags.push(d);
    }
    pub fn err_help(
        &mut self,
        span: std::ops::Range<usize>,
        msg: impl Into<String>,
        help: Option<String>,
    ) {
        let d = Diagnostic::at(self.src, span, msg).with_help_opt(help);
        self.diags.push(d);
    }

    fn mismatch(&mut self, name: &str, ty: &Ty, node: &Node) {
        let mut help = None;
        if let (RawValue::Int(_) | RawValue::Float(_), Ty::Sel | Ty::Str) = (&node.value, ty) {
            help = Some("CASA selections are strings: quote the value".to_string());
        }
        if let (RawValue::Str(s), Ty::Bool) = (&node.value, ty) {
            if matches!(s.as_str(), "True" | "False" | "true" | "false") {
                help = Some(format!("write {} without quotes", s.to_lowercase()));
            }
        }
        self.err_help(
            node.span.clone(),
            format!(
                "parameter `{name}`: expected {}, found {}",
                ty.describe(),
                node.value.type_name()
            ),
            help,
        );
    }
}

/// Convert `node`, the value of parameter `spec` (written `name`), and check that numbers
/// are finite and within the parameter's bounds (each element of a list at its own span).
pub(crate) fn convert_param(
    cx: &mut Cx<'_>,
    spec: &ParamSpec,
    name: &str,
    node: &Node,
) -> Option<ParamValue> {
    let value = convert(cx, spec.ty, name, node)?;
    if !spec.is_numeric() {
        return Some(value);
    }
    let mut ok = true;
    for item in elements(node) {
        let checked = match item.value {
            RawValue::Int(i) if matches!(spec.ty, Ty::Int | Ty::IntList) => {
                spec.bounds.check_int(i).map_err(|e| (i.to_string(), e))
            }
            RawValue::Int(i) => spec
                .bounds
                .check_float(i as f64)
                .map_err(|e| (i.to_string(), e)),
            RawValue::Float(f) => spec.bounds.check_float(f).map_err(|e| (f.to_string(), e)),
            _ => Ok(()),
        };
        if let Err((shown, expected)) = checked {
            cx.err(
                item.span.clone(),
                format!("parameter `{name}`: {shown} is out of range; expected {expected}"),
            );
            ok = false;
        }
    }
    ok.then_some(value)
}

/// Convert `node` (the value of parameter `name`) to type `ty`.
pub(crate) fn convert(cx: &mut Cx<'_>, ty: Ty, name: &str, node: &Node) -> Option<ParamValue> {
    match (ty, &node.value) {
        (Ty::Str | Ty::Sel, RawValue::Str(s)) => Some(ParamValue::Str(s.clone())),
        (Ty::Bool, RawValue::Bool(b)) => Some(ParamValue::Bool(*b)),
        (Ty::Int, RawValue::Int(i)) => Some(ParamValue::Int(*i)),
        (Ty::Float, RawValue::Int(i)) => Some(ParamValue::Float(*i as f64)),
        (Ty::Float, RawValue::Float(f)) => Some(ParamValue::Float(*f)),
        (Ty::Choice(choices), RawValue::Str(s)) => {
            if choices.contains(&s.as_str()) {
                Some(ParamValue::Str(s.clone()))
            } else {
                let help = did_you_mean(s, choices.iter().copied());
                cx.err_help(
                    node.span.clone(),
                    format!(
                        "parameter `{name}`: invalid value {s:?}; expected one of {}",
                        quote_list(choices)
                    ),
                    help,
                );
                None
            }
        }
        (Ty::Solint { freq }, RawValue::Str(s)) => match check_solint(s, freq) {
            Ok(()) => Some(ParamValue::Str(s.clone())),
            Err(e) => {
                cx.err(node.span.clone(), format!("parameter `{name}`: {e}"));
                None
            }
        },
        // CASA 6's list form (`solint=['int','inf']`): with one gaintype CASA 6.7 solves
        // with the first entry only (fixtures/solint_list); every entry must be valid.
        (Ty::Solint { freq }, RawValue::Array(items)) if !items.is_empty() => {
            let mut first = None;
            for item in items {
                match &item.value {
                    RawValue::Str(s) => match check_solint(s, freq) {
                        Ok(()) => {
                            first.get_or_insert_with(|| s.clone());
                        }
                        Err(e) => {
                            cx.err(item.span.clone(), format!("parameter `{name}`: {e}"));
                            return None;
                        }
                    },
                    other => {
                        cx.err(
                            item.span.clone(),
                            format!(
                                "parameter `{name}`: a solint list holds strings, found {}",
                                other.type_name()
                            ),
                        );
                        return None;
                    }
                }
            }
            first.map(ParamValue::Str)
        }
        (Ty::Quantity(units), RawValue::Str(s)) => {
            if param_quantity_ok(s, units) {
                Some(ParamValue::Str(s.clone()))
            } else {
                cx.err(
                    node.span.clone(),
                    format!(
                        "parameter `{name}`: invalid quantity {s:?}; expected a positive number with unit {}",
                        units.join(", ")
                    ),
                );
                None
            }
        }
        (Ty::StrList, _) => list_of(cx, name, node, ty, |v| match v {
            RawValue::Str(s) => Some(ParamValue::Str(s.clone())),
            _ => None,
        }),
        (Ty::IntList, _) => list_of(cx, name, node, ty, |v| match v {
            RawValue::Int(i) => Some(ParamValue::Int(*i)),
            _ => None,
        }),
        (Ty::FloatList, _) => list_of(cx, name, node, ty, |v| match v {
            RawValue::Int(i) => Some(ParamValue::Float(*i as f64)),
            RawValue::Float(f) => Some(ParamValue::Float(*f)),
            _ => None,
        }),
        (Ty::BoolList, _) => list_of(cx, name, node, ty, |v| match v {
            RawValue::Bool(b) => Some(ParamValue::Bool(*b)),
            _ => None,
        }),
        (Ty::Interp, _) => {
            let list = list_of(cx, name, node, ty, |v| match v {
                RawValue::Str(s) => Some(ParamValue::Str(s.clone())),
                _ => None,
            })?;
            let items = elements(node);
            let mut ok = true;
            for (v, n) in list.as_list().unwrap_or(&[]).iter().zip(items) {
                if let Err(e) = check_interp(v.as_str().unwrap_or("")) {
                    cx.err(n.span.clone(), format!("parameter `{name}`: {e}"));
                    ok = false;
                }
            }
            ok.then_some(list)
        }
        (Ty::SpwMap, _) => convert_spwmap(cx, name, node),
        (Ty::StrMap, RawValue::Table(entries)) => {
            let mut out = BTreeMap::new();
            let mut ok = true;
            for (k, v) in entries {
                match &v.value {
                    RawValue::Str(s) => {
                        out.insert(k.name.clone(), ParamValue::Str(s.clone()));
                    }
                    _ => {
                        cx.mismatch(&format!("{name}.{}", k.name), &Ty::Str, v);
                        ok = false;
                    }
                }
            }
            ok.then_some(ParamValue::Table(out))
        }
        (Ty::Commands, RawValue::Array(items)) => {
            let mut out = Vec::new();
            let mut ok = true;
            for item in items {
                match convert_command(cx, name, item) {
                    Some(c) => out.push(c),
                    None => ok = false,
                }
            }
            ok.then_some(ParamValue::List(out))
        }
        (Ty::Groups, RawValue::Array(items)) => {
            let mut out = Vec::new();
            let mut ok = true;
            for item in items {
                match convert_table(cx, name, item, GROUP_TYPES) {
                    Some(c) => out.push(c),
                    None => ok = false,
                }
            }
            ok.then_some(ParamValue::List(out))
        }
        (Ty::Output, RawValue::Table(_)) => convert_table(cx, name, node, OUTPUT_TYPES),
        (Ty::OutPath, RawValue::Str(s)) => {
            let path = Path::new(s);
            let bad = s.is_empty()
                || path.is_absolute()
                || path
                    .components()
                    .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir));
            if bad {
                cx.err(
                    node.span.clone(),
                    format!("parameter `{name}`: output path {s:?} must be a relative path inside the workdir (no `..`)"),
                );
                None
            } else {
                Some(ParamValue::Str(s.clone()))
            }
        }
        _ => {
            cx.mismatch(name, &ty, node);
            None
        }
    }
}

fn elements(node: &Node) -> Vec<&Node> {
    match &node.value {
        RawValue::Array(items) => items.iter().collect(),
        _ => vec![node],
    }
}

/// A scalar or a list of scalars accepted by `elem`, normalised to a list.
fn list_of(
    cx: &mut Cx<'_>,
    name: &str,
    node: &Node,
    ty: Ty,
    elem: impl Fn(&RawValue) -> Option<ParamValue>,
) -> Option<ParamValue> {
    let mut out = Vec::new();
    for item in elements(node) {
        match elem(&item.value) {
            Some(v) => out.push(v),
            None => {
                cx.mismatch(name, &ty, item);
                return None;
            }
        }
    }
    Some(ParamValue::List(out))
}

fn convert_spwmap(cx: &mut Cx<'_>, name: &str, node: &Node) -> Option<ParamValue> {
    let RawValue::Array(items) = &node.value else {
        cx.mismatch(name, &Ty::SpwMap, node);
        return None;
    };
    // A flat list of integers maps the first table.
    if !items.is_empty() && items.iter().all(|i| matches!(i.value, RawValue::Int(_))) {
        let flat = items
            .iter()
            .filter_map(|i| match i.value {
                RawValue::Int(v) => Some(ParamValue::Int(v)),
                _ => None,
            })
            .collect();
        return Some(ParamValue::List(vec![ParamValue::List(flat)]));
    }
    let mut out = Vec::new();
    for item in items {
        match &item.value {
            RawValue::Str(s) if s.is_empty() || s == "auto" => out.push(ParamValue::Str(s.clone())),
            RawValue::Array(ids) => {
                let mut v = Vec::new();
                for id in ids {
                    match id.value {
                        RawValue::Int(i) if (0..=i64::from(i32::MAX)).contains(&i) => {
                            v.push(ParamValue::Int(i))
                        }
                        _ => {
                            cx.err(
                                id.span.clone(),
                                format!(
                                    "parameter `{name}`: spw ids must be integers from 0 to {}",
                                    i32::MAX
                                ),
                            );
                            return None;
                        }
                    }
                }
                out.push(ParamValue::List(v));
            }
            _ => {
                cx.err_help(
                    item.span.clone(),
                    format!("parameter `{name}`: each entry must be a list of spw ids, \"auto\" or \"\""),
                    Some("use \"auto\" for the Tsys spw map (tsysspwmap) or [] for no mapping".into()),
                );
                return None;
            }
        }
    }
    Some(ParamValue::List(out))
}

const GROUP_TYPES: &[(&str, Ty)] = &[
    ("field", Ty::Sel),
    ("gaintable", Ty::StrList),
    ("gainfield", Ty::StrList),
    ("interp", Ty::Interp),
    ("spwmap", Ty::SpwMap),
    ("calwt", Ty::BoolList),
];

const OUTPUT_TYPES: &[(&str, Ty)] = &[
    ("split", Ty::OutPath),
    ("spw", Ty::Sel),
    ("field", Ty::Sel),
    ("intent", Ty::Sel),
    ("datacolumn", Ty::Choice(&["corrected", "data", "model"])),
    ("keepflags", Ty::Bool),
    ("reindex", Ty::Bool),
];

/// An inline table whose keys come from `types`.
fn convert_table(
    cx: &mut Cx<'_>,
    name: &str,
    node: &Node,
    types: &[(&str, Ty)],
) -> Option<ParamValue> {
    let RawValue::Table(entries) = &node.value else {
        cx.err(
            node.span.clone(),
            format!(
                "parameter `{name}`: expected an inline table, found {}",
                node.value.type_name()
            ),
        );
        return None;
    };
    let mut out = BTreeMap::new();
    let mut ok = true;
    for (k, v) in entries {
        match types.iter().find(|(n, _)| *n == k.name) {
            Some((n, ty)) => match convert(cx, *ty, &format!("{name}.{n}"), v) {
                Some(val) => {
                    out.insert(k.name.clone(), val);
                }
                None => ok = false,
            },
            None => {
                let help = did_you_mean(&k.name, types.iter().map(|(n, _)| *n));
                cx.err_help(
                    k.span.clone(),
                    format!(
                        "unknown key `{}` in `{name}`; expected one of {}",
                        k.name,
                        types
                            .iter()
                            .map(|(n, _)| format!("`{n}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    help,
                );
                ok = false;
            }
        }
    }
    ok.then_some(ParamValue::Table(out))
}

/// One flag command (inline table); `mode` defaults to "manual".
pub(crate) fn convert_command(cx: &mut Cx<'_>, name: &str, node: &Node) -> Option<ParamValue> {
    let RawValue::Table(entries) = &node.value else {
        cx.err(
            node.span.clone(),
            format!("parameter `{name}`: each command must be an inline table like {{ mode = \"manual\", spw = \"16\" }}, found {}", node.value.type_name()),
        );
        return None;
    };
    command_from_entries(
        cx,
        entries.iter().map(|(k, v)| (k.name.as_str(), &k.span, v)),
    )
}

/// Validate flag-command key/value pairs (from a table or a flag file line).
pub(crate) fn command_from_entries<'n, I>(cx: &mut Cx<'_>, entries: I) -> Option<ParamValue>
where
    I: Iterator<Item = (&'n str, &'n std::ops::Range<usize>, &'n Node)>,
{
    let mut out = BTreeMap::new();
    let mut ok = true;
    for (key, key_span, v) in entries {
        match FLAG_COMMAND_PARAMS.iter().find(|p| p.name == key) {
            Some(p) => match convert_param(cx, p, key, v) {
                Some(val) => {
                    if let Some(u) = crate::support::check(p, p.support, &val) {
                        cx.err_help(v.span.clone(), u.message, Some(u.help));
                        ok = false;
                    }
                    out.insert(key.to_string(), val);
                }
                None => ok = false,
            },
            None => {
                let help = did_you_mean(key, FLAG_COMMAND_PARAMS.iter().map(|p| p.name));
                cx.err_help(
                    key_span.clone(),
                    format!("unknown flag-command parameter `{key}`"),
                    help,
                );
                ok = false;
            }
        }
    }
    out.entry("mode".to_string())
        .or_insert_with(|| ParamValue::Str("manual".into()));
    ok.then_some(ParamValue::Table(out))
}
