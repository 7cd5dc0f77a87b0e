//! Accounts and sessions of the inbox (issue 8): users with an argon2id password hash, a failure
//! counter and a lock, and server-side sessions whose cookie id is stored only as its SHA-256.
//!
//! Password hashing is CPU-bound: callers run [`hash_password`] and [`verify_password`] off the
//! async threads (`spawn_blocking`).

use super::db::{self, Db, DbError};
use crate::model::{format_time, parse_time};
use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::Engine;
use chrono::{DateTime, Utc};
use std::fmt;
use std::str::FromStr;

/// What an account may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A department's clerk: sees only that department's inbox.
    Clerk,
    /// The intake office (Biuro Podawcze): sees every inbox and routes (dekretacja).
    Intake,
    /// An administrator: as intake, and manages accounts.
    Admin,
}

impl Role {
    /// The name stored in the database and given to `user add --role`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Clerk => "clerk",
            Role::Intake => "intake",
            Role::Admin => "admin",
        }
    }

    /// Whether the role sees every department.
    pub fn sees_all(self) -> bool {
        matches!(self, Role::Intake | Role::Admin)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = AccountError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "clerk" => Ok(Role::Clerk),
            "intake" => Ok(Role::Intake),
            "admin" => Ok(Role::Admin),
            other => Err(AccountError::BadRole(other.to_string())),
        }
    }
}

/// Errors of account handling.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// The database.
    #[error(transparent)]
    Db(#[from] DbError),
    /// A role name that is not `clerk`, `intake` or `admin`.
    #[error("unknown role {0:?} (use clerk, intake or admin)")]
    BadRole(String),
    /// A login that is empty, too long or has characters other than letters, digits, `.`, `-`, `_`.
    #[error("invalid login {0:?} (letters, digits, '.', '-', '_'; at most 64)")]
    BadLogin(String),
    /// A password too short to be a password.
    #[error("password too short: at least {min} characters")]
    WeakPassword {
        /// The minimum.
        min: usize,
    },
    /// The department is not configured.
    #[error("unknown department {0:?}")]
    UnknownDepartment(String),
    /// The login is taken.
    #[error("user {0:?} already exists")]
    Exists(String),
    /// Hashing failed (never on valid parameters).
    #[error("password hashing: {0}")]
    Hash(String),
}

/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 10;

/// An account.
#[derive(Debug, Clone)]
pub struct User {
    /// Login name.
    pub login: String,
    /// Home department code.
    pub department: String,
    /// Role.
    pub role: Role,
    /// Failed logins in a row.
    pub failed_attempts: i64,
    /// Locked until this time, if locked.
    pub locked_until: Option<DateTime<Utc>>,
}

/// A logged-in session with its account.
#[derive(Debug, Clone)]
pub struct Session {
    /// SHA-256 of the cookie id (the row key).
    pub id_sha256: String,
    /// The account.
    pub user: User,
    /// The CSRF token every form of this session must carry.
    pub csrf_token: String,
    /// When the session ends.
    pub expires_at: DateTime<Utc>,
}

/// A random token: 32 bytes from the operating system, base64url without padding.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Hashes a password with argon2id (the crate's defaults: 19 MiB, 2 passes, OWASP's minimum).
pub fn hash_password(password: &str) -> Result<String, AccountError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AccountError::Hash(e.to_string()))
}

/// Checks a password against a stored PHC string. A malformed hash never verifies.
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// A hash of a random password, checked when the login is unknown, so that a wrong login costs
/// the same time as a wrong password (no user enumeration by timing).
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password(&random_token()).unwrap_or_default())
}

fn check_login(login: &str) -> Result<(), AccountError> {
    let ok = !login.is_empty()
        && login.len() <= 64
        && login
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    if ok {
        Ok(())
    } else {
        Err(AccountError::BadLogin(login.to_string()))
    }
}

/// Creates an account (the password is hashed here: call from a blocking context or accept the
/// ~50 ms on the current thread).
pub async fn add_user(
    db: &Db,
    login: &str,
    department: &str,
    role: Role,
    password: &str,
    now: DateTime<Utc>,
) -> Result<(), AccountError> {
    check_login(login)?;
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AccountError::WeakPassword {
            min: MIN_PASSWORD_CHARS,
        });
    }
    let known: Option<String> = sqlx::query_scalar("SELECT code FROM departments WHERE code = $1")
        .bind(department)
        .fetch_optional(db.pool())
        .await
        .map_err(DbError::from)?;
    if known.is_none() {
        return Err(AccountError::UnknownDepartment(department.to_string()));
    }
    if find_user(db, login).await?.is_some() {
        return Err(AccountError::Exists(login.to_string()));
    }
    let pw = password.to_string();
    let hash = tokio::task::spawn_blocking(move || hash_password(&pw))
        .await
        .map_err(|e| AccountError::Hash(e.to_string()))??;
    sqlx::query(
        "INSERT INTO users (login, department, role, password_hash, failed_attempts, created_at)
         VALUES ($1, $2, $3, $4, 0, $5)",
    )
    .bind(login)
    .bind(department)
    .bind(role.as_str())
    .bind(hash)
    .bind(format_time(&now))
    .execute(db.pool())
    .await
    .map_err(DbError::from)?;
    Ok(())
}

fn user_from_row(r: &sqlx::any::AnyRow) -> Result<User, DbError> {
    let role = db::text(r, "role")?;
    Ok(User {
        login: db::text(r, "login")?,
        department: db::text(r, "department")?,
        role: role.parse().map_err(|_| DbError::Corrupt {
            what: "role",
            value: role.clone(),
        })?,
        failed_attempts: db::int(r, "failed_attempts")?,
        locked_until: db::opt_text(r, "locked_until")?.and_then(|t| parse_time(&t)),
    })
}

/// One account, if it exists.
pub async fn find_user(db: &Db, login: &str) -> Result<Option<User>, DbError> {
    let row = sqlx::query(
        "SELECT login, department, role, failed_attempts, locked_until FROM users WHERE login = $1",
    )
    .bind(login)
    .fetch_optional(db.pool())
    .await?;
    row.as_ref().map(user_from_row).transpose()
}

/// Every account, by login.
pub async fn list_users(db: &Db) -> Result<Vec<User>, DbError> {
    let rows = sqlx::query(
        "SELECT login, department, role, failed_attempts, locked_until FROM users ORDER BY login",
    )
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(user_from_row).collect()
}

/// The stored password hash of an account.
pub async fn password_hash(db: &Db, login: &str) -> Result<Option<String>, DbError> {
    Ok(
        sqlx::query_scalar("SELECT password_hash FROM users WHERE login = $1")
            .bind(login)
            .fetch_optional(db.pool())
            .await?,
    )
}

/// Counts a failed login; at `max_failures` in a row the account is locked until `now + lockout`.
/// Returns the lock time when this failure locked the account.
pub async fn record_failure(
    db: &Db,
    login: &str,
    now: DateTime<Utc>,
    max_failures: u32,
    lockout: chrono::Duration,
) -> Result<Option<DateTime<Utc>>, DbError> {
    let mut tx = db.begin_write().await?;
    let failures: Option<i64> = sqlx::query_scalar(
        "UPDATE users SET failed_attempts = failed_attempts + 1 WHERE login = $1
         RETURNING failed_attempts",
    )
    .bind(login)
    .fetch_optional(&mut *tx)
    .await?;
    let mut locked = None;
    if failures.is_some_and(|n| n >= i64::from(max_failures)) {
        let until = now + lockout;
        sqlx::query("UPDATE users SET failed_attempts = 0, locked_until = $2 WHERE login = $1")
            .bind(login)
            .bind(format_time(&until))
            .execute(&mut *tx)
            .await?;
        locked = Some(until);
    }
    tx.commit().await?;
    Ok(locked)
}

/// Clears the failure counter and any lock (a successful login, or an admin's unlock).
pub async fn clear_failures(db: &Db, login: &str) -> Result<(), DbError> {
    sqlx::query("UPDATE users SET failed_attempts = 0, locked_until = NULL WHERE login = $1")
        .bind(login)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Opens a session; returns the cookie value (the only copy of the id outside the client).
pub async fn create_session(
    db: &Db,
    login: &str,
    now: DateTime<Utc>,
    lifetime: chrono::Duration,
) -> Result<String, DbError> {
    let id = random_token();
    sqlx::query(
        "INSERT INTO sessions (id_sha256, login, csrf_token, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(super::blobs::sha256_hex(id.as_bytes()))
    .bind(login)
    .bind(random_token())
    .bind(format_time(&now))
    .bind(format_time(&(now + lifetime)))
    .execute(db.pool())
    .await?;
    Ok(id)
}

/// The live session of a cookie value, if any (expired sessions are not returned).
pub async fn find_session(
    db: &Db,
    cookie_id: &str,
    now: DateTime<Utc>,
) -> Result<Option<Session>, DbError> {
    let row = sqlx::query(
        "SELECT s.id_sha256, s.csrf_token, s.expires_at,
                u.login, u.department, u.role, u.failed_attempts, u.locked_until
         FROM sessions s JOIN users u ON u.login = s.login
         WHERE s.id_sha256 = $1 AND s.expires_at > $2",
    )
    .bind(super::blobs::sha256_hex(cookie_id.as_bytes()))
    .bind(format_time(&now))
    .fetch_optional(db.pool())
    .await?;
    let Some(r) = row else { return Ok(None) };
    let expires = db::text(&r, "expires_at")?;
    Ok(Some(Session {
        id_sha256: db::text(&r, "id_sha256")?,
        user: user_from_row(&r)?,
        csrf_token: db::text(&r, "csrf_token")?,
        expires_at: parse_time(&expires).ok_or(DbError::Corrupt {
            what: "session expiry",
            value: expires,
        })?,
    }))
}

/// Ends a session (logout).
pub async fn delete_session(db: &Db, id_sha256: &str) -> Result<(), DbError> {
    sqlx::query("DELETE FROM sessions WHERE id_sha256 = $1")
        .bind(id_sha256)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Removes expired sessions; returns how many.
pub async fn purge_sessions(db: &Db, now: DateTime<Utc>) -> Result<u64, DbError> {
    let r = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
        .bind(format_time(&now))
        .execute(db.pool())
        .await?;
    Ok(r.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_against_its_own_hash_only() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("correct horse batterz", &h));
        assert!(!verify_password("anything", "not a phc string"));
    }

    #[test]
    fn logins_with_path_or_markup_characters_are_refused() {
        for bad in ["", "../x", "a b", "<b>", &"x".repeat(65)] {
            assert!(check_login(bad).is_err(), "{bad}");
        }
        assert!(check_login("jan.kowalski-2_km").is_ok());
    }

    #[test]
    fn random_tokens_differ_and_are_url_safe() {
        let (a, b) = (random_token(), random_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert!(a
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    }
}
