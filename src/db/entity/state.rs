//! The domain's state enums as SeaORM active enums: entities hold `domain::RunStatus` and the
//! like, stored as the text `domain::state` gives each variant (in text columns, so no
//! migration and no PostgreSQL enum type). `domain/` stays free of SeaORM; the traits are
//! implemented here. Reading a text that is not one of the enum's is an error naming the
//! enum and the text, never a default.

use sea_orm::sqlx::{self, postgres::PgRow, sqlite::SqliteRow};

use crate::db::rows;
use crate::domain::{
    DeliveryStatus, LevelSource, LineAction, LineOutcome, LinkState, LinkVia, MetricUnit,
    OnManualEdit, RetireMode, Role, RunStatus, RunTrigger, SkipReason, UsageValue,
};

macro_rules! active_enum {
    ($($ty:ident),+ $(,)?) => {$(
        impl sea_orm::ActiveEnum for $ty {
            type Value = String;
            type ValueVec = Vec<String>;

            fn name() -> sea_orm::sea_query::DynIden {
                $ty::NAME.to_owned().into()
            }

            fn to_value(&self) -> String {
                self.as_str().to_owned()
            }

            fn try_from_value(v: &String) -> Result<Self, sea_orm::DbErr> {
                v.parse().map_err(|_| {
                    sea_orm::DbErr::Type(format!("unexpected value for {} enum: {v:?}", $ty::NAME))
                })
            }

            fn db_type() -> sea_orm::ColumnDef {
                sea_orm::prelude::ColumnTypeTrait::def(sea_orm::ColumnType::String(
                    sea_orm::sea_query::StringLen::None,
                ))
            }
        }

        impl sea_orm::strum::IntoEnumIterator for $ty {
            type Iterator = std::iter::Copied<std::slice::Iter<'static, $ty>>;

            fn iter() -> Self::Iterator {
                $ty::ALL.iter().copied()
            }
        }

        impl From<$ty> for sea_orm::Value {
            fn from(source: $ty) -> Self {
                source.as_str().into()
            }
        }

        impl sea_orm::TryGetable for $ty {
            fn try_get_by<I: sea_orm::ColIdx>(
                res: &sea_orm::QueryResult,
                idx: I,
            ) -> Result<Self, sea_orm::TryGetError> {
                let value = <String as sea_orm::TryGetable>::try_get_by(res, idx)?;
                <Self as sea_orm::ActiveEnum>::try_from_value(&value)
                    .map_err(sea_orm::TryGetError::DbErr)
            }
        }

        impl rows::Cell for Option<$ty> {
            fn postgres(row: &PgRow, at: usize, check: bool) -> Result<Self, sqlx::Error> {
                rows::parsed(rows::Raw::Postgres(row), at, check, $ty::NAME)
            }
            fn sqlite(row: &SqliteRow, at: usize) -> Result<Self, sqlx::Error> {
                rows::parsed(rows::Raw::Sqlite(row), at, true, $ty::NAME)
            }
        }

        impl rows::Cell for $ty {
            fn postgres(row: &PgRow, at: usize, check: bool) -> Result<Self, sqlx::Error> {
                Option::<$ty>::postgres(row, at, check)?.ok_or_else(rows::null)
            }
            fn sqlite(row: &SqliteRow, at: usize) -> Result<Self, sqlx::Error> {
                Option::<$ty>::sqlite(row, at)?.ok_or_else(rows::null)
            }
        }

        impl sea_orm::sea_query::ValueType for $ty {
            fn try_from(
                v: sea_orm::Value,
            ) -> Result<Self, sea_orm::sea_query::ValueTypeErr> {
                let value = <String as sea_orm::sea_query::ValueType>::try_from(v)?;
                <Self as sea_orm::ActiveEnum>::try_from_value(&value)
                    .map_err(|_| sea_orm::sea_query::ValueTypeErr)
            }

            fn type_name() -> String {
                $ty::NAME.to_owned()
            }

            fn array_type() -> sea_orm::sea_query::ArrayType {
                <String as sea_orm::sea_query::ValueType>::array_type()
            }

            fn column_type() -> sea_orm::sea_query::ColumnType {
                <Self as sea_orm::ActiveEnum>::db_type()
                    .get_column_type()
                    .to_owned()
            }

            fn enum_type_name() -> Option<&'static str> {
                None
            }
        }

        impl sea_orm::sea_query::Nullable for $ty {
            fn null() -> sea_orm::Value {
                <String as sea_orm::sea_query::Nullable>::null()
            }
        }

        impl sea_orm::IntoActiveValue<$ty> for $ty {
            fn into_active_value(self) -> sea_orm::ActiveValue<$ty> {
                sea_orm::ActiveValue::Set(self)
            }
        }
    )+};
}

active_enum!(
    UsageValue,
    MetricUnit,
    LevelSource,
    RetireMode,
    OnManualEdit,
    RunStatus,
    RunTrigger,
    LineAction,
    SkipReason,
    LineOutcome,
    DeliveryStatus,
    Role,
    LinkState,
    LinkVia,
);

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::ActiveEnum;

    #[test]
    fn an_unknown_stored_value_is_an_error_that_names_it() {
        let error = RunStatus::try_from_value(&"FINISHED".to_owned()).unwrap_err();
        assert_eq!(
            error.to_string(),
            r#"Type Error: unexpected value for RunStatus enum: "FINISHED""#
        );
        assert_eq!(
            LineOutcome::try_from_value(&"DONE".to_owned()).unwrap(),
            LineOutcome::Done
        );
        assert_eq!(
            <SkipReason as sea_orm::Iterable>::iter().count(),
            SkipReason::ALL.len()
        );
    }
}
