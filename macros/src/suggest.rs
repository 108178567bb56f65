//! "Did you mean" for misspelled keywords.

/// `"; did you mean `x`?"` when one candidate is close to `word`, else `""`.
/// Close means a Damerau-Levenshtein distance of at most a third of the
/// word's length (at least 1), so only plausible typos get a hint.
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(word, c), c))
        .filter(|&(d, _)| d <= limit)
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| format!(", did you mean `{c}`?"))
        .unwrap_or_default()
}

/// The message for a word that is not one of `candidates`: with a
/// suggestion when one is close, else with the full list.
pub fn unknown(kind: &str, word: &str, candidates: &[&str]) -> String {
    match did_you_mean(word, candidates.iter().copied()).as_str() {
        "" => format!("unknown {kind} `{word}`; expected {}", list(candidates)),
        hint => format!("unknown {kind} `{word}`{hint}"),
    }
}

/// "`a`, `b` or `c`"
pub fn list(words: &[&str]) -> String {
    let quoted: Vec<String> = words.iter().map(|w| format!("`{w}`")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => quoted.concat(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_words_only() {
        assert_eq!(did_you_mean("dens", ["dense", "relu"]), ", did you mean `dense`?");
        assert_eq!(did_you_mean("rleu", ["dense", "relu"]), ", did you mean `relu`?");
        assert_eq!(did_you_mean("conv9000", ["dense", "relu"]), "");
        assert_eq!(list(&["a", "b", "c"]), "`a`, `b` or `c`");
        assert_eq!(unknown("loss", "mes", &["mse", "hinge"]), "unknown loss `mes`, did you mean `mse`?");
        assert_eq!(
            unknown("loss", "zzz", &["mse", "hinge"]),
            "unknown loss `zzz`; expected `mse` or `hinge`"
        );
    }
}
