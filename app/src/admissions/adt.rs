//! What an HL7 v2 ADT message from the front office says, in Plateau's terms: which
//! event, which patient (identity as a desk would type it, so the same checks apply),
//! which visit. Segments Plateau does not use are ignored, never an error.

use crate::lab::hl7::{Hl7Error, Message, Segment};
use crate::patients::identity::{AllergyForm, IdentityForm};
use crate::patients::Sex;

crate::coded_enum! {
    /// The ADT events Plateau acts on (HL7 table 0003).
    pub enum AdtEvent {
        /// Admit: a patient arrives (Plateau has no beds: as A04).
        Admit = "A01",
        /// Register: an outpatient arrives.
        Register = "A04",
        /// Update patient information.
        Update = "A08",
        /// Discharge: the visit ended.
        Discharge = "A03",
        /// Cancel admit/visit: the arrival was entered in error.
        CancelArrival = "A11",
        /// Merge patient, patient identifier list.
        Merge = "A40",
    }
}

/// A patient identifier with the authority that assigned it (CX-1 and CX-4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identifier {
    pub id: String,
    pub authority: String,
}

/// One ADT message, read.
#[derive(Debug, Clone, PartialEq)]
pub struct Admission {
    pub event: AdtEvent,
    /// The patient as PID names them; the record number is the first identifier of type
    /// MR (else the first one), with its authority.
    pub patient: IdentityForm,
    /// The visit number (PV1-19), when sent.
    pub visit: Option<Identifier>,
    /// Why the patient came (PV2-3, else PV2-12), when sent.
    pub reason: String,
    /// A40: the record merged into the patient (MRG-1).
    pub prior: Option<Identifier>,
}

/// Why an ADT message cannot be acted on: told in the ACK (AR for what the sender must
/// fix, AE for what the clinic must look at).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdtError {
    #[error("{0}")]
    Hl7(#[from] Hl7Error),
    #[error("ADT event {0:?} is not one Plateau acts on (A01, A03, A04, A08, A11, A40)")]
    UnsupportedEvent(String),
    #[error("{segment}-{field} ({what}) is required")]
    Missing {
        segment: &'static str,
        field: usize,
        what: &'static str,
    },
}

fn identifier(segment: &Segment, field: usize, repetition: usize) -> Identifier {
    Identifier {
        id: segment
            .get(field, repetition, 1, 1)
            .unwrap_or_default()
            .trim()
            .to_owned(),
        authority: segment
            .get(field, repetition, 4, 1)
            .unwrap_or_default()
            .trim()
            .to_owned(),
    }
}

/// The medical record number of an identifier list: the first of type MR, else the first.
fn record_number(segment: &Segment, field: usize) -> Option<Identifier> {
    let count = segment.repetition_count(field);
    let of_type = |rep: usize| segment.get(field, rep, 5, 1).unwrap_or_default();
    (1..=count)
        .find(|rep| of_type(*rep) == "MR")
        .or((count > 0).then_some(1))
        .map(|rep| identifier(segment, field, rep))
        .filter(|id| !id.id.is_empty())
}

/// HL7 table 0001 to FHIR administrative gender.
fn sex_code(hl7: &str) -> &'static str {
    match hl7.trim() {
        "F" => Sex::Female.code(),
        "M" => Sex::Male.code(),
        "O" | "A" | "X" => Sex::Other.code(),
        _ => Sex::Unknown.code(),
    }
}

/// HL7 table 0128 (allergy severity) to Plateau's.
fn severity_code(hl7: &str) -> &'static str {
    match hl7.trim() {
        "MI" => "mild",
        "MO" => "moderate",
        "SV" => "severe",
        _ => "unknown",
    }
}

/// The patient of a PID (with its NK1 and AL1 segments), as a form would send them.
fn patient(message: &Message, pid: &Segment) -> Result<IdentityForm, AdtError> {
    let number = record_number(pid, 3).ok_or(AdtError::Missing {
        segment: "PID",
        field: 3,
        what: "patient identifier list",
    })?;
    // The name at birth: a repetition of PID-5 typed B (birth) or M (maiden).
    let birth_name = (2..=pid.repetition_count(5))
        .find(|rep| matches!(pid.get(5, *rep, 7, 1).as_deref(), Some("B" | "M")))
        .and_then(|rep| pid.get(5, rep, 1, 1))
        .unwrap_or_default();
    let born = pid.text(7, 1);
    let birth_date = match born.trim().get(..8) {
        Some(day) if day.bytes().all(|b| b.is_ascii_digit()) => {
            format!("{}-{}-{}", &day[..4], &day[4..6], &day[6..8])
        }
        // Kept as sent: the identity check refuses it by field.
        _ => born.clone(),
    };
    let emergency_contact = message
        .segments_named("NK1")
        .find(|nk1| nk1.text(3, 1) == "EMC" || nk1.text(7, 1) == "C")
        .map(|nk1| {
            let name = format!("{} {}", nk1.get(2, 1, 2, 1).unwrap_or_default(), nk1.text(2, 1));
            let phone = nk1.text(5, 1);
            [name.trim().to_owned(), phone.trim().to_owned()]
                .into_iter()
                .filter(|part| !part.is_empty())
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    let allergies: Vec<AllergyForm> = message
        .segments_named("AL1")
        .map(|al1| {
            let substance = match al1.text(3, 2) {
                text if text.trim().is_empty() => al1.text(3, 1),
                text => text,
            };
            AllergyForm {
                substance,
                reaction: al1.repetition_text(5, 1),
                severity: severity_code(&al1.text(4, 1)).to_owned(),
            }
        })
        .collect();
    Ok(IdentityForm {
        record_number: number.id,
        assigning_authority: number.authority,
        family_name: pid.get(5, 1, 1, 1).unwrap_or_default(),
        given_name: pid.text(5, 2),
        birth_name,
        birth_date,
        sex: sex_code(&pid.text(8, 1)).to_owned(),
        // PID-15: ISO 639 codes as sent ("fra", "eng", "ara"); absent: French, the clinic's.
        preferred_language: match pid.text(15, 1).trim().to_ascii_lowercase() {
            language if language.is_empty() => "fr".to_owned(),
            language => language,
        },
        emergency_contact,
        allergy_status: if allergies.is_empty() {
            String::new()
        } else {
            "recorded".to_owned()
        },
        allergies,
        ..IdentityForm::default()
    })
}

/// Reads an ADT message. The event is MSH-9.2 (else EVN-1).
pub fn admission(message: &Message) -> Result<Admission, AdtError> {
    let header = message.header();
    let kind = header.text(9, 1);
    if kind != "ADT" {
        return Err(Hl7Error::UnsupportedMessageType(format!("{kind}^{}", header.text(9, 2))).into());
    }
    if !crate::lab::hl7::supported_version(&message.version()) {
        return Err(Hl7Error::UnsupportedVersion(message.version()).into());
    }
    let trigger = match header.text(9, 2) {
        trigger if trigger.trim().is_empty() => message
            .segment("EVN")
            .map(|evn| evn.text(1, 1))
            .unwrap_or_default(),
        trigger => trigger,
    };
    let event = AdtEvent::from_code(trigger.trim()).ok_or(AdtError::UnsupportedEvent(trigger.clone()))?;
    let pid = message.segment("PID").ok_or(Hl7Error::MissingSegment {
        segment: "PID",
        what: "the patient",
    })?;
    let patient = patient(message, pid)?;
    let pv1 = message.segment("PV1");
    let visit = pv1
        .map(|pv1| identifier(pv1, 19, 1))
        .filter(|visit| !visit.id.is_empty());
    let reason = message
        .segment("PV2")
        .map(|pv2| match pv2.text(3, 2) {
            text if text.trim().is_empty() => pv2.text(12, 1),
            text => text,
        })
        .unwrap_or_default()
        .trim()
        .to_owned();
    let prior = match event {
        AdtEvent::Merge => Some(
            message
                .segment("MRG")
                .and_then(|mrg| record_number(mrg, 1))
                .ok_or(AdtError::Missing {
                    segment: "MRG",
                    field: 1,
                    what: "the prior patient identifier",
                })?,
        ),
        _ => None,
    };
    Ok(Admission {
        event,
        patient,
        visit,
        reason,
        prior,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::hl7::parse;

    fn fixture(name: &str) -> String {
        let path = format!("{}/../../shared/fixtures/hl7/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn read(text: &str) -> Result<Admission, AdtError> {
        admission(&parse(text).map_err(AdtError::from)?)
    }

    #[test]
    fn a_real_registration_reads_with_every_segment_filled() {
        let admission = read(&fixture("ADT-A04-01.hl7")).expect("readable");
        assert_eq!(admission.event, AdtEvent::Register);
        let patient = &admission.patient;
        assert_eq!(patient.record_number, "PATID1234");
        assert_eq!(patient.assigning_authority, "test1");
        assert_eq!(
            (patient.family_name.as_str(), patient.given_name.as_str()),
            ("EVERYMAN", "ADAM")
        );
        assert_eq!(patient.birth_date, "1988-08-18");
        assert_eq!(patient.sex, "male");
        assert_eq!(patient.preferred_language, "ara");
        assert_eq!(patient.allergies.len(), 1);
        assert_eq!(patient.allergies[0].substance, "PENICILLIN");
        assert_eq!(patient.allergies[0].severity, "mild");
        assert_eq!(patient.emergency_contact, "ADAM Evan, 78788788");
        assert_eq!(
            admission.visit,
            Some(Identifier {
                id: "40007716".into(),
                authority: "AccMng".into()
            })
        );
        assert_eq!(admission.reason, "Chronic pharyngitis");
        // The identity passes the desk's checks as it is.
        let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 3).unwrap_or_default();
        assert!(patient.check(today).is_ok(), "{:?}", patient.check(today));
    }

    #[test]
    fn a_real_discharge_reads() {
        let admission = read(&fixture("ADT-A03-01.hl7")).expect("readable");
        assert_eq!(admission.event, AdtEvent::Discharge);
        assert_eq!(admission.patient.record_number, "PATID1234");
        assert_eq!(admission.visit.map(|v| v.id), Some("40007716".into()));
    }

    const MINIMAL: &str = "MSH|^~\\&|FO|CLINIQUE|PLATEAU|CLINIQUE|20261203101500||ADT^A08^ADT_A01|MSG1|P|2.5\r\
        PID|1||880012^^^CHU-NANTES^MR~1850101123456^^^INS^NH||Œuvray^Hélène^^^^^L~Martin^^^^^^M||19710602|F\r";

    #[test]
    fn the_record_number_is_the_mr_identifier_and_the_birth_name_its_repetition() {
        let admission = read(MINIMAL).expect("readable");
        assert_eq!(admission.event, AdtEvent::Update);
        assert_eq!(admission.patient.record_number, "880012");
        assert_eq!(admission.patient.assigning_authority, "CHU-NANTES");
        assert_eq!(admission.patient.birth_name, "Martin");
        assert_eq!(admission.patient.sex, "female");
        assert_eq!(admission.patient.preferred_language, "fr");
        assert_eq!(admission.visit, None);
    }

    #[test]
    fn messages_plateau_does_not_act_on_are_told_apart() {
        let oru = MINIMAL.replace("ADT^A08^ADT_A01", "ORU^R01^ORU_R01");
        assert!(matches!(
            read(&oru),
            Err(AdtError::Hl7(Hl7Error::UnsupportedMessageType(_)))
        ));
        let a02 = MINIMAL.replace("ADT^A08^ADT_A01", "ADT^A02^ADT_A02");
        assert_eq!(read(&a02), Err(AdtError::UnsupportedEvent("A02".into())));
        let merge = MINIMAL.replace("ADT^A08^ADT_A01", "ADT^A40^ADT_A39");
        assert!(matches!(
            read(&merge),
            Err(AdtError::Missing { segment: "MRG", .. })
        ));
        let merge = format!("{merge}MRG|770001^^^CHU-NANTES^MR\r");
        assert_eq!(
            read(&merge).map(|a| a.prior),
            Ok(Some(Identifier {
                id: "770001".into(),
                authority: "CHU-NANTES".into()
            }))
        );
        let nobody = MINIMAL.replace("880012^^^CHU-NANTES^MR~1850101123456^^^INS^NH", "");
        assert!(matches!(
            read(&nobody),
            Err(AdtError::Missing {
                segment: "PID",
                field: 3,
                ..
            })
        ));
        let old = MINIMAL.replace("|2.5\r", "|2.1\r");
        assert!(matches!(
            read(&old),
            Err(AdtError::Hl7(Hl7Error::UnsupportedVersion(_)))
        ));
    }

    #[test]
    fn sexes_and_severities_map_from_their_tables() {
        assert_eq!(sex_code("F"), "female");
        assert_eq!(sex_code("U"), "unknown");
        assert_eq!(sex_code(""), "unknown");
        assert_eq!(sex_code("X"), "other");
        assert_eq!(severity_code("SV"), "severe");
        assert_eq!(severity_code("U"), "unknown");
    }
}
