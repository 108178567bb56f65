//! Character-level text: a vocabulary of the distinct characters of a
//! corpus, the corpus as token ids, and windows of ids with the next id at
//! every position, the data of a character language model.

use super::{Dataset, read_maybe_gzip};
use crate::{Error, Result};
use std::path::Path;

/// A text as ids into its sorted vocabulary of characters.
#[derive(Debug, Clone, PartialEq)]
pub struct CharText {
    vocab: Vec<char>,
    ids: Vec<u32>,
}

impl CharText {
    /// The text and its vocabulary, every distinct character in order.
    ///
    /// # Example
    /// ```
    /// let text = chainrule::data::CharText::new("abba!");
    /// assert_eq!(text.vocab(), ['!', 'a', 'b']);
    /// assert_eq!(text.ids(), [1, 2, 2, 1, 0]);
    /// assert_eq!(text.decode(&[2, 1]), "ba");
    /// ```
    pub fn new(text: &str) -> Self {
        let mut vocab: Vec<char> = text.chars().collect();
        vocab.sort_unstable();
        vocab.dedup();
        let ids = text.chars().map(|c| vocab.binary_search(&c).unwrap_or_default() as u32).collect();
        Self { vocab, ids }
    }

    /// Reads a UTF-8 text file, plain or gzip-compressed.
    pub fn read(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let bytes = read_maybe_gzip(path)?;
        let text = std::str::from_utf8(&bytes).map_err(|e| Error::Malformed {
            path: path.to_owned(),
            line: 1 + bytes[..e.valid_up_to()].iter().filter(|&&b| b == b'\n').count(),
            message: format!("not UTF-8 text: {e}"),
        })?;
        Ok(Self::new(text))
    }

    /// The distinct characters, sorted; a character's id is its index.
    pub fn vocab(&self) -> &[char] {
        &self.vocab
    }

    /// The whole text as ids.
    pub fn ids(&self) -> &[u32] {
        &self.ids
    }

    /// The characters of `ids`; an id outside the vocabulary reads as
    /// U+FFFD, the replacement character.
    pub fn decode(&self, ids: &[u32]) -> String {
        ids.iter().map(|&id| self.vocab.get(id as usize).copied().unwrap_or('\u{fffd}')).collect()
    }

    /// The ids of `text`, or the first character not in the vocabulary.
    pub fn encode(&self, text: &str) -> std::result::Result<Vec<u32>, char> {
        text.chars().map(|c| self.vocab.binary_search(&c).map(|id| id as u32).map_err(|_| c)).collect()
    }
}

/// Windows of `T` ids starting at each of `starts`, each with the id that
/// follows every position as its target: what a language model learns to
/// predict. A window needs `T + 1` ids from its start: one that runs past
/// the end of `ids` is an error.
///
/// # Example
/// ```
/// let data = chainrule::data::next_token_windows::<3>(&[5, 6, 7, 8, 9], [0, 1]).unwrap();
/// assert_eq!(data.inputs(), [[5, 6, 7], [6, 7, 8]]);
/// assert_eq!(data.targets(), [[6, 7, 8], [7, 8, 9]]);
/// ```
pub fn next_token_windows<const T: usize>(
    ids: &[u32],
    starts: impl IntoIterator<Item = usize>,
) -> Result<Dataset<[u32; T], [usize; T]>> {
    let (mut inputs, mut targets) = (Vec::new(), Vec::new());
    for start in starts {
        let Some(window) = start.checked_add(T + 1).and_then(|end| ids.get(start..end)) else {
            return Err(Error::Dataset(format!(
                "a window of {T} ids and its next one from position {start} runs past the end of {} ids",
                ids.len()
            )));
        };
        inputs.push(std::array::from_fn(|k| window[k]));
        targets.push(std::array::from_fn(|k| window[k + 1] as usize));
    }
    Dataset::new(inputs, targets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_round_trips_and_names_an_unknown_character() {
        let text = CharText::new("to be, or not");
        let ids = text.encode("not to be").unwrap();
        assert_eq!(text.decode(&ids), "not to be");
        assert_eq!(text.encode("bee?"), Err('?'));
        assert_eq!(text.decode(&[99]), "\u{fffd}");
    }

    #[test]
    fn a_file_that_is_not_utf8_is_an_error_with_its_line() {
        let path = std::env::temp_dir().join(format!("chainrule-text-{}.txt", std::process::id()));
        std::fs::write(&path, b"fine\nalso fine\nbad \xff byte\n").unwrap();
        let error = CharText::read(&path).unwrap_err();
        std::fs::remove_file(&path).unwrap();
        assert!(matches!(error, Error::Malformed { line: 3, .. }), "{error}");
    }

    #[test]
    fn a_window_past_the_end_is_an_error() {
        assert!(next_token_windows::<4>(&[1, 2, 3, 4, 5], [0]).is_ok());
        assert!(next_token_windows::<4>(&[1, 2, 3, 4, 5], [1]).is_err());
        assert!(next_token_windows::<4>(&[1, 2, 3, 4, 5], [usize::MAX]).is_err());
    }
}
