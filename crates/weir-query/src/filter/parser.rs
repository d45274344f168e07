//! Recursive descent over the tokens: `or` binds loosest, then `and`, then `not`, as in nfdump.
//!
//! Terms are checked against the schema as they are read ([`bind`](super::bind)), so the parser's output is
//! already the typed [`Expr`]. Nesting (parentheses and `not`) is limited to [`MAX_DEPTH`], so no filter can
//! exhaust the stack of the parser or of anything that walks the tree after it.

use weir_flow::{Field, Kind};

use super::ast::{CmpOp, Expr, Net, Pred};
use super::bind;
use super::error::FilterError;
use super::lexer::{Sym, Tok, Token, tokenize};
use super::suggest::nearest;
use super::value;

/// How deep parentheses and `not` may nest.
pub const MAX_DEPTH: usize = 64;

/// Parses and checks a whole filter; empty text (or only comments) is [`Expr::Any`].
pub(crate) fn parse(src: &str) -> Result<Expr, FilterError> {
    let mut p = Parser {
        src,
        toks: tokenize(src)?,
        pos: 0,
        depth: 0,
    };
    if p.peek().tok == Tok::End {
        return Ok(Expr::Any);
    }
    let expr = p.or()?;
    let t = p.peek();
    match t.tok {
        Tok::End => Ok(expr),
        Tok::RParen => Err(p.err(t.start, "unmatched `)`")),
        _ => {
            let found = p.describe(p.pos);
            let word = p.text(p.pos).to_ascii_lowercase();
            let stray_value = t.tok == Tok::Word
                && !bind::KEYWORDS.contains(&word.as_str())
                && bind::field(&word).is_none();
            let hint = if stray_value {
                " (a value with spaces needs quotes)"
            } else {
                ""
            };
            Err(p.err(
                t.start,
                format!("expected `and`, `or` or the end of the filter, found {found}{hint}"),
            ))
        }
    }
}

/// The operator after a column name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    /// A comparison.
    Cmp(CmpOp),
    /// `<<`: within a prefix.
    Within,
    /// `~`: matches a glob.
    Like,
    /// `in [..]`.
    In,
}

/// A test read once and applied to one or two columns (nfdump's `port 80` tests both ports).
#[derive(Debug, Clone)]
pub(crate) enum Test {
    Cmp(CmpOp, u64),
    In(Vec<u64>),
    Nets { nets: Vec<Net>, negate: bool },
    Str { value: String, negate: bool },
    StrIn(Vec<String>),
    Glob(String),
    List { values: Vec<u32>, negate: bool },
}

impl Test {
    /// The test on `field`.
    pub(crate) fn on(&self, field: Field) -> Expr {
        let (pred, negate) = match self {
            Test::Cmp(op, value) => (
                Pred::Cmp {
                    field,
                    op: *op,
                    value: *value,
                },
                false,
            ),
            Test::In(values) => (
                Pred::In {
                    field,
                    values: values.clone(),
                },
                false,
            ),
            Test::Nets { nets, negate } => (
                Pred::Addr {
                    field,
                    nets: nets.clone(),
                },
                *negate,
            ),
            Test::Str { value, negate } => (
                Pred::Str {
                    field,
                    value: value.clone(),
                },
                *negate,
            ),
            Test::StrIn(values) => (
                Pred::StrIn {
                    field,
                    values: values.clone(),
                },
                false,
            ),
            Test::Glob(pattern) => (
                Pred::Glob {
                    field,
                    pattern: pattern.clone(),
                },
                false,
            ),
            Test::List { values, negate } => (
                Pred::ListHas {
                    field,
                    values: values.clone(),
                },
                *negate,
            ),
        };
        if negate {
            Expr::Not(Box::new(Expr::Pred(pred)))
        } else {
            Expr::Pred(pred)
        }
    }
}

/// A value as written: a bare word or a quoted string, and where it starts.
pub(crate) struct Lit {
    pub at: usize,
    pub text: String,
}

pub(crate) struct Parser<'s> {
    pub src: &'s str,
    toks: Vec<Token>,
    pub(crate) pos: usize,
    depth: usize,
}

impl<'s> Parser<'s> {
    pub(crate) fn err(&self, at: usize, message: impl Into<String>) -> FilterError {
        FilterError::at(self.src, at, message)
    }

    pub(crate) fn peek(&self) -> &Token {
        &self.toks[self.pos.min(self.toks.len() - 1)]
    }

    /// Moves past the current token (never past the end) and returns its index.
    pub(crate) fn bump(&mut self) -> usize {
        let i = self.pos;
        if self.toks[i].tok != Tok::End {
            self.pos += 1;
        }
        i
    }

    /// The source text of token `i`.
    pub(crate) fn text(&self, i: usize) -> &'s str {
        let t = &self.toks[i];
        &self.src[t.start..t.end]
    }

    pub(crate) fn start(&self, i: usize) -> usize {
        self.toks[i].start
    }

    /// Token `i` for a message: `` `word` `` or "the end of the filter".
    pub(crate) fn describe(&self, i: usize) -> String {
        match &self.toks[i].tok {
            Tok::End => "the end of the filter".into(),
            Tok::Quoted(s) => format!("\"{s}\""),
            _ => format!("`{}`", self.text(i)),
        }
    }

    /// Whether the current token is the word `w` (ASCII case-insensitive).
    pub(crate) fn at_word(&self, w: &str) -> bool {
        self.peek().tok == Tok::Word && self.text(self.pos).eq_ignore_ascii_case(w)
    }

    /// Consumes the word `w` if it is next.
    pub(crate) fn eat_word(&mut self, w: &str) -> bool {
        let yes = self.at_word(w);
        if yes {
            self.bump();
        }
        yes
    }

    /// Consumes the next token if it is `tok` or the word `word`.
    fn eat(&mut self, tok: &Tok, word: &str) -> bool {
        if self.peek().tok == *tok {
            self.bump();
            return true;
        }
        self.eat_word(word)
    }

    fn or(&mut self) -> Result<Expr, FilterError> {
        let mut items = vec![self.and()?];
        while self.eat(&Tok::Or, "or") {
            items.push(self.and()?);
        }
        Ok(Expr::or(items))
    }

    fn and(&mut self) -> Result<Expr, FilterError> {
        let mut items = vec![self.unary()?];
        while self.eat(&Tok::And, "and") {
            items.push(self.unary()?);
        }
        Ok(Expr::and(items))
    }

    fn unary(&mut self) -> Result<Expr, FilterError> {
        let at = self.peek().start;
        if self.eat(&Tok::Not, "not") {
            self.nest(at)?;
            let inner = self.unary()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(inner)));
        }
        if self.peek().tok == Tok::LParen {
            self.bump();
            self.nest(at)?;
            let inner = self.or()?;
            self.depth -= 1;
            if self.peek().tok != Tok::RParen {
                let found = self.describe(self.pos);
                let open = self.err(at, "");
                return Err(self.err(
                    self.peek().start,
                    format!(
                        "expected `)` to close the `(` at {}:{}, found {found}",
                        open.line, open.column
                    ),
                ));
            }
            self.bump();
            return Ok(inner);
        }
        self.term()
    }

    fn nest(&mut self, at: usize) -> Result<(), FilterError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err(at, format!("filter nested deeper than {MAX_DEPTH} levels")));
        }
        Ok(())
    }

    /// One term: an nfdump primitive or a comparison on a schema column.
    fn term(&mut self) -> Result<Expr, FilterError> {
        let i = self.pos;
        if self.peek().tok != Tok::Word {
            let found = self.describe(i);
            return Err(self.err(self.start(i), format!("expected a filter term, found {found}")));
        }
        let word = self.text(i).to_ascii_lowercase();
        if word == "and" || word == "or" {
            let found = self.describe(i);
            return Err(self.err(self.start(i), format!("expected a filter term, found {found}")));
        }
        if let Some(expr) = self.nfdump_term(&word)? {
            return Ok(expr);
        }
        let Some(field) = bind::field(&word) else {
            let e = self.err(self.start(i), format!("unknown field `{}`", self.text(i)));
            return Err(e.suggest(nearest(&word, bind::term_words())));
        };
        self.bump();
        let test = self.test(field, field.column().name, i, false)?;
        Ok(test.on(field))
    }

    /// Reads an operator, if one is next.
    fn operator(&mut self) -> Option<Op> {
        let op = match self.peek().tok {
            Tok::Op(Sym::Eq) => Op::Cmp(CmpOp::Eq),
            Tok::Op(Sym::Ne) => Op::Cmp(CmpOp::Ne),
            Tok::Op(Sym::Lt) => Op::Cmp(CmpOp::Lt),
            Tok::Op(Sym::Le) => Op::Cmp(CmpOp::Le),
            Tok::Op(Sym::Gt) => Op::Cmp(CmpOp::Gt),
            Tok::Op(Sym::Ge) => Op::Cmp(CmpOp::Ge),
            Tok::Op(Sym::Within) => Op::Within,
            Tok::Op(Sym::Like) => Op::Like,
            Tok::Word => {
                let words = [
                    ("eq", Op::Cmp(CmpOp::Eq)),
                    ("ne", Op::Cmp(CmpOp::Ne)),
                    ("lt", Op::Cmp(CmpOp::Lt)),
                    ("le", Op::Cmp(CmpOp::Le)),
                    ("gt", Op::Cmp(CmpOp::Gt)),
                    ("ge", Op::Cmp(CmpOp::Ge)),
                    ("in", Op::In),
                ];
                words.into_iter().find(|(w, _)| self.at_word(w))?.1
            }
            _ => return None,
        };
        self.bump();
        Some(op)
    }

    /// The test after a column's name. `label` is the word the user typed for the column, `label_tok` its
    /// token; `op_optional` lets nfdump's `port 80` mean `port = 80`.
    pub(crate) fn test(
        &mut self,
        field: Field,
        label: &str,
        label_tok: usize,
        op_optional: bool,
    ) -> Result<Test, FilterError> {
        let kind = field.column().kind;
        if kind == Kind::Bytes {
            return Err(self.err(
                self.start(label_tok),
                format!("`{label}` holds raw information elements and cannot be filtered on"),
            ));
        }
        let op_at = self.peek().start;
        let op_text = self.text(self.pos);
        let op = match self.operator() {
            Some(op) => op,
            None if op_optional => Op::Cmp(CmpOp::Eq),
            None => {
                let found = self.describe(self.pos);
                return Err(self.err(
                    op_at,
                    format!("expected an operator after `{label}`, found {found}"),
                ));
            }
        };
        let misuse = |p: &Self, allowed: &str| {
            let holds = bind::kind_name(kind);
            let message =
                format!("`{op_text}` does not apply to `{label}`, which holds {holds}; use {allowed}");
            p.err(op_at, message)
        };
        match kind {
            Kind::Ip => match op {
                Op::Cmp(c @ (CmpOp::Eq | CmpOp::Ne)) => {
                    let lit = self.value(label)?;
                    let net = self.net(&lit)?;
                    if !net.is_host() {
                        let e = self.err(
                            lit.at,
                            format!("`{}` is a prefix; `=` compares one address", lit.text),
                        );
                        return Err(e.suggest(Some(&format!("{label} << {}", lit.text))));
                    }
                    Ok(Test::Nets {
                        nets: vec![net],
                        negate: c == CmpOp::Ne,
                    })
                }
                Op::Within => {
                    let lit = self.value(label)?;
                    Ok(Test::Nets {
                        nets: vec![self.net(&lit)?],
                        negate: false,
                    })
                }
                Op::In => Ok(Test::Nets {
                    nets: self.list(|p, lit| p.net(&lit))?,
                    negate: false,
                }),
                _ => Err(misuse(self, "=, !=, << or in")),
            },
            Kind::Str => match op {
                Op::Cmp(c @ (CmpOp::Eq | CmpOp::Ne)) => Ok(Test::Str {
                    value: self.value(label)?.text,
                    negate: c == CmpOp::Ne,
                }),
                Op::Like => Ok(Test::Glob(self.value(label)?.text)),
                Op::In => Ok(Test::StrIn(self.list(|_, lit| Ok(lit.text))?)),
                _ => Err(misuse(self, "=, !=, ~ or in")),
            },
            Kind::U32List => {
                let item =
                    |p: &Self, lit: Lit| bind::list_item(field, &lit.text).map_err(|m| p.err(lit.at, m));
                match op {
                    Op::Cmp(c @ (CmpOp::Eq | CmpOp::Ne)) => {
                        let lit = self.value(label)?;
                        Ok(Test::List {
                            values: vec![item(self, lit)?],
                            negate: c == CmpOp::Ne,
                        })
                    }
                    Op::In => Ok(Test::List {
                        values: self.list(item)?,
                        negate: false,
                    }),
                    _ => Err(misuse(self, "=, != or in")),
                }
            }
            _ => {
                let scalar = |p: &Self, lit: Lit| {
                    bind::scalar(field, label, &lit.text).map_err(|(m, s)| p.err(lit.at, m).suggest(s))
                };
                match op {
                    Op::Cmp(c) => {
                        let lit = self.value(label)?;
                        Ok(Test::Cmp(c, scalar(self, lit)?))
                    }
                    Op::In => Ok(Test::In(self.list(scalar)?)),
                    _ => Err(misuse(self, "=, !=, <, <=, >, >= or in")),
                }
            }
        }
    }

    /// An address or prefix value.
    pub(crate) fn net(&self, lit: &Lit) -> Result<Net, FilterError> {
        value::net(&lit.text).map_err(|m| self.err(lit.at, m))
    }

    /// The next token as a value: a word or a quoted string.
    pub(crate) fn value(&mut self, after: &str) -> Result<Lit, FilterError> {
        let t = self.peek();
        let text = match &t.tok {
            Tok::Word => self.text(self.pos).to_owned(),
            Tok::Quoted(s) => s.clone(),
            _ => {
                let found = self.describe(self.pos);
                return Err(self.err(
                    t.start,
                    format!("expected a value after `{after}`, found {found}"),
                ));
            }
        };
        let at = t.start;
        self.bump();
        Ok(Lit { at, text })
    }

    /// A bracketed list, `[a, b c]` (commas optional, as in nfdump), of at least one value.
    pub(crate) fn list<T>(
        &mut self,
        mut item: impl FnMut(&Self, Lit) -> Result<T, FilterError>,
    ) -> Result<Vec<T>, FilterError> {
        let open = self.peek().start;
        if self.peek().tok != Tok::LBracket {
            let found = self.describe(self.pos);
            return Err(self.err(
                open,
                format!("expected `[` to start a list after `in`, found {found}"),
            ));
        }
        self.bump();
        let mut out = Vec::new();
        loop {
            match self.peek().tok {
                Tok::RBracket if out.is_empty() => return Err(self.err(open, "empty list")),
                Tok::RBracket => {
                    self.bump();
                    return Ok(out);
                }
                Tok::Comma if !out.is_empty() => {
                    self.bump();
                }
                Tok::Word | Tok::Quoted(_) => {
                    let lit = self.value("[")?;
                    out.push(item(self, lit)?);
                }
                _ => {
                    let found = self.describe(self.pos);
                    return Err(self.err(
                        self.peek().start,
                        format!("expected a list value or `]`, found {found}"),
                    ));
                }
            }
        }
    }
}
