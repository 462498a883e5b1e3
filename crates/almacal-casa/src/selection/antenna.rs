//! The `antenna` selection (CASA baseline syntax): `;`-separated terms, each an antenna list
//! optionally followed by `&` (cross only), `&&` (with autocorrelations) or `&&&`
//! (autocorrelations only) and a second list; `!` negates a term.

use super::error::{list_ids, SelectionError};
use super::glob::{glob_match, is_pattern};
use super::ids::{parse_id_token, split_commas};
use almacal_core::meta::MsMeta;
use std::collections::BTreeSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Join {
    /// `A`: every cross-correlation with an antenna of A (CASA leaves autocorrelations out).
    Any,
    /// `A&B`: cross-correlations between A and B.
    Cross,
    /// `A&&B`: as `&`, plus autocorrelations of antennas in both lists.
    WithAuto,
    /// `A&&&`: autocorrelations of A only.
    AutoOnly,
}

#[derive(Debug, Clone)]
struct Term {
    negate: bool,
    left: BTreeSet<i32>,
    right: BTreeSet<i32>,
    join: Join,
}

impl Term {
    fn matches(&self, a1: i32, a2: i32) -> bool {
        match self.join {
            Join::Any => a1 != a2 && (self.left.contains(&a1) || self.left.contains(&a2)),
            Join::AutoOnly => a1 == a2 && self.left.contains(&a1),
            Join::Cross | Join::WithAuto => {
                if a1 == a2 && self.join == Join::Cross {
                    return false;
                }
                (self.left.contains(&a1) && self.right.contains(&a2))
                    || (self.left.contains(&a2) && self.right.contains(&a1))
            }
        }
    }
}

/// A resolved baseline selection.
#[derive(Debug, Clone, Default)]
pub struct BaselineSel {
    terms: Vec<Term>,
}

impl BaselineSel {
    /// True if the baseline (a1, a2) is selected. Terms apply left to right, as in CASA:
    /// a positive term adds its baselines, a negated one removes them, and an expression
    /// that starts with a negation starts from all baselines (`!2;1` keeps 1&2).
    pub fn matches(&self, a1: i32, a2: i32) -> bool {
        let Some(first) = self.terms.first() else {
            return true;
        };
        let mut selected = first.negate;
        for t in &self.terms {
            if t.matches(a1, a2) {
                selected = !t.negate;
            }
        }
        selected
    }

    /// True if no antenna expression was given.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }
}

fn resolve_list(meta: &MsMeta, list: &str, expr: &str) -> Result<BTreeSet<i32>, SelectionError> {
    let mut out = BTreeSet::new();
    for tok in split_commas(list) {
        if tok == "*" {
            out.extend(meta.antennas.iter().map(|a| a.id.0 as i32));
            continue;
        }
        // A name match wins over an index (VLA antennas are named "1".."28").
        let by_name: Vec<i32> = meta
            .antennas
            .iter()
            .filter(|a| {
                if is_pattern(tok) {
                    glob_match(tok, &a.name) || glob_match(tok, &a.station)
                } else {
                    a.name == tok
                }
            })
            .map(|a| a.id.0 as i32)
            .collect();
        let hits = if !by_name.is_empty() {
            by_name
        } else if let Some(id) = parse_id_token(tok) {
            meta.antennas
                .iter()
                .filter(|a| id.contains(a.id.0 as i64))
                .map(|a| a.id.0 as i32)
                .collect()
        } else {
            meta.antennas
                .iter()
                .filter(|a| a.station == tok)
                .map(|a| a.id.0 as i32)
                .collect()
        };
        if hits.is_empty() {
            let names: Vec<&str> = meta.antennas.iter().map(|a| a.name.as_str()).collect();
            let ids: Vec<u32> = meta.antennas.iter().map(|a| a.id.0).collect();
            return Err(SelectionError::new(
                "antenna",
                expr,
                format!(
                    "'{tok}' matches no antenna; antennas are {} (ids {})",
                    names.join(","),
                    list_ids(&ids)
                ),
            ));
        }
        out.extend(hits);
    }
    Ok(out)
}

/// Resolve an `antenna` expression.
pub fn resolve_antenna(meta: &MsMeta, expr: &str) -> Result<BaselineSel, SelectionError> {
    let mut terms = Vec::new();
    for raw in expr.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        let (negate, body) = match raw.strip_prefix('!') {
            Some(rest) => (true, rest.trim()),
            None => (false, raw),
        };
        let (left, right, join) = if let Some((l, r)) = body.split_once("&&&") {
            (l, r, Join::AutoOnly)
        } else if let Some((l, r)) = body.split_once("&&") {
            (l, r, Join::WithAuto)
        } else if let Some((l, r)) = body.split_once('&') {
            (l, r, Join::Cross)
        } else {
            (body, "", Join::Any)
        };
        if left.trim().is_empty() {
            return Err(SelectionError::new(
                "antenna",
                expr,
                format!("'{raw}' has no antenna before '&'"),
            ));
        }
        if join == Join::AutoOnly && !right.trim().is_empty() {
            return Err(SelectionError::new(
                "antenna",
                expr,
                format!("'{raw}': nothing may follow '&&&' (it selects the autocorrelations of the antennas before it)"),
            ));
        }
        let left = resolve_list(meta, left, expr)?;
        let right = match join {
            Join::Any | Join::AutoOnly => BTreeSet::new(),
            // `A&` and `A&&` with nothing after mean "among the antennas of A".
            _ if right.trim().is_empty() => left.clone(),
            _ => resolve_list(meta, right, expr)?,
        };
        terms.push(Term {
            negate,
            left,
            right,
            join,
        });
    }
    Ok(BaselineSel { terms })
}
