//! Logging in and out, the session extractor and CSRF checks.
//!
//! The session cookie holds a random id whose SHA-256 is the database key (`storage::accounts`);
//! it is `HttpOnly`, `SameSite=Strict`, and `Secure` with the `__Host-` prefix when
//! `[web] secure_cookies` is on. Every POST form carries the session's CSRF token; the login form,
//! before any session exists, carries a token that must match a short-lived cookie (double submit).

use super::error::WebError;
use super::html;
use crate::app::App;
use crate::storage::accounts::{self, Session};
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use std::sync::Arc;

/// The logged-in user of a request; extracting it fails with [`WebError::LoginRequired`].
#[derive(Debug, Clone)]
pub struct Clerk(pub Session);

fn session_cookie(app: &App) -> &'static str {
    if app.config.web.secure_cookies {
        "__Host-podawcza_session"
    } else {
        "podawcza_session"
    }
}

fn login_cookie(app: &App) -> &'static str {
    if app.config.web.secure_cookies {
        "__Host-podawcza_login"
    } else {
        "podawcza_login"
    }
}

/// The value of a cookie of the request.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, path `/`, `Secure` when configured.
pub(crate) fn set_cookie(
    app: &App,
    name: &str,
    value: &str,
    max_age_secs: i64,
) -> Option<HeaderValue> {
    let secure = if app.config.web.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}{secure}"
    ))
    .ok()
}

/// Compares two tokens in time independent of where they differ.
pub fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

impl Clerk {
    /// Checks a form's CSRF token against the session's.
    pub fn check_csrf(&self, token: Option<&str>) -> Result<(), WebError> {
        match token {
            Some(t) if same_token(t, &self.0.csrf_token) => Ok(()),
            _ => Err(WebError::Csrf),
        }
    }

    /// The navigation bar of this user: who, where, statistics and logout.
    pub fn nav(&self) -> String {
        let u = &self.0.user;
        let admin = if u.role == accounts::Role::Admin {
            r#"<a href="/admin/users">Użytkownicy</a>"#
        } else {
            ""
        };
        format!(
            r#"<a href="/inbox">Skrzynka</a><a href="/stats">Statystyki</a>{admin}<span class="who">{} ({}, {})</span>
<form method="post" action="/logout"><input type="hidden" name="csrf" value="{}"><button type="submit" id="logout">Wyloguj</button></form>"#,
            html::h(&u.login),
            html::h(&u.department),
            role_label(u.role),
            html::h(&self.0.csrf_token)
        )
    }
}

/// The Polish name of a role.
pub fn role_label(r: accounts::Role) -> &'static str {
    match r {
        accounts::Role::Clerk => "urzędnik",
        accounts::Role::Intake => "biuro podawcze",
        accounts::Role::Admin => "administrator",
    }
}

impl FromRequestParts<Arc<App>> for Clerk {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, WebError> {
        let Some(id) = cookie(&parts.headers, session_cookie(app)) else {
            return Err(WebError::LoginRequired);
        };
        match accounts::find_session(&app.db, id, crate::clock::now()).await? {
            Some(s) => Ok(Clerk(s)),
            None => Err(WebError::LoginRequired),
        }
    }
}

fn login_page(app: &App, message: Option<&str>, login: &str) -> Response {
    let token = accounts::random_token();
    let message = message
        .map(|m| {
            format!(
                r#"<p class="message error" id="login-error">{}</p>"#,
                html::h(m)
            )
        })
        .unwrap_or_default();
    let body = html::fill(
        html::LOGIN,
        &[
            ("csrf", &token),
            ("message", &message),
            ("login", &html::h(login)),
        ],
    );
    let mut resp = Html(html::page("Logowanie", "", &body)).into_response();
    if let Some(c) = set_cookie(app, login_cookie(app), &token, 3600) {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    resp
}

/// `GET /login`.
pub async fn login_form(State(app): State<Arc<App>>) -> Response {
    login_page(&app, None, "")
}

/// The login form.
#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
}

/// `POST /login`: checks the password (argon2, off the async threads), counts failures, locks
/// the account after `[web] login_max_failures` in a row, and opens a session.
pub async fn login(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, WebError> {
    let expected = cookie(&headers, login_cookie(&app)).unwrap_or("");
    match form.csrf.as_deref() {
        Some(t) if !expected.is_empty() && same_token(t, expected) => {}
        _ => return Err(WebError::Csrf),
    }
    let web = &app.config.web;
    let now = crate::clock::now();
    let login = form.login.trim().to_string();
    let user = accounts::find_user(&app.db, &login).await?;
    if let Some(until) = user
        .as_ref()
        .and_then(|u| u.locked_until)
        .filter(|t| *t > now)
    {
        tracing::warn!(login = %login, "login refused: account locked");
        let local = until.with_timezone(&app.config.timezone());
        let msg = format!(
            "Konto zablokowane po zbyt wielu nieudanych próbach — do {}.",
            local.format("%H:%M")
        );
        return Ok(login_page(&app, Some(&msg), &login));
    }
    let hash = match &user {
        Some(_) => accounts::password_hash(&app.db, &login).await?,
        None => None,
    };
    let password = form.password;
    let ok = tokio::task::spawn_blocking(move || {
        let phc = hash.as_deref().unwrap_or_else(|| accounts::decoy_hash());
        accounts::verify_password(&password, phc) && hash.is_some()
    })
    .await
    .map_err(|e| WebError::Internal(e.to_string()))?;
    if !ok {
        let lockout = chrono::Duration::minutes(i64::from(web.login_lockout_minutes));
        let locked = if user.is_some() {
            accounts::record_failure(&app.db, &login, now, web.login_max_failures, lockout).await?
        } else {
            None
        };
        tracing::warn!(login = %login, locked = locked.is_some(), "login failed");
        return Ok(login_page(
            &app,
            Some("Nieprawidłowy login lub hasło."),
            &login,
        ));
    }
    accounts::clear_failures(&app.db, &login).await?;
    // Expired sessions are useless rows; logins are rare enough to sweep them here.
    accounts::purge_sessions(&app.db, now).await?;
    let lifetime = chrono::Duration::minutes(i64::from(web.session_minutes));
    let id = accounts::create_session(&app.db, &login, now, lifetime).await?;
    tracing::info!(login = %login, "logged in");
    let mut resp = Redirect::to("/inbox").into_response();
    if let Some(c) = set_cookie(&app, session_cookie(&app), &id, lifetime.num_seconds()) {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    if let Some(c) = set_cookie(&app, login_cookie(&app), "", 0) {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    Ok(resp)
}

/// A form carrying only its CSRF token.
#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: Option<String>,
}

/// `POST /logout`: deletes the session row (the cookie alone is worth nothing afterwards).
pub async fn logout(
    State(app): State<Arc<App>>,
    clerk: Clerk,
    Form(form): Form<CsrfForm>,
) -> Result<Response, WebError> {
    clerk.check_csrf(form.csrf.as_deref())?;
    accounts::delete_session(&app.db, &clerk.0.id_sha256).await?;
    tracing::info!(login = %clerk.0.user.login, "logged out");
    let mut resp = Redirect::to("/login").into_response();
    if let Some(c) = set_cookie(&app, session_cookie(&app), "", 0) {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_by_exact_name() {
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            HeaderValue::from_static("xpodawcza_session=bad; podawcza_session=good"),
        );
        assert_eq!(cookie(&h, "podawcza_session"), Some("good"));
        assert_eq!(cookie(&h, "other"), None);
    }

    #[test]
    fn tokens_compare_equal_only_when_identical() {
        assert!(same_token("abc", "abc"));
        assert!(!same_token("abc", "abd"));
        assert!(!same_token("abc", "ab"));
        assert!(!same_token("", "a"));
    }
}
