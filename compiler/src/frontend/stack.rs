//! The stack the front end runs on.
//!
//! Its walks of a function (conversion, emission, the analyses between)
//! recurse once per level of the user's expressions, and Python accepts
//! them nested about 3000 deep (`x[i] + x[i] + ...` with as many terms):
//! more than the stack of a thread holds for frames of that size. Each
//! entry point runs on a stack of its own, big enough for all of that;
//! it is address space, committed only as far as it is used.

use std::panic::{catch_unwind, AssertUnwindSafe};

/// The size of the front end's stack.
const FRONT_END_STACK: usize = 256 << 20;

/// Runs `f` on a stack of [`FRONT_END_STACK`] bytes, on this thread; on
/// the thread's own stack where that much cannot be mapped (a limit on
/// address space or on committed memory), which ordinary code fits.
pub(crate) fn on_front_end_stack<R>(f: impl FnOnce() -> R) -> R {
    let mut f = Some(f);
    let mut result = None;
    // Only the mapping can fail before `f` runs (then `result` stays
    // None); a panic of `f` itself (a bug) goes on as it would have.
    let _ = catch_unwind(AssertUnwindSafe(|| {
        stacker::grow(FRONT_END_STACK, || {
            result = Some(catch_unwind(AssertUnwindSafe(|| {
                (f.take().expect("runs once"))()
            })))
        })
    }));
    match result {
        Some(Ok(value)) => value,
        Some(Err(panic)) => std::panic::resume_unwind(panic),
        None => (f.take().expect("did not run"))(),
    }
}
