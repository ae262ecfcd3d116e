//! Enumerations stored and sent as short codes (HL7, FHIR or our own), declared once.

/// Declares an enum whose variants travel as fixed codes: in the database, in JSON and in
/// URLs. Gives `ALL`, `code()`, `from_code()` and `TryFrom<String>` (for sqlx rows).
#[macro_export]
macro_rules! coded_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $code:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $code)] $variant ),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            pub fn from_code(code: &str) -> Option<Self> {
                match code { $($code => Some($name::$variant),)+ _ => None }
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(code: String) -> Result<Self, String> {
                Self::from_code(&code)
                    .ok_or_else(|| format!("unknown {} code {:?}", stringify!($name), code))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.code())
            }
        }
    };
}

#[cfg(test)]
mod tests {
    coded_enum! {
        pub enum Sample { One = "1", Two = "two" }
    }

    #[test]
    fn codes_round_trip() {
        for sample in Sample::ALL {
            assert_eq!(Sample::from_code(sample.code()), Some(*sample));
        }
        assert_eq!(Sample::from_code("three"), None);
        assert!(Sample::try_from("nope".to_owned()).is_err());
        assert_eq!(
            serde_json::to_string(&Sample::Two).ok().as_deref(),
            Some("\"two\"")
        );
    }
}
