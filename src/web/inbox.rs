//! The department inbox pages: the list `/inbox` (filters, counts, paging, badges, KPA time
//! limits), the detail `/inbox/{id}` (documents, signature panels, timeline), downloads of the
//! exact originals, and the clerks' actions. Every query is scoped to what the user may see, and
//! anything outside that scope is answered 404, like something that does not exist.

use super::auth::Clerk;
use super::error::WebError;
use super::html::{self, h, mask_pesel};
use super::signature;
use crate::app::App;
use crate::model::{Channel, Document, State as PipelineState, Submission};
use crate::storage::inbox::{
    self, Action, ClerkState, InboxFilter, PageAt, Scope, SortKey, Validity,
};
use crate::storage::{audit, queries};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use serde::Deserialize;
use std::sync::Arc;

/// The scope of a user: a clerk their department, intake and admin everything.
pub fn scope_of(clerk: &Clerk) -> Scope {
    let u = &clerk.0.user;
    Scope {
        department: (!u.role.sees_all()).then(|| u.department.clone()),
    }
}

/// Query parameters of the list (all optional, as typed in the filter form).
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    stan: Option<String>,
    #[serde(default)]
    etap: Option<String>,
    #[serde(default)]
    kanal: Option<String>,
    #[serde(default)]
    podpis: Option<String>,
    #[serde(default)]
    rodzaj: Option<String>,
    #[serde(default)]
    waznosc: Option<String>,
    #[serde(default)]
    od: Option<String>,
    #[serde(default, rename = "do")]
    do_: Option<String>,
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    wydzial: Option<String>,
    #[serde(default)]
    strona: Option<String>,
    /// The key of the last row of the page before (the "next" link).
    #[serde(default)]
    po: Option<String>,
    /// The key of the first row of the page after (the "previous" link).
    #[serde(default)]
    przed: Option<String>,
}

fn nonempty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl ListQuery {
    /// The query string of these filters (for links), without the page and the clerk state.
    fn base(&self) -> String {
        let mut parts = Vec::new();
        for (k, v) in [
            ("etap", &self.etap),
            ("kanal", &self.kanal),
            ("podpis", &self.podpis),
            ("rodzaj", &self.rodzaj),
            ("waznosc", &self.waznosc),
            ("od", &self.od),
            ("do", &self.do_),
            ("q", &self.q),
            ("wydzial", &self.wydzial),
        ] {
            if let Some(v) = nonempty(v) {
                parts.push(format!("{k}={}", html::url_encode(v)));
            }
        }
        parts.join("&")
    }

    fn filter(&self, tz: chrono_tz::Tz) -> Result<InboxFilter, WebError> {
        let bad =
            |what: &str| WebError::BadRequest(format!("Nieprawidłowa wartość filtra: {what}"));
        let day = |v: &str, next: bool| -> Result<DateTime<Utc>, WebError> {
            let d = NaiveDate::parse_from_str(v, "%Y-%m-%d").map_err(|_| bad("data"))?;
            let d = if next {
                d.succ_opt().ok_or_else(|| bad("data"))?
            } else {
                d
            };
            let local = d.and_hms_opt(0, 0, 0).ok_or_else(|| bad("data"))?;
            tz.from_local_datetime(&local)
                .earliest()
                .map(|t| t.with_timezone(&Utc))
                .ok_or_else(|| bad("data"))
        };
        Ok(InboxFilter {
            clerk_state: nonempty(&self.stan)
                .map(str::parse)
                .transpose()
                .map_err(|_| bad("stan"))?,
            state: nonempty(&self.etap)
                .map(str::parse::<PipelineState>)
                .transpose()
                .map_err(|_| bad("etap"))?,
            department: nonempty(&self.wydzial).map(str::to_string),
            channel: nonempty(&self.kanal)
                .map(|c| c.parse::<Channel>().map(|c| c.as_str().to_string()))
                .transpose()
                .map_err(|_| bad("kanał"))?,
            signed: match nonempty(&self.podpis) {
                None => None,
                Some("tak") => Some(true),
                Some("nie") => Some(false),
                Some(_) => return Err(bad("podpis")),
            },
            kind: match nonempty(&self.rodzaj) {
                None => None,
                Some(k)
                    if signature::kind_label(k) != signature::kind_label("?") || k == "unknown" =>
                {
                    Some(k.to_string())
                }
                Some(_) => return Err(bad("rodzaj podpisu")),
            },
            validity: nonempty(&self.waznosc)
                .map(str::parse::<Validity>)
                .transpose()
                .map_err(|_| bad("ważność"))?,
            from: nonempty(&self.od).map(|v| day(v, false)).transpose()?,
            until: nonempty(&self.do_).map(|v| day(v, true)).transpose()?,
            text: nonempty(&self.q).map(str::to_string),
        })
    }
}

/// A time limit for dealing with a matter (KPA art. 35 and special laws).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeLimit {
    /// Calendar months after the arrival day.
    Months(u32),
    /// Days after the arrival day.
    Days(u32),
}

impl TimeLimit {
    fn of(months: Option<u32>, days: Option<u32>) -> Option<TimeLimit> {
        days.map(TimeLimit::Days).or(months.map(TimeLimit::Months))
    }

    /// Polish, e.g. "1 mies." or "14 dni".
    pub fn label(self) -> String {
        match self {
            TimeLimit::Months(n) => format!("{n} mies."),
            TimeLimit::Days(1) => "1 dzień".to_string(),
            TimeLimit::Days(n) => format!("{n} dni"),
        }
    }
}

/// The time limit of a submission: its routing rule's (`[[routing.rules]] deadline_*`), else its
/// department's (`[[routing.departments]] deadline_*`), else `[web] deadline_months`; with where
/// it came from, for the clerk.
pub fn time_limit(
    config: &crate::config::Config,
    routing_rule: Option<&str>,
    department: Option<&str>,
) -> (TimeLimit, String) {
    let rule = routing_rule.and_then(|name| {
        config
            .routing
            .rules
            .iter()
            .find(|r| r.name == name)
            .and_then(|r| TimeLimit::of(r.deadline_months, r.deadline_days))
            .map(|l| (l, format!("reguła {name}")))
    });
    let department = || {
        department.and_then(|code| {
            config
                .routing
                .departments
                .iter()
                .find(|d| d.code == code)
                .and_then(|d| TimeLimit::of(d.deadline_months, d.deadline_days))
                .map(|l| (l, format!("wydział {code}")))
        })
    };
    rule.or_else(department).unwrap_or((
        TimeLimit::Months(config.web.deadline_months),
        "KPA art. 35".to_string(),
    ))
}

/// The deadline: `limit` after the arrival day (KPA art. 57: a time limit in months ends on the
/// same day of the month, or the month's last day), in the office's time zone.
pub fn deadline(received: DateTime<Utc>, limit: TimeLimit, tz: chrono_tz::Tz) -> NaiveDate {
    let day = received.with_timezone(&tz).date_naive();
    match limit {
        TimeLimit::Months(m) => day.checked_add_months(chrono::Months::new(m)),
        TimeLimit::Days(d) => day.checked_add_days(chrono::Days::new(u64::from(d))),
    }
    .unwrap_or(day)
}

fn deadline_cell(
    s: &Submission,
    state: ClerkState,
    app: &App,
    today: NaiveDate,
    basis: bool,
) -> String {
    let tz = app.config.timezone();
    let (limit, source) = time_limit(
        &app.config,
        s.routing_rule.as_deref(),
        s.department.as_deref(),
    );
    let d = deadline(s.received_at, limit, tz);
    let basis = if basis {
        format!(
            r#"<br><small class="limit">{} ({})</small>"#,
            h(&limit.label()),
            h(&source)
        )
    } else {
        String::new()
    };
    if state == ClerkState::Done {
        return format!(r#"<span class="deadline">{d}</span>{basis}"#);
    }
    let left = (d - today).num_days();
    let (class, text) = match left {
        n if n < 0 => ("late", format!("po terminie {} dni", -n)),
        0 => ("soon", "termin dziś".to_string()),
        1 => ("soon", "został 1 dzień".to_string()),
        n if n <= 7 => ("soon", format!("zostało {n} dni")),
        n => ("", format!("zostało {n} dni")),
    };
    format!(r#"<span class="deadline {class}">{d}<br>{text}</span>{basis}"#)
}

fn select(name: &str, current: Option<&str>, options: &[(&str, &str)]) -> String {
    let mut out =
        format!(r#"<select name="{name}" id="f-{name}"><option value="">wszystkie</option>"#);
    for (value, label) in options {
        let sel = if current == Some(*value) {
            " selected"
        } else {
            ""
        };
        out.push_str(&format!(
            r#"<option value="{value}"{sel}>{}</option>"#,
            h(label)
        ));
    }
    out.push_str("</select>");
    out
}

fn filter_form(q: &ListQuery, clerk: &Clerk, departments: &[(String, String)]) -> String {
    let dept = if clerk.0.user.role.sees_all() {
        let opts: Vec<(&str, &str)> = departments
            .iter()
            .map(|(c, n)| (c.as_str(), n.as_str()))
            .collect();
        format!(
            "<label>Wydział{}</label>",
            select("wydzial", nonempty(&q.wydzial), &opts)
        )
    } else {
        String::new()
    };
    let stan = q
        .stan
        .as_deref()
        .map(|s| format!(r#"<input type="hidden" name="stan" value="{}">"#, h(s)))
        .unwrap_or_default();
    format!(
        r#"<form class="filters" method="get" action="/inbox">{stan}
<label>Szukaj<input name="q" id="f-q" value="{q}" placeholder="nadawca, temat, plik, nr RPW"></label>
<label>Kanał{kanal}</label>
<label>Podpis{podpis}</label>
<label>Rodzaj podpisu{rodzaj}</label>
<label>Ważność podpisu{waznosc}</label>
<label>Etap{etap}</label>
{dept}
<label>Od<input type="date" name="od" value="{od}"></label>
<label>Do<input type="date" name="do" value="{do_}"></label>
<button type="submit" id="f-submit">Filtruj</button> <a href="/inbox">wyczyść</a>
</form>"#,
        q = h(nonempty(&q.q).unwrap_or("")),
        kanal = select(
            "kanal",
            nonempty(&q.kanal),
            &[("email", "e-mail"), ("upload", "formularz"), ("api", "API")]
        ),
        podpis = select(
            "podpis",
            nonempty(&q.podpis),
            &[("tak", "podpisane"), ("nie", "bez podpisu")]
        ),
        rodzaj = select(
            "rodzaj",
            nonempty(&q.rodzaj),
            &[
                ("qes", "kwalifikowany"),
                ("trusted_profile", "zaufany"),
                ("personal", "osobisty"),
                ("qualified_seal", "pieczęć kwalifikowana"),
                ("advanced", "zaawansowany"),
                ("unknown", "nieustalony"),
            ]
        ),
        waznosc = select(
            "waznosc",
            nonempty(&q.waznosc),
            &[
                ("problem", "nieważny lub nierozstrzygnięty"),
                ("failed", "nieważny"),
                ("indeterminate", "nierozstrzygnięty"),
                ("passed", "ważny"),
            ]
        ),
        etap = select(
            "etap",
            nonempty(&q.etap),
            &[
                ("dispatched", "przekazane"),
                ("quarantined", "kwarantanna"),
                ("received", "przyjęte"),
                ("classified", "sklasyfikowane"),
            ]
        ),
        od = h(nonempty(&q.od).unwrap_or("")),
        do_ = h(nonempty(&q.do_).unwrap_or("")),
    )
}

/// How long the list of departments is reused: the table changes only when the configuration
/// is synced into it, at start-up.
const DEPARTMENTS_TTL: std::time::Duration = std::time::Duration::from_secs(60);

/// The departments per database (by URL): when read, and their codes and names.
type DepartmentCache = Vec<(String, std::time::Instant, Arc<Vec<(String, String)>>)>;

/// The departments (code, name) by code, read at most once a [`DEPARTMENTS_TTL`] per database.
async fn departments(app: &App) -> Result<Arc<Vec<(String, String)>>, WebError> {
    static DEPARTMENTS: std::sync::Mutex<DepartmentCache> = std::sync::Mutex::new(Vec::new());
    let url = app.db.pool().connect_options().database_url.to_string();
    let now = std::time::Instant::now();
    if let Ok(cache) = DEPARTMENTS.lock() {
        if let Some((_, _, d)) = cache
            .iter()
            .find(|(u, at, _)| *u == url && now.duration_since(*at) < DEPARTMENTS_TTL)
        {
            return Ok(d.clone());
        }
    }
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT code, name FROM departments ORDER BY code")
            .fetch_all(app.db.pool())
            .await?;
    let rows = Arc::new(rows);
    if let Ok(mut cache) = DEPARTMENTS.lock() {
        cache.retain(|(u, at, _)| *u != url && now.duration_since(*at) < DEPARTMENTS_TTL);
        cache.push((url, now, rows.clone()));
    }
    Ok(rows)
}

/// `GET /inbox`.
pub async fn list(
    State(app): State<Arc<App>>,
    clerk: Clerk,
    Query(q): Query<ListQuery>,
) -> Result<Html<String>, WebError> {
    let tz = app.config.timezone();
    let filter = q.filter(tz)?;
    let scope = scope_of(&clerk);
    let page_no: u32 = nonempty(&q.strona)
        .map(str::parse)
        .transpose()
        .map_err(|_| WebError::BadRequest("Nieprawidłowy numer strony".into()))?
        .unwrap_or(1)
        .clamp(1, 100_000);
    let key = |v: &str| {
        SortKey::parse(v).ok_or_else(|| WebError::BadRequest("Nieprawidłowy adres strony".into()))
    };
    // A link of the pager carries the key of the row it continues from (the page number is only
    // shown); a page typed by number is counted from the top.
    let at = match (nonempty(&q.po), nonempty(&q.przed)) {
        (Some(v), _) => PageAt::After(key(v)?),
        (None, Some(v)) => PageAt::Before(key(v)?),
        (None, None) => PageAt::Number(page_no),
    };
    let size = app.config.web.page_size;
    let (page, counts) = inbox::browse(&app.db, &scope, &filter, &at, size).await?;
    let docs = &page.documents;
    let today = crate::clock::now().with_timezone(&tz).date_naive();
    let base = q.base();
    let amp = if base.is_empty() { "" } else { "&" };

    let shown = |n: i64| {
        if n > inbox::COUNT_CAP {
            format!("ponad {}", inbox::COUNT_CAP)
        } else {
            n.to_string()
        }
    };
    let mut tabs = format!(
        r#"<nav class="tabs"><a href="/inbox?{base}" class="{}">wszystkie ({})</a>"#,
        if filter.clerk_state.is_none() {
            "current"
        } else {
            ""
        },
        shown(counts.total)
    );
    for (cs, n) in &counts.states {
        tabs.push_str(&format!(
            r#"<a href="/inbox?{base}{amp}stan={}" class="{}" id="tab-{}">{}{}</a>"#,
            cs.as_str(),
            if filter.clerk_state == Some(*cs) {
                "current"
            } else {
                ""
            },
            cs.as_str(),
            cs.label(),
            n.map(|n| format!(" ({})", shown(n))).unwrap_or_default()
        ));
    }
    tabs.push_str("</nav>");

    let mut rows = String::new();
    for r in &page.rows {
        let s = &r.submission;
        let sd = docs.get(&s.id.0).map(Vec::as_slice).unwrap_or(&[]);
        let (verdict, kinds) = signature::summarize(sd);
        let kinds: Vec<&str> = kinds.iter().map(|k| signature::kind_label(k)).collect();
        let names: Vec<String> = sd.iter().take(5).map(|d| h(&mask_pesel(&d.name))).collect();
        let more = sd.len().saturating_sub(5);
        rows.push_str(&format!(
            r#"<tr class="{cls}" data-id="{id}"><td><a href="/inbox/{id}">{num}</a></td><td>{at}</td><td>{deadline}</td>
<td>{sender}</td><td><a href="/inbox/{id}" class="subject">{subject}</a></td><td class="docs">{names}{more}</td>
<td>{badge}<br><small>{kinds}</small></td><td>{dept}</td><td>{cs}<br><small>{assignee}</small></td></tr>"#,
            cls = if verdict.is_problem() { "problem" } else { "" },
            id = h(&s.id.0),
            num = h(&s.registration_number),
            at = s.received_at.with_timezone(&tz).format("%Y-%m-%d %H:%M"),
            deadline = deadline_cell(s, r.clerk_state, &app, today, false),
            sender = h(&mask_pesel(s.sender_name.as_deref().or(s.sender.as_deref()).unwrap_or("—"))),
            subject = h(&mask_pesel(s.subject.as_deref().unwrap_or("(bez tematu)"))),
            names = names.join("<br>"),
            more = if more > 0 { format!("<br>… i {more} więcej") } else { String::new() },
            badge = verdict.badge(),
            kinds = h(&kinds.join(", ")),
            dept = h(s.department.as_deref().unwrap_or("—")),
            cs = r.clerk_state.label(),
            assignee = h(r.assignee.as_deref().unwrap_or("")),
        ));
    }
    if rows.is_empty() {
        rows =
            r#"<tr><td colspan="9" id="empty">Brak pism spełniających warunki.</td></tr>"#.into();
    }
    let stan = filter
        .clerk_state
        .map(|c| format!("&stan={}", c.as_str()))
        .unwrap_or_default();
    let mut pager = String::from(r#"<nav class="pager">"#);
    if page_no > 1 {
        // The first page has no key: it is the top of the list.
        let from = match page.rows.first() {
            Some(r) if page_no > 2 => format!("&przed={}", html::url_encode(&r.key.to_param())),
            _ => String::new(),
        };
        pager.push_str(&format!(
            r#"<a href="/inbox?{base}{stan}&strona={}{}" rel="prev">« poprzednia</a>"#,
            page_no - 1,
            from
        ));
    }
    pager.push_str(&format!("strona {page_no}"));
    if let (true, Some(last)) = (page.has_more, page.rows.last()) {
        pager.push_str(&format!(
            r#" <a href="/inbox?{base}{stan}&strona={}&po={}" rel="next">następna »</a>"#,
            page_no.saturating_add(1),
            html::url_encode(&last.key.to_param())
        ));
    }
    pager.push_str("</nav>");

    let who = match &scope.department {
        Some(d) => format!("Wydział {}", h(d)),
        None => "Wszystkie wydziały".to_string(),
    };
    // Only intake and administrators choose a department (a clerk's form has no such field).
    let depts = if clerk.0.user.role.sees_all() {
        departments(&app).await?
    } else {
        Arc::new(Vec::new())
    };
    let body = format!(
        r#"<h1>Skrzynka — {who}</h1>{tabs}{form}
<table id="inbox"><thead><tr><th>Nr RPW</th><th>Wpłynęło</th><th>Termin KPA</th><th>Nadawca</th><th>Temat</th><th>Dokumenty</th><th>Podpis</th><th>Wydział</th><th>Stan</th></tr></thead>
<tbody>{rows}</tbody></table>{pager}"#,
        form = filter_form(&q, &clerk, &depts),
    );
    Ok(Html(html::page("Skrzynka", &clerk.nav(), &body)))
}

async fn visible(app: &App, clerk: &Clerk, id: &str) -> Result<inbox::Row, WebError> {
    inbox::find(&app.db, &scope_of(clerk), id)
        .await?
        .ok_or(WebError::NotFound)
}

fn action_label(a: &str) -> &str {
    match a {
        "registered" => "zarejestrowano",
        "state_changed" => "zmiana etapu przetwarzania",
        "assigned" | "dispatched" => "przekazano do wydziału",
        "quarantined" => "kwarantanna",
        "inbox_taken" => "przyjęto do prowadzenia",
        "reassigned" => "dekretacja do innego wydziału",
        "clerk_state_changed" => "zmiana stanu sprawy",
        "commented" => "komentarz",
        other => other,
    }
}

fn detail_summary(detail: &serde_json::Value) -> String {
    match detail.as_object() {
        Some(m) if !m.is_empty() => m
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| {
                let v = v
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| v.to_string());
                format!("{}: {}", h(k), h(&v))
            })
            .collect::<Vec<_>>()
            .join(", "),
        _ => String::new(),
    }
}

/// `GET /inbox/{id}`.
pub async fn detail(
    State(app): State<Arc<App>>,
    clerk: Clerk,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let row = visible(&app, &clerk, &id).await?;
    let s = &row.submission;
    let tz = app.config.timezone();
    let docs = queries::documents(&app.db, &s.id).await?;
    let events = audit::events(&app.db, &s.id).await?;
    let (verdict, _) = signature::summarize(&docs);
    let today = crate::clock::now().with_timezone(&tz).date_naive();
    let csrf = h(&clerk.0.csrf_token);
    let sid = h(&s.id.0);

    let mut facts = String::new();
    let mut fact = |label: &str, value: String| {
        facts.push_str(&format!("<dt>{label}</dt><dd>{value}</dd>"));
    };
    fact("Nr RPW", h(&s.registration_number));
    fact(
        "Nadawca",
        h(&format!(
            "{} <{}>",
            s.sender_name.as_deref().unwrap_or(""),
            s.sender.as_deref().unwrap_or("—")
        )),
    );
    fact("Adresaci", h(&s.recipients.join(", ")));
    fact(
        "Wpłynęło",
        format!(
            "{} <small>(źródło czasu: {})</small>",
            s.received_at
                .with_timezone(&tz)
                .format("%Y-%m-%d %H:%M:%S %Z"),
            h(&s.arrival_source)
        ),
    );
    fact("Kanał", h(s.channel.as_str()));
    fact("Wydział", h(s.department.as_deref().unwrap_or("—")));
    fact("Etap", h(s.state.as_str()));
    fact(
        "Stan sprawy",
        format!(
            r#"<span id="clerk-state">{}</span>"#,
            row.clerk_state.label()
        ),
    );
    fact("Prowadzi", h(row.assignee.as_deref().unwrap_or("—")));
    fact(
        "Termin załatwienia",
        deadline_cell(s, row.clerk_state, &app, today, true),
    );
    if let Some(r) = &s.quarantine_reason {
        fact("Kwarantanna", h(r));
    }
    let raw_name = if s.channel == Channel::Email {
        "oryginał .eml"
    } else {
        "oryginał"
    };
    fact(
        "Oryginał",
        format!(
            r#"<a href="/inbox/{sid}/original" id="download-original" download>Pobierz {raw_name}</a> ({}) SHA-256 <span class="hash">{}</span>"#,
            html::size(s.raw_size),
            h(&s.raw_sha256)
        ),
    );

    let mut documents = String::new();
    for d in &docs {
        documents.push_str(&document_section(&sid, d));
    }
    if docs.is_empty() {
        documents.push_str(r#"<p class="hint">Brak dokumentów.</p>"#);
    }

    let mut timeline = String::from(r#"<ol class="timeline" id="timeline">"#);
    for e in &events {
        timeline.push_str(&format!(
            "<li><time>{}</time> <b>{}</b> — {} <small>{}</small>{}</li>",
            e.at.with_timezone(&tz).format("%Y-%m-%d %H:%M:%S"),
            h(&e.actor),
            h(action_label(&e.action)),
            detail_summary(&e.detail),
            e.reason
                .as_deref()
                .map(|r| format!(r#"<br><q class="reason">{}</q>"#, h(r)))
                .unwrap_or_default()
        ));
    }
    timeline.push_str("</ol>");

    let body = format!(
        r#"<p><a href="/inbox">« skrzynka</a></p>
<h1 id="subject">{subject}</h1><p>{badge}</p>
<dl class="facts">{facts}</dl>
{actions}
<h2>Treść</h2><pre class="text">{text}</pre>
<h2>Dokumenty ({n})</h2>{documents}
<h2>Historia</h2>{timeline}"#,
        subject = h(s.subject.as_deref().unwrap_or("(bez tematu)")),
        badge = verdict.badge(),
        actions = actions(&app, &sid, &csrf, &row, &departments(&app).await?),
        text = h(s.text.as_deref().unwrap_or("")),
        n = docs.len(),
    );
    let page = Html(html::page(
        &format!(
            "{} — {}",
            s.registration_number,
            s.subject.as_deref().unwrap_or("")
        ),
        &clerk.nav(),
        &body,
    ));
    if docs.iter().any(previewable) {
        // The page frames its own PDF previews; nothing else changes in its policy.
        let csp = HeaderValue::from_static(DETAIL_CSP);
        return Ok(([(header::CONTENT_SECURITY_POLICY, csp)], page).into_response());
    }
    Ok(page.into_response())
}

/// The policy of a detail page showing PDF previews: the common one ([`super::pages::CSP`]) and
/// frames from this origin.
pub const DETAIL_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
                              form-action 'self'; frame-src 'self'; frame-ancestors 'none'; \
                              base-uri 'none'";

/// The policy of a PDF served inline for the preview: a sandbox (an opaque origin, no scripts,
/// no forms, no top navigation), so an active PDF cannot act as this origin; framed only by this
/// origin's pages.
pub const PREVIEW_CSP: &str = "sandbox; frame-ancestors 'self'";

/// Whether a document gets a preview: stored as a PDF and starting like one (a PDF may have up
/// to 1024 bytes before `%PDF-`, ISO 32000-1 §7.5.2; the bytes are checked again when served).
fn previewable(d: &Document) -> bool {
    d.media_type == "application/pdf"
}

/// Whether `bytes` are a PDF by their header.
fn looks_like_pdf(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(1024)];
    head.windows(5).any(|w| w == b"%PDF-")
}

fn document_section(sid: &str, d: &Document) -> String {
    let from = if d.container.is_empty() {
        String::new()
    } else {
        format!("<br><small>z: {}</small>", h(&d.container))
    };
    let did = h(&d.id);
    let preview = if previewable(d) {
        format!(
            r#"<details class="preview" open><summary>Podgląd PDF</summary><iframe src="/inbox/{sid}/documents/{did}?preview=1" id="preview-{seq}" title="Podgląd: {name}" class="preview"></iframe><p><a href="/inbox/{sid}/documents/{did}?preview=1" target="_blank" rel="noopener">Otwórz podgląd w nowej karcie</a> — podgląd jest odizolowany od skrzynki (piaskownica przeglądarki); do pracy na dokumencie pobierz oryginał.</p></details>"#,
            seq = d.seq,
            name = h(&d.name),
        )
    } else {
        String::new()
    };
    format!(
        r#"<section class="document" id="doc-{seq}"><h3>{seq}. {name}</h3>
<p><a href="/inbox/{sid}/documents/{did}" class="download" download>Pobierz oryginał</a> · {media} · {size} · SHA-256 <span class="hash">{sha}</span>{from}</p>
{preview}{panel}</section>"#,
        seq = d.seq,
        name = h(&d.name),
        media = h(&d.media_type),
        size = html::size(d.size),
        sha = h(&d.sha256),
        panel = signature::panel(d),
    )
}

fn actions(
    _app: &App,
    sid: &str,
    csrf: &str,
    row: &inbox::Row,
    depts: &[(String, String)],
) -> String {
    let ready = matches!(
        row.submission.state,
        PipelineState::Dispatched | PipelineState::Quarantined
    );
    if !ready {
        return r#"<p class="message">Pismo jest jeszcze w przetwarzaniu; czynności będą dostępne po przekazaniu do wydziału.</p>"#.into();
    }
    let states: String = ClerkState::ALL
        .iter()
        .filter(|c| **c != row.clerk_state)
        .map(|c| format!(r#"<option value="{}">{}</option>"#, c.as_str(), c.label()))
        .collect();
    let current = row.submission.department.as_deref();
    let targets: String = depts
        .iter()
        .filter(|(c, _)| Some(c.as_str()) != current)
        .map(|(c, n)| format!(r#"<option value="{}">{} — {}</option>"#, h(c), h(c), h(n)))
        .collect();
    format!(
        r#"<h2>Czynności</h2><div class="actions">
<form method="post" action="/inbox/{sid}/take"><input type="hidden" name="csrf" value="{csrf}"><button type="submit" id="take">Przyjmij do prowadzenia</button></form>
<form method="post" action="/inbox/{sid}/state"><input type="hidden" name="csrf" value="{csrf}"><label>Stan sprawy <select name="state" id="state-select">{states}</select></label> <button type="submit" id="set-state">Zmień</button></form>
<form method="post" action="/inbox/{sid}/assign"><input type="hidden" name="csrf" value="{csrf}"><label>Dekretuj do <select name="department" id="assign-department">{targets}</select></label><br><label>Uzasadnienie (wymagane)<br><textarea name="note" id="assign-note" required rows="2" cols="40"></textarea></label><br><button type="submit" id="assign">Przekaż</button></form>
<form method="post" action="/inbox/{sid}/comment"><input type="hidden" name="csrf" value="{csrf}"><label>Komentarz<br><textarea name="text" id="comment-text" required rows="2" cols="40"></textarea></label><br><button type="submit" id="comment">Dodaj</button></form>
</div>"#
    )
}

/// Content-Disposition for a download: an ASCII fallback and the exact name as RFC 5987
/// `filename*` (RFC 6266 §4.3). The name is only ever a header value, never a path.
pub fn content_disposition(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let base = if base.trim_matches('.').is_empty() {
        "dokument"
    } else {
        base
    };
    let ascii: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ' ') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for b in base.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// The verified bytes of a blob (off the async threads).
async fn blob(app: &Arc<App>, key: &str) -> Result<Vec<u8>, WebError> {
    let app = app.clone();
    let key = key.to_string();
    Ok(
        tokio::task::spawn_blocking(move || app.blobs.get_verified(&key))
            .await
            .map_err(|e| WebError::Internal(e.to_string()))??,
    )
}

async fn send_blob(app: &Arc<App>, key: &str, name: &str) -> Result<Response, WebError> {
    let bytes = blob(app, key).await?;
    let disposition = HeaderValue::from_str(&content_disposition(name))
        .map_err(|e| WebError::Internal(e.to_string()))?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-store"),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// Query of a document download.
#[derive(Debug, Default, Deserialize)]
pub struct DocumentQuery {
    #[serde(default)]
    preview: Option<String>,
}

/// `GET /inbox/{id}/documents/{doc}`: the exact bytes of one document (blob key from the DB), as
/// an attachment; with `?preview=1` a PDF inline for the detail page's frame, sandboxed
/// ([`PREVIEW_CSP`]).
pub async fn document(
    State(app): State<Arc<App>>,
    clerk: Clerk,
    Path((id, doc)): Path<(String, String)>,
    Query(q): Query<DocumentQuery>,
) -> Result<Response, WebError> {
    let row = visible(&app, &clerk, &id).await?;
    let docs = queries::documents(&app.db, &row.submission.id).await?;
    let d = docs
        .iter()
        .find(|d| d.id == doc)
        .ok_or(WebError::NotFound)?;
    if q.preview.as_deref().is_some_and(|p| !p.is_empty()) {
        return preview(&app, d).await;
    }
    send_blob(&app, &d.sha256, &d.name).await
}

async fn preview(app: &Arc<App>, d: &Document) -> Result<Response, WebError> {
    let no_preview = || WebError::BadRequest("Podgląd jest dostępny tylko dla plików PDF.".into());
    if !previewable(d) {
        return Err(no_preview());
    }
    let bytes = blob(app, &d.sha256).await?;
    if !looks_like_pdf(&bytes) {
        return Err(no_preview());
    }
    let disposition =
        HeaderValue::from_str(&content_disposition(&d.name).replacen("attachment", "inline", 1))
            .map_err(|e| WebError::Internal(e.to_string()))?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/pdf"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-store"),
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(PREVIEW_CSP),
            ),
            (
                header::X_FRAME_OPTIONS,
                HeaderValue::from_static("SAMEORIGIN"),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// `GET /inbox/{id}/original`: the whole submission as received (the `.eml` of a mail).
pub async fn original(
    State(app): State<Arc<App>>,
    clerk: Clerk,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let row = visible(&app, &clerk, &id).await?;
    let s = &row.submission;
    let stem: String = s
        .registration_number
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let ext = if s.channel == Channel::Email {
        "eml"
    } else {
        "bin"
    };
    send_blob(&app, &s.raw_sha256, &format!("{stem}.{ext}")).await
}

/// The fields of the action forms (each form sends only some).
#[derive(Debug, Default, Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    department: Option<String>,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    text: Option<String>,
}

/// `POST /inbox/{id}/{action}`: take, state, assign, comment.
pub async fn act(
    State(app): State<Arc<App>>,
    clerk: Clerk,
    Path((id, verb)): Path<(String, String)>,
    Form(form): Form<ActionForm>,
) -> Result<Response, WebError> {
    clerk.check_csrf(form.csrf.as_deref())?;
    let action = match verb.as_str() {
        "take" => Action::Take,
        "state" => Action::SetState(
            form.state
                .as_deref()
                .unwrap_or("")
                .parse()
                .map_err(WebError::from)?,
        ),
        "assign" => Action::Reassign {
            department: form.department.unwrap_or_default(),
            note: form.note.unwrap_or_default(),
        },
        "comment" => Action::Comment(form.text.unwrap_or_default()),
        _ => return Err(WebError::NotFound),
    };
    let scope = scope_of(&clerk);
    inbox::act(
        &app.db,
        &scope,
        &id,
        &clerk.0.user.login,
        &action,
        crate::clock::now(),
    )
    .await?;
    tracing::info!(submission_id = %id, action = %verb, login = %clerk.0.user.login, "inbox action");
    // After a re-assignment away from a clerk's own department the page is no longer theirs.
    let still_visible = inbox::find(&app.db, &scope, &id).await?.is_some();
    let to = if still_visible {
        format!("/inbox/{}", html::url_encode(&id))
    } else {
        "/inbox".into()
    };
    Ok(Redirect::to(&to).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Datelike;

    #[test]
    fn the_kpa_deadline_is_one_month_after_the_local_arrival_day() {
        let tz: chrono_tz::Tz = "Europe/Warsaw".parse().unwrap();
        // 23:30 UTC on 31 January is already 1 February in Warsaw.
        let t = Utc.with_ymd_and_hms(2020, 1, 31, 23, 30, 0).unwrap();
        assert_eq!(
            deadline(t, TimeLimit::Months(1), tz),
            NaiveDate::from_ymd_opt(2020, 3, 1).unwrap()
        );
        let t = Utc.with_ymd_and_hms(2020, 1, 31, 10, 0, 0).unwrap();
        assert_eq!(
            deadline(t, TimeLimit::Months(1), tz),
            NaiveDate::from_ymd_opt(2020, 2, 29).unwrap()
        );
        assert_eq!(t.with_timezone(&tz).month(), 1);
        assert_eq!(
            deadline(t, TimeLimit::Days(14), tz),
            NaiveDate::from_ymd_opt(2020, 2, 14).unwrap()
        );
    }

    #[test]
    fn the_detail_policy_is_the_common_one_plus_same_origin_frames() {
        let set = |csp: &str| {
            let mut v: Vec<String> = csp.split(';').map(|d| d.trim().to_string()).collect();
            v.sort();
            v
        };
        let mut want = set(super::super::pages::CSP);
        want.push("frame-src 'self'".into());
        want.sort();
        assert_eq!(set(DETAIL_CSP), want);
        assert!(looks_like_pdf(b"\xef\xbb\xbf%PDF-1.7\n"));
        assert!(!looks_like_pdf(b"<html><script>alert(1)</script>"));
    }

    #[test]
    fn a_rules_limit_wins_over_its_departments_and_both_over_the_default() {
        let mut config = crate::config::Config::from_toml(
            "test",
            include_str!("../../config.toml"),
            [("PODAWCZA_WEB__DEADLINE_MONTHS".to_string(), "1".to_string())],
        )
        .unwrap();
        let usc = config
            .routing
            .departments
            .iter_mut()
            .find(|d| d.code == "USC")
            .unwrap();
        usc.deadline_months = Some(2);
        let rule = config
            .routing
            .rules
            .iter_mut()
            .find(|r| r.name == "slowa-usc")
            .unwrap();
        rule.deadline_days = Some(7);
        assert_eq!(
            time_limit(&config, Some("slowa-usc"), Some("USC")),
            (TimeLimit::Days(7), "reguła slowa-usc".to_string())
        );
        assert_eq!(
            time_limit(&config, Some("adres-usc"), Some("USC")),
            (TimeLimit::Months(2), "wydział USC".to_string())
        );
        assert_eq!(
            time_limit(&config, Some("adres-usc"), Some("KM")),
            (TimeLimit::Months(1), "KPA art. 35".to_string())
        );
        assert_eq!(time_limit(&config, None, None).0, TimeLimit::Months(1));
    }

    #[test]
    fn download_names_lose_their_path_and_keep_the_exact_name_encoded() {
        let cd = content_disposition("../../etc/wniosek \"ż\".pdf");
        assert_eq!(
            cd,
            "attachment; filename=\"wniosek ___.pdf\"; filename*=UTF-8''wniosek%20%22%C5%BC%22.pdf"
        );
        assert!(content_disposition("..").contains("filename=\"dokument\""));
        assert!(!content_disposition("a\r\nSet-Cookie: x").contains('\n'));
    }
}
