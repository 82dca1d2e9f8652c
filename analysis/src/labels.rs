//! The generated documents' fixed labels, in the case's language: one
//! Project Fluent catalogue per language (`locales/{fr,en}/documents.ftl`),
//! compiled in. French, production's own words, is the default.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource};
use serde::{Deserialize, Serialize};

/// The language of a case's documents.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    #[default]
    Fr,
    En,
}

impl Language {
    pub const ALL: [Language; 2] = [Language::Fr, Language::En];

    /// The language of a stored tag (`cases.language`); French for any
    /// other, as the documents were before the column existed.
    pub fn from_tag(tag: &str) -> Language {
        match tag.trim() {
            "en" => Language::En,
            _ => Language::Fr,
        }
    }

    pub fn tag(self) -> &'static str {
        match self {
            Language::Fr => "fr",
            Language::En => "en",
        }
    }

    fn catalogue(self) -> &'static Catalogue {
        &CATALOGUES[self as usize]
    }

    /// The label `id` (a catalogue entry without arguments).
    pub fn label(self, id: &str) -> &'static str {
        self.catalogue().texts.get(id).map_or("?", String::as_str)
    }

    /// The label `id` with its arguments.
    pub fn label_with(self, id: &str, args: &[(&str, &str)]) -> String {
        let bundle = &self.catalogue().bundle;
        let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) else {
            return "?".to_owned();
        };
        let mut fluent_args = FluentArgs::new();
        for (name, value) in args {
            fluent_args.set(*name, *value);
        }
        let mut errors = Vec::new();
        bundle
            .format_pattern(pattern, Some(&fluent_args), &mut errors)
            .into_owned()
    }
}

/// The catalogues' sources, in [`Language`] order.
pub const SOURCES: [(Language, &str); 2] = [
    (Language::Fr, include_str!("../locales/fr/documents.ftl")),
    (Language::En, include_str!("../locales/en/documents.ftl")),
];

struct Catalogue {
    bundle: FluentBundle<FluentResource>,
    /// The labels without arguments, resolved once.
    texts: BTreeMap<String, String>,
}

static CATALOGUES: LazyLock<[Catalogue; 2]> =
    LazyLock::new(|| SOURCES.map(|(lang, source)| catalogue(lang, source)));

/// The ids of the messages of a catalogue.
pub fn message_ids(resource: &FluentResource) -> Vec<String> {
    resource
        .entries()
        .filter_map(|entry| match entry {
            fluent_syntax::ast::Entry::Message(m) => Some(m.id.name.to_owned()),
            _ => None,
        })
        .collect()
}

fn catalogue(lang: Language, source: &str) -> Catalogue {
    // A catalogue that does not parse fails the unit tests; what parses is kept.
    let resource = FluentResource::try_new(source.to_owned()).unwrap_or_else(|(r, _)| r);
    let ids = message_ids(&resource);
    let mut bundle = FluentBundle::new_concurrent(vec![lang.tag().parse().unwrap_or_default()]);
    // Bidi isolation marks would end up in the cells and paragraphs.
    bundle.set_use_isolating(false);
    let _ = bundle.add_resource(resource);
    let mut texts = BTreeMap::new();
    for id in ids {
        let Some(pattern) = bundle.get_message(&id).and_then(|m| m.value()) else {
            continue;
        };
        let mut errors = Vec::new();
        let text = bundle.format_pattern(pattern, None, &mut errors);
        if errors.is_empty() {
            texts.insert(id, text.into_owned());
        }
    }
    Catalogue { bundle, texts }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(source: &str) -> Vec<String> {
        let resource = FluentResource::try_new(source.to_owned()).expect("parses");
        message_ids(&resource)
    }

    #[test]
    fn both_catalogues_parse_and_hold_the_same_ids() {
        let fr = ids(SOURCES[0].1);
        let en = ids(SOURCES[1].1);
        assert_eq!(
            fr, en,
            "fr/documents.ftl and en/documents.ftl differ in ids"
        );
        for (lang, source) in SOURCES {
            let resource = FluentResource::try_new(source.to_owned()).expect("parses");
            let mut bundle = FluentBundle::new_concurrent(vec![lang.tag().parse().unwrap()]);
            bundle.add_resource(resource).expect("no duplicate id");
        }
    }

    /// Every entry formats without error, with the arguments it names.
    #[test]
    fn every_label_formats_with_its_arguments() {
        let args = [
            ("part", "x"),
            ("price", "x"),
            ("source", "x"),
            ("what", "x"),
            ("supplier", "x"),
            ("parts", "x"),
            ("n", "1"),
            ("days", "1"),
            ("lead", "1"),
            ("validity", "1"),
            ("status", "x"),
            ("missing", "x"),
            ("value", "x"),
            ("name", "x"),
            ("role", "x"),
            ("at", "x"),
        ];
        for lang in Language::ALL {
            for id in ids(SOURCES[lang as usize].1) {
                let text = lang.label_with(&id, &args);
                assert!(
                    !text.is_empty() && !text.contains('{') && text != "?",
                    "{lang:?} {id}: {text}"
                );
            }
        }
        assert_eq!(
            Language::Fr.label("undecided"),
            "NON DÉCIDÉ (validation humaine requise)"
        );
        assert_eq!(
            Language::Fr.label_with("supplier-missing", &[("missing", "prix")]),
            " | Manquant: prix"
        );
        assert_eq!(Language::from_tag("en"), Language::En);
        assert_eq!(Language::from_tag(""), Language::Fr);
    }
}
