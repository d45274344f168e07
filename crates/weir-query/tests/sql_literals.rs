//! No filter can inject SQL: a string the user types comes out as one literal that each engine reads back
//! as exactly that string, under that engine's quoting rules.

use proptest::prelude::*;
use weir_query::filter::{self, ClickHouse, DataFusion};

/// Reads one standard SQL string literal at the front of `sql` (`''` is a quote; with `backslash_escapes`,
/// as some of DataFusion's parser dialects do, `\` escapes the next character). Returns it and the rest.
fn sql_literal(sql: &str, backslash_escapes: bool) -> Option<(String, &str)> {
    let mut chars = sql.strip_prefix('\'')?.char_indices().peekable();
    let mut out = String::new();
    while let Some((i, c)) = chars.next() {
        match c {
            '\'' if chars.next_if(|&(_, n)| n == '\'').is_some() => out.push('\''),
            '\'' => return Some((out, &sql[i + 2..])),
            '\\' if backslash_escapes => out.push(chars.next()?.1),
            c => out.push(c),
        }
    }
    None
}

/// Reads the string expression the DataFusion dialect writes: a literal, or literals and `chr(n)` joined
/// with `||` in parentheses.
fn datafusion_string(sql: &str, backslash_escapes: bool) -> Option<(String, &str)> {
    let Some(mut rest) = sql.strip_prefix('(') else {
        return sql_literal(sql, backslash_escapes);
    };
    let mut out = String::new();
    loop {
        if let Some(after) = rest.strip_prefix("chr(") {
            let (n, after) = after.split_once(')')?;
            out.push(char::from_u32(n.parse().ok()?)?);
            rest = after;
        } else {
            let (s, after) = sql_literal(rest, backslash_escapes)?;
            out.push_str(&s);
            rest = after;
        }
        match rest.strip_prefix(" || ") {
            Some(after) => rest = after,
            None => return Some((out, rest.strip_prefix(')')?)),
        }
    }
}

/// Reads one ClickHouse string literal: `\` escapes (`\\`, `\'`, `\xHH`, and others ClickHouse knows).
fn clickhouse_string(sql: &str) -> Option<(String, &str)> {
    let mut chars = sql.strip_prefix('\'')?.char_indices();
    let mut out = String::new();
    while let Some((i, c)) = chars.next() {
        match c {
            '\'' => return Some((out, &sql[i + 2..])),
            '\\' => match chars.next()?.1 {
                'x' => {
                    let hex: String = [chars.next()?.1, chars.next()?.1].iter().collect();
                    out.push(char::from(u8::from_str_radix(&hex, 16).ok()?));
                }
                'n' => out.push('\n'),
                't' => out.push('\t'),
                '0' => out.push('\0'),
                c => out.push(c),
            },
            c => out.push(c),
        }
    }
    None
}

/// The filter `app = <s>`, with `s` quoted for the filter language.
fn app_is(s: &str) -> filter::Filter {
    let quoted = format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
    filter::parse(&format!("app = {quoted}")).expect("a quoted string always parses")
}

fn check(s: &str) {
    let f = app_is(s);
    let df = f.to_sql(&DataFusion);
    let literal = df.strip_prefix("\"app\" = ").expect("column first");
    for backslash_escapes in [false, true] {
        assert_eq!(
            datafusion_string(literal, backslash_escapes),
            Some((s.to_owned(), "")),
            "{df} (backslash escapes: {backslash_escapes})"
        );
    }
    let ch = f.to_sql(&ClickHouse);
    let literal = ch.strip_prefix("app = ").expect("column first");
    assert_eq!(clickhouse_string(literal), Some((s.to_owned(), "")), "{ch}");
}

#[test]
fn attacks_stay_inside_their_literal() {
    for attack in [
        "x' OR 1=1 --",
        r"x\' OR 1=1 --",
        "x'); DROP TABLE flows; --",
        r"\",
        "''",
        r"\\'",
        "\0\n\t\u{7f}",
        "naïve ☃",
        "",
    ] {
        check(attack);
    }
}

#[test]
fn glob_patterns_stay_inside_their_literal() {
    let f = filter::parse(r#"app ~ "*'\\%_*""#).expect("glob");
    let df = f.to_sql(&DataFusion);
    let literal = df.strip_prefix("\"app\" LIKE ").expect("LIKE");
    assert_eq!(
        datafusion_string(literal, false),
        Some((r"%'\\\%\_%".to_owned(), ""))
    );
    let ch = f.to_sql(&ClickHouse);
    assert_eq!(
        clickhouse_string(ch.strip_prefix("app LIKE ").expect("LIKE")),
        Some((r"%'\\\%\_%".to_owned(), ""))
    );
}

proptest! {
    #[test]
    fn any_string_stays_inside_its_literal(s in any::<String>()) {
        check(&s);
    }
}
