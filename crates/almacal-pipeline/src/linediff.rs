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

/// A line diff (`similar`'s Myers diff); a removal directly followed by an addition at
/// the same place is reported as a change.
pub fn diff_lines<S: AsRef<str>>(old: &[S], new: &[S]) -> Vec<Change> {
    let old: Vec<&str> = old.iter().map(AsRef::as_ref).collect();
    let new: Vec<&str> = new.iter().map(AsRef::as_ref).collect();
    let mut raw = Vec::new();
    for op in similar::capture_diff_slices(similar::Algorithm::Myers, &old, &new) {
        match op {
            similar::DiffOp::Equal { .. } => {}
            similar::DiffOp::Delete {
                old_index, old_len, ..
            } => raw.extend((old_index..old_index + old_len).map(|i| Change::Removed(i + 1))),
            similar::DiffOp::Insert {
                new_index, new_len, ..
            } => raw.extend((new_index..new_index + new_len).map(|j| Change::Added(j + 1))),
            similar::DiffOp::Replace {
                old_index,
                old_len,
                new_index,
                new_len,
            } => {
                // Line by line: the first min(old_len, new_len) lines changed, the rest
                // removed or added.
                let n = old_len.min(new_len);
                raw.extend((new_index..new_index + n).map(|j| Change::Changed(j + 1)));
                raw.extend((old_index + n..old_index + old_len).map(|i| Change::Removed(i + 1)));
                raw.extend((new_index + n..new_index + new_len).map(|j| Change::Added(j + 1)));
            }
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
