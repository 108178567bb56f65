//! The seed an example takes as its optional second argument.

/// The second command-line argument as a seed, 42 without one; a value
/// that is not a whole number ends the program with a message.
#[allow(dead_code)]
pub fn from_args() -> u64 {
    from_args_or(42)
}

/// The second command-line argument as a seed, `default` without one.
pub fn from_args_or(default: u64) -> u64 {
    match std::env::args().nth(2).map(|s| s.parse::<u64>()) {
        None => default,
        Some(Ok(seed)) => seed,
        Some(Err(e)) => {
            eprintln!("the seed must be a whole number: {e}");
            std::process::exit(2);
        }
    }
}
