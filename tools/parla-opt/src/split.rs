//! `--split-input-file`: chunks separated by `// -----` lines.

/// One chunk, padded with empty lines so that its line numbers are those
/// of the whole file.
pub struct Chunk {
    pub text: String,
}

pub fn split(text: &str, enabled: bool) -> Vec<Chunk> {
    if !enabled {
        return vec![Chunk {
            text: text.to_string(),
        }];
    }
    let mut chunks = Vec::new();
    let mut current = String::new();
    let mut first_line = 0; // zero-based line of the chunk's first line
    for (number, line) in text.split_inclusive('\n').enumerate() {
        if line.trim_end() == "// -----" {
            chunks.push(pad(first_line, &current));
            current.clear();
            first_line = number + 1;
        } else {
            current.push_str(line);
        }
    }
    chunks.push(pad(first_line, &current));
    chunks
}

fn pad(first_line: usize, text: &str) -> Chunk {
    Chunk {
        text: "\n".repeat(first_line) + text,
    }
}
