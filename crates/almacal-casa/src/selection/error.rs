//! Selection errors: they name the parameter, the offending token, and what exists.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Error)]
#[error("{param}='{expr}': {msg}")]
pub struct SelectionError {
    /// The CASA parameter (`spw`, `field`, `antenna`, ...).
    pub param: String,
    /// The whole expression given.
    pub expr: String,
    /// What is wrong with which token, and what exists.
    pub msg: String,
}

impl SelectionError {
    pub fn new(param: &str, expr: &str, msg: impl Into<String>) -> Self {
        Self {
            param: param.into(),
            expr: expr.into(),
            msg: msg.into(),
        }
    }
}

/// Join ids compactly for messages: `16,18,20,22` or `0~27`.
pub fn list_ids(ids: &[u32]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < ids.len() {
        let mut j = i;
        while j + 1 < ids.len() && ids[j + 1] == ids[j] + 1 {
            j += 1;
        }
        if j >= i + 2 {
            out.push(format!("{}~{}", ids[i], ids[j]));
        } else {
            for id in &ids[i..=j] {
                out.push(id.to_string());
            }
        }
        i = j + 1;
    }
    out.join(",")
}
