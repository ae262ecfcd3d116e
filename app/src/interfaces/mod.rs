//! The systems that send Plateau HL7 messages: reference labs (results) and the front
//! office's system (admissions). An administrator sets each up in the browser: its name,
//! how it names itself in MSH-4, the addresses its MLLP engine connects from, and an
//! interface token for HTTP that Plateau generates, shows once and keeps only the
//! SHA-256 of; the token is rotated or revoked there too. Receiving the messages is the
//! lab's (`lab::import`) and the admissions' (`admissions::import`).

mod setup;
mod setup_view;
#[cfg(feature = "ssr")]
pub mod store;

pub use setup::*;
pub use setup_view::InterfaceSetupPage;
