//! What almacal implements of each CASA parameter (issue 15). Every parameter of a task
//! schema carries a [`Support`]; a value CASA accepts but almacal does not implement is a
//! `check` error ("not implemented yet"), so a recipe never runs with a setting that would
//! be accepted and then ignored. The rules that several tasks share live here too.

pub use crate::schema::Support;
use crate::schema::{default_value, ParamSpec};
use crate::value::ParamValue;

/// A value almacal does not implement: what to say, and how to fix it.
#[derive(Debug, Clone, PartialEq)]
pub struct Unsupported {
    pub message: String,
    pub help: String,
}

/// Check `value` of `spec` against `support`; `None` when almacal honours it.
pub fn check(spec: &ParamSpec, support: Support, value: &ParamValue) -> Option<Unsupported> {
    let name = spec.name;
    let shown = value.to_compact();
    let default = default_value(spec).ok().flatten();
    match support {
        Support::Full => None,
        Support::DefaultOnly(why) => {
            if default.as_ref().is_some_and(|d| same(d, value)) {
                return None;
            }
            let (fix, is) = match &default {
                Some(d) => (
                    format!("remove `{name}` (CASA's default is {})", d.to_compact()),
                    format!("; only CASA's default {} is", d.to_compact()),
                ),
                None => (format!("remove `{name}`"), String::new()),
            };
            Some(Unsupported {
                message: format!(
                    "`{name} = {shown}` is not implemented yet in almacal ({why}){is}"
                ),
                help: fix,
            })
        }
        Support::Values(ok) => {
            let bad = match value {
                ParamValue::Str(s) => !ok.contains(&s.as_str()),
                _ => false,
            };
            bad.then(|| Unsupported {
                message: format!(
                    "`{name} = {shown}` is a CASA value that is not implemented yet in almacal; implemented: {}",
                    crate::schema::quote_list(ok)
                ),
                help: format!("use one of {}", crate::schema::quote_list(ok)),
            })
        }
        Support::Rule(rule, _) => rule(value).err().map(|why| Unsupported {
            message: format!("`{name} = {shown}`: {why}"),
            help: match &default {
                Some(d) if same(d, value) => format!(
                    "almacal does not implement CASA's default here: write `{name}` in the stage with a value it implements"
                ),
                Some(d) => format!("CASA's default is {}", d.to_compact()),
                None => format!("remove `{name}`"),
            },
        }),
    }
}

/// Equal values, integers and floats compared as numbers.
fn same(a: &ParamValue, b: &ParamValue) -> bool {
    match (a, b) {
        (ParamValue::List(x), ParamValue::List(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
        }
        (ParamValue::Int(_) | ParamValue::Float(_), ParamValue::Int(_) | ParamValue::Float(_)) => {
            a.as_f64() == b.as_f64()
        }
        _ => a == b,
    }
}

/// Items of a `combine` value: a string or list of strings, each possibly `"scan,spw"`.
fn combine_items(v: &ParamValue) -> Vec<String> {
    let parts: Vec<&str> = match v {
        ParamValue::Str(s) => vec![s.as_str()],
        ParamValue::List(l) => l.iter().filter_map(ParamValue::as_str).collect(),
        _ => Vec::new(),
    };
    parts
        .iter()
        .flat_map(|p| p.split(','))
        .map(|p| p.trim().to_ascii_lowercase())
        .filter(|p| !p.is_empty())
        .collect()
}

const COMBINE_AXES: &[&str] = &["scan", "field", "spw", "obs", "corr"];

fn combine_rule(v: &ParamValue, implemented: &[&str]) -> Result<(), String> {
    for item in combine_items(v) {
        if !COMBINE_AXES.contains(&item.as_str()) {
            return Err(format!(
                "unknown combine axis {item:?}; CASA's are \"scan\", \"field\", \"spw\", \"obs\" \
                 and \"corr\" (comma-separated, e.g. \"scan,spw\")"
            ));
        }
        if !implemented.contains(&item.as_str()) {
            return Err(format!(
                "combining over {item:?} is not implemented yet in this task; implemented: {}",
                crate::schema::quote_list(implemented)
            ));
        }
    }
    Ok(())
}

/// gaincal `combine`: scan, field, spw, obs.
pub fn gaincal_combine(v: &ParamValue) -> Result<(), String> {
    combine_rule(v, &["scan", "field", "spw", "obs"])
}

/// bandpass `combine`: scan, field, obs (not spw).
pub fn bandpass_combine(v: &ParamValue) -> Result<(), String> {
    combine_rule(v, &["scan", "field", "obs"])
}

/// split `combine`: nothing (time averaging is not implemented).
pub fn no_combine(v: &ParamValue) -> Result<(), String> {
    combine_rule(v, &[])
}

/// split `combine` / mstransform `timespan`: `scan` (time bins across scans) and `state`
/// (which CASA 6.7 adds anyway when time-averaging ALMA data: "automatically adding state
/// to timespan").
pub fn split_combine(v: &ParamValue) -> Result<(), String> {
    for item in combine_items(v) {
        if item != "state" && item != "scan" {
            return Err(format!(
                "combine = {item:?} is not implemented for split's time averaging; use \"scan\" and/or \"state\""
            ));
        }
    }
    Ok(())
}

/// gaincal `preavg`: `<= 0` (pre-average over the whole solint, CASA's default -1).
pub fn preavg(v: &ParamValue) -> Result<(), String> {
    match v.as_f64() {
        Some(x) if x > 0.0 => Err(
            "pre-averaging inside the solution interval (preavg > 0) is not implemented yet; \
             leave it at -1 (the whole solint)"
                .into(),
        ),
        _ => Ok(()),
    }
}

/// `array` / `feed` selections: ALMA data have one array and one feed, so only the
/// selections of everything (`""`, `"0"`, `"*"`) are implemented.
pub fn whole_array_or_feed(v: &ParamValue) -> Result<(), String> {
    match v.as_str().map(str::trim) {
        Some("" | "0" | "*") | None => Ok(()),
        Some(_) => Err(
            "selecting by array or feed is not implemented (ALMA data have one array and one \
             feed); use \"\", \"0\" or \"*\""
                .into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{p, Def, Ty};

    #[test]
    fn default_only_accepts_the_default_alone() {
        let spec = p("smodel", Ty::FloatList, Def::FloatList(&[])).default_only("a model");
        let s = spec.support;
        assert!(check(&spec, s, &ParamValue::List(vec![])).is_none());
        let u = check(&spec, s, &ParamValue::List(vec![ParamValue::Float(1.0)])).unwrap();
        assert!(u.message.contains("not implemented yet"), "{}", u.message);
        let spec = p("x", Ty::Float, Def::Float(0.0)).default_only("x");
        assert!(check(&spec, spec.support, &ParamValue::Int(0)).is_none());
        assert!(check(&spec, spec.support, &ParamValue::Int(1)).is_some());
    }

    #[test]
    fn values_and_rules() {
        let spec = p("gaintype", Ty::Choice(&["G", "T", "K"]), Def::Str("G"));
        let s = Support::Values(&["G", "T"]);
        assert!(check(&spec, s, &ParamValue::Str("T".into())).is_none());
        let u = check(&spec, s, &ParamValue::Str("K".into())).unwrap();
        assert!(u.message.contains("\"G\", \"T\""), "{}", u.message);
        let c = |s: &str| gaincal_combine(&ParamValue::List(vec![ParamValue::Str(s.into())]));
        assert!(c("scan,spw").is_ok());
        assert!(c("spw,bogus").unwrap_err().contains("unknown combine axis"));
        assert!(bandpass_combine(&ParamValue::Str("scan,spw".into())).is_err());
        assert!(split_combine(&ParamValue::Str("state".into())).is_ok());
        assert!(split_combine(&ParamValue::Str("scan,state".into())).is_ok());
        assert!(split_combine(&ParamValue::Str("spw".into())).is_err());
        assert!(whole_array_or_feed(&ParamValue::Str("1".into())).is_err());
        assert!(preavg(&ParamValue::Float(-1.0)).is_ok());
        assert!(preavg(&ParamValue::Float(10.0)).is_err());
    }
}
