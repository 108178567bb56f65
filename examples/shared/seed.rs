//! The seed an example takes as its optional second argument.

/// The second command-line argument as a seed, 42 without one; a value
/// that is not a whole number ends the program with a message.
pub fn from_args() -> u64 {
    match std::env::args().nth(2).map(|s| s.parse::<u64>()) {
        None => 42,
        Some(Ok(seed)) => seed,
        Some(Err(e)) => {
            eprintln!("the seed must be a whole number: {e}");
            std::process::exit(2);
        }
    }
}
