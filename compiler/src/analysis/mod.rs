//! Analyses of IR that passes share.

pub mod affine;
