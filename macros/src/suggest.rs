//! "Did you mean" for misspelled keywords.

/// `", did you mean `x`?"` when exactly one candidate is closest to `word`
/// and close enough, else `""`. Close enough means a Damerau-Levenshtein
/// distance of at most a third of the word's length (at least 1), so only
/// plausible typos get a hint.
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    let limit = (word.chars().count() / 3).max(1);
    let scored: Vec<(usize, &str)> =
        candidates.into_iter().map(|c| (strsim::damerau_levenshtein(word, c), c)).collect();
    let Some(best) = scored.iter().map(|&(d, _)| d).min().filter(|&d| d <= limit) else {
        return String::new();
    };
    // Two equally close candidates: guessing one could mislead.
    match scored.iter().filter(|&&(d, _)| d == best).collect::<Vec<_>>().as_slice() {
        [(_, only)] => format!(", did you mean `{only}`?"),
        _ => String::new(),
    }
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
        assert_eq!(did_you_mean("l3", ["l1", "l2"]), "", "a tie gives no hint");
        assert_eq!(list(&["a", "b", "c"]), "`a`, `b` or `c`");
        assert_eq!(unknown("loss", "mes", &["mse", "hinge"]), "unknown loss `mes`, did you mean `mse`?");
        assert_eq!(
            unknown("loss", "zzz", &["mse", "hinge"]),
            "unknown loss `zzz`; expected `mse` or `hinge`"
        );
    }
}
