//! What an example's `main` returns when it fails. Rust prints a `main`
//! error with `Debug`, which for an error enum is its fields
//! (`Io { path: .., source: Os { code: 2, .. } }`); this prints the
//! message and its causes as sentences instead.

use std::error::Error;
use std::fmt;

pub struct Failure(Box<dyn Error>);

impl<E: Error + 'static> From<E> for Failure {
    fn from(e: E) -> Self {
        Self(Box::new(e))
    }
}

impl fmt::Debug for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let message = self.0.to_string();
        write!(f, "{message}")?;
        let mut cause = self.0.source();
        while let Some(c) = cause {
            // Many messages already end with their cause's words.
            let text = c.to_string();
            if !message.contains(&text) {
                write!(f, "\n  because: {text}")?;
            }
            cause = c.source();
        }
        Ok(())
    }
}
