//! Account administration for the `admin` role: the list of users (role, department, lock) with
//! a form to add one and a button to unlock a locked account.

use super::auth::{role_label, Clerk};
use super::error::WebError;
use super::html::{self, h};
use crate::app::App;
use crate::storage::accounts::{self, Role};
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use std::sync::Arc;

fn require_admin(clerk: &Clerk) -> Result<(), WebError> {
    if clerk.0.user.role == Role::Admin {
        Ok(())
    } else {
        Err(WebError::Forbidden)
    }
}

/// `GET /admin/users`.
pub async fn users(State(app): State<Arc<App>>, clerk: Clerk) -> Result<Html<String>, WebError> {
    require_admin(&clerk)?;
    let now = crate::clock::now();
    let csrf = h(&clerk.0.csrf_token);
    let mut rows = String::new();
    for u in accounts::list_users(&app.db).await? {
        let locked = u.locked_until.filter(|t| *t > now).map(|t| {
            format!(
                r#"zablokowane do {} <form method="post" action="/admin/users/{}/unlock"><input type="hidden" name="csrf" value="{csrf}"><button type="submit">Odblokuj</button></form>"#,
                t.with_timezone(&app.config.timezone()).format("%Y-%m-%d %H:%M"),
                html::url_encode(&u.login)
            )
        });
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            h(&u.login),
            h(&u.department),
            role_label(u.role),
            locked.unwrap_or_else(|| format!("aktywne (nieudane próby: {})", u.failed_attempts))
        ));
    }
    let depts: Vec<(String, String)> =
        sqlx::query_as("SELECT code, name FROM departments ORDER BY code")
            .fetch_all(app.db.pool())
            .await?;
    let options: String = depts
        .iter()
        .map(|(c, n)| format!(r#"<option value="{}">{} — {}</option>"#, h(c), h(c), h(n)))
        .collect();
    let body = format!(
        r#"<h1>Użytkownicy</h1>
<table><thead><tr><th>Login</th><th>Wydział</th><th>Rola</th><th>Konto</th></tr></thead><tbody>{rows}</tbody></table>
<h2>Dodaj użytkownika</h2>
<form method="post" action="/admin/users" class="panel"><input type="hidden" name="csrf" value="{csrf}">
<label>Login <input name="login" required></label>
<label>Wydział <select name="department">{options}</select></label>
<label>Rola <select name="role"><option value="clerk">urzędnik</option><option value="intake">biuro podawcze</option><option value="admin">administrator</option></select></label>
<label>Hasło (min. {min} znaków) <input name="password" type="password" required autocomplete="new-password"></label>
<button type="submit">Dodaj</button></form>"#,
        min = accounts::MIN_PASSWORD_CHARS
    );
    Ok(Html(html::page("Użytkownicy", &clerk.nav(), &body)))
}

/// The add-user form.
#[derive(Debug, Deserialize)]
pub struct NewUser {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    login: String,
    #[serde(default)]
    department: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    password: String,
}

/// `POST /admin/users`.
pub async fn add_user(
    State(app): State<Arc<App>>,
    clerk: Clerk,
    Form(form): Form<NewUser>,
) -> Result<Response, WebError> {
    clerk.check_csrf(form.csrf.as_deref())?;
    require_admin(&clerk)?;
    let role: Role = form.role.parse()?;
    let login = form.login.trim();
    accounts::add_user(
        &app.db,
        login,
        &form.department,
        role,
        &form.password,
        crate::clock::now(),
    )
    .await?;
    tracing::info!(login = %login, by = %clerk.0.user.login, "user added");
    Ok(Redirect::to("/admin/users").into_response())
}

/// A form with only the CSRF token.
#[derive(Debug, Deserialize)]
pub struct Csrf {
    #[serde(default)]
    csrf: Option<String>,
}

/// `POST /admin/users/{login}/unlock`.
pub async fn unlock(
    State(app): State<Arc<App>>,
    clerk: Clerk,
    Path(login): Path<String>,
    Form(form): Form<Csrf>,
) -> Result<Response, WebError> {
    clerk.check_csrf(form.csrf.as_deref())?;
    require_admin(&clerk)?;
    accounts::find_user(&app.db, &login)
        .await?
        .ok_or(WebError::NotFound)?;
    accounts::clear_failures(&app.db, &login).await?;
    tracing::info!(login = %login, by = %clerk.0.user.login, "user unlocked");
    Ok(Redirect::to("/admin/users").into_response())
}
