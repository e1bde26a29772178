//! The names by which JIT-compiled code links to the process.
//!
//! The engine resolves a module's calls against the module itself first,
//! then against the process. Two consequences:
//!
//! - A function named like a C library routine that its own code calls
//!   (a JIT function `exp` whose body computes `np.exp`, where LLVM lowers
//!   `llvm.intr.exp` to a call of `exp`) would call itself. So the entry
//!   function is renamed, before lowering, to a name no C symbol can have
//!   (it contains a dot): [`reserve_entry_symbol`].
//! - Routines of the compiler runtime that LLVM calls for operations with
//!   no instruction (128-bit division, which it forms for closed-form sums
//!   of stepped loops) are linked into this library but not exported from
//!   it, so the engine is given them: [`compiler_runtime_symbols`].

use crate::passes::rewrite;
use melior::{
    ir::{
        attribute::StringAttribute,
        operation::{OperationMutLike, OperationRefMut},
        Module,
    },
    StringRef,
};
use std::ffi::c_void;

/// The prefix of reserved entry names.
const ENTRY_PREFIX: &str = "parla.entry.";

/// The reserved name of entry function `entry`.
pub fn reserved_entry_name(entry: &str) -> String {
    if entry.starts_with(ENTRY_PREFIX) {
        entry.to_string()
    } else {
        format!("{ENTRY_PREFIX}{entry}")
    }
}

/// Renames the top-level function `entry` of `module` (and every use of
/// it) to its reserved name, which is returned. A module already lowered
/// from one with the reserved name (edited `llvm`-stage text) keeps it;
/// a module without `entry` is left as it is, and the later lookup reports
/// the missing function under its reserved name.
pub fn reserve_entry_symbol(module: &Module, entry: &str) -> String {
    let reserved = reserved_entry_name(entry);
    if reserved == entry || rewrite::named_in(module.body(), &reserved).next().is_some() {
        return reserved;
    }
    let Some(function) = rewrite::named_in(module.body(), entry).next() else {
        return reserved;
    };
    // SAFETY: a live top-level op; only its symbol attribute changes.
    let mut function = unsafe { OperationRefMut::from_raw(function.to_raw()) };
    let old = StringRef::new(entry);
    let new = StringRef::new(&reserved);
    // SAFETY: the module and the names are alive for the call. It fails
    // only for uses in unknown (unregistered) operations, which a parsed
    // and verified module does not have.
    unsafe {
        mlir_sys::mlirSymbolTableReplaceAllSymbolUses(
            old.to_raw(),
            new.to_raw(),
            module.as_operation().to_raw(),
        )
    };
    let context = module.context();
    // SAFETY: the context outlives the module.
    let context = unsafe { context.to_ref() };
    function.set_attribute("sym_name", StringAttribute::new(context, &reserved).into());
    reserved
}

/// Compiler runtime routines the engine binds by name (see the module's
/// documentation). Division by zero, which the routines leave undefined,
/// gives 0 here rather than a trap, as the code's own integer division does.
pub fn compiler_runtime_symbols() -> [(&'static str, *mut c_void); 4] {
    extern "C" fn udivti3(a: u128, b: u128) -> u128 {
        a.checked_div(b).unwrap_or(0)
    }
    extern "C" fn umodti3(a: u128, b: u128) -> u128 {
        a.checked_rem(b).unwrap_or(0)
    }
    extern "C" fn divti3(a: i128, b: i128) -> i128 {
        if b == 0 {
            0
        } else {
            a.wrapping_div(b)
        }
    }
    extern "C" fn modti3(a: i128, b: i128) -> i128 {
        if b == 0 {
            0
        } else {
            a.wrapping_rem(b)
        }
    }
    [
        ("__udivti3", udivti3 as *mut c_void),
        ("__umodti3", umodti3 as *mut c_void),
        ("__divti3", divti3 as *mut c_void),
        ("__modti3", modti3 as *mut c_void),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_names_cannot_be_c_symbols_and_are_not_prefixed_twice() {
        let reserved = reserved_entry_name("exp");
        assert_eq!(reserved, "parla.entry.exp");
        assert!(reserved.contains('.'));
        assert_eq!(reserved_entry_name(&reserved), reserved);
    }

    #[test]
    fn the_division_routines_divide_128_bit_integers() {
        type Binary<T> = extern "C" fn(T, T) -> T;
        let routines = compiler_runtime_symbols();
        // SAFETY: each address is the function of that name above.
        let unsigned =
            |i: usize| unsafe { std::mem::transmute::<*mut c_void, Binary<u128>>(routines[i].1) };
        let signed =
            |i: usize| unsafe { std::mem::transmute::<*mut c_void, Binary<i128>>(routines[i].1) };
        let big = (1u128 << 100) + 12345;
        assert_eq!(unsigned(0)(big, 7), big / 7);
        assert_eq!(unsigned(1)(big, 7), big % 7);
        assert_eq!(signed(2)(-(big as i128), 7), -(big as i128) / 7);
        assert_eq!(signed(3)(-(big as i128), 7), -(big as i128) % 7);
        assert_eq!(unsigned(0)(big, 0), 0);
        assert_eq!(signed(2)(i128::MIN, -1), i128::MIN);
    }
}
