//! The stack the front end runs on.
//!
//! Its walks of a function (conversion, emission, the analyses between)
//! recurse once per level of the user's expressions, and Python accepts
//! them nested about 3000 deep (`x[i] + x[i] + ...` with as many terms):
//! more than the stack of a thread holds for frames of that size. Each
//! entry point runs on a stack of its own, big enough for all of that;
//! it is address space, committed only as far as it is used.

/// The size of the front end's stack.
const FRONT_END_STACK: usize = 256 << 20;

/// Runs `f` on a stack of [`FRONT_END_STACK`] bytes, on this thread.
pub(crate) fn on_front_end_stack<R>(f: impl FnOnce() -> R) -> R {
    stacker::grow(FRONT_END_STACK, f)
}
