//! Setting the clinic itself up (administrators): its name, time zone and national
//! identifier (FINESS), on a server page. The clinic's clock, which every area uses, is
//! the core's (`facility`).

mod setup;
mod setup_view;

pub use setup::*;
pub use setup_view::FacilitySetupPage;
