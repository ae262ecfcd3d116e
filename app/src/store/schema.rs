//! Reads back the live schema, so a test can hold the two dialects' migrations in step.

use super::{Store, StoreError};

/// One column of one table, as the database reports it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, sqlx::FromRow)]
pub struct SchemaColumn {
    pub table_name: String,
    pub column_name: String,
}

/// Every column of every application table (migration bookkeeping excluded), sorted.
pub async fn schema_columns(store: &Store) -> Result<Vec<SchemaColumn>, StoreError> {
    let sql = match store.backend() {
        super::Backend::Sqlite => {
            "SELECT m.name AS table_name, c.name AS column_name \
             FROM sqlite_master m JOIN pragma_table_info(m.name) c \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '_sqlx_%' \
             ORDER BY 1, 2"
        }
        super::Backend::Postgres => {
            "SELECT table_name::text AS table_name, column_name::text AS column_name \
             FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name NOT LIKE '_sqlx_%' \
             ORDER BY 1, 2"
        }
    };
    crate::fetch_all!(store.read(), SchemaColumn, sql)
}
