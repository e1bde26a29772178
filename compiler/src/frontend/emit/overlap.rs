//! Slice statements that read the array they write. NumPy evaluates the
//! whole right side before it assigns; the loop a slice statement becomes
//! reads and writes element by element. The two agree when every read of
//! the destination either
//! - is the destination's own slice (`x[:] = x[:] * 2`: each element reads
//!   itself before writing itself), or
//! - is not a slice (`x[:] = x[:] - x[0]`): such reads are evaluated once,
//!   before the loop, as NumPy does (`hoisted_reads`).
//!
//! A read through another slice (`x[1:] = x[:-1]`) would see elements the
//! loop already wrote: a compile error (`check_other_slices`).

use super::slices::{has_slices, operands};
use super::*;

/// The array a subscript's base names (`x`, or `d["key"]`), by the memref
/// it is bound to: two parameters given the same array (`f(a, a)`) are one.
fn array_key(emitter: &Emitter, base: &Expr) -> Option<String> {
    emitter
        .array_of(base)
        .map(|(ssa, _)| ssa)
        .ok()
        .or_else(|| array_name(base))
}

/// The name of the array a subscript's base names, as written.
fn array_name(base: &Expr) -> Option<String> {
    match &base.kind {
        ExprKind::Var(name) => Some(name.clone()),
        ExprKind::DictEntry { dict, key } => Some(format!("{dict}[\"{key}\"]")),
        _ => None,
    }
}

/// The array a subscript reads or writes, with its indices.
fn subscript<'e>(emitter: &Emitter, expr: &'e Expr) -> Option<(String, &'e [Index])> {
    match &expr.kind {
        ExprKind::Subscript { base, indices } => Some((array_key(emitter, base)?, indices)),
        _ => None,
    }
}

/// A canonical text of an index made of names, ints and arithmetic; None
/// for anything else (which then never counts as the same index).
fn index_text(expr: &Expr) -> Option<String> {
    Some(match &expr.kind {
        ExprKind::Int(i) => i.to_string(),
        ExprKind::Var(name) => name.clone(),
        ExprKind::Binary { op, lhs, rhs } => {
            format!("({} {op:?} {})", index_text(lhs)?, index_text(rhs)?)
        }
        ExprKind::Unary { op, operand } => format!("({op:?} {})", index_text(operand)?),
        _ => return None,
    })
}

fn indices_text(indices: &[Index]) -> Option<String> {
    let bound = |b: &Option<Expr>| b.as_ref().map_or(Some(String::new()), index_text);
    let parts = indices
        .iter()
        .map(|index| match index {
            Index::At(e) => index_text(e),
            Index::Slice(lower, upper, _) => Some(format!("{}:{}", bound(lower)?, bound(upper)?)),
        })
        .collect::<Option<Vec<_>>>()?;
    Some(parts.join(", "))
}

/// The expressions of a subscript's index: the index, or the slice's
/// bounds.
fn index_expressions(index: &Index) -> Vec<&Expr> {
    match index {
        Index::At(e) => vec![e],
        Index::Slice(lower, upper, _) => lower.iter().chain(upper).collect(),
    }
}

/// Every node of a value, subscripts' indices included.
fn nodes(expr: &Expr) -> Vec<&Expr> {
    let mut found = vec![expr];
    let mut at = 0;
    while at < found.len() {
        let node = found[at];
        if let ExprKind::Subscript { base, indices } = &node.kind {
            found.push(base);
            found.extend(indices.iter().flat_map(index_expressions));
        }
        found.extend(operands(node));
        at += 1;
    }
    found
}

/// Whether evaluating `value` reads an array: an element, a shape-(1,)
/// array used as a value, or a dict entry (which may be either).
pub(super) fn reads_arrays(emitter: &Emitter, value: &Expr) -> bool {
    nodes(value).iter().any(|node| match &node.kind {
        ExprKind::Subscript { .. } | ExprKind::DictEntry { .. } => true,
        ExprKind::Var(name) => matches!(emitter.lookup(name), Some(Binding::Array { .. })),
        _ => false,
    })
}

/// Whether evaluating the indices `indices` reads an array.
pub(super) fn indices_read_arrays(emitter: &Emitter, indices: &[Index]) -> bool {
    indices
        .iter()
        .flat_map(index_expressions)
        .any(|e| reads_arrays(emitter, e))
}

/// Rejects reads of the destination `target` through another slice than
/// its own.
pub(super) fn check_other_slices(emitter: &Emitter, target: &Expr, value: &Expr) -> Result<()> {
    let Some((array, written)) = subscript(emitter, target) else {
        return Ok(());
    };
    let written_text = indices_text(written);
    for node in nodes(value) {
        let Some((read_array, read)) = subscript(emitter, node) else {
            continue;
        };
        if read_array != array || !has_slices(node) {
            continue;
        }
        if written_text.is_none() || indices_text(read) != written_text {
            let ExprKind::Subscript { base, .. } = &node.kind else {
                unreachable!("a subscript")
            };
            let name = array_name(base).unwrap_or_default();
            let through = match &target.kind {
                ExprKind::Subscript { base, .. } => array_name(base)
                    .filter(|written| *written != name)
                    .map(|written| format!(" (the array `{written}` is, here)"))
                    .unwrap_or_default(),
                _ => String::new(),
            };
            return Err(emitter.error(
                node.span,
                format!(
                    "this slice statement reads `{name}`{through} through another slice than the one it writes; \
                     NumPy reads the whole right side before assigning, but the loop it becomes would read \
                     elements it has already written: copy the slice into another array first"
                ),
            ));
        }
    }
    Ok(())
}

/// The largest parts of `value` without slices that read the destination
/// `target` (`x[0]` in `x[:] = x[:] - x[0]`): evaluated once, before the
/// loop, so that they see the array as it was.
pub(super) fn hoisted_reads<'e>(
    emitter: &Emitter,
    target: &Expr,
    value: &'e Expr,
) -> Vec<&'e Expr> {
    let Some((array, _)) = subscript(emitter, target) else {
        return Vec::new();
    };
    let reads_destination = |expr: &Expr| {
        nodes(expr)
            .iter()
            .any(|n| subscript(emitter, n).is_some_and(|(a, _)| a == array))
    };
    let mut found = Vec::new();
    let mut pending = vec![value];
    while let Some(expr) = pending.pop() {
        if !reads_destination(expr) {
            continue;
        }
        if nodes(expr).iter().all(|n| !has_slices(n)) {
            found.push(expr);
        } else {
            pending.extend(operands(expr));
        }
    }
    found
}
