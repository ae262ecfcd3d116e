use super::InterfaceSetting;
use crate::store::{Store, StoreError, Tx};

/// Every interface of the facility, reference labs first, with its MLLP addresses.
pub async fn list(store: &Store, facility_id: i64) -> Result<Vec<InterfaceSetting>, StoreError> {
    let rows = crate::fetch_all!(
        store.read(),
        (i64, String, String, String, String, bool),
        "SELECT id, code, name, role, sending_facility, interface_token_sha256 IS NOT NULL \
         FROM reference_lab WHERE facility_id = $1 ORDER BY role DESC, code",
        facility_id
    )?;
    let peers = crate::fetch_all!(
        store.read(),
        (i64, String),
        "SELECT p.reference_lab_id, p.address FROM reference_lab_peer p \
         JOIN reference_lab l ON l.id = p.reference_lab_id WHERE l.facility_id = $1 ORDER BY p.address",
        facility_id
    )?;
    Ok(rows
        .into_iter()
        .map(
            |(id, code, name, role, sending_facility, has_token)| InterfaceSetting {
                id,
                mllp_peers: peers
                    .iter()
                    .filter(|(of, _)| *of == id)
                    .map(|(_, address)| address.clone())
                    .collect(),
                code,
                name,
                front_office: role == "front_office",
                sending_facility,
                has_token,
            },
        )
        .collect())
}

/// The interface's code, if it is this facility's.
pub async fn code_of(tx: &mut Tx, facility_id: i64, id: i64) -> Result<String, StoreError> {
    crate::fetch_optional!(
        tx.exec(),
        (String,),
        "SELECT code FROM reference_lab WHERE id = $1 AND facility_id = $2",
        id,
        facility_id
    )?
    .map(|(code,)| code)
    .ok_or(StoreError::NotFound)
}

/// Stops an interface: its token no longer opens HTTP and no address reaches MLLP. What
/// it sent stays, and it can be given a new token.
pub async fn revoke(tx: &mut Tx, id: i64) -> Result<(), StoreError> {
    crate::execute!(
        tx.exec(),
        "UPDATE reference_lab SET interface_token_sha256 = NULL WHERE id = $1",
        id
    )?;
    crate::execute!(
        tx.exec(),
        "DELETE FROM reference_lab_peer WHERE reference_lab_id = $1",
        id
    )?;
    Ok(())
}
