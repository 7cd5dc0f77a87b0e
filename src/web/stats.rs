//! Statistics `/stats`: submissions per week by channel and plain vs signed, signature kinds and
//! failures, per department; as bar charts drawn on the server (inline SVG, no script) and as CSV
//! (`/stats.csv`). A clerk's figures cover their department; intake and admin see all.

use super::auth::Clerk;
use super::error::WebError;
use super::html::{self, h};
use super::inbox::scope_of;
use crate::app::App;
use crate::model::parse_time;
use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use chrono::Datelike;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The figures behind the page and the CSV.
#[derive(Debug, Default)]
pub struct Figures {
    /// Per ISO week (`2020-W17`): counts per channel, and signed / plain.
    pub weeks: BTreeMap<String, WeekRow>,
    /// Per department code.
    pub departments: BTreeMap<String, i64>,
    /// Signatures per kind, with how many of them failed or are indeterminate.
    pub kinds: BTreeMap<String, (i64, i64)>,
}

/// One week.
#[derive(Debug, Default, Clone)]
pub struct WeekRow {
    /// By e-mail.
    pub email: i64,
    /// By the upload page.
    pub upload: i64,
    /// By the API.
    pub api: i64,
    /// With at least one signature.
    pub signed: i64,
    /// Without.
    pub plain: i64,
}

/// Reads the figures of a scope.
pub async fn figures(app: &App, department: Option<&str>) -> Result<Figures, WebError> {
    let tz = app.config.timezone();
    let rows: Vec<(String, String, Option<i64>, Option<String>)> = sqlx::query_as(
        "SELECT received_at, channel, signed, department FROM submissions
         WHERE ($1 IS NULL OR department = $1)",
    )
    .bind(department)
    .fetch_all(app.db.pool())
    .await?;
    let mut f = Figures::default();
    for (at, channel, signed, dept) in rows {
        let Some(t) = parse_time(&at) else { continue };
        let w = t.with_timezone(&tz).iso_week();
        let row = f
            .weeks
            .entry(format!("{}-W{:02}", w.year(), w.week()))
            .or_default();
        match channel.as_str() {
            "email" => row.email += 1,
            "upload" => row.upload += 1,
            _ => row.api += 1,
        }
        if signed == Some(1) {
            row.signed += 1;
        } else {
            row.plain += 1;
        }
        *f.departments
            .entry(dept.unwrap_or_else(|| "—".into()))
            .or_default() += 1;
    }
    let reports: Vec<(Option<String>,)> = sqlx::query_as(
        "SELECT d.report FROM documents d JOIN submissions s ON s.id = d.submission_id
         WHERE d.signed = 1 AND ($1 IS NULL OR s.department = $1)",
    )
    .bind(department)
    .fetch_all(app.db.pool())
    .await?;
    for (report,) in reports {
        let Some(r) =
            report.and_then(|r| serde_json::from_str::<crate::signature::report::Report>(&r).ok())
        else {
            continue;
        };
        for s in r.signatures {
            let e = f.kinds.entry(s.kind).or_default();
            e.0 += 1;
            if matches!(
                s.indication.as_deref(),
                Some("TOTAL_FAILED") | Some("INDETERMINATE")
            ) {
                e.1 += 1;
            }
        }
    }
    Ok(f)
}

/// A stacked bar chart: one bar per category, one colour per series.
pub fn bar_chart(title: &str, categories: &[String], series: &[(&str, &str, Vec<i64>)]) -> String {
    let (w, h_px, left, bottom) = (720.0_f64, 240.0_f64, 40.0_f64, 60.0_f64);
    let max = (0..categories.len())
        .map(|i| {
            series
                .iter()
                .map(|s| s.2.get(i).copied().unwrap_or(0))
                .sum::<i64>()
        })
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let n = categories.len().max(1) as f64;
    let slot = (w - left) / n;
    let bar = (slot * 0.7).max(1.0);
    let plot = h_px - bottom;
    let mut out = format!(
        r#"<figure class="chart"><figcaption>{}</figcaption><svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h_px}" viewBox="0 0 {w} {h_px}" role="img" aria-label="{}">"#,
        h(title),
        h(title)
    );
    out.push_str(&format!(
        "<text x=\"0\" y=\"12\" font-size=\"11\">{}</text>",
        max as i64
    ));
    for (i, cat) in categories.iter().enumerate() {
        let x = left + slot * i as f64;
        let mut y = plot;
        for (name, colour, values) in series {
            let v = values.get(i).copied().unwrap_or(0);
            if v == 0 {
                continue;
            }
            let height = plot * v as f64 / max;
            y -= height;
            out.push_str(&format!(
                r#"<rect x="{x:.1}" y="{y:.1}" width="{bar:.1}" height="{height:.1}" fill="{colour}"><title>{}: {} — {v}</title></rect>"#,
                h(cat),
                h(name)
            ));
        }
        if categories.len() <= 30 || i % (categories.len() / 30 + 1) == 0 {
            out.push_str(&format!(
                r#"<text x="{:.1}" y="{:.1}" font-size="10" transform="rotate(45 {:.1} {:.1})">{}</text>"#,
                x,
                plot + 12.0,
                x,
                plot + 12.0,
                h(cat)
            ));
        }
    }
    out.push_str("</svg><p class=\"legend\">");
    for (name, colour, _) in series {
        out.push_str(&format!(
            r#"<svg width="12" height="12"><rect width="12" height="12" fill="{colour}"/></svg> {} "#,
            h(name)
        ));
    }
    out.push_str("</p></figure>");
    out
}

/// `GET /stats`.
pub async fn page(State(app): State<Arc<App>>, clerk: Clerk) -> Result<Html<String>, WebError> {
    let scope = scope_of(&clerk);
    let f = figures(&app, scope.department.as_deref()).await?;
    let weeks: Vec<String> = f.weeks.keys().cloned().collect();
    let col = |g: fn(&WeekRow) -> i64| f.weeks.values().map(g).collect::<Vec<_>>();
    let channels = bar_chart(
        "Pisma tygodniowo według kanału",
        &weeks,
        &[
            ("e-mail", "#1d3557", col(|r| r.email)),
            ("formularz", "#457b9d", col(|r| r.upload)),
            ("API", "#a8dadc", col(|r| r.api)),
        ],
    );
    let signed = bar_chart(
        "Pisma tygodniowo: z podpisem i bez",
        &weeks,
        &[
            ("z podpisem", "#2a7d2e", col(|r| r.signed)),
            ("bez podpisu", "#bbbbbb", col(|r| r.plain)),
        ],
    );
    let depts: Vec<String> = f.departments.keys().cloned().collect();
    let per_dept = bar_chart(
        "Pisma według wydziału",
        &depts,
        &[(
            "pisma",
            "#1d3557",
            f.departments.values().copied().collect(),
        )],
    );
    let kinds: Vec<String> = f
        .kinds
        .keys()
        .map(|k| super::signature::kind_label(k).to_string())
        .collect();
    let per_kind = bar_chart(
        "Podpisy według rodzaju (nieważne lub nierozstrzygnięte na czerwono)",
        &kinds,
        &[
            (
                "ważne",
                "#2a7d2e",
                f.kinds.values().map(|v| v.0 - v.1).collect(),
            ),
            (
                "nieważne / nierozstrzygnięte",
                "#b00020",
                f.kinds.values().map(|v| v.1).collect(),
            ),
        ],
    );
    let body = format!(
        r#"<h1>Statystyki</h1><p><a href="/stats.csv" id="stats-csv" download>Pobierz dane (CSV)</a></p>{channels}{signed}{per_dept}{per_kind}"#
    );
    Ok(Html(html::page("Statystyki", &clerk.nav(), &body)))
}

/// `GET /stats.csv`: the same figures, one row per (table, key).
pub async fn csv(State(app): State<Arc<App>>, clerk: Clerk) -> Result<Response, WebError> {
    let scope = scope_of(&clerk);
    let f = figures(&app, scope.department.as_deref()).await?;
    let mut out = String::from("tabela,klucz,email,formularz,api,z_podpisem,bez_podpisu\n");
    for (week, r) in &f.weeks {
        out.push_str(&format!(
            "tydzien,{week},{},{},{},{},{}\n",
            r.email, r.upload, r.api, r.signed, r.plain
        ));
    }
    out.push_str("tabela,klucz,pisma\n");
    for (d, n) in &f.departments {
        out.push_str(&format!("wydzial,{},{n}\n", csv_field(d)));
    }
    out.push_str("tabela,klucz,podpisy,niewazne_lub_nierozstrzygniete\n");
    for (k, (n, bad)) in &f.kinds {
        out.push_str(&format!("rodzaj,{},{n},{bad}\n", csv_field(k)));
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"statystyki.csv\"",
            ),
        ],
        out,
    )
        .into_response())
}

/// Quotes a CSV field and defuses spreadsheet formulas.
fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    format!("\"{}\"", s.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_has_one_rect_per_nonzero_value_and_escapes_labels() {
        let svg = bar_chart(
            "<t>",
            &["a<b".to_string(), "c".to_string()],
            &[("x", "#000", vec![1, 0]), ("y", "#fff", vec![2, 3])],
        );
        assert_eq!(svg.matches("<rect x=").count(), 3);
        assert!(svg.contains("a&lt;b") && !svg.contains("<t>"));
    }

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("=1+1"), "\"'=1+1\"");
        assert_eq!(csv_field("a\"b"), "\"a\"\"b\"");
    }
}
