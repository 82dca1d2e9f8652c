//! Every text the pages show, in French (the users' language), by key,
//! from the Fluent catalogue `locales/fr/main.ftl` compiled into the binary.
//! Templates call `t("key")`; handlers use [`text`].
//!
//! The services refuse with typed values ([`Refusal`], [`FieldRule`]);
//! [`explain`] says them in French for the pages, by the variant.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use fluent_bundle::{FluentArgs, FluentBundle, FluentResource};
use unic_langid::LanguageIdentifier;

use crate::Error;
use crate::error::{FieldRule, Refusal};
use crate::text::Problem;
use ::analysis::AnalysisError;

/// The French catalogue, compiled into the binary (Project Fluent syntax).
const FR_FTL: &str = include_str!("locales/fr/main.ftl");

/// Every text of the catalogue without arguments, resolved once by Fluent
/// (a missing or malformed entry fails the unit tests, not a page).
static FR: LazyLock<BTreeMap<String, String>> = LazyLock::new(|| resolve(FR_FTL, "fr"));

/// The texts of one catalogue, by key (`a.b`; Fluent's id is `a-b`).
fn resolve(source: &str, lang: &str) -> BTreeMap<String, String> {
    let resource = match FluentResource::try_new(source.to_owned()) {
        Ok(r) => r,
        Err((r, errors)) => {
            tracing::error!(?errors, lang, "message catalogue has errors");
            r
        }
    };
    // A message is a line `id = value` (the catalogue has no multi-line entry).
    let ids: Vec<String> = source
        .lines()
        .filter(|line| !line.starts_with(['#', ' ']))
        .filter_map(|line| line.split_once(" = ").map(|(id, _)| id.to_owned()))
        .collect();
    let langid: LanguageIdentifier = lang.parse().unwrap_or_default();
    let mut bundle = FluentBundle::new(vec![langid]);
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
        let mut args = FluentArgs::new();
        // Placeholders stay for the caller to fill (`{n}`).
        args.set("n", "{n}");
        let value = bundle.format_pattern(pattern, Some(&args), &mut errors);
        texts.insert(id.replace('-', "."), value.into_owned());
    }
    texts
}

/// Every key of the catalogue.
pub fn keys() -> impl Iterator<Item = &'static str> {
    FR.keys().map(String::as_str)
}

/// The French text of `key`; the key itself if it has none (a test keeps
/// every key the templates use in the catalogue).
pub fn text(key: &str) -> &str {
    lookup(key).unwrap_or(key)
}

/// The French text of `key`, if there is one.
pub fn lookup(key: &str) -> Option<&'static str> {
    FR.get(key).map(String::as_str)
}

/// The French label of a form field named in a service's error.
fn field_label(field: &str) -> &str {
    match field {
        "title" => text("new.case_title"),
        "estimated_value" => text("new.value"),
        "closing_date" => text("new.closing"),
        "category_code" => text("new.category"),
        "purchase_category_code" => text("new.purchase_category"),
        "lot_number" => text("case.lot_number"),
        "supplier_name" => text("case.supplier"),
        "offer_type" => text("case.offer_type"),
        "file" => text("case.file"),
        "chosen_supplier" => text("case.decision_supplier"),
        "decision_reason" => text("case.decision_reason"),
        "next_action" => text("case.decision_next"),
        "description" => text("case.lot_description"),
        "username" => text("login.username"),
        "password" => text("login.password"),
        "email" => text("admin.email"),
        "full_name" => text("admin.name"),
        "q" => text("case.memory_search"),
        "status" => text("cases.status"),
        "page" => text("cases.page"),
        "case_type" => text("cases.type"),
        other => other,
    }
}

/// A refusal from the services, in French, by its variant, with the
/// server's own words kept beside it (so nothing is hidden).
pub fn explain(error: &Error) -> String {
    match error {
        Error::Refused(Refusal::BadCredentials) => text("login.failed").to_owned(),
        Error::Refused(refusal) => format!("{}. ({refusal})", refusal_fr(refusal)),
        Error::Validation { field, rule } => format!(
            "{} « {} » : {}",
            text("error.field"),
            field_label(field),
            rule_fr(field, rule)
        ),
        Error::Text(refusal) => format!(
            "{} « {} » : {}",
            text("error.field"),
            field_label(refusal.field.name),
            match refusal.problem {
                Problem::Forbidden(c) => {
                    format!("{} U+{:04X}", text("error.text_forbidden"), u32::from(c))
                }
                Problem::TooLong { max } => format!("{} {max}", text("error.text_too_long")),
            }
        ),
        Error::NotFound { .. } => text("error.not_found").to_owned(),
        Error::Unavailable(_) => text("error.unavailable").to_owned(),
        Error::RateLimited { .. } => text("error.rate").to_owned(),
        _ => text("error.server").to_owned(),
    }
}

/// A refusal in French.
fn refusal_fr(r: &Refusal) -> String {
    use Refusal::*;
    let same_kind = "Un document ne peut être remplacé que par un document du même type";
    let s = match r {
        BadCredentials => text("login.failed"),
        ViewerCannotCreate | ViewerCannotChange => {
            "Votre rôle (lecteur) permet de consulter, pas de modifier"
        }
        NotOwner => "Ce dossier appartient à un autre agent : vous ne pouvez pas le modifier",
        AdminOnly => "Réservé aux administrateurs",
        OwnAdminRole => {
            "Vous ne pouvez pas retirer votre propre rôle d'administrateur ni désactiver votre compte"
        }
        AccountTaken => "Ce courriel ou cet identifiant est déjà utilisé",
        CaseType => "Le type doit être DAO, RFQ ou RFP",
        LotTaken { .. } => "Ce numéro de lot existe déjà dans le dossier",
        LotOfOtherCase { .. } => "Ce lot appartient à un autre dossier",
        OwnerOrAdminOnly => {
            "Seul le responsable du dossier ou un administrateur peut faire cette modification"
        }
        ObserverReadsNoOffer => "Un observateur ne lit pas les offres",
        Sealed => "Les offres sont scellées jusqu'à leur ouverture",
        DeclarationFirst => {
            "Signez d'abord la déclaration d'impartialité de ce dossier (section Comité)"
        }
        OffersOpened => "Les offres ont été ouvertes : aucune offre ne peut plus être ajoutée",
        OwnerIsMember => "Cette personne est déjà responsable du dossier",
        ViewerObserverOnly => "Un compte lecteur ne peut être qu'observateur",
        AlreadyMember { .. } => "Cette personne fait déjà partie du comité de ce dossier",
        NotAddedMember => "Seul un membre ajouté au comité peut s'en retirer",
        NoOpeningDate => {
            "Ce dossier n'a pas de date d'ouverture : ses offres sont ouvertes depuis sa création"
        }
        AlreadyOpen => "Les offres de ce dossier sont déjà ouvertes",
        BeforeOpening { .. } => "Les offres ne peuvent être ouvertes qu'après la date d'ouverture",
        FileName { .. } => {
            "Nom de fichier refusé : n'utilisez que des lettres sans accent, des chiffres, « . », « _ » et « - », sans espace"
        }
        UnknownFileType => {
            "Type de fichier non reconnu : seuls les PDF, Word et Excel sont acceptés"
        }
        FileType { .. } => {
            "Type de fichier refusé : seuls les PDF, Word (.docx) et Excel (.xlsx) sont acceptés ; enregistrez un ancien .doc ou .xls au format .docx ou .xlsx"
        }
        ActiveContent { .. } => {
            "Fichier refusé : il contient aussi du contenu web ou un script qu'un navigateur ou Windows pourrait exécuter"
        }
        CbaTemplateNotXlsx => "Le modèle de tableau comparatif doit être un classeur Excel .xlsx",
        PvTemplateNotDocx => "Le modèle de PV doit être un document Word .docx",
        ReplaceOtherKind { .. } => same_kind,
        FileTooLarge { .. } | BodyTooLarge => "Fichier trop volumineux : 50 Mo au plus",
        FieldTooLarge => "Un champ du formulaire est trop long",
        Quota { .. } | OutputsOverQuota { .. } => {
            "Espace du dossier épuisé : 500 Mo au plus par dossier"
        }
        DaoAlreadyUploaded => "Ce dossier a déjà son DAO",
        OfferBeforeDao => "Téléversez d'abord le DAO, puis les offres",
        DuplicateOffer { .. } => {
            "Ce fournisseur a déjà une pièce de ce type dans le dossier (doublon)"
        }
        Multipart { .. } => "Le formulaire envoyé est mal formé : rechargez la page et recommencez",
        OneFilePerRequest => "Un seul fichier par envoi",
        UploadKind { .. } => "Type de document inconnu",
        UploadRate => "Trop de requêtes : patientez une minute",
        MissingDao => "Téléversez d'abord le DAO : l'analyse part de ses critères",
        MissingOffers | Document(AnalysisError::MissingOffers) => {
            "Téléversez au moins une offre avant de lancer l'analyse"
        }
        Document(AnalysisError::Unsupported { .. }) => {
            "Ce document ne peut pas être analysé (type non pris en charge)"
        }
        Document(AnalysisError::Corrupt { .. }) => {
            "Un document est illisible ou endommagé : remplacez-le, puis relancez l'analyse"
        }
        Document(AnalysisError::Encrypted { .. }) => {
            "Un document est protégé par un mot de passe : retirez-le, puis téléversez-le à nouveau"
        }
        Document(AnalysisError::OverBudget { .. }) => {
            "Un document est trop volumineux une fois décompressé : l'analyse ne peut pas le lire"
        }
        Document(AnalysisError::Write { .. } | AnalysisError::Read { .. }) => text("error.server"),
        NotAnalysed => "Lancez l'analyse du dossier avant de décider",
        NotAmongOffers { .. } => "Ce fournisseur ne fait pas partie des offres analysées",
        ShortSecret | DamagedKeyFile { .. } => text("error.server"),
    };
    s.to_owned()
}

/// A field's rule in French.
fn rule_fr(field: &str, rule: &FieldRule) -> String {
    let english = rule.message(field);
    match rule {
        FieldRule::Required | FieldRule::Length { min: 1, .. } => {
            format!("ce champ est obligatoire. ({english})")
        }
        FieldRule::PageNumber | FieldRule::Between { .. } if field == "page" => format!(
            "le numéro de page doit être un nombre entier, à partir de 1, et rester dans la liste. ({english})"
        ),
        FieldRule::WithdrawalReason => format!(
            "Indiquez le motif du retrait (1000 caractères au plus, sans caractère de contrôle). ({english})"
        ),
        FieldRule::NotANumber => "un nombre est attendu (ex. 12 500 000)".to_owned(),
        FieldRule::NoFile => "choisissez un fichier".to_owned(),
        other => format!("{}. ({english})", rule_fr_only(other)),
    }
}

/// The rules said in French only by their kind.
fn rule_fr_only(rule: &FieldRule) -> String {
    use FieldRule::*;
    match rule {
        Negative | NotNonNegative => "la valeur ne peut pas être négative".to_owned(),
        AmountTooLarge => "la valeur doit rester sous 10 000 000 000".to_owned(),
        OneOf(allowed) | InputOneOf(allowed) => format!("valeurs admises : {}", allowed.join(", ")),
        UnknownCategory(code) | UnknownPurchaseCategory(code) => {
            format!("catégorie inconnue : {code}")
        }
        NotADate => "une date est attendue (2026-12-31 ou 2026-12-31T17:00:00Z)".to_owned(),
        Length { min, max } | StringLength { min, max } => {
            format!("de {min} à {max} caractères")
        }
        StringMin(min) => format!("{min} caractères au moins"),
        Between { min, max } => format!("un nombre entre {min} et {max} est attendu"),
        Email => "une adresse de courriel est attendue".to_owned(),
        SpaceAtEnds => "ne doit ni commencer ni finir par une espace".to_owned(),
        Name(_) => "contient un caractère invisible ou de contrôle".to_owned(),
        NotOnCommittee(id) => format!("l'utilisateur n°{id} n'est pas membre du comité"),
        Required | WithdrawalReason | NotANumber | NoFile | PageNumber => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_parses_whole_without_duplicates() {
        let resource = FluentResource::try_new(FR_FTL.to_owned()).expect("fr/main.ftl parses");
        let mut bundle = FluentBundle::new(vec!["fr".parse::<LanguageIdentifier>().unwrap()]);
        bundle.add_resource(resource).expect("no duplicate id");
        let lines = FR_FTL.lines().filter(|l| l.contains(" = ")).count();
        assert_eq!(keys().count(), lines, "every entry resolves");
        assert_eq!(text("case.lots"), "Lots");
        assert_eq!(
            text("analysis.waiting").replace("{n}", "2"),
            "Analyse en attente — 2 avant vous"
        );
    }

    #[test]
    fn refusals_are_said_in_french_with_the_server_words() {
        let said = explain(&Refusal::DaoAlreadyUploaded.into());
        assert!(said.starts_with("Ce dossier a déjà son DAO"), "{said}");
        assert!(said.contains("DAO already uploaded"), "{said}");
        let e = crate::error::invalid_field("title", FieldRule::Required);
        assert!(explain(&e).contains("Titre du dossier"));
    }

    #[test]
    fn analysis_refusals_are_said_in_french_naming_the_file() {
        let said = explain(&Refusal::MissingDao.into());
        assert!(said.starts_with("Téléversez d'abord le DAO"), "{said}");
        let said = explain(&Refusal::MissingOffers.into());
        assert!(said.starts_with("Téléversez au moins une offre"), "{said}");
        let e = Refusal::Document(AnalysisError::Corrupt {
            filename: "offre.pdf".into(),
            reason: "no trailer".into(),
        });
        let said = explain(&e.into());
        assert!(said.starts_with("Un document est illisible"), "{said}");
        assert!(said.contains("offre.pdf"), "{said}");
    }
}
