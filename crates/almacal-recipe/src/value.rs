//! Resolved parameter values: what stages receive and what fingerprints hash.
//! Tables are `BTreeMap`s so the canonical JSON encoding has a stable key
//! order; floats use serde_json's shortest round-trip form.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// A typed, validated parameter value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ParamValue {
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    List(Vec<ParamValue>),
    Table(BTreeMap<String, ParamValue>),
}

/// Resolved parameters of one stage, in canonical (sorted) order.
pub type Params = BTreeMap<String, ParamValue>;

impl ParamValue {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            ParamValue::Str(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            ParamValue::Bool(b) => Some(*b),
            _ => None,
        }
    }
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            ParamValue::Int(i) => Some(*i),
            _ => None,
        }
    }
    /// Integers and floats both read as `f64`.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            ParamValue::Int(i) => Some(*i as f64),
            ParamValue::Float(f) => Some(*f),
            _ => None,
        }
    }
    pub fn as_list(&self) -> Option<&[ParamValue]> {
        match self {
            ParamValue::List(l) => Some(l),
            _ => None,
        }
    }
    pub fn as_table(&self) -> Option<&BTreeMap<String, ParamValue>> {
        match self {
            ParamValue::Table(t) => Some(t),
            _ => None,
        }
    }
    /// A list of strings (`None` if any element is not a string).
    pub fn as_str_list(&self) -> Option<Vec<&str>> {
        self.as_list()?.iter().map(|v| v.as_str()).collect()
    }

    /// Compact JSON, used in messages (`"inf"`, `["a","b"]`, `true`).
    pub fn to_compact(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| format!("{self:?}"))
    }
}

impl fmt::Display for ParamValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_compact())
    }
}

/// Canonical JSON of a parameter set (stable key order), for hashing.
pub fn canonical_json(params: &Params) -> String {
    serde_json::to_string(params).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_is_key_sorted() {
        let mut p = Params::new();
        p.insert("solint".into(), ParamValue::Str("inf".into()));
        p.insert("minsnr".into(), ParamValue::Float(3.0));
        p.insert("combine".into(), ParamValue::List(vec![]));
        assert_eq!(
            canonical_json(&p),
            r#"{"combine":[],"minsnr":3.0,"solint":"inf"}"#
        );
    }
}
