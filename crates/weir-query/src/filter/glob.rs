//! `~` matching: a glob in which `*` stands for any run of characters (including none) and every other
//! character stands for itself. It covers what users ask of names (`*.example.com`, `xe-0/0/*`) and maps
//! exactly onto SQL's `LIKE`, so the stores and the in-memory predicate agree; regular expressions would
//! not (each engine has its own dialect) and would need a regex engine here.

/// Whether `text` matches `pattern`, without allocating.
pub(crate) fn matches(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let mut last = None;
    for part in parts {
        if let Some(prev) = last.replace(part) {
            match rest.find(prev) {
                Some(i) => rest = &rest[i + prev.len()..],
                None => return false,
            }
        }
    }
    match last {
        None => rest.is_empty(),
        Some(tail) => rest.ends_with(tail),
    }
}

/// The SQL `LIKE` pattern equivalent to a glob: `*` becomes `%`, and `%`, `_` and `\` are escaped with `\`.
pub(crate) fn to_like(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    for c in pattern.chars() {
        match c {
            '*' => out.push('%'),
            '%' | '_' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn star_matches_any_run_of_characters() {
        let cases = [
            ("*.example.com", "www.example.com", true),
            ("*.example.com", "example.com", false),
            ("xe-0/0/*", "xe-0/0/12", true),
            ("xe-0/0/*", "ge-0/0/12", false),
            ("a*b*c", "abc", true),
            ("a*b*c", "aXbYbZc", true),
            ("a*b*c", "acb", false),
            ("ab*ba", "aba", false),
            ("*", "", true),
            ("**", "x", true),
            ("exact", "exact", true),
            ("exact", "exactly", false),
            ("", "", true),
        ];
        for (pattern, text, want) in cases {
            assert_eq!(matches(pattern, text), want, "{pattern} ~ {text}");
        }
    }

    #[test]
    fn like_escapes_its_own_wildcards() {
        assert_eq!(to_like("*.a_b%c\\"), "%.a\\_b\\%c\\\\");
    }
}
