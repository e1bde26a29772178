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
//! A memref is traced through view ops (`memref.subview`, casts, reshapes)
//! to its origin; any other origin, or two operands of one origin, leave
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
use mlir_sys::MlirOperation;
use std::collections::HashMap;

external_pass!(
    "gpu-noalias-kernel-arguments",
    "Mark the pointer arguments of kernels (llvm.func in gpu.module) noalias where every launch passes memrefs of distinct origins",
    run
);

/// Ops whose memref result views (part of) their first operand's memory.
const VIEWS: &[&str] = &[
    "memref.subview",
    "memref.cast",
    "memref.reinterpret_cast",
    "memref.collapse_shape",
    "memref.expand_shape",
    "memref.transpose",
    "memref.view",
];

/// Ops whose memref result is memory of its own.
const ALLOCATIONS: &[&str] = &["memref.alloc", "memref.alloca", "gpu.alloc"];

/// Where the memory of `value` comes from: an argument of the entry block
/// of a function, or an allocation; None when it cannot be told.
fn origin(value: Value) -> Option<(usize, isize)> {
    let mut value = value;
    loop {
        if let Ok(argument) = melior::ir::block::BlockArgument::try_from(value) {
            let block = argument.owner();
            let entry = block
                .parent_operation()
                .filter(|op| matches!(rewrite::name_of(*op).as_str(), "func.func" | "llvm.func"))?;
            // The entry block only: arguments of inner blocks (loops,
            // branches) could stand for anything.
            let first = entry.region(0).ok()?.first_block()?;
            if first != block {
                return None;
            }
            return Some((
                block.to_raw().ptr as usize,
                argument.argument_number() as isize,
            ));
        }
        let result = melior::ir::operation::OperationResult::try_from(value).ok()?;
        let producer = result.owner();
        let name = rewrite::name_of(producer);
        if VIEWS.contains(&name.as_str()) {
            value = producer.operand(0).ok()?;
        } else if ALLOCATIONS.contains(&name.as_str()) {
            return Some((
                producer.to_raw().ptr as usize,
                -1 - result.result_number() as isize,
            ));
        } else {
            return None;
        }
    }
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

/// The attribute dictionary of argument `index` in `arg_attrs` (an array
/// attribute, or null), as text.
fn argument_attributes(arg_attrs: Option<mlir_sys::MlirAttribute>, index: usize) -> String {
    arg_attrs
        .filter(|&raw| {
            // SAFETY: a live attribute of the kernel.
            unsafe {
                mlir_sys::mlirAttributeIsAArray(raw)
                    && mlir_sys::mlirArrayAttrGetNumElements(raw) as usize > index
            }
        })
        .map(|raw| {
            // SAFETY: an element of a live array attribute.
            unsafe { Attribute::from_raw(mlir_sys::mlirArrayAttrGetElement(raw, index as isize)) }
                .to_string()
        })
        .unwrap_or_else(|| "{}".to_string())
}

/// `arg_attrs` for `kernel` with `llvm.noalias` on every pointer argument,
/// keeping the attributes already there.
fn with_noalias(kernel: OperationRef) -> Option<String> {
    let entry = kernel.region(0).ok()?.first_block()?;
    let arg_attrs = kernel.attribute("arg_attrs").ok().map(|a| a.to_raw());
    let mut dictionaries = Vec::new();
    for index in 0..entry.argument_count() {
        let argument = entry.argument(index).ok()?;
        let old = argument_attributes(arg_attrs, index);
        let inner = old
            .trim()
            .trim_start_matches('{')
            .trim_end_matches('}')
            .trim();
        let mut entries: Vec<&str> = Vec::new();
        if argument.r#type().to_string().starts_with("!llvm.ptr") && !inner.contains("llvm.noalias")
        {
            entries.push("llvm.noalias");
        }
        if !inner.is_empty() {
            entries.push(inner);
        }
        dictionaries.push(format!("{{{}}}", entries.join(", ")));
    }
    Some(format!("[{}]", dictionaries.join(", ")))
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
            let Some(text) = with_noalias(kernel) else {
                continue;
            };
            // The reference borrows from the ContextRef: keep it alive.
            let context_ref = kernel.context();
            let context = unsafe { context_ref.to_ref() };
            let Some(attribute) = Attribute::parse(context, &text) else {
                continue;
            };
            // SAFETY: the live kernel; only an attribute changes.
            unsafe { OperationRefMut::from_raw(kernel_raw) }.set_attribute("arg_attrs", attribute);
        }
    }
}
