//! The SQL each dialect gets for a spread of filters: what the stores will run, reviewed once and pinned here.

use weir_query::filter::{self, ClickHouse, DataFusion};

/// (filter, DataFusion, ClickHouse).
const GOLDEN: &[(&str, &str, &str)] = &[
    (
        "proto tcp and dst port in [80, 443]",
        r#""proto" = 6 AND "dst_port" IN (80, 443)"#,
        "proto = 6 AND dst_port IN (80, 443)",
    ),
    (
        "host 192.0.2.1",
        r#""src_addr" = arrow_cast(X'00000000000000000000ffffc0000201', 'FixedSizeBinary(16)') OR "dst_addr" = arrow_cast(X'00000000000000000000ffffc0000201', 'FixedSizeBinary(16)')"#,
        "src_addr = toIPv6('::ffff:192.0.2.1') OR dst_addr = toIPv6('::ffff:192.0.2.1')",
    ),
    (
        "not src net 10.0.0.0/8",
        r#"NOT ("src_addr" BETWEEN arrow_cast(X'00000000000000000000ffff0a000000', 'FixedSizeBinary(16)') AND arrow_cast(X'00000000000000000000ffff0affffff', 'FixedSizeBinary(16)'))"#,
        "NOT (src_addr BETWEEN toIPv6('::ffff:10.0.0.0') AND toIPv6('::ffff:10.255.255.255'))",
    ),
    (
        "proto udp and dst_addr in [2001:db8::/32, 198.51.100.7, 198.51.100.8]",
        r#""proto" = 17 AND ("dst_addr" IN (arrow_cast(X'00000000000000000000ffffc6336407', 'FixedSizeBinary(16)'), arrow_cast(X'00000000000000000000ffffc6336408', 'FixedSizeBinary(16)')) OR "dst_addr" BETWEEN arrow_cast(X'20010db8000000000000000000000000', 'FixedSizeBinary(16)') AND arrow_cast(X'20010db8ffffffffffffffffffffffff', 'FixedSizeBinary(16)'))"#,
        "proto = 17 AND (dst_addr IN (toIPv6('::ffff:198.51.100.7'), toIPv6('::ffff:198.51.100.8')) OR dst_addr BETWEEN toIPv6('2001:db8::') AND toIPv6('2001:db8:ffff:ffff:ffff:ffff:ffff:ffff'))",
    ),
    (
        "dst_country = JP and app != dns",
        r#""dst_country" = 'JP' AND NOT ("app" = 'dns')"#,
        "dst_country = 'JP' AND NOT (app = 'dns')",
    ),
    (
        r#"src_domain ~ "*.example.com" or in_if_name in ["xe-0/0/1", "et-1/0/0"]"#,
        r#""src_domain" LIKE '%.example.com' OR "in_if_name" IN ('xe-0/0/1', 'et-1/0/0')"#,
        "src_domain LIKE '%.example.com' OR in_if_name IN ('xe-0/0/1', 'et-1/0/0')",
    ),
    (
        "flags SA or flags R",
        r#"("proto" = 6 AND ("tcp_flags" & 18) = 18) OR ("proto" = 6 AND ("tcp_flags" & 4) = 4)"#,
        "(proto = 6 AND bitAnd(tcp_flags, 18) = 18) OR (proto = 6 AND bitAnd(tcp_flags, 4) = 4)",
    ),
    (
        "duration > 1000",
        r#"GREATEST(CAST("flow_end" AS BIGINT) - CAST("flow_start" AS BIGINT), 0) / 1000000 > 1000"#,
        "intDiv(greatest(toUnixTimestamp64Nano(flow_end) - toUnixTimestamp64Nano(flow_start), 0), 1000000) > 1000",
    ),
    (
        "bps > 10M",
        r#"CASE WHEN GREATEST(CAST("flow_end" AS BIGINT) - CAST("flow_start" AS BIGINT), 0) > 0 THEN CAST("bytes" AS DOUBLE) * 8000000000 / GREATEST(CAST("flow_end" AS BIGINT) - CAST("flow_start" AS BIGINT), 0) ELSE 0 END > 10000000"#,
        "CASE WHEN greatest(toUnixTimestamp64Nano(flow_end) - toUnixTimestamp64Nano(flow_start), 0) > 0 THEN toFloat64(bytes) * 8000000000 / greatest(toUnixTimestamp64Nano(flow_end) - toUnixTimestamp64Nano(flow_start), 0) ELSE 0 END > 10000000",
    ),
    (
        "pps >= 1k or bpp < 64",
        r#"CASE WHEN GREATEST(CAST("flow_end" AS BIGINT) - CAST("flow_start" AS BIGINT), 0) > 0 THEN CAST("packets" AS DOUBLE) * 1000000000 / GREATEST(CAST("flow_end" AS BIGINT) - CAST("flow_start" AS BIGINT), 0) ELSE 0 END >= 1000 OR CASE WHEN "packets" > 0 THEN CAST("bytes" AS DOUBLE) / "packets" ELSE 0 END < 64"#,
        "CASE WHEN greatest(toUnixTimestamp64Nano(flow_end) - toUnixTimestamp64Nano(flow_start), 0) > 0 THEN toFloat64(packets) * 1000000000 / greatest(toUnixTimestamp64Nano(flow_end) - toUnixTimestamp64Nano(flow_start), 0) ELSE 0 END >= 1000 OR CASE WHEN packets > 0 THEN toFloat64(bytes) / packets ELSE 0 END < 64",
    ),
    (
        "dst_as_path = 3356 and dst_communities in [65000:100, 65000:200]",
        r#"array_has("dst_as_path", 3356) AND array_has_any("dst_communities", make_array(4259840100, 4259840200))"#,
        "has(dst_as_path, 3356) AND hasAny(dst_communities, [4259840100, 4259840200])",
    ),
    (
        "flow_start >= 2024-03-01T12:00:00Z and flow_end < 2024-03-01T13:00:00Z",
        r#""flow_start" >= to_timestamp_nanos(1709294400000000000) AND "flow_end" < to_timestamp_nanos(1709298000000000000)"#,
        "flow_start >= fromUnixTimestamp64Nano(toInt64(1709294400000000000), 'UTC') AND flow_end < fromUnixTimestamp64Nano(toInt64(1709298000000000000), 'UTC')",
    ),
    (
        "src_mac = 00:11:22:33:44:55",
        r#""src_mac" = 73588229205"#,
        "src_mac = 73588229205",
    ),
    ("any", "TRUE", "true"),
    (
        r#"app = "O'Neil\\path""#,
        r#""app" = ('O' || chr(39) || 'Neil' || chr(92) || 'path')"#,
        r"app = 'O\'Neil\\path'",
    ),
    (
        r#"dst_domain ~ "100%_*""#,
        r#""dst_domain" LIKE ('100' || chr(92) || '%' || chr(92) || '_%')"#,
        r"dst_domain LIKE '100\\%\\_%'",
    ),
];

#[test]
fn each_dialect_gets_the_reviewed_sql() {
    let mut wrong = Vec::new();
    for &(text, datafusion, clickhouse) in GOLDEN {
        let f = filter::parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        for (name, got, want) in [
            ("DataFusion", f.to_sql(&DataFusion), datafusion),
            ("ClickHouse", f.to_sql(&ClickHouse), clickhouse),
        ] {
            if got != want {
                wrong.push(format!("{text:?} in {name}:\n  got  {got}\n  want {want}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
