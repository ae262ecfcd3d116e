//! Any text a reference lab could send: parsing it, reading its report, answering it and
//! recognising it again never panics, whatever it holds.
#![no_main]

use libfuzzer_sys::fuzz_target;
use plateau_app::lab::{hl7, import};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = hl7::control_id_hint(text);
    let _ = import::content_digest(text);
    match hl7::parse(text) {
        Ok(message) => {
            let delimiters = message.delimiters();
            for segment in message.segments() {
                for field in 0..segment.field_count().min(64) {
                    let _ = segment.text(field, 1);
                    let _ = segment.repetition_count(field);
                }
            }
            if let Ok(report) = hl7::observation_report(&message) {
                let _ = format!("{report:?}");
            }
            // What we write back must read back as the same text.
            let sample: String = text.chars().take(64).collect();
            let escaped = hl7::escape(&sample, &delimiters);
            assert_eq!(hl7::unescape(&escaped, &delimiters), sample);
        }
        Err(error) => {
            let _ = (error.condition(), error.ack_code(), error.to_string());
        }
    }
});
