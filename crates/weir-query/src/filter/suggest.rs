//! "Did you mean": the nearest known word to a mistyped one.

/// The candidate closest to `word` by edit distance (insertions, deletions, substitutions and swaps of two
/// neighbouring characters, ignoring ASCII case), if it is close enough to be a typo: at most one edit for
/// words of up to four characters, two for longer ones. Ties go to the earlier candidate.
pub fn nearest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let word: Vec<char> = word.chars().map(|c| c.to_ascii_lowercase()).collect();
    let limit = if word.len() <= 4 { 1 } else { 2 };
    let mut best: Option<(usize, &str)> = None;
    for candidate in candidates {
        let d = distance(&word, candidate);
        if d <= limit && d < word.len() && best.is_none_or(|(b, _)| d < b) {
            best = Some((d, candidate));
        }
    }
    best.map(|(_, c)| c)
}

/// Optimal string alignment distance between `a` and `b` (lower-cased).
fn distance(a: &[char], b: &str) -> usize {
    let b: Vec<char> = b.chars().map(|c| c.to_ascii_lowercase()).collect();
    let width = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * width];
    for (i, row) in d.chunks_mut(width).enumerate() {
        row[0] = i;
    }
    for (j, cell) in d.iter_mut().take(width).enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[(i - 1) * width + j] + 1)
                .min(d[i * width + j - 1] + 1)
                .min(d[(i - 1) * width + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[(i - 2) * width + j - 2] + 1);
            }
            d[i * width + j] = v;
        }
    }
    d[a.len() * width + b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        let names = ["dst_country", "src_country", "dst_port", "proto", "port"];
        assert_eq!(nearest("dst_contry", names), Some("dst_country"));
        assert_eq!(nearest("DST_PORT", names), Some("dst_port"));
        assert_eq!(nearest("dts_port", names), Some("dst_port"));
        assert_eq!(nearest("prot", names), Some("proto"));
        assert_eq!(nearest("bandwidth", names), None);
        assert_eq!(nearest("x", names), None);
    }
}
