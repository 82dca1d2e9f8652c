//! Every text the pages show, by key, in French and in English, from the
//! Fluent catalogues `locales/{fr,en}/main.ftl` compiled into the binary.
//! Templates call `t("key")`; handlers call [`Lang::text`] and, for a
//! text with values, [`Lang::format`].
//!
//! The services refuse with typed values ([`Refusal`], [`FieldRule`]);
//! [`explain`] says them in the request's language: the only Rust here is
//! the table from a variant to its catalogue entry and arguments.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use unic_langid::LanguageIdentifier;

use crate::Error;
use crate::error::{FieldRule, NameProblem, Refusal};
use crate::text::Problem;
use ::analysis::AnalysisError;

/// A language of the pages.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Lang {
    /// The users' language, and the default.
    #[default]
    Fr,
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::Fr, Lang::En];

    /// The language's tag, as stored (`users.language`, the cookie) and as
    /// the pages' `lang` attribute.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::En => "en",
        }
    }

    /// The language of a stored or submitted tag; `None` for any other.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        Lang::ALL.into_iter().find(|l| l.tag() == tag.trim())
    }

    /// The language a browser asks for in `Accept-Language`, if it names
    /// one of ours (Fluent's negotiation: `en-GB` is English).
    pub fn negotiate(accept_language: &str) -> Option<Lang> {
        let requested = fluent_langneg::parse_accepted_languages(accept_language);
        let available: Vec<LanguageIdentifier> = Lang::ALL
            .iter()
            .filter_map(|l| l.tag().parse().ok())
            .collect();
        let chosen = fluent_langneg::negotiate_languages(
            &requested,
            &available,
            None,
            fluent_langneg::NegotiationStrategy::Lookup,
        );
        chosen
            .first()
            .and_then(|id| Lang::from_tag(id.language.as_str()))
    }

    /// Every key of this language's catalogue that has a text without arguments.
    pub fn keys(self) -> impl Iterator<Item = &'static str> {
        self.catalogue().texts.keys().map(String::as_str)
    }

    fn catalogue(self) -> &'static Catalogue {
        &CATALOGUES[self as usize]
    }

    /// The text of `key`; the key itself if it has none (tests keep every
    /// key the code and the templates use in both catalogues).
    pub fn text(self, key: &str) -> &'static str {
        self.lookup(key).unwrap_or_else(|| {
            tracing::error!(key, lang = self.tag(), "no text for key");
            "?"
        })
    }

    /// The text of `key` without arguments, if there is one.
    pub fn lookup(self, key: &str) -> Option<&'static str> {
        self.catalogue().texts.get(key).map(String::as_str)
    }

    /// The text of `key` with `args` (Fluent's `{ $name }` placeholders).
    pub fn format(self, key: &str, args: &[(&str, FluentValue<'_>)]) -> String {
        let catalogue = self.catalogue();
        let Some(pattern) = catalogue
            .bundle
            .get_message(&fluent_id(key))
            .and_then(|m| m.value())
        else {
            tracing::error!(key, lang = self.tag(), "no text for key");
            return "?".to_owned();
        };
        let mut fluent_args = FluentArgs::new();
        for (name, value) in args {
            fluent_args.set(*name, value.clone());
        }
        let mut errors = Vec::new();
        let text = catalogue
            .bundle
            .format_pattern(pattern, Some(&fluent_args), &mut errors);
        if !errors.is_empty() {
            tracing::error!(key, lang = self.tag(), ?errors, "a text lacks a value");
        }
        text.into_owned()
    }
}

/// The catalogues' sources (Project Fluent syntax), by [`Lang`] order.
pub const SOURCES: [(Lang, &str); 2] = [
    (Lang::Fr, include_str!("locales/fr/main.ftl")),
    (Lang::En, include_str!("locales/en/main.ftl")),
];

/// One language's catalogue: Fluent's bundle, and its texts without
/// arguments resolved once (a page's texts cost a map lookup).
struct Catalogue {
    bundle: FluentBundle<FluentResource>,
    texts: BTreeMap<String, String>,
}

static CATALOGUES: LazyLock<[Catalogue; 2]> =
    LazyLock::new(|| SOURCES.map(|(lang, source)| catalogue(source, lang.tag())));

/// The key `a.b` is Fluent's id `a-b` (Fluent ids hold no dot).
fn fluent_id(key: &str) -> String {
    key.replace('.', "-")
}

/// The ids of the messages of `resource`.
pub fn message_ids(resource: &FluentResource) -> Vec<String> {
    resource
        .entries()
        .filter_map(|entry| match entry {
            fluent_syntax::ast::Entry::Message(m) => Some(m.id.name.to_owned()),
            _ => None,
        })
        .collect()
}

fn catalogue(source: &str, lang: &str) -> Catalogue {
    let resource = match FluentResource::try_new(source.to_owned()) {
        Ok(r) => r,
        Err((r, errors)) => {
            tracing::error!(?errors, lang, "message catalogue has errors");
            r
        }
    };
    let ids = message_ids(&resource);
    let langid: LanguageIdentifier = lang.parse().unwrap_or_default();
    let mut bundle = FluentBundle::new_concurrent(vec![langid]);
    // Bidi isolation marks would end up in attributes and tests' strings.
    bundle.set_use_isolating(false);
    if let Err(errors) = bundle.add_resource(resource) {
        tracing::error!(?errors, lang, "message catalogue has duplicates");
    }
    let mut texts = BTreeMap::new();
    for id in ids {
        let Some(pattern) = bundle.get_message(&id).and_then(|m| m.value()) else {
            continue;
        };
        let mut errors = Vec::new();
        let value = bundle.format_pattern(pattern, None, &mut errors);
        // A text with arguments is only given by `format`.
        if errors.is_empty() {
            texts.insert(id.replace('-', "."), value.into_owned());
        }
    }
    Catalogue { bundle, texts }
}

/// The catalogue key of the label of a form field named in a service's error.
fn field_label(field: &str) -> Option<&'static str> {
    Some(match field {
        "title" => "new.case_title",
        "estimated_value" => "new.value",
        "closing_date" => "new.closing",
        "category_code" => "new.category",
        "purchase_category_code" => "new.purchase_category",
        "language" => "new.language",
        "lot_number" => "case.lot_number",
        "supplier_name" => "case.supplier",
        "offer_type" => "case.offer_type",
        "file" => "case.file",
        "chosen_supplier" => "case.decision_supplier",
        "decision_reason" => "case.decision_reason",
        "next_action" => "case.decision_next",
        "description" => "case.lot_description",
        "username" => "login.username",
        "password" => "login.password",
        "email" => "admin.email",
        "full_name" => "admin.name",
        "q" => "case.memory_search",
        "status" => "cases.status",
        "page" => "cases.page",
        "case_type" => "cases.type",
        _ => return None,
    })
}

/// A value for a catalogue argument.
fn arg<'a>(value: impl Into<FluentValue<'a>>) -> FluentValue<'a> {
    value.into()
}

/// Megabytes as the refusals show them (`12.34`).
fn mb(bytes: i64) -> String {
    format!("{:.2}", bytes as f64 / 1_048_576.0)
}

/// A refusal from the services, in `lang`, by its variant.
pub fn explain(lang: Lang, error: &Error) -> String {
    match error {
        Error::Refused(refusal) => {
            let (key, args) = refusal_entry(refusal);
            lang.format(key, &args)
        }
        Error::Validation { field, rule } => {
            let (key, args) = rule_entry(field, rule);
            field_refused(lang, field, lang.format(key, &args))
        }
        Error::Text(refusal) => {
            let rule = match refusal.problem {
                Problem::Forbidden(c) => lang.format(
                    "rule.text_forbidden",
                    &[("char", arg(format!("U+{:04X}", u32::from(c))))],
                ),
                Problem::TooLong { max } => lang.format("rule.text_too_long", &[("max", arg(max))]),
            };
            field_refused(lang, refusal.field.name, rule)
        }
        Error::NotFound { .. } => lang.text("error.not_found").to_owned(),
        Error::Unavailable(_) => lang.text("error.unavailable").to_owned(),
        Error::RateLimited { .. } => lang.text("error.rate").to_owned(),
        _ => lang.text("error.server").to_owned(),
    }
}

/// "Field « label »: rule" in `lang`.
fn field_refused(lang: Lang, field: &str, rule: String) -> String {
    let label = field_label(field).map_or(field, |key| lang.text(key));
    lang.format(
        "error.field_refused",
        &[("field", arg(label)), ("rule", arg(rule))],
    )
}

/// The catalogue entry of each refusal, with its values.
fn refusal_entry(r: &Refusal) -> (&'static str, Vec<(&'static str, FluentValue<'_>)>) {
    use Refusal::*;
    let none = Vec::new();
    match r {
        BadCredentials => ("login.failed", none),
        ViewerCannotCreate => ("refusal.viewer_cannot_create", none),
        ViewerCannotChange => ("refusal.viewer_cannot_change", none),
        NotOwner => ("refusal.not_owner", none),
        AdminOnly => ("refusal.admin_only", none),
        OwnAdminRole => ("refusal.own_admin_role", none),
        AccountTaken => ("refusal.account_taken", none),
        CaseType => ("refusal.case_type", none),
        LotTaken { lot_number } => ("refusal.lot_taken", vec![("lot", arg(lot_number.as_str()))]),
        LotOfOtherCase { .. } => ("refusal.lot_of_other_case", none),
        OwnerOrAdminOnly => ("refusal.owner_or_admin_only", none),
        ObserverReadsNoOffer => ("refusal.observer_reads_no_offer", none),
        Sealed => ("refusal.sealed", none),
        DeclarationFirst => ("refusal.declaration_first", none),
        OffersOpened => ("refusal.offers_opened", none),
        OwnerIsMember => ("refusal.owner_is_member", none),
        ViewerObserverOnly => ("refusal.viewer_observer_only", none),
        AlreadyMember { username } => (
            "refusal.already_member",
            vec![("username", arg(username.as_str()))],
        ),
        NotAddedMember => ("refusal.not_added_member", none),
        NoOpeningDate => ("refusal.no_opening_date", none),
        AlreadyOpen => ("refusal.already_open", none),
        BeforeOpening { closing } => (
            "refusal.before_opening",
            vec![("closing", arg(closing.as_str()))],
        ),
        FileName { name } => ("refusal.file_name", vec![("name", arg(name.as_str()))]),
        UnknownFileType => ("refusal.unknown_file_type", none),
        FileType { mime, legacy } => (
            "refusal.file_type",
            vec![
                ("mime", arg(mime.as_str())),
                ("legacy", arg(if *legacy { "yes" } else { "no" })),
            ],
        ),
        ActiveContent { mime, .. } => {
            ("refusal.active_content", vec![("mime", arg(mime.as_str()))])
        }
        CbaTemplateNotXlsx => ("refusal.cba_template_not_xlsx", none),
        PvTemplateNotDocx => ("refusal.pv_template_not_docx", none),
        ReplaceOtherKind { kind } => ("refusal.replace_other_kind", vec![("kind", arg(*kind))]),
        FileTooLarge { .. } => ("refusal.file_too_large", none),
        BodyTooLarge => ("refusal.body_too_large", none),
        FieldTooLarge => ("refusal.field_too_large", none),
        Quota { used_bytes } => ("refusal.quota", vec![("used", arg(mb(*used_bytes)))]),
        OutputsOverQuota { used_bytes } => (
            "refusal.outputs_over_quota",
            vec![("used", arg(mb(*used_bytes)))],
        ),
        DaoAlreadyUploaded => ("refusal.dao_already_uploaded", none),
        OfferBeforeDao => ("refusal.offer_before_dao", none),
        DuplicateOffer { supplier, .. } => (
            "refusal.duplicate_offer",
            vec![("supplier", arg(supplier.as_str()))],
        ),
        Multipart { .. } => ("refusal.multipart", none),
        OneFilePerRequest => ("refusal.one_file_per_request", none),
        UploadKind { .. } => ("refusal.upload_kind", none),
        UploadRate => ("refusal.upload_rate", none),
        MissingDao => ("refusal.missing_dao", none),
        MissingOffers | Document(AnalysisError::MissingOffers) => ("refusal.missing_offers", none),
        Document(AnalysisError::Unsupported { filename, .. }) => (
            "refusal.document_unsupported",
            vec![("file", arg(filename.as_str()))],
        ),
        Document(AnalysisError::Corrupt { filename, .. }) => (
            "refusal.document_corrupt",
            vec![("file", arg(filename.as_str()))],
        ),
        Document(AnalysisError::Encrypted { filename }) => (
            "refusal.document_encrypted",
            vec![("file", arg(filename.as_str()))],
        ),
        Document(AnalysisError::OverBudget { filename, .. }) => (
            "refusal.document_over_budget",
            vec![("file", arg(filename.as_str()))],
        ),
        NotAnalysed => ("refusal.not_analysed", none),
        NotAmongOffers { name } => (
            "refusal.not_among_offers",
            vec![("name", arg(name.as_str()))],
        ),
        Document(AnalysisError::Write { .. } | AnalysisError::Read { .. })
        | ShortSecret
        | DamagedKeyFile { .. } => ("error.server", none),
    }
}

/// The catalogue entry of each field rule, with its values.
fn rule_entry<'a>(
    field: &str,
    rule: &'a FieldRule,
) -> (&'static str, Vec<(&'static str, FluentValue<'a>)>) {
    use FieldRule::*;
    let none = Vec::new();
    match rule {
        Required | Length { min: 1, .. } => ("rule.required", none),
        PageNumber => ("rule.page_number", none),
        Between { .. } if field == "page" => ("rule.page_number", none),
        WithdrawalReason => ("rule.withdrawal_reason", none),
        NotANumber => ("rule.not_a_number", none),
        NoFile => ("rule.no_file", none),
        Negative | NotNonNegative => ("rule.negative", none),
        AmountTooLarge => ("rule.amount_too_large", none),
        OneOf(allowed) | InputOneOf(allowed) => {
            ("rule.one_of", vec![("allowed", arg(allowed.join(", ")))])
        }
        UnknownCategory(code) | UnknownPurchaseCategory(code) => {
            ("rule.unknown_category", vec![("code", arg(code.as_str()))])
        }
        NotADate => ("rule.not_a_date", none),
        Length { min, max } | StringLength { min, max } => {
            ("rule.length", vec![("min", arg(*min)), ("max", arg(*max))])
        }
        StringMin(min) => ("rule.string_min", vec![("min", arg(*min))]),
        Between { min, max } => ("rule.between", vec![("min", arg(*min)), ("max", arg(*max))]),
        Email => ("rule.email", none),
        SpaceAtEnds => ("rule.space_at_ends", none),
        Name(NameProblem::Bidi | NameProblem::Control | NameProblem::Invisible) => {
            ("rule.name", none)
        }
        NotOnCommittee(id) => ("rule.not_on_committee", vec![("id", arg(*id))]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogues_parse_whole_without_duplicates() {
        for (lang, source) in SOURCES {
            let resource = FluentResource::try_new(source.to_owned())
                .unwrap_or_else(|(_, e)| panic!("{lang:?}: {e:?}"));
            let ids = message_ids(&resource);
            let mut bundle = FluentBundle::new_concurrent(vec![lang.tag().parse().unwrap()]);
            bundle.add_resource(resource).expect("no duplicate id");
            // Every message has a value (a text or a pattern).
            for id in ids {
                let message = bundle.get_message(&id);
                assert!(message.and_then(|m| m.value()).is_some(), "{lang:?}: {id}");
            }
        }
        assert_eq!(Lang::Fr.text("case.lots"), "Lots");
        assert_eq!(
            Lang::Fr.format("analysis.waiting", &[("n", arg(2))]),
            "Analyse en attente — 2 avant vous"
        );
        assert_eq!(
            Lang::En.format("analysis.waiting", &[("n", arg(2))]),
            "Analysis waiting — 2 ahead of you"
        );
    }

    #[test]
    fn every_key_is_in_both_catalogues() {
        let ids = |source: &str| {
            let resource = FluentResource::try_new(source.to_owned()).expect("parses");
            message_ids(&resource)
        };
        let fr = ids(SOURCES[0].1);
        let en = ids(SOURCES[1].1);
        let missing_en: Vec<_> = fr.iter().filter(|k| !en.contains(k)).collect();
        let missing_fr: Vec<_> = en.iter().filter(|k| !fr.contains(k)).collect();
        assert!(missing_en.is_empty(), "not in en/main.ftl: {missing_en:?}");
        assert!(missing_fr.is_empty(), "not in fr/main.ftl: {missing_fr:?}");
    }

    /// Every refusal and every field rule, as the services give them.
    fn every_error() -> Vec<Error> {
        use Refusal::*;
        let doc = |e| Error::from(Document(e));
        let mut all: Vec<Error> = vec![
            BadCredentials,
            ViewerCannotCreate,
            ViewerCannotChange,
            NotOwner,
            AdminOnly,
            OwnAdminRole,
            AccountTaken,
            CaseType,
            LotTaken {
                lot_number: "L7".into(),
            },
            LotOfOtherCase {
                lot_id: "l".into(),
                case_id: "c".into(),
            },
            OwnerOrAdminOnly,
            ObserverReadsNoOffer,
            Sealed,
            DeclarationFirst,
            OffersOpened,
            OwnerIsMember,
            ViewerObserverOnly,
            AlreadyMember {
                username: "awa.traore".into(),
            },
            NotAddedMember,
            NoOpeningDate,
            AlreadyOpen,
            BeforeOpening {
                closing: "2026-12-31".into(),
            },
            FileName {
                name: "a b.pdf".into(),
            },
            UnknownFileType,
            FileType {
                mime: "application/msword".into(),
                legacy: true,
            },
            FileType {
                mime: "image/png".into(),
                legacy: false,
            },
            ActiveContent {
                mime: "application/pdf".into(),
                marker: "<script".into(),
            },
            CbaTemplateNotXlsx,
            PvTemplateNotDocx,
            ReplaceOtherKind { kind: "dao" },
            FileTooLarge { size: 60_000_000 },
            BodyTooLarge,
            FieldTooLarge,
            Quota {
                used_bytes: 524_288_000,
            },
            OutputsOverQuota {
                used_bytes: 524_288_000,
            },
            DaoAlreadyUploaded,
            OfferBeforeDao,
            DuplicateOffer {
                supplier: "ACME".into(),
                offer_type: "technique".into(),
            },
            Multipart {
                reason: "eof".into(),
            },
            OneFilePerRequest,
            UploadKind { kind: "x".into() },
            UploadRate,
            MissingDao,
            MissingOffers,
            NotAnalysed,
            NotAmongOffers {
                name: "ACME".into(),
            },
        ]
        .into_iter()
        .map(Error::from)
        .collect();
        all.extend([
            doc(AnalysisError::MissingOffers),
            doc(AnalysisError::Corrupt {
                filename: "offre.pdf".into(),
                reason: "r".into(),
            }),
            doc(AnalysisError::Encrypted {
                filename: "offre.pdf".into(),
            }),
            doc(AnalysisError::Unsupported {
                filename: "offre.pdf".into(),
                found: "x".into(),
                expected: "y",
            }),
        ]);
        use FieldRule::*;
        for (field, rule) in [
            ("title", Required),
            ("page", PageNumber),
            ("page", Between { min: 1, max: 9 }),
            ("reason", WithdrawalReason),
            ("estimated_value", NotANumber),
            ("file", NoFile),
            ("estimated_value", Negative),
            ("estimated_value", NotNonNegative),
            ("estimated_value", AmountTooLarge),
            ("status", OneOf(vec!["draft", "open"])),
            ("case_type", InputOneOf(vec!["DAO"])),
            ("category_code", UnknownCategory("X".into())),
            (
                "purchase_category_code",
                UnknownPurchaseCategory("X".into()),
            ),
            ("closing_date", NotADate),
            ("title", Length { min: 3, max: 9 }),
            ("password", StringLength { min: 8, max: 9 }),
            ("password", StringMin(8)),
            ("lot_number", Between { min: 1, max: 9 }),
            ("email", Email),
            ("username", SpaceAtEnds),
            ("username", Name(NameProblem::Bidi)),
            ("present", NotOnCommittee(7)),
        ] {
            all.push(crate::error::invalid_field(field, rule));
        }
        all
    }

    /// Every refusal has its entry in both languages, and every value it
    /// carries finds its placeholder: nothing raw reaches a page.
    #[test]
    fn every_refusal_is_said_in_both_languages_with_its_values() {
        for lang in Lang::ALL {
            for e in every_error() {
                let said = explain(lang, &e);
                assert!(
                    !said.is_empty() && !said.contains('{') && !said.contains('?'),
                    "{lang:?} {e:?}: {said}"
                );
                assert!(!said.contains("refusal."), "{lang:?} {e:?}: {said}");
            }
        }
        let said = explain(Lang::Fr, &Refusal::DaoAlreadyUploaded.into());
        assert_eq!(said, "Ce dossier a déjà son DAO.");
        let said = explain(Lang::En, &Refusal::DaoAlreadyUploaded.into());
        assert_eq!(said, "This case already has its DAO.");
        let e = crate::error::invalid_field("title", FieldRule::Required);
        assert!(explain(Lang::Fr, &e).contains("Titre du dossier"));
        assert!(explain(Lang::En, &e).contains("Case title"));
        let e = Refusal::LotTaken {
            lot_number: "L7".into(),
        };
        assert!(explain(Lang::En, &e.into()).contains("L7"));
    }

    #[test]
    fn analysis_refusals_name_the_file() {
        let e = Refusal::Document(AnalysisError::Corrupt {
            filename: "offre.pdf".into(),
            reason: "no trailer".into(),
        });
        let said = explain(Lang::Fr, &e.into());
        assert!(said.starts_with("Un document est illisible"), "{said}");
        assert!(said.contains("offre.pdf"), "{said}");
    }

    #[test]
    fn accept_language_picks_one_of_ours() {
        assert_eq!(Lang::negotiate("en-GB,en;q=0.9"), Some(Lang::En));
        assert_eq!(Lang::negotiate("fr-FR, en;q=0.5"), Some(Lang::Fr));
        assert_eq!(Lang::negotiate("de-DE, en-US;q=0.5"), Some(Lang::En));
        assert_eq!(Lang::negotiate("de, pt"), None);
        assert_eq!(Lang::negotiate(""), None);
        assert_eq!(Lang::from_tag("en"), Some(Lang::En));
        assert_eq!(Lang::from_tag("xx"), None);
    }
}
