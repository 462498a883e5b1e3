//! "Did you mean" suggestions: edit distance (`strsim`'s optimal string alignment) over
//! candidate names.

/// Edit distance counting insertions, deletions, substitutions and
/// transpositions of adjacent characters (optimal string alignment, `strsim`).
pub fn levenshtein(a: &str, b: &str) -> usize {
    strsim::osa_distance(a, b)
}

/// The closest candidate within a distance that scales with the word's
/// length (1 for short words, up to a third of the length), if any.
pub fn closest<'a, I>(word: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let limit = (word.chars().count() / 3).max(1);
    let lower = word.to_lowercase();
    candidates
        .into_iter()
        .map(|c| {
            let d = levenshtein(&lower, &c.to_lowercase());
            (d, c)
        })
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, c)| (*d, c.len()))
        .map(|(_, c)| c)
}

/// "did you mean `x`?" help text, if a candidate is close.
pub fn did_you_mean<'a, I>(word: &str, candidates: I) -> Option<String>
where
    I: IntoIterator<Item = &'a str>,
{
    closest(word, candidates).map(|c| format!("did you mean `{c}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(levenshtein("solint", "soilnt"), 1);
        assert_eq!(levenshtein("raw", "rwa"), 1);
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        assert_eq!(levenshtein("", "abc"), 3);
        assert_eq!(levenshtein("refant", "refant"), 0);
    }

    #[test]
    fn suggests_close_names_only() {
        let c = ["solint", "solnorm", "refant", "combine"];
        assert_eq!(closest("solnt", c), Some("solint"));
        assert_eq!(closest("refnat", c), Some("refant"));
        assert_eq!(closest("RefAnt", c), Some("refant"));
        assert_eq!(closest("zzzzzz", c), None);
    }
}
