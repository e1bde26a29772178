//! Array accesses, with bounds checks under `debug=True`.

use super::*;

impl<'a> Emitter<'a> {
    /// With `debug`, the i1 "in bounds" of each index of an access (none
    /// without `debug`).
    pub(super) fn bounds_checks(&mut self, info: &ArrayInfo, at: &[String]) -> Vec<String> {
        if !self.debug {
            return Vec::new();
        }
        self.index_checks(info, at)
    }

    /// The i1 "in bounds" of each index of an access.
    pub(super) fn index_checks(&mut self, info: &ArrayInfo, at: &[String]) -> Vec<String> {
        let mut checks = Vec::new();
        for (index, size) in at.iter().zip(&info.shape) {
            let bound = self.op(&format!("arith.constant {size} : index"));
            // Unsigned: a negative index is out of bounds too.
            checks.push(self.op(&format!("arith.cmpi ult, {index}, {bound} : index")));
        }
        checks
    }

    /// The i1 "every check holds" and what reports a failure at `span`;
    /// `None` when there is nothing to check.
    pub(super) fn all_checks(
        &mut self,
        checks: &[String],
        span: Span,
    ) -> Option<(String, Failure)> {
        let (shapes, bounds): (Vec<&String>, Vec<&String>) =
            checks.iter().partition(|c| self.shape_checks.contains(*c));
        let ok = self.conjunction(checks)?;
        let failure = match (self.conjunction(shapes), bounds.is_empty()) {
            (None, _) => Failure::Code(self.check_site(span, CheckKind::Bounds)),
            (Some(_), true) => Failure::Code(self.check_site(span, CheckKind::ShapeMismatch)),
            // Extents that differ come first: the bounds checks fail too
            // when a shorter slice is read as far as the longer one.
            (Some(shapes_ok), false) => Failure::Chosen {
                shapes_ok,
                bounds: self.check_site(span, CheckKind::Bounds),
                shapes: self.check_site(span, CheckKind::ShapeMismatch),
            },
        };
        Some((ok, failure))
    }

    /// The i1 "all of `checks` hold"; `None` for no checks.
    fn conjunction<S: AsRef<str>>(
        &mut self,
        checks: impl IntoIterator<Item = S>,
    ) -> Option<String> {
        let mut checks = checks.into_iter();
        let mut ok = checks.next()?.as_ref().to_string();
        for check in checks {
            ok = self.op(&format!("arith.andi {ok}, {} : i1", check.as_ref()));
        }
        Some(ok)
    }

    /// Emits `text` (an op without results) guarded by `checks`: when one
    /// fails, the op is skipped and the failure reported at `span`.
    pub(super) fn checked(&mut self, checks: &[String], span: Span, text: &str) {
        let Some((ok, failure)) = self.all_checks(checks, span) else {
            self.line(text);
            return;
        };
        self.line(&format!("scf.if {ok} {{"));
        self.indent += 1;
        self.line(text);
        self.indent -= 1;
        self.line("} else {");
        self.indent += 1;
        self.report_failure(&failure);
        self.indent -= 1;
        self.line("}");
    }

    /// Registers a check of `kind` at `span`; returns its code.
    pub(super) fn check_site(&mut self, span: Span, kind: CheckKind) -> usize {
        let source = self.source();
        self.checks.push(CheckSite {
            file: source.file.clone(),
            line: span.line,
            column: span.column,
            source_line: source
                .lines
                .get(span.line.saturating_sub(1) as usize)
                .cloned()
                .unwrap_or_default(),
            kind,
        });
        self.checks.len()
    }

    pub(super) fn report_failed_check(&mut self, code: usize) {
        self.report_failure(&Failure::Code(code));
    }

    /// Stores the code of `failure` into the error word.
    pub(super) fn report_failure(&mut self, failure: &Failure) {
        let value = match failure {
            Failure::Code(code) => self.op(&format!("arith.constant {code} : i64")),
            Failure::Chosen {
                shapes_ok,
                bounds,
                shapes,
            } => {
                let bounds = self.op(&format!("arith.constant {bounds} : i64"));
                let shapes = self.op(&format!("arith.constant {shapes} : i64"));
                self.op(&format!(
                    "arith.select {shapes_ok}, {bounds}, {shapes} : i64"
                ))
            }
        };
        let zero = self.op("arith.constant 0 : index");
        self.line(&format!(
            "memref.store {value}, %err[{zero}] {{parla.error_report}} : memref<1xi64>"
        ));
    }

    /// `memref.load`, guarded by a bounds check with `debug`.
    pub(super) fn load(
        &mut self,
        array: &str,
        info: &ArrayInfo,
        at: &[String],
        span: Span,
    ) -> String {
        let load = format!("memref.load {array}[{}] : {}", at.join(", "), info.memref());
        let checks = self.bounds_checks(info, at);
        match self.all_checks(&checks, span) {
            None => self.op(&load),
            Some((ok, failure)) => {
                let element = info.dtype.storage();
                let result = self.fresh();
                self.line(&format!("{result} = scf.if {ok} -> ({element}) {{"));
                self.indent += 1;
                let loaded = self.op(&load);
                self.line(&format!("scf.yield {loaded} : {element}"));
                self.indent -= 1;
                self.line("} else {");
                self.indent += 1;
                self.report_failure(&failure);
                let zero = if info.dtype.is_float() {
                    self.op(&format!(
                        "arith.constant {} : {element}",
                        float_bits(0.0, info.dtype)
                    ))
                } else {
                    self.op(&format!("arith.constant 0 : {element}"))
                };
                self.line(&format!("scf.yield {zero} : {element}"));
                self.indent -= 1;
                self.line("}");
                result
            }
        }
    }

    /// A store (or other access with no result) guarded with `debug`.
    pub(super) fn guarded(&mut self, text: &str, info: &ArrayInfo, at: &[String], span: Span) {
        let text = format!("{text}{}", self.location(span));
        let checks = self.bounds_checks(info, at);
        self.checked(&checks, span, &text);
    }
}
