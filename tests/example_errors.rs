//! The examples' `main` reports a failure in words, with its causes, not
//! as the error's debug form.

#[path = "../examples/shared/failure.rs"]
mod failure;

use std::error::Error;
use std::fmt;

#[derive(Debug)]
struct Outer(std::io::Error);

impl fmt::Display for Outer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the model could not be saved")
    }
}

impl Error for Outer {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.0)
    }
}

#[test]
fn failures_read_as_sentences_with_their_causes() {
    let missing = chainrule::data::read_csv("/nonexistent/digits.csv", 0).unwrap_err();
    let shown = format!("{:?}", failure::Failure::from(missing));
    assert!(shown.starts_with("cannot read /nonexistent/digits.csv: "), "{shown}");
    assert!(
        !shown.contains("Os {") && !shown.contains("because"),
        "the cause is in the message once: {shown}"
    );
    let denied = std::io::Error::new(std::io::ErrorKind::PermissionDenied, "permission denied");
    let shown = format!("{:?}", failure::Failure::from(Outer(denied)));
    assert_eq!(shown, "the model could not be saved\n  because: permission denied");
}
