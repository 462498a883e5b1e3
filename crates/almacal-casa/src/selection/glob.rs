//! Shell-style wildcard matching (`*`, `?`) as CASA uses for names and intents.

/// True if `text` matches `pattern` entirely; `*` matches any run, `?` one character.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

/// True if the string contains a wildcard character.
pub fn is_pattern(s: &str) -> bool {
    s.contains('*') || s.contains('?')
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    #[test]
    fn wildcards() {
        assert!(glob_match("*POINTING*", "CALIBRATE_POINTING#ON_SOURCE"));
        assert!(!glob_match("*POINTING*", "CALIBRATE_PHASE#ON_SOURCE"));
        assert!(glob_match("1331*", "1331+30500002"));
        assert!(glob_match("CM0?", "CM07"));
        assert!(!glob_match("CM0?", "CM10"));
        assert!(glob_match("*", ""));
        assert!(glob_match("a*b*c", "aXXbYYc"));
        assert!(!glob_match("a*b*c", "aXXbYY"));
    }
}
