//! Integer id lists with ranges and bounds (`3`, `1~5`, `<4`, `>10`), shared by the
//! `field`, `scan`, `observation` and `array` selections.

/// One integer-selection token.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum IdToken {
    One(i64),
    Range(i64, i64),
    Below(i64),
    Above(i64),
}

impl IdToken {
    pub fn contains(&self, v: i64) -> bool {
        match *self {
            Self::One(a) => v == a,
            Self::Range(a, b) => v >= a && v <= b,
            Self::Below(a) => v < a,
            Self::Above(a) => v > a,
        }
    }
}

/// Parse one token as an integer id form, or `None` if it is not numeric.
pub fn parse_id_token(tok: &str) -> Option<IdToken> {
    let tok = tok.trim();
    if let Some(rest) = tok.strip_prefix('<') {
        return rest.trim().parse().ok().map(IdToken::Below);
    }
    if let Some(rest) = tok.strip_prefix('>') {
        return rest.trim().parse().ok().map(IdToken::Above);
    }
    if let Some((a, b)) = tok.split_once('~') {
        let a = a.trim().parse().ok()?;
        let b = b.trim().parse().ok()?;
        return Some(IdToken::Range(a, b));
    }
    tok.parse().ok().map(IdToken::One)
}

/// Split a selection string on top-level commas, dropping empty pieces.
pub fn split_commas(expr: &str) -> Vec<&str> {
    expr.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens() {
        assert_eq!(parse_id_token("3"), Some(IdToken::One(3)));
        assert_eq!(parse_id_token("1~5"), Some(IdToken::Range(1, 5)));
        assert_eq!(parse_id_token("<4"), Some(IdToken::Below(4)));
        assert_eq!(parse_id_token(">10"), Some(IdToken::Above(10)));
        assert_eq!(parse_id_token("J1924*"), None);
        assert!(IdToken::Range(1, 5).contains(5) && !IdToken::Range(1, 5).contains(6));
        assert_eq!(split_commas(" 1, 2,,3 "), vec!["1", "2", "3"]);
    }
}
