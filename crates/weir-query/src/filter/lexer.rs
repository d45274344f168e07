//! Splits filter text into tokens.
//!
//! Words are runs of anything but whitespace, quotes and the punctuation below, so addresses (`10.0.0.0/8`,
//! `2001:db8::1`), MACs, times (`2024-03-01T12:00:00Z`), globs (`*.example.com`) and nfdump's dashed
//! keywords (`icmp-type`) are one word each; the parser decides what a word means from where it stands.
//! `#` starts a comment that runs to the end of the line, as in nfdump filter files.

use super::error::FilterError;

/// A comparison or matching operator written with symbols.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sym {
    /// `=` or `==`.
    Eq,
    /// `!=`.
    Ne,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
    /// `<<`: contained in a prefix.
    Within,
    /// `~`: matches a glob.
    Like,
}

/// What a token is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tok {
    /// A bare word; its text is the token's span of the source.
    Word,
    /// A quoted string, unescaped.
    Quoted(String),
    /// `(`.
    LParen,
    /// `)`.
    RParen,
    /// `[`.
    LBracket,
    /// `]`.
    RBracket,
    /// `,`.
    Comma,
    /// An operator.
    Op(Sym),
    /// `&&`.
    And,
    /// `||`.
    Or,
    /// `!` (not followed by `=`).
    Not,
    /// The end of the text.
    End,
}

/// One token and the byte span of the source it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    /// What it is.
    pub tok: Tok,
    /// Byte offset of its first character.
    pub start: usize,
    /// Byte offset just past its last character.
    pub end: usize,
}

/// Whether `c` ends a word.
fn is_delimiter(c: char) -> bool {
    c.is_whitespace() || "()[],=!<>&|~\"'#".contains(c)
}

/// Tokenizes `src`; the last token is always [`Tok::End`].
pub(crate) fn tokenize(src: &str) -> Result<Vec<Token>, FilterError> {
    let mut out = Vec::new();
    let mut chars = src.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        let mut next_is = |want: char| chars.next_if(|&(_, n)| n == want).is_some();
        let tok = match c {
            c if c.is_whitespace() => continue,
            '#' => {
                while chars.next_if(|&(_, n)| n != '\n').is_some() {}
                continue;
            }
            '(' => Tok::LParen,
            ')' => Tok::RParen,
            '[' => Tok::LBracket,
            ']' => Tok::RBracket,
            ',' => Tok::Comma,
            '~' => Tok::Op(Sym::Like),
            '=' => {
                next_is('=');
                Tok::Op(Sym::Eq)
            }
            '!' if next_is('=') => Tok::Op(Sym::Ne),
            '!' => Tok::Not,
            '<' if next_is('=') => Tok::Op(Sym::Le),
            '<' if next_is('<') => Tok::Op(Sym::Within),
            '<' => Tok::Op(Sym::Lt),
            '>' if next_is('=') => Tok::Op(Sym::Ge),
            '>' => Tok::Op(Sym::Gt),
            '&' if next_is('&') => Tok::And,
            '|' if next_is('|') => Tok::Or,
            '&' | '|' => {
                return Err(
                    FilterError::at(src, start, format!("`{c}` alone is not an operator"))
                        .suggest(Some(if c == '&' { "&&" } else { "||" })),
                );
            }
            '"' | '\'' => quoted(src, start, c, &mut chars)?,
            _ => {
                while chars.next_if(|&(_, n)| !is_delimiter(n)).is_some() {}
                Tok::Word
            }
        };
        let end = chars.peek().map_or(src.len(), |&(i, _)| i);
        out.push(Token { tok, start, end });
    }
    out.push(Token {
        tok: Tok::End,
        start: src.len(),
        end: src.len(),
    });
    Ok(out)
}

/// Reads a string quoted with `quote`, whose opening quote is at `start`. A backslash escapes the next
/// character, which must be a quote or a backslash.
fn quoted(
    src: &str,
    start: usize,
    quote: char,
    chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>,
) -> Result<Tok, FilterError> {
    let mut value = String::new();
    loop {
        match chars.next() {
            None => return Err(FilterError::at(src, start, "unterminated string")),
            Some((_, c)) if c == quote => return Ok(Tok::Quoted(value)),
            Some((at, '\\')) => match chars.next() {
                Some((_, c @ ('"' | '\'' | '\\'))) => value.push(c),
                _ => {
                    return Err(FilterError::at(
                        src,
                        at,
                        "a backslash in a string escapes only a quote or a backslash",
                    ));
                }
            },
            Some((_, c)) => value.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<(Tok, &str)> {
        tokenize(src)
            .unwrap()
            .into_iter()
            .map(|t| (t.tok, &src[t.start..t.end]))
            .collect()
    }

    #[test]
    fn words_keep_addresses_and_globs_whole() {
        assert_eq!(
            kinds("src net 10.0.0.0/8 and dst_domain~*.example.com"),
            vec![
                (Tok::Word, "src"),
                (Tok::Word, "net"),
                (Tok::Word, "10.0.0.0/8"),
                (Tok::Word, "and"),
                (Tok::Word, "dst_domain"),
                (Tok::Op(Sym::Like), "~"),
                (Tok::Word, "*.example.com"),
                (Tok::End, ""),
            ]
        );
    }

    #[test]
    fn reads_every_operator() {
        let ops: Vec<Tok> = kinds("= == != < <= > >= << ! && || ( ) [ ] ,")
            .into_iter()
            .map(|(t, _)| t)
            .collect();
        use Sym::*;
        assert_eq!(
            ops,
            vec![
                Tok::Op(Eq),
                Tok::Op(Eq),
                Tok::Op(Ne),
                Tok::Op(Lt),
                Tok::Op(Le),
                Tok::Op(Gt),
                Tok::Op(Ge),
                Tok::Op(Within),
                Tok::Not,
                Tok::And,
                Tok::Or,
                Tok::LParen,
                Tok::RParen,
                Tok::LBracket,
                Tok::RBracket,
                Tok::Comma,
                Tok::End,
            ]
        );
    }

    #[test]
    fn unescapes_quoted_strings_and_skips_comments() {
        let toks = kinds("# all of it\nin_if_name = \"xe-0/0/0 \\\"uplink\\\"\" # trailing\n'it\\'s'");
        assert_eq!(toks[2].0, Tok::Quoted("xe-0/0/0 \"uplink\"".into()));
        assert_eq!(toks[3].0, Tok::Quoted("it's".into()));
        assert_eq!(toks.len(), 5);
    }

    #[test]
    fn rejects_unterminated_strings_and_lone_ampersands() {
        let e = tokenize("app = \"dns").unwrap_err();
        assert_eq!((e.column, e.message.as_str()), (7, "unterminated string"));
        let e = tokenize("port 80 & port 443").unwrap_err();
        assert_eq!((e.column, e.suggestion.as_deref()), (9, Some("&&")));
        let e = tokenize(r#"app = "a\n""#).unwrap_err();
        assert_eq!(e.column, 9);
    }
}
