//! Tracing: one slice per run of a task on a worker, and the dependency
//! edges between tasks, written as a Chrome trace-event file (opens in
//! Perfetto and chrome://tracing).

use std::{collections::HashMap, fmt::Write as _, sync::Mutex, time::Instant};

#[derive(Debug, Clone, Copy)]
struct Slice {
    task: u64,
    worker: usize,
    /// Microseconds since the trace began.
    start: f64,
    end: f64,
}

pub(crate) struct TraceSink {
    epoch: Instant,
    slices: Mutex<Vec<Slice>>,
    edges: Mutex<Vec<(u64, u64)>>,
    names: Mutex<HashMap<u64, String>>,
}

impl TraceSink {
    pub fn new() -> Self {
        Self {
            epoch: Instant::now(),
            slices: Mutex::new(Vec::new()),
            edges: Mutex::new(Vec::new()),
            names: Mutex::new(HashMap::new()),
        }
    }

    pub fn slice(&self, task: u64, worker: usize, start: Instant, end: Instant) {
        let at = |t: Instant| t.duration_since(self.epoch).as_secs_f64() * 1e6;
        let slice = Slice {
            task,
            worker,
            start: at(start),
            end: at(end),
        };
        self.slices
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(slice);
    }

    /// `task` runs after each of `dependencies`.
    pub fn edges(&self, task: u64, dependencies: impl Iterator<Item = u64>) {
        let mut edges = self.edges.lock().unwrap_or_else(|e| e.into_inner());
        edges.extend(dependencies.map(|d| (d, task)));
    }

    pub fn name(&self, task: u64, name: &str) {
        self.names
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(task, name.to_string());
    }

    pub fn take(&self) -> Trace {
        Trace {
            slices: std::mem::take(&mut self.slices.lock().unwrap_or_else(|e| e.into_inner())),
            edges: std::mem::take(&mut self.edges.lock().unwrap_or_else(|e| e.into_inner())),
            names: std::mem::take(&mut self.names.lock().unwrap_or_else(|e| e.into_inner())),
        }
    }
}

/// A recorded trace.
#[derive(Debug, Clone)]
pub struct Trace {
    slices: Vec<Slice>,
    edges: Vec<(u64, u64)>,
    names: HashMap<u64, String>,
}

impl Trace {
    /// How many task runs were recorded.
    pub fn slice_count(&self) -> usize {
        self.slices.len()
    }

    /// The trace in Chrome's trace-event JSON format: one track per
    /// worker, one complete event per task run, a flow arrow per
    /// dependency whose both ends ran.
    pub fn to_chrome_json(&self) -> String {
        let mut out = String::from("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n");
        let mut first = true;
        let mut event = |out: &mut String, text: String| {
            if !first {
                out.push_str(",\n");
            }
            first = false;
            out.push_str(&text);
        };
        let mut workers: Vec<usize> = self.slices.iter().map(|s| s.worker).collect();
        workers.sort_unstable();
        workers.dedup();
        event(
            &mut out,
            "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1,\"args\":{\"name\":\"parla\"}}"
                .into(),
        );
        for worker in &workers {
            event(
                &mut out,
                format!(
                    "{{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":{worker},\"args\":{{\"name\":\"worker {worker}\"}}}}"
                ),
            );
        }
        // First and last run of each task, for the arrows.
        let mut span: HashMap<u64, (Slice, Slice)> = HashMap::new();
        for slice in &self.slices {
            let name = self.label(slice.task);
            event(
                &mut out,
                format!(
                    "{{\"name\":{},\"cat\":\"task\",\"ph\":\"X\",\"pid\":1,\"tid\":{},\"ts\":{:.3},\"dur\":{:.3},\"args\":{{\"task\":{}}}}}",
                    json_string(&name),
                    slice.worker,
                    slice.start,
                    (slice.end - slice.start).max(0.001),
                    slice.task
                ),
            );
            span.entry(slice.task)
                .and_modify(|(first, last)| {
                    if slice.start < first.start {
                        *first = *slice;
                    }
                    if slice.end > last.end {
                        *last = *slice;
                    }
                })
                .or_insert((*slice, *slice));
        }
        for (number, (from, to)) in self.edges.iter().enumerate() {
            let (Some((_, source)), Some((target, _))) = (span.get(from), span.get(to)) else {
                continue;
            };
            // The arrow leaves at the end of the dependency's last run and
            // arrives at the start of the dependent's first run.
            event(
                &mut out,
                format!(
                    "{{\"name\":\"dependency\",\"cat\":\"dependency\",\"ph\":\"s\",\"id\":{number},\"pid\":1,\"tid\":{},\"ts\":{:.3}}}",
                    source.worker,
                    (source.end - 0.001).max(source.start)
                ),
            );
            event(
                &mut out,
                format!(
                    "{{\"name\":\"dependency\",\"cat\":\"dependency\",\"ph\":\"f\",\"bp\":\"e\",\"id\":{number},\"pid\":1,\"tid\":{},\"ts\":{:.3}}}",
                    target.worker, target.start
                ),
            );
        }
        out.push_str("\n]}\n");
        out
    }

    fn label(&self, task: u64) -> String {
        match self.names.get(&task) {
            Some(name) => name.clone(),
            None => format!("task #{task}"),
        }
    }
}

fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_names() {
        assert_eq!(json_string("a\"b\\c\n"), "\"a\\\"b\\\\c\\n\"");
    }
}
