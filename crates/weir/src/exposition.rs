//! The Prometheus text exposition format (version 0.0.4), written by hand for `weir serve` and `weir probe`:
//! their counters already exist as plain structs, so rendering them on request is a loop, with no second set
//! of live metric objects to keep in step. The format is small; the escaping it needs is tested below.

use std::fmt::Write as _;

/// The content type of the text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Accumulates metric families in the text format.
#[derive(Debug, Default)]
pub struct Exposition {
    out: String,
}

impl Exposition {
    /// An empty page with room for `capacity` bytes.
    pub fn with_capacity(capacity: usize) -> Self {
        Exposition {
            out: String::with_capacity(capacity),
        }
    }

    /// Starts a family: its help and type lines.
    pub fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.out, "# HELP {name} {help}");
        let _ = writeln!(self.out, "# TYPE {name} {kind}");
    }

    /// One sample of the family just started, with its labels.
    pub fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: u64) {
        self.out.push_str(name);
        if !labels.is_empty() {
            self.out.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                let _ = write!(self.out, "{k}=\"");
                escape_into(&mut self.out, v);
                self.out.push('"');
            }
            self.out.push('}');
        }
        let _ = writeln!(self.out, " {value}");
    }

    /// A family of one sample without labels.
    pub fn single(&mut self, name: &str, kind: &str, help: &str, value: u64) {
        self.family(name, kind, help);
        self.sample(name, &[], value);
    }

    /// The page.
    pub fn into_string(self) -> String {
        self.out
    }
}

/// Label values escape backslash, double quote and newline.
fn escape_into(out: &mut String, v: &str) {
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_label_values() {
        let mut e = Exposition::default();
        e.sample("m", &[("a", "x\"y\\z\nw"), ("b", "plain")], 3);
        assert_eq!(e.into_string(), "m{a=\"x\\\"y\\\\z\\nw\",b=\"plain\"} 3\n");
    }
}
