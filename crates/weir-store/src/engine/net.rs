//! `weir_net(addr, mask, v4, v6)`: the network of an address under its prefix length, as text, which the
//! planner's network dimensions (`src_net`, `dst_net`) are written with in this engine's SQL. The cut
//! itself is the planner's [`net`](weir_query::plan::net), so every backend names a network alike.
//!
//! A batch holds few networks for its many rows, so each is written once into one buffer and every row
//! gets a view of it (`Utf8View`): formatting per row and copying the text per row took most of a subnet
//! report's time, and DataFusion groups views without copying them either.

use std::collections::HashMap;
use std::io::Write;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::Arc;

use arrow::array::{Array, AsArray, StringViewBuilder};
use arrow::buffer::Buffer;
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
        // Each network's text once in `text`; each row's place in it, or `None` for a null address.
        let mut text: Vec<u8> = Vec::new();
        let mut written: HashMap<(IpAddr, u8), (u32, u32)> = HashMap::new();
        let mut spans = Vec::with_capacity(addrs.len());
        for i in 0..addrs.len() {
            if addrs.is_null(i) {
                spans.push(None);
                continue;
            }
            let Ok(octets) = <[u8; 16]>::try_from(addrs.value(i)) else {
                return exec_err!("weir_net: an address of {} bytes", addrs.value(i).len());
            };
            let m = if masks.is_null(i) { 0 } else { masks.value(i) };
            let key = weir_query::plan::net(Ipv6Addr::from(octets), m, v4, v6);
            let span = match written.get(&key) {
                Some(&span) => span,
                None => {
                    let start = text.len();
                    let _ = write!(text, "{}/{}", key.0, key.1);
                    let span = (offset(start)?, offset(text.len() - start)?);
                    written.insert(key, span);
                    span
                }
            };
            spans.push(Some(span));
        }
        let mut out = StringViewBuilder::with_capacity(addrs.len());
        let block = out.append_block(Buffer::from_vec(text));
        for span in spans {
            match span {
                Some((start, len)) => out.try_append_view(block, start, len)?,
                None => out.append_null(),
            }
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

/// A position in a batch's text, which Arrow's views hold in 32 bits.
fn offset(n: usize) -> Result<u32> {
    match u32::try_from(n) {
        Ok(n) => Ok(n),
        Err(_) => exec_err!("weir_net: {n} bytes of networks in one batch"),
    }
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
}
