//! `weir_net(addr, mask, v4, v6)`: the network of an address under its prefix length, as text, which the
//! planner's network dimensions (`src_net`, `dst_net`) are written with in this engine's SQL. The cut
//! itself is the planner's [`net`](weir_query::plan::net), so every backend names a network alike.
//!
//! Rows come sorted by address within each exporter and time bucket, so a network is mostly its previous
//! row's: its text is then copied, not written again. IPv4 networks, nearly all of them, are written digit
//! by digit; `write!` through `Display` and a table of the networks already written (with its hashing and
//! the UTF-8 check of every view into the table's text) took two thirds of the function's time, and the
//! function a quarter of a subnet report's. The text goes out as views (`Utf8View`), which DataFusion
//! groups without copying.

use std::fmt::Write;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::Arc;

use arrow::array::{Array, AsArray, StringViewBuilder};
use arrow::datatypes::{DataType, UInt8Type};
use datafusion::common::{ScalarValue, exec_err};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

/// The function, to register in a session.
pub fn udf() -> ScalarUDF {
    ScalarUDF::from(Net {
        signature: Signature::exact(
            vec![
                DataType::FixedSizeBinary(16),
                DataType::UInt8,
                DataType::Int64,
                DataType::Int64,
            ],
            Volatility::Immutable,
        ),
    })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Net {
    signature: Signature,
}

impl ScalarUDFImpl for Net {
    fn name(&self) -> &str {
        "weir_net"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8View)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [addr, mask, v4, v6] = args.args.as_slice() else {
            return exec_err!("weir_net takes four arguments");
        };
        let (v4, v6) = (default_len(v4)?, default_len(v6)?);
        let arrays = ColumnarValue::values_to_arrays(&[addr.clone(), mask.clone()])?;
        let addrs = arrays[0].as_fixed_size_binary();
        let masks = arrays[1].as_primitive::<UInt8Type>();
        let mut out = StringViewBuilder::with_capacity(addrs.len());
        // The previous row's network and its text.
        let mut last: Option<(IpAddr, u8)> = None;
        let mut text = String::with_capacity(48);
        for i in 0..addrs.len() {
            if addrs.is_null(i) {
                out.append_null();
                continue;
            }
            let Ok(octets) = <[u8; 16]>::try_from(addrs.value(i)) else {
                return exec_err!("weir_net: an address of {} bytes", addrs.value(i).len());
            };
            let m = if masks.is_null(i) { 0 } else { masks.value(i) };
            let key = weir_query::plan::net(Ipv6Addr::from(octets), m, v4, v6);
            if last != Some(key) {
                text.clear();
                write_net(&mut text, key);
                last = Some(key);
            }
            out.append_value(&text);
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

/// Appends `addr/len`: an IPv4 network digit by digit, an IPv6 one as the standard library writes it.
fn write_net(out: &mut String, (addr, len): (IpAddr, u8)) {
    match addr {
        IpAddr::V4(a) => {
            for (i, octet) in a.octets().into_iter().enumerate() {
                if i > 0 {
                    out.push('.');
                }
                push_decimal(out, octet);
            }
        }
        IpAddr::V6(a) => {
            let _ = write!(out, "{a}");
        }
    }
    out.push('/');
    push_decimal(out, len);
}

/// Appends `n` in decimal.
fn push_decimal(out: &mut String, n: u8) {
    if n >= 100 {
        out.push(char::from(b'0' + n / 100));
    }
    if n >= 10 {
        out.push(char::from(b'0' + n / 10 % 10));
    }
    out.push(char::from(b'0' + n % 10));
}

/// A default prefix length: a literal the planner wrote.
fn default_len(v: &ColumnarValue) -> Result<u8> {
    match v {
        ColumnarValue::Scalar(ScalarValue::Int64(Some(n))) => match u8::try_from(*n) {
            Ok(n) => Ok(n),
            Err(_) => exec_err!("weir_net: a prefix length of {n}"),
        },
        _ => exec_err!("weir_net: the default prefix lengths must be literals"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::prelude::SessionContext;

    #[tokio::test]
    async fn cuts_addresses_in_sql() {
        let ctx = SessionContext::new();
        ctx.register_udf(udf());
        let sql = "SELECT weir_net(arrow_cast(X'00000000000000000000ffffc0000207', 'FixedSizeBinary(16)'), \
                   arrow_cast(0, 'UInt8'), 24, 48) AS a, \
                   weir_net(arrow_cast(X'20010db8000100020000000000000001', 'FixedSizeBinary(16)'), \
                   arrow_cast(32, 'UInt8'), 24, 48) AS b";
        let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
        let col = |i: usize| batches[0].column(i).as_string_view().value(0).to_owned();
        assert_eq!(col(0), "192.0.2.0/24");
        assert_eq!(col(1), "2001:db8::/32");

        // Rows of one batch sharing networks, and a null address.
        let sql = "SELECT weir_net(arrow_cast(a, 'FixedSizeBinary(16)'), arrow_cast(m, 'UInt8'), 24, 48) AS n \
                   FROM (VALUES (X'00000000000000000000ffffc0000207', 0), (X'00000000000000000000ffff0a010203', 8), \
                   (X'00000000000000000000ffffc00002ff', 0), (NULL, 0), (X'00000000000000000000ffff0a090909', 8)) AS t(a, m)";
        let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
        let nets: Vec<Option<String>> = batches
            .iter()
            .flat_map(|b| {
                b.column(0)
                    .as_string_view()
                    .iter()
                    .map(|v| v.map(str::to_owned))
                    .collect::<Vec<_>>()
            })
            .collect();
        let want = ["192.0.2.0/24", "10.0.0.0/8", "192.0.2.0/24", "", "10.0.0.0/8"];
        let want: Vec<Option<String>> = want
            .iter()
            .map(|s| (!s.is_empty()).then(|| (*s).to_owned()))
            .collect();
        assert_eq!(nets, want);
    }

    #[test]
    fn networks_are_written_as_the_standard_library_writes_them() {
        for n in 0..=255u8 {
            let mut out = String::new();
            push_decimal(&mut out, n);
            assert_eq!(out, n.to_string());
        }
        for (addr, len) in [
            ("0.0.0.0", 0),
            ("10.9.100.255", 32),
            ("192.0.2.0", 24),
            ("2001:db8::", 32),
            ("::", 0),
        ] {
            let addr: IpAddr = addr.parse().unwrap();
            let mut out = String::new();
            write_net(&mut out, (addr, len));
            assert_eq!(out, format!("{addr}/{len}"));
        }
    }
}
