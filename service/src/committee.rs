//! Who may see and do what in a case: its committee (the owner, and the
//! members the owner or an administrator adds, each an `evaluator` or an
//! `observer` of that case), the opening of the offers, and the members'
//! declarations of impartiality.
//!
//! The rules, in one place ([`Access`]):
//! - administrators see and manage every case; the owner and the members
//!   see theirs; to everyone else a case does not exist (404, never 403:
//!   its existence is itself confidential);
//! - a case with an opening date (`closing_date`) is sealed until someone
//!   who manages it opens it, after that date: before, offers can be
//!   uploaded, but nobody reads them or runs the analysis. A case without
//!   one was opened at its creation (production's behaviour);
//! - offers are read (downloads, analysis, decision) by the owner,
//!   evaluators and administrators, never by observers, and only after
//!   signing the case's declaration of impartiality. In a case without an
//!   opening date the owner and administrators work as in production
//!   (no declaration needed); evaluators always declare.

use entity::{case_declarations, case_members, case_openings, cases, users};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    QueryFilter,
};
use serde::Serialize;

use crate::auth::{Role, User};
use crate::error::{FieldRule, Refusal};
use crate::{Error, audit, db, timestamp};

/// The fixed text a member signs, stored with each declaration.
pub const DECLARATION_TEXT: &str = "I declare that I have no conflict of interest with any supplier that submitted an offer in this case, that I will report any that arises, and that I will keep the offers and the committee's deliberations confidential.";

/// The same declaration in French, as the pages show it (the stored text
/// is [`DECLARATION_TEXT`]).
pub const DECLARATION_TEXT_FR: &str = "Je déclare n'avoir aucun conflit d'intérêts avec les fournisseurs ayant soumis une offre dans ce dossier, signaler tout conflit qui surviendrait, et garder confidentielles les offres et les délibérations du comité.";

/// A member's role in one case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MemberRole {
    /// Reads the offers once they are open, runs the analysis, records the
    /// decision with the owner.
    Evaluator,
    /// Reads the case, the analysis' results and the PV; never the offers.
    Observer,
}

impl MemberRole {
    pub fn name(self) -> &'static str {
        match self {
            MemberRole::Evaluator => "evaluator",
            MemberRole::Observer => "observer",
        }
    }

    pub fn parse(name: &str) -> Option<MemberRole> {
        [MemberRole::Evaluator, MemberRole::Observer]
            .into_iter()
            .find(|r| r.name() == name)
    }
}

/// What the caller is to a case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    Admin,
    Owner,
    Evaluator,
    Observer,
}

/// The caller's rights on one case, from the facts of the case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Access {
    pub standing: Standing,
    /// The case has an opening date: its offers are sealed until opened.
    pub sealed_procedure: bool,
    /// The offers are open (always, without an opening date).
    pub opened: bool,
    /// The caller signed this case's declaration of impartiality.
    pub declared: bool,
}

impl Access {
    /// The caller's access to `case`, or `None` when the case must look
    /// absent to them. `member` is the caller's membership row of the case.
    pub fn of(
        user: &User,
        case: &cases::Model,
        member: Option<&str>,
        opened: bool,
        declared: bool,
    ) -> Option<Access> {
        let standing = if user.is_admin() {
            Standing::Admin
        } else if case.owner_id == Some(user.id) {
            Standing::Owner
        } else {
            match member.and_then(MemberRole::parse)? {
                MemberRole::Evaluator => Standing::Evaluator,
                MemberRole::Observer => Standing::Observer,
            }
        };
        let sealed_procedure = case.closing_date.is_some();
        Some(Access {
            standing,
            sealed_procedure,
            opened: opened || !sealed_procedure,
            declared,
        })
    }

    /// Whether the caller manages the case: its lots, uploads, committee
    /// and opening.
    pub fn manages(&self) -> bool {
        matches!(self.standing, Standing::Admin | Standing::Owner)
    }

    pub fn check_manage(&self) -> Result<(), Error> {
        if self.manages() {
            Ok(())
        } else {
            Err(Refusal::OwnerOrAdminOnly.into())
        }
    }

    /// Whether reading offers needs the caller's declaration first.
    pub fn needs_declaration(&self) -> bool {
        match self.standing {
            Standing::Evaluator => true,
            Standing::Owner | Standing::Admin => self.sealed_procedure,
            Standing::Observer => false,
        }
    }

    /// Checks that the caller may read the offers (download them, run the
    /// analysis on them, decide): open, evaluating, declared.
    pub fn check_read_offers(&self) -> Result<(), Error> {
        if self.standing == Standing::Observer {
            return Err(Refusal::ObserverReadsNoOffer.into());
        }
        if !self.opened {
            return Err(Refusal::Sealed.into());
        }
        if self.needs_declaration() && !self.declared {
            return Err(Refusal::DeclarationFirst.into());
        }
        Ok(())
    }

    pub fn may_read_offers(&self) -> bool {
        self.check_read_offers().is_ok()
    }

    /// Checks that the caller may upload a file of this kind: managing the
    /// case, and for an offer, before the opening of a sealed case.
    pub fn check_upload(&self, is_offer: bool) -> Result<(), Error> {
        self.check_manage()?;
        if is_offer && self.sealed_procedure && self.opened {
            return Err(Refusal::OffersOpened.into());
        }
        Ok(())
    }
}

/// The facts of a case the access rules read, besides the case row.
async fn facts(
    db: &impl ConnectionTrait,
    user: &User,
    case: &cases::Model,
) -> Result<Option<Access>, Error> {
    let member = case_members::Entity::find_by_id((case.id.clone(), user.id))
        .one(db)
        .await?;
    let opened = case_openings::Entity::find_by_id(case.id.clone())
        .one(db)
        .await?
        .is_some();
    let declared = case_declarations::Entity::find()
        .filter(case_declarations::Column::CaseId.eq(case.id.as_str()))
        .filter(case_declarations::Column::UserId.eq(user.id))
        .one(db)
        .await?
        .is_some();
    Ok(Access::of(
        user,
        case,
        member.as_ref().map(|m| m.role.as_str()),
        opened,
        declared,
    ))
}

/// Case `case_id` and the caller's access to it: a 404 when it does not
/// exist or the caller is not of its committee.
pub async fn visible(
    db: &impl ConnectionTrait,
    user: &User,
    case_id: &str,
) -> Result<(cases::Model, Access), Error> {
    let case = crate::cases::find(db, case_id).await?;
    let access = facts(db, user, &case)
        .await?
        .ok_or_else(|| Error::not_found("case", case_id))?;
    Ok((case, access))
}

/// As [`visible`], with the case row locked until the transaction `tx`
/// ends (see [`crate::cases::lock`]).
pub async fn locked(
    tx: &impl ConnectionTrait,
    user: &User,
    case_id: &str,
) -> Result<(cases::Model, Access), Error> {
    let case = crate::cases::lock(tx, case_id).await?;
    let access = facts(tx, user, &case)
        .await?
        .ok_or_else(|| Error::not_found("case", case_id))?;
    Ok((case, access))
}

/// The condition on `cases` that keeps the cases `user` may see: `None`
/// for an administrator (every case).
pub fn visible_cases(user: &User) -> Option<Condition> {
    if user.is_admin() {
        return None;
    }
    let memberships = Query::select()
        .column(case_members::Column::CaseId)
        .from(case_members::Entity)
        .and_where(Expr::col(case_members::Column::UserId).eq(user.id))
        .take();
    Some(
        Condition::any()
            .add(cases::Column::OwnerId.eq(user.id))
            .add(cases::Column::Id.in_subquery(memberships)),
    )
}

/// One person of a case's committee, as the API and the page show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Member {
    pub user_id: i32,
    pub username: String,
    pub full_name: Option<String>,
    /// `owner`, `evaluator` or `observer`.
    pub role: String,
    pub added_by: Option<i32>,
    pub added_at: Option<String>,
    /// When this person signed the declaration of impartiality.
    pub declared_at: Option<String>,
}

/// The committee of case `case_id`: its owner first, then the members in
/// the order they were added (the caller must see the case).
pub async fn members(
    db: &impl ConnectionTrait,
    user: &User,
    case_id: &str,
) -> Result<Vec<Member>, Error> {
    let (case, _) = visible(db, user, case_id).await?;
    committee_of(db, &case).await
}

/// The committee of `case` (no access check: the caller checked).
pub async fn committee_of(
    db: &impl ConnectionTrait,
    case: &cases::Model,
) -> Result<Vec<Member>, Error> {
    let rows = case_members::Entity::find()
        .filter(case_members::Column::CaseId.eq(case.id.as_str()))
        .all(db)
        .await?;
    let declarations = case_declarations::Entity::find()
        .filter(case_declarations::Column::CaseId.eq(case.id.as_str()))
        .all(db)
        .await?;
    let mut ids: Vec<i32> = rows.iter().map(|m| m.user_id).collect();
    ids.extend(case.owner_id);
    let people = users::Entity::find()
        .filter(users::Column::Id.is_in(ids))
        .all(db)
        .await?;
    Ok(committee_from_rows(case, rows, &declarations, &people))
}

/// The committee of `case` from its rows: its members, their declarations
/// and the accounts of the members and the owner (any order). The owner
/// first, then the members by the time they were added, then user id.
pub(crate) fn committee_from_rows(
    case: &cases::Model,
    mut rows: Vec<case_members::Model>,
    declarations: &[case_declarations::Model],
    people: &[users::Model],
) -> Vec<Member> {
    rows.sort_by(|a, b| (&a.added_at, a.user_id).cmp(&(&b.added_at, b.user_id)));
    let person = |id: i32| people.iter().find(|u| u.id == id);
    let declared = |id: i32| {
        declarations
            .iter()
            .find(|d| d.user_id == id)
            .map(|d| d.declared_at.clone())
    };
    let mut out = Vec::with_capacity(rows.len() + 1);
    if let Some(owner) = case.owner_id.and_then(person) {
        out.push(Member {
            user_id: owner.id,
            username: owner.username.clone(),
            full_name: owner.full_name.clone(),
            role: "owner".into(),
            added_by: None,
            added_at: Some(case.created_at.clone()),
            declared_at: declared(owner.id),
        });
    }
    for m in rows {
        let Some(u) = person(m.user_id) else { continue };
        out.push(Member {
            user_id: u.id,
            username: u.username.clone(),
            full_name: u.full_name.clone(),
            role: m.role.clone(),
            added_by: m.added_by,
            added_at: Some(m.added_at.clone()),
            declared_at: declared(u.id),
        });
    }
    out
}

/// Who is added to a committee: an account by id or by username.
#[derive(Clone, Debug)]
pub enum Person {
    Id(i32),
    Name(String),
}

/// Adds `person` to the committee of case `case_id` with `role` (the owner
/// or an administrator; audited). An account that can only read
/// (`viewer`) can only observe.
pub async fn add_member(
    db: &sea_orm::DatabaseConnection,
    actor: &User,
    case_id: &str,
    person: Person,
    role: MemberRole,
) -> Result<Member, Error> {
    let tx = db::begin_write(db).await?;
    let (case, access) = locked(&tx, actor, case_id).await?;
    access.check_manage()?;
    let (found, named) = match &person {
        Person::Id(id) => (crate::auth::find(&tx, *id).await?, id.to_string()),
        Person::Name(name) => {
            crate::text::check(&crate::text::USERNAME, name)?;
            (crate::auth::find_by_name(&tx, name).await?, name.clone())
        }
    };
    let target = found
        .filter(|u| u.is_active)
        .ok_or_else(|| Error::not_found("user", named))?;
    if case.owner_id == Some(target.id) {
        return Err(Refusal::OwnerIsMember.into());
    }
    if role == MemberRole::Evaluator && target.role() == Role::Viewer {
        return Err(Refusal::ViewerObserverOnly.into());
    }
    let exists = case_members::Entity::find_by_id((case.id.clone(), target.id))
        .one(&tx)
        .await?;
    if exists.is_some() {
        return Err(Refusal::AlreadyMember {
            username: target.username,
        }
        .into());
    }
    let now = timestamp::now();
    case_members::ActiveModel {
        case_id: Set(case.id.clone()),
        user_id: Set(target.id),
        role: Set(role.name().into()),
        added_by: Set(Some(actor.id)),
        added_at: Set(now.clone()),
    }
    .insert(&tx)
    .await
    .map_err(Error::from)
    .map_err(|e| {
        if e.is_unique_violation() {
            Refusal::AlreadyMember {
                username: target.username.clone(),
            }
            .into()
        } else {
            e
        }
    })?;
    audit::record(
        &tx,
        &case.id,
        actor.id,
        "member_added",
        serde_json::json!({"user_id": target.id, "username": target.username, "role": role.name()}),
    )
    .await?;
    tx.commit().await?;
    Ok(Member {
        user_id: target.id,
        username: target.username,
        full_name: target.full_name,
        role: role.name().into(),
        added_by: Some(actor.id),
        added_at: Some(now),
        declared_at: None,
    })
}

/// Removes user `user_id` from the committee of case `case_id`: by the
/// owner or an administrator, or by the member (withdrawing). Audited.
pub async fn remove_member(
    db: &sea_orm::DatabaseConnection,
    actor: &User,
    case_id: &str,
    user_id: i32,
) -> Result<(), Error> {
    let tx = db::begin_write(db).await?;
    let (case, access) = locked(&tx, actor, case_id).await?;
    if actor.id != user_id {
        access.check_manage()?;
    }
    withdraw(&tx, &case, actor, user_id, "member_removed").await?;
    tx.commit().await?;
    Ok(())
}

async fn withdraw(
    tx: &impl ConnectionTrait,
    case: &cases::Model,
    actor: &User,
    user_id: i32,
    action: &str,
) -> Result<(), Error> {
    let deleted = case_members::Entity::delete_by_id((case.id.clone(), user_id))
        .exec(tx)
        .await?;
    if deleted.rows_affected == 0 {
        return Err(Error::not_found("member", user_id.to_string()));
    }
    audit::record(
        tx,
        &case.id,
        actor.id,
        action,
        serde_json::json!({"user_id": user_id}),
    )
    .await
}

/// What became of a declaration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Declaration {
    pub case_id: String,
    pub user_id: i32,
    /// `None` when the member refused and withdrew.
    pub declared_at: Option<String>,
    pub statement: &'static str,
}

/// Records the caller's declaration of impartiality for case `case_id`
/// (`accept`), or, refusing it, the member's withdrawal from the committee.
/// Signing twice keeps the first signature. Audited.
pub async fn declare(
    db: &sea_orm::DatabaseConnection,
    user: &User,
    case_id: &str,
    accept: bool,
) -> Result<Declaration, Error> {
    let tx = db::begin_write(db).await?;
    let (case, access) = locked(&tx, user, case_id).await?;
    if !accept {
        if !matches!(access.standing, Standing::Evaluator | Standing::Observer) {
            return Err(Refusal::NotAddedMember.into());
        }
        withdraw(&tx, &case, user, user.id, "member_withdrew").await?;
        tx.commit().await?;
        return Ok(Declaration {
            case_id: case.id,
            user_id: user.id,
            declared_at: None,
            statement: DECLARATION_TEXT,
        });
    }
    let existing = case_declarations::Entity::find()
        .filter(case_declarations::Column::CaseId.eq(case.id.as_str()))
        .filter(case_declarations::Column::UserId.eq(user.id))
        .one(&tx)
        .await?;
    let declared_at = match existing {
        Some(d) => d.declared_at,
        None => {
            let now = timestamp::now();
            case_declarations::ActiveModel {
                id: Set(uuid::Uuid::new_v4().to_string()),
                case_id: Set(case.id.clone()),
                user_id: Set(user.id),
                declared_at: Set(now.clone()),
                statement: Set(DECLARATION_TEXT.into()),
            }
            .insert(&tx)
            .await?;
            audit::record(
                &tx,
                &case.id,
                user.id,
                "declaration_signed",
                serde_json::json!({"user_id": user.id, "declared_at": now}),
            )
            .await?;
            now
        }
    };
    tx.commit().await?;
    Ok(Declaration {
        case_id: case.id,
        user_id: user.id,
        declared_at: Some(declared_at),
        statement: DECLARATION_TEXT,
    })
}

/// The record of a case's opening.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Opening {
    pub case_id: String,
    pub opened_by: Option<i32>,
    pub opened_at: String,
    /// The committee members present, as named when the offers were opened.
    pub present: Vec<serde_json::Value>,
}

impl Opening {
    pub fn from_row(row: &case_openings::Model) -> Opening {
        Opening {
            case_id: row.case_id.clone(),
            opened_by: row.opened_by,
            opened_at: row.opened_at.clone(),
            present: serde_json::from_str(&row.present).unwrap_or_default(),
        }
    }
}

/// The opening of case `case_id`, if it was opened.
pub async fn opening(db: &impl ConnectionTrait, case_id: &str) -> Result<Option<Opening>, Error> {
    Ok(case_openings::Entity::find_by_id(case_id.to_owned())
        .one(db)
        .await?
        .as_ref()
        .map(Opening::from_row))
}

/// Opens the offers of case `case_id`: the owner or an administrator, after
/// the opening date, once; `present` names the committee members present
/// (user ids of the committee). Audited.
pub async fn open(
    db: &sea_orm::DatabaseConnection,
    user: &User,
    case_id: &str,
    present: &[i32],
) -> Result<Opening, Error> {
    let tx = db::begin_write(db).await?;
    let (case, access) = locked(&tx, user, case_id).await?;
    access.check_manage()?;
    let Some(closing) = case.closing_date.as_deref() else {
        return Err(Refusal::NoOpeningDate.into());
    };
    if access.opened {
        return Err(Refusal::AlreadyOpen.into());
    }
    let closing_at = timestamp::parse(closing)?;
    if chrono::Utc::now() < closing_at {
        return Err(Refusal::BeforeOpening {
            closing: closing.to_owned(),
        }
        .into());
    }
    let committee = committee_of(&tx, &case).await?;
    let mut names = Vec::with_capacity(present.len());
    for id in present {
        let m = committee.iter().find(|m| m.user_id == *id).ok_or_else(|| {
            crate::error::invalid_field("present", FieldRule::NotOnCommittee(*id))
        })?;
        names.push(
            serde_json::json!({"user_id": m.user_id, "username": m.username, "role": m.role}),
        );
    }
    let now = timestamp::now();
    let row = case_openings::ActiveModel {
        case_id: Set(case.id.clone()),
        opened_by: Set(Some(user.id)),
        opened_at: Set(now.clone()),
        present: Set(serde_json::Value::Array(names.clone()).to_string()),
    }
    .insert(&tx)
    .await
    .map_err(Error::from)
    .map_err(|e| {
        if e.is_unique_violation() {
            Refusal::AlreadyOpen.into()
        } else {
            e
        }
    })?;
    audit::record(
        &tx,
        &case.id,
        user.id,
        "offers_opened",
        serde_json::json!({"opened_at": now, "present": names}),
    )
    .await?;
    tx.commit().await?;
    Ok(Opening::from_row(&row))
}
