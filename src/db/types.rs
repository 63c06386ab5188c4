//! How domain enums are stored: as their text values, read back strictly.
//!
//! `domain` knows nothing of Diesel, so the mappings live here. A stored value that
//! names no variant is an error when read, never a default.

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, Queryable};
use diesel::expression::AsExpression;
use diesel::pg::Pg;
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::{Nullable, Text};

use super::jobs::JobStatus;
use crate::domain::{AccessLevel, DomainPolicy, InvitationStatus, Role, TeamRole};

/// Maps an enum with `as_str()` and `from_db()` to a `text` column.
macro_rules! text_enum {
    ($type:ty, $what:literal) => {
        impl FromSql<Text, Pg> for $type {
            fn from_sql(bytes: <Pg as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                let text = <String as FromSql<Text, Pg>>::from_sql(bytes)?;
                <$type>::from_db(&text)
                    .ok_or_else(|| format!(concat!("unknown ", $what, " {:?} in the database"), text).into())
            }
        }

        impl ToSql<Text, Pg> for $type {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                <str as ToSql<Text, Pg>>::to_sql(self.as_str(), out)
            }
        }

        impl Queryable<Text, Pg> for $type {
            type Row = Self;
            fn build(row: Self) -> deserialize::Result<Self> {
                Ok(row)
            }
        }

        impl AsExpression<Text> for $type {
            type Expression = <&'static str as AsExpression<Text>>::Expression;
            fn as_expression(self) -> Self::Expression {
                AsExpression::<Text>::as_expression(self.as_str())
            }
        }

        impl AsExpression<Text> for &$type {
            type Expression = <&'static str as AsExpression<Text>>::Expression;
            fn as_expression(self) -> Self::Expression {
                AsExpression::<Text>::as_expression(self.as_str())
            }
        }

        impl AsExpression<Nullable<Text>> for $type {
            type Expression = <&'static str as AsExpression<Nullable<Text>>>::Expression;
            fn as_expression(self) -> Self::Expression {
                AsExpression::<Nullable<Text>>::as_expression(self.as_str())
            }
        }

        impl AsExpression<Nullable<Text>> for &$type {
            type Expression = <&'static str as AsExpression<Nullable<Text>>>::Expression;
            fn as_expression(self) -> Self::Expression {
                AsExpression::<Nullable<Text>>::as_expression(self.as_str())
            }
        }
    };
}

text_enum!(Role, "role");
text_enum!(InvitationStatus, "invitation status");
text_enum!(JobStatus, "job status");
text_enum!(TeamRole, "team role");
text_enum!(AccessLevel, "access level");
text_enum!(DomainPolicy, "domain policy");
text_enum!(crate::domain::join_request::RequestStatus, "join request status");
