//! PostgreSQL roles: the application runs as a role that may only add to the audit trail.
//!
//! The owner of a table can disable its triggers, so the role the server connects as
//! must not own the schema. The owner (given to `plateau` as `--owner-url`) applies the
//! migrations, then grants the application's role what it needs: every table's rows,
//! but only SELECT and INSERT on `audit_event`, and no DELETE on the chain's head.

use super::{Store, StoreError};

/// A PostgreSQL identifier, quoted.
fn quoted(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}

impl Store {
    /// The role this store connects as.
    pub async fn current_role(&self) -> Result<String, StoreError> {
        crate::fetch_scalar!(self.read(), String, "SELECT CAST(current_user AS TEXT)")
    }

    /// PostgreSQL, run as the schema's owner: what the application's `role` may do,
    /// granted again after every migration (new tables start with no grants).
    pub async fn grant_application_role(&self, role: &str) -> Result<(), StoreError> {
        let Some(pool) = self.postgres_pool() else {
            return Err(StoreError::Database("roles are a PostgreSQL matter".to_owned()));
        };
        let role = quoted(role);
        let statements = [
            format!("GRANT USAGE ON SCHEMA public TO {role}"),
            format!("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}"),
            format!("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}"),
            format!("REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON audit_event FROM {role}"),
            format!("REVOKE DELETE, TRUNCATE, TRIGGER ON audit_chain FROM {role}"),
            format!("REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON _sqlx_migrations FROM {role}"),
        ];
        let mut tx = pool.begin().await?;
        for statement in &statements {
            sqlx::query(statement).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// PostgreSQL: whether the role this store connects as could rewrite the audit trail
    /// (it owns the table, is a superuser, or may update or delete its rows).
    pub async fn may_rewrite_audit(&self) -> Result<bool, StoreError> {
        if self.postgres_pool().is_none() {
            return Ok(false);
        }
        crate::fetch_scalar!(
            self.read(),
            bool,
            "SELECT pg_has_role(current_user, c.relowner, 'USAGE') \
                 OR (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) \
                 OR has_table_privilege(current_user, 'audit_event', 'UPDATE') \
                 OR has_table_privilege(current_user, 'audit_event', 'DELETE') \
                 OR has_table_privilege(current_user, 'audit_event', 'TRUNCATE') \
             FROM pg_class c WHERE c.relname = 'audit_event' AND c.relkind = 'r'"
        )
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(super::quoted("plateau_app"), "\"plateau_app\"");
        assert_eq!(
            super::quoted("a\"; DROP TABLE x; --"),
            "\"a\"\"; DROP TABLE x; --\""
        );
    }
}
