use std::borrow::Cow;

/// What went wrong in the store, sorted by what the caller can do about it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A guarded update found the row changed by someone else.
    #[error("conflict")]
    Conflict,
    /// A unique constraint refused the write; `field` names the form field it guards.
    #[error("unique constraint on {field}")]
    Unique { field: &'static str },
    /// The request's submission key was claimed by another request (a double tap): this
    /// one must not act.
    #[error("submission already claimed")]
    AlreadySubmitted,
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Database(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        match &error {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_) => StoreError::Unavailable(error.to_string()),
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Unique {
                field: unique_field(db.constraint(), db.message()),
            },
            _ => StoreError::Database(error.to_string()),
        }
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(error: sqlx::migrate::MigrateError) -> Self {
        StoreError::Database(format!("migration failed: {error}"))
    }
}

/// Maps a unique constraint to the field a person would correct. PostgreSQL names the
/// constraint; SQLite only says which columns, in its message.
fn unique_field(constraint: Option<&str>, message: &str) -> &'static str {
    let text: Cow<'_, str> = match constraint {
        Some(name) => name.into(),
        None => message.into(),
    };
    if text.contains("lab_test") {
        "loinc"
    } else if text.contains("record_number") {
        "record_number"
    } else if text.contains("username") {
        "username"
    } else if text.contains("procedure_kind") {
        "code"
    } else if text.contains("equipment") {
        "equipment"
    } else if text.contains("procedure_staff") || text.contains("procedure_one_") {
        "staff_member_id"
    } else if text.contains("room") && text.contains("code") {
        "code"
    } else if text.contains("visit") && text.contains("room") {
        "room"
    } else {
        "unknown"
    }
}

#[cfg(test)]
mod tests {
    use super::unique_field;

    #[test]
    fn names_the_field_from_either_dialect() {
        assert_eq!(
            unique_field(Some("patient_facility_id_record_number_key"), ""),
            "record_number"
        );
        assert_eq!(
            unique_field(
                None,
                "UNIQUE constraint failed: patient.facility_id, patient.record_number"
            ),
            "record_number"
        );
        assert_eq!(
            unique_field(None, "UNIQUE constraint failed: visit.room_id"),
            "room"
        );
        assert_eq!(unique_field(None, "something else"), "unknown");
    }
}
