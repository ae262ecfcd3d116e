//! Server functions of the interfaces' set-up page (administrators).

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// An interface as its set-up page shows it; never its token, which Plateau does not keep.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InterfaceSetting {
    pub id: i64,
    pub code: String,
    pub name: String,
    /// The front office's system (ADT) rather than a reference lab (results).
    pub front_office: bool,
    /// How it names itself in MSH-4; empty: it sends over HTTP only.
    pub sending_facility: String,
    pub mllp_peers: Vec<String>,
    /// Whether a token opens HTTP for it now.
    pub has_token: bool,
}

/// A token just generated, to be shown once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedToken {
    pub code: String,
    pub token: String,
}

/// The addresses a person typed, one per line or separated by commas or spaces.
pub fn addresses_typed(typed: &str) -> Vec<String> {
    typed
        .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .filter(|address| !address.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The facility's interfaces, for their set-up page.
#[server(prefix = "/api", endpoint = "interfaces_to_set_up", client = crate::shell::SubmissionClient)]
pub async fn interfaces_to_set_up() -> Result<Vec<InterfaceSetting>, AppError> {
    use crate::auth::{require, Capability};
    require(Capability::SetUpFacility).await?;
    let store = crate::store::from_context()?;
    let (facility_id, _) = crate::facility::existing_clock(&store).await?;
    Ok(super::store::list(&store, facility_id).await?)
}

/// Adds an interface or changes one (its code names it), with the same checks as
/// `plateau reference-lab set`. With `new_token`, it gets a new interface token (the
/// earlier one stops working), returned to be shown once.
#[server(prefix = "/api", endpoint = "save_interface", client = crate::shell::SubmissionClient)]
pub async fn save_interface(
    code: String,
    name: String,
    #[server(default)] front_office: bool,
    #[server(default)] sending_facility: String,
    #[server(default)] mllp_peers: String,
    #[server(default)] new_token: bool,
) -> Result<Option<IssuedToken>, AppError> {
    use crate::auth::{require, Capability};
    use crate::lab::act::{ReferenceLabSetup, Who};
    use crate::lab::import::SenderRole;
    let principal = require(Capability::SetUpFacility).await?;
    if mllp_peers.len() > 2_000 {
        return Err(AppError::invalid("mllp_peers", crate::error::Problem::TooLong));
    }
    let setup = ReferenceLabSetup::checked(&code, &name, &sending_facility, &addresses_typed(&mllp_peers))?;
    let store = crate::store::from_context()?;
    let (facility_id, _) = crate::facility::existing_clock(&store).await?;
    let role = if front_office {
        SenderRole::FrontOffice
    } else {
        SenderRole::Lab
    };
    let (_, token) = crate::lab::act::set_up_reference_lab(
        &store,
        facility_id,
        &setup,
        role,
        new_token,
        Who::Person(&principal),
    )
    .await?;
    Ok(token.map(|token| IssuedToken {
        code: setup.code,
        token,
    }))
}

/// Stops an interface at once: its token and its MLLP addresses no longer let it in.
#[server(prefix = "/api", endpoint = "revoke_interface", client = crate::shell::SubmissionClient)]
pub async fn revoke_interface(interface_id: i64) -> Result<(), AppError> {
    use crate::audit::{self, Entry, Outcome};
    use crate::auth::{require, Capability};
    use crate::error::Problem;
    use crate::store::StoreError;
    let principal = require(Capability::SetUpFacility).await?;
    if interface_id <= 0 {
        return Err(AppError::invalid("interface_id", Problem::Malformed));
    }
    let store = crate::store::from_context()?;
    let (facility_id, _) = crate::facility::existing_clock(&store).await?;
    let mut tx = store.begin().await?;
    let code = match super::store::code_of(&mut tx, facility_id, interface_id).await {
        Err(StoreError::NotFound) => return Err(AppError::invalid("interface_id", Problem::NotAllowed)),
        other => other?,
    };
    super::store::revoke(&mut tx, interface_id).await?;
    let entry = Entry::by(&principal, "reference_lab.revoke", Outcome::Allowed)
        .record(format!("reference_lab/{interface_id}"))
        .detail(code);
    audit::record_in(&mut tx, entry).await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn addresses_are_read_however_they_are_separated() {
        assert_eq!(
            super::addresses_typed("10.0.0.5, 10.0.0.6\n::1;"),
            ["10.0.0.5", "10.0.0.6", "::1"]
        );
        assert!(super::addresses_typed("  \n ").is_empty());
    }
}
