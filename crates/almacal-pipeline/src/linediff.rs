//! Line diffs of referenced text files (flag commands), summarised for
//! plan reasons: "line 42 added", "lines 3, 7 changed".

/// One change between two versions of a file (1-based line numbers: in the
/// new file for added/changed lines, in the old file for removed ones).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Added(usize),
    Removed(usize),
    Changed(usize),
}

/// Longest-common-subsequence diff; a removal directly followed by an
/// addition at the same place is reported as a change.
pub fn diff_lines<S: AsRef<str>>(old: &[S], new: &[S]) -> Vec<Change> {
    let (n, m) = (old.len(), new.len());
    let mut lcs = vec![0u32; (n + 1) * (m + 1)];
    let w = m + 1;
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i * w + j] = if old[i].as_ref() == new[j].as_ref() {
                lcs[(i + 1) * w + j + 1] + 1
            } else {
                lcs[(i + 1) * w + j].max(lcs[i * w + j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut raw = Vec::new();
    while i < n || j < m {
        if i < n && j < m && old[i].as_ref() == new[j].as_ref() {
            i += 1;
            j += 1;
        } else if i < n && (j == m || lcs[(i + 1) * w + j] >= lcs[i * w + j + 1]) {
            raw.push(Change::Removed(i + 1));
            i += 1;
        } else {
            raw.push(Change::Added(j + 1));
            j += 1;
        }
    }
    // Pair Removed(k) + Added(l) that replace each other.
    let mut out = Vec::new();
    let mut k = 0;
    while k < raw.len() {
        match (&raw[k], raw.get(k + 1)) {
            (Change::Removed(_), Some(Change::Added(l))) => {
                out.push(Change::Changed(*l));
                k += 2;
            }
            (c, _) => {
                out.push(c.clone());
                k += 1;
            }
        }
    }
    out
}

/// "line 42 added", "lines 3, 7 changed; line 9 removed".
pub fn summarize(changes: &[Change]) -> String {
    let mut parts = Vec::new();
    for (label, pick) in [("added", 0u8), ("removed", 1u8), ("changed", 2u8)] {
        let lines: Vec<usize> = changes
            .iter()
            .filter_map(|c| match (c, pick) {
                (Change::Added(l), 0) | (Change::Removed(l), 1) | (Change::Changed(l), 2) => {
                    Some(*l)
                }
                _ => None,
            })
            .collect();
        if lines.is_empty() {
            continue;
        }
        let shown: Vec<String> = lines.iter().take(5).map(|l| l.to_string()).collect();
        let more = if lines.len() > 5 {
            format!(" and {} more", lines.len() - 5)
        } else {
            String::new()
        };
        let noun = if lines.len() == 1 { "line" } else { "lines" };
        parts.push(format!("{noun} {}{more} {label}", shown.join(", ")));
    }
    if parts.is_empty() {
        "whitespace or line endings changed".to_string()
    } else {
        parts.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn added_removed_changed() {
        let old = ["a", "b", "c"];
        assert_eq!(diff_lines(&old, &["a", "b", "c", "d"]), [Change::Added(4)]);
        assert_eq!(diff_lines(&old, &["a", "c"]), [Change::Removed(2)]);
        assert_eq!(diff_lines(&old, &["a", "B", "c"]), [Change::Changed(2)]);
        assert_eq!(diff_lines(&old, &["x", "a", "b", "c"]), [Change::Added(1)]);
        assert_eq!(
            summarize(&diff_lines(&old, &["a", "b", "c", "d"])),
            "line 4 added"
        );
        assert_eq!(
            summarize(&[Change::Changed(3), Change::Changed(7), Change::Removed(9)]),
            "line 9 removed; lines 3, 7 changed"
        );
    }
}
