//! Procedures in the database: the catalog, orders and their lifecycle, the staff on
//! each one.

use super::{Candidate, Priority, Procedure, ProcedureKind, ProcedureStaff, ProcedureState, StaffingRole};
use crate::accounts::CertificationKind;
use crate::equipment::EquipmentKind;
use crate::positioning::BodyPosition;
use crate::staff::StaffPresence;
use crate::store::{Exec, Store, StoreError, Tx};
use chrono::{DateTime, Utc};

#[derive(sqlx::FromRow)]
struct KindRow {
    id: i64,
    code: String,
    name_fr: String,
    name_en: String,
    qualification: Option<String>,
    supervised: bool,
    #[sqlx(try_from = "String")]
    default_position: BodyPosition,
    typical_minutes: i64,
    active: bool,
}

fn corrupt(error: String) -> StoreError {
    StoreError::Database(error)
}

/// Catalog entries (or only one), without their equipment.
async fn kind_rows(exec: Exec<'_>, facility_id: i64, only: Option<i64>) -> Result<Vec<KindRow>, StoreError> {
    crate::fetch_all!(
        exec,
        KindRow,
        "SELECT id, code, name_fr, name_en, qualification, supervised, default_position, typical_minutes, active \
         FROM procedure_kind WHERE facility_id = $1 AND ($2 IS NULL OR id = $2) ORDER BY name_fr, id",
        facility_id,
        only
    )
}

/// The equipment every catalog entry needs: (entry, kind of equipment).
async fn kind_equipment(exec: Exec<'_>, facility_id: i64) -> Result<Vec<(i64, String)>, StoreError> {
    crate::fetch_all!(
        exec,
        (i64, String),
        "SELECT e.procedure_kind_id, e.equipment_kind FROM procedure_kind_equipment e \
         JOIN procedure_kind k ON k.id = e.procedure_kind_id WHERE k.facility_id = $1 \
         ORDER BY e.equipment_kind",
        facility_id
    )
}

fn assemble(rows: Vec<KindRow>, equipment: &[(i64, String)]) -> Result<Vec<ProcedureKind>, StoreError> {
    rows.into_iter()
        .map(|row| {
            let qualification = row
                .qualification
                .map(CertificationKind::try_from)
                .transpose()
                .map_err(corrupt)?;
            let equipment = equipment
                .iter()
                .filter(|(kind_id, _)| *kind_id == row.id)
                .map(|(_, code)| EquipmentKind::try_from(code.clone()).map_err(corrupt))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(ProcedureKind {
                id: row.id,
                code: row.code,
                name_fr: row.name_fr,
                name_en: row.name_en,
                qualification,
                supervised: row.supervised,
                equipment,
                default_position: row.default_position,
                typical_minutes: row.typical_minutes,
                active: row.active,
            })
        })
        .collect()
}

/// The facility's catalog, retired entries included, by French name.
pub async fn catalog(store: &Store, facility_id: i64) -> Result<Vec<ProcedureKind>, StoreError> {
    let rows = kind_rows(store.read(), facility_id, None).await?;
    assemble(rows, &kind_equipment(store.read(), facility_id).await?)
}

/// One catalog entry, as a write transaction sees it.
pub async fn kind_in(tx: &mut Tx, facility_id: i64, kind_id: i64) -> Result<ProcedureKind, StoreError> {
    let rows = kind_rows(tx.exec(), facility_id, Some(kind_id)).await?;
    assemble(rows, &kind_equipment(tx.exec(), facility_id).await?)?
        .pop()
        .ok_or(StoreError::NotFound)
}

/// Adds a catalog entry (`id` is ignored) or, when `id` names one, replaces it.
pub async fn save_kind(tx: &mut Tx, facility_id: i64, kind: &ProcedureKind) -> Result<i64, StoreError> {
    let qualification = kind.qualification.map(CertificationKind::code);
    let id = if kind.id > 0 {
        let changed = crate::execute!(
            tx.exec(),
            "UPDATE procedure_kind SET code = $1, name_fr = $2, name_en = $3, qualification = $4, \
             supervised = $5, default_position = $6, typical_minutes = $7, active = $8 \
             WHERE id = $9 AND facility_id = $10",
            &kind.code,
            &kind.name_fr,
            &kind.name_en,
            qualification,
            kind.supervised,
            kind.default_position.code(),
            kind.typical_minutes,
            kind.active,
            kind.id,
            facility_id
        )?;
        if changed != 1 {
            return Err(StoreError::NotFound);
        }
        crate::execute!(
            tx.exec(),
            "DELETE FROM procedure_kind_equipment WHERE procedure_kind_id = $1",
            kind.id
        )?;
        kind.id
    } else {
        crate::fetch_scalar!(
            tx.exec(),
            i64,
            "INSERT INTO procedure_kind (facility_id, code, name_fr, name_en, qualification, supervised, \
             default_position, typical_minutes, active) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
            facility_id,
            &kind.code,
            &kind.name_fr,
            &kind.name_en,
            qualification,
            kind.supervised,
            kind.default_position.code(),
            kind.typical_minutes,
            kind.active
        )?
    };
    for equipment in &kind.equipment {
        crate::execute!(
            tx.exec(),
            "INSERT INTO procedure_kind_equipment (procedure_kind_id, equipment_kind) VALUES ($1, $2)",
            id,
            equipment.code()
        )?;
    }
    Ok(id)
}

/// An order as the physician places it.
pub struct NewOrder<'a> {
    pub visit_id: i64,
    pub kind_id: i64,
    pub priority: Priority,
    pub note: &'a str,
    pub ordered_by: i64,
}

pub async fn order(tx: &mut Tx, order: &NewOrder<'_>, now: DateTime<Utc>) -> Result<i64, StoreError> {
    crate::fetch_scalar!(
        tx.exec(),
        i64,
        "INSERT INTO procedure_order (visit_id, procedure_kind_id, priority, note, state, version, ordered_by, ordered_at) \
         VALUES ($1, $2, $3, $4, $5, 1, $6, $7) RETURNING id",
        order.visit_id,
        order.kind_id,
        order.priority.code(),
        order.note,
        ProcedureState::Ordered.code(),
        order.ordered_by,
        now
    )
}

#[derive(sqlx::FromRow)]
struct OrderRow {
    id: i64,
    visit_id: i64,
    procedure_kind_id: i64,
    #[sqlx(try_from = "String")]
    priority: Priority,
    note: String,
    #[sqlx(try_from = "String")]
    state: ProcedureState,
    version: i64,
    ordered_by_given: String,
    ordered_by_family: String,
    ordered_at: DateTime<Utc>,
    room_id: Option<i64>,
    roomed_at: Option<DateTime<Utc>>,
    started_at: Option<DateTime<Utc>>,
    ended_at: Option<DateTime<Utc>>,
    cancel_reason: Option<String>,
}

const ORDER_SELECT: &str =
    "SELECT o.id, o.visit_id, o.procedure_kind_id, o.priority, o.note, o.state, o.version, \
     s.given_name AS ordered_by_given, s.family_name AS ordered_by_family, o.ordered_at, o.room_id, \
     o.roomed_at, o.started_at, o.ended_at, o.cancel_reason \
     FROM procedure_order o JOIN staff_member s ON s.id = o.ordered_by \
     JOIN procedure_kind k ON k.id = o.procedure_kind_id";

#[derive(sqlx::FromRow)]
struct StaffRow {
    procedure_order_id: i64,
    staff_member_id: i64,
    given_name: String,
    family_name: String,
    #[sqlx(try_from = "String")]
    role: StaffingRole,
    present_at: Option<DateTime<Utc>>,
    cosigned_at: Option<DateTime<Utc>>,
    cosign_note: Option<String>,
}

/// Procedures matching `filter` (SQL on `o`, binding `$1` to the facility and `$2` to
/// `value`), with their kind, staff and patient.
async fn procedures(
    store: &Store,
    facility_id: i64,
    filter: &str,
    value: i64,
) -> Result<Vec<Procedure>, StoreError> {
    let sql = format!("{ORDER_SELECT} WHERE k.facility_id = $1 AND {filter} ORDER BY o.ordered_at, o.id");
    let rows = crate::fetch_all!(store.read(), OrderRow, &sql, facility_id, value)?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let staff_sql = format!(
        "SELECT ps.procedure_order_id, ps.staff_member_id, s.given_name, s.family_name, ps.role, ps.present_at, \
         ps.cosigned_at, ps.cosign_note \
         FROM procedure_staff ps JOIN staff_member s ON s.id = ps.staff_member_id \
         JOIN procedure_order o ON o.id = ps.procedure_order_id \
         JOIN procedure_kind k ON k.id = o.procedure_kind_id \
         WHERE k.facility_id = $1 AND {filter} ORDER BY ps.assigned_at"
    );
    let visit_condition = format!(
        "v.id IN (SELECT o.visit_id FROM procedure_order o \
         JOIN procedure_kind k ON k.id = o.procedure_kind_id WHERE k.facility_id = $1 AND {filter})"
    );
    let (catalog, staff, visits) = tokio::try_join!(
        catalog(store, facility_id),
        async { crate::fetch_all!(store.read(), StaffRow, &staff_sql, facility_id, value) },
        crate::patients::store::visits_where(store, &visit_condition, facility_id, value),
    )?;
    rows.into_iter()
        .map(|row| {
            let kind = catalog
                .iter()
                .find(|k| k.id == row.procedure_kind_id)
                .cloned()
                .ok_or(StoreError::NotFound)?;
            let visit = visits
                .iter()
                .find(|v| v.visit_id == row.visit_id)
                .cloned()
                .ok_or(StoreError::NotFound)?;
            let staff = staff
                .iter()
                .filter(|s| s.procedure_order_id == row.id)
                .map(|s| ProcedureStaff {
                    staff_member_id: s.staff_member_id,
                    name: crate::staff::display_name(&s.given_name, &s.family_name),
                    role: s.role,
                    present_at: s.present_at,
                    cosigned_at: s.cosigned_at,
                    cosign_note: s.cosign_note.clone(),
                })
                .collect();
            Ok(Procedure {
                id: row.id,
                kind,
                priority: row.priority,
                note: row.note,
                state: row.state,
                version: row.version,
                ordered_by: crate::staff::display_name(&row.ordered_by_given, &row.ordered_by_family),
                ordered_at: row.ordered_at,
                room_id: row.room_id,
                roomed_at: row.roomed_at,
                started_at: row.started_at,
                ended_at: row.ended_at,
                cancel_reason: row.cancel_reason,
                staff,
                visit,
            })
        })
        .collect()
}

/// One procedure.
pub async fn get(store: &Store, facility_id: i64, id: i64) -> Result<Procedure, StoreError> {
    procedures(store, facility_id, "o.id = $2", id)
        .await?
        .pop()
        .ok_or(StoreError::NotFound)
}

/// Procedures not yet ended: waiting, roomed or in progress.
pub async fn open(store: &Store, facility_id: i64) -> Result<Vec<Procedure>, StoreError> {
    let filter = "o.state IN ('ordered', 'roomed', 'in_progress') AND o.id > $2";
    procedures(store, facility_id, filter, 0).await
}

/// Done procedures that `staff_member_id` supervised and has not co-signed yet.
pub async fn awaiting_cosignature(
    store: &Store,
    facility_id: i64,
    staff_member_id: i64,
) -> Result<Vec<Procedure>, StoreError> {
    let filter = "o.state = 'done' AND o.id IN (SELECT procedure_order_id FROM procedure_staff \
                  WHERE staff_member_id = $2 AND role = 'supervisor' AND cosigned_at IS NULL)";
    procedures(store, facility_id, filter, staff_member_id).await
}

/// Every procedure of a visit, ended ones included.
pub async fn of_visit(store: &Store, facility_id: i64, visit_id: i64) -> Result<Vec<Procedure>, StoreError> {
    procedures(store, facility_id, "o.visit_id = $2", visit_id).await
}

/// The waiting queue: ordered procedures, stat first, then urgent, then routine, each
/// by how long the patient has waited.
pub fn queue(open: &[Procedure]) -> Vec<Procedure> {
    let mut waiting: Vec<Procedure> = open
        .iter()
        .filter(|p| p.state == ProcedureState::Ordered)
        .cloned()
        .collect();
    waiting.sort_by_key(|p| (p.priority.rank(), p.ordered_at, p.id));
    waiting
}

/// The columns of an order a write transaction acts on.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrderState {
    pub id: i64,
    pub visit_id: i64,
    pub procedure_kind_id: i64,
    #[sqlx(try_from = "String")]
    pub state: ProcedureState,
    pub version: i64,
    pub room_id: Option<i64>,
}

/// The order as it stands: on a transaction's connection, or on the read pool to learn
/// whose it is before any transaction opens.
pub async fn state_in(exec: Exec<'_>, facility_id: i64, id: i64) -> Result<OrderState, StoreError> {
    crate::fetch_optional!(
        exec,
        OrderState,
        "SELECT o.id, o.visit_id, o.procedure_kind_id, o.state, o.version, o.room_id \
         FROM procedure_order o JOIN procedure_kind k ON k.id = o.procedure_kind_id \
         WHERE o.id = $1 AND k.facility_id = $2",
        id,
        facility_id
    )?
    .ok_or(StoreError::NotFound)
}

/// A change of state, with what goes with it.
pub enum Change<'a> {
    Roomed { room_id: i64 },
    Started { by: i64 },
    Completed { by: i64 },
    Cancelled { by: i64, reason: &'a str },
}

/// Applies `change` if the order is still at `version`; returns whether it was.
pub async fn advance(
    tx: &mut Tx,
    id: i64,
    version: i64,
    to: ProcedureState,
    change: Change<'_>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let set = "state = $1, version = version + 1";
    let changed = match change {
        Change::Roomed { room_id } => crate::execute!(
            tx.exec(),
            &format!("UPDATE procedure_order SET {set}, room_id = $4, roomed_at = $5 WHERE id = $2 AND version = $3"),
            to.code(),
            id,
            version,
            room_id,
            now
        )?,
        Change::Started { by } => crate::execute!(
            tx.exec(),
            &format!("UPDATE procedure_order SET {set}, started_by = $4, started_at = $5 WHERE id = $2 AND version = $3"),
            to.code(),
            id,
            version,
            by,
            now
        )?,
        Change::Completed { by } => crate::execute!(
            tx.exec(),
            &format!("UPDATE procedure_order SET {set}, ended_by = $4, ended_at = $5 WHERE id = $2 AND version = $3"),
            to.code(),
            id,
            version,
            by,
            now
        )?,
        Change::Cancelled { by, reason } => crate::execute!(
            tx.exec(),
            &format!(
                "UPDATE procedure_order SET {set}, ended_by = $4, ended_at = $5, cancel_reason = $6 \
                 WHERE id = $2 AND version = $3"
            ),
            to.code(),
            id,
            version,
            by,
            now,
            reason
        )?,
    };
    Ok(changed == 1)
}

/// Marks the order changed (its staff, its position) if still at `version`.
pub async fn touch(tx: &mut Tx, id: i64, version: i64) -> Result<bool, StoreError> {
    let changed = crate::execute!(
        tx.exec(),
        "UPDATE procedure_order SET version = version + 1 WHERE id = $1 AND version = $2",
        id,
        version
    )?;
    Ok(changed == 1)
}

/// Other procedures of the visit still open in `room_id`.
pub async fn others_open_in_room(
    tx: &mut Tx,
    visit_id: i64,
    room_id: i64,
    except: i64,
) -> Result<i64, StoreError> {
    crate::fetch_scalar!(
        tx.exec(),
        i64,
        "SELECT COUNT(*) FROM procedure_order WHERE visit_id = $1 AND room_id = $2 AND id <> $3 \
         AND state IN ('roomed', 'in_progress')",
        visit_id,
        room_id,
        except
    )
}

/// Procedures of the visit still waiting for a room.
pub async fn waiting_of_visit(tx: &mut Tx, visit_id: i64) -> Result<i64, StoreError> {
    crate::fetch_scalar!(
        tx.exec(),
        i64,
        "SELECT COUNT(*) FROM procedure_order WHERE visit_id = $1 AND state = 'ordered'",
        visit_id
    )
}

/// The people on a procedure, as a write transaction sees them.
pub async fn staff_in(tx: &mut Tx, id: i64) -> Result<Vec<(i64, StaffingRole, bool)>, StoreError> {
    let rows = crate::fetch_all!(
        tx.exec(),
        (i64, String, Option<DateTime<Utc>>),
        "SELECT staff_member_id, role, present_at FROM procedure_staff WHERE procedure_order_id = $1",
        id
    )?;
    rows.into_iter()
        .map(|(staff_id, role, present)| {
            Ok((
                staff_id,
                StaffingRole::try_from(role).map_err(corrupt)?,
                present.is_some(),
            ))
        })
        .collect()
}

pub async fn assign(
    tx: &mut Tx,
    id: i64,
    staff_member_id: i64,
    role: StaffingRole,
    by: i64,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    crate::execute!(
        tx.exec(),
        "INSERT INTO procedure_staff (procedure_order_id, staff_member_id, role, assigned_at, assigned_by) \
         VALUES ($1, $2, $3, $4, $5)",
        id,
        staff_member_id,
        role.code(),
        now,
        by
    )?;
    Ok(())
}

pub async fn unassign(tx: &mut Tx, id: i64, staff_member_id: i64) -> Result<bool, StoreError> {
    let removed = crate::execute!(
        tx.exec(),
        "DELETE FROM procedure_staff WHERE procedure_order_id = $1 AND staff_member_id = $2",
        id,
        staff_member_id
    )?;
    Ok(removed == 1)
}

/// The supervisor attests being present.
pub async fn attest_presence(
    tx: &mut Tx,
    id: i64,
    staff_member_id: i64,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let changed = crate::execute!(
        tx.exec(),
        "UPDATE procedure_staff SET present_at = $1 WHERE procedure_order_id = $2 AND staff_member_id = $3 \
         AND role = 'supervisor' AND present_at IS NULL",
        now,
        id,
        staff_member_id
    )?;
    Ok(changed == 1)
}

/// The supervisor co-signs the work once done; false when they already had.
pub async fn cosign(
    tx: &mut Tx,
    id: i64,
    staff_member_id: i64,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let changed = crate::execute!(
        tx.exec(),
        "UPDATE procedure_staff SET cosigned_at = $1, cosign_note = $2 WHERE procedure_order_id = $3 \
         AND staff_member_id = $4 AND role = 'supervisor' AND cosigned_at IS NULL",
        now,
        note,
        id,
        staff_member_id
    )?;
    Ok(changed == 1)
}

/// What the assignment rules need to know of a staff member of this facility.
pub async fn candidate(tx: &mut Tx, facility_id: i64, staff_member_id: i64) -> Result<Candidate, StoreError> {
    let roles = crate::staff::store::working_roles(tx, facility_id, staff_member_id).await?;
    let certifications = crate::fetch_all!(
        tx.exec(),
        (String, chrono::NaiveDate),
        "SELECT kind, expires_on FROM certification WHERE staff_member_id = $1",
        staff_member_id
    )?
    .into_iter()
    .map(|(kind, expires_on)| {
        Ok(crate::accounts::Certification {
            kind: CertificationKind::try_from(kind).map_err(corrupt)?,
            expires_on,
        })
    })
    .collect::<Result<Vec<_>, StoreError>>()?;
    // Someone no longer working here is off, whatever they last said.
    let presence = if roles.is_empty() {
        StaffPresence::Off
    } else {
        crate::staff::store::presence_in(tx, staff_member_id).await?
    };
    Ok(Candidate {
        staff_member_id,
        roles,
        certifications,
        presence,
    })
}
