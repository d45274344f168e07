//! Bad filters: each error says what is wrong, at which line and column, and suggests the likely word.

use weir_query::filter;

/// (filter, line, column, message, suggestion).
const CASES: &[(&str, u32, u32, &str, Option<&str>)] = &[
    (
        "dst_contry = JP",
        1,
        1,
        "unknown field `dst_contry`",
        Some("dst_country"),
    ),
    (
        "proto tcp and\n  dst_contry = JP",
        2,
        3,
        "unknown field `dst_contry`",
        Some("dst_country"),
    ),
    (
        "dst_prot = 80",
        1,
        1,
        "unknown field `dst_prot`",
        Some("dst_port"),
    ),
    ("protoo tcp", 1, 1, "unknown field `protoo`", Some("proto")),
    ("bandwidth > 10", 1, 1, "unknown field `bandwidth`", None),
    (
        "port 70000",
        1,
        6,
        "`70000` is out of range for `port` (at most 65535)",
        None,
    ),
    (
        "src_port = 65536",
        1,
        12,
        "`65536` is out of range for `src_port` (at most 65535)",
        None,
    ),
    (
        "tos 256",
        1,
        5,
        "`256` is out of range for `tos` (at most 255)",
        None,
    ),
    ("dst_addr = JP", 1, 12, "`JP` is not an address", None),
    (
        "dst_country << 10.0.0.0/8",
        1,
        13,
        "`<<` does not apply to `dst_country`, which holds a string; use =, !=, ~ or in",
        None,
    ),
    (
        "src_addr < 10.0.0.1",
        1,
        10,
        "`<` does not apply to `src_addr`, which holds an address; use =, !=, << or in",
        None,
    ),
    (
        "bytes ~ 10",
        1,
        7,
        "`~` does not apply to `bytes`, which holds a number; use =, !=, <, <=, >, >= or in",
        None,
    ),
    (
        "dst_as_path > 3",
        1,
        13,
        "`>` does not apply to `dst_as_path`, which holds a list; use =, != or in",
        None,
    ),
    (
        "net 10.0.0.0/33",
        1,
        5,
        "prefix length in `10.0.0.0/33` is longer than 32 bits",
        None,
    ),
    (
        "dst_addr << 2001:db8::/129",
        1,
        13,
        "prefix length in `2001:db8::/129` is longer than 128 bits",
        None,
    ),
    (
        "net 10.0.0.0/8x",
        1,
        5,
        "`10.0.0.0/8x` is not a prefix (address/length)",
        None,
    ),
    (
        "net 10.0.0.0 255.0.255.0",
        1,
        14,
        "netmask `255.0.255.0` is not contiguous",
        None,
    ),
    (
        "src_addr = 10.0.0.0/8",
        1,
        12,
        "`10.0.0.0/8` is a prefix; `=` compares one address",
        Some("src_addr << 10.0.0.0/8"),
    ),
    (
        "host 10.0.0.0/8",
        1,
        6,
        "`host` takes one address; `10.0.0.0/8` is a prefix",
        Some("net 10.0.0.0/8"),
    ),
    ("proto tcpp", 1, 7, "unknown protocol `tcpp`", Some("tcp")),
    (
        "flags SZ",
        1,
        7,
        "unknown TCP flag `Z` in `SZ` (flags are F S R P A U E C, and X for FSRPAU)",
        None,
    ),
    ("bytes > 1.5M", 1, 9, "`1.5M` is not a number", None),
    (
        "bytes > 99999999999999999999",
        1,
        9,
        "`99999999999999999999` is too large",
        None,
    ),
    (
        "port 80 and",
        1,
        12,
        "expected a filter term, found the end of the filter",
        None,
    ),
    (
        "(port 80",
        1,
        9,
        "expected `)` to close the `(` at 1:1, found the end of the filter",
        None,
    ),
    ("port 80)", 1, 8, "unmatched `)`", None),
    (
        "port 80 port 443",
        1,
        9,
        "expected `and`, `or` or the end of the filter, found `port`",
        None,
    ),
    (
        "app = dns http",
        1,
        11,
        "expected `and`, `or` or the end of the filter, found `http` (a value with spaces needs quotes)",
        None,
    ),
    ("app = \"dns", 1, 7, "unterminated string", None),
    ("app in []", 1, 8, "empty list", None),
    ("src_as in [1, x]", 1, 15, "`x` is not a number", None),
    (
        "src_as in (1, 2)",
        1,
        11,
        "expected `[` to start a list after `in`, found `(`",
        None,
    ),
    (
        "src_as in [1, 2",
        1,
        16,
        "expected a list value or `]`, found the end of the filter",
        None,
    ),
    (
        "dst_port",
        1,
        9,
        "expected an operator after `dst_port`, found the end of the filter",
        None,
    ),
    (
        "app =",
        1,
        6,
        "expected a value after `app`, found the end of the filter",
        None,
    ),
    ("and port 80", 1, 1, "expected a filter term, found `and`", None),
    (
        "port 80 or or port 443",
        1,
        12,
        "expected a filter term, found `or`",
        None,
    ),
    (
        "extra_fields = 1",
        1,
        1,
        "`extra_fields` holds raw information elements and cannot be filtered on",
        None,
    ),
    ("src proto tcp", 1, 5, "`proto` cannot follow a direction", None),
    (
        "src prot 80",
        1,
        5,
        "`prot` cannot follow a direction",
        Some("port"),
    ),
    ("src if 3", 1, 5, "`src` cannot qualify `if`", None),
    ("out port 3", 1, 5, "`out` cannot qualify `port`", None),
    (
        "router 192.0.2.1",
        1,
        8,
        "expected `ip` after `router`, found `192.0.2.1`",
        None,
    ),
    (
        "flow_start > 2024-02-30",
        1,
        14,
        "`2024-02-30` is not a time (RFC 3339, e.g. 2024-03-01T12:00:00Z, or nanoseconds)",
        None,
    ),
    (
        "flow_start > 99999999999999999999",
        1,
        14,
        "`99999999999999999999` is too large",
        None,
    ),
    (
        "flow_end < 9223372036854775808",
        1,
        12,
        "`9223372036854775808` is later than a store can hold",
        None,
    ),
    (
        "port 80 & port 443",
        1,
        9,
        "`&` alone is not an operator",
        Some("&&"),
    ),
    (
        "port 80 | port 443",
        1,
        9,
        "`|` alone is not an operator",
        Some("||"),
    ),
    (
        "duration in [1]",
        1,
        10,
        "`duration` takes a comparison, not a list",
        None,
    ),
    (
        "src_mac = 00:11:22:33:44",
        1,
        11,
        "`00:11:22:33:44` is not a MAC address",
        None,
    ),
    (
        "dst_communities = 70000:1",
        1,
        19,
        "`70000:1` is not a community (asn:value, each at most 65535)",
        None,
    ),
    (
        "app = \"a\\z\"",
        1,
        9,
        "a backslash in a string escapes only a quote or a backslash",
        None,
    ),
    ("# comment\n\n  é port 80", 3, 3, "unknown field `é`", None),
];

#[test]
fn errors_say_what_and_where() {
    let mut wrong = Vec::new();
    for &(text, line, column, message, suggestion) in CASES {
        match filter::parse(text) {
            Ok(f) => wrong.push(format!("{text:?} parsed as `{f}`")),
            Err(e) => {
                let got = (e.line, e.column, e.message.as_str(), e.suggestion.as_deref());
                if got != (line, column, message, suggestion) {
                    wrong.push(format!("{text:?}: got {got:?}"));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn nesting_is_limited_so_no_filter_exhausts_the_stack() {
    let depth = filter::MAX_DEPTH;
    let ok = format!("{}any", "not ".repeat(depth));
    assert!(filter::parse(&ok).is_ok());
    let deep = format!("{}any", "not ".repeat(depth + 1));
    let e = filter::parse(&deep).unwrap_err();
    assert_eq!(e.message, format!("filter nested deeper than {depth} levels"));
    assert_eq!((e.line, e.column), (1, 4 * depth as u32 + 1));
    let parens = format!("{}port 80{}", "(".repeat(100_000), ")".repeat(100_000));
    assert_eq!(filter::parse(&parens).unwrap_err().column, depth as u32 + 1);
}

#[test]
fn long_flat_filters_parse_and_run_without_deep_recursion() {
    let text = vec!["port 80"; 100_000].join(" or ");
    let f = filter::parse(&text).expect("long filter");
    assert!(!f.matches(&weir_flow::FlowRecord::default(), &weir_flow::FlowBatch::new()));
    assert!(f.to_sql(&filter::ClickHouse).len() > 1_000_000);
}

#[test]
fn messages_read_as_one_line_with_the_position() {
    let e = filter::parse("dst_contry = JP").unwrap_err();
    assert_eq!(
        e.to_string(),
        "unknown field `dst_contry` at 1:1; did you mean `dst_country`?"
    );
    let e = filter::parse("port 70000").unwrap_err();
    assert_eq!(
        e.to_string(),
        "`70000` is out of range for `port` (at most 65535) at 1:6"
    );
}
