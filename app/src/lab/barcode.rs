//! Code 128 encoding for specimen labels.
//!
//! Turns an accession number (or any short printable-ASCII text) into the sequence of
//! bar/space modules of a Code 128 symbol. Drawing is left to the caller: [`Code128::bars`]
//! gives one `(start, width)` pair per bar, so an SVG renderer needs one `<rect>` per bar.
//!
//! Only code sets B and C are used: B covers all of printable ASCII (32..=126) and C packs
//! two digits into one symbol. Code sets are chosen to give the shortest possible symbol:
//!
//! * start in C when the data begins with 4 or more digits, or is entirely digits of even
//!   length (this includes exactly 2 digits); otherwise start in B;
//! * inside the data, switch from B to C for a run of 6 or more digits, or 4 or more digits
//!   when the run reaches the end of the data;
//! * a digit run of odd length that is switched to C has its first digit encoded in B, so
//!   the remaining digits pair up exactly; when the data starts in C with an odd run, the
//!   leftover last digit is encoded in B after switching back.
//!
//! Because every non-digit character forces code set B, each digit run can be decided on its
//! own, and the rules above are optimal for each run; the tests cross-check this against an
//! exhaustive search.
//!
//! Quiet zones are not part of [`Code128::modules`]; the renderer adds
//! [`QUIET_ZONE_MODULES`] blank modules on each side.

use std::fmt;

/// Blank modules the renderer must leave on each side of the symbol.
pub const QUIET_ZONE_MODULES: usize = 10;

/// Longest data (in characters) that [`encode`] accepts.
pub const MAX_DATA_LEN: usize = 48;

/// Symbol value of the Start B character.
pub const START_B: u8 = 104;
/// Symbol value of the Start C character.
pub const START_C: u8 = 105;
/// Symbol value of the Code C switch (in code set B).
pub const CODE_C: u8 = 99;
/// Symbol value of the Code B switch (in code set C).
pub const CODE_B: u8 = 100;
/// Symbol value of the Stop character.
pub const STOP: u8 = 106;

/// Modules in every symbol except Stop.
const SYMBOL_MODULES: usize = 11;
/// Modules in the Stop symbol, including its final 2-module bar.
const STOP_MODULES: usize = 13;

/// Element widths (bar, space, bar, ...) of every Code 128 symbol, indexed by value.
/// Values 0..=105 have six elements totalling 11 modules; 106 (Stop) has seven
/// elements totalling 13 modules, the last being the 2-module termination bar.
const PATTERNS: [&str; 107] = [
    "212222", "222122", "222221", "121223", "121322", "131222", "122213", "122312", // 0-7
    "132212", "221213", "221312", "231212", "112232", "122132", "122231", "113222", // 8-15
    "123122", "123221", "223211", "221132", "221231", "213212", "223112", "312131", // 16-23
    "311222", "321122", "321221", "312212", "322112", "322211", "212123", "212321", // 24-31
    "232121", "111323", "131123", "131321", "112313", "132113", "132311", "211313", // 32-39
    "231113", "231311", "112133", "112331", "132131", "113123", "113321", "133121", // 40-47
    "313121", "211331", "231131", "213113", "213311", "213131", "311123", "311321", // 48-55
    "331121", "312113", "312311", "332111", "314111", "221411", "431111", "111224", // 56-63
    "111422", "121124", "121421", "141122", "141221", "112214", "112412", "122114", // 64-71
    "122411", "142112", "142211", "241211", "221114", "413111", "241112", "134111", // 72-79
    "111242", "121142", "121241", "114212", "124112", "124211", "411212", "421112", // 80-87
    "421211", "212141", "214121", "412121", "111143", "111341", "131141", "114113", // 88-95
    "114311", "411113", "411311", "113141", "114131", "311141", "411131", "211412", // 96-103
    "211214", "211232", "2331112", // 104-106
];

/// Why some text cannot be turned into a Code 128 barcode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BarcodeError {
    /// The text to encode was empty.
    Empty,
    /// The text has more than [`MAX_DATA_LEN`] characters.
    TooLong {
        /// Number of characters in the text.
        len: usize,
        /// The maximum allowed.
        max: usize,
    },
    /// The text contains a character outside printable ASCII (space to `~`).
    InvalidCharacter {
        /// The offending character.
        ch: char,
        /// Its 1-based position in the text, counted in characters.
        position: usize,
    },
}

impl fmt::Display for BarcodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BarcodeError::Empty => write!(f, "nothing to put in the barcode: the text is empty"),
            BarcodeError::TooLong { len, max } => write!(
                f,
                "the text is too long for a barcode: {len} characters, the maximum is {max}"
            ),
            BarcodeError::InvalidCharacter { ch, position } => write!(
                f,
                "the character '{}' (U+{:04X}) at position {position} cannot be put in the \
                 barcode: only letters, digits, spaces and printable ASCII symbols are allowed",
                ch.escape_debug(),
                u32::from(*ch)
            ),
        }
    }
}

impl std::error::Error for BarcodeError {}

/// An encoded Code 128 symbol (start, data, checksum and stop; no quiet zones).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Code128 {
    /// One entry per module, `true` for bar (dark), `false` for space.
    modules: Vec<bool>,
    /// Symbol values in order: start, data (including code-set switches), checksum, stop.
    values: Vec<u8>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum CodeSet {
    B,
    C,
}

/// Encodes `data` as Code 128, choosing code sets B and C to minimise the symbol length.
///
/// Accepts 1 to [`MAX_DATA_LEN`] characters of printable ASCII (32..=126).
pub fn encode(data: &str) -> Result<Code128, BarcodeError> {
    if data.is_empty() {
        return Err(BarcodeError::Empty);
    }
    let len = data.chars().count();
    if len > MAX_DATA_LEN {
        return Err(BarcodeError::TooLong {
            len,
            max: MAX_DATA_LEN,
        });
    }
    if let Some((index, ch)) = data.chars().enumerate().find(|(_, c)| !(' '..='~').contains(c)) {
        return Err(BarcodeError::InvalidCharacter {
            ch,
            position: index + 1,
        });
    }

    // Only printable ASCII remains, so bytes and characters coincide.
    let mut values = plan(data.as_bytes());
    values.push(checksum(&values));
    values.push(STOP);

    let modules = values_to_modules(&values);
    Ok(Code128 { modules, values })
}

impl Code128 {
    /// The modules of the symbol, left to right; `true` is a bar. Quiet zones not included.
    pub fn modules(&self) -> &[bool] {
        &self.modules
    }

    /// Width of the symbol in modules, excluding quiet zones.
    pub fn width(&self) -> usize {
        self.modules.len()
    }

    /// Width of the symbol in modules including a quiet zone on each side.
    pub fn width_with_quiet_zones(&self) -> usize {
        self.modules.len() + 2 * QUIET_ZONE_MODULES
    }

    /// Each bar as `(start module, width in modules)`, left to right, with module 0 being the
    /// first module of the start symbol (add [`QUIET_ZONE_MODULES`] for the drawing offset).
    pub fn bars(&self) -> Vec<(usize, usize)> {
        let mut bars = Vec::new();
        let mut run_start: Option<usize> = None;
        for (i, &dark) in self.modules.iter().enumerate() {
            match (dark, run_start) {
                (true, None) => run_start = Some(i),
                (false, Some(start)) => {
                    bars.push((start, i - start));
                    run_start = None;
                }
                _ => {}
            }
        }
        if let Some(start) = run_start {
            bars.push((start, self.modules.len() - start));
        }
        bars
    }

    /// Symbol values: start, data (including code-set switches), checksum, stop.
    pub fn symbol_values(&self) -> &[u8] {
        &self.values
    }
}

/// Length of the run of ASCII digits starting at `from`.
fn digit_run(bytes: &[u8], from: usize) -> usize {
    bytes[from..].iter().take_while(|b| b.is_ascii_digit()).count()
}

/// Start symbol and data symbols (with code-set switches) for printable-ASCII `bytes`.
fn plan(bytes: &[u8]) -> Vec<u8> {
    let n = bytes.len();
    let mut values = Vec::with_capacity(n + 4);
    let lead = digit_run(bytes, 0);
    let mut set = if lead >= 4 || (lead == n && n.is_multiple_of(2)) {
        values.push(START_C);
        CodeSet::C
    } else {
        values.push(START_B);
        CodeSet::B
    };

    let mut i = 0;
    while i < n {
        let run = digit_run(bytes, i);
        match set {
            CodeSet::C => {
                if run >= 2 {
                    values.push((bytes[i] - b'0') * 10 + (bytes[i + 1] - b'0'));
                    i += 2;
                } else {
                    values.push(CODE_B);
                    set = CodeSet::B;
                }
            }
            CodeSet::B => {
                let worth_c = run >= 6 || (i + run == n && run >= 4);
                if worth_c && run.is_multiple_of(2) {
                    values.push(CODE_C);
                    set = CodeSet::C;
                } else {
                    // An odd run worth switching for leaves an even run worth switching for.
                    values.push(bytes[i] - b' ');
                    i += 1;
                }
            }
        }
    }
    values
}

/// Mod-103 checksum over the start symbol and data symbols (`values[0]` is the start).
fn checksum(values: &[u8]) -> u8 {
    let sum = values
        .iter()
        .enumerate()
        .map(|(i, &v)| i.max(1) as u64 * u64::from(v))
        .sum::<u64>();
    (sum % 103) as u8
}

fn values_to_modules(values: &[u8]) -> Vec<bool> {
    let width = values.len().saturating_sub(1) * SYMBOL_MODULES + STOP_MODULES;
    let mut modules = Vec::with_capacity(width);
    for &v in values {
        let pattern = PATTERNS.get(usize::from(v)).copied().unwrap_or("");
        for (k, w) in pattern.bytes().enumerate() {
            let dark = k % 2 == 0;
            modules.extend(std::iter::repeat_n(dark, usize::from(w - b'0')));
        }
    }
    modules
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn widths(value: usize) -> Vec<usize> {
        PATTERNS[value].bytes().map(|b| usize::from(b - b'0')).collect()
    }

    // ---- table ----

    #[test]
    fn table_has_107_well_formed_patterns() {
        assert_eq!(PATTERNS.len(), 107);
        for value in 0..106 {
            let w = widths(value);
            assert_eq!(w.len(), 6, "value {value}: 3 bars and 3 spaces");
            assert_eq!(w.iter().sum::<usize>(), 11, "value {value}: 11 modules");
            assert!(
                w.iter().all(|&x| (1..=4).contains(&x)),
                "value {value}: widths 1..=4"
            );
            // Bars (even positions) total an even number of modules: Code 128 parity rule.
            assert_eq!((w[0] + w[2] + w[4]) % 2, 0, "value {value}: bar parity");
        }
        let stop = widths(106);
        assert_eq!(stop, vec![2, 3, 3, 1, 1, 1, 2]);
        assert_eq!(stop.iter().sum::<usize>(), 13);
    }

    #[test]
    fn table_patterns_are_distinct() {
        for (a, pa) in PATTERNS.iter().enumerate() {
            for (b, pb) in PATTERNS.iter().enumerate().skip(a + 1) {
                assert_ne!(pa, pb, "values {a} and {b}");
            }
        }
    }

    #[test]
    fn table_spot_checks() {
        // Well-known values: space/00, start A/B/C, code switches, FNC1.
        assert_eq!(PATTERNS[0], "212222");
        assert_eq!(PATTERNS[33], "111323"); // 'A' in B
        assert_eq!(PATTERNS[99], "113141"); // Code C
        assert_eq!(PATTERNS[100], "114131"); // Code B
        assert_eq!(PATTERNS[102], "411131"); // FNC1
        assert_eq!(PATTERNS[103], "211412"); // Start A
        assert_eq!(PATTERNS[104], "211214"); // Start B
        assert_eq!(PATTERNS[105], "211232"); // Start C
        assert_eq!(PATTERNS[106], "2331112"); // Stop
    }

    #[test]
    fn every_symbol_renders_as_its_pattern() {
        for value in 0..=106u8 {
            let modules = values_to_modules(&[value]);
            let expected: String = PATTERNS[usize::from(value)]
                .bytes()
                .enumerate()
                .flat_map(|(k, w)| {
                    std::iter::repeat_n(if k % 2 == 0 { '1' } else { '0' }, usize::from(w - b'0'))
                })
                .collect();
            let got: String = modules.iter().map(|&d| if d { '1' } else { '0' }).collect();
            assert_eq!(got, expected, "value {value}");
        }
        // Start B as modules: the classic 11010010000.
        let start_b: String = values_to_modules(&[START_B])
            .iter()
            .map(|&d| if d { '1' } else { '0' })
            .collect();
        assert_eq!(start_b, "11010010000");
    }

    // ---- test-only decoder ----

    /// Reads modules back into symbol values, checks the checksum and returns the text.
    fn decode(modules: &[bool]) -> Result<(Vec<u8>, String), String> {
        // Run-length encode, starting with a bar.
        if modules.first() != Some(&true) || modules.last() != Some(&true) {
            return Err("symbol must start and end with a bar".into());
        }
        let mut runs: Vec<usize> = Vec::new();
        let mut current = true;
        let mut len = 0;
        for &m in modules {
            if m == current {
                len += 1;
            } else {
                runs.push(len);
                current = m;
                len = 1;
            }
        }
        runs.push(len);
        if runs.len() < 6 + 6 + 7 || !(runs.len() - 7).is_multiple_of(6) {
            return Err(format!("unexpected element count {}", runs.len()));
        }
        let lookup = |elements: &[usize]| -> Result<u8, String> {
            let key: String = elements.iter().map(|w| w.to_string()).collect();
            PATTERNS
                .iter()
                .position(|p| *p == key)
                .map(|v| v as u8)
                .ok_or_else(|| format!("unknown pattern {key}"))
        };
        let split = runs.len() - 7;
        let mut values: Vec<u8> = runs[..split]
            .chunks(6)
            .map(lookup)
            .collect::<Result<Vec<u8>, String>>()?;
        if lookup(&runs[split..])? != STOP {
            return Err("missing stop".into());
        }
        let check = values.pop().ok_or("no checksum")?;
        let weighted: u64 = values
            .iter()
            .enumerate()
            .map(|(i, &v)| i.max(1) as u64 * u64::from(v))
            .sum();
        if (weighted % 103) as u8 != check {
            return Err(format!(
                "checksum mismatch: got {check}, expected {}",
                weighted % 103
            ));
        }
        let mut set = match values.first() {
            Some(&START_B) => CodeSet::B,
            Some(&START_C) => CodeSet::C,
            other => return Err(format!("unsupported start {other:?}")),
        };
        let mut text = String::new();
        for &v in &values[1..] {
            match (set, v) {
                (CodeSet::B, CODE_C) => set = CodeSet::C,
                (CodeSet::C, CODE_B) => set = CodeSet::B,
                (CodeSet::B, 0..=94) => text.push(char::from(v + 32)),
                (CodeSet::C, 0..=99) => text.push_str(&format!("{v:02}")),
                _ => return Err(format!("unexpected value {v}")),
            }
        }
        values.push(check);
        values.push(STOP);
        Ok((values, text))
    }

    /// Exhaustive minimum number of start + data symbols using code sets B and C.
    fn minimal_symbol_count(data: &str) -> usize {
        let b = data.as_bytes();
        let n = b.len();
        let pair = |i: usize| i + 1 < n && b[i].is_ascii_digit() && b[i + 1].is_ascii_digit();
        // in_b[i] / in_c[i]: symbols needed for b[i..] when currently in set B / C.
        let mut in_b = vec![0usize; n + 1];
        let mut in_c = vec![0usize; n + 1];
        for i in (0..n).rev() {
            let via_c = if pair(i) { Some(1 + in_c[i + 2]) } else { None };
            in_b[i] = via_c.map_or(1 + in_b[i + 1], |c| (1 + c).min(1 + in_b[i + 1]));
            in_c[i] = via_c.map_or(2 + in_b[i + 1], |c| c.min(2 + in_b[i + 1]));
        }
        1 + in_b[0].min(in_c[0])
    }

    struct Lcg(u64);

    impl Lcg {
        fn next(&mut self) -> u32 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (self.0 >> 33) as u32
        }
        fn below(&mut self, n: u32) -> u32 {
            self.next() % n
        }
    }

    fn check_round_trip(data: &str) {
        let code = encode(data).unwrap_or_else(|e| panic!("{data:?}: {e}"));
        let (values, text) = decode(code.modules()).unwrap_or_else(|e| panic!("{data:?}: {e}"));
        assert_eq!(text, data);
        assert_eq!(values, code.symbol_values(), "{data:?}");
        let data_symbols = code.symbol_values().len() - 2; // minus checksum and stop
        assert_eq!(data_symbols, minimal_symbol_count(data), "{data:?} not minimal");
        assert_eq!(code.width(), (code.symbol_values().len() - 1) * 11 + 13);
        // Bars reproduce the modules exactly.
        let mut rebuilt = vec![false; code.width()];
        for (start, w) in code.bars() {
            assert!((1..=4).contains(&w), "{data:?}: bar width {w}");
            rebuilt[start..start + w].iter_mut().for_each(|m| *m = true);
        }
        assert_eq!(rebuilt, code.modules(), "{data:?}");
    }

    // ---- known encodings ----

    #[test]
    fn wikipedia_pjj123c() {
        // Wikipedia's worked example uses Start A (103) and gets checksum 54.
        assert_eq!(checksum(&[103, 48, 42, 42, 17, 18, 19, 35]), 54);
        // We encode in code set B (Start B = 104), which raises the sum by one: 55.
        let code = encode("PJJ123C").unwrap();
        assert_eq!(code.symbol_values(), &[104, 48, 42, 42, 17, 18, 19, 35, 55, 106]);
        assert_eq!(code.width(), 9 * 11 + 13);
        check_round_trip("PJJ123C");
    }

    #[test]
    fn all_digit_accession_uses_code_c() {
        let code = encode("2611260001").unwrap();
        // 105 + 26 + 2*11 + 3*26 + 4*0 + 5*1 = 236 = 2*103 + 30
        assert_eq!(code.symbol_values(), &[105, 26, 11, 26, 0, 1, 30, 106]);
        assert_eq!(code.width(), 90);
        check_round_trip("2611260001");
    }

    #[test]
    fn mixed_accession_switches_to_c() {
        let code = encode("L2611260001").unwrap();
        // 104 + 44 + 2*99 + 3*26 + 4*11 + 5*26 + 6*0 + 7*1 = 605 = 5*103 + 90
        assert_eq!(code.symbol_values(), &[104, 44, 99, 26, 11, 26, 0, 1, 90, 106]);
        assert_eq!(
            code.symbol_values().len() - 2,
            minimal_symbol_count("L2611260001")
        );
        // All of B would need 1 + 11 data symbols; this uses 1 + 7.
        assert_eq!(minimal_symbol_count("L2611260001"), 8);
        check_round_trip("L2611260001");
    }

    #[test]
    fn start_set_choice() {
        let v = |s: &str| encode(s).unwrap().symbol_values().to_vec();
        assert_eq!(v("12")[..2], [START_C, 12]);
        assert_eq!(v("1")[..2], [START_B, 17]);
        assert_eq!(v("123")[..4], [START_B, 17, 18, 19]);
        assert_eq!(v("1234")[..3], [START_C, 12, 34]);
        assert_eq!(v("1234A")[..5], [START_C, 12, 34, CODE_B, 33]);
        assert_eq!(v("123A")[..5], [START_B, 17, 18, 19, 33]);
        assert_eq!(v("12A")[..4], [START_B, 17, 18, 33]);
    }

    #[test]
    fn odd_digit_runs() {
        let v = |s: &str| {
            let values = encode(s).unwrap().symbol_values().to_vec();
            values[..values.len() - 2].to_vec()
        };
        // Leading odd run in C: pairs first, the leftover digit in B.
        assert_eq!(v("12345"), [START_C, 12, 34, CODE_B, 21]);
        assert_eq!(v("1234567"), [START_C, 12, 34, 56, CODE_B, 23]);
        assert_eq!(v("12345X"), [START_C, 12, 34, CODE_B, 21, 56]);
        // Trailing odd run: one digit in B, then C.
        assert_eq!(v("A12345"), [START_B, 33, 17, CODE_C, 23, 45]);
        // Middle odd run of 7: one digit in B, then C, then back to B.
        assert_eq!(v("A1234567B"), [START_B, 33, 17, CODE_C, 23, 45, 67, CODE_B, 34]);
        // Runs too short to gain anything stay in B.
        assert_eq!(v("A12345B"), [START_B, 33, 17, 18, 19, 20, 21, 34]);
        assert_eq!(v("A123"), [START_B, 33, 17, 18, 19]);
        // Even runs at the thresholds.
        assert_eq!(v("A1234"), [START_B, 33, CODE_C, 12, 34]);
        assert_eq!(v("A123456B"), [START_B, 33, CODE_C, 12, 34, 56, CODE_B, 34]);
        assert_eq!(v("A1234B"), [START_B, 33, 17, 18, 19, 20, 34]);
        for s in [
            "12345",
            "1234567",
            "12345X",
            "A12345",
            "A1234567B",
            "A12345B",
            "A123",
            "1",
        ] {
            check_round_trip(s);
        }
    }

    #[test]
    fn lower_case_spaces_and_symbols() {
        let code = encode("abc").unwrap();
        assert_eq!(code.symbol_values()[..4], [START_B, 65, 66, 67]);
        let code = encode("a b").unwrap();
        assert_eq!(code.symbol_values()[..4], [START_B, 65, 0, 66]);
        for s in [
            " ",
            "  lead",
            "trail  ",
            "a b c",
            "~!@#$%^&*()_+{}|:\"<>?",
            "Hb 12.5 g/dL",
        ] {
            check_round_trip(s);
        }
    }

    // ---- refusals ----

    #[test]
    fn refuses_empty() {
        assert_eq!(encode(""), Err(BarcodeError::Empty));
        assert!(BarcodeError::Empty.to_string().contains("empty"));
    }

    #[test]
    fn refuses_non_ascii_and_control_characters() {
        let err = encode("Caf\u{e9}").unwrap_err();
        assert_eq!(
            err,
            BarcodeError::InvalidCharacter {
                ch: '\u{e9}',
                position: 4
            }
        );
        let msg = err.to_string();
        assert!(msg.contains("'\u{e9}'") && msg.contains("U+00E9") && msg.contains("position 4"));

        let err = encode("L26\t01").unwrap_err();
        assert_eq!(
            err,
            BarcodeError::InvalidCharacter {
                ch: '\t',
                position: 4
            }
        );
        let msg = err.to_string();
        assert!(msg.contains("'\\t'") && msg.contains("U+0009"), "{msg}");

        assert!(matches!(
            encode("A\u{7f}"),
            Err(BarcodeError::InvalidCharacter { .. })
        ));
        assert!(matches!(encode("\n"), Err(BarcodeError::InvalidCharacter { .. })));
    }

    #[test]
    fn refuses_too_long() {
        let ok = "9".repeat(MAX_DATA_LEN);
        check_round_trip(&ok);
        let long = "A".repeat(MAX_DATA_LEN + 1);
        let err = encode(&long).unwrap_err();
        assert_eq!(err, BarcodeError::TooLong { len: 49, max: 48 });
        assert!(err.to_string().contains("49 characters"));
        // Length is counted in characters, not bytes.
        let err = encode(&"\u{e9}".repeat(30)).unwrap_err();
        assert!(matches!(err, BarcodeError::InvalidCharacter { position: 1, .. }));
    }

    // ---- geometry ----

    #[test]
    fn bars_and_quiet_zone() {
        let code = encode("L2611260001").unwrap();
        let bars = code.bars();
        // Each of the 9 six-element symbols has 3 bars; stop has 4.
        assert_eq!(bars.len(), 9 * 3 + 4);
        assert_eq!(bars[0], (0, 2)); // Start B begins with a 2-module bar
        assert_eq!(bars.last(), Some(&(code.width() - 2, 2))); // final termination bar
        assert_eq!(QUIET_ZONE_MODULES, 10);
        assert_eq!(code.width_with_quiet_zones(), code.width() + 20);
    }

    #[test]
    fn decoder_rejects_a_wrong_checksum() {
        let code = encode("L2611260001").unwrap();
        let mut values = code.symbol_values().to_vec();
        let check = values.len() - 2;
        values[check] = (values[check] + 1) % 103;
        let err = decode(&values_to_modules(&values)).unwrap_err();
        assert!(err.contains("checksum"), "{err}");
    }

    // ---- randomised round trips ----

    #[test]
    fn randomised_round_trips() {
        let mut rng = Lcg(0x5EED_C0DE_2611_2600);
        for _ in 0..3000 {
            let len = 1 + rng.below(MAX_DATA_LEN as u32) as usize;
            let digit_bias = rng.below(4); // 0 = uniform printable ... 3 = mostly digits
            let s: String = (0..len)
                .map(|_| {
                    if rng.below(4) < digit_bias {
                        char::from(b'0' + rng.below(10) as u8)
                    } else {
                        char::from(32 + rng.below(95) as u8)
                    }
                })
                .collect();
            check_round_trip(&s);
        }
    }

    #[test]
    fn exhaustive_short_digit_letter_mixes() {
        // Every string of length 1..=10 over {digit, letter} shapes, checked for minimality.
        for len in 1..=10u32 {
            for mask in 0..(1u32 << len) {
                let s: String = (0..len)
                    .map(|k| {
                        if mask & (1 << k) != 0 {
                            char::from(b'0' + (k % 10) as u8)
                        } else {
                            'x'
                        }
                    })
                    .collect();
                check_round_trip(&s);
            }
        }
    }
}
