//! nfdump's primitives, rewritten into comparisons on schema columns as they are read.
//!
//! Without `src` or `dst`, address, port, AS, mask and MAC primitives test either side (`port 80` is
//! `src_port = 80 or dst_port = 80`), as in nfdump. Weir keeps one MAC pair, one VLAN and one ToS per flow,
//! so `in mac`/`out mac` test either MAC, and `src`/`dst` in front of `vlan` or `tos` change nothing.
//! Like nfdump, `flags` implies a TCP flow and `icmp-type`/`icmp-code` an ICMP or ICMPv6 flow.

use weir_flow::Field;
use weir_flow::codes::{etype, proto};

use super::ast::{CmpOp, Derived, Expr, Pred};
use super::bind;
use super::lexer::Tok;
use super::parser::{Parser, Test};
use super::value;

/// Which side a primitive tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dir {
    Either,
    Src,
    Dst,
    In,
    Out,
}

/// TCP flags by the letters nfdump uses, in header bit order.
const FLAG_LETTERS: [(char, u8); 8] = [
    ('F', 1),
    ('S', 2),
    ('R', 4),
    ('P', 8),
    ('A', 16),
    ('U', 32),
    ('E', 64),
    ('C', 128),
];

/// The letters of the flags in `mask`, in header bit order.
pub(crate) fn flag_letters(mask: u8) -> impl Iterator<Item = char> {
    FLAG_LETTERS
        .into_iter()
        .filter(move |&(_, bit)| mask & bit != 0)
        .map(|(c, _)| c)
}

/// `etype = value`.
fn etype_is(value: u16) -> Expr {
    Expr::Pred(Pred::Cmp {
        field: Field::etype,
        op: CmpOp::Eq,
        value: value.into(),
    })
}

impl Parser<'_> {
    /// The nfdump primitive starting with `word` (lower-cased), or `None` when `word` is not one of
    /// nfdump's keywords.
    pub(crate) fn nfdump_term(&mut self, word: &str) -> Result<Option<Expr>, super::FilterError> {
        let kw = self.bump();
        let expr = match word {
            "any" => Expr::Any,
            "ipv4" | "inet" => etype_is(etype::IPV4),
            "ipv6" | "inet6" => etype_is(etype::IPV6),
            "src" | "dst" | "in" | "out" => {
                let dir = match word {
                    "src" => Dir::Src,
                    "dst" => Dir::Dst,
                    "in" => Dir::In,
                    _ => Dir::Out,
                };
                let i = self.pos;
                if self.peek().tok != Tok::Word {
                    let found = self.describe(i);
                    let e = self.err(
                        self.start(i),
                        format!("expected what `{word}` qualifies, found {found}"),
                    );
                    return Err(e);
                }
                let what = self.text(i).to_ascii_lowercase();
                self.bump();
                self.sided(dir, &what, i)?
            }
            "ip" | "host" | "net" | "port" | "as" | "mask" | "mac" | "if" | "vlan" | "tos" => {
                self.sided(Dir::Either, word, kw)?
            }
            "proto" | "packets" | "bytes" | "flows" => {
                let field = match word {
                    "proto" => Field::proto,
                    "packets" => Field::packets,
                    "bytes" => Field::bytes,
                    _ => Field::flows,
                };
                self.test(field, word, kw, true)?.on(field)
            }
            "icmp-type" | "icmp-code" => {
                let field = if word == "icmp-type" {
                    Field::icmp_type
                } else {
                    Field::icmp_code
                };
                let icmp = Pred::In {
                    field: Field::proto,
                    values: vec![proto::ICMP.into(), proto::ICMPV6.into()],
                };
                Expr::and([Expr::Pred(icmp), self.test(field, word, kw, true)?.on(field)])
            }
            "flags" => self.flags(kw)?,
            "router" | "next" | "bgp" => {
                if word == "bgp" {
                    self.expect_word("next", "bgp")?;
                }
                self.expect_word("ip", word)?;
                let field = match word {
                    "router" => Field::exporter_addr,
                    "next" => Field::next_hop,
                    _ => Field::bgp_next_hop,
                };
                self.address(word)?.on(field)
            }
            "duration" | "bps" | "pps" | "bpp" => {
                let quantity = match word {
                    "duration" => Derived::Duration,
                    "bps" => Derived::Bps,
                    "pps" => Derived::Pps,
                    _ => Derived::Bpp,
                };
                match self.test(Field::bytes, word, kw, true)? {
                    Test::Cmp(op, value) => Expr::Pred(Pred::Derived { quantity, op, value }),
                    _ => {
                        return Err(self.err(
                            self.start(kw + 1),
                            format!("`{word}` takes a comparison, not a list"),
                        ));
                    }
                }
            }
            _ => {
                self.pos = kw;
                return Ok(None);
            }
        };
        Ok(Some(expr))
    }

    fn expect_word(&mut self, want: &str, after: &str) -> Result<(), super::FilterError> {
        if self.eat_word(want) {
            return Ok(());
        }
        let found = self.describe(self.pos);
        Err(self.err(
            self.peek().start,
            format!("expected `{want}` after `{after}`, found {found}"),
        ))
    }

    /// A primitive that may test the source side, the destination side, or either.
    fn sided(&mut self, dir: Dir, what: &str, what_tok: usize) -> Result<Expr, super::FilterError> {
        let (src, dst) = match what {
            "ip" | "host" | "net" => (Field::src_addr, Field::dst_addr),
            "port" => (Field::src_port, Field::dst_port),
            "as" => (Field::src_as, Field::dst_as),
            "mask" => (Field::src_mask, Field::dst_mask),
            "mac" => (Field::src_mac, Field::dst_mac),
            "if" => (Field::in_if, Field::out_if),
            "vlan" => (Field::vlan, Field::vlan),
            "tos" => (Field::tos, Field::tos),
            _ => {
                let e = self.err(
                    self.start(what_tok),
                    format!("`{what}` cannot follow a direction"),
                );
                let sided = [
                    "ip", "host", "net", "port", "as", "mask", "mac", "if", "vlan", "tos",
                ];
                let typo = !bind::KEYWORDS.contains(&what) && bind::field(what).is_none();
                return Err(e.suggest(typo.then(|| super::suggest::nearest(what, sided)).flatten()));
            }
        };
        let side_ok = match what {
            "if" => matches!(dir, Dir::Either | Dir::In | Dir::Out),
            "mac" => true,
            _ => matches!(dir, Dir::Either | Dir::Src | Dir::Dst),
        };
        if !side_ok {
            let side = match dir {
                Dir::Src => "src",
                Dir::Dst => "dst",
                Dir::In => "in",
                _ => "out",
            };
            return Err(self.err(self.start(what_tok), format!("`{side}` cannot qualify `{what}`")));
        }
        let test = match what {
            "ip" | "host" => self.address(what)?,
            "net" => self.network()?,
            _ => self.test(src, what, what_tok, true)?,
        };
        Ok(match (dir, what) {
            (Dir::Src | Dir::In, "if") | (Dir::Src, _) => test.on(src),
            (Dir::Dst | Dir::Out, "if") | (Dir::Dst, _) => test.on(dst),
            _ if src == dst => test.on(src),
            _ => Expr::or([test.on(src), test.on(dst)]),
        })
    }

    /// nfdump's `ip ADDR` or `ip in [ADDR|PREFIX …]`.
    fn address(&mut self, what: &str) -> Result<Test, super::FilterError> {
        if self.eat_word("in") {
            return Ok(Test::Nets {
                nets: self.list(|p, lit| p.net(&lit))?,
                negate: false,
            });
        }
        let lit = self.value(what)?;
        let net = self.net(&lit)?;
        if !net.is_host() {
            let e = self.err(
                lit.at,
                format!("`{what}` takes one address; `{}` is a prefix", lit.text),
            );
            return Err(e.suggest(Some(&format!("net {}", lit.text))));
        }
        Ok(Test::Nets {
            nets: vec![net],
            negate: false,
        })
    }

    /// nfdump's `net PREFIX` or `net ADDR MASK`.
    fn network(&mut self) -> Result<Test, super::FilterError> {
        let lit = self.value("net")?;
        let masked = !lit.text.contains('/')
            && self.peek().tok == Tok::Word
            && value::is_dotted_quad(self.text(self.pos));
        let net = if masked {
            let mask_at = self.peek().start;
            let mask = self.value("net")?.text;
            value::masked_net(&lit.text, &mask).map_err(|m| self.err(mask_at, m))?
        } else {
            self.net(&lit)?
        };
        Ok(Test::Nets {
            nets: vec![net],
            negate: false,
        })
    }

    /// nfdump's `flags LETTERS` (every listed flag set) or `flags [op] NUMBER` (the flags byte compared).
    fn flags(&mut self, kw: usize) -> Result<Expr, super::FilterError> {
        let tcp = Expr::Pred(Pred::Cmp {
            field: Field::proto,
            op: CmpOp::Eq,
            value: proto::TCP.into(),
        });
        let letters = self.peek().tok == Tok::Word
            && self.text(self.pos).starts_with(|c: char| c.is_ascii_alphabetic())
            && !["eq", "ne", "lt", "le", "gt", "ge", "in"]
                .iter()
                .any(|w| self.at_word(w));
        if !letters {
            return Ok(Expr::and([
                tcp,
                self.test(Field::tcp_flags, "flags", kw, true)?
                    .on(Field::tcp_flags),
            ]));
        }
        let at = self.peek().start;
        let i = self.bump();
        let text = self.text(i);
        let mut mask = 0u8;
        for c in text.chars().map(|c| c.to_ascii_uppercase()) {
            match FLAG_LETTERS.iter().find(|&&(l, _)| l == c) {
                Some(&(_, bit)) => mask |= bit,
                None if c == 'X' => mask |= 0x3f,
                None => {
                    return Err(self.err(
                        at,
                        format!(
                            "unknown TCP flag `{c}` in `{text}` (flags are F S R P A U E C, and X for FSRPAU)"
                        ),
                    ));
                }
            }
        }
        Ok(Expr::Pred(Pred::Flags { mask }))
    }
}
