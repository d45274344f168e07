//! Properties over generated input: any checked filter prints in a form that parses back to itself, and no
//! text, however malformed, makes the parser panic.

use std::net::Ipv6Addr;

use proptest::prelude::*;
use weir_flow::{FIELDS, Field, Kind};
use weir_query::filter::{self, CmpOp, Derived, Expr, Net, Pred};
use weir_query::fuzzing;

fn fields(kinds: &[Kind]) -> impl Strategy<Value = Field> + use<> {
    let fs: Vec<Field> = FIELDS
        .iter()
        .copied()
        .filter(|f| kinds.contains(&f.column().kind))
        .collect();
    prop::sample::select(fs)
}

/// A value in the range of `field`'s column.
fn scalar(field: Field) -> BoxedStrategy<u64> {
    match field.column().kind {
        Kind::U8 => (0..=u64::from(u8::MAX)).boxed(),
        Kind::U16 => (0..=u64::from(u16::MAX)).boxed(),
        Kind::U32 => (0..=u64::from(u32::MAX)).boxed(),
        Kind::Mac => (0..(1u64 << 48)).boxed(),
        Kind::Time => (0..=i64::MAX as u64).boxed(),
        _ => any::<u64>().boxed(),
    }
}

fn op() -> impl Strategy<Value = CmpOp> {
    prop::sample::select(CmpOp::ALL.to_vec())
}

fn net() -> impl Strategy<Value = Net> {
    prop_oneof![
        (any::<u128>(), 0..=128u8).prop_map(|(a, len)| Net::new(Ipv6Addr::from(a), len)),
        (any::<[u8; 4]>(), 0..=32u8).prop_map(|(a, len)| Net::new(weir_flow::ipv4(a), 96 + len)),
        any::<[u8; 4]>().prop_map(|a| Some(Net::host(weir_flow::ipv4(a)))),
    ]
    .prop_map(|n| n.expect("lengths within 128"))
}

const NUMERIC: &[Kind] = &[Kind::U8, Kind::U16, Kind::U32, Kind::U64, Kind::Time, Kind::Mac];

fn pred() -> impl Strategy<Value = Pred> {
    let text = || any::<String>();
    prop_oneof![
        fields(NUMERIC).prop_flat_map(
            |field| (op(), scalar(field)).prop_map(move |(op, value)| Pred::Cmp { field, op, value })
        ),
        fields(NUMERIC).prop_flat_map(|field| prop::collection::vec(scalar(field), 1..5)
            .prop_map(move |values| Pred::In { field, values })),
        (fields(&[Kind::Ip]), prop::collection::vec(net(), 1..4))
            .prop_map(|(field, nets)| Pred::Addr { field, nets }),
        (fields(&[Kind::Str]), text()).prop_map(|(field, value)| Pred::Str { field, value }),
        (fields(&[Kind::Str]), prop::collection::vec(text(), 1..4))
            .prop_map(|(field, values)| Pred::StrIn { field, values }),
        (fields(&[Kind::Str]), text()).prop_map(|(field, pattern)| Pred::Glob { field, pattern }),
        (
            fields(&[Kind::U32List]),
            prop::collection::vec(any::<u32>(), 1..4)
        )
            .prop_map(|(field, values)| Pred::ListHas { field, values }),
        (1..=255u8).prop_map(|mask| Pred::Flags { mask }),
        (prop::sample::select(Derived::ALL.to_vec()), op(), any::<u64>())
            .prop_map(|(quantity, op, value)| Pred::Derived { quantity, op, value }),
    ]
}

fn expr() -> impl Strategy<Value = Expr> {
    let leaf = prop_oneof![1 => Just(Expr::Any), 9 => pred().prop_map(Expr::Pred)];
    leaf.prop_recursive(5, 48, 4, |inner| {
        prop_oneof![
            inner.clone().prop_map(|e| Expr::Not(Box::new(e))),
            prop::collection::vec(inner.clone(), 2..4).prop_map(Expr::and),
            prop::collection::vec(inner, 2..4).prop_map(Expr::or),
        ]
    })
}

/// Words and symbols of the language, to build inputs that get past the lexer and deep into the parser.
const VOCABULARY: &[&str] = &[
    "and",
    "or",
    "not",
    "!",
    "&&",
    "||",
    "(",
    ")",
    "[",
    "]",
    ",",
    "=",
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "<<",
    "~",
    "in",
    "eq",
    "gt",
    "lt",
    "src",
    "dst",
    "ip",
    "host",
    "net",
    "port",
    "as",
    "mask",
    "mac",
    "if",
    "vlan",
    "tos",
    "proto",
    "tcp",
    "icmp-type",
    "flags",
    "SA",
    "X",
    "router",
    "next",
    "bgp",
    "bytes",
    "packets",
    "duration",
    "bps",
    "any",
    "ipv6",
    "10.0.0.0/8",
    "255.0.0.0",
    "2001:db8::1",
    "192.0.2.1",
    "80",
    "1k",
    "70000",
    "0x86dd",
    "00:11:22:33:44:55",
    "2024-03-01T12:00:00Z",
    "65000:100",
    "\"JP\"",
    "'x'",
    "*.com",
    "dst_country",
    "src_addr",
    "dst_as_path",
    "app",
    "flow_start",
    "src_mac",
    "extra_fields",
    "#",
    "\n",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn printing_and_parsing_give_back_the_same_expression(e in expr()) {
        let printed = e.to_string();
        let parsed = filter::parse(&printed)
            .unwrap_or_else(|err| panic!("`{printed}` does not parse: {err}"));
        prop_assert_eq!(parsed.expr(), &e, "printed as `{}`", printed);
    }

    #[test]
    fn the_parser_never_panics_on_arbitrary_text(s in any::<String>()) {
        fuzzing::filter(s.as_bytes());
    }

    #[test]
    fn the_parser_never_panics_on_sequences_of_its_own_words(
        words in prop::collection::vec(prop::sample::select(VOCABULARY.to_vec()), 0..16)
    ) {
        fuzzing::filter(words.join(" ").as_bytes());
    }
}
