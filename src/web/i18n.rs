//! Every text the pages show, in French (the users' language), by key.
//! Templates call `t("key")`; handlers use [`text`]. An English table can
//! follow beside [`FR`] with the same keys.
//!
//! The server's refusals come from the services in English (they are the
//! API's contract); [`explain`] says them in French for the pages.

use crate::Error;
use crate::error::{FieldRule, Refusal};
use crate::text::Problem;
use ::analysis::AnalysisError;

/// The French texts.
pub const FR: &[(&str, &str)] = &[
    ("app.name", "Mémoire des décisions d'achat"),
    ("app.short", "DMS"),
    ("nav.cases", "Dossiers"),
    ("nav.new_case", "Nouveau dossier"),
    ("nav.admin", "Administration"),
    ("nav.sign_out", "Se déconnecter"),
    ("nav.signed_in_as", "Connecté :"),
    ("nav.skip", "Aller au contenu"),
    ("role.admin", "administrateur"),
    ("role.procurement_officer", "agent des achats"),
    ("role.viewer", "lecteur"),
    ("login.title", "Connexion"),
    ("login.username", "Identifiant"),
    ("login.password", "Mot de passe"),
    ("login.submit", "Se connecter"),
    (
        "login.failed",
        "Identifiant ou mot de passe incorrect, ou compte désactivé.",
    ),
    ("login.signed_out", "Vous êtes déconnecté."),
    ("password.title", "Changer le mot de passe"),
    (
        "password.seeded",
        "Ce compte a encore le mot de passe installé par défaut, que tout le monde connaît : choisissez-en un autre avant de continuer.",
    ),
    ("password.current", "Mot de passe actuel"),
    (
        "password.new",
        "Nouveau mot de passe (8 caractères au moins)",
    ),
    ("password.confirm", "Nouveau mot de passe, une seconde fois"),
    ("password.submit", "Changer le mot de passe et se connecter"),
    (
        "password.mismatch",
        "Les deux nouveaux mots de passe diffèrent.",
    ),
    (
        "password.same",
        "Choisissez un mot de passe autre que celui installé par défaut.",
    ),
    (
        "password.short",
        "Le nouveau mot de passe doit avoir 8 caractères au moins.",
    ),
    (
        "login.expired",
        "Votre session a expiré : reconnectez-vous.",
    ),
    ("cases.title", "Dossiers"),
    ("cases.search", "Rechercher (titre ou référence)"),
    ("cases.status", "Statut"),
    ("cases.type", "Type"),
    ("cases.all", "Tous"),
    ("cases.mine", "Mes dossiers seulement"),
    ("cases.filter", "Filtrer"),
    ("cases.none", "Aucun dossier ne correspond."),
    ("cases.count", "dossier(s)"),
    ("cases.previous", "Page précédente"),
    ("cases.next", "Page suivante"),
    ("cases.page", "Page"),
    ("cases.reference", "Référence"),
    ("cases.case_title", "Titre"),
    ("cases.created", "Créé le"),
    ("cases.closing", "Clôture"),
    ("status.open", "ouvert"),
    ("status.closed", "clos"),
    ("status.decided", "décidé"),
    ("status.analyzed", "analysé"),
    ("new.title", "Nouveau dossier"),
    ("new.type", "Type de procédure"),
    ("new.type.DAO", "DAO — appel d'offres"),
    ("new.type.RFQ", "RFQ — demande de cotation"),
    ("new.type.RFP", "RFP — demande de propositions"),
    ("new.case_title", "Titre du dossier"),
    ("new.value", "Valeur estimée (USD)"),
    (
        "new.value_help",
        "La procédure que les seuils imposent est indiquée ci-dessous et après la création.",
    ),
    ("new.thresholds", "Seuils de procédure"),
    ("new.threshold_from", "à partir de"),
    ("new.threshold_to", "jusqu'à"),
    ("new.threshold_suppliers", "fournisseurs au minimum"),
    ("new.closing", "Date de clôture"),
    ("new.category", "Catégorie d'achat"),
    ("new.purchase_category", "Famille d'achat"),
    ("new.none", "— aucune —"),
    ("new.submit", "Créer le dossier"),
    (
        "new.forbidden",
        "Votre rôle (lecteur) permet de consulter les dossiers, pas d'en créer.",
    ),
    ("case.created", "Dossier créé. Sa référence :"),
    ("case.procedure", "Procédure exigée par les seuils"),
    ("case.min_suppliers", "fournisseurs au minimum"),
    ("case.reference", "Référence"),
    ("case.status", "Statut"),
    ("case.type", "Type"),
    ("case.value", "Valeur estimée"),
    ("case.closing", "Clôture"),
    ("case.owner_you", "Vous êtes responsable de ce dossier."),
    (
        "case.read_only",
        "Lecture seule : vous pouvez consulter ce dossier mais pas le modifier.",
    ),
    ("case.lots", "Lots"),
    ("case.no_lots", "Aucun lot."),
    ("case.lot_number", "Numéro du lot"),
    ("case.lot_description", "Description du lot"),
    ("case.add_lot", "Ajouter le lot"),
    ("case.documents", "Documents"),
    ("case.dao", "Dossier d'appel d'offres (DAO)"),
    ("case.no_dao", "Aucun DAO téléversé."),
    ("case.upload_dao", "Téléverser le DAO"),
    ("case.offers", "Offres par fournisseur"),
    ("case.no_offers", "Aucune offre."),
    ("case.upload_offer", "Téléverser une offre"),
    ("case.supplier", "Fournisseur"),
    ("case.offer_type", "Type de pièce"),
    ("case.offer_type.technique", "offre technique"),
    ("case.offer_type.financiere", "offre financière"),
    ("case.offer_type.administrative", "pièces administratives"),
    ("case.offer_type.registre", "registre"),
    ("case.lot", "Lot"),
    ("case.no_lot", "— sans lot —"),
    ("case.file", "Fichier (PDF, Word ou Excel, 50 Mo au plus)"),
    ("case.files", "Fichiers (glisser-déposer possible)"),
    (
        "case.drop",
        "Déposez les fichiers ici ou choisissez-les ci-dessus.",
    ),
    ("case.templates", "Modèles"),
    (
        "case.cba_template",
        "Modèle de tableau comparatif (Excel .xlsx)",
    ),
    ("case.pv_template", "Modèle de procès-verbal (Word .docx)"),
    ("case.upload_template", "Téléverser le modèle"),
    ("case.no_templates", "Aucun modèle."),
    ("case.withdraw", "Retirer"),
    ("case.withdraw_reason", "Motif du retrait"),
    ("case.withdrawn", "Documents retirés"),
    ("case.withdrawn_on", "retiré le"),
    ("case.withdrawn_dao", "DAO"),
    ("case.withdrawn_offer", "Offre"),
    (
        "case.withdrawn_cba_template",
        "Modèle de tableau comparatif",
    ),
    ("case.withdrawn_pv_template", "Modèle de PV"),
    ("case.send", "Envoyer"),
    ("case.uploaded", "Fichier reçu :"),
    ("case.late", "hors délai"),
    ("case.quota", "Espace utilisé par le dossier"),
    ("case.quota_of", "sur 500 Mo"),
    ("case.analysis", "Analyse des offres"),
    (
        "case.analysis_intro",
        "L'analyse extrait les critères du DAO et les données des offres, signale les manques (REVUE MANUELLE) et prépare le tableau comparatif (CBA) et le PV. Elle ne note, ne classe et ne recommande rien.",
    ),
    ("case.analysis_run", "Lancer l'analyse"),
    ("case.analysis_rerun", "Relancer l'analyse"),
    (
        "case.analysis_done",
        "Analyse terminée : le tableau comparatif et le PV sont prêts.",
    ),
    (
        "case.download_cba",
        "Télécharger le tableau comparatif (Excel)",
    ),
    ("case.download_pv", "Télécharger le PV (Word)"),
    ("case.decision", "Décision du comité"),
    ("case.decision_supplier", "Fournisseur retenu"),
    ("case.decision_reason", "Motif de la décision"),
    ("case.decision_next", "Prochaine étape"),
    ("case.decision_submit", "Enregistrer la décision"),
    (
        "case.decision_none",
        "Lancez d'abord l'analyse : la décision porte sur les fournisseurs analysés.",
    ),
    ("case.decision_saved", "Décision enregistrée."),
    ("case.lot_saved", "Lot ajouté."),
    (
        "analysis.busy",
        "Analyse en cours : lecture du DAO et des offres, préparation du tableau comparatif et du PV…",
    ),
    ("analysis.waiting", "Analyse en attente — {n} avant vous"),
    ("analysis.running", "Analyse en cours"),
    (
        "analysis.refreshing",
        "Cette page se met à jour d'elle-même jusqu'à la fin de l'analyse.",
    ),
    (
        "analysis.queued",
        "Analyse en attente : le serveur la lance dès qu'il le peut.",
    ),
    (
        "analysis.queue_full",
        "Trop d'analyses sont en attente sur le serveur : réessayez dans quelques minutes.",
    ),
    ("analysis.failed", "La dernière analyse demandée a échoué"),
    ("analysis.run_at", "Dernière analyse :"),
    ("analysis.criteria_count", "critère(s)"),
    ("analysis.suppliers_count", "fournisseur(s) analysé(s)"),
    (
        "analysis.none",
        "Aucune analyse pour l'instant : téléversez le DAO et les offres, puis lancez l'analyse. Le tableau comparatif et le PV seront alors téléchargeables.",
    ),
    ("analysis.criteria", "Critères du DAO"),
    (
        "analysis.criteria_caption",
        "Critères extraits du DAO, dans l'ordre du DAO",
    ),
    (
        "analysis.no_criteria",
        "Aucun critère trouvé dans le DAO : vérifiez le document (revue manuelle).",
    ),
    ("analysis.packages", "Dossiers des fournisseurs"),
    (
        "analysis.left_out",
        "Fournisseurs absents du tableau comparatif (à reporter à la main) :",
    ),
    (
        "analysis.manual_review",
        "Documents à lire par une personne :",
    ),
    ("criteria.category", "Catégorie"),
    ("criteria.name", "Critère"),
    ("criteria.weight", "Pondération"),
    ("criteria.essential", "Éliminatoire"),
    ("criteria.essential_yes", "Oui (critère essentiel)"),
    ("criteria.essential_no", "Non"),
    ("criteria.no_weight", "sans pondération"),
    ("criteria.category.essentiels", "Essentiel (éliminatoire)"),
    ("criteria.category.commercial", "Commercial"),
    ("criteria.category.technique", "Technique"),
    ("criteria.category.durabilite", "Durabilité"),
    ("criteria.category.autre", "Autre"),
    ("package.status", "Dossier"),
    ("package.status.COMPLETE", "complet"),
    ("package.status.PARTIAL", "partiel"),
    ("package.status.MISSING", "incomplet"),
    ("package.documents", "document(s)"),
    ("package.parts", "Pièces du dossier"),
    ("package.part.admin", "Pièces administratives"),
    ("package.part.technical", "Offre technique"),
    ("package.part.financial", "Offre financière"),
    ("package.present", "présente"),
    ("package.missing", "MANQUANTE"),
    (
        "package.missing_fields",
        "Données manquantes (revue manuelle) :",
    ),
    ("package.no_missing_fields", "Aucune donnée manquante."),
    ("package.price", "Prix total"),
    ("package.lead_time", "Délai de livraison"),
    ("package.validity", "Validité de l'offre"),
    ("package.refs", "Références techniques"),
    ("package.days", "jours"),
    ("decision.chosen", "Fournisseur retenu :"),
    ("decision.pv", "Télécharger le PV avec la décision (Word)"),
    ("decision.none", "Aucune décision pour l'instant."),
    (
        "decision.again",
        "Une nouvelle décision s'ajoute à la mémoire et produit un nouveau PV.",
    ),
    (
        "decision.only_analysed",
        "Seuls les fournisseurs de la dernière analyse sont proposés.",
    ),
    ("case.memory", "Mémoire du dossier"),
    ("case.sealed_piece", "Offre scellée, reçue"),
    ("committee.title", "Comité"),
    ("committee.you_are", "Votre qualité dans ce dossier :"),
    ("committee.standing.admin", "administrateur"),
    ("committee.standing.owner", "responsable du dossier"),
    ("committee.standing.evaluator", "évaluateur"),
    ("committee.standing.observer", "observateur"),
    ("committee.role", "Rôle"),
    ("committee.role.owner", "responsable"),
    ("committee.role.evaluator", "évaluateur"),
    ("committee.role.observer", "observateur"),
    ("committee.member", "Membre"),
    ("committee.declaration", "Déclaration d'impartialité"),
    ("committee.actions", "Actions"),
    ("committee.signed_on", "signée le"),
    ("committee.not_signed", "non signée"),
    ("committee.remove", "Retirer"),
    (
        "committee.declaration_title",
        "Déclaration d'absence de conflit d'intérêts",
    ),
    ("committee.sign", "Je signe la déclaration"),
    ("committee.refuse", "Je refuse et je me retire du comité"),
    (
        "committee.sealed",
        "Les offres sont scellées jusqu'à leur ouverture : personne ne peut les lire ni lancer l'analyse.",
    ),
    ("committee.opened_at", "Offres ouvertes le"),
    ("committee.present", "en présence de"),
    ("committee.open_present", "Membres présents à l'ouverture"),
    ("committee.open", "Ouvrir les offres"),
    ("committee.username", "Identifiant du membre"),
    ("committee.add", "Ajouter au comité"),
    ("committee.added", "Membre ajouté au comité."),
    ("committee.removed", "Membre retiré du comité."),
    ("committee.declared", "Déclaration d'impartialité signée."),
    ("committee.opened", "Offres ouvertes."),
    ("case.memory_search", "Rechercher dans la mémoire"),
    ("case.memory_submit", "Rechercher"),
    ("case.memory_clear", "Tout afficher"),
    ("case.memory_empty", "Rien en mémoire pour l'instant."),
    ("case.memory_no_hit", "Aucune entrée ne contient ce texte."),
    ("memory.decision", "Décision"),
    ("memory.extraction", "Extraction"),
    ("memory.analysis", "Analyse"),
    ("memory.chosen_supplier", "Fournisseur retenu"),
    ("memory.decision_reason", "Motif"),
    ("memory.next_action", "Prochaine étape"),
    ("memory.decided_at", "Décidé le"),
    ("memory.decided_by", "Par l'utilisateur n°"),
    ("memory.human_final", "Décision humaine"),
    ("admin.title", "Utilisateurs"),
    ("admin.username", "Identifiant"),
    ("admin.email", "Courriel"),
    ("admin.name", "Nom"),
    ("admin.role", "Rôle"),
    ("admin.active", "Compte actif"),
    ("admin.save", "Enregistrer"),
    ("admin.saved", "Compte mis à jour."),
    (
        "admin.forbidden",
        "Cette page est réservée aux administrateurs.",
    ),
    ("error.title", "Action refusée"),
    (
        "error.csrf",
        "Le formulaire a expiré ou ne vient pas de cette application : rechargez la page et recommencez.",
    ),
    ("error.forbidden", "Vous n'avez pas le droit de faire cela."),
    ("error.not_found", "Page ou dossier introuvable."),
    (
        "error.server",
        "Erreur du serveur : réessayez plus tard. Référence de la requête :",
    ),
    (
        "error.unavailable",
        "La base de données est momentanément indisponible : réessayez dans quelques secondes.",
    ),
    ("error.back", "Retour"),
    ("error.field", "Champ"),
    ("error.rate", "Trop de tentatives : patientez une minute."),
    (
        "error.text_forbidden",
        "contient un caractère interdit (caractère de contrôle ou non-caractère Unicode) :",
    ),
    (
        "error.text_too_long",
        "texte trop long, caractères au plus :",
    ),
    ("error.unknown_document", "Document inconnu."),
    ("upload.progress", "Envoi"),
    ("upload.done", "Reçu"),
    (
        "upload.withdrawn",
        "Document retiré : il reste dans l'historique du dossier, les prochaines analyses ne le lisent plus",
    ),
    ("upload.failed", "Refusé"),
    (
        "upload.network",
        "La connexion a été interrompue : réessayez.",
    ),
];

/// The French text of `key`; the key itself if it has none (a test keeps
/// every key the templates use in the table).
pub fn text(key: &str) -> &str {
    lookup(key).unwrap_or(key)
}

/// The French text of `key`, if there is one.
pub fn lookup(key: &str) -> Option<&'static str> {
    FR.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
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
    fn keys_are_unique() {
        for (i, (key, _)) in FR.iter().enumerate() {
            assert!(
                FR[i + 1..].iter().all(|(k, _)| k != key),
                "duplicate key {key}"
            );
        }
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
