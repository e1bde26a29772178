//! `gpu-noalias-kernel-arguments`: marks the pointer arguments of a kernel
//! (an `llvm.func` in a `gpu.module`, after `convert-gpu-to-nvvm` or
//! `-rocdl`) `llvm.noalias` when every launch of it passes memrefs of
//! distinct origins: distinct arguments of the host function, or distinct
//! allocations.
//!
//! The front end makes distinct array parameters safe to mark: a call
//! refuses views that share memory where the function writes one, and
//! compiles the very same array passed twice as one parameter. LLVM may
//! then move a thread's loads of later iterations above its earlier stores
//! (the unrolled grid-stride loops of `looppar-to-gpu`), which is what puts
//! enough loads in flight to reach a GPU's memory bandwidth. Code that
//! did not come from the front end (edited IR) does not run this pass.
//!
//! A memref is traced through view ops (`memref.subview`, casts, reshapes:
//! `rewrite::memref_root`) to its origin; any other origin, or two operands of one origin, leave
//! the kernel unmarked.

use super::rewrite;
use melior::{
    ir::{
        attribute::AttributeLike,
        operation::{OperationLike, OperationMutLike, OperationRef, OperationRefMut},
        Attribute, BlockLike, RegionLike, TypeLike, Value, ValueLike,
    },
    pass::ExternalPass,
};
use mlir_sys::{MlirAttribute, MlirNamedAttribute, MlirOperation};
use std::collections::HashMap;

external_pass!(
    "gpu-noalias-kernel-arguments",
    "Mark the pointer arguments of kernels (llvm.func in gpu.module) noalias where every launch passes memrefs of distinct origins",
    run
);

/// Ops whose memref result is memory of its own.
const ALLOCATIONS: &[&str] = &["memref.alloc", "memref.alloca", "gpu.alloc"];

/// Where the memory of `value` comes from (through view ops,
/// `rewrite::memref_root`): an argument of the entry block of a function,
/// or an allocation; None when it cannot be told.
fn origin(value: Value) -> Option<(usize, isize)> {
    let root = rewrite::memref_root(value)?;
    if let Some(argument) = parla_dialects::values::block_argument(root) {
        let block = argument.owner();
        let function = block
            .parent_operation()
            .filter(|op| matches!(rewrite::name_of(*op).as_str(), "func.func" | "llvm.func"))?;
        // The entry block only: arguments of inner blocks (loops, branches)
        // could stand for anything.
        if function.region(0).ok()?.first_block()? != block {
            return None;
        }
        return Some((
            block.to_raw().ptr as usize,
            argument.argument_number() as isize,
        ));
    }
    let result = parla_dialects::values::op_result(root)?;
    let producer = result.owner();
    ALLOCATIONS
        .contains(&rewrite::name_of(producer).as_str())
        .then(|| {
            (
                producer.to_raw().ptr as usize,
                -1 - result.result_number() as isize,
            )
        })
}

/// Whether the memref operands of `launch` (a `gpu.launch_func`) all have
/// known and distinct origins.
fn disjoint_memrefs(launch: OperationRef) -> bool {
    let mut seen = Vec::new();
    for operand in launch.operands() {
        if !operand.r#type().is_mem_ref() {
            continue;
        }
        match origin(operand) {
            Some(found) if !seen.contains(&found) => seen.push(found),
            _ => return false,
        }
    }
    true
}

/// The (module, kernel) a `gpu.launch_func` names.
fn kernel_of(launch: OperationRef) -> Option<(String, String)> {
    let attribute = launch.attribute("kernel").ok()?;
    let raw = attribute.to_raw();
    // SAFETY: reading the references of a live symbol reference attribute.
    unsafe {
        if !mlir_sys::mlirAttributeIsASymbolRef(raw) {
            return None;
        }
        let text = |s: mlir_sys::MlirStringRef| {
            std::str::from_utf8(std::slice::from_raw_parts(s.data.cast::<u8>(), s.length))
                .ok()
                .map(str::to_string)
        };
        let module = text(mlir_sys::mlirSymbolRefAttrGetRootReference(raw))?;
        let kernel = text(mlir_sys::mlirSymbolRefAttrGetLeafReference(raw))?;
        Some((module, kernel))
    }
}

/// The entries of argument `index`'s dictionary in `arg_attrs` (an array
/// attribute of dictionaries, if the kernel has one).
fn argument_entries(arg_attrs: Option<MlirAttribute>, index: usize) -> Vec<MlirNamedAttribute> {
    let Some(array) = arg_attrs else {
        return Vec::new();
    };
    // SAFETY: reading a live attribute of the kernel.
    unsafe {
        if !mlir_sys::mlirAttributeIsAArray(array)
            || mlir_sys::mlirArrayAttrGetNumElements(array) as usize <= index
        {
            return Vec::new();
        }
        let dictionary = mlir_sys::mlirArrayAttrGetElement(array, index as isize);
        if !mlir_sys::mlirAttributeIsADictionary(dictionary) {
            return Vec::new();
        }
        (0..mlir_sys::mlirDictionaryAttrGetNumElements(dictionary))
            .map(|i| mlir_sys::mlirDictionaryAttrGetElement(dictionary, i))
            .collect()
    }
}

/// Whether `entry` is named `name`.
fn is_named(entry: &MlirNamedAttribute, name: &str) -> bool {
    // SAFETY: an identifier of a live attribute.
    let text = unsafe { mlir_sys::mlirIdentifierStr(entry.name) };
    // SAFETY: the identifier's characters, alive with the context.
    let bytes = unsafe { std::slice::from_raw_parts(text.data.cast::<u8>(), text.length) };
    bytes == name.as_bytes()
}

/// `arg_attrs` for `kernel` with `llvm.noalias` on every pointer argument,
/// the attributes already there kept.
fn with_noalias(kernel: OperationRef) -> Option<MlirAttribute> {
    let entry = kernel.region(0).ok()?.first_block()?;
    let arg_attrs = kernel.attribute("arg_attrs").ok().map(|a| a.to_raw());
    // SAFETY: building attributes in the kernel's live context.
    unsafe {
        let context = mlir_sys::mlirOperationGetContext(kernel.to_raw());
        let name = "llvm.noalias";
        let noalias = mlir_sys::mlirNamedAttributeGet(
            mlir_sys::mlirIdentifierGet(
                context,
                mlir_sys::MlirStringRef {
                    data: name.as_ptr().cast(),
                    length: name.len(),
                },
            ),
            mlir_sys::mlirUnitAttrGet(context),
        );
        let mut dictionaries = Vec::new();
        for index in 0..entry.argument_count() {
            let argument = entry.argument(index).ok()?;
            let mut entries = argument_entries(arg_attrs, index);
            if mlir_sys::mlirTypeIsALLVMPointerType(argument.r#type().to_raw())
                && !entries.iter().any(|e| is_named(e, name))
            {
                entries.push(noalias);
            }
            dictionaries.push(mlir_sys::mlirDictionaryAttrGet(
                context,
                entries.len() as isize,
                entries.as_ptr(),
            ));
        }
        Some(mlir_sys::mlirArrayAttrGet(
            context,
            dictionaries.len() as isize,
            dictionaries.as_ptr(),
        ))
    }
}

fn run(root: OperationRef, _pass: ExternalPass) {
    // Whether every launch of a kernel passes disjoint memrefs.
    let mut disjoint: HashMap<(String, String), bool> = HashMap::new();
    for raw in rewrite::collect(root, "gpu.launch_func") {
        // SAFETY: collected from the live IR.
        let launch = unsafe { rewrite::view(raw) };
        let Some(kernel) = kernel_of(launch) else {
            continue;
        };
        let ok = disjoint_memrefs(launch);
        *disjoint.entry(kernel).or_insert(true) &= ok;
    }
    let modules: Vec<MlirOperation> = rewrite::collect(root, "gpu.module");
    for module_raw in modules {
        // SAFETY: collected from the live IR.
        let module = unsafe { rewrite::view(module_raw) };
        let Some(module_name) = rewrite::string_attribute(module, "sym_name") else {
            continue;
        };
        for kernel_raw in rewrite::collect(module, "llvm.func") {
            let kernel = unsafe { rewrite::view(kernel_raw) };
            let Some(name) = rewrite::string_attribute(kernel, "sym_name") else {
                continue;
            };
            if disjoint.get(&(module_name.clone(), name)) != Some(&true) {
                continue;
            }
            let Some(attribute) = with_noalias(kernel) else {
                continue;
            };
            // SAFETY: the live kernel; only an attribute changes, to one
            // built in its context.
            unsafe {
                OperationRefMut::from_raw(kernel_raw)
                    .set_attribute("arg_attrs", Attribute::from_raw(attribute));
            }
        }
    }
}
