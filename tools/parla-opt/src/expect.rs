//! `--verify-diagnostics`: `// expected-error@+1 {{text}}` comments (and
//! `expected-warning`, `expected-remark`, `expected-note`) state which
//! diagnostics a chunk must produce, as with mlir-opt. A diagnostic matches
//! when it has the same severity, points at the stated line, and contains
//! the text between the braces.

use parla_compiler::diagnostics::{Message, Severity};

#[derive(Debug)]
pub struct Expectation {
    pub severity: Severity,
    /// The line the diagnostic must point at; `None` for `@unknown`.
    pub line: Option<u32>,
    /// The line of the comment itself, for reporting.
    pub comment_line: u32,
    pub text: String,
    pub seen: bool,
}

/// Reads the expectations of one chunk (lines numbered from 1, as in the
/// padded chunk).
pub fn parse(text: &str) -> Result<Vec<Expectation>, String> {
    let mut expectations = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let comment_line = index as u32 + 1;
        let mut rest = line;
        while let Some(start) = rest.find("expected-") {
            rest = &rest[start + "expected-".len()..];
            let (severity, after) = if let Some(r) = rest.strip_prefix("error") {
                (Severity::Error, r)
            } else if let Some(r) = rest.strip_prefix("warning") {
                (Severity::Warning, r)
            } else if let Some(r) = rest.strip_prefix("remark") {
                (Severity::Remark, r)
            } else if let Some(r) = rest.strip_prefix("note") {
                (Severity::Note, r)
            } else {
                continue;
            };
            let (line, after) = parse_target(after, comment_line)
                .map_err(|e| format!("line {comment_line}: {e}"))?;
            let after = after.trim_start();
            let Some(body) = after.strip_prefix("{{") else {
                return Err(format!(
                    "line {comment_line}: expected '{{{{' after the expected-{} directive",
                    severity.word()
                ));
            };
            let Some(end) = body.find("}}") else {
                return Err(format!(
                    "line {comment_line}: missing '}}}}' after the expected text"
                ));
            };
            expectations.push(Expectation {
                severity,
                line,
                comment_line,
                text: body[..end].to_string(),
                seen: false,
            });
            rest = &body[end + 2..];
        }
    }
    Ok(expectations)
}

/// `@+N`, `@-N`, `@above`, `@below`, `@unknown`, or nothing (this line).
fn parse_target(text: &str, line: u32) -> Result<(Option<u32>, &str), String> {
    let Some(target) = text.strip_prefix('@') else {
        return Ok((Some(line), text));
    };
    let end = target
        .find(|c: char| c.is_whitespace() || c == '{')
        .unwrap_or(target.len());
    let (word, rest) = target.split_at(end);
    let resolved = match word {
        "unknown" => None,
        "above" => Some(line - 1),
        "below" => Some(line + 1),
        _ => {
            let offset: i64 = word
                .parse()
                .map_err(|_| format!("invalid diagnostic target '@{word}'"))?;
            let target = line as i64 + offset;
            if target < 1 {
                return Err(format!(
                    "diagnostic target '@{word}' is before the first line"
                ));
            }
            Some(target as u32)
        }
    };
    Ok((resolved, rest))
}

/// Matches the diagnostics of a chunk against its expectations; returns
/// the problems (unexpected diagnostics, expectations not met) as messages
/// to print.
pub fn check(file: &str, expectations: &mut [Expectation], messages: &[Message]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut consider = |message: &Message, is_note: bool, problems: &mut Vec<String>| {
        let line = message.position.as_ref().map(|p| p.line);
        let found = expectations.iter_mut().find(|e| {
            !e.seen
                && e.severity == message.severity
                && e.line == line
                && message.text.contains(&e.text)
        });
        match found {
            Some(expectation) => expectation.seen = true,
            // Notes that nobody asked about (such as MLIR's "see current
            // operation") are not errors.
            None if is_note => {}
            None => problems.push(format!(
                "{}: unexpected {}: {}",
                where_(file, message),
                message.severity.word(),
                message.text
            )),
        }
    };
    for message in messages {
        consider(message, message.severity == Severity::Note, &mut problems);
        for note in &message.notes {
            consider(note, true, &mut problems);
        }
    }
    for expectation in expectations.iter().filter(|e| !e.seen) {
        problems.push(format!(
            "{file}:{}: error: expected {} \"{}\" was not produced{}",
            expectation.comment_line,
            expectation.severity.word(),
            expectation.text,
            match expectation.line {
                Some(line) => format!(" at line {line}"),
                None => " at an unknown location".into(),
            }
        ));
    }
    problems
}

fn where_(file: &str, message: &Message) -> String {
    match &message.position {
        Some(p) => format!("{}:{}:{}", p.file, p.line, p.column),
        None => format!("{file}: {}", message.location),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_targets_and_texts() {
        let text = "\n// expected-error@+1 {{bad op}}\nop\nop // expected-warning {{careful}}\n// expected-note@-3 {{here}} expected-error@unknown {{lost}}\n";
        let e = parse(text).unwrap();
        assert_eq!(e.len(), 4);
        assert_eq!(
            (e[0].severity, e[0].line, e[0].text.as_str()),
            (Severity::Error, Some(3), "bad op")
        );
        assert_eq!((e[1].severity, e[1].line), (Severity::Warning, Some(4)));
        assert_eq!((e[2].severity, e[2].line), (Severity::Note, Some(2)));
        assert_eq!((e[3].severity, e[3].line), (Severity::Error, None));
    }

    #[test]
    fn rejects_malformed_directives() {
        assert!(parse("// expected-error@+x {{a}}").is_err());
        assert!(parse("// expected-error no braces").is_err());
        assert!(parse("// expected-error {{unterminated").is_err());
    }
}
