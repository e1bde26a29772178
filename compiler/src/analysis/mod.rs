//! Analyses of IR that passes share.

pub mod affine;
pub mod dependence;
pub mod index_function;
pub mod locals;
pub mod nest;
