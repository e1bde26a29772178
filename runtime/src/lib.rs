//! The runtime: one pool of CPU workers, devices, scheduling and data
//! movement.
//!
//! Architecture invariants: the runtime never builds IR (it receives
//! compiled artifacts from the compiler), and it knows nothing of Python.

pub mod config;

pub use config::{worker_count, ConfigError};
