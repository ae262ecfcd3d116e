//! HL7 v2.x lab results (ORU^R01) from the reference lab.
//!
//! The reference lab sends finished and preliminary results either as an HTTP POST body or over an
//! MLLP TCP connection. This module turns that text into typed results the clinic can file against
//! a patient, builds the acknowledgement (ACK) the lab expects back, and frames/unframes MLLP.
//!
//! It is deliberately strict where a mistake could put a result on the wrong patient or order
//! (one patient per message, orders identified by their numbers, timestamps must be valid) and
//! lenient where senders differ harmlessly (CR, LF or CRLF between segments, segments we do not
//! model, unknown code systems).
//!
//! Nothing here does I/O; the HTTP handler and the MLLP listener call into it.

use std::fmt;

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, TimeDelta, Timelike, Utc};

/// Largest message we accept. Real lab reports are a few kilobytes; anything far larger is a
/// misdirected upload or an attack, and is refused before any parsing work.
pub const MAX_MESSAGE_BYTES: usize = 1024 * 1024;

/// Most segments we accept in one message, so a pathological input cannot make us allocate
/// millions of tiny segments even within the byte limit.
pub const MAX_SEGMENTS: usize = 10_000;

/// Most result lines one order group may carry, and most order groups in one message: a
/// panel has tens of lines; thousands would only flood a patient's record and its alerts.
pub const MAX_OBSERVATIONS_PER_ORDER: usize = 200;
pub const MAX_ORDERS: usize = 50;

/// Versions of HL7 v2 whose ORU^R01 layout we understand (2.3 up to 2.8.x).
const MIN_MINOR_VERSION: u32 = 3;
const MAX_MINOR_VERSION: u32 = 8;

/// Longest piece of sender data echoed back inside an error text, so an ACK stays readable.
const MAX_ECHOED_CHARS: usize = 60;

// ---------------------------------------------------------------------------------------------
// Errors and acknowledgement codes
// ---------------------------------------------------------------------------------------------

/// The answer we give the lab in MSA-1.
///
/// The distinction matters to the lab's interface engine: AR ("reject") tells it the message can
/// never be processed as sent (wrong kind of message, broken header), AE ("error") that the
/// message was understood but its content is unusable and needs correcting at the lab.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AckCode {
    /// AA: results stored.
    Accept,
    /// AE: the message was readable but its content is wrong or incomplete.
    Error,
    /// AR: the message is not something we can process at all.
    Reject,
}

impl AckCode {
    /// The two-letter code written into MSA-1.
    pub fn as_str(&self) -> &'static str {
        match self {
            AckCode::Accept => "AA",
            AckCode::Error => "AE",
            AckCode::Reject => "AR",
        }
    }
}

impl fmt::Display for AckCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a message could not be turned into results. The Display text is plain English so it can
/// be shown to clinic staff and sent back to the lab in the ACK.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hl7Error {
    /// The text does not look like HL7 at all (empty, JSON, a web page...).
    NotHl7(String),
    /// The message is larger than [`MAX_MESSAGE_BYTES`].
    TooLarge { size: usize, limit: usize },
    /// The message has more than [`MAX_SEGMENTS`] segments.
    TooManySegments { limit: usize },
    /// More result lines or orders than one report of one patient can hold
    /// ([`MAX_OBSERVATIONS_PER_ORDER`], [`MAX_ORDERS`]): refused whole, never filed in part.
    TooManyResults { limit: usize },
    /// There is HL7-looking text, but it does not begin with the MSH header.
    MshNotFirst,
    /// MSH-1/MSH-2 do not define a usable set of delimiters.
    BadDelimiters(String),
    /// The message stops early: inside the MSH header or in the middle of a segment.
    Truncated(String),
    /// A segment line that is not a valid segment (bad name, a second MSH...). `index` is 1-based.
    BadSegment { index: usize, reason: String },
    /// Anything other than ORU^R01 (e.g. ADT^A01).
    UnsupportedMessageType(String),
    /// A version outside 2.3–2.8.
    UnsupportedVersion(String),
    /// Results for more than one patient in one message; we refuse rather than risk filing a
    /// result against the wrong person.
    MultiplePatients,
    /// A segment the report cannot do without (PID, OBR) is absent.
    MissingSegment {
        segment: &'static str,
        what: &'static str,
    },
    /// A field the standard requires, and we rely on, is empty.
    MissingField {
        segment: &'static str,
        field: usize,
        what: &'static str,
    },
    /// An order (OBR) arrived with no result lines (OBX).
    OrderWithoutObservations { order: String },
    /// A date/time field holds something that is not an HL7 timestamp.
    BadTimestamp { field: String, value: String },
}

/// Why a message or part of it was not accepted, as HL7 table 0357 codes it (ERR-3), so
/// the lab's interface engine can route the error without reading its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCondition {
    SegmentSequenceError,
    RequiredFieldMissing,
    DataTypeError,
    UnsupportedMessageType,
    UnsupportedEventCode,
    UnsupportedVersionId,
    /// A key the message names (an order, a patient identifier, a sender) is not known here
    /// or does not match what is known.
    UnknownKeyIdentifier,
    /// The same key (control id) for a different message.
    DuplicateKeyIdentifier,
    /// The record the message would change is closed to it (an order already verified).
    ApplicationRecordLocked,
    ApplicationInternalError,
}

impl ErrorCondition {
    /// ERR-3 as a CWE: code, text, and the table.
    pub fn coded(self) -> &'static str {
        match self {
            ErrorCondition::SegmentSequenceError => "100^Segment sequence error^HL70357",
            ErrorCondition::RequiredFieldMissing => "101^Required field missing^HL70357",
            ErrorCondition::DataTypeError => "102^Data type error^HL70357",
            ErrorCondition::UnsupportedMessageType => "200^Unsupported message type^HL70357",
            ErrorCondition::UnsupportedEventCode => "201^Unsupported event code^HL70357",
            ErrorCondition::UnsupportedVersionId => "203^Unsupported version id^HL70357",
            ErrorCondition::UnknownKeyIdentifier => "204^Unknown key identifier^HL70357",
            ErrorCondition::DuplicateKeyIdentifier => "205^Duplicate key identifier^HL70357",
            ErrorCondition::ApplicationRecordLocked => "206^Application record locked^HL70357",
            ErrorCondition::ApplicationInternalError => "207^Application internal error^HL70357",
        }
    }
}

impl Hl7Error {
    /// The error condition written in the ACK's ERR segment.
    pub fn condition(&self) -> ErrorCondition {
        match self {
            Hl7Error::NotHl7(_)
            | Hl7Error::TooLarge { .. }
            | Hl7Error::TooManySegments { .. }
            | Hl7Error::TooManyResults { .. }
            | Hl7Error::BadDelimiters(_)
            | Hl7Error::Truncated(_)
            | Hl7Error::BadSegment { .. } => ErrorCondition::DataTypeError,
            Hl7Error::MshNotFirst | Hl7Error::MultiplePatients => ErrorCondition::SegmentSequenceError,
            Hl7Error::UnsupportedMessageType(_) => ErrorCondition::UnsupportedMessageType,
            Hl7Error::UnsupportedVersion(_) => ErrorCondition::UnsupportedVersionId,
            Hl7Error::MissingSegment { .. }
            | Hl7Error::MissingField { .. }
            | Hl7Error::OrderWithoutObservations { .. } => ErrorCondition::RequiredFieldMissing,
            Hl7Error::BadTimestamp { .. } => ErrorCondition::DataTypeError,
        }
    }

    /// The ACK code to answer with: AR for framing/structure problems the lab cannot fix by
    /// correcting data, AE for content problems in an otherwise well-formed message.
    pub fn ack_code(&self) -> AckCode {
        match self {
            Hl7Error::NotHl7(_)
            | Hl7Error::TooLarge { .. }
            | Hl7Error::TooManySegments { .. }
            | Hl7Error::TooManyResults { .. }
            | Hl7Error::MshNotFirst
            | Hl7Error::BadDelimiters(_)
            | Hl7Error::Truncated(_)
            | Hl7Error::BadSegment { .. }
            | Hl7Error::UnsupportedMessageType(_)
            | Hl7Error::UnsupportedVersion(_)
            | Hl7Error::MultiplePatients => AckCode::Reject,
            // A header without type, control id or version is a broken header, not bad content.
            Hl7Error::MissingField { segment: "MSH", .. } => AckCode::Reject,
            Hl7Error::MissingSegment { .. }
            | Hl7Error::MissingField { .. }
            | Hl7Error::OrderWithoutObservations { .. }
            | Hl7Error::BadTimestamp { .. } => AckCode::Error,
        }
    }
}

impl fmt::Display for Hl7Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Hl7Error::NotHl7(reason) => write!(f, "This is not an HL7 message: {reason}."),
            Hl7Error::TooLarge { size, limit } => {
                write!(
                    f,
                    "The message is {size} bytes, more than the {limit}-byte limit."
                )
            }
            Hl7Error::TooManySegments { limit } => {
                write!(f, "The message has more than {limit} segments.")
            }
            Hl7Error::TooManyResults { limit } => write!(
                f,
                "The message has more than {limit} orders or results in one order; send them in several messages."
            ),
            Hl7Error::MshNotFirst => {
                write!(f, "The message does not start with an MSH header segment.")
            }
            Hl7Error::BadDelimiters(reason) => {
                write!(f, "The MSH header's delimiter characters are unusable: {reason}.")
            }
            Hl7Error::Truncated(reason) => write!(f, "The message is incomplete: {reason}."),
            Hl7Error::BadSegment { index, reason } => {
                write!(f, "Segment {index} is malformed: {reason}.")
            }
            Hl7Error::UnsupportedMessageType(kind) => write!(
                f,
                "Message type {kind} is not supported; only lab results (ORU^R01) are accepted."
            ),
            Hl7Error::UnsupportedVersion(version) => write!(
                f,
                "HL7 version '{version}' is not supported; versions 2.3 to 2.8 are accepted."
            ),
            Hl7Error::MultiplePatients => write!(
                f,
                "The message carries results for more than one patient; send one patient per \
                 message."
            ),
            Hl7Error::MissingSegment { segment, what } => {
                write!(f, "The message has no {segment} segment ({what}).")
            }
            Hl7Error::MissingField { segment, field, what } => {
                write!(f, "Required field {segment}-{field} ({what}) is empty.")
            }
            Hl7Error::OrderWithoutObservations { order } => {
                write!(f, "Order {order} (OBR) has no result lines (OBX).")
            }
            Hl7Error::BadTimestamp { field, value } => {
                write!(
                    f,
                    "Field {field} holds '{value}', which is not a valid HL7 date/time."
                )
            }
        }
    }
}

impl std::error::Error for Hl7Error {}

/// Cuts sender-supplied text to a readable length before it is quoted in an error message.
fn echo(text: &str) -> String {
    if text.chars().count() <= MAX_ECHOED_CHARS {
        text.to_string()
    } else {
        let mut cut: String = text.chars().take(MAX_ECHOED_CHARS).collect();
        cut.push('…');
        cut
    }
}

// ---------------------------------------------------------------------------------------------
// Delimiters and escaping
// ---------------------------------------------------------------------------------------------

/// The separator characters a message declares in MSH-1 and MSH-2. Almost every lab uses
/// `|^~\&`, but the standard lets the sender choose, so they are read, not assumed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delimiters {
    pub field: char,
    pub component: char,
    pub repetition: char,
    pub escape: char,
    pub subcomponent: char,
    /// The truncation character of v2.7+ (fifth MSH-2 character), when declared.
    pub truncation: Option<char>,
}

impl Default for Delimiters {
    fn default() -> Self {
        Delimiters {
            field: '|',
            component: '^',
            repetition: '~',
            escape: '\\',
            subcomponent: '&',
            truncation: None,
        }
    }
}

impl Delimiters {
    /// MSH-2 as it should be written for these delimiters.
    pub fn encoding_characters(&self) -> String {
        let mut out: String = [self.component, self.repetition, self.escape, self.subcomponent]
            .iter()
            .collect();
        if let Some(t) = self.truncation {
            out.push(t);
        }
        out
    }
}

/// Whether a character can serve as a delimiter: printable punctuation, never a letter, digit,
/// space or control character (those would collide with data or with segment separators).
fn usable_delimiter(c: char) -> bool {
    !c.is_alphanumeric() && !c.is_whitespace() && !c.is_control()
}

/// Decodes HL7 escape sequences so that staff see the text the lab meant: `\F\ \S\ \T\ \R\ \E\`
/// become the delimiter characters, `\.br\` a line break, `\Xhh..\` the bytes it spells when they
/// form valid UTF-8. Highlighting markers `\H\`/`\N\` carry no text and are dropped. Anything else
/// (unknown or unterminated sequences) is kept literally so no information is lost.
pub fn unescape(text: &str, delimiters: &Delimiters) -> String {
    let esc = delimiters.escape;
    if !text.contains(esc) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(esc) {
        out.push_str(&rest[..start]);
        let after = &rest[start + esc.len_utf8()..];
        let Some(end) = after.find(esc) else {
            // Unterminated: keep literally.
            out.push_str(&rest[start..]);
            return out;
        };
        let sequence = &after[..end];
        match decode_escape(sequence, delimiters) {
            Some(decoded) => out.push_str(&decoded),
            None => {
                out.push(esc);
                out.push_str(sequence);
                out.push(esc);
            }
        }
        rest = &after[end + esc.len_utf8()..];
    }
    out.push_str(rest);
    out
}

/// One escape sequence (without its surrounding escape characters), or None when unknown.
fn decode_escape(sequence: &str, d: &Delimiters) -> Option<String> {
    let single = |c: char| Some(c.to_string());
    match sequence {
        "F" => single(d.field),
        "S" => single(d.component),
        "T" => single(d.subcomponent),
        "R" => single(d.repetition),
        "E" => single(d.escape),
        "P" => d.truncation.map(|c| c.to_string()),
        ".br" => single('\n'),
        "H" | "N" => Some(String::new()),
        _ => {
            let hex = sequence.strip_prefix('X')?;
            if hex.is_empty() || hex.len() % 2 != 0 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            let bytes: Option<Vec<u8>> = (0..hex.len())
                .step_by(2)
                .map(|i| hex.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
                .collect();
            String::from_utf8(bytes?).ok()
        }
    }
}

/// Encodes text for placement inside a field, so that text containing `|`, `^`, line breaks and
/// the like (e.g. an error message naming a field) cannot break the structure of our ACK.
pub fn escape(text: &str, delimiters: &Delimiters) -> String {
    let d = delimiters;
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let code = if c == d.field {
            Some("F")
        } else if c == d.component {
            Some("S")
        } else if c == d.subcomponent {
            Some("T")
        } else if c == d.repetition {
            Some("R")
        } else if c == d.escape {
            Some("E")
        } else if Some(c) == d.truncation {
            Some("P")
        } else if c == '\n' {
            Some(".br")
        } else if c == '\r' {
            Some("X0D")
        } else {
            None
        };
        match code {
            Some(code) => {
                out.push(d.escape);
                out.push_str(code);
                out.push(d.escape);
            }
            None => out.push(c),
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Generic message model
// ---------------------------------------------------------------------------------------------

/// One segment (line) of a message. Fields are kept as sent (still escaped) and split on access,
/// so anything we do not model is still available to a future caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    name: String,
    /// `fields[0]` is field 1. For MSH, field 1 is the field separator itself and field 2 the
    /// encoding characters, as the standard numbers them (so MSH-9 is the message type).
    fields: Vec<String>,
    delimiters: Delimiters,
}

impl Segment {
    /// The three-letter segment name, e.g. "OBX".
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The highest field number present.
    pub fn field_count(&self) -> usize {
        self.fields.len()
    }

    /// A field exactly as sent, escape sequences and delimiters included.
    pub fn raw_field(&self, field: usize) -> Option<&str> {
        self.fields.get(field.checked_sub(1)?).map(String::as_str)
    }

    /// MSH-1 and MSH-2 hold the delimiters themselves and must never be split or unescaped.
    fn is_literal(&self, field: usize) -> bool {
        self.name == "MSH" && field <= 2
    }

    fn raw_repetition(&self, field: usize, repetition: usize) -> Option<&str> {
        let raw = self.raw_field(field)?;
        if self.is_literal(field) {
            return (repetition == 1).then_some(raw);
        }
        raw.split(self.delimiters.repetition)
            .nth(repetition.checked_sub(1)?)
    }

    fn raw_component(&self, field: usize, repetition: usize, component: usize) -> Option<&str> {
        let raw = self.raw_repetition(field, repetition)?;
        if self.is_literal(field) {
            return (component == 1).then_some(raw);
        }
        raw.split(self.delimiters.component)
            .nth(component.checked_sub(1)?)
    }

    /// The unescaped text at (field, repetition, component, subcomponent), all 1-based.
    /// None when that position does not exist in the message (beyond the last one sent).
    pub fn get(
        &self,
        field: usize,
        repetition: usize,
        component: usize,
        subcomponent: usize,
    ) -> Option<String> {
        let raw = self.raw_component(field, repetition, component)?;
        if self.is_literal(field) {
            return (subcomponent == 1).then(|| raw.to_string());
        }
        let sub = raw
            .split(self.delimiters.subcomponent)
            .nth(subcomponent.checked_sub(1)?)?;
        Some(unescape(sub, &self.delimiters))
    }

    /// Shorthand for the common case: first repetition, first subcomponent, "" when absent.
    pub fn text(&self, field: usize, component: usize) -> String {
        self.get(field, 1, component, 1).unwrap_or_default()
    }

    /// How many repetitions a field has (0 when empty or absent).
    pub fn repetition_count(&self, field: usize) -> usize {
        match self.raw_field(field) {
            None | Some("") => 0,
            Some(_) if self.is_literal(field) => 1,
            Some(raw) => raw.split(self.delimiters.repetition).count(),
        }
    }

    /// How many components a repetition has (0 when absent).
    pub fn component_count(&self, field: usize, repetition: usize) -> usize {
        match self.raw_repetition(field, repetition) {
            None => 0,
            Some(_) if self.is_literal(field) => 1,
            Some(raw) => raw.split(self.delimiters.component).count(),
        }
    }

    /// A repetition rendered as readable text, for free-text fields: components and
    /// subcomponents are unescaped and rejoined with the sender's delimiter characters (which is
    /// what an unescaped `^` in a comment meant), trailing empty parts dropped.
    pub fn repetition_text(&self, field: usize, repetition: usize) -> String {
        let Some(raw) = self.raw_repetition(field, repetition) else {
            return String::new();
        };
        if self.is_literal(field) {
            return raw.to_string();
        }
        let d = &self.delimiters;
        let components: Vec<String> = raw
            .split(d.component)
            .map(|comp| {
                let subs: Vec<String> = comp.split(d.subcomponent).map(|s| unescape(s, d)).collect();
                trim_trailing_empty(subs).join(&d.subcomponent.to_string())
            })
            .collect();
        trim_trailing_empty(components).join(&d.component.to_string())
    }
}

fn trim_trailing_empty(mut parts: Vec<String>) -> Vec<String> {
    while parts.last().is_some_and(|p| p.is_empty()) {
        parts.pop();
    }
    parts
}

/// A parsed HL7 v2 message: the MSH header first, then every other segment in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    delimiters: Delimiters,
    /// Never empty: `parse` only builds a message whose first segment is a valid MSH.
    segments: Vec<Segment>,
}

impl Message {
    pub fn delimiters(&self) -> Delimiters {
        self.delimiters
    }

    /// All segments, MSH first.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// The MSH header.
    pub fn header(&self) -> &Segment {
        // `parse` guarantees the first segment exists and is MSH.
        &self.segments[0]
    }

    /// The first segment with this name.
    pub fn segment(&self, name: &str) -> Option<&Segment> {
        self.segments.iter().find(|s| s.name == name)
    }

    /// Every segment with this name, in order.
    pub fn segments_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Segment> + 'a {
        self.segments.iter().filter(move |s| s.name == name)
    }

    /// MSH-10, the sender's id for this message, echoed in our ACK.
    pub fn control_id(&self) -> String {
        self.header().text(10, 1)
    }

    /// MSH-9 as "TYPE^EVENT", e.g. "ORU^R01".
    pub fn message_type(&self) -> String {
        let h = self.header();
        format!("{}^{}", h.text(9, 1), h.text(9, 2))
    }

    /// MSH-12, e.g. "2.5.1".
    pub fn version(&self) -> String {
        self.header().text(12, 1)
    }
}

/// Whether a line starts like a segment: three characters, capital letter then capital letters
/// or digits (covers Z-segments).
fn valid_segment_name(name: &str) -> bool {
    let b = name.as_bytes();
    b.len() == 3
        && b[0].is_ascii_uppercase()
        && b[1..]
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// Parses an HL7 v2 message as received over HTTP or unwrapped from MLLP.
///
/// Segments may be separated by CR (the standard), LF or CRLF, even mixed; blank lines are
/// ignored. A message is returned only if it is complete as far as we can tell: a full MSH
/// (at least up to MSH-12 with type, control id and version) and no cut-off last segment.
pub fn parse(text: &str) -> Result<Message, Hl7Error> {
    if text.len() > MAX_MESSAGE_BYTES {
        return Err(Hl7Error::TooLarge {
            size: text.len(),
            limit: MAX_MESSAGE_BYTES,
        });
    }
    // Tolerate a byte-order mark, leading whitespace and leftover MLLP framing bytes.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let text = text.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{0b}');
    let text = text.trim_end_matches(['\u{1c}', '\r', '\n']);
    if text.trim().is_empty() {
        return Err(Hl7Error::NotHl7("the text is empty".into()));
    }
    // No HL7 delimiter or text is a NUL; a database would refuse to store it anyway.
    if text.contains('\0') {
        return Err(Hl7Error::NotHl7("it contains a NUL byte".into()));
    }

    // One more than the limit is enough to know the limit is exceeded.
    let lines: Vec<&str> = text
        .split(['\r', '\n'])
        .filter(|line| !line.trim().is_empty())
        .take(MAX_SEGMENTS + 1)
        .collect();
    let Some((first, rest)) = lines.split_first() else {
        return Err(Hl7Error::NotHl7("the text is empty".into()));
    };
    if !first.starts_with("MSH") {
        if first.len() < 3 && "MSH".starts_with(*first) && rest.is_empty() {
            return Err(Hl7Error::Truncated("it ends inside the MSH header".into()));
        }
        if lines.iter().any(|l| l.starts_with("MSH")) {
            return Err(Hl7Error::MshNotFirst);
        }
        return Err(Hl7Error::NotHl7(
            "it does not start with an MSH header segment".into(),
        ));
    }
    if lines.len() > MAX_SEGMENTS {
        return Err(Hl7Error::TooManySegments { limit: MAX_SEGMENTS });
    }

    let (header, delimiters) = parse_header(first)?;
    let mut segments = Vec::with_capacity(lines.len());
    segments.push(header);

    for (i, line) in rest.iter().enumerate() {
        let index = i + 2;
        let is_last = i + 1 == rest.len();
        let (name, body) = match line.find(delimiters.field) {
            Some(pos) => (&line[..pos], Some(&line[pos + delimiters.field.len_utf8()..])),
            None => (*line, None),
        };
        if !valid_segment_name(name) {
            if is_last && body.is_none() && name.len() < 3 {
                return Err(Hl7Error::Truncated(format!(
                    "the last segment ('{}') is cut off",
                    echo(name)
                )));
            }
            return Err(Hl7Error::BadSegment {
                index,
                reason: format!("'{}' is not a segment name", echo(name)),
            });
        }
        if name == "MSH" {
            return Err(Hl7Error::BadSegment {
                index,
                reason: "a second MSH header; send one message at a time".into(),
            });
        }
        let fields: Vec<String> = match body {
            Some(body) => body.split(delimiters.field).map(str::to_string).collect(),
            None if is_last => {
                return Err(Hl7Error::Truncated(format!(
                    "the last segment ({name}) ends right after its name"
                )));
            }
            None => Vec::new(),
        };
        segments.push(Segment {
            name: name.to_string(),
            fields,
            delimiters,
        });
    }

    Ok(Message { delimiters, segments })
}

/// Reads the delimiters from MSH-1/MSH-2 and checks the header has what every message needs.
fn parse_header(line: &str) -> Result<(Segment, Delimiters), Hl7Error> {
    let cut_short = || Hl7Error::Truncated("it ends inside the MSH header".into());
    let mut chars = line.chars().skip(3);
    let field = chars.next().ok_or_else(cut_short)?;
    if !usable_delimiter(field) {
        return Err(Hl7Error::BadDelimiters(format!(
            "'{field}' cannot be the field separator"
        )));
    }
    let encoding: String = chars.by_ref().take_while(|&c| c != field).collect();
    let ended_inside_msh2 =
        line.chars().skip(4).take(encoding.chars().count() + 1).count() == encoding.chars().count();
    let enc: Vec<char> = encoding.chars().collect();
    if ended_inside_msh2 && enc.len() < 4 {
        return Err(cut_short());
    }
    if enc.len() != 4 && enc.len() != 5 {
        return Err(Hl7Error::BadDelimiters(format!(
            "MSH-2 must hold 4 or 5 encoding characters, found '{}'",
            echo(&encoding)
        )));
    }
    let mut all = enc.clone();
    all.push(field);
    for (i, c) in all.iter().enumerate() {
        if !usable_delimiter(*c) {
            return Err(Hl7Error::BadDelimiters(format!("'{c}' cannot be a delimiter")));
        }
        if all[..i].contains(c) {
            return Err(Hl7Error::BadDelimiters(format!("'{c}' is used for two purposes")));
        }
    }
    let delimiters = Delimiters {
        field,
        component: enc[0],
        repetition: enc[1],
        escape: enc[2],
        subcomponent: enc[3],
        truncation: enc.get(4).copied(),
    };

    let mut fields = vec![field.to_string(), encoding.clone()];
    let prefix_len = 3 + field.len_utf8() + encoding.len();
    if let Some(after) = line.get(prefix_len..).and_then(|r| r.strip_prefix(field)) {
        fields.extend(after.split(field).map(str::to_string));
    }
    if fields.len() < 12 {
        return Err(Hl7Error::Truncated(format!(
            "the MSH header has only {} fields; at least 12 are needed",
            fields.len()
        )));
    }
    let header = Segment {
        name: "MSH".into(),
        fields,
        delimiters,
    };
    for (field, what) in [(9, "message type"), (10, "message control id"), (12, "version")] {
        if header.text(field, 1).trim().is_empty() {
            return Err(Hl7Error::MissingField {
                segment: "MSH",
                field,
                what,
            });
        }
    }
    Ok((header, delimiters))
}

// ---------------------------------------------------------------------------------------------
// Timestamps
// ---------------------------------------------------------------------------------------------

/// An HL7 date/time as sent: the lab's local wall-clock time plus its UTC offset when given.
/// Labs often omit the offset, so conversion to UTC needs the clinic's default offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Hl7Timestamp {
    /// Wall-clock time; parts the sender left out (month, day, time) are the earliest value.
    pub local: NaiveDateTime,
    /// Offset from UTC in minutes (+0215 is 135), when the sender gave one.
    pub offset_minutes: Option<i32>,
}

impl Hl7Timestamp {
    /// Parses `YYYY[MM[DD[HH[MM[SS[.S+]]]]]][+/-ZZZZ]`. None for anything else, including
    /// impossible dates such as the 31st of February.
    pub fn parse(text: &str) -> Option<Hl7Timestamp> {
        let text = text.trim();
        let (main, offset) = match text.find(['+', '-']) {
            Some(pos) => (&text[..pos], Some(&text[pos..])),
            None => (text, None),
        };
        let offset_minutes = match offset {
            None => None,
            Some(zone) => {
                let sign = if zone.starts_with('-') { -1 } else { 1 };
                let digits = &zone[1..];
                if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                let hours: i32 = digits.get(..2)?.parse().ok()?;
                let minutes: i32 = digits.get(2..)?.parse().ok()?;
                if hours > 14 || minutes > 59 {
                    return None;
                }
                Some(sign * (hours * 60 + minutes))
            }
        };
        let (digits, fraction) = match main.split_once('.') {
            Some((digits, fraction)) => (digits, Some(fraction)),
            None => (main, None),
        };
        if !digits.bytes().all(|b| b.is_ascii_digit()) || ![4, 6, 8, 10, 12, 14].contains(&digits.len()) {
            return None;
        }
        let part = |range: std::ops::Range<usize>, default: u32| -> Option<u32> {
            match digits.get(range) {
                Some(s) => s.parse().ok(),
                None => Some(default),
            }
        };
        let nanos = match fraction {
            None => 0,
            Some(f) => {
                if digits.len() != 14 || f.is_empty() || f.len() > 9 || !f.bytes().all(|b| b.is_ascii_digit())
                {
                    return None;
                }
                let value: u32 = f.parse().ok()?;
                value * 10u32.pow(9 - f.len() as u32)
            }
        };
        let year = i32::try_from(part(0..4, 0)?).ok()?;
        let date = NaiveDate::from_ymd_opt(year, part(4..6, 1)?, part(6..8, 1)?)?;
        let local = date.and_hms_nano_opt(part(8..10, 0)?, part(10..12, 0)?, part(12..14, 0)?, nanos)?;
        Some(Hl7Timestamp {
            local,
            offset_minutes,
        })
    }

    /// The instant in UTC, using the sender's offset when given and otherwise
    /// `default_offset_minutes` (the offset the lab is known to work in).
    pub fn to_utc(&self, default_offset_minutes: i32) -> DateTime<Utc> {
        let offset = self.offset_minutes.unwrap_or(default_offset_minutes);
        TimeDelta::try_minutes(i64::from(offset))
            .and_then(|delta| self.local.checked_sub_signed(delta))
            .unwrap_or(self.local)
            .and_utc()
    }
}

/// Reads a timestamp at `field`/`component` (first repetition, first subcomponent, which is
/// where the time sits in TS, DTM and DR types). Empty or HL7 null (`""`) gives None; anything
/// unreadable is an error rather than a silently missing time on a clinical result.
fn timestamp_at(
    segment: &Segment,
    field: usize,
    component: usize,
    label: &str,
) -> Result<Option<Hl7Timestamp>, Hl7Error> {
    let raw = segment.get(field, 1, component, 1).unwrap_or_default();
    let raw = raw.trim();
    if raw.is_empty() || raw == "\"\"" {
        return Ok(None);
    }
    Hl7Timestamp::parse(raw)
        .map(Some)
        .ok_or_else(|| Hl7Error::BadTimestamp {
            field: label.to_string(),
            value: echo(raw),
        })
}

// ---------------------------------------------------------------------------------------------
// ORU^R01 results
// ---------------------------------------------------------------------------------------------

/// One lab report as the clinic files it: who it is for, which orders it answers, the results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservationReport {
    /// MSH-10, the lab's id for this message (used for the ACK and to spot resends).
    pub control_id: String,
    pub sending_application: String,
    /// MSH-4: the namespace id, and the universal id (an OID, for instance) when sent.
    pub sending_facility: String,
    pub sending_facility_id: String,
    pub sent_at: Option<Hl7Timestamp>,
    pub version: String,
    pub patient: PatientIdentity,
    /// Order groups in message order. Result lines that arrived outside any order are kept in
    /// a group with empty order numbers and service (see [`observation_report`]).
    pub orders: Vec<OrderResults>,
    /// NTE comments about the patient/report as a whole.
    pub notes: Vec<String>,
}

/// Who the lab says the results belong to, used to match the report to a clinic patient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatientIdentity {
    /// PID-3 repetitions.
    pub identifiers: Vec<PatientIdentifier>,
    pub family_name: String,
    pub given_name: String,
    /// PID-7; None when absent or given only to the year or month (never guessed).
    pub birth_date: Option<NaiveDate>,
    /// PID-8 as sent (M, F, O, U...).
    pub sex: String,
}

/// One patient identifier (PID-3 repetition).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatientIdentifier {
    pub id: String,
    /// CX-4, first part (namespace), e.g. which hospital's number this is.
    pub assigning_authority: String,
    /// CX-5, e.g. MR (medical record number), PI (patient internal id).
    pub type_code: String,
}

/// One ordered test or panel (OBR) and its result lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderResults {
    /// The clinic's order number (OBR-2, else ORC-2), used to match our pending order.
    pub placer_order_number: String,
    /// The lab's accession number (OBR-3, else ORC-3).
    pub filler_order_number: String,
    /// OBR-4, what was ordered, and its alternate coding (components 4-6).
    pub service: CodedValue,
    pub service_alternate: CodedValue,
    /// OBR-7, when the specimen was collected/observed.
    pub observed_at: Option<Hl7Timestamp>,
    /// OBR-25: F final, P preliminary, C corrected, X cancelled...
    pub result_status: String,
    pub observations: Vec<ObservationResult>,
    /// First SPM of the group.
    pub specimen: Option<SpecimenInfo>,
    /// NTE comments following the OBR (or its SPM).
    pub notes: Vec<String>,
}

/// A coded element (CE/CWE): code, display text and coding system, e.g. LN for LOINC.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CodedValue {
    pub code: String,
    pub text: String,
    pub system: String,
}

/// A coded result value as sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CodedResult {
    pub code: String,
    pub text: String,
    pub system: String,
    pub original_text: String,
}

impl CodedValue {
    /// The LOINC code of a coding, if it is one: its system says LN, or it names no system
    /// and the code carries a valid LOINC check digit.
    pub fn loinc(&self) -> Option<&str> {
        let system = self.system.trim();
        let code = self.code.trim();
        let is_loinc = system.eq_ignore_ascii_case("LN") || (system.is_empty() && crate::lab::is_loinc(code));
        (is_loinc && !code.is_empty()).then_some(code)
    }
}

/// The LOINC code of a coded element: its own coding's, else its alternate's.
pub fn loinc_of<'a>(primary: &'a CodedValue, alternate: &'a CodedValue) -> Option<&'a str> {
    primary.loinc().or_else(|| alternate.loinc())
}

/// One result line (OBX).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservationResult {
    pub set_id: String,
    /// OBX-2: NM numeric, ST string, CWE coded, RP reference pointer, ED document...
    pub value_type: String,
    /// OBX-3, the test (often LOINC); kept whatever the code system, with its alternate
    /// coding (components 4-6), where a lab's local code is often paired with LOINC.
    pub code: CodedValue,
    pub code_alternate: CodedValue,
    /// OBX-5 as readable text; repetitions joined with "; ". Coded values give their text (or
    /// code), structured numerics their joined parts (e.g. "<5"), reference pointers the pointer.
    pub value: String,
    /// A coded value (CWE/CE/CNE OBX-5, first repetition): code, text, system (SCT for
    /// SNOMED CT...) and the original text (CWE-9).
    pub coded: Option<CodedResult>,
    /// OBX-6, first component (e.g. "%", "tera.l-1").
    pub units: String,
    /// OBX-7, e.g. "3.5-5.0".
    pub reference_range: String,
    /// OBX-8 repetitions (H, L, A, N...).
    pub flags: Vec<String>,
    /// OBX-11: F final, P preliminary, I incomplete, C corrected...
    pub status: String,
    /// OBX-14.
    pub observed_at: Option<Hl7Timestamp>,
    /// NTE comments following this OBX.
    pub notes: Vec<String>,
}

/// The specimen an order was performed on (SPM).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecimenInfo {
    /// SPM-2, first part.
    pub id: String,
    /// SPM-4, e.g. BLD.
    pub type_code: CodedValue,
    /// SPM-17, start of the collection period.
    pub collected_at: Option<Hl7Timestamp>,
    /// SPM-18.
    pub received_at: Option<Hl7Timestamp>,
}

/// Where an NTE comment belongs: the segment it follows.
enum NoteTarget {
    Report,
    Order(usize),
    Observation(usize, usize),
}

/// Extracts the typed lab report from a parsed ORU^R01.
///
/// Grouping follows the segment order: OBX and SPM belong to the most recent OBR; NTE belongs to
/// the PID, OBR/SPM or OBX it follows (after an ORC, which starts a new order group, it goes to
/// the report notes so it is never filed under the previous order). Segments not modelled here (SFT, PV1, TQ1, CTD, TXA,
/// Z-segments...) are skipped; ORC only supplies order numbers when the OBR lacks them.
///
/// Result lines that arrive before any OBR (or between an ORC and its OBR) do not belong to a
/// known order. Rather than drop them or guess, they are gathered in one "unattached" group with
/// empty order numbers and service, placed where the first of them appeared, so the importer can
/// route them to manual review instead of filing them under an order they may not belong to.
pub fn observation_report(msg: &Message) -> Result<ObservationReport, Hl7Error> {
    let header = msg.header();
    let (kind, event) = (header.text(9, 1), header.text(9, 2));
    if kind != "ORU" || event != "R01" {
        let shown = if event.is_empty() {
            kind
        } else {
            format!("{kind}^{event}")
        };
        return Err(Hl7Error::UnsupportedMessageType(echo(&shown)));
    }
    let version = header.text(12, 1);
    if !supported_version(&version) {
        return Err(Hl7Error::UnsupportedVersion(echo(&version)));
    }
    let sent_at = timestamp_at(header, 7, 1, "MSH-7")?;

    let mut patient: Option<PatientIdentity> = None;
    let mut notes = Vec::new();
    let mut orders: Vec<OrderResults> = Vec::new();
    let mut current: Option<usize> = None;
    let mut unattached: Option<usize> = None;
    let mut orc_numbers: Option<(String, String)> = None;
    let mut target = NoteTarget::Report;

    for segment in msg.segments().iter().skip(1) {
        match segment.name() {
            "PID" => {
                if patient.is_some() {
                    return Err(Hl7Error::MultiplePatients);
                }
                patient = Some(patient_identity(segment)?);
                target = NoteTarget::Report;
            }
            "ORC" => {
                // A new order group starts; its OBR follows.
                orc_numbers = Some((segment.text(2, 1), segment.text(3, 1)));
                current = None;
                target = NoteTarget::Report;
            }
            "OBR" => {
                let order = order_results(segment, orc_numbers.take())?;
                orders.push(order);
                let index = orders.len() - 1;
                current = Some(index);
                target = NoteTarget::Order(index);
            }
            "OBX" => {
                let observation = observation_result(segment)?;
                let index = match current.or(unattached) {
                    Some(index) => index,
                    None => {
                        orders.push(unattached_group());
                        let index = orders.len() - 1;
                        unattached = Some(index);
                        index
                    }
                };
                if let Some(order) = orders.get_mut(index) {
                    order.observations.push(observation);
                    target = NoteTarget::Observation(index, order.observations.len() - 1);
                }
            }
            "SPM" => {
                let specimen = specimen_info(segment)?;
                if let Some(order) = current.and_then(|i| orders.get_mut(i)) {
                    order.specimen.get_or_insert(specimen);
                }
                if let Some(index) = current {
                    target = NoteTarget::Order(index);
                }
            }
            "NTE" => {
                let text = note_text(segment);
                if text.is_empty() {
                    continue;
                }
                let list = match target {
                    NoteTarget::Report => Some(&mut notes),
                    NoteTarget::Order(o) => orders.get_mut(o).map(|order| &mut order.notes),
                    NoteTarget::Observation(o, x) => orders
                        .get_mut(o)
                        .and_then(|order| order.observations.get_mut(x))
                        .map(|obs| &mut obs.notes),
                };
                if let Some(list) = list {
                    list.push(text);
                }
            }
            _ => {}
        }
    }

    let patient = patient.ok_or(Hl7Error::MissingSegment {
        segment: "PID",
        what: "patient identification",
    })?;
    if orders.iter().enumerate().all(|(i, _)| Some(i) == unattached) {
        return Err(Hl7Error::MissingSegment {
            segment: "OBR",
            what: "the order being reported",
        });
    }
    if let Some(empty) = orders.iter().find(|o| o.observations.is_empty()) {
        let name = [
            &empty.placer_order_number,
            &empty.filler_order_number,
            &empty.service.code,
        ]
        .into_iter()
        .find(|s| !s.is_empty())
        .cloned()
        .unwrap_or_default();
        return Err(Hl7Error::OrderWithoutObservations { order: echo(&name) });
    }

    if orders.len() > MAX_ORDERS {
        return Err(Hl7Error::TooManyResults { limit: MAX_ORDERS });
    }
    if orders
        .iter()
        .any(|o| o.observations.len() > MAX_OBSERVATIONS_PER_ORDER)
    {
        return Err(Hl7Error::TooManyResults {
            limit: MAX_OBSERVATIONS_PER_ORDER,
        });
    }

    Ok(ObservationReport {
        control_id: msg.control_id(),
        sending_application: header.text(3, 1),
        sending_facility: header.text(4, 1),
        sending_facility_id: header.text(4, 2),
        sent_at,
        version,
        patient,
        orders,
        notes,
    })
}

/// "2.3" to "2.8", with or without a further sub-version such as "2.5.1".
pub fn supported_version(version: &str) -> bool {
    let mut parts = version.trim().split('.');
    parts.next() == Some("2")
        && parts
            .next()
            .and_then(|minor| minor.parse::<u32>().ok())
            .is_some_and(|minor| (MIN_MINOR_VERSION..=MAX_MINOR_VERSION).contains(&minor))
        && parts.all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// The alternate coding of a CWE (components 4-6), empty when not sent.
fn alternate_coding(segment: &Segment, field: usize) -> CodedValue {
    CodedValue {
        code: segment.text(field, 4),
        text: segment.text(field, 5),
        system: segment.text(field, 6),
    }
}

fn coded_value(segment: &Segment, field: usize) -> CodedValue {
    let primary = CodedValue {
        code: segment.text(field, 1),
        text: segment.text(field, 2),
        system: segment.text(field, 3),
    };
    if !primary.code.is_empty() || !primary.text.is_empty() {
        return primary;
    }
    // Only the alternate coding (components 4-6) was sent.
    CodedValue {
        code: segment.text(field, 4),
        text: segment.text(field, 5),
        system: segment.text(field, 6),
    }
}

fn patient_identity(pid: &Segment) -> Result<PatientIdentity, Hl7Error> {
    let identifiers: Vec<PatientIdentifier> = (1..=pid.repetition_count(3))
        .map(|rep| PatientIdentifier {
            id: pid.get(3, rep, 1, 1).unwrap_or_default(),
            assigning_authority: pid.get(3, rep, 4, 1).unwrap_or_default(),
            type_code: pid.get(3, rep, 5, 1).unwrap_or_default(),
        })
        .filter(|id| !id.id.trim().is_empty())
        .collect();
    if identifiers.is_empty() {
        return Err(Hl7Error::MissingField {
            segment: "PID",
            field: 3,
            what: "patient identifier list",
        });
    }
    let birth = timestamp_at(pid, 7, 1, "PID-7")?;
    let raw_birth = pid.text(7, 1);
    let day_precision = raw_birth.trim().bytes().take_while(u8::is_ascii_digit).count() >= 8;
    Ok(PatientIdentity {
        identifiers,
        family_name: pid.text(5, 1),
        given_name: pid.text(5, 2),
        birth_date: birth.filter(|_| day_precision).map(|t| t.local.date()),
        sex: pid.text(8, 1),
    })
}

fn order_results(obr: &Segment, orc_numbers: Option<(String, String)>) -> Result<OrderResults, Hl7Error> {
    let (orc_placer, orc_filler) = orc_numbers.unwrap_or_default();
    let or_else = |own: String, fallback: String| if own.is_empty() { fallback } else { own };
    let service = coded_value(obr, 4);
    if service.code.is_empty() && service.text.is_empty() {
        return Err(Hl7Error::MissingField {
            segment: "OBR",
            field: 4,
            what: "universal service identifier",
        });
    }
    Ok(OrderResults {
        placer_order_number: or_else(obr.text(2, 1), orc_placer),
        filler_order_number: or_else(obr.text(3, 1), orc_filler),
        service,
        service_alternate: alternate_coding(obr, 4),
        observed_at: timestamp_at(obr, 7, 1, "OBR-7")?,
        result_status: obr.text(25, 1),
        observations: Vec::new(),
        specimen: None,
        notes: Vec::new(),
    })
}

fn unattached_group() -> OrderResults {
    OrderResults {
        placer_order_number: String::new(),
        filler_order_number: String::new(),
        service: CodedValue::default(),
        service_alternate: CodedValue::default(),
        observed_at: None,
        result_status: String::new(),
        observations: Vec::new(),
        specimen: None,
        notes: Vec::new(),
    }
}

fn observation_result(obx: &Segment) -> Result<ObservationResult, Hl7Error> {
    let value_type = obx.text(2, 1);
    let value = (1..=obx.repetition_count(5))
        .map(|rep| observation_value(obx, rep, &value_type))
        .filter(|v| !v.is_empty())
        .collect::<Vec<_>>()
        .join("; ");
    let units = match obx.text(6, 1) {
        units if units.is_empty() => obx.text(6, 2),
        units => units,
    };
    let coded = matches!(value_type.as_str(), "CE" | "CWE" | "CNE" | "CF")
        .then(|| {
            let comp = |c: usize| obx.get(5, 1, c, 1).unwrap_or_default();
            let (primary, alternate) = ((comp(1), comp(2), comp(3)), (comp(4), comp(5), comp(6)));
            let (code, text, system) = if primary.0.is_empty() && primary.1.is_empty() {
                alternate
            } else {
                primary
            };
            CodedResult {
                code,
                text,
                system,
                original_text: comp(9),
            }
        })
        .filter(|c| !c.code.is_empty() || !c.text.is_empty() || !c.original_text.is_empty());
    let flags = (1..=obx.repetition_count(8))
        .filter_map(|rep| obx.get(8, rep, 1, 1))
        .filter(|f| !f.is_empty())
        .collect();
    Ok(ObservationResult {
        set_id: obx.text(1, 1),
        value_type,
        code: coded_value(obx, 3),
        code_alternate: alternate_coding(obx, 3),
        value,
        coded,
        units,
        reference_range: obx.repetition_text(7, 1),
        flags,
        status: obx.text(11, 1),
        observed_at: timestamp_at(obx, 14, 1, "OBX-14")?,
        notes: Vec::new(),
    })
}

/// One repetition of OBX-5 rendered for reading, according to its value type.
fn observation_value(obx: &Segment, rep: usize, value_type: &str) -> String {
    let comp = |c: usize| obx.get(5, rep, c, 1).unwrap_or_default();
    match value_type {
        "CE" | "CWE" | "CNE" | "CF" => [comp(2), comp(1), comp(9)]
            .into_iter()
            .find(|s| !s.is_empty())
            .unwrap_or_default(),
        // Structured numeric: comparator, number, separator/suffix, number ("<" "5" → "<5").
        "SN" => (1..=4).map(comp).collect(),
        // Reference pointer: the pointer itself (e.g. a URL) is what can be followed.
        "RP" => comp(1),
        // Free text: a stray unescaped ^ or & was meant literally.
        "ST" | "TX" | "FT" | "" => obx.repetition_text(5, rep),
        // Anything else (NM, ED, DT, TS, unknown types): the non-empty parts, space separated.
        _ => (1..=obx.component_count(5, rep))
            .map(|c| {
                let mut parts = Vec::new();
                let mut sub = 1;
                while let Some(s) = obx.get(5, rep, c, sub) {
                    if !s.is_empty() {
                        parts.push(s);
                    }
                    sub += 1;
                }
                parts.join(" ")
            })
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" "),
    }
}

fn specimen_info(spm: &Segment) -> Result<SpecimenInfo, Hl7Error> {
    Ok(SpecimenInfo {
        id: spm.text(2, 1),
        type_code: coded_value(spm, 4),
        collected_at: timestamp_at(spm, 17, 1, "SPM-17")?,
        received_at: timestamp_at(spm, 18, 1, "SPM-18")?,
    })
}

/// NTE-3 (comment) repetitions as lines of text.
fn note_text(nte: &Segment) -> String {
    (1..=nte.repetition_count(3))
        .map(|rep| nte.repetition_text(3, rep))
        .collect::<Vec<_>>()
        .join("\n")
        .trim_end()
        .to_string()
}

// ---------------------------------------------------------------------------------------------
// Acknowledgements
// ---------------------------------------------------------------------------------------------

/// Our application name, used when we cannot tell who the message was addressed to.
const OWN_APPLICATION: &str = "PLATEAU";
/// Version used in ACKs when the original's version is unknown.
const DEFAULT_ACK_VERSION: &str = "2.5.1";

/// A header field of the original, re-encoded with the standard delimiters our ACK uses (the
/// original may have declared different ones). First repetition only.
fn reencoded(header: &Segment, field: usize) -> String {
    let standard = Delimiters::default();
    let components: Vec<String> = (1..=header.component_count(field, 1))
        .map(|c| {
            let mut subs = Vec::new();
            let mut s = 1;
            while let Some(text) = header.get(field, 1, c, s) {
                subs.push(escape(&text, &standard));
                s += 1;
            }
            trim_trailing_empty(subs).join("&")
        })
        .collect();
    trim_trailing_empty(components).join("^")
}

fn hl7_datetime(t: NaiveDateTime) -> String {
    format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Builds the ACK the lab expects for a message, with CR between segments (MLLP or HTTP body).
///
/// Sender and receiver are swapped from the original so the lab's engine routes the ACK back to
/// the right interface; when the original could not be parsed we name ourselves "PLATEAU".
/// `control_id_of_original` goes into MSA-2 (use [`control_id_hint`] when parsing failed);
/// `text` is escaped into MSA-3; each of `errors` becomes an ERR segment (ERR-3 its HL7 table
/// 0357 condition, ERR-4 severity: E with AE/AR, W with AA, ERR-8 its text), and an AE/AR
/// without any says 207 with `text`. `now` is written as MSH-7 as given.
pub fn acknowledgement(
    original: Option<&Message>,
    control_id_of_original: &str,
    code: AckCode,
    text: &str,
    errors: &[(ErrorCondition, String)],
    now: NaiveDateTime,
    own_control_id: &str,
) -> String {
    let d = Delimiters::default();
    let (mut sending_app, sending_fac, receiving_app, receiving_fac, processing, version) = match original {
        Some(msg) => {
            let h = msg.header();
            let processing = h.text(11, 1);
            let version = h.text(12, 1);
            (
                reencoded(h, 5),
                reencoded(h, 6),
                reencoded(h, 3),
                reencoded(h, 4),
                if ["P", "T", "D"].contains(&processing.as_str()) {
                    processing
                } else {
                    "P".into()
                },
                if !version.is_empty() && version.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
                    version
                } else {
                    DEFAULT_ACK_VERSION.into()
                },
            )
        }
        None => (
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            "P".to_string(),
            DEFAULT_ACK_VERSION.to_string(),
        ),
    };
    if sending_app.is_empty() {
        sending_app = OWN_APPLICATION.to_string();
    }
    // The ACK names the event it answers (ACK^A04^ACK for an arrival), R01 for results.
    let trigger = original
        .map(|msg| msg.header().text(9, 2))
        .filter(|t| t.len() == 3 && t.bytes().all(|b| b.is_ascii_alphanumeric()))
        .unwrap_or_else(|| "R01".to_owned());
    let mut out = format!(
        "MSH|{enc}|{sending_app}|{sending_fac}|{receiving_app}|{receiving_fac}|{now}||ACK^{trigger}^ACK|{id}|\
         {processing}|{version}\r",
        enc = d.encoding_characters(),
        now = hl7_datetime(now),
        id = escape(own_control_id, &d),
    );
    out.push_str(&format!(
        "MSA|{code}|{original}|{text}\r",
        code = code.as_str(),
        original = escape(control_id_of_original, &d),
        text = escape(text, &d),
    ));
    let severity = if code == AckCode::Accept { "W" } else { "E" };
    let fallback = [(ErrorCondition::ApplicationInternalError, text.to_owned())];
    let errors = if errors.is_empty() && code != AckCode::Accept {
        &fallback[..]
    } else {
        errors
    };
    for (condition, detail) in errors {
        out.push_str(&format!(
            "ERR|||{}|{severity}||||{}\r",
            condition.coded(),
            escape(detail, &d)
        ));
    }
    out
}

/// Best-effort MSH-10 from text that failed to parse, so a reject ACK can still name the message
/// the lab sent. None when no plausible control id can be found, or when it is the last thing in
/// the text and may itself have been cut off.
pub fn control_id_hint(raw: &str) -> Option<String> {
    let start = raw.find("MSH")?;
    let from_msh = raw.get(start..)?;
    let line_end = from_msh.find(['\r', '\n']);
    let line = &from_msh[..line_end.unwrap_or(from_msh.len())];
    let field_sep = line.get(3..)?.chars().next()?;
    if !usable_delimiter(field_sep) {
        return None;
    }
    let mut fields = line.split(field_sep);
    let encoding = fields.nth(1)?;
    // After "MSH" and MSH-2, the n-th item is MSH-(n+1): MSH-10 is the 8th remaining.
    let control = fields.nth(7)?;
    let is_last_field = fields.next().is_none();
    if is_last_field && line_end.is_none() {
        return None;
    }
    let enc: Vec<char> = encoding.chars().collect();
    let delimiters = match enc.as_slice() {
        [c, r, e, s, ..] => Delimiters {
            field: field_sep,
            component: *c,
            repetition: *r,
            escape: *e,
            subcomponent: *s,
            truncation: enc.get(4).copied(),
        },
        _ => Delimiters {
            field: field_sep,
            ..Delimiters::default()
        },
    };
    let first = control.split(delimiters.component).next()?;
    let id = unescape(first, &delimiters).trim().to_string();
    if id.is_empty() || id.chars().count() > 199 || id.chars().any(char::is_control) {
        return None;
    }
    Some(id)
}

// ---------------------------------------------------------------------------------------------
// MLLP framing
// ---------------------------------------------------------------------------------------------

/// Start-of-block byte that opens every MLLP frame.
pub const START: u8 = 0x0B;
/// File-separator + carriage-return that closes every MLLP frame.
pub const END: [u8; 2] = [0x1C, 0x0D];

/// Wraps a message (e.g. our ACK) in MLLP framing for the TCP connection.
pub fn frame(message: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 3);
    out.push(START);
    out.extend_from_slice(message.as_bytes());
    out.extend_from_slice(&END);
    out
}

/// Problems on an MLLP connection. None of them closes the connection: the decoder resumes at
/// the next start byte, so one bad frame does not lose the lab's following messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MllpError {
    /// Bytes outside a frame (reported once per run of such bytes).
    UnexpectedBytes,
    /// A frame grew beyond the configured maximum; its remainder is skipped.
    FrameTooLarge { limit: usize },
    /// A new start byte arrived before the current frame was closed; the partial frame is lost.
    UnterminatedFrame,
    /// The frame content is not valid UTF-8.
    InvalidUtf8,
}

impl fmt::Display for MllpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MllpError::UnexpectedBytes => write!(f, "Data arrived outside an MLLP frame."),
            MllpError::FrameTooLarge { limit } => {
                write!(
                    f,
                    "An MLLP frame exceeded the {limit}-byte limit and was discarded."
                )
            }
            MllpError::UnterminatedFrame => {
                write!(f, "An MLLP frame was interrupted by the start of another frame.")
            }
            MllpError::InvalidUtf8 => write!(f, "An MLLP frame was not valid UTF-8 text."),
        }
    }
}

impl std::error::Error for MllpError {}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DecodeState {
    /// Between frames, waiting for a start byte.
    Idle { garbage_reported: bool },
    /// Inside a frame; `saw_fs` when the previous byte was 0x1C.
    InFrame { saw_fs: bool },
    /// Skipping the rest of an oversized frame.
    Discarding { saw_fs: bool },
}

/// Incremental MLLP decoder for one TCP connection: feed it whatever `read` returned, in any
/// chunking, and it yields each complete message. The frame end is strictly 0x1C 0x0D; a 0x1C
/// followed by anything else is frame content. Whitespace between frames (some senders add a
/// newline after each frame) is ignored silently.
#[derive(Debug, Clone)]
pub struct MllpDecoder {
    max_frame: usize,
    state: DecodeState,
    buffer: Vec<u8>,
}

impl MllpDecoder {
    /// `max_frame` is the largest message content accepted, in bytes.
    pub fn new(max_frame: usize) -> Self {
        MllpDecoder {
            max_frame,
            state: DecodeState::Idle {
                garbage_reported: false,
            },
            buffer: Vec::new(),
        }
    }

    /// True while a frame has started but not yet ended, e.g. to log a connection that closed
    /// mid-message.
    pub fn in_frame(&self) -> bool {
        !matches!(self.state, DecodeState::Idle { .. })
    }

    /// Feeds received bytes; returns every frame completed by them, in order.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Result<String, MllpError>> {
        let mut out = Vec::new();
        for &byte in bytes {
            self.step(byte, &mut out);
        }
        out
    }

    fn step(&mut self, byte: u8, out: &mut Vec<Result<String, MllpError>>) {
        match self.state {
            DecodeState::Idle { garbage_reported } => {
                if byte == START {
                    self.buffer.clear();
                    self.state = DecodeState::InFrame { saw_fs: false };
                } else if !byte.is_ascii_whitespace() && !garbage_reported {
                    out.push(Err(MllpError::UnexpectedBytes));
                    self.state = DecodeState::Idle {
                        garbage_reported: true,
                    };
                }
            }
            DecodeState::InFrame { saw_fs: true } => {
                if byte == END[1] {
                    let content = std::mem::take(&mut self.buffer);
                    out.push(String::from_utf8(content).map_err(|_| MllpError::InvalidUtf8));
                    self.state = DecodeState::Idle {
                        garbage_reported: false,
                    };
                } else {
                    // Strict framing: a lone 0x1C is content; then handle this byte normally.
                    self.state = DecodeState::InFrame { saw_fs: false };
                    self.append(END[0], out);
                    self.step(byte, out);
                }
            }
            DecodeState::InFrame { saw_fs: false } => {
                if byte == START {
                    out.push(Err(MllpError::UnterminatedFrame));
                    self.buffer.clear();
                } else if byte == END[0] {
                    self.state = DecodeState::InFrame { saw_fs: true };
                } else {
                    self.append(byte, out);
                }
            }
            DecodeState::Discarding { saw_fs } => {
                if byte == START {
                    self.buffer.clear();
                    self.state = DecodeState::InFrame { saw_fs: false };
                } else if saw_fs && byte == END[1] {
                    self.state = DecodeState::Idle {
                        garbage_reported: false,
                    };
                } else {
                    self.state = DecodeState::Discarding {
                        saw_fs: byte == END[0],
                    };
                }
            }
        }
    }

    fn append(&mut self, byte: u8, out: &mut Vec<Result<String, MllpError>>) {
        if self.buffer.len() >= self.max_frame {
            out.push(Err(MllpError::FrameTooLarge {
                limit: self.max_frame,
            }));
            self.buffer = Vec::new();
            self.state = DecodeState::Discarding { saw_fs: false };
        } else {
            self.buffer.push(byte);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const LAB_ORU_1: &str = include_str!("fixtures/LAB-ORU-1.hl7");
    const ORU_R01_01: &str = include_str!("fixtures/ORU-R01-01.hl7");

    fn report(text: &str) -> ObservationReport {
        observation_report(&parse(text).unwrap()).unwrap()
    }

    fn report_err(text: &str) -> Hl7Error {
        match parse(text) {
            Ok(msg) => observation_report(&msg).unwrap_err(),
            Err(e) => e,
        }
    }

    fn ts(text: &str) -> Hl7Timestamp {
        Hl7Timestamp::parse(text).unwrap()
    }

    fn dt(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, mo, d)
            .unwrap()
            .and_hms_opt(h, mi, s)
            .unwrap()
    }

    const MINIMAL: &str = "MSH|^~\\&|LAB|REFLAB|PLATEAU|CLINIC|20240301120000||ORU^R01|MSG1|P|2.5.1\r\
                           PID|1||12345^^^CLINIC^MR||DOE^JANE||19800102|F\r\
                           OBR|1|ORD1|ACC1|2345-7^Glucose^LN|||20240301080000\r\
                           OBX|1|NM|2345-7^Glucose^LN||5.4|mmol/L|3.9-5.5|N|||F|||20240301090000\r";

    #[test]
    fn lab_oru_1_patient_and_header() {
        let r = report(LAB_ORU_1);
        assert_eq!(r.control_id, "182");
        assert_eq!(r.sending_application, "SomeSystem");
        assert_eq!(r.version, "2.5");
        assert_eq!(
            r.sent_at,
            Some(Hl7Timestamp {
                local: dt(2014, 10, 6, 6, 45, 0),
                offset_minutes: None
            })
        );
        let p = &r.patient;
        assert_eq!(p.family_name, "DUCK");
        assert_eq!(p.given_name, "DONALD");
        assert_eq!(p.birth_date, NaiveDate::from_ymd_opt(1924, 10, 10));
        assert_eq!(p.sex, "M");
        assert_eq!(
            p.identifiers,
            vec![PatientIdentifier {
                id: "10006579".into(),
                assigning_authority: "1".into(),
                type_code: "MR".into()
            }]
        );
        assert!(r.notes.is_empty());
    }

    #[test]
    fn lab_oru_1_orders_and_results() {
        let r = report(LAB_ORU_1);
        assert_eq!(r.orders.len(), 2);
        let (hemogram, diff) = (&r.orders[0], &r.orders[1]);
        assert_eq!(hemogram.placer_order_number, "88502218");
        assert_eq!(hemogram.filler_order_number, "82503246");
        assert_eq!(hemogram.service.code, "24317-0");
        assert_eq!(hemogram.service.system, "LN");
        assert_eq!(hemogram.result_status, "F");
        assert_eq!(hemogram.observed_at, None);
        assert_eq!(diff.placer_order_number, "855238581");
        assert_eq!(diff.filler_order_number, "890775544");
        assert_eq!(diff.result_status, "");
        assert_eq!(hemogram.observations.len(), 5);
        assert_eq!(diff.observations.len(), 5);

        let leukocytes = &hemogram.observations[0];
        assert_eq!(leukocytes.code.code, "11156-7");
        assert_eq!(leukocytes.code.text, "LEUKOCYTES");
        assert_eq!(leukocytes.value, "");
        assert_eq!(leukocytes.status, "I");
        assert_eq!(leukocytes.observed_at, None);

        let erythrocytes = &hemogram.observations[1];
        assert_eq!(
            (erythrocytes.value.as_str(), erythrocytes.units.as_str()),
            ("4.06", "tera.l-1")
        );
        assert_eq!(erythrocytes.flags, vec!["N".to_string()]);

        let hematocrit = &hemogram.observations[3];
        assert_eq!(hematocrit.code.code, "20570-8");
        assert_eq!(hematocrit.value_type, "NM");
        assert_eq!(hematocrit.value, "40.1");
        assert_eq!(hematocrit.units, "%");
        assert_eq!(hematocrit.status, "P");
        assert_eq!(
            hematocrit.observed_at.map(|t| t.local),
            Some(dt(2014, 10, 6, 8, 30, 0))
        );

        let platelets = &hemogram.observations[4];
        assert_eq!(
            (platelets.value.as_str(), platelets.status.as_str()),
            ("221", "F")
        );

        let values: Vec<&str> = diff.observations.iter().map(|o| o.value.as_str()).collect();
        assert_eq!(values, ["72", "2", "20", "6", "0"]);
        assert!(diff
            .observations
            .iter()
            .all(|o| o.status == "P" && o.units == "%"));

        for order in &r.orders {
            let spm = order.specimen.as_ref().unwrap();
            assert_eq!(spm.id, "SpecimenID");
            assert_eq!(spm.type_code.code, "BLD");
            assert_eq!(spm.collected_at.map(|t| t.local), Some(dt(2014, 10, 6, 5, 35, 0)));
            assert_eq!(spm.received_at.map(|t| t.local), Some(dt(2014, 10, 6, 8, 21, 0)));
        }
    }

    #[test]
    fn oru_r01_01_structure_and_values() {
        let msg = parse(ORU_R01_01).unwrap();
        let r = observation_report(&msg).unwrap();
        assert_eq!(r.control_id, "2.16.840.1.114222.4.3.3.5.1.2-20120314235954.325");
        assert_eq!(r.sending_application, "IA PHIMS Stage");
        assert_eq!(r.sending_facility, "IA Public Health Lab");
        assert_eq!(r.version, "2.5.1");
        assert_eq!(
            r.sent_at,
            Some(Hl7Timestamp {
                local: dt(2012, 3, 14, 12, 59, 0),
                offset_minutes: Some(-135)
            })
        );

        let p = &r.patient;
        assert_eq!(
            (p.family_name.as_str(), p.given_name.as_str()),
            ("Finn", "Huckleberry")
        );
        assert_eq!(p.birth_date, NaiveDate::from_ymd_opt(1963, 8, 15));
        assert_eq!(p.identifiers[0].id, "14");
        assert_eq!(p.identifiers[0].assigning_authority, "IA PHIMS Stage");
        assert_eq!(p.identifiers[0].type_code, "PI");

        // The OBX before ORC/OBR and the one between ORC and OBR land in the unattached group.
        assert_eq!(r.orders.len(), 2);
        let unattached = &r.orders[0];
        assert_eq!(unattached.placer_order_number, "");
        assert_eq!(unattached.service, CodedValue::default());
        assert_eq!(unattached.observations.len(), 2);
        assert_eq!(unattached.observations[0].value_type, "RP");
        assert_eq!(unattached.observations[0].value, "https://testurl.com");
        assert_eq!(unattached.observations[0].code.code, "8867-4");
        assert_eq!(unattached.observations[1].value_type, "ED");
        assert_eq!(unattached.observations[1].value, "App5 NS Octet-stream Base64");
        assert_eq!(unattached.observations[1].code, CodedValue::default());

        let order = &r.orders[1];
        assert_eq!(order.placer_order_number, "845439");
        assert_eq!(order.filler_order_number, "986");
        assert_eq!(order.service.code, "625-4");
        assert_eq!(order.service.system, "XYZ");
        assert_eq!(order.result_status, "F");
        assert_eq!(order.observed_at.map(|t| t.offset_minutes), Some(Some(135)));
        assert_eq!(order.notes.len(), 2);
        assert!(
            order.notes[0].contains("E.coli O157:H7 & other STECs"),
            "{}",
            order.notes[0]
        );
        assert_eq!(order.notes[1], "Allergy to peanuts observed.");

        assert_eq!(order.observations.len(), 3);
        let culture = &order.observations[0];
        assert_eq!(culture.value_type, "CWE");
        assert_eq!(culture.value, "Salmonella");
        assert_eq!(culture.units, "beats/min");
        assert_eq!(culture.reference_range, "70-80");
        assert_eq!(culture.flags, vec!["A".to_string()]);
        assert_eq!(culture.status, "P");
        assert_eq!(
            culture.notes,
            vec!["Submission of serum", "No Antibodies Detected"]
        );
        assert_eq!(order.observations[1].value, "https://testurl.com");
        assert_eq!(order.observations[1].status, "O");
        assert_eq!(order.observations[2].value_type, "NM");
        assert_eq!(order.observations[2].value, "27; 25");

        let spm = order.specimen.as_ref().unwrap();
        assert_eq!(spm.id, "2012545");
        assert_eq!(spm.type_code.code, "ASERU");
        assert_eq!(spm.type_code.text, "Serum");
        assert_eq!(
            spm.collected_at,
            Some(Hl7Timestamp {
                local: dt(2011, 1, 3, 14, 34, 28),
                offset_minutes: Some(-480)
            })
        );
        assert_eq!(spm.received_at.map(|t| t.local), Some(dt(2012, 3, 1, 0, 0, 0)));
    }

    #[test]
    fn generic_access_repetitions_and_subcomponents() {
        let msg = parse(ORU_R01_01).unwrap();
        let h = msg.header();
        assert_eq!(h.get(1, 1, 1, 1).as_deref(), Some("|"));
        assert_eq!(h.get(2, 1, 1, 1).as_deref(), Some("^~\\&"));
        assert_eq!(h.get(9, 1, 3, 1).as_deref(), Some("ORU_R01"));
        assert_eq!(h.get(0, 1, 1, 1), None);
        assert_eq!(msg.message_type(), "ORU^R01");
        let pid = msg.segment("PID").unwrap();
        assert_eq!(pid.repetition_count(10), 2);
        assert_eq!(pid.get(10, 2, 1, 1).as_deref(), Some("1002-5"));
        assert_eq!(pid.get(10, 3, 1, 1), None);
        assert_eq!(
            pid.get(3, 1, 4, 2).as_deref(),
            Some("2.16.840.1.114222.4.3.3.5.1.2")
        );
        assert_eq!(pid.get(3, 1, 4, 3).as_deref(), Some("ISO"));
        assert_eq!(pid.get(3, 1, 4, 4), None);
        assert_eq!(msg.segments_named("NTE").count(), 4);
        assert_eq!(msg.segments().len(), 18);
        let nte = msg.segments_named("NTE").next().unwrap();
        assert_eq!(nte.raw_field(3).map(|f| f.contains("\\T\\")), Some(true));
    }

    #[test]
    fn cr_lf_crlf_and_mixed_separators_parse_identically() {
        let lf = parse(LAB_ORU_1).unwrap();
        let cr = parse(&LAB_ORU_1.replace('\n', "\r")).unwrap();
        let crlf = parse(&LAB_ORU_1.replace('\n', "\r\n")).unwrap();
        let blank_lines = parse(&LAB_ORU_1.replace('\n', "\n\n\r\n")).unwrap();
        let mixed: String = LAB_ORU_1
            .split('\n')
            .enumerate()
            .map(|(i, l)| format!("{l}{}", ["\r", "\n", "\r\n"][i % 3]))
            .collect();
        let mixed = parse(&mixed).unwrap();
        assert_eq!(lf, cr);
        assert_eq!(lf, crlf);
        assert_eq!(lf, blank_lines);
        assert_eq!(lf, mixed);
        assert_eq!(lf.segments().len(), 16);
        assert_eq!(report(&LAB_ORU_1.replace('\n', "\r")), report(LAB_ORU_1));
    }

    #[test]
    fn custom_delimiters_are_honoured() {
        // Field #, component $, repetition *, escape !, subcomponent @.
        let text = MINIMAL
            .replace('|', "#")
            .replace("^~\\&", "$*!@")
            .replace('^', "$");
        let msg = parse(&text).unwrap();
        assert_eq!(msg.delimiters().component, '$');
        assert_eq!(msg.delimiters().escape, '!');
        let r = observation_report(&msg).unwrap();
        assert_eq!(r.orders[0].observations[0].code.text, "Glucose");
        assert_eq!(r.patient.family_name, "DOE");
    }

    #[test]
    fn five_encoding_characters_accepted() {
        let msg = parse(&MINIMAL.replacen("^~\\&", "^~\\&#", 1)).unwrap();
        assert_eq!(msg.delimiters().truncation, Some('#'));
        assert_eq!(unescape("a\\P\\b", &msg.delimiters()), "a#b");
        assert!(observation_report(&msg).is_ok());
    }

    #[test]
    fn unescape_known_unknown_and_hex() {
        let d = Delimiters::default();
        assert_eq!(unescape("a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f", &d), "a|b^c&d~e\\f");
        assert_eq!(unescape("line1\\.br\\line2", &d), "line1\nline2");
        assert_eq!(unescape("\\X41424344\\", &d), "ABCD");
        assert_eq!(unescape("\\XC3A9\\t\\XE282AC\\", &d), "ét€");
        assert_eq!(unescape("\\XFF\\", &d), "\\XFF\\");
        assert_eq!(unescape("\\X4\\", &d), "\\X4\\");
        assert_eq!(unescape("\\Zcustom\\ and \\.sp\\", &d), "\\Zcustom\\ and \\.sp\\");
        assert_eq!(unescape("\\H\\bold\\N\\", &d), "bold");
        assert_eq!(unescape("cut \\T", &d), "cut \\T");
        assert_eq!(unescape("plain", &d), "plain");
        assert_eq!(unescape("\\P\\", &d), "\\P\\");
    }

    #[test]
    fn escape_round_trips() {
        let samples = [
            "",
            "plain text",
            "a|b^c&d~e\\f",
            "K+ 5.1 mmol/L ^ high & rising | see note ~ ok",
            "two\nlines\r\nand CR",
            "\\F\\ looks like an escape",
            "émoji 🧪 and \\",
        ];
        let standard = Delimiters::default();
        let custom = Delimiters {
            field: '#',
            component: '$',
            repetition: '*',
            escape: '!',
            subcomponent: '@',
            truncation: Some('%'),
        };
        for d in [standard, custom] {
            for s in samples {
                let escaped = escape(s, &d);
                assert!(!escaped.contains(['\r', '\n', d.field, d.component, d.repetition, d.subcomponent]));
                assert_eq!(unescape(&escaped, &d), s, "round trip of {s:?}");
            }
        }
        // Escaped text survives being placed in a message and read back.
        let note = "Ratio 1:2 | A^B & C~D \\ end";
        let text = format!("{MINIMAL}NTE|1||{}\r", escape(note, &standard));
        assert_eq!(
            report(&text).orders[0].observations[0].notes,
            vec![note.to_string()]
        );
    }

    #[test]
    fn truncated_inside_msh_is_rejected() {
        let msh_line = LAB_ORU_1.lines().next().unwrap();
        let version_at = msh_line.find("|2.5|").unwrap() + 1;
        for cut in 0..version_at {
            let err = parse(&msh_line[..cut]).unwrap_err();
            assert_eq!(err.ack_code(), AckCode::Reject, "cut at {cut}: {err}");
            if cut >= 3 {
                assert!(matches!(err, Hl7Error::Truncated(_)), "cut at {cut}: {err:?}");
            }
        }
        assert!(matches!(parse("MSH|^~"), Err(Hl7Error::Truncated(_))));
        assert!(matches!(parse("MS"), Err(Hl7Error::Truncated(_))));
    }

    #[test]
    fn msh_only_is_an_error_for_missing_patient() {
        let msh_line = LAB_ORU_1.lines().next().unwrap();
        let err = report_err(msh_line);
        assert_eq!(
            err,
            Hl7Error::MissingSegment {
                segment: "PID",
                what: "patient identification"
            }
        );
        assert_eq!(err.ack_code(), AckCode::Error);
    }

    #[test]
    fn message_cut_mid_segment_is_truncated() {
        let cut = &LAB_ORU_1[..LAB_ORU_1.find("OBX|2").unwrap() + 2];
        let err = parse(cut).unwrap_err();
        assert!(matches!(err, Hl7Error::Truncated(_)), "{err:?}");
        assert_eq!(err.ack_code(), AckCode::Reject);
        let cut = &LAB_ORU_1[..LAB_ORU_1.find("OBX|2").unwrap() + 3];
        assert!(matches!(parse(cut), Err(Hl7Error::Truncated(_))));
    }

    #[test]
    fn every_prefix_is_handled_without_panicking() {
        for fixture in [LAB_ORU_1, ORU_R01_01] {
            for (cut, _) in fixture.char_indices() {
                if let Ok(msg) = parse(&fixture[..cut]) {
                    let _ = observation_report(&msg);
                }
                let _ = control_id_hint(&fixture[..cut]);
            }
        }
    }

    #[test]
    fn non_hl7_is_rejected() {
        for text in [
            "",
            "   \n",
            "{\"resourceType\":\"Bundle\"}",
            "<html><body>hi</body></html>",
            "hello",
        ] {
            let err = parse(text).unwrap_err();
            assert!(matches!(err, Hl7Error::NotHl7(_)), "{text:?}: {err:?}");
            assert_eq!(err.ack_code(), AckCode::Reject);
            assert!(err.to_string().starts_with("This is not an HL7 message"));
        }
        let err = parse(&format!("junk line\n{LAB_ORU_1}")).unwrap_err();
        assert_eq!(err, Hl7Error::MshNotFirst);
        assert_eq!(err.ack_code(), AckCode::Reject);
    }

    #[test]
    fn bad_delimiters_and_bad_segments_are_rejected() {
        for text in [
            "MSH|^~\\|a|b|c|d|e||ORU^R01|1|P|2.5",
            "MSH|^~\\^|a|b|c|d|e||ORU^R01|1|P|2.5",
            "MSHA^~\\&Aa",
            "MSH|^~ &|||||e||ORU^R01|1|P|2.5",
        ] {
            let err = parse(text).unwrap_err();
            assert!(matches!(err, Hl7Error::BadDelimiters(_)), "{text}: {err:?}");
            assert_eq!(err.ack_code(), AckCode::Reject);
        }
        let err = parse(&MINIMAL.replace("PID|", "pid|")).unwrap_err();
        assert!(matches!(err, Hl7Error::BadSegment { index: 2, .. }), "{err:?}");
        let err = parse(&format!("{MINIMAL}{MINIMAL}")).unwrap_err();
        assert!(matches!(err, Hl7Error::BadSegment { index: 5, .. }), "{err:?}");
        assert_eq!(err.ack_code(), AckCode::Reject);
        // A segment with no fields in the middle of a message is tolerated.
        assert!(parse(&MINIMAL.replace("PID|", "PV1\rPID|")).is_ok());
    }

    #[test]
    fn missing_msh_fields_reject() {
        let err = parse("MSH|^~\\&|a|b|c|d|e|||1|P|2.5").unwrap_err();
        assert_eq!(
            err,
            Hl7Error::MissingField {
                segment: "MSH",
                field: 9,
                what: "message type"
            }
        );
        assert_eq!(err.ack_code(), AckCode::Reject);
        let err = parse("MSH|^~\\&|a|b|c|d|e||ORU^R01||P|2.5").unwrap_err();
        assert!(matches!(err, Hl7Error::MissingField { field: 10, .. }));
        let err = parse("MSH|^~\\&|a|b|c|d|e||ORU^R01|1|P|").unwrap_err();
        assert!(matches!(err, Hl7Error::MissingField { field: 12, .. }));
    }

    #[test]
    fn other_message_types_and_versions_are_rejected() {
        let adt = MINIMAL.replace("ORU^R01", "ADT^A01");
        let err = report_err(&adt);
        assert_eq!(err, Hl7Error::UnsupportedMessageType("ADT^A01".into()));
        assert_eq!(err.ack_code(), AckCode::Reject);
        assert!(err.to_string().contains("not supported"), "{err}");
        assert!(matches!(
            report_err(&MINIMAL.replace("ORU^R01", "ORU^R30")),
            Hl7Error::UnsupportedMessageType(_)
        ));

        for bad in ["2.2", "2.9", "3.0", "2", "2.x", "2.5."] {
            let err = report_err(&MINIMAL.replace("|2.5.1\r", &format!("|{bad}\r")));
            assert_eq!(err, Hl7Error::UnsupportedVersion(bad.into()), "{bad}");
            assert_eq!(err.ack_code(), AckCode::Reject);
        }
        for good in ["2.3", "2.3.1", "2.4", "2.5", "2.6", "2.7.1", "2.8", "2.8.2"] {
            let r = report(&MINIMAL.replace("|2.5.1\r", &format!("|{good}\r")));
            assert_eq!(r.version, good);
        }
    }

    #[test]
    fn content_problems_are_errors_not_rejects() {
        let no_pid = MINIMAL.replace("PID|1||12345^^^CLINIC^MR||DOE^JANE||19800102|F\r", "");
        assert!(matches!(
            report_err(&no_pid),
            Hl7Error::MissingSegment { segment: "PID", .. }
        ));

        let no_obr = MINIMAL.replace("OBR|1|ORD1|ACC1|2345-7^Glucose^LN|||20240301080000\r", "");
        let err = report_err(&no_obr);
        assert!(
            matches!(err, Hl7Error::MissingSegment { segment: "OBR", .. }),
            "{err:?}"
        );
        assert_eq!(err.ack_code(), AckCode::Error);

        let obr_without_obx = format!("{MINIMAL}OBR|2|ORD2||718-7^Hemoglobin^LN\r");
        let err = report_err(&obr_without_obx);
        assert_eq!(err, Hl7Error::OrderWithoutObservations { order: "ORD2".into() });
        assert_eq!(err.ack_code(), AckCode::Error);

        let no_id = MINIMAL.replace("12345^^^CLINIC^MR", "");
        let err = report_err(&no_id);
        assert!(matches!(
            err,
            Hl7Error::MissingField {
                segment: "PID",
                field: 3,
                ..
            }
        ));
        assert_eq!(err.ack_code(), AckCode::Error);

        let no_service = MINIMAL.replace("|ACC1|2345-7^Glucose^LN|", "|ACC1||");
        assert!(matches!(
            report_err(&no_service),
            Hl7Error::MissingField {
                segment: "OBR",
                field: 4,
                ..
            }
        ));

        let bad_time = MINIMAL.replace("|||20240301090000", "|||2024-03-01");
        let err = report_err(&bad_time);
        assert_eq!(
            err,
            Hl7Error::BadTimestamp {
                field: "OBX-14".into(),
                value: "2024-03-01".into()
            }
        );
        assert_eq!(err.ack_code(), AckCode::Error);
        assert!(err.to_string().contains("OBX-14"));

        let two_patients = format!("{MINIMAL}PID|1||999^^^CLINIC^MR||ROE^RICHARD\r");
        let err = report_err(&two_patients);
        assert_eq!(err, Hl7Error::MultiplePatients);
        assert_eq!(err.ack_code(), AckCode::Reject);
    }

    #[test]
    fn notes_go_to_what_they_follow_and_unknown_segments_are_ignored() {
        let text = "MSH|^~\\&|LAB|REFLAB|PLATEAU|CLINIC|20240301120000||ORU^R01|MSG1|P|2.3\r\
                    PID|1||12345^^^CLINIC^MR~A99^^^NHS^NH||DOE^JANE||1980|F\r\
                    NTE|1||Patient fasting\r\
                    PV1|1|O\r\
                    ZXY|custom|stuff\r\
                    ORC|RE|PLC77|FIL88\r\
                    OBR|1|||GLU^Glucose^L\r\
                    NTE|1||Order comment~second line\r\
                    OBX|1|SN|GLU^Glucose^L||<^2.0|mmol/L^^UCUM|3.9-5.5|L~LL|||C\r\
                    NTE|1||Repeat advised\r\
                    OBX|2|ST|COM^Comment^L||free ^ text & more|\r\
                    OBX|3|CE|ORG^Organism^L||^^^^^|\r";
        let r = report(text);
        assert_eq!(r.notes, vec!["Patient fasting"]);
        assert_eq!(r.patient.birth_date, None, "year-only birth date is not guessed");
        assert_eq!(r.patient.identifiers.len(), 2);
        assert_eq!(r.patient.identifiers[1].assigning_authority, "NHS");
        let order = &r.orders[0];
        assert_eq!(order.placer_order_number, "PLC77");
        assert_eq!(order.filler_order_number, "FIL88");
        assert_eq!(order.notes, vec!["Order comment\nsecond line"]);
        let obs = &order.observations;
        assert_eq!(obs[0].value, "<2.0");
        assert_eq!(obs[0].units, "mmol/L");
        assert_eq!(obs[0].flags, vec!["L", "LL"]);
        assert_eq!(obs[0].status, "C");
        assert_eq!(obs[0].notes, vec!["Repeat advised"]);
        assert_eq!(obs[1].value, "free ^ text & more");
        assert_eq!(obs[2].value, "");
        assert_eq!(obs[2].code.system, "L");
    }

    #[test]
    fn oversized_input_is_rejected() {
        let huge = format!("{MINIMAL}NTE|1||{}\r", "x".repeat(MAX_MESSAGE_BYTES));
        let err = parse(&huge).unwrap_err();
        assert!(matches!(err, Hl7Error::TooLarge { .. }));
        assert_eq!(err.ack_code(), AckCode::Reject);
        let many = format!("{MINIMAL}{}", "NTE|1||x\r".repeat(MAX_SEGMENTS));
        assert_eq!(
            parse(&many).unwrap_err(),
            Hl7Error::TooManySegments { limit: MAX_SEGMENTS }
        );
    }

    #[test]
    fn timestamps_parse_with_all_precisions_offsets_and_fractions() {
        assert_eq!(ts("2014").local, dt(2014, 1, 1, 0, 0, 0));
        assert_eq!(ts("201410").local, dt(2014, 10, 1, 0, 0, 0));
        assert_eq!(ts("20141006").local, dt(2014, 10, 6, 0, 0, 0));
        assert_eq!(ts("2014100606").local, dt(2014, 10, 6, 6, 0, 0));
        assert_eq!(ts("201410060645").local, dt(2014, 10, 6, 6, 45, 0));
        assert_eq!(ts("20141006064512").local, dt(2014, 10, 6, 6, 45, 12));
        assert_eq!(ts("20141006064512").offset_minutes, None);
        let frac = ts("20141006064512.1234");
        assert_eq!(
            frac.local,
            dt(2014, 10, 6, 6, 45, 12) + TimeDelta::microseconds(123_400)
        );
        assert_eq!(ts("201203141259-0215").offset_minutes, Some(-135));
        assert_eq!(ts("202010101700+0215").offset_minutes, Some(135));
        let both = ts("20141006064512.5-0500");
        assert_eq!(both.offset_minutes, Some(-300));
        assert_eq!(
            both.local,
            dt(2014, 10, 6, 6, 45, 12) + TimeDelta::milliseconds(500)
        );
        assert_eq!(
            ts("20240229").local.date(),
            NaiveDate::from_ymd_opt(2024, 2, 29).unwrap()
        );

        for bad in [
            "",
            "abc",
            "2014-10-06",
            "20141306",
            "20141032",
            "20230229",
            "201410061",
            "2014100624",
            "20141006+02",
            "20141006+2500",
            "20141006064512.",
            "201410060645.5",
            "2014100606451",
            "20141006064560",
            "20141006 0645",
            "+0100",
        ] {
            assert_eq!(Hl7Timestamp::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn timestamps_convert_to_utc() {
        let with_offset = ts("202010101700+0215");
        let expected = dt(2020, 10, 10, 14, 45, 0).and_utc();
        assert_eq!(with_offset.to_utc(0), expected);
        assert_eq!(with_offset.to_utc(600), expected, "sender's offset wins");
        let without = ts("202010101700");
        assert_eq!(without.to_utc(60), dt(2020, 10, 10, 16, 0, 0).and_utc());
        assert_eq!(without.to_utc(-300), dt(2020, 10, 10, 22, 0, 0).and_utc());
        assert_eq!(
            ts("20200101003000-0100").to_utc(0),
            dt(2020, 1, 1, 1, 30, 0).and_utc()
        );
    }

    #[test]
    fn ack_for_parsed_message_round_trips() {
        let original = parse(ORU_R01_01).unwrap();
        let text = "Field OBX-14 holds 'x|y^z', bad\nsecond line";
        let now = dt(2024, 3, 1, 12, 30, 5);
        let ack = acknowledgement(
            Some(&original),
            &original.control_id(),
            AckCode::Error,
            text,
            &[],
            now,
            "ACK0001",
        );
        assert!(!ack.contains('\n'));
        assert!(ack.ends_with('\r'));
        assert_eq!(ack.matches('\r').count(), 3);

        let parsed = parse(&ack).unwrap();
        let h = parsed.header();
        assert_eq!(h.text(3, 1), "IA.DOH.IDSS");
        assert_eq!(h.get(3, 1, 2, 1).as_deref(), Some("2.16.840.1.114222.4.3.3.19"));
        assert_eq!(h.text(4, 1), "IA DOH");
        assert_eq!(h.text(5, 1), "IA PHIMS Stage");
        assert_eq!(h.text(6, 1), "IA Public Health Lab");
        assert_eq!(h.text(7, 1), "20240301123005");
        assert_eq!(parsed.message_type(), "ACK^R01");
        assert_eq!(h.text(9, 3), "ACK");
        assert_eq!(parsed.control_id(), "ACK0001");
        assert_eq!(h.text(11, 1), "T");
        assert_eq!(parsed.version(), "2.5.1");

        let msa = parsed.segment("MSA").unwrap();
        assert_eq!(msa.text(1, 1), "AE");
        assert_eq!(msa.text(2, 1), "2.16.840.1.114222.4.3.3.5.1.2-20120314235954.325");
        assert_eq!(msa.text(3, 1), text);
        let err = parsed.segment("ERR").unwrap();
        assert_eq!(err.text(3, 1), "207");
        assert_eq!(err.text(4, 1), "E");
        assert_eq!(err.text(8, 1), text);
    }

    #[test]
    fn ack_accept_and_without_original() {
        let original = parse(LAB_ORU_1).unwrap();
        let now = dt(2024, 1, 2, 3, 4, 5);
        let ack = acknowledgement(Some(&original), "182", AckCode::Accept, "", &[], now, "A1");
        let parsed = parse(&ack).unwrap();
        assert_eq!(parsed.header().text(3, 1), "TransformationAgent");
        assert_eq!(parsed.header().text(5, 1), "SomeSystem");
        assert_eq!(parsed.version(), "2.5");
        assert_eq!(parsed.segment("MSA").unwrap().text(1, 1), "AA");
        assert_eq!(parsed.segment("MSA").unwrap().text(2, 1), "182");
        assert!(parsed.segment("ERR").is_none());

        let raw = "MSH|^~\\&|LAB|X|||2024||ORU^R01|CTRL-9|P|2.5\rPID|bro";
        let err = parse("garbage that is not hl7").unwrap_err();
        let ack = acknowledgement(None, "", AckCode::Reject, &err.to_string(), &[], now, "A2");
        let parsed = parse(&ack).unwrap();
        assert_eq!(parsed.header().text(3, 1), "PLATEAU");
        assert_eq!(parsed.header().text(5, 1), "");
        assert_eq!(parsed.version(), "2.5.1");
        let msa = parsed.segment("MSA").unwrap();
        assert_eq!(msa.text(1, 1), "AR");
        assert_eq!(msa.text(3, 1), err.to_string());
        assert!(parsed.segment("ERR").is_some());
        assert_eq!(control_id_hint(raw).as_deref(), Some("CTRL-9"));
    }

    #[test]
    fn ack_reencodes_fields_from_custom_delimiters() {
        let custom = MINIMAL.replacen("MSH|^~\\&|LAB|", "MSH|$~\\&|LAB$1.2.3$ISO|", 1);
        let original = parse(&custom).unwrap();
        let ack = acknowledgement(
            Some(&original),
            "MSG1",
            AckCode::Accept,
            "",
            &[],
            dt(2024, 1, 1, 0, 0, 0),
            "A3",
        );
        assert!(ack.contains("|LAB^1.2.3^ISO|"), "{ack}");
    }

    #[test]
    fn ack_errors_carry_their_table_0357_condition() {
        let original = parse(LAB_ORU_1).unwrap();
        let now = dt(2024, 1, 2, 3, 4, 5);
        let errors = [
            (
                ErrorCondition::UnknownKeyIdentifier,
                "order \"X1\": unknown_order".to_owned(),
            ),
            (
                ErrorCondition::ApplicationRecordLocked,
                "order \"X2\": already_verified".to_owned(),
            ),
        ];
        let ack = acknowledgement(Some(&original), "182", AckCode::Error, "held", &errors, now, "A4");
        let parsed = parse(&ack).unwrap();
        let conditions: Vec<String> = parsed.segments_named("ERR").map(|e| e.text(3, 1)).collect();
        assert_eq!(conditions, ["204", "206"]);
        assert_eq!(
            parsed
                .segments_named("ERR")
                .next()
                .map(|e| e.text(4, 1))
                .as_deref(),
            Some("E")
        );
        // An accepted message may carry a warning.
        let warning = [(
            ErrorCondition::DuplicateKeyIdentifier,
            "control id used before".to_owned(),
        )];
        let ack = acknowledgement(Some(&original), "182", AckCode::Accept, "", &warning, now, "A5");
        let parsed = parse(&ack).unwrap();
        let err = parsed.segment("ERR").unwrap();
        assert_eq!(
            (err.text(3, 1), err.text(4, 1)),
            ("205".to_owned(), "W".to_owned())
        );
        // Parse errors say what kind they are.
        assert_eq!(
            parse("MSH|^~\\&|A|B|C|D|2024||ADT^A01|1|P|2.5\rPID|1")
                .and_then(|m| observation_report(&m))
                .unwrap_err()
                .condition(),
            ErrorCondition::UnsupportedMessageType
        );
        assert_eq!(
            parse("MSH|^~\\&|A|B|C|D|2024||ORU^R01|1|P|2.5\rPID\0|1")
                .unwrap_err()
                .condition(),
            ErrorCondition::DataTypeError
        );
    }

    #[test]
    fn codes_values_and_limits_are_kept() {
        let message = "MSH|^~\\&|LAB|BIO^1.2.250.1^ISO|PLT|CLI|20241001||ORU^R01|9|P|2.5.1\r\
PID|1||42^^^H^MR||Martin^Ana||19800101|F\r\
OBR|1|PL1||ZZ1^Culture^99LAB^600-7^Bacteria identified^LN|||20241001083000+0200\r\
OBX|1|CWE|ZZ1A^Germ^99LAB||260348001^Present^SCT^^^^^^Présent (culture)||||||F|||20241001101500+0200\r";
        let report = observation_report(&parse(message).unwrap()).unwrap();
        assert_eq!(
            (
                report.sending_facility.as_str(),
                report.sending_facility_id.as_str()
            ),
            ("BIO", "1.2.250.1")
        );
        let group = &report.orders[0];
        assert_eq!(loinc_of(&group.service, &group.service_alternate), Some("600-7"));
        let obx = &group.observations[0];
        assert_eq!(
            loinc_of(&obx.code, &obx.code_alternate),
            None,
            "a local code is not LOINC"
        );
        assert_eq!(
            (obx.code.code.as_str(), obx.code.system.as_str()),
            ("ZZ1A", "99LAB")
        );
        let coded = obx.coded.clone().unwrap_or_default();
        assert_eq!(
            (
                coded.code.as_str(),
                coded.system.as_str(),
                coded.text.as_str(),
                coded.original_text.as_str()
            ),
            ("260348001", "SCT", "Present", "Présent (culture)")
        );
        assert!(obx.observed_at.is_some() && group.observed_at.is_some());
        // No system but a valid check digit: LOINC; an invalid one: not.
        let bare = CodedValue {
            code: "2823-3".into(),
            text: String::new(),
            system: String::new(),
        };
        assert_eq!(bare.loinc(), Some("2823-3"));
        let wrong = CodedValue {
            code: "2823-4".into(),
            ..bare.clone()
        };
        assert_eq!(wrong.loinc(), None);

        let mut flood = String::from("MSH|^~\\&|LAB|BIO|PLT|CLI|20241001||ORU^R01|9|P|2.5.1\rPID|1||42^^^H^MR||Martin^Ana||19800101|F\rOBR|1|PL1||2823-3^K^LN\r");
        for i in 0..=MAX_OBSERVATIONS_PER_ORDER {
            flood.push_str(&format!("OBX|{i}|NM|2823-3^K^LN||4.1|mmol/L|||||F\r"));
        }
        assert!(matches!(
            observation_report(&parse(&flood).unwrap()),
            Err(Hl7Error::TooManyResults { .. })
        ));
    }

    #[test]
    fn control_id_hint_best_effort() {
        assert_eq!(
            control_id_hint("MSH|^~\\&|a|b|c|d|2024||ORU^R01|XYZ|P").as_deref(),
            Some("XYZ")
        );
        assert_eq!(
            control_id_hint("\u{b}MSH|^~\\&|a|b|c|d|2024||ADT^A01|ID\\F\\1^x|P\r").as_deref(),
            Some("ID|1")
        );
        assert_eq!(
            control_id_hint("junk\nMSH#$~\\&#a#b#c#d#e##ORU$R01#C2#P#").as_deref(),
            Some("C2")
        );
        // Possibly cut off: last thing in the text.
        assert_eq!(control_id_hint("MSH|^~\\&|a|b|c|d|2024||ORU^R01|XY"), None);
        assert_eq!(
            control_id_hint("MSH|^~\\&|a|b|c|d|2024||ORU^R01|XY\r").as_deref(),
            Some("XY")
        );
        assert_eq!(control_id_hint("MSH|^~\\&|a|b|c|d|2024||ORU^R01||P"), None);
        assert_eq!(control_id_hint("not hl7 at all"), None);
        assert_eq!(control_id_hint("MSH|^~\\&|a|b"), None);
        assert_eq!(control_id_hint(LAB_ORU_1).as_deref(), Some("182"));
    }

    // ----- MLLP -----

    fn decode_all(decoder: &mut MllpDecoder, chunks: &[&[u8]]) -> Vec<Result<String, MllpError>> {
        chunks.iter().flat_map(|c| decoder.push(c)).collect()
    }

    #[test]
    fn frame_and_decode_single_message() {
        let framed = frame(MINIMAL);
        assert_eq!(framed.first(), Some(&START));
        assert!(framed.ends_with(&END));
        let mut decoder = MllpDecoder::new(4096);
        assert_eq!(decoder.push(&framed), vec![Ok(MINIMAL.to_string())]);
        assert!(!decoder.in_frame());
    }

    #[test]
    fn mllp_split_at_every_position_decodes_identically() {
        let mut stream = b"noise".to_vec();
        stream.extend(frame(LAB_ORU_1));
        stream.extend(b"\r\n");
        stream.extend(frame("MSH|second é"));
        stream.extend(frame(""));
        let mut whole = MllpDecoder::new(1 << 16);
        let expected = whole.push(&stream);
        assert_eq!(
            expected,
            vec![
                Err(MllpError::UnexpectedBytes),
                Ok(LAB_ORU_1.to_string()),
                Ok("MSH|second é".to_string()),
                Ok(String::new()),
            ]
        );
        for split in 0..=stream.len() {
            let mut decoder = MllpDecoder::new(1 << 16);
            let (a, b) = stream.split_at(split);
            assert_eq!(decode_all(&mut decoder, &[a, b]), expected, "split at {split}");
        }
        for split in 0..stream.len() {
            let mut decoder = MllpDecoder::new(1 << 16);
            let (a, rest) = stream.split_at(split);
            let (b, c) = rest.split_at(rest.len() / 2);
            assert_eq!(decode_all(&mut decoder, &[a, b, c]), expected, "split at {split}");
        }
        let mut decoder = MllpDecoder::new(1 << 16);
        let bytewise: Vec<&[u8]> = stream.chunks(1).collect();
        assert_eq!(decode_all(&mut decoder, &bytewise), expected);
    }

    #[test]
    fn mllp_two_frames_in_one_push_and_partial_third() {
        let mut bytes = frame("first");
        bytes.extend(frame("second"));
        bytes.extend(&frame("third")[..4]);
        let mut decoder = MllpDecoder::new(100);
        assert_eq!(
            decoder.push(&bytes),
            vec![Ok("first".to_string()), Ok("second".to_string())]
        );
        assert!(decoder.in_frame());
        assert_eq!(decoder.push(b"rd\x1c"), vec![]);
        assert_eq!(decoder.push(b"\r"), vec![Ok("third".to_string())]);
    }

    #[test]
    fn mllp_garbage_is_reported_once_per_run() {
        let mut decoder = MllpDecoder::new(100);
        assert_eq!(
            decoder.push(b"GET / HTTP/1.1"),
            vec![Err(MllpError::UnexpectedBytes)]
        );
        assert_eq!(decoder.push(b"Host: x"), vec![]);
        let mut more = frame("ok");
        more.extend(b"\r\n \t");
        assert_eq!(decoder.push(&more), vec![Ok("ok".to_string())]);
        assert_eq!(decoder.push(b"\x1c\rjunk"), vec![Err(MllpError::UnexpectedBytes)]);
    }

    #[test]
    fn mllp_oversize_frame_is_skipped_until_next_start() {
        let mut decoder = MllpDecoder::new(5);
        let mut bytes = frame("12345");
        bytes.extend(frame("123456789"));
        bytes.extend(frame("abc"));
        assert_eq!(
            decoder.push(&bytes),
            vec![
                Ok("12345".to_string()),
                Err(MllpError::FrameTooLarge { limit: 5 }),
                Ok("abc".to_string())
            ]
        );
        // Oversize frame whose end arrives later, followed by stray bytes: end is recognised.
        let mut decoder = MllpDecoder::new(3);
        assert_eq!(
            decoder.push(b"\x0babcdef"),
            vec![Err(MllpError::FrameTooLarge { limit: 3 })]
        );
        assert_eq!(decoder.push(b"gh\x1c"), vec![]);
        assert_eq!(decoder.push(b"\rX"), vec![Err(MllpError::UnexpectedBytes)]);
    }

    #[test]
    fn mllp_strict_end_invalid_utf8_and_interrupted_frames() {
        let mut decoder = MllpDecoder::new(100);
        // 0x1C not followed by 0x0D is content.
        assert_eq!(
            decoder.push(b"\x0ba\x1cb\x1c\x1c\r"),
            vec![Ok("a\u{1c}b\u{1c}".to_string())]
        );
        assert_eq!(
            decoder.push(b"\x0b\xff\xfe\x1c\r"),
            vec![Err(MllpError::InvalidUtf8)]
        );
        assert_eq!(
            decoder.push(b"\x0bpartial\x0bwhole\x1c\r"),
            vec![Err(MllpError::UnterminatedFrame), Ok("whole".to_string())]
        );
        assert!(!MllpError::InvalidUtf8.to_string().is_empty());
    }
}
