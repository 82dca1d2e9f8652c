//! What a service refuses, typed: each variant names what happened and
//! carries the values that explain it. The front-ends word it: the API in
//! English (the `Display` below is production's `detail`, the API's
//! contract), the pages from their message catalogue by the variant.
//! Nothing matches these words; a rewording cannot break a page.

/// A refusal of a request that breaks a rule of the domain.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Refusal {
    // Accounts and rights.
    #[error("Incorrect username or password")]
    BadCredentials,
    #[error("Your role (viewer) can read but not create cases")]
    ViewerCannotCreate,
    #[error("Your role (viewer) can read but not change cases")]
    ViewerCannotChange,
    #[error("You do not own this case")]
    NotOwner,
    #[error("Only an administrator can change accounts")]
    AdminOnly,
    #[error("You cannot remove your own administrator role or deactivate your own account")]
    OwnAdminRole,
    #[error("Email or username already exists")]
    AccountTaken,

    // Cases and lots.
    #[error("case_type must be DAO, RFQ or RFP")]
    CaseType,
    #[error("Lot '{lot_number}' already exists in this case")]
    LotTaken { lot_number: String },
    #[error("Lot '{lot_id}' does not belong to case '{case_id}'")]
    LotOfOtherCase { lot_id: String, case_id: String },

    // The committee.
    #[error("Only the case's owner or an administrator can change this case")]
    OwnerOrAdminOnly,
    #[error("Observers of a case do not read its offers")]
    ObserverReadsNoOffer,
    #[error("The offers are sealed until the opening")]
    Sealed,
    #[error("Sign the declaration of impartiality for this case first")]
    DeclarationFirst,
    #[error("The offers of this case were opened: no offer can be added")]
    OffersOpened,
    #[error("This user owns the case and is already on its committee")]
    OwnerIsMember,
    #[error("A viewer account can only be an observer of a case")]
    ViewerObserverOnly,
    #[error("{username} is already on the committee of this case")]
    AlreadyMember { username: String },
    #[error("Only a member added to the committee can withdraw from it")]
    NotAddedMember,
    #[error("This case has no opening date: its offers are open since its creation")]
    NoOpeningDate,
    #[error("The offers of this case are already open")]
    AlreadyOpen,
    #[error("The offers can be opened after the opening date ({closing})")]
    BeforeOpening { closing: String },

    // Uploads.
    #[error("Invalid filename: {name}")]
    FileName { name: String },
    #[error("Unable to determine file type")]
    UnknownFileType,
    #[error(
        "Invalid file type: {mime}. Allowed: PDF, Word, Excel (.pdf, .docx, .xlsx){}",
        if *legacy { ": legacy .doc and .xls files cannot be analysed, save them as .docx or .xlsx" } else { "" }
    )]
    FileType { mime: String, legacy: bool },
    #[error(
        "Refused file: a {mime} that also holds web or script content ({marker}); \
         a file that a browser or Windows could run is refused"
    )]
    ActiveContent { mime: String, marker: String },
    #[error("A CBA template must be an Excel .xlsx workbook")]
    CbaTemplateNotXlsx,
    #[error("A PV template must be a Word .docx document")]
    PvTemplateNotDocx,
    #[error("A {kind} can only be replaced by a {kind}")]
    ReplaceOtherKind { kind: &'static str },
    #[error("File too large: {size} bytes (max 50.0 MB)")]
    FileTooLarge { size: u64 },
    /// Told before the size is known (the body passed the limit while read).
    #[error("File too large (max 50.0 MB)")]
    BodyTooLarge,
    #[error("A form field is too large")]
    FieldTooLarge,
    #[error("Case quota exceeded: {:.2} MB / 500.0 MB", *used_bytes as f64 / 1_048_576.0)]
    Quota { used_bytes: i64 },
    /// The quota, refusing the documents an analysis writes (a conflict
    /// with the case's state, not a request too large).
    #[error(
        "Case quota exceeded: {:.2} MB / 500.0 MB: the generated documents (CBA, PV) do not fit in the case's space",
        *used_bytes as f64 / 1_048_576.0
    )]
    OutputsOverQuota { used_bytes: i64 },
    #[error("DAO already uploaded. Delete existing DAO first.")]
    DaoAlreadyUploaded,
    #[error("Cannot upload offer before DAO is uploaded.")]
    OfferBeforeDao,
    #[error("Offer of type '{offer_type}' already uploaded for supplier '{supplier}'.")]
    DuplicateOffer {
        supplier: String,
        offer_type: String,
    },
    #[error("Malformed multipart body: {reason}")]
    Multipart { reason: String },
    #[error("Send one file per request")]
    OneFilePerRequest,
    #[error("kind must be one of dao, offer, cba_template, pv_template, not {kind}")]
    UploadKind { kind: String },
    /// Too many uploads in a minute (the pages' upload form).
    #[error("Rate limit exceeded")]
    UploadRate,

    // The analysis and the decision.
    #[error("Missing DAO (upload kind=dao)")]
    MissingDao,
    #[error("Missing OFFERS (upload kind=offer)")]
    MissingOffers,
    #[error("{0}")]
    Document(analysis::AnalysisError),
    #[error("No analysis has been run for this case: run the analysis before deciding")]
    NotAnalysed,
    #[error("'{name}' is not among the offers analysed")]
    NotAmongOffers { name: String },

    // Configuration (the CLI's refusals).
    #[error("DMS_JWT_SECRET is shorter than 32 characters (use e.g. `openssl rand -hex 32`)")]
    ShortSecret,
    #[error(
        "the key file {path} is too short or damaged (remove it to make a new one: every token will be invalidated)"
    )]
    DamagedKeyFile { path: String },
}

impl Refusal {
    /// The HTTP status production answers this refusal with.
    pub fn status_code(&self) -> u16 {
        use Refusal::*;
        match self {
            BadCredentials => 401,
            ViewerCannotCreate | ViewerCannotChange | NotOwner | AdminOnly | OwnerOrAdminOnly
            | ObserverReadsNoOffer | Sealed | DeclarationFirst => 403,
            OwnAdminRole
            | AccountTaken
            | LotTaken { .. }
            | OffersOpened
            | OwnerIsMember
            | AlreadyMember { .. }
            | NotAddedMember
            | NoOpeningDate
            | AlreadyOpen
            | BeforeOpening { .. }
            | OutputsOverQuota { .. }
            | DaoAlreadyUploaded
            | DuplicateOffer { .. }
            | NotAnalysed => 409,
            FileTooLarge { .. } | BodyTooLarge | FieldTooLarge | Quota { .. } => 413,
            Document(_) => 422,
            CaseType
            | LotOfOtherCase { .. }
            | ViewerObserverOnly
            | FileName { .. }
            | UnknownFileType
            | FileType { .. }
            | ActiveContent { .. }
            | CbaTemplateNotXlsx
            | PvTemplateNotDocx
            | ReplaceOtherKind { .. }
            | OfferBeforeDao
            | Multipart { .. }
            | OneFilePerRequest
            | UploadKind { .. }
            | UploadRate
            | MissingDao
            | MissingOffers
            | NotAmongOffers { .. }
            | ShortSecret
            | DamagedKeyFile { .. } => 400,
        }
    }
}

/// Why a field of a request is refused (the client's 422).
#[derive(Debug, Clone, PartialEq)]
pub enum FieldRule {
    /// Empty once trimmed.
    Required,
    /// A number below zero.
    Negative,
    /// An amount the column cannot hold.
    AmountTooLarge,
    /// Not a non-negative number.
    NotNonNegative,
    /// Not one of `allowed` (said "must be one of").
    OneOf(Vec<&'static str>),
    /// Not one of `allowed` (said "Input should be", the schema's words).
    InputOneOf(Vec<&'static str>),
    /// No procurement category has this code.
    UnknownCategory(String),
    /// No purchase category has this code.
    UnknownPurchaseCategory(String),
    /// Not an ISO-8601 date or date-time.
    NotADate,
    /// Fewer or more characters than allowed, once trimmed.
    Length { min: usize, max: usize },
    /// The schema's length rule, in its words.
    StringLength { min: usize, max: usize },
    /// Fewer characters than allowed, in the schema's words.
    StringMin(usize),
    /// A number outside `min..=max`.
    Between { min: u64, max: u64 },
    /// Not an email address.
    Email,
    /// Begins or ends with a space.
    SpaceAtEnds,
    /// Holds a character that hides what the name shows.
    Name(NameProblem),
    /// A user named in the opening who is not on the committee.
    NotOnCommittee(i32),
    /// A withdrawal without its reason.
    WithdrawalReason,
    /// Not a number (the pages' forms).
    NotANumber,
    /// No file chosen (the pages' forms).
    NoFile,
    /// A page number that is not a whole number from 1.
    PageNumber,
}

/// What makes a name show something else than it holds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NameProblem {
    Bidi,
    Control,
    Invisible,
}

impl FieldRule {
    /// The API's words for this rule on `field` (production's messages).
    pub fn message(&self, field: &str) -> String {
        use FieldRule::*;
        match self {
            Required => format!("{field} must not be empty"),
            Negative => format!("{field} must not be negative"),
            AmountTooLarge => {
                format!("{field} must be below 10 000 000 000 (numeric(12,2))")
            }
            NotNonNegative => format!("{field} must be a non-negative number"),
            OneOf(allowed) => format!("{field} must be one of {}", allowed.join(", ")),
            InputOneOf(allowed) => {
                let quoted: Vec<String> = allowed.iter().map(|a| format!("'{a}'")).collect();
                format!("Input should be {}", quoted.join(", "))
            }
            UnknownCategory(code) => format!("unknown procurement category '{code}'"),
            UnknownPurchaseCategory(code) => format!("unknown purchase category '{code}'"),
            NotADate => format!(
                "{field} must be an ISO-8601 date or date-time (2026-12-31 or 2026-12-31T17:00:00Z)"
            ),
            Length { min, max } => format!("{field} must have {min} to {max} characters"),
            StringLength { min, max } => {
                format!("String should have between {min} and {max} characters")
            }
            StringMin(min) => format!("String should have at least {min} characters"),
            Between { min, max } => format!("{field} must be between {min} and {max}"),
            Email => "value is not a valid email address".to_owned(),
            SpaceAtEnds => format!("{field} must not start or end with a space"),
            Name(NameProblem::Bidi) => {
                format!("{field} must not contain bidirectional control characters")
            }
            Name(NameProblem::Control) => format!("{field} must not contain control characters"),
            Name(NameProblem::Invisible) => {
                format!("{field} must not contain invisible characters")
            }
            NotOnCommittee(id) => format!("user {id} is not on the committee"),
            WithdrawalReason => "reason must say why the document is withdrawn".to_owned(),
            NotANumber => format!("{field} must be a number"),
            NoFile => "choose a file".to_owned(),
            PageNumber => format!("{field} must be a whole number from 1"),
        }
    }
}
