//! Prints a checked filter in the filter language, in one canonical form that parses back to the same
//! [`Expr`]: schema names rather than nfdump's shorthands, strings quoted, times in RFC 3339.

use std::fmt;

use weir_flow::{Field, Kind};

use super::ast::{Expr, Pred};
use super::nfdump::flag_letters;
use weir_flow::time::Rfc3339;

use super::value::{Community, Mac, NetText, Quoted};

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Any => f.write_str("any"),
            Expr::Pred(p) => p.fmt(f),
            Expr::Not(inner) => match **inner {
                Expr::And(_) | Expr::Or(_) => write!(f, "not ({inner})"),
                _ => write!(f, "not {inner}"),
            },
            Expr::And(items) => join(f, items, " and "),
            Expr::Or(items) => join(f, items, " or "),
        }
    }
}

/// Operands joined by `sep`, compound ones in parentheses.
fn join(f: &mut fmt::Formatter<'_>, items: &[Expr], sep: &str) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(sep)?;
        }
        match item {
            Expr::And(_) | Expr::Or(_) => write!(f, "({item})")?,
            _ => write!(f, "{item}")?,
        }
    }
    Ok(())
}

/// One value of an integer, time or MAC column, as the parser reads it back.
struct Scalar(Field, u64);

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.column().kind {
            Kind::Time => write!(f, "{}", Rfc3339(self.1)),
            Kind::Mac => write!(f, "{}", Mac(self.1)),
            _ if self.0 == Field::etype => write!(f, "{:#06x}", self.1),
            _ => write!(f, "{}", self.1),
        }
    }
}

/// One element of a list column.
struct Item(Field, u32);

impl fmt::Display for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == Field::dst_communities {
            write!(f, "{}", Community(self.1))
        } else {
            write!(f, "{}", self.1)
        }
    }
}

/// `[a, b, c]`.
fn list<T>(f: &mut fmt::Formatter<'_>, items: &[T], mut one: impl FnMut(&T) -> String) -> fmt::Result {
    f.write_str("[")?;
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        f.write_str(&one(item))?;
    }
    f.write_str("]")
}

impl fmt::Display for Pred {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pred::Cmp { field, op, value } => {
                write!(
                    f,
                    "{} {} {}",
                    field.column().name,
                    op.symbol(),
                    Scalar(*field, *value)
                )
            }
            Pred::In { field, values } => {
                write!(f, "{} in ", field.column().name)?;
                list(f, values, |v| Scalar(*field, *v).to_string())
            }
            Pred::Addr { field, nets } => match nets.as_slice() {
                [one] if one.is_host() => write!(f, "{} = {}", field.column().name, NetText(*one)),
                [one] => write!(f, "{} << {}", field.column().name, NetText(*one)),
                _ => {
                    write!(f, "{} in ", field.column().name)?;
                    list(f, nets, |n| NetText(*n).to_string())
                }
            },
            Pred::Str { field, value } => write!(f, "{} = {}", field.column().name, Quoted(value)),
            Pred::StrIn { field, values } => {
                write!(f, "{} in ", field.column().name)?;
                list(f, values, |v| Quoted(v).to_string())
            }
            Pred::Glob { field, pattern } => write!(f, "{} ~ {}", field.column().name, Quoted(pattern)),
            Pred::ListHas { field, values } => match values.as_slice() {
                [one] => write!(f, "{} = {}", field.column().name, Item(*field, *one)),
                _ => {
                    write!(f, "{} in ", field.column().name)?;
                    list(f, values, |v| Item(*field, *v).to_string())
                }
            },
            Pred::Flags { mask } => {
                f.write_str("flags ")?;
                flag_letters(*mask).try_for_each(|c| write!(f, "{c}"))
            }
            Pred::Derived { quantity, op, value } => {
                write!(f, "{} {} {value}", quantity.name(), op.symbol())
            }
        }
    }
}
