//! The lab's words: tests and their reference ranges, specimens, results and their flags,
//! critical alerts. Shared by the server and the browser, so both read a value, compute
//! its flag and explain a refusal the same way.

use crate::coded_enum;
use crate::patients::{PatientSummary, Sex};
use crate::procedures::Priority;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

coded_enum! {
    /// What a test reports: one number with a unit, one coded value (negative, 1+...), or
    /// a panel of several observations that come back from a reference lab.
    pub enum ValueKind {
        Numeric = "numeric",
        Coded = "coded",
        Panel = "panel",
    }
}

coded_enum! {
    /// Where a test is run.
    pub enum Performed {
        InHouse = "in_house",
        SendOut = "send_out",
    }
}

coded_enum! {
    /// The specimen, as HL7 v2 table 0487 names it.
    pub enum SpecimenType {
        Blood = "BLD",
        CapillaryBlood = "BLDC",
        Serum = "SER",
        Plasma = "PLAS",
        Urine = "UR",
        Wound = "WND",
    }
}

impl SpecimenType {
    /// Labels name the body site of every specimen that is not blood.
    pub fn needs_body_site(self) -> bool {
        matches!(self, SpecimenType::Urine | SpecimenType::Wound)
    }
}

coded_enum! {
    /// Interpretation flags, HL7 v2 table 0078 (and FHIR observation interpretation).
    pub enum Flag {
        Normal = "N",
        Low = "L",
        High = "H",
        CriticalLow = "LL",
        CriticalHigh = "HH",
        Abnormal = "A",
        CriticalAbnormal = "AA",
    }
}

impl Flag {
    /// Critical: someone must be told now, and acknowledge it.
    pub fn is_critical(self) -> bool {
        matches!(
            self,
            Flag::CriticalLow | Flag::CriticalHigh | Flag::CriticalAbnormal
        )
    }

    pub fn is_normal(self) -> bool {
        self == Flag::Normal
    }
}

coded_enum! {
    /// Where an ordered test stands. Rejected: its specimen was refused by the lab.
    pub enum LabOrderState {
        Ordered = "ordered",
        Collected = "collected",
        Received = "received",
        Resulted = "resulted",
        Verified = "verified",
        Rejected = "rejected",
        Cancelled = "cancelled",
    }
}

coded_enum! {
    pub enum SpecimenState {
        Collected = "collected",
        Received = "received",
        Rejected = "rejected",
        Shipped = "shipped",
    }
}

coded_enum! {
    /// HL7 v2 OBX-11 / FHIR status of one result.
    pub enum ResultStatus {
        Preliminary = "preliminary",
        Final = "final",
        Corrected = "corrected",
    }
}

coded_enum! {
    /// Whether the clinic's own rules (the catalog's reference range, plausible and
    /// critical limits, unit) were applied to a result. Not applicable: the catalog has no
    /// such test, or the value is one its rules cannot read (text, "<5"): the flag and range
    /// shown are the sender's. Unit differs: a person attached it in another unit than the
    /// catalog's, so no flag was computed.
    pub enum ClinicRules {
        Applied = "applied",
        NotApplicable = "not_applicable",
        UnitDiffers = "unit_differs",
    }
}

coded_enum! {
    /// Why results from a reference lab were held for a person rather than filed.
    pub enum HoldReason {
        UnknownOrder = "unknown_order",
        PatientMismatch = "patient_mismatch",
        OrderClosed = "order_closed",
        NotSentToThisLab = "not_sent_to_this_lab",
        AlreadyVerified = "already_verified",
        TestMismatch = "test_mismatch",
        Implausible = "implausible",
        UnitMismatch = "unit_mismatch",
    }
}

coded_enum! {
    /// How telling someone about a critical value went (The Joint Commission expects a
    /// read-back).
    pub enum AlertOutcome {
        ReadBack = "read_back",
        NoReadBack = "no_read_back",
        UnableToReach = "unable_to_reach",
    }
}

coded_enum! {
    /// Why a specimen is refused by the lab; the reason stays with it.
    pub enum RejectionReason {
        Haemolysed = "haemolysed",
        Clotted = "clotted",
        InsufficientVolume = "insufficient_volume",
        Mislabelled = "mislabelled",
        WrongContainer = "wrong_container",
        TooOld = "too_old",
    }
}

coded_enum! {
    /// How the collector confirmed who the patient is: two identifiers, always.
    pub enum IdentityCheck {
        NameAndBirthDate = "name_birth_date",
        NameAndRecordNumber = "name_record_number",
    }
}

/// A reference range for one sex (or any) and an age band `[min_age, max_age)` in years.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReferenceRange {
    /// None: any sex.
    pub sex: Option<Sex>,
    pub min_age: i64,
    pub max_age: i64,
    pub low: Option<f64>,
    pub high: Option<f64>,
}

impl ReferenceRange {
    fn applies_to(&self, sex: Sex, age: i64) -> bool {
        self.sex.is_none_or(|s| s == sex) && self.min_age <= age && age < self.max_age
    }

    /// "3.5–5.1", "< 6.0", "> 40": as a result shows it.
    pub fn text(&self, decimals: usize) -> String {
        match (self.low, self.high) {
            (Some(low), Some(high)) => format!("{low:.decimals$}–{high:.decimals$}"),
            (None, Some(high)) => format!("≤ {high:.decimals$}"),
            (Some(low), None) => format!("≥ {low:.decimals$}"),
            (None, None) => String::new(),
        }
    }
}

/// One test of the catalog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabTest {
    pub id: i64,
    pub loinc: String,
    pub name_fr: String,
    pub name_en: String,
    pub specimen_type: SpecimenType,
    pub value_kind: ValueKind,
    /// UCUM; empty for coded tests and panels.
    pub unit: String,
    pub decimals: i64,
    pub plausible_low: Option<f64>,
    pub plausible_high: Option<f64>,
    pub critical_low: Option<f64>,
    pub critical_high: Option<f64>,
    pub allowed_codes: Vec<String>,
    pub normal_codes: Vec<String>,
    pub performed: Performed,
    pub turnaround_minutes: i64,
    pub second_verifier: bool,
    pub active: bool,
    pub ranges: Vec<ReferenceRange>,
}

/// Why a value typed at the bench is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ValueProblem {
    Empty,
    NotANumber,
    TooManyDecimals,
    /// Outside what any patient could have: an entry error.
    Implausible,
    WrongUnit,
    NotAnAllowedCode,
    /// Panels come back from the reference lab; nobody types them.
    NotEnteredAtTheBench,
}

/// A value read and checked against its test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measured {
    /// As stored and shown: the number at the test's precision, or the code.
    pub text: String,
    pub number: Option<f64>,
}

impl LabTest {
    pub fn name(&self, locale: crate::i18n::Locale) -> &str {
        match locale {
            crate::i18n::Locale::Fr => &self.name_fr,
            _ => &self.name_en,
        }
    }

    fn precision(&self) -> usize {
        usize::try_from(self.decimals).unwrap_or(0)
    }

    /// The range for this patient: a sex-specific band before an "any" band, the
    /// narrowest age band first.
    pub fn range_for(&self, sex: Sex, age: i64) -> Option<&ReferenceRange> {
        self.ranges
            .iter()
            .filter(|r| r.applies_to(sex, age))
            .min_by_key(|r| (r.sex.is_none(), r.max_age - r.min_age))
    }

    /// Reads a value typed at the bench: a decimal comma is accepted, as French keyboards
    /// type it; the unit must be the test's.
    pub fn read_value(&self, typed: &str, unit: &str) -> Result<Measured, ValueProblem> {
        let typed = typed.trim();
        if typed.is_empty() {
            return Err(ValueProblem::Empty);
        }
        match self.value_kind {
            ValueKind::Panel => Err(ValueProblem::NotEnteredAtTheBench),
            ValueKind::Coded => {
                let code = typed.to_lowercase();
                if self.allowed_codes.contains(&code) {
                    Ok(Measured {
                        text: code,
                        number: None,
                    })
                } else {
                    Err(ValueProblem::NotAnAllowedCode)
                }
            }
            ValueKind::Numeric => {
                if unit.trim() != self.unit {
                    return Err(ValueProblem::WrongUnit);
                }
                let normalised = typed.replace(',', ".");
                let well_formed = !normalised.is_empty()
                    && normalised
                        .chars()
                        .all(|c| c.is_ascii_digit() || c == '.' || c == '-')
                    && normalised.matches('.').count() <= 1
                    && !normalised[1..].contains('-');
                let number: f64 = match normalised.parse() {
                    Ok(n) if well_formed && f64::is_finite(n) => n,
                    _ => return Err(ValueProblem::NotANumber),
                };
                let decimals = normalised.split_once('.').map_or(0, |(_, d)| d.len());
                if decimals > self.precision() {
                    return Err(ValueProblem::TooManyDecimals);
                }
                let below = self.plausible_low.is_some_and(|low| number < low);
                let above = self.plausible_high.is_some_and(|high| number > high);
                if below || above {
                    return Err(ValueProblem::Implausible);
                }
                Ok(Measured {
                    text: format!("{number:.prec$}", prec = self.precision()),
                    number: Some(number),
                })
            }
        }
    }

    /// The flag of a value for a patient: critical limits first, then the reference
    /// range; coded values are normal or abnormal.
    pub fn flag(&self, value: &Measured, range: Option<&ReferenceRange>) -> Flag {
        let Some(number) = value.number else {
            return if self.normal_codes.contains(&value.text) {
                Flag::Normal
            } else {
                Flag::Abnormal
            };
        };
        if self.critical_low.is_some_and(|limit| number <= limit) {
            return Flag::CriticalLow;
        }
        if self.critical_high.is_some_and(|limit| number >= limit) {
            return Flag::CriticalHigh;
        }
        match range {
            Some(r) if r.low.is_some_and(|low| number < low) => Flag::Low,
            Some(r) if r.high.is_some_and(|high| number > high) => Flag::High,
            _ => Flag::Normal,
        }
    }

    /// The range as a result shows it, for a patient.
    pub fn range_text(&self, sex: Sex, age: i64) -> String {
        match self.value_kind {
            ValueKind::Numeric => self
                .range_for(sex, age)
                .map(|r| r.text(self.precision()))
                .unwrap_or_default(),
            _ => self.normal_codes.join(", "),
        }
    }
}

/// What the clinic's rules make of a value a reference lab reported.
#[derive(Debug, Clone, PartialEq)]
pub enum Reading {
    /// Read and flagged by the catalog's rules, with the patient's range as shown.
    Flagged {
        number: Option<f64>,
        flag: Flag,
        range: String,
    },
    /// The rules cannot read it (a text, a comparison such as "<5", a panel): shown as sent.
    NotApplicable,
    /// A person must look first: outside the plausible limits, in another unit, or a code
    /// the test does not allow.
    Hold(HoldReason),
}

impl LabTest {
    /// Reads a value a reference lab reported with the same rules as the bench: the unit
    /// must be the catalog's, the value plausible; then the patient's range and the
    /// critical limits give the flag.
    pub fn read_reported(&self, value: &str, unit: &str, sex: Sex, age: i64) -> Reading {
        let value = value.trim();
        match self.value_kind {
            ValueKind::Panel => Reading::NotApplicable,
            ValueKind::Coded => {
                let code = value.to_lowercase();
                if !self.allowed_codes.contains(&code) {
                    return Reading::Hold(HoldReason::Implausible);
                }
                let measured = Measured {
                    text: code,
                    number: None,
                };
                Reading::Flagged {
                    number: None,
                    flag: self.flag(&measured, None),
                    range: self.range_text(sex, age),
                }
            }
            ValueKind::Numeric => {
                if !same_unit(unit, &self.unit) {
                    return Reading::Hold(HoldReason::UnitMismatch);
                }
                let Some(number) = reported_number(value) else {
                    return Reading::NotApplicable;
                };
                let below = self.plausible_low.is_some_and(|low| number < low);
                let above = self.plausible_high.is_some_and(|high| number > high);
                if below || above {
                    return Reading::Hold(HoldReason::Implausible);
                }
                let measured = Measured {
                    text: value.to_owned(),
                    number: Some(number),
                };
                Reading::Flagged {
                    number: Some(number),
                    flag: self.flag(&measured, self.range_for(sex, age)),
                    range: self.range_text(sex, age),
                }
            }
        }
    }
}

/// A reported value as a number: digits with at most one decimal point or comma and an
/// optional sign; anything else (a comparison, a text) is not one.
pub fn reported_number(value: &str) -> Option<f64> {
    let value = value.trim().replace(',', ".");
    let digits = value.strip_prefix(['-', '+']).unwrap_or(&value);
    let well_formed = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && digits.matches('.').count() <= 1
        && digits.bytes().any(|b| b.is_ascii_digit());
    well_formed
        .then(|| value.parse::<f64>().ok())
        .flatten()
        .filter(|n| n.is_finite())
}

/// Two UCUM units are the same: equal, or equal but for the litre written `l` rather
/// than `L` ("mmol/l", "g/dl"), which labs use interchangeably.
pub fn same_unit(a: &str, b: &str) -> bool {
    fn litre_as_capital(unit: &str) -> String {
        unit.trim()
            .split('/')
            .map(|part| match part.strip_suffix('l') {
                Some(prefix) if prefix.len() <= 1 => format!("{prefix}L"),
                _ => part.to_owned(),
            })
            .collect::<Vec<_>>()
            .join("/")
    }
    litre_as_capital(a) == litre_as_capital(b)
}

/// A test ordered for a visit, with its specimen and results, as the tablet and the
/// lab see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabOrder {
    pub id: i64,
    pub visit_id: i64,
    pub test: LabTest,
    pub placer_number: String,
    pub priority: Priority,
    pub note: String,
    pub ordered_by: String,
    #[serde(with = "crate::time::millis")]
    pub ordered_at: DateTime<Utc>,
    pub state: LabOrderState,
    pub version: i64,
    pub specimen: Option<Specimen>,
    pub results: Vec<LabResult>,
    /// Comments a reference lab sent about the order or the whole report.
    pub notes: Vec<String>,
}

/// A labelled specimen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Specimen {
    pub id: i64,
    pub accession: String,
    pub specimen_type: SpecimenType,
    pub body_site: String,
    pub collected_by: String,
    #[serde(with = "crate::time::millis")]
    pub collected_at: DateTime<Utc>,
    pub state: SpecimenState,
    pub rejected_reason: Option<RejectionReason>,
}

/// One observation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabResult {
    pub id: i64,
    pub loinc: String,
    pub name: String,
    pub value: String,
    pub numeric_value: Option<f64>,
    pub unit: String,
    pub reference_range: String,
    /// None when the sender gave no flag and none could be computed.
    pub flag: Option<Flag>,
    pub status: ResultStatus,
    pub entered_by: Option<String>,
    #[serde(with = "crate::time::millis")]
    pub entered_at: DateTime<Utc>,
    pub verified_by: Option<String>,
    #[serde(with = "crate::time::millis_opt")]
    pub verified_at: Option<DateTime<Utc>>,
    /// The observation's own code and system as sent (LOINC `LN`, or a lab's local code).
    pub observation_code: String,
    pub observation_system: String,
    /// A coded value's code, system (SCT for SNOMED CT) and original text.
    pub value_code: String,
    pub value_system: String,
    pub value_text: String,
    /// What the sender said beside Plateau's flag and range (empty for the bench).
    pub sender_flag: String,
    pub sender_range: String,
    /// OBX-11 as sent: empty when the lab did not say.
    pub status_as_sent: String,
    pub clinic_rules: ClinicRules,
    /// When it was observed (OBX-14, else OBR-7) and the specimen collected, as the lab says.
    #[serde(with = "crate::time::millis_opt")]
    pub observed_at: Option<DateTime<Utc>>,
    #[serde(with = "crate::time::millis_opt")]
    pub collected_at: Option<DateTime<Utc>>,
    /// The reference lab that reported it (its results are verified there).
    pub reported_by_lab: Option<String>,
    /// The earlier result this one replaces (a correction, or a final after a preliminary).
    pub replaces: Option<ReplacedResult>,
    /// Comments the lab sent with it.
    pub notes: Vec<String>,
}

/// The value a later result replaced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplacedResult {
    pub value: String,
    pub unit: String,
    pub status: ResultStatus,
    #[serde(with = "crate::time::millis")]
    pub entered_at: DateTime<Utc>,
}

impl LabResult {
    /// The sender's flag, when it says something else than Plateau's.
    pub fn sender_disagrees(&self) -> Option<&str> {
        let sender = self.sender_flag.trim();
        let ours = self.flag.map_or("", Flag::code);
        (self.clinic_rules == ClinicRules::Applied && !sender.is_empty() && sender != ours).then_some(sender)
    }
}

/// An earlier verified value of the same test for the same patient.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EarlierValue {
    #[serde(with = "crate::time::millis")]
    pub at: DateTime<Utc>,
    pub value: f64,
}

/// A critical value and who was told.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CriticalAlert {
    pub id: i64,
    pub visit_id: i64,
    pub patient: PatientSummary,
    pub room_code: Option<String>,
    pub test_name: String,
    pub value: String,
    pub unit: String,
    pub flag: String,
    pub ordered_by: String,
    /// The staff member who ordered the test: told of its critical values wherever they are.
    pub ordered_by_id: i64,
    #[serde(with = "crate::time::millis")]
    pub raised_at: DateTime<Utc>,
    #[serde(with = "crate::time::millis")]
    pub due_at: DateTime<Utc>,
    #[serde(with = "crate::time::millis_opt")]
    pub escalated_at: Option<DateTime<Utc>>,
    pub acknowledged_by: Option<String>,
    #[serde(with = "crate::time::millis_opt")]
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub outcome: Option<AlertOutcome>,
    pub notified_person: Option<String>,
    pub read_back_value: Option<String>,
}

impl CriticalAlert {
    pub fn is_open(&self) -> bool {
        self.acknowledged_at.is_none()
    }
}

/// Turnaround of one test over a period: collection to verification, against its target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Turnaround {
    pub test: LabTest,
    pub count: usize,
    pub median_minutes: i64,
    pub p90_minutes: i64,
    pub within_target_percent: i64,
}

impl Turnaround {
    /// The figures of one test from its orders' minutes; `None` without any.
    pub fn of(test: LabTest, mut minutes: Vec<i64>) -> Option<Turnaround> {
        if minutes.is_empty() {
            return None;
        }
        minutes.sort_unstable();
        let at = |q: f64| minutes[((minutes.len() - 1) as f64 * q).round() as usize];
        let within = minutes.iter().filter(|m| **m <= test.turnaround_minutes).count();
        Some(Turnaround {
            count: minutes.len(),
            median_minutes: at(0.5),
            p90_minutes: at(0.9),
            within_target_percent: i64::try_from(within * 100 / minutes.len()).unwrap_or(0),
            test,
        })
    }
}

/// A box of specimens for a reference lab and its manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Shipment {
    pub id: i64,
    pub lab_name: String,
    /// packed, shipped, received, resulted.
    pub state: String,
    pub packed_by: String,
    #[serde(with = "crate::time::millis")]
    pub packed_at: DateTime<Utc>,
    #[serde(with = "crate::time::millis_opt")]
    pub shipped_at: Option<DateTime<Utc>>,
    #[serde(with = "crate::time::millis_opt")]
    pub received_at: Option<DateTime<Utc>>,
    #[serde(with = "crate::time::millis_opt")]
    pub resulted_at: Option<DateTime<Utc>>,
    pub orders: Vec<LabOrder>,
}

/// The step after a shipment's state, if any.
pub fn next_shipment_state(state: &str) -> Option<&'static str> {
    match state {
        "packed" => Some("shipped"),
        "shipped" => Some("received"),
        "received" => Some("resulted"),
        _ => None,
    }
}

/// Results from a reference lab that could not be filed safely, for a person to attach
/// to the right order or discard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuarantineItem {
    pub id: i64,
    pub hl7_message_id: i64,
    pub sending_facility: String,
    pub control_id: String,
    #[serde(with = "crate::time::millis")]
    pub received_at: DateTime<Utc>,
    pub reference_lab: String,
    pub placer_number: String,
    pub group_index: i64,
    pub reason: HoldReason,
    /// The patient as the message names them.
    pub patient_text: String,
    /// One line per observation, as received.
    pub observations: Vec<String>,
    /// A request to attach it to an order of another patient, waiting for a second person.
    pub attach_request: Option<AttachRequest>,
}

/// Someone asked to attach held results to an order whose patient is not the one the
/// message names; another person confirms or declines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachRequest {
    pub placer_number: String,
    pub requested_by: String,
    pub requested_by_id: i64,
    /// The viewer asked: someone else must answer.
    pub requested_by_me: bool,
    #[serde(with = "crate::time::millis")]
    pub requested_at: DateTime<Utc>,
    pub reason: String,
}

/// The patient a held message names, beside the patient of the order a person would attach
/// it to: both shown before anything is attached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldComparison {
    pub quarantine_id: i64,
    pub placer_number: String,
    /// As the message says: family and given names, birth date, sex, identifiers.
    pub message_family_name: String,
    pub message_given_name: String,
    /// As the message gives it (day/month/year), empty when it gives none to the day.
    pub message_birth_date: String,
    pub message_sex: String,
    pub message_identifiers: Vec<String>,
    pub message_test: String,
    /// The order's patient and test.
    pub order_patient: PatientSummary,
    pub order_sex: Sex,
    pub order_test: String,
    /// The two identifiers Plateau checks (family name, and birth date or record number)
    /// agree; the tests agree.
    pub same_patient: bool,
    pub same_test: bool,
}

/// A message whose control id the same lab had used for another message: stored, filed
/// as usual, and listed until a person has looked at both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReusedControlId {
    pub hl7_message_id: i64,
    pub reference_lab: String,
    pub control_id: String,
    #[serde(with = "crate::time::millis")]
    pub received_at: DateTime<Utc>,
    /// How many earlier messages of that lab carried the same id.
    pub earlier: i64,
}

/// Whether `code` is a LOINC code: digits, a dash, and the right mod-10 check digit.
pub fn is_loinc(code: &str) -> bool {
    let Some((body, check)) = code.split_once('-') else {
        return false;
    };
    if body.is_empty() || body.len() > 7 || check.len() != 1 || !body.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let Some(check) = check
        .bytes()
        .next()
        .filter(u8::is_ascii_digit)
        .map(|b| u32::from(b - b'0'))
    else {
        return false;
    };
    // Luhn: from the right, every other digit (starting with the last) is doubled.
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let digit = u32::from(b - b'0');
            if i % 2 == 0 {
                let doubled = digit * 2;
                doubled / 10 + doubled % 10
            } else {
                digit
            }
        })
        .sum();
    (10 - sum % 10) % 10 == check
}

/// Reads reference ranges written one per line: `sex min_age max_age low high`, where sex
/// is female, male or any and a missing limit is `-`; e.g. `female 18 150 12.0 16.0`.
pub fn parse_ranges(text: &str) -> Result<Vec<ReferenceRange>, usize> {
    let limit = |t: &str| -> Result<Option<f64>, ()> {
        if t == "-" {
            return Ok(None);
        }
        t.replace(',', ".")
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .map(Some)
            .ok_or(())
    };
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .enumerate()
        .map(|(i, line)| {
            let parts: Vec<&str> = line.split_whitespace().collect();
            let [sex, min, max, low, high] = parts.as_slice() else {
                return Err(i + 1);
            };
            let sex = match *sex {
                "any" => None,
                other => Some(
                    Sex::from_code(other)
                        .filter(|s| matches!(s, Sex::Female | Sex::Male))
                        .ok_or(i + 1)?,
                ),
            };
            let (min_age, max_age) = (
                min.parse::<i64>().map_err(|_| i + 1)?,
                max.parse::<i64>().map_err(|_| i + 1)?,
            );
            let (low, high) = (limit(low).map_err(|_| i + 1)?, limit(high).map_err(|_| i + 1)?);
            let ordered = match (low, high) {
                (Some(l), Some(h)) => l < h,
                (None, None) => false,
                _ => true,
            };
            if min_age < 0 || max_age <= min_age || max_age > 150 || !ordered {
                return Err(i + 1);
            }
            Ok(ReferenceRange {
                sex,
                min_age,
                max_age,
                low,
                high,
            })
        })
        .collect()
}

/// The ranges as `parse_ranges` reads them.
pub fn ranges_text(ranges: &[ReferenceRange]) -> String {
    let limit = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |v| v.to_string());
    ranges
        .iter()
        .map(|r| {
            let sex = r.sex.map_or("any", Sex::code);
            format!(
                "{sex} {} {} {} {}",
                r.min_age,
                r.max_age,
                limit(r.low),
                limit(r.high)
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// "L2611260042": L, the collection date (yymmdd), and the day's sequence. Digits after
/// the letter let the label's barcode use the compact Code 128 set C.
pub fn accession_number(day: chrono::NaiveDate, sequence: i64) -> String {
    format!("L{}{sequence:04}", day.format("%y%m%d"))
}

/// Whether a scanned or typed text is shaped like an accession number.
pub fn is_accession(text: &str) -> bool {
    text.len() == 11 && text.starts_with('L') && text[1..].bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn potassium() -> LabTest {
        LabTest {
            id: 1,
            loinc: "2823-3".into(),
            name_fr: "Potassium".into(),
            name_en: "Potassium".into(),
            specimen_type: SpecimenType::Plasma,
            value_kind: ValueKind::Numeric,
            unit: "mmol/L".into(),
            decimals: 1,
            plausible_low: Some(1.0),
            plausible_high: Some(12.0),
            critical_low: Some(2.8),
            critical_high: Some(6.2),
            allowed_codes: vec![],
            normal_codes: vec![],
            performed: Performed::InHouse,
            turnaround_minutes: 30,
            second_verifier: false,
            active: true,
            ranges: vec![
                ReferenceRange {
                    sex: None,
                    min_age: 18,
                    max_age: 150,
                    low: Some(3.5),
                    high: Some(5.1),
                },
                ReferenceRange {
                    sex: None,
                    min_age: 0,
                    max_age: 18,
                    low: Some(3.4),
                    high: Some(4.7),
                },
            ],
        }
    }

    fn value(test: &LabTest, typed: &str) -> Measured {
        test.read_value(typed, &test.unit).unwrap_or(Measured {
            text: String::new(),
            number: None,
        })
    }

    #[test]
    fn flags_follow_critical_limits_then_the_range() {
        let k = potassium();
        let adult = k.range_for(Sex::Female, 40);
        let flag = |typed: &str| k.flag(&value(&k, typed), adult);
        assert_eq!(flag("4.2"), Flag::Normal);
        assert_eq!(flag("3.5"), Flag::Normal);
        assert_eq!(flag("5.1"), Flag::Normal);
        assert_eq!(flag("3.4"), Flag::Low);
        assert_eq!(flag("5.2"), Flag::High);
        assert_eq!(flag("6.2"), Flag::CriticalHigh);
        assert_eq!(flag("7,1"), Flag::CriticalHigh);
        assert_eq!(flag("2.8"), Flag::CriticalLow);
        assert!(Flag::CriticalHigh.is_critical() && !Flag::High.is_critical());
        // A child's band is narrower.
        let child = k.range_for(Sex::Male, 9);
        assert_eq!(k.flag(&value(&k, "4.9"), child), Flag::High);
        // No range: only critical limits flag.
        assert_eq!(k.flag(&value(&k, "5.9"), None), Flag::Normal);
    }

    #[test]
    fn reported_values_meet_the_same_rules_as_the_bench() {
        let k = potassium();
        let read = |value: &str, unit: &str| k.read_reported(value, unit, Sex::Male, 60);
        let flag = |reading: Reading| match reading {
            Reading::Flagged { flag, .. } => Some(flag),
            _ => None,
        };
        // The sender's flag does not matter: the catalog's critical limit does.
        assert_eq!(flag(read("6.9", "mmol/L")), Some(Flag::CriticalHigh));
        assert_eq!(flag(read("6,9", "mmol/l")), Some(Flag::CriticalHigh));
        assert_eq!(flag(read("5.3", "mmol/L")), Some(Flag::High));
        assert_eq!(
            flag(read("4.25", "mmol/L")),
            Some(Flag::Normal),
            "more decimals than ours is fine"
        );
        assert_eq!(read("6.9", "mEq/L"), Reading::Hold(HoldReason::UnitMismatch));
        assert_eq!(read("6.9", ""), Reading::Hold(HoldReason::UnitMismatch));
        assert_eq!(read("69", "mmol/L"), Reading::Hold(HoldReason::Implausible));
        assert_eq!(read("<1.5", "mmol/L"), Reading::NotApplicable);
        assert_eq!(read("haemolysed", "mmol/L"), Reading::NotApplicable);
        match read("4.0", "mmol/L") {
            Reading::Flagged { range, .. } => assert_eq!(range, "3.5–5.1"),
            other => panic!("{other:?}"),
        }
        let mut strip = potassium();
        strip.value_kind = ValueKind::Coded;
        strip.allowed_codes = vec!["neg".into(), "pos".into()];
        strip.normal_codes = vec!["neg".into()];
        assert_eq!(
            flag(strip.read_reported("POS", "", Sex::Female, 30)),
            Some(Flag::Abnormal)
        );
        assert_eq!(
            strip.read_reported("2+", "", Sex::Female, 30),
            Reading::Hold(HoldReason::Implausible)
        );
        let mut panel = potassium();
        panel.value_kind = ValueKind::Panel;
        assert_eq!(
            panel.read_reported("1", "x", Sex::Female, 30),
            Reading::NotApplicable
        );
    }

    #[test]
    fn units_and_reported_numbers() {
        assert!(same_unit("mmol/L", "mmol/l"));
        assert!(same_unit(" g/dl", "g/dL"));
        assert!(same_unit("10*9/L", "10*9/l"));
        assert!(!same_unit("mmol/L", "mEq/L"));
        assert!(!same_unit("g/L", "g/dL"));
        assert!(!same_unit("mmol/L", ""));
        assert_eq!(reported_number("6.9"), Some(6.9));
        assert_eq!(reported_number("-1,5"), Some(-1.5));
        for text in ["", ".", "<5", "5-6", "1e3", "NaN", "inf", "6.9.1", "+"] {
            assert_eq!(reported_number(text), None, "{text}");
        }
    }

    #[test]
    fn sex_specific_ranges_win_over_any() {
        let mut hb = potassium();
        hb.ranges = vec![
            ReferenceRange {
                sex: None,
                min_age: 0,
                max_age: 150,
                low: Some(11.0),
                high: Some(18.0),
            },
            ReferenceRange {
                sex: Some(Sex::Female),
                min_age: 18,
                max_age: 150,
                low: Some(12.0),
                high: Some(16.0),
            },
            ReferenceRange {
                sex: Some(Sex::Male),
                min_age: 18,
                max_age: 150,
                low: Some(13.0),
                high: Some(17.0),
            },
        ];
        assert_eq!(hb.range_for(Sex::Female, 30).and_then(|r| r.low), Some(12.0));
        assert_eq!(hb.range_for(Sex::Male, 30).and_then(|r| r.low), Some(13.0));
        assert_eq!(hb.range_for(Sex::Unknown, 30).and_then(|r| r.low), Some(11.0));
        assert_eq!(
            hb.range_for(Sex::Female, 30).map(|r| r.text(1)).as_deref(),
            Some("12.0–16.0")
        );
    }

    #[test]
    fn values_are_checked_before_they_are_stored() {
        let k = potassium();
        assert_eq!(k.read_value("4,25", "mmol/L"), Err(ValueProblem::TooManyDecimals));
        assert_eq!(k.read_value("", "mmol/L"), Err(ValueProblem::Empty));
        assert_eq!(k.read_value("abc", "mmol/L"), Err(ValueProblem::NotANumber));
        assert_eq!(k.read_value("4-2", "mmol/L"), Err(ValueProblem::NotANumber));
        assert_eq!(k.read_value("1e1", "mmol/L"), Err(ValueProblem::NotANumber));
        assert_eq!(k.read_value("NaN", "mmol/L"), Err(ValueProblem::NotANumber));
        assert_eq!(k.read_value("42", "mmol/L"), Err(ValueProblem::Implausible));
        assert_eq!(k.read_value("0.2", "mmol/L"), Err(ValueProblem::Implausible));
        assert_eq!(k.read_value("4.2", "mg/dL"), Err(ValueProblem::WrongUnit));
        let read = k.read_value(" 4 ", "mmol/L");
        assert_eq!(read.map(|m| m.text), Ok("4.0".to_owned()));

        let mut nitrite = potassium();
        nitrite.value_kind = ValueKind::Coded;
        nitrite.unit = String::new();
        nitrite.allowed_codes = vec!["neg".into(), "pos".into()];
        nitrite.normal_codes = vec!["neg".into()];
        assert_eq!(
            nitrite.read_value("maybe", ""),
            Err(ValueProblem::NotAnAllowedCode)
        );
        let pos = value(&nitrite, "POS");
        assert_eq!(nitrite.flag(&pos, None), Flag::Abnormal);
        assert_eq!(nitrite.flag(&value(&nitrite, "neg"), None), Flag::Normal);

        let mut panel = potassium();
        panel.value_kind = ValueKind::Panel;
        assert_eq!(
            panel.read_value("1", "mmol/L"),
            Err(ValueProblem::NotEnteredAtTheBench)
        );
    }

    #[test]
    fn loinc_codes_carry_their_check_digit() {
        for code in [
            "2823-3", "718-7", "2345-7", "4548-4", "57021-8", "24317-0", "5802-4", "1988-5",
        ] {
            assert!(is_loinc(code), "{code}");
        }
        for code in [
            "2823-4",
            "2823",
            "-3",
            "28a3-3",
            "12345678-9",
            "2823-33",
            "2823-x",
        ] {
            assert!(!is_loinc(code), "{code}");
        }
    }

    #[test]
    fn ranges_are_read_and_written_one_per_line() {
        let text = "female 18 150 12.0 16.0\nany 0 18 - 5,5";
        let ranges = parse_ranges(text).unwrap_or_default();
        assert_eq!(ranges.len(), 2);
        assert_eq!(ranges[0].sex, Some(Sex::Female));
        assert_eq!((ranges[1].low, ranges[1].high), (None, Some(5.5)));
        assert_eq!(parse_ranges(&ranges_text(&ranges)), Ok(ranges));
        assert_eq!(parse_ranges("female 18 150 16 12"), Err(1));
        assert_eq!(parse_ranges("any 0 18 1 2\nboth 0 18 1 2"), Err(2));
        assert_eq!(parse_ranges("any 20 18 1 2"), Err(1));
        assert_eq!(parse_ranges("any 0 18 - -"), Err(1));
        assert_eq!(parse_ranges("any 0 18 1"), Err(1));
        assert_eq!(parse_ranges(""), Ok(vec![]));
    }

    #[test]
    fn turnaround_counts_medians_and_targets() {
        let k = potassium();
        assert_eq!(Turnaround::of(k.clone(), vec![]), None);
        let t = Turnaround::of(k, vec![50, 10, 20, 30, 40]).unwrap_or_else(|| unreachable!());
        assert_eq!((t.count, t.median_minutes, t.p90_minutes), (5, 30, 50));
        assert_eq!(
            t.within_target_percent, 60,
            "30 min target: 10, 20 and 30 are within"
        );
    }

    #[test]
    fn accession_numbers_are_dated_and_recognised() {
        let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 26).unwrap_or_default();
        let number = accession_number(day, 42);
        assert_eq!(number, "L2611260042");
        assert!(is_accession(&number));
        assert!(!is_accession("L26112600"));
        assert!(!is_accession("X2611260042"));
        assert!(!is_accession("L26112600é2"));
    }
}
