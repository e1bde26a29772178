//! Runtime configuration read from the environment.

use thiserror::Error;

/// The environment variable that sets the number of CPU workers.
pub const NUM_THREADS_VAR: &str = "PARLA_NUM_THREADS";

/// A configuration value that cannot be used.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("{NUM_THREADS_VAR} must be a positive whole number of worker threads, got {0:?}")]
    NumThreads(String),
}

/// The number of CPU worker threads: `PARLA_NUM_THREADS` when set, else
/// the number of cores available to this process. This one pool serves
/// both tasks and the chunks of parallel loops.
pub fn worker_count() -> Result<usize, ConfigError> {
    worker_count_from(std::env::var(NUM_THREADS_VAR).ok().as_deref())
}

/// [`worker_count`] for a given value of `PARLA_NUM_THREADS`.
pub fn worker_count_from(value: Option<&str>) -> Result<usize, ConfigError> {
    match value {
        None => Ok(std::thread::available_parallelism().map_or(1, |n| n.get())),
        Some(text) => match text.trim().parse::<usize>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(ConfigError::NumThreads(text.to_string())),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_worker_count() {
        assert_eq!(worker_count_from(Some("3")), Ok(3));
        assert_eq!(worker_count_from(Some(" 8 ")), Ok(8));
        assert!(worker_count_from(None).unwrap() >= 1);
    }

    #[test]
    fn rejects_unusable_counts() {
        for bad in ["0", "-2", "two", "", "1.5"] {
            assert_eq!(
                worker_count_from(Some(bad)),
                Err(ConfigError::NumThreads(bad.to_string())),
                "{bad}"
            );
        }
    }
}
