//! Finding patients as people type them: without accents, capitals or ligatures
//! ("Hélène" = "helene" = "HELENE", "Œuvray" = "oeuvray", "Straße" = "strasse"), and
//! telling a probable duplicate (same birth date, a similar name) before a record is made.
//! Names are folded by `deunicode`'s Unicode transliteration tables, not a table of ours.

use chrono::NaiveDate;

/// A name folded for comparison: transliterated to ASCII, lower case, every run of
/// anything but letters and digits made one space ("Jean-Pierre" = "jean pierre").
pub fn fold(name: &str) -> String {
    let ascii = deunicode::deunicode(name).to_ascii_lowercase();
    ascii
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The words of a folded name, each one a key a search can start from.
pub fn tokens(name: &str) -> Vec<String> {
    let mut words: Vec<String> = fold(name)
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect();
    words.sort();
    words.dedup();
    words
}

/// The most words of a name one search looks for; the longest are kept.
pub const NAME_WORDS: usize = 3;

/// A search as typed, read into its parts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PatientQuery {
    /// Folded words of a name, each the start of a word of the patient's names.
    pub name_words: Vec<String>,
    pub birth_date: Option<NaiveDate>,
    /// A record number, exactly (letters in capitals).
    pub record_number: Option<String>,
}

impl PatientQuery {
    /// Reads "durand 14/03/1958", "DEMO-0001" or "1958-03-14 élise": a word that is a
    /// date (day/month/year or year-month-day) is the date of birth, a word with a digit
    /// the record number, the rest the name, folded.
    pub fn read(typed: &str) -> PatientQuery {
        let mut query = PatientQuery::default();
        for word in typed.split_whitespace() {
            if let Some(date) = typed_date(word) {
                query.birth_date = Some(date);
            } else if word.chars().any(|c| c.is_ascii_digit()) {
                query.record_number = Some(word.to_uppercase());
            } else {
                for folded in fold(word).split(' ').filter(|w| !w.is_empty()) {
                    if !query.name_words.iter().any(|w| w == folded) {
                        query.name_words.push(folded.to_owned());
                    }
                }
            }
        }
        // The longest words narrow the most.
        query.name_words.sort_by_key(|w| std::cmp::Reverse(w.len()));
        query.name_words.truncate(NAME_WORDS);
        query
    }

    pub fn is_empty(&self) -> bool {
        self.name_words.is_empty() && self.birth_date.is_none() && self.record_number.is_none()
    }
}

/// "14/03/1958", "14.03.1958", "1958-03-14": a date of birth as desks type them.
fn typed_date(word: &str) -> Option<NaiveDate> {
    ["%d/%m/%Y", "%d.%m.%Y", "%Y-%m-%d", "%d-%m-%Y"]
        .iter()
        .find_map(|format| NaiveDate::parse_from_str(word, format).ok())
}

/// One person's names as the duplicate check compares them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Names<'a> {
    pub family: &'a str,
    pub given: &'a str,
    /// The name at birth, when it differs (a married name is often the family name).
    pub birth: &'a str,
    pub birth_date: NaiveDate,
}

/// Whether two records probably name the same person: the same date of birth, and a
/// family name (or name at birth) and a given name that are alike after folding, in
/// either order (given and family names are often swapped at a desk). Alike means equal,
/// or at most one edit apart for names of five letters or more, two for ten or more
/// (a typing slip: "Durand" / "Durant").
pub fn probably_same(a: &Names, b: &Names) -> bool {
    if a.birth_date != b.birth_date {
        return false;
    }
    let family = |n: &Names| {
        [n.family, n.birth]
            .into_iter()
            .filter(|s| !s.trim().is_empty())
            .map(fold)
            .collect::<Vec<_>>()
    };
    let (a_family, b_family) = (family(a), family(b));
    let (a_given, b_given) = (fold(a.given), fold(b.given));
    let families_alike = a_family.iter().any(|x| b_family.iter().any(|y| alike(x, y)));
    if families_alike && alike(&a_given, &b_given) {
        return true;
    }
    // Swapped at the desk: one's family name is the other's given name, and back.
    a_family.iter().any(|x| alike(x, &b_given)) && b_family.iter().any(|y| alike(y, &a_given))
}

fn alike(a: &str, b: &str) -> bool {
    if a.is_empty() || b.is_empty() {
        return false;
    }
    if a == b {
        return true;
    }
    let shorter = a.chars().count().min(b.chars().count());
    let allowed = match shorter {
        0..=4 => 0,
        5..=9 => 1,
        _ => 2,
    };
    allowed > 0 && strsim::damerau_levenshtein(a, b) <= allowed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    #[test]
    fn accents_capitals_and_ligatures_fold_away() {
        for typed in ["Hélène", "helene", "HELENE", "HÉLÈNE", "Hélène "] {
            assert_eq!(fold(typed), "helene", "{typed}");
        }
        assert_eq!(fold("Œuvray"), fold("oeuvray"));
        assert_eq!(fold("Straße"), fold("strasse"));
        assert_eq!(fold("Jean-Pierre  d'Arc"), "jean pierre d arc");
        assert_eq!(fold("Ærøskøbing"), "aeroskobing");
        assert_eq!(fold("   "), "");
        assert_eq!(fold("\u{7}\u{0}"), "");
    }

    #[test]
    fn names_of_other_scripts_fold_the_same_way_each_time() {
        assert_eq!(fold("Муравьёв"), fold("МУРАВЬЁВ"));
        assert!(!fold("Муравьёв").is_empty());
        assert_eq!(fold("Ngô Bảo Châu"), "ngo bao chau");
    }

    #[test]
    fn tokens_are_the_words_once() {
        assert_eq!(tokens("Le Gall-Le Gall"), vec!["gall", "le"]);
        assert_eq!(tokens("Marie-Hélène"), vec!["helene", "marie"]);
        assert!(tokens(" - ").is_empty());
    }

    #[test]
    fn a_probable_duplicate_shares_the_birth_date_and_a_like_name() {
        let born = day(1958, 3, 14);
        let durand = Names {
            family: "Durand",
            given: "Élise",
            birth: "",
            birth_date: born,
        };
        let typo = Names {
            family: "DURANT",
            given: "elise",
            birth: "",
            birth_date: born,
        };
        let swapped = Names {
            family: "Elise",
            given: "Durand",
            birth: "",
            birth_date: born,
        };
        let married = Names {
            family: "Martin",
            given: "Elise",
            birth: "Durand",
            birth_date: born,
        };
        let other_day = Names {
            birth_date: day(1958, 3, 15),
            ..durand.clone()
        };
        let other_person = Names {
            family: "Dupont",
            given: "Élise",
            birth: "",
            birth_date: born,
        };
        assert!(probably_same(&durand, &typo));
        assert!(probably_same(&durand, &swapped));
        assert!(probably_same(&durand, &married));
        assert!(!probably_same(&durand, &other_day));
        assert!(!probably_same(&durand, &other_person));
        // Short names must match exactly: "Li" is not "Lu".
        let li = Names {
            family: "Li",
            given: "Wei",
            birth: "",
            birth_date: born,
        };
        let lu = Names {
            family: "Lu",
            given: "Wei",
            birth: "",
            birth_date: born,
        };
        assert!(!probably_same(&li, &lu));
    }

    #[test]
    fn a_search_reads_names_dates_and_record_numbers_in_any_order() {
        let query = PatientQuery::read("Durand 14/03/1958");
        assert_eq!(query.name_words, vec!["durand"]);
        assert_eq!(query.birth_date, NaiveDate::from_ymd_opt(1958, 3, 14));
        assert_eq!(query.record_number, None);
        let query = PatientQuery::read("demo-0001");
        assert_eq!(query.record_number.as_deref(), Some("DEMO-0001"));
        assert!(query.name_words.is_empty());
        let query = PatientQuery::read("1958-03-14   élise  ");
        assert_eq!(query.name_words, vec!["elise"]);
        assert!(query.birth_date.is_some());
    }

    #[test]
    fn the_longest_name_words_are_kept_once() {
        let query = PatientQuery::read("a bb ccc dddd bb");
        assert_eq!(query.name_words, vec!["dddd", "ccc", "bb"]);
    }

    #[test]
    fn an_impossible_date_is_no_date() {
        let query = PatientQuery::read("31/02/1958");
        assert_eq!(query.birth_date, None);
        assert_eq!(query.record_number.as_deref(), Some("31/02/1958"));
        assert!(PatientQuery::read("   ").is_empty());
    }
}
