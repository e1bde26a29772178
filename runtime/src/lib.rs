//! The runtime: one pool of CPU workers that runs tasks as their
//! dependencies finish and their resources free up, on the devices of
//! their placement.
//!
//! Architecture invariants: the runtime never builds IR (it receives
//! compiled artifacts from the compiler), and it knows nothing of Python:
//! the Python layer plugs in through [`ExecutionScope`] and [`Body`].
//!
//! ```
//! use parla_runtime::{Runtime, RuntimeConfig, TaskBuilder, WaitStatus};
//! use std::sync::{Arc, atomic::{AtomicUsize, Ordering}};
//!
//! let runtime = Runtime::new(RuntimeConfig { workers: 2, ..Default::default() }).unwrap();
//! let count = Arc::new(AtomicUsize::new(0));
//! let c = count.clone();
//! let first = runtime.spawn(TaskBuilder::new(move || { c.fetch_add(1, Ordering::SeqCst); })).unwrap();
//! let c = count.clone();
//! runtime.spawn(TaskBuilder::new(move || { c.fetch_add(10, Ordering::SeqCst); }).after(&[first])).unwrap();
//! assert!(matches!(runtime.wait(None), WaitStatus::Finished));
//! assert_eq!(count.load(Ordering::SeqCst), 11);
//! ```

pub mod config;
pub mod cuda;
pub mod device;
pub mod gpu;
#[cfg(feature = "rocm")]
pub mod hip;
pub mod launch;
pub mod parallel;
mod scheduler;
pub mod staging;
mod task;
pub mod trace;

pub use config::{worker_count, ConfigError};
pub use scheduler::{
    join_detached_workers, ExecutionScope, Runtime, RuntimeConfig, SpawnError, StuckTask,
    TaskBuilder, WaitCycles, WaitStatus, DEFAULT_WORKER_STACK,
};
pub use task::{Body, Outcome, RunContext, Step, TaskHandle};
pub use trace::Trace;
