//! `weir_net(addr, mask, v4, v6)`: the network of an address under its prefix length, as text, which the
//! planner's network dimensions (`src_net`, `dst_net`) are written with in this engine's SQL. The cut
//! itself is the planner's [`net`](weir_query::plan::net), so every backend names a network alike.

use std::fmt::Write;
use std::net::Ipv6Addr;
use std::sync::Arc;

use arrow::array::{Array, AsArray, StringBuilder};
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
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [addr, mask, v4, v6] = args.args.as_slice() else {
            return exec_err!("weir_net takes four arguments");
        };
        let (v4, v6) = (default_len(v4)?, default_len(v6)?);
        let arrays = ColumnarValue::values_to_arrays(&[addr.clone(), mask.clone()])?;
        let addrs = arrays[0].as_fixed_size_binary();
        let masks = arrays[1].as_primitive::<UInt8Type>();
        let mut out = StringBuilder::with_capacity(addrs.len(), addrs.len() * 18);
        for i in 0..addrs.len() {
            if addrs.is_null(i) {
                out.append_null();
                continue;
            }
            let Ok(octets) = <[u8; 16]>::try_from(addrs.value(i)) else {
                return exec_err!("weir_net: an address of {} bytes", addrs.value(i).len());
            };
            let m = if masks.is_null(i) { 0 } else { masks.value(i) };
            let (net, len) = weir_query::plan::net(Ipv6Addr::from(octets), m, v4, v6);
            let _ = write!(out, "{net}/{len}");
            out.append_value("");
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
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
        let col = |i: usize| batches[0].column(i).as_string::<i32>().value(0).to_owned();
        assert_eq!(col(0), "192.0.2.0/24");
        assert_eq!(col(1), "2001:db8::/32");
    }
}
