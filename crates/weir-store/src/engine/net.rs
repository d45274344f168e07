//! `weir_net(addr, mask, v4, v6)`: the network of an address under its prefix length, as its binary key
//! ([`net_key`]: the network's address as IPv6, then the length), which the planner's network dimensions
//! (`src_net`, `dst_net`) are written with in this engine's SQL. The cut itself is the planner's
//! [`net`](weir_query::plan::net), so every backend names a network alike; answers turn the few keys they
//! return into text (`engine/values.rs`).
//!
//! Keys are fixed-width bytes because DataFusion groups and compares those without the work text costs:
//! writing each network, checking it as UTF-8, comparing views longer than twelve bytes out of line. Rows
//! come sorted by address within each exporter and time bucket, so a network is mostly its previous row's
//! and its key is then copied, not cut again.

use std::net::Ipv6Addr;
use std::sync::Arc;

use arrow::array::{Array, AsArray, FixedSizeBinaryArray};
use arrow::buffer::MutableBuffer;
use arrow::datatypes::{DataType, UInt8Type};
use datafusion::common::{ScalarValue, exec_err};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use weir_query::plan::{NET_KEY_LEN, net_key};

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

/// [`NET_KEY_LEN`] as Arrow's width.
const WIDTH: i32 = NET_KEY_LEN as i32;

impl ScalarUDFImpl for Net {
    fn name(&self) -> &str {
        "weir_net"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::FixedSizeBinary(WIDTH))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [addr, mask, v4, v6] = args.args.as_slice() else {
            return exec_err!("weir_net takes four arguments");
        };
        let (v4, v6) = (default_len(v4)?, default_len(v6)?);
        let arrays = ColumnarValue::values_to_arrays(&[addr.clone(), mask.clone()])?;
        let addrs = arrays[0].as_fixed_size_binary();
        let masks = arrays[1].as_primitive::<UInt8Type>();
        let n = addrs.len();
        let Some(octets) = addrs
            .value_data()
            .get(..n * 16)
            .filter(|_| addrs.value_size() == 16)
        else {
            return exec_err!("weir_net: addresses of {} bytes", addrs.value_size());
        };
        // Written in place a fixed-size chunk at a time: a call to copy each row's few bytes was as costly
        // as cutting its network.
        let mut keys = MutableBuffer::from_len_zeroed(n * NET_KEY_LEN);
        // The previous row's address and mask, and its key.
        let mut last: Option<([u8; 16], u8)> = None;
        let mut key = [0; NET_KEY_LEN];
        for (i, (octets, out)) in octets
            .chunks_exact(16)
            .zip(keys.as_slice_mut().chunks_exact_mut(NET_KEY_LEN))
            .enumerate()
        {
            // A null address gets any key; the null mask below hides it.
            let a = <[u8; 16]>::try_from(octets).unwrap_or_default();
            let m = if masks.is_null(i) { 0 } else { masks.value(i) };
            if last != Some((a, m)) {
                key = net_key(weir_query::plan::net(Ipv6Addr::from(a), m, v4, v6));
                last = Some((a, m));
            }
            out.copy_from_slice(&key);
        }
        let nulls = addrs.nulls().cloned();
        let out = FixedSizeBinaryArray::try_new(WIDTH, keys.into(), nulls)?;
        Ok(ColumnarValue::Array(Arc::new(out)))
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
    use weir_query::plan::net_from_key;

    /// The networks in the first column of `sql`'s answer, as text.
    async fn nets(sql: &str) -> Vec<Option<String>> {
        let ctx = SessionContext::new();
        ctx.register_udf(udf());
        let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
        batches
            .iter()
            .flat_map(|b| {
                let keys = b.column(0).as_fixed_size_binary();
                (0..keys.len())
                    .map(|i| {
                        keys.is_valid(i).then(|| {
                            let (addr, len) = net_from_key(keys.value(i)).unwrap();
                            format!("{addr}/{len}")
                        })
                    })
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    #[tokio::test]
    async fn cuts_addresses_in_sql() {
        let sql = "SELECT weir_net(arrow_cast(X'00000000000000000000ffffc0000207', 'FixedSizeBinary(16)'), \
                   arrow_cast(0, 'UInt8'), 24, 48) AS a \
                   UNION ALL SELECT weir_net(arrow_cast(X'20010db8000100020000000000000001', 'FixedSizeBinary(16)'), \
                   arrow_cast(32, 'UInt8'), 24, 48)";
        let mut got = nets(sql).await;
        got.sort();
        assert_eq!(
            got,
            [Some("192.0.2.0/24".to_owned()), Some("2001:db8::/32".to_owned())]
        );

        // Rows of one batch sharing networks, one address under two masks, and a null address.
        let sql = "SELECT weir_net(arrow_cast(a, 'FixedSizeBinary(16)'), arrow_cast(m, 'UInt8'), 24, 48) AS n \
                   FROM (VALUES (X'00000000000000000000ffffc0000207', 0), (X'00000000000000000000ffff0a010203', 8), \
                   (X'00000000000000000000ffff0a010203', 16), (X'00000000000000000000ffffc00002ff', 0), (NULL, 0), \
                   (X'00000000000000000000ffff0a090909', 8)) AS t(a, m)";
        let want = [
            "192.0.2.0/24",
            "10.0.0.0/8",
            "10.1.0.0/16",
            "192.0.2.0/24",
            "",
            "10.0.0.0/8",
        ];
        let want: Vec<Option<String>> = want
            .iter()
            .map(|s| (!s.is_empty()).then(|| (*s).to_owned()))
            .collect();
        assert_eq!(nets(sql).await, want);
    }

    #[tokio::test]
    async fn keys_compare_with_the_dialects_literals() {
        use weir_query::filter::Dialect;
        let mut literal = String::new();
        weir_query::filter::DataFusion.net_literal(&mut literal, ("10.1.0.0".parse().unwrap(), 16));
        let sql = format!(
            "SELECT weir_net(arrow_cast(X'00000000000000000000ffff0a010203', 'FixedSizeBinary(16)'), \
             arrow_cast(16, 'UInt8'), 24, 48) = {literal} AS same"
        );
        let ctx = SessionContext::new();
        ctx.register_udf(udf());
        let batches = ctx.sql(&sql).await.unwrap().collect().await.unwrap();
        assert!(batches[0].column(0).as_boolean().value(0));
    }
}
