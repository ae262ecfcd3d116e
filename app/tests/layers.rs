//! Dependencies run downwards (ARCHITECTURE.md, "Which way dependencies run"): a module
//! of `app/src` may use the modules of its own layer and of the layers below, never one
//! above. The uses that run upwards today are listed below, each a debt the shared-core
//! work of issue 18 removes; a new one fails this test, and one removed must leave the
//! list (so it cannot come back unnoticed).

use std::collections::BTreeSet;
use std::path::Path;

/// The layers, lowest first.
const LAYERS: &[&[&str]] = &[
    // The core every area uses.
    &["codes", "time", "error", "store", "i18n", "facility", "shell"],
    // Who works here and what they may do, and what is kept of it.
    &["staff", "audit", "auth", "accounts"],
    // The live link.
    &["live"],
    // The clinic's places, things and people cared for.
    &["clinic", "rooms", "equipment", "positioning", "patients", "care"],
    // The work done there.
    &[
        "procedures",
        "lab",
        "visits",
        "admissions",
        "interfaces",
        "board",
        "supervision",
    ],
    // The demo clinic, above everything.
    &["demo"],
];

/// Uses that run upwards today: (from, to).
const KNOWN_UPWARD: &[(&str, &str)] = &[
    ("auth", "live"),
    // i18n: the words of every area are in one place.
    ("i18n", "accounts"),
    ("i18n", "audit"),
    ("i18n", "equipment"),
    ("i18n", "lab"),
    ("i18n", "live"),
    ("i18n", "patients"),
    ("i18n", "positioning"),
    ("i18n", "procedures"),
    ("i18n", "rooms"),
    ("i18n", "staff"),
    ("live", "care"),
    ("live", "patients"),
    ("patients", "admissions"),
    ("positioning", "procedures"),
    ("rooms", "lab"),
    ("rooms", "procedures"),
    // shell: the route table and the navigation sit with the widgets.
    ("shell", "accounts"),
    ("shell", "audit"),
    ("shell", "auth"),
    ("shell", "board"),
    ("shell", "care"),
    ("shell", "clinic"),
    ("shell", "equipment"),
    ("shell", "interfaces"),
    ("shell", "lab"),
    ("shell", "live"),
    ("shell", "patients"),
    ("shell", "procedures"),
    ("shell", "rooms"),
    ("shell", "staff"),
    ("shell", "supervision"),
    ("shell", "visits"),
    ("staff", "live"),
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

/// The modules of the crate a file names through `crate::module` or `crate::{a, b}`.
fn named_modules(text: &str) -> BTreeSet<String> {
    let mut named = BTreeSet::new();
    for (at, _) in text.match_indices("crate::") {
        let rest = &text[at + "crate::".len()..];
        let names: Vec<&str> = match rest.strip_prefix('{') {
            Some(group) => group
                .split('}')
                .next()
                .unwrap_or_default()
                .split(',')
                .map(|item| item.trim().split("::").next().unwrap_or_default().trim())
                .collect(),
            None => vec![rest
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .next()
                .unwrap_or_default()],
        };
        named.extend(
            names
                .into_iter()
                .filter(|n| layer_of(n).is_some())
                .map(str::to_owned),
        );
    }
    named
}

fn rust_files(dir: &Path, found: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
    {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

#[test]
fn dependencies_run_downwards() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut upward = BTreeSet::new();
    for file in &files {
        let relative = file.strip_prefix(&src).unwrap_or(file);
        let module = relative
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .unwrap_or_default()
            .trim_end_matches(".rs");
        let Some(from) = layer_of(module) else {
            assert!(module == "lib", "{module} is in no layer: add it to LAYERS");
            continue;
        };
        let text = std::fs::read_to_string(file).unwrap_or_default();
        for named in named_modules(&text) {
            let to = layer_of(&named).unwrap_or(0);
            if to > from {
                upward.insert((module.to_owned(), named));
            }
        }
    }
    let known: BTreeSet<(String, String)> = KNOWN_UPWARD
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect();
    let new: Vec<_> = upward.difference(&known).collect();
    let gone: Vec<_> = known.difference(&upward).collect();
    assert!(
        new.is_empty(),
        "uses running upwards (a module may use its layer and those below): {new:?}"
    );
    assert!(
        gone.is_empty(),
        "no longer used upwards, take them off KNOWN_UPWARD: {gone:?}"
    );
}

#[test]
fn both_forms_of_a_use_are_read() {
    let named = named_modules("use crate::{audit::Entry, lab};\nlet x = crate::rooms::store::get();");
    assert_eq!(named.into_iter().collect::<Vec<_>>(), ["audit", "lab", "rooms"]);
}
