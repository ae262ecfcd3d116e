//! The lab catalog as administrators edit it: the form's fields, checked into a test.

use super::{parse_ranges, LabTest, Performed, SpecimenType, ValueKind};
use crate::error::{validate::Checks, AppError, Problem};

/// A test as the catalog form posts it: text fields, checked by [`TestForm::checked`].
#[derive(Debug, Clone, Default)]
pub struct TestForm {
    pub id: i64,
    pub loinc: String,
    pub name_fr: String,
    pub name_en: String,
    pub specimen_type: String,
    pub value_kind: String,
    pub unit: String,
    pub decimals: String,
    pub plausible_low: String,
    pub plausible_high: String,
    pub critical_low: String,
    pub critical_high: String,
    pub allowed_codes: String,
    pub normal_codes: String,
    pub performed: String,
    pub turnaround_minutes: String,
    pub second_verifier: bool,
    pub active: bool,
    pub ranges: String,
}

fn code_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(|c| c.trim().to_lowercase())
        .filter(|c| !c.is_empty())
        .collect()
}

impl TestForm {
    /// The test, or every field at fault.
    pub fn checked(&self) -> Result<LabTest, AppError> {
        let mut checks = Checks::new();
        if self.id < 0 {
            checks.fail("id", Problem::Malformed);
        }
        let loinc = self.loinc.trim().to_owned();
        if !super::is_loinc(&loinc) {
            checks.fail("loinc", Problem::Malformed);
        }
        let name_fr = checks.text("name_fr", &self.name_fr, 120);
        let name_en = checks.text("name_en", &self.name_en, 120);
        let specimen_type = SpecimenType::from_code(&self.specimen_type);
        let value_kind = ValueKind::from_code(&self.value_kind);
        let performed = Performed::from_code(&self.performed);
        for (field, ok) in [
            ("specimen_type", specimen_type.is_some()),
            ("value_kind", value_kind.is_some()),
            ("performed", performed.is_some()),
        ] {
            if !ok {
                checks.fail(field, Problem::Malformed);
            }
        }
        let unit = self.unit.trim().to_owned();
        let numeric = value_kind == Some(ValueKind::Numeric);
        let unit_ok = unit.len() <= 20 && unit.bytes().all(|b| b.is_ascii_graphic());
        if !unit_ok || (numeric && unit.is_empty()) {
            checks.fail(
                "unit",
                if unit.is_empty() {
                    Problem::Required
                } else {
                    Problem::Malformed
                },
            );
        }
        let decimals = match self.decimals.trim() {
            "" => 0,
            text => match text.parse::<i64>() {
                Ok(n) if (0..=4).contains(&n) => n,
                _ => {
                    checks.fail("decimals", Problem::NotAllowed);
                    0
                }
            },
        };
        let mut limit = |field: &str, text: &str| match text.trim() {
            "" => None,
            text => {
                let value = text
                    .replace(',', ".")
                    .parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite());
                if value.is_none() {
                    checks.fail(field, Problem::Malformed);
                }
                value
            }
        };
        let plausible_low = limit("plausible_low", &self.plausible_low);
        let plausible_high = limit("plausible_high", &self.plausible_high);
        let critical_low = limit("critical_low", &self.critical_low);
        let critical_high = limit("critical_high", &self.critical_high);
        if let (Some(low), Some(high)) = (plausible_low, plausible_high) {
            if low >= high {
                checks.fail("plausible_high", Problem::NotAllowed);
            }
        }
        if let (Some(low), Some(high)) = (critical_low, critical_high) {
            if low >= high {
                checks.fail("critical_high", Problem::NotAllowed);
            }
        }
        let allowed_codes = code_list(&self.allowed_codes);
        let normal_codes = code_list(&self.normal_codes);
        if value_kind == Some(ValueKind::Coded) {
            if allowed_codes.is_empty() || allowed_codes.len() > 12 {
                checks.fail("allowed_codes", Problem::Required);
            }
            if normal_codes.iter().any(|c| !allowed_codes.contains(c)) {
                checks.fail("normal_codes", Problem::NotAllowed);
            }
        }
        let turnaround_minutes = match self.turnaround_minutes.trim().parse::<i64>() {
            Ok(n) if (1..=20_160).contains(&n) => n,
            _ => {
                checks.fail("turnaround_minutes", Problem::NotAllowed);
                0
            }
        };
        let ranges = parse_ranges(&self.ranges).unwrap_or_else(|_| {
            checks.fail("ranges", Problem::Malformed);
            Vec::new()
        });
        checks.finish()?;
        Ok(LabTest {
            id: self.id,
            loinc,
            name_fr,
            name_en,
            specimen_type: specimen_type.ok_or(AppError::Internal)?,
            value_kind: value_kind.ok_or(AppError::Internal)?,
            unit,
            decimals,
            plausible_low,
            plausible_high,
            critical_low,
            critical_high,
            allowed_codes,
            normal_codes,
            performed: performed.ok_or(AppError::Internal)?,
            turnaround_minutes,
            second_verifier: self.second_verifier,
            active: self.active,
            ranges,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn potassium() -> TestForm {
        TestForm {
            loinc: "2823-3".into(),
            name_fr: "Potassium".into(),
            name_en: "Potassium".into(),
            specimen_type: "PLAS".into(),
            value_kind: "numeric".into(),
            unit: "mmol/L".into(),
            decimals: "1".into(),
            plausible_low: "1".into(),
            plausible_high: "12".into(),
            critical_low: "2,8".into(),
            critical_high: "6.2".into(),
            performed: "in_house".into(),
            turnaround_minutes: "30".into(),
            active: true,
            ranges: "any 18 150 3.5 5.1".into(),
            ..TestForm::default()
        }
    }

    fn fields(form: TestForm) -> Vec<String> {
        match form.checked() {
            Err(AppError::Invalid(fields)) => fields.into_iter().map(|f| f.field).collect(),
            other => vec![format!("{other:?}")],
        }
    }

    #[test]
    fn a_well_formed_test_is_accepted() {
        let test = potassium().checked();
        assert!(
            matches!(&test, Ok(t) if t.critical_low == Some(2.8) && t.ranges.len() == 1),
            "{test:?}"
        );
    }

    #[test]
    fn each_bad_field_is_named() {
        assert_eq!(
            fields(TestForm {
                loinc: "2823-4".into(),
                ..potassium()
            }),
            ["loinc"]
        );
        assert_eq!(
            fields(TestForm {
                unit: String::new(),
                ..potassium()
            }),
            ["unit"]
        );
        assert_eq!(
            fields(TestForm {
                unit: "mmol per L".into(),
                ..potassium()
            }),
            ["unit"]
        );
        assert_eq!(
            fields(TestForm {
                decimals: "9".into(),
                ..potassium()
            }),
            ["decimals"]
        );
        assert_eq!(
            fields(TestForm {
                critical_low: "7".into(),
                ..potassium()
            }),
            ["critical_high"]
        );
        assert_eq!(
            fields(TestForm {
                plausible_low: "abc".into(),
                ..potassium()
            }),
            ["plausible_low"]
        );
        assert_eq!(
            fields(TestForm {
                turnaround_minutes: "0".into(),
                ..potassium()
            }),
            ["turnaround_minutes"]
        );
        assert_eq!(
            fields(TestForm {
                ranges: "all 0 18 1 2".into(),
                ..potassium()
            }),
            ["ranges"]
        );
        assert_eq!(
            fields(TestForm {
                specimen_type: "XX".into(),
                ..potassium()
            }),
            ["specimen_type"]
        );
        let coded = TestForm {
            value_kind: "coded".into(),
            unit: String::new(),
            ..potassium()
        };
        assert_eq!(fields(coded.clone()), ["allowed_codes"]);
        let strip = TestForm {
            allowed_codes: "neg, pos".into(),
            normal_codes: "trace".into(),
            ..coded
        };
        assert_eq!(fields(strip), ["normal_codes"]);
    }
}
