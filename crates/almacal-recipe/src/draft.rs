//! A stage after its schema checks and before its references are linked: what
//! `validate` hands to `rules` (cross-parameter rules) and `refs` (references, outputs,
//! dependencies).

use std::collections::BTreeMap;
use std::ops::Range;

use crate::diag::ParamSite;
use crate::plots::PlotName;
use crate::raw::Key;
use crate::schema::TaskSpec;
use crate::value::Params;

/// A stage after schema checks, before references are linked.
pub(crate) struct Draft {
    pub name: String,
    pub key: Key,
    pub task: Option<&'static TaskSpec>,
    pub params: Params,
    /// Where each given parameter's key and value sit (for later errors).
    pub spans: BTreeMap<String, (Range<usize>, Range<usize>)>,
    /// `after` entries with their spans.
    pub after: Vec<(String, Range<usize>)>,
    /// Caltable reference strings with their spans.
    pub cal_sites: Vec<(String, Range<usize>)>,
    /// `plots = [...]`, checked against the task.
    pub plots: Vec<PlotName>,
    /// Where each resolved parameter came from (see [`ParamSite`]); entries of list-of-table
    /// parameters (`commands`, `groups`) also as `name[i].key`.
    pub sites: BTreeMap<String, ParamSite>,
}
