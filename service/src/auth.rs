//! Users: who they are, what their role lets them do, logging in,
//! registering, and the administrator's account commands.

use entity::{auth_sessions, roles, user_name_keys, users};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, TransactionTrait,
};
use serde::Serialize;

use crate::error::{FieldRule, Refusal, invalid_field};
use crate::{Error, password, text, timestamp};

/// The three roles production seeds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    ProcurementOfficer,
    Viewer,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::ProcurementOfficer, Role::Viewer];

    pub fn name(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::ProcurementOfficer => "procurement_officer",
            Role::Viewer => "viewer",
        }
    }

    pub fn parse(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.name() == name)
    }
}

/// A user as the API shows it (production's `UserResponse`), with what the
/// role checks need.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: i32,
    pub email: String,
    pub username: String,
    /// May be null (D-03: production crashed on it).
    pub full_name: Option<String>,
    pub role_name: String,
    pub is_active: bool,
    pub is_superuser: bool,
}

impl User {
    pub(crate) fn from_row(user: users::Model, role: Option<roles::Model>) -> Self {
        User {
            id: user.id,
            email: user.email,
            username: user.username,
            full_name: user.full_name,
            role_name: role.map(|r| r.name).unwrap_or_default(),
            is_active: user.is_active.unwrap_or(false),
            is_superuser: user.is_superuser.unwrap_or(false),
        }
    }

    /// Admin means the `admin` role or `is_superuser` (production's rule).
    pub fn is_admin(&self) -> bool {
        self.is_superuser || self.role_name == Role::Admin.name()
    }

    /// The role the permission checks use; an unknown role name reads only.
    pub fn role(&self) -> Role {
        if self.is_admin() {
            Role::Admin
        } else {
            Role::parse(&self.role_name).unwrap_or(Role::Viewer)
        }
    }

    /// Whether this user may create cases.
    pub fn can_create_cases(&self) -> bool {
        matches!(self.role(), Role::Admin | Role::ProcurementOfficer)
    }

    /// Checks that this user may write to a case owned by `owner_id`.
    pub fn check_can_write(&self, owner_id: Option<i32>) -> Result<(), Error> {
        match self.role() {
            Role::Admin => Ok(()),
            Role::ProcurementOfficer if owner_id == Some(self.id) => Ok(()),
            Role::ProcurementOfficer => Err(Refusal::NotOwner.into()),
            Role::Viewer => Err(Refusal::ViewerCannotChange.into()),
        }
    }
}

/// Loads user `id` with its role; `None` if there is no such user.
pub async fn find(db: &impl ConnectionTrait, id: i32) -> Result<Option<User>, Error> {
    Ok(users::Entity::find_by_id(id)
        .find_also_related(roles::Entity)
        .one(db)
        .await?
        .map(|(u, r)| User::from_row(u, r)))
}

/// Loads user `id` with its role, if the sign-in session `session` (a
/// token's `sid`) is still open for that user: `None` otherwise.
pub async fn find_in_session(
    db: &impl ConnectionTrait,
    id: i32,
    session: &str,
) -> Result<Option<User>, Error> {
    Ok(find_in_session_with_language(db, id, session)
        .await?
        .map(|(user, _)| user))
}

/// [`find_in_session`], with the language the account prefers for the
/// pages (`users.language`, `None` until it picks one).
pub async fn find_in_session_with_language(
    db: &impl ConnectionTrait,
    id: i32,
    session: &str,
) -> Result<Option<(User, Option<String>)>, Error> {
    let open = Query::select()
        .column(auth_sessions::Column::UserId)
        .from(auth_sessions::Entity)
        .and_where(Expr::col(auth_sessions::Column::Id).eq(session))
        .take();
    Ok(users::Entity::find_by_id(id)
        .filter(users::Column::Id.in_subquery(open))
        .find_also_related(roles::Entity)
        .one(db)
        .await?
        .map(|(u, r)| {
            let language = u.language.clone();
            (User::from_row(u, r), language)
        }))
}

/// Stores the language user `user_id` prefers for the pages (a tag the
/// caller checked, e.g. `fr`).
pub async fn set_language(
    db: &impl ConnectionTrait,
    user_id: i32,
    language: &str,
) -> Result<(), Error> {
    users::Entity::update_many()
        .col_expr(users::Column::Language, Expr::value(language))
        .filter(users::Column::Id.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Opens a sign-in session for user `user_id` until `expires_at`; its id
/// goes into the token, which is valid only while the session is.
pub async fn open_session(
    db: &impl ConnectionTrait,
    user_id: i32,
    lifetime: std::time::Duration,
) -> Result<String, Error> {
    let id = hex::encode(rand::random::<[u8; 32]>());
    let now = chrono::Utc::now();
    // A session outlives its token by nothing; ten years bounds the arithmetic.
    let seconds = Ord::min(lifetime.as_secs(), 10 * 365 * 86_400);
    let expires = now + chrono::Duration::seconds(i64::try_from(seconds).unwrap_or(0));
    auth_sessions::ActiveModel {
        id: Set(id.clone()),
        user_id: Set(user_id),
        created_at: Set(timestamp::format(now)),
        expires_at: Set(timestamp::format(expires)),
    }
    .insert(db)
    .await?;
    Ok(id)
}

/// Ends the sign-in session `session` (signing out): its token is refused
/// from now on. Ending a session that is gone is not an error.
pub async fn close_session(db: &impl ConnectionTrait, session: &str) -> Result<(), Error> {
    auth_sessions::Entity::delete_by_id(session.to_owned())
        .exec(db)
        .await?;
    Ok(())
}

/// Ends every session of user `user_id` ("sign out everywhere"; a password
/// change; a deactivation): how many there were.
pub async fn close_sessions(db: &impl ConnectionTrait, user_id: i32) -> Result<u64, Error> {
    Ok(auth_sessions::Entity::delete_many()
        .filter(auth_sessions::Column::UserId.eq(user_id))
        .exec(db)
        .await?
        .rows_affected)
}

/// Forgets sessions whose tokens have expired anyway (housekeeping).
pub async fn purge_expired_sessions(db: &impl ConnectionTrait) -> Result<u64, Error> {
    Ok(auth_sessions::Entity::delete_many()
        .filter(auth_sessions::Column::ExpiresAt.lt(timestamp::now()))
        .exec(db)
        .await?
        .rows_affected)
}

/// The active or inactive account named exactly `username`.
pub async fn find_by_name(
    db: &impl ConnectionTrait,
    username: &str,
) -> Result<Option<User>, Error> {
    Ok(find_by_username(db, username)
        .await?
        .map(|(u, r)| User::from_row(u, r)))
}

async fn find_by_username(
    db: &impl ConnectionTrait,
    username: &str,
) -> Result<Option<(users::Model, Option<roles::Model>)>, Error> {
    // No account has such a name; PostgreSQL would refuse a NUL in the query.
    if text::problem(&text::USERNAME, username).is_some() {
        return Ok(None);
    }
    // MariaDB compares text ignoring case: the exact name is checked here,
    // so that login stays case-sensitive on every backend.
    Ok(users::Entity::find()
        .filter(users::Column::Username.eq(username))
        .find_also_related(roles::Entity)
        .all(db)
        .await?
        .into_iter()
        .find(|(u, _)| u.username == username))
}

/// Checks `username` / `password`. Unknown users, wrong passwords and
/// inactive accounts fail alike, in the same time. A legacy bcrypt hash is
/// replaced by argon2id on success; `last_login` is set.
pub async fn login(db: &impl ConnectionTrait, username: &str, pass: &str) -> Result<User, Error> {
    let (row, role) = checked(db, username, pass).await?;
    let mut update = users::ActiveModel {
        id: Set(row.id),
        last_login: Set(Some(timestamp::now())),
        ..Default::default()
    };
    if password::needs_rehash(&row.hashed_password) {
        update.hashed_password = Set(password::hash(pass.to_owned()).await?);
    }
    let row = update.update(db).await?;
    Ok(User::from_row(row, role))
}

/// Checks `username` / `password` as [`login`] does (same refusals, same
/// time), without recording a sign-in.
pub async fn verify_password(
    db: &impl ConnectionTrait,
    username: &str,
    pass: &str,
) -> Result<(), Error> {
    checked(db, username, pass).await.map(|_| ())
}

/// The account `username` opens with `pass`, if it is active: unknown
/// users, wrong passwords and inactive accounts fail alike, in the same time.
async fn checked(
    db: &impl ConnectionTrait,
    username: &str,
    pass: &str,
) -> Result<(users::Model, Option<roles::Model>), Error> {
    let denied = || Error::from(Refusal::BadCredentials);
    // No account has such a name or password: refused as a wrong password,
    // without a look-up (PostgreSQL refuses a NUL in a query's text).
    if text::problem(&text::USERNAME, username).is_some()
        || text::problem(&text::PASSWORD, pass).is_some()
    {
        return Err(denied());
    }
    let Some((row, role)) = find_by_username(db, username).await? else {
        password::verify_nobody(pass.to_owned()).await?;
        return Err(denied());
    };
    if !password::verify(pass.to_owned(), row.hashed_password.clone()).await? {
        return Err(denied());
    }
    if row.is_active != Some(true) {
        return Err(denied());
    }
    Ok((row, role))
}

/// What a new account is made of.
#[derive(Clone, Debug)]
pub struct NewUser {
    pub email: String,
    pub username: String,
    pub password: String,
    pub full_name: Option<String>,
    pub role: Role,
}

/// Checks and normalises `new` as production does: a valid email (domain
/// lower-cased), a username of 3 to 50 characters, a password of at least 8.
pub fn validate(mut new: NewUser) -> Result<NewUser, Error> {
    text::check(&text::EMAIL, &new.email)?;
    text::check(&text::USERNAME, &new.username)?;
    text::check(&text::PASSWORD, &new.password)?;
    text::check_opt(&text::FULL_NAME, new.full_name.as_deref())?;
    new.email =
        normalize_email(&new.email).ok_or_else(|| invalid_field("email", FieldRule::Email))?;
    let len = new.username.chars().count();
    crate::names::check("username", &new.username)?;
    if new.username != new.username.trim() {
        return Err(invalid_field("username", FieldRule::SpaceAtEnds));
    }
    if let Some(full_name) = &new.full_name {
        crate::names::check("full_name", full_name)?;
    }
    if !(3..=50).contains(&len) {
        return Err(invalid_field(
            "username",
            FieldRule::StringLength { min: 3, max: 50 },
        ));
    }
    if new.password.chars().count() < 8 {
        return Err(invalid_field("password", FieldRule::StringMin(8)));
    }
    Ok(new)
}

fn normalize_email(email: &str) -> Option<String> {
    let email = email.trim();
    let (local, domain) = email.rsplit_once('@')?;
    let valid_local = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let valid_domain = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        });
    (valid_local && valid_domain).then(|| format!("{local}@{}", domain.to_lowercase()))
}

/// Creates an account. A username or email already taken, including by a
/// concurrent registration, is a 409, never a server error (D-22); so is a
/// username that reads as one already taken ([`crate::names::key`]).
pub async fn create_user(db: &DatabaseConnection, new: NewUser) -> Result<User, Error> {
    let new = validate(new)?;
    let name_key = crate::names::key(&new.username);
    let hashed = password::hash(new.password.clone()).await?;
    let tx = crate::db::begin_write(db).await?;
    let user = insert_user(&tx, new, hashed).await?;
    user_name_keys::ActiveModel {
        name_key: Set(name_key),
        user_id: Set(user.id),
    }
    .insert(&tx)
    .await
    .map_err(Error::from)
    .map_err(taken)?;
    crate::ledger::record_global(
        &tx,
        None,
        "account_created",
        serde_json::json!({"user_id": user.id, "username": user.username, "role": user.role_name}),
    )
    .await?;
    tx.commit().await?;
    Ok(user)
}

fn taken(e: Error) -> Error {
    if e.is_unique_violation() {
        Refusal::AccountTaken.into()
    } else {
        e
    }
}

/// Reserves the key of every username that has none yet (accounts made
/// before revision 006, or by another tool): at start. Two older accounts
/// whose names read alike keep working; the second one's key is not
/// reserved, and that is logged.
pub async fn reserve_name_keys(db: &DatabaseConnection) -> Result<(), Error> {
    let reserved = Query::select()
        .column(user_name_keys::Column::UserId)
        .from(user_name_keys::Entity)
        .take();
    let missing = users::Entity::find()
        .filter(users::Column::Id.not_in_subquery(reserved))
        .all(db)
        .await?;
    for user in missing {
        let tx = db.begin().await?;
        let inserted = user_name_keys::ActiveModel {
            name_key: Set(crate::names::key(&user.username)),
            user_id: Set(user.id),
        }
        .insert(&tx)
        .await
        .map_err(Error::from);
        match inserted {
            Ok(_) => tx.commit().await?,
            Err(e) if e.is_unique_violation() => {
                tx.rollback().await?;
                tracing::warn!(user = user.id, username = %user.username, "this username reads as another account's: both keep working, but consider renaming one");
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

async fn insert_user(
    db: &impl ConnectionTrait,
    new: NewUser,
    hashed: String,
) -> Result<User, Error> {
    let role = roles::Entity::find()
        .filter(roles::Column::Name.eq(new.role.name()))
        .one(db)
        .await?
        .ok_or_else(|| Error::Internal(format!("role {} is not seeded", new.role.name())))?;
    let row = users::ActiveModel {
        email: Set(new.email),
        username: Set(new.username),
        hashed_password: Set(hashed),
        full_name: Set(new.full_name),
        role_id: Set(role.id),
        is_active: Set(Some(true)),
        is_superuser: Set(Some(false)),
        created_at: Set(timestamp::now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(Error::from)
    .map_err(taken)?;
    Ok(User::from_row(row, Some(role)))
}

/// Sets the password of `username` (argon2id) and ends every session of
/// the account: tokens issued before the change are refused.
pub async fn set_password(
    db: &DatabaseConnection,
    username: &str,
    pass: &str,
) -> Result<(), Error> {
    text::check(&text::PASSWORD, pass)?;
    if pass.chars().count() < 8 {
        return Err(invalid_field("password", FieldRule::StringMin(8)));
    }
    let hashed = password::hash(pass.to_owned()).await?;
    let tx = crate::db::begin_write(db).await?;
    let (row, _) = find_by_username(&tx, username)
        .await?
        .ok_or_else(|| Error::not_found("user", username))?;
    users::ActiveModel {
        id: Set(row.id),
        hashed_password: Set(hashed),
        ..Default::default()
    }
    .update(&tx)
    .await?;
    close_sessions(&tx, row.id).await?;
    crate::ledger::record_global(
        &tx,
        None,
        "password_set",
        serde_json::json!({"user_id": row.id}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The seeded administrator's username and password (production's
/// migration 004; `DMS_ADMIN_PASSWORD` overrides the password at seeding).
pub const SEEDED_ADMIN: (&str, &str) = ("admin", "Admin123!");

/// Whether the account `admin` still opens with the seeded password.
pub async fn admin_has_seeded_password(db: &impl ConnectionTrait) -> Result<bool, Error> {
    let Some((row, _)) = find_by_username(db, SEEDED_ADMIN.0).await? else {
        return Ok(false);
    };
    password::verify(SEEDED_ADMIN.1.to_owned(), row.hashed_password).await
}

/// Lists every user, by id (the administrator's page).
pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<User>, Error> {
    use sea_orm::QueryOrder;
    Ok(users::Entity::find()
        .find_also_related(roles::Entity)
        .order_by_asc(users::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|(u, r)| User::from_row(u, r))
        .collect())
}
