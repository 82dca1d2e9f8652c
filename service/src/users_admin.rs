//! The administrator's changes to accounts: a user's role and whether the
//! account is active. Listing is [`crate::auth::list`].

use entity::{roles, users};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
};

use crate::auth::{Role, User};
use crate::error::Refusal;
use crate::{Error, db};

/// What an administrator changes on an account (`None` keeps it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Change {
    pub role: Option<Role>,
    pub is_active: Option<bool>,
}

/// Applies `change` to user `user_id` on behalf of `actor` (an admin).
///
/// An administrator cannot take away their own admin role or deactivate
/// themselves: the last admin would lock everyone out of this page. A user
/// given a role other than admin also loses `is_superuser`, which would
/// otherwise keep them admin whatever their role says.
pub async fn update_user(
    db: &DatabaseConnection,
    actor: &User,
    user_id: i32,
    change: Change,
) -> Result<User, Error> {
    if !actor.is_admin() {
        return Err(Refusal::AdminOnly.into());
    }
    if user_id == actor.id
        && (change.role.is_some_and(|r| r != Role::Admin) || change.is_active == Some(false))
    {
        return Err(Refusal::OwnAdminRole.into());
    }
    let tx = db::begin_write(db).await?;
    let row = users::Entity::find_by_id(user_id)
        .one(&tx)
        .await?
        .ok_or_else(|| Error::not_found("user", user_id.to_string()))?;
    let mut update = users::ActiveModel {
        id: Set(row.id),
        ..Default::default()
    };
    if let Some(role) = change.role {
        let role_row = roles::Entity::find()
            .filter(roles::Column::Name.eq(role.name()))
            .one(&tx)
            .await?
            .ok_or_else(|| Error::Internal(format!("role {} is not seeded", role.name())))?;
        update.role_id = Set(role_row.id);
        if role != Role::Admin {
            update.is_superuser = Set(Some(false));
        }
    }
    if let Some(active) = change.is_active {
        update.is_active = Set(Some(active));
    }
    if change != Change::default() {
        update.update(&tx).await?;
    }
    if change.is_active == Some(false) {
        // A deactivated account's tokens end with it.
        crate::auth::close_sessions(&tx, user_id).await?;
    }
    crate::ledger::record_global(&tx, Some(actor.id), "account_changed", serde_json::json!({"user_id": user_id, "role": change.role.map(Role::name), "is_active": change.is_active})).await?;
    tx.commit().await?;
    tracing::info!(
        actor = actor.id,
        user = user_id,
        role = change.role.map(Role::name),
        is_active = change.is_active,
        "account changed by an administrator"
    );
    crate::auth::find(db, user_id)
        .await?
        .ok_or_else(|| Error::not_found("user", user_id.to_string()))
}
