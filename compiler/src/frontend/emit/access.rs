//! Array accesses, with bounds checks under `debug=True`.

use super::*;

impl<'a> Emitter<'a> {
    /// With `debug`, the i1 "every index is in bounds" of an access, and
    /// the code that reports it.
    pub(super) fn check_bounds(
        &mut self,
        info: &ArrayInfo,
        at: &[String],
        span: Span,
    ) -> Option<(String, usize)> {
        if !self.debug {
            return None;
        }
        let mut ok: Option<String> = None;
        for (index, size) in at.iter().zip(&info.shape) {
            let bound = self.op(&format!("arith.constant {size} : index"));
            // Unsigned: a negative index is out of bounds too.
            let inside = self.op(&format!("arith.cmpi ult, {index}, {bound} : index"));
            ok = Some(match ok {
                None => inside,
                Some(previous) => self.op(&format!("arith.andi {previous}, {inside} : i1")),
            });
        }
        let code = self.check_site(span);
        ok.map(|ok| (ok, code))
    }

    /// Registers a check at `span`; returns its code.
    pub(super) fn check_site(&mut self, span: Span) -> usize {
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
        });
        self.checks.len()
    }

    pub(super) fn report_failed_check(&mut self, code: usize) {
        let value = self.op(&format!("arith.constant {code} : i64"));
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
        match self.check_bounds(info, at, span) {
            None => self.op(&load),
            Some((ok, code)) => {
                let element = info.dtype.storage();
                let result = self.fresh();
                self.line(&format!("{result} = scf.if {ok} -> ({element}) {{"));
                self.indent += 1;
                let loaded = self.op(&load);
                self.line(&format!("scf.yield {loaded} : {element}"));
                self.indent -= 1;
                self.line("} else {");
                self.indent += 1;
                self.report_failed_check(code);
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
        let text = text.as_str();
        match self.check_bounds(info, at, span) {
            None => self.line(text),
            Some((ok, code)) => {
                self.line(&format!("scf.if {ok} {{"));
                self.indent += 1;
                self.line(text);
                self.indent -= 1;
                self.line("} else {");
                self.indent += 1;
                self.report_failed_check(code);
                self.indent -= 1;
                self.line("}");
            }
        }
    }
}
