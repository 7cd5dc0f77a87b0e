//! The department inbox over the register (issue 8): filtered, paged lists scoped to what a user
//! may see, and the clerks' actions (take, re-assign with a note, clerk state, comment), each
//! committed together with its audit event (DESIGN.md, invariant 7).

use super::audit;
use super::db::{self, Backend, Db, DbError};
use super::queries;
use crate::model::{format_time, Document, State, Submission, SubmissionId};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The clerk-side state of a submission, apart from the pipeline state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClerkState {
    /// Not yet looked at.
    New,
    /// A clerk works on it.
    InProgress,
    /// Waiting for the party (e.g. a call to remove a defect, KPA art. 64 § 2).
    Waiting,
    /// Done.
    Done,
}

impl ClerkState {
    /// Every state, in workflow order.
    pub const ALL: &'static [ClerkState] = &[
        ClerkState::New,
        ClerkState::InProgress,
        ClerkState::Waiting,
        ClerkState::Done,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ClerkState::New => "new",
            ClerkState::InProgress => "in_progress",
            ClerkState::Waiting => "waiting",
            ClerkState::Done => "done",
        }
    }

    /// The Polish label.
    pub fn label(self) -> &'static str {
        match self {
            ClerkState::New => "nowe",
            ClerkState::InProgress => "w toku",
            ClerkState::Waiting => "czeka na stronę",
            ClerkState::Done => "załatwione",
        }
    }
}

impl fmt::Display for ClerkState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ClerkState {
    type Err = InboxError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ClerkState::ALL
            .iter()
            .copied()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| InboxError::Invalid(format!("nieznany stan {s:?}")))
    }
}

/// Errors of inbox actions.
#[derive(Debug, thiserror::Error)]
pub enum InboxError {
    /// The database.
    #[error(transparent)]
    Db(#[from] DbError),
    /// No such submission, or not visible to this user (the same answer, on purpose).
    #[error("no such submission")]
    NotFound,
    /// The request is well-formed but wrong (message in Polish, shown to the clerk).
    #[error("invalid request: {0}")]
    Invalid(String),
    /// The submission is still in the pipeline; it can be acted on once dispatched.
    #[error("submission still being processed")]
    NotReady,
}

impl From<sqlx::Error> for InboxError {
    fn from(e: sqlx::Error) -> Self {
        InboxError::Db(DbError::Sql(e))
    }
}

/// Who is looking: restricts every query to what they may see.
#[derive(Debug, Clone)]
pub struct Scope {
    /// Only this department (a clerk); `None` sees all (intake, admin).
    pub department: Option<String>,
}

/// Signature validity filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validity {
    /// Some signature failed (TOTAL_FAILED).
    Failed,
    /// Some signature is indeterminate.
    Indeterminate,
    /// Failed or indeterminate: needs a look.
    Problem,
    /// Signed, and no signature failed or is indeterminate.
    Passed,
}

impl FromStr for Validity {
    type Err = InboxError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "failed" => Ok(Validity::Failed),
            "indeterminate" => Ok(Validity::Indeterminate),
            "problem" => Ok(Validity::Problem),
            "passed" => Ok(Validity::Passed),
            _ => Err(InboxError::Invalid(format!("nieznana ważność {s:?}"))),
        }
    }
}

/// Filters of the inbox list (all optional).
#[derive(Debug, Clone, Default)]
pub struct InboxFilter {
    /// Clerk state.
    pub clerk_state: Option<ClerkState>,
    /// Pipeline state.
    pub state: Option<State>,
    /// Department (intake only; a clerk's scope wins).
    pub department: Option<String>,
    /// Channel name.
    pub channel: Option<String>,
    /// `Some(true)` signed only, `Some(false)` plain only.
    pub signed: Option<bool>,
    /// Signature kind (`qes`, `trusted_profile`, ...) of some signature.
    pub kind: Option<String>,
    /// Validity.
    pub validity: Option<Validity>,
    /// Arrived at or after.
    pub from: Option<DateTime<Utc>>,
    /// Arrived before.
    pub until: Option<DateTime<Utc>>,
    /// Words in sender, subject or document names (case-insensitive).
    pub text: Option<String>,
}

/// One page of the list.
#[derive(Debug)]
pub struct Page {
    /// The rows, newest first, with their clerk state and assignee.
    pub rows: Vec<Row>,
    /// Whether another page follows (older rows).
    pub has_more: bool,
    /// The documents of the rows, in order, by submission id, read in the same statement as the
    /// rows: only what a list shows, the `name` and the `report` (the other fields are empty).
    pub documents: HashMap<String, Vec<Document>>,
}

/// A list row.
#[derive(Debug)]
pub struct Row {
    /// The submission.
    pub submission: Submission,
    /// Clerk state.
    pub clerk_state: ClerkState,
    /// Who took it.
    pub assignee: Option<String>,
    /// Its place in the list's order, as stored.
    pub key: SortKey,
}

/// The place of a row in the list's order (newest arrival first, then the greater id first):
/// its arrival time as stored and its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortKey {
    /// `received_at` as stored (the stored times sort as text).
    pub received_at: String,
    /// The submission id.
    pub id: String,
}

impl SortKey {
    /// The key as one query-string value: the time, a space, the id (a stored time has no
    /// space).
    pub fn to_param(&self) -> String {
        format!("{} {}", self.received_at, self.id)
    }

    /// Reads [`SortKey::to_param`]'s form back; `None` if it is not of that form.
    pub fn parse(v: &str) -> Option<SortKey> {
        let (at, id) = v.split_once(' ')?;
        let ok = !at.is_empty() && !id.is_empty() && at.len() <= 64 && id.len() <= 200;
        ok.then(|| SortKey {
            received_at: at.to_string(),
            id: id.to_string(),
        })
    }
}

/// Where a page of the list starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageAt {
    /// The n-th page from the newest (from 1): the rows before it are counted and skipped.
    Number(u32),
    /// The page just after the row with this key (the "next" link): found in the index
    /// directly, however deep.
    After(SortKey),
    /// The page just before the row with this key (the "previous" link).
    Before(SortKey),
}

/// Conditions and their bound values, numbered `$1`, `$2`, ... in order.
#[derive(Default)]
struct Where {
    conds: Vec<String>,
    binds: Vec<String>,
}

impl Where {
    /// Adds a condition whose `$?` marks (all the same value) are bound to `value`.
    fn bind(&mut self, cond: &str, value: String) {
        self.binds.push(value);
        self.conds
            .push(cond.replace("$?", &format!("${}", self.binds.len())));
    }
}

/// How a text search is written into a condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TextCond<'a> {
    /// The whole text with LIKE (the trigram index, where there is one, may look it up).
    Whole,
    /// This rare word with LIKE (looked up in the trigram index), the whole text checked with
    /// `strpos` on what it finds (PostgreSQL).
    Rare(&'a str),
    /// The whole text with `strpos` alone, which no index answers: checked on the rows walked
    /// newest first (PostgreSQL, every word common). Such a statement has one good plan for any
    /// text, so it is kept prepared instead of planned on every page view.
    Walk,
}

impl<'a> TextCond<'a> {
    /// [`TextCond::Rare`] with a rare word, else [`TextCond::Whole`].
    fn of(rare_word: Option<&'a str>) -> TextCond<'a> {
        rare_word.map_or(TextCond::Whole, TextCond::Rare)
    }
}

/// Builds the WHERE clause of a filtered, scoped list; returns it with its bound values. With a
/// rare word (PostgreSQL only, see [`TextPlan`]) the trigram index is asked for that word alone
/// and the whole text is checked with `strpos` on the rows it finds.
fn where_clause(scope: &Scope, f: &InboxFilter, text: TextCond<'_>) -> (String, Vec<String>) {
    let mut w = Where::default();
    if let Some(d) = scope.department.as_ref().or(f.department.as_ref()) {
        w.bind("s.department = $?", d.clone());
    }
    if let (Some(_), Some(d)) = (&scope.department, &f.department) {
        // A clerk asking for another department gets nothing, not that department.
        w.bind("s.department = $?", d.clone());
    }
    if let Some(c) = f.clerk_state {
        w.bind("s.clerk_state = $?", c.as_str().into());
    }
    if let Some(s) = f.state {
        w.bind("s.state = $?", s.as_str().into());
    }
    if let Some(c) = &f.channel {
        w.bind("s.channel = $?", c.clone());
    }
    match f.signed {
        Some(true) => w.conds.push("s.signed = 1".into()),
        Some(false) => w.conds.push("(s.signed = 0 OR s.signed IS NULL)".into()),
        None => {}
    }
    // The signature summary columns are kept by triggers (see the accounts migration).
    if let Some(k) = &f.kind {
        w.bind(
            "s.sig_kinds LIKE $? ESCAPE '\\'",
            format!("%,{},%", like_escape(k)),
        );
    }
    match f.validity {
        Some(Validity::Failed) => w.conds.push("s.sig_failed = 1".into()),
        Some(Validity::Indeterminate) => w.conds.push("s.sig_indeterminate = 1".into()),
        Some(Validity::Problem) => w
            .conds
            .push("(s.sig_failed = 1 OR s.sig_indeterminate = 1)".into()),
        Some(Validity::Passed) => w
            .conds
            .push("s.signed = 1 AND s.sig_failed = 0 AND s.sig_indeterminate = 0".into()),
        None => {}
    }
    if let Some(t) = f.from {
        w.bind("s.received_at >= $?", format_time(&t));
    }
    if let Some(t) = f.until {
        w.bind("s.received_at < $?", format_time(&t));
    }
    if let Some(t) = search_text(f) {
        match text {
            TextCond::Rare(word) => {
                w.bind(
                    &format!("{SEARCH_TEXT} LIKE $? ESCAPE '\\'"),
                    format!("%{}%", like_escape(word)),
                );
                w.bind(&format!("strpos({SEARCH_TEXT}, $?) > 0"), t);
            }
            TextCond::Walk => w.bind(&format!("strpos({SEARCH_TEXT}, $?) > 0"), t),
            TextCond::Whole => {
                let pattern = format!("%{}%", like_escape(&t));
                w.bind(&format!("{SEARCH_TEXT} LIKE $? ESCAPE '\\'"), pattern);
            }
        }
    }
    let sql = if w.conds.is_empty() {
        "TRUE".to_string()
    } else {
        w.conds.join(" AND ")
    };
    (sql, w.binds)
}

/// What the text search looks in: sender, name, subject, registration number and the document
/// names (`doc_names`, kept by a trigger), lower-cased. On PostgreSQL trigram indexes are built
/// on exactly this expression (migrations/postgres/20261124230000_inbox_search.sql, and for
/// signature problems 20261125100000_inbox_load.sql): change all or none.
const SEARCH_TEXT: &str = "LOWER(COALESCE(s.sender, '') || ' ' || COALESCE(s.sender_name, '') \
     || ' ' || COALESCE(s.subject, '') || ' ' || COALESCE(s.registration_number, '') || ' ' \
     || s.doc_names)";

/// Escapes `%`, `_` and `\` for a `LIKE ... ESCAPE '\'` pattern.
fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

const LIST_COLUMNS: &str =
    "s.id, s.registration_number, s.channel, s.received_at, s.arrival_source,
    s.registered_at, s.sender, s.sender_name, s.recipients, s.subject, NULL AS body_text,
    s.message_id, s.raw_sha256, s.raw_size, s.state, s.department, s.routing_rule, s.signed,
    s.quarantine_reason, s.clerk_state, s.assignee";

/// The text searched for, trimmed and lower-cased (as [`SEARCH_TEXT`] is), if any.
fn search_text(f: &InboxFilter) -> Option<String> {
    f.text
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_lowercase)
}

/// The words of a search as the trigram index sees them: runs of letters and digits, of three
/// characters or more (a shorter word yields no trigram to look up).
fn words(text: &str) -> Vec<String> {
    let mut out: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 3)
        .map(str::to_lowercase)
        .collect();
    out.sort();
    out.dedup();
    out
}

/// How a text search reaches its rows.
///
/// A trigram index answers fast for a rare string and slowly for a common one: its cost is in
/// the posting lists of the common trigrams (at 100,000 submissions "wniosek-12346" takes about
/// 20 ms, since every submission has "wniosek", while "12346" alone takes 0.05 ms). So on
/// PostgreSQL each word of the search is looked up in the planner's sample of the indexed text
/// (`pg_stats` of the trigram index, up to 101 values kept by ANALYZE): a word found in at most
/// one of them is rare, and the index is asked for the rarest word alone, the whole text being
/// checked on the rows it finds. If every word is common, the list walks the newest first and
/// keeps what matches, which finds a page quickly exactly because the words are common.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct TextPlan {
    /// The rarest word, when it is rare.
    rare_word: Option<String>,
    /// Every word is common (by the sample), or there is no word to look up.
    common: bool,
}

/// How long a database's sample of the indexed text is reused before it is read again.
const SAMPLE_TTL: Duration = Duration::from_secs(60);

/// The sample of the indexed text per database (by URL): when it was read, and the values.
type Samples = Vec<(String, Instant, Arc<Vec<String>>)>;

/// The planner's sample, read from `pg_stats` at most once a [`SAMPLE_TTL`] per database (the
/// view costs milliseconds to read, the look-up of a few words in it microseconds).
async fn sample(db: &Db) -> Result<Arc<Vec<String>>, DbError> {
    static SAMPLES: Mutex<Samples> = Mutex::new(Vec::new());
    let url = db.pool().connect_options().database_url.to_string();
    let now = Instant::now();
    if let Ok(cache) = SAMPLES.lock() {
        if let Some((_, at, values)) = cache.iter().find(|(u, _, _)| *u == url) {
            if now.duration_since(*at) < SAMPLE_TTL {
                return Ok(values.clone());
            }
        }
    }
    let rows = sqlx::query(
        "SELECT v FROM pg_stats, unnest(CAST(CAST(histogram_bounds AS TEXT) AS TEXT[])) v
         WHERE schemaname = current_schema() AND tablename = 'submissions_search'",
    )
    .fetch_all(db.pool())
    .await?;
    let mut values = Vec::with_capacity(rows.len());
    for r in &rows {
        values.push(db::text(r, "v")?);
    }
    let values = Arc::new(values);
    if values.is_empty() {
        // Not analysed yet: asked again next time, not held for a minute.
        return Ok(values);
    }
    if let Ok(mut cache) = SAMPLES.lock() {
        cache.retain(|(u, _, _)| *u != url);
        cache.push((url, now, values.clone()));
    }
    Ok(values)
}

/// Decides the [`TextPlan`] of a lower-cased search from the planner's sample.
async fn text_plan(db: &Db, text: &str) -> Result<TextPlan, DbError> {
    if db.backend() != Backend::Postgres {
        // No trigram index: every search scans, and the bounded candidates keep counts exact.
        return Ok(TextPlan::default());
    }
    let ws = words(text);
    if ws.is_empty() {
        return Ok(TextPlan {
            rare_word: None,
            common: true,
        });
    }
    let sample = sample(db).await?;
    if sample.is_empty() {
        // Not analysed yet (a new or small database): the whole text goes to the index.
        return Ok(TextPlan::default());
    }
    Ok(plan_from_sample(&ws, &sample))
}

/// The rarest of `words` in `sample` (ties: the longer word); rare when in at most 1% of it.
fn plan_from_sample(words: &[String], sample: &[String]) -> TextPlan {
    let hits = |w: &String| sample.iter().filter(|v| v.contains(w.as_str())).count();
    let best = words.iter().map(|w| (hits(w), w)).min_by(|a, b| {
        a.0.cmp(&b.0)
            .then(b.1.chars().count().cmp(&a.1.chars().count()))
    });
    match best {
        Some((h, w)) if h <= 1 || h * 100 <= sample.len() => TextPlan {
            rare_word: Some(w.clone()),
            common: false,
        },
        _ => TextPlan {
            rare_word: None,
            common: true,
        },
    }
}

/// One page of the list and the counts per clerk state, under the same scope and filters.
///
/// Without a text search: the page is picked from an index (see `list`) and each state is
/// counted apart, up to [`COUNT_CAP`] + 1 (see [`counts`]). With one, it depends on the
/// `TextPlan`: a rare word, or a signature problem filter (whose submissions have their own
/// trigram index), first fetches the matching submissions regardless of clerk state, at most
/// [`COUNT_CAP`] + 1 of them; if they are no more than the cap, the counts and the page come
/// from them and only the page's rows are read. Otherwise (more, or only common words) the
/// page is listed newest first and the counts are "more than the cap": known when the bounded
/// fetch overflowed; for common words, when the planner expects more than twice the cap,
/// else counted as before.
pub async fn browse(
    db: &Db,
    scope: &Scope,
    filter: &InboxFilter,
    page: &PageAt,
    page_size: u32,
) -> Result<(Page, Counts), DbError> {
    let Some(text) = search_text(filter) else {
        return list_and_counts(db, scope, filter, page, page_size).await;
    };
    let plan = text_plan(db, &text).await?;
    let rare = plan.rare_word.as_deref();
    let problem = matches!(
        filter.validity,
        Some(Validity::Failed | Validity::Indeterminate | Validity::Problem)
    );
    if !plan.common || problem {
        if let Some(found) = candidates(db, scope, filter, rare, page, page_size).await? {
            return Ok(found);
        }
        let list = list(db, scope, filter, page, page_size, TextCond::of(rare)).await?;
        return Ok((list, Counts::over_cap()));
    }
    // Every word is common: the newest rows are walked and the text checked on each.
    let walk = if db.backend() == Backend::Postgres {
        TextCond::Walk
    } else {
        TextCond::of(rare)
    };
    let list = list(db, scope, filter, page, page_size, walk).await?;
    let counts = if estimate(db, scope, filter, rare).await? > 2 * COUNT_CAP {
        Counts::over_cap()
    } else {
        counts(db, scope, filter, rare).await?
    };
    Ok((list, counts))
}

/// The planner's estimate of how many submissions match (PostgreSQL; 0 elsewhere), kept for
/// [`ESTIMATE_TTL`].
async fn estimate(
    db: &Db,
    scope: &Scope,
    filter: &InboxFilter,
    rare_word: Option<&str>,
) -> Result<i64, DbError> {
    if db.backend() != Backend::Postgres {
        return Ok(0);
    }
    let (cond, binds) = where_clause(scope, filter, TextCond::of(rare_word));
    let key = estimate_key(db, "matches", &cond, &binds);
    if let Some(e) = kept_estimate(&key) {
        return Ok(e.and_then(|e| e.first().copied()).unwrap_or(0));
    }
    let sql = format!("EXPLAIN SELECT 1 FROM submissions s WHERE {cond}");
    let mut q = sqlx::query(&sql).persistent(false);
    for b in &binds {
        q = q.bind(b.as_str());
    }
    let Some(row) = q.fetch_optional(db.pool()).await? else {
        return Ok(0);
    };
    // The top line: "Bitmap Heap Scan on submissions s  (cost=... rows=5690 width=0)".
    let line: String = sqlx::Row::try_get(&row, 0)?;
    let n = rows_estimate(&line).unwrap_or(0);
    keep_estimate(key, Some(vec![n]), true);
    Ok(n)
}

/// The submissions matching the filters in any clerk state, if they are at most [`COUNT_CAP`]:
/// the counts per state and the requested page, from them (`None` when there are more).
async fn candidates(
    db: &Db,
    scope: &Scope,
    filter: &InboxFilter,
    rare_word: Option<&str>,
    page: &PageAt,
    page_size: u32,
) -> Result<Option<(Page, Counts)>, DbError> {
    let any_state = InboxFilter {
        clerk_state: None,
        ..filter.clone()
    };
    let (cond, binds) = where_clause(scope, &any_state, TextCond::of(rare_word));
    let sql = format!(
        "SELECT s.id, s.received_at, s.clerk_state FROM submissions s WHERE {cond} LIMIT {}",
        COUNT_CAP + 1
    );
    let mut q = sqlx::query(&sql).persistent(false);
    for b in &binds {
        q = q.bind(b.as_str());
    }
    let rows = q.fetch_all(db.pool()).await?;
    if rows.len() as i64 > COUNT_CAP {
        return Ok(None);
    }
    let mut found = Vec::with_capacity(rows.len());
    for r in &rows {
        found.push((
            db::text(r, "received_at")?,
            db::text(r, "id")?,
            db::text(r, "clerk_state")?,
        ));
    }
    let counts = Counts {
        total: found.len() as i64,
        states: ClerkState::ALL
            .iter()
            .map(|cs| {
                let n = found.iter().filter(|f| f.2 == cs.as_str()).count() as i64;
                (*cs, Some(n))
            })
            .collect(),
    };
    // Newest first, as the list: the stored times sort as text.
    let mut keys: Vec<SortKey> = found
        .into_iter()
        .filter(|f| filter.clerk_state.is_none_or(|cs| f.2 == cs.as_str()))
        .map(|(received_at, id, _)| SortKey { received_at, id })
        .collect();
    keys.sort_by(newest_first);
    let (ids, has_more) = window(keys, page, page_size);
    let (rows, documents) = rows_by_id(db, &ids).await?;
    Ok(Some((
        Page {
            rows,
            has_more,
            documents,
        },
        counts,
    )))
}

/// The list's order: the newer arrival first, then the greater id.
fn newest_first(a: &SortKey, b: &SortKey) -> std::cmp::Ordering {
    b.received_at
        .cmp(&a.received_at)
        .then_with(|| b.id.cmp(&a.id))
}

/// The ids of the page `at` of `keys` (newest first), and whether older rows follow.
fn window(keys: Vec<SortKey>, at: &PageAt, page_size: u32) -> (Vec<String>, bool) {
    let size = page_size.max(1) as usize;
    let older = |k: &SortKey, than: &SortKey| newest_first(k, than) == std::cmp::Ordering::Greater;
    let (mut picked, has_more): (Vec<SortKey>, Option<bool>) = match at {
        PageAt::Number(n) => {
            let skip = ((*n).max(1) - 1) as usize;
            let page = keys
                .into_iter()
                .skip(skip.saturating_mul(size))
                .take(size + 1)
                .collect();
            (page, None)
        }
        PageAt::After(of) => {
            let page = keys
                .into_iter()
                .filter(|k| older(k, of))
                .take(size + 1)
                .collect();
            (page, None)
        }
        PageAt::Before(of) => {
            let newer: Vec<SortKey> = keys.into_iter().filter(|k| older(of, k)).collect();
            let from = newer.len().saturating_sub(size);
            // The row of the key follows this page.
            (newer.into_iter().skip(from).collect(), Some(true))
        }
    };
    let has_more = has_more.unwrap_or(picked.len() > size);
    picked.truncate(size);
    (picked.into_iter().map(|k| k.id).collect(), has_more)
}

/// The documents of list rows, by submission id.
type Documents = HashMap<String, Vec<Document>>;

/// The columns of a list row's documents, read in the same statement as the rows (a left join:
/// a submission without documents has one row with these NULL).
const DOC_COLUMNS: &str = "d.name AS d_name, d.report AS d_report";

/// The list rows of these submissions, in this order, with their documents.
async fn rows_by_id(db: &Db, ids: &[String]) -> Result<(Vec<Row>, Documents), DbError> {
    if ids.is_empty() {
        return Ok((Vec::new(), HashMap::new()));
    }
    let marks: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT {LIST_COLUMNS}, {DOC_COLUMNS} FROM submissions s
         LEFT JOIN documents d ON d.submission_id = s.id
         WHERE s.id IN ({}) ORDER BY s.id, d.seq",
        marks.join(", ")
    );
    let mut q = sqlx::query(&sql);
    for id in ids {
        q = q.bind(id.as_str());
    }
    let (mut rows, documents) = rows_with_documents(&q.fetch_all(db.pool()).await?)?;
    rows.sort_by_key(|r| ids.iter().position(|id| *id == r.submission.id.0));
    Ok((rows, documents))
}

/// Rows of [`LIST_COLUMNS`] and [`DOC_COLUMNS`], a submission's documents on consecutive rows
/// in order: the list rows, and their documents by submission id.
fn rows_with_documents(rows: &[sqlx::any::AnyRow]) -> Result<(Vec<Row>, Documents), DbError> {
    let mut out: Vec<Row> = Vec::new();
    let mut documents: Documents = HashMap::new();
    for r in rows {
        // A row of values beside an empty page has no submission.
        let Some(id) = db::opt_text(r, "id")? else {
            continue;
        };
        if out.last().is_none_or(|last| last.submission.id.0 != id) {
            out.push(row_of(r)?);
        }
        let Some(name) = db::opt_text(r, "d_name")? else {
            continue;
        };
        let submission_id = SubmissionId(id.clone());
        documents.entry(id).or_default().push(list_document(
            submission_id,
            name,
            db::opt_text(r, "d_report")?,
        ));
    }
    Ok((out, documents))
}

/// A document as a list row shows it: its name and signature report (the other fields are not
/// read for a list and are left empty).
fn list_document(submission_id: SubmissionId, name: String, report: Option<String>) -> Document {
    Document {
        id: String::new(),
        submission_id,
        seq: 0,
        name,
        media_type: String::new(),
        declared_type: None,
        size: 0,
        sha256: String::new(),
        container: String::new(),
        role: String::new(),
        report: report.and_then(|t| serde_json::from_str(&t).ok()),
    }
}

/// One page of the list, newest arrival first, with the rows' documents.
///
/// The ids of the page are picked first, from the filter columns alone: on PostgreSQL the list
/// indexes INCLUDE them (migrations/postgres/20261125100000_inbox_load.sql), so without a text
/// search that is an index-only scan however selective the filter; then only the page's rows and
/// their documents are read, in the same statement. A page given by number skips the index
/// entries of the pages before it; a page after or before a row's key (the pager's links) starts
/// at that key in the index, so page 100 costs what page 1 does. A text search is not kept as a
/// prepared statement, so each is planned for its values (a generic plan cannot tell a rare
/// search word from a common one); the others are (one round trip instead of two), and so is a
/// search of common words only ([`TextCond::Walk`]).
async fn list(
    db: &Db,
    scope: &Scope,
    filter: &InboxFilter,
    page: &PageAt,
    page_size: u32,
    text: TextCond<'_>,
) -> Result<Page, DbError> {
    let (cond, binds) = where_clause(scope, filter, text);
    let prepared = search_text(filter).is_none() || text == TextCond::Walk;
    let (page, _) = fetch_page(db, cond, binds, page, page_size, &[], prepared).await?;
    Ok(page)
}

/// A page of the rows matching `cond` (see `list`), read in one statement together with
/// `columns`, expressions over `binds` evaluated once (the counts per state); returns the page
/// and the row of those values (`None` without columns).
async fn fetch_page(
    db: &Db,
    mut cond: String,
    mut binds: Vec<String>,
    page: &PageAt,
    page_size: u32,
    columns: &[String],
    prepared: bool,
) -> Result<(Page, Option<sqlx::any::AnyRow>), DbError> {
    let size = i64::from(page_size.max(1));
    let (order, skip) = match page {
        PageAt::Number(n) => ("DESC", i64::from(n.saturating_sub(1)) * size),
        PageAt::After(key) | PageAt::Before(key) => {
            let op = if matches!(page, PageAt::After(_)) {
                "<"
            } else {
                ">"
            };
            binds.push(key.received_at.clone());
            binds.push(key.id.clone());
            // A row value compared as a whole: both engines walk the index from the key.
            cond = format!(
                "{cond} AND (s.received_at, s.id) {op} (${}, ${})",
                binds.len() - 1,
                binds.len()
            );
            (if op == "<" { "DESC" } else { "ASC" }, 0)
        }
    };
    // Numbers of ours, written into the statement: a generic plan of a bound LIMIT does not
    // know it is small.
    let rows_sql = format!(
        "SELECT {LIST_COLUMNS}, {DOC_COLUMNS}, d.seq AS d_seq FROM (
             SELECT s.id FROM submissions s WHERE {cond}
             ORDER BY s.received_at {order}, s.id {order} LIMIT {} OFFSET {skip}) p
         JOIN submissions s ON s.id = p.id
         LEFT JOIN documents d ON d.submission_id = s.id",
        size + 1,
    );
    let sql = if columns.is_empty() {
        format!("{rows_sql} ORDER BY s.received_at DESC, s.id DESC, d.seq")
    } else {
        // The values once, and the page's rows beside them (none: one row of values alone).
        format!(
            "SELECT c.*, r.* FROM (SELECT {}) c LEFT JOIN ({rows_sql}) r ON 1 = 1
             ORDER BY r.received_at DESC, r.id DESC, r.d_seq",
            columns.join(", ")
        )
    };
    let mut q = sqlx::query(&sql).persistent(prepared);
    for b in &binds {
        q = q.bind(b.as_str());
    }
    let fetched = q.fetch_all(db.pool()).await?;
    let (mut rows, documents) = rows_with_documents(&fetched)?;
    let values = if columns.is_empty() {
        None
    } else {
        fetched.into_iter().next()
    };
    let over = rows.len() as i64 > size;
    let has_more = match page {
        // Read oldest first from the key: the extra row is the newest one; the key's row
        // follows the page.
        PageAt::Before(_) => {
            if over {
                rows.remove(0);
            }
            true
        }
        _ => {
            rows.truncate(size as usize);
            over
        }
    };
    Ok((
        Page {
            rows,
            has_more,
            documents,
        },
        values,
    ))
}

fn row_of(r: &sqlx::any::AnyRow) -> Result<Row, DbError> {
    let cs = db::text(r, "clerk_state")?;
    Ok(Row {
        key: SortKey {
            received_at: db::text(r, "received_at")?,
            id: db::text(r, "id")?,
        },
        submission: queries::submission_from_row(r)?,
        clerk_state: cs.parse().map_err(|_| DbError::Corrupt {
            what: "clerk_state",
            value: cs.clone(),
        })?,
        assignee: db::opt_text(r, "assignee")?,
    })
}

/// Counts stop here: past it the list shows "more than" (an exact count of a large inbox costs
/// a scan of all its rows on every page view).
pub const COUNT_CAP: i64 = 1000;

/// Counts per clerk state under the scope and filters of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counts {
    /// Per clerk state, in [`ClerkState::ALL`] order: a value above [`COUNT_CAP`] means "more
    /// than the cap"; `None` when not counted apart (a text search with more than the cap
    /// matches).
    pub states: Vec<(ClerkState, Option<i64>)>,
    /// All states together (above [`COUNT_CAP`]: more than the cap).
    pub total: i64,
}

impl Counts {
    /// More than the cap in all, not counted per state (a text search).
    fn over_cap() -> Counts {
        Counts {
            states: ClerkState::ALL.iter().map(|cs| (*cs, None)).collect(),
            total: COUNT_CAP + 1,
        }
    }
}

/// Counts per clerk state under the same scope and filters.
///
/// Without a text search each state is counted apart, capped at [`COUNT_CAP`] + 1: on
/// PostgreSQL an index-only walk of the (department, clerk state, arrival) indexes, whose
/// INCLUDEd columns answer the other filters, for the states the planner does not expect far
/// over the cap (see `state_counts`). A text search finds its matches once and groups
/// them, up to [`COUNT_CAP`] + 1 of them: exact per state when there are no more, otherwise
/// only "more than the cap" in all.
pub async fn counts(
    db: &Db,
    scope: &Scope,
    filter: &InboxFilter,
    rare_word: Option<&str>,
) -> Result<Counts, DbError> {
    let unfiltered = InboxFilter {
        clerk_state: None,
        ..filter.clone()
    };
    let (cond, binds) = where_clause(scope, &unfiltered, TextCond::of(rare_word));
    if search_text(filter).is_none() {
        return state_counts(db, &cond, &binds).await;
    }
    // The clerk states are fixed names from the enum, never user input.
    let columns: Vec<String> = ClerkState::ALL
        .iter()
        .enumerate()
        .map(|(i, cs)| {
            format!(
                "COUNT(CASE WHEN x.clerk_state = '{}' THEN 1 END) AS n{i}",
                cs.as_str()
            )
        })
        .collect();
    let sql = format!(
        "SELECT {} FROM (SELECT s.clerk_state FROM submissions s WHERE {cond} LIMIT {}) x",
        columns.join(", "),
        COUNT_CAP + 1
    );
    let mut q = sqlx::query(&sql).persistent(false);
    for b in &binds {
        q = q.bind(b.as_str());
    }
    let row = q.fetch_one(db.pool()).await?;
    let mut states = Vec::with_capacity(ClerkState::ALL.len());
    for (i, cs) in ClerkState::ALL.iter().enumerate() {
        states.push((*cs, sqlx::Row::try_get::<i64, _>(&row, i)?));
    }
    let total: i64 = states.iter().map(|s| s.1).sum();
    if total > COUNT_CAP {
        return Ok(Counts::over_cap());
    }
    Ok(Counts {
        total,
        states: states.into_iter().map(|(cs, n)| (cs, Some(n))).collect(),
    })
}

/// A clerk state the planner expects this many times over [`COUNT_CAP`] is shown as "more than
/// the cap" without counting (its estimates come from the column statistics, and are rarely off
/// by a factor of three for a department and a state).
const ESTIMATE_MARGIN: i64 = 3;

/// Counts per clerk state under a condition without text search, each capped at
/// [`COUNT_CAP`] + 1, in one statement. On PostgreSQL the planner's estimate of each state
/// comes first (one EXPLAIN, a fraction of a millisecond): a state expected more than
/// [`ESTIMATE_MARGIN`] times over the cap is not walked (walking 1,001 index entries per state
/// was most of the cost of a plain page at 100,000 submissions).
async fn state_counts(db: &Db, cond: &str, binds: &[String]) -> Result<Counts, DbError> {
    let (states, estimates) = count_plan(db, cond, binds).await?;
    let columns = count_columns(cond, &states);
    let row = if columns.is_empty() {
        None
    } else {
        let sql = format!("SELECT {}", columns.join(", "));
        let mut q = sqlx::query(&sql);
        for b in binds {
            q = q.bind(b.as_str());
        }
        Some(q.fetch_one(db.pool()).await?)
    };
    finish_counts(db, cond, binds, states, estimates, row.as_ref())
}

/// Which clerk states are counted: `None` for a state to count, "more than the cap" for one the
/// planner expects far over it (PostgreSQL, see [`ESTIMATE_MARGIN`]); with the estimates.
async fn count_plan(
    db: &Db,
    cond: &str,
    binds: &[String],
) -> Result<(Vec<(ClerkState, Option<i64>)>, Option<Vec<i64>>), DbError> {
    let estimates = if db.backend() == Backend::Postgres {
        cached_state_estimates(db, cond, binds).await?
    } else {
        None
    };
    let states = ClerkState::ALL
        .iter()
        .enumerate()
        .map(|(i, cs)| {
            let over = estimates
                .as_ref()
                .and_then(|e| e.get(i))
                .is_some_and(|e| *e > ESTIMATE_MARGIN * COUNT_CAP);
            (*cs, over.then_some(COUNT_CAP + 1))
        })
        .collect();
    Ok((states, estimates))
}

/// The expressions counting the states still to count under `cond`, each capped at
/// [`COUNT_CAP`] + 1 (column `n_<state>`).
fn count_columns(cond: &str, states: &[(ClerkState, Option<i64>)]) -> Vec<String> {
    // The clerk states are fixed names from the enum, never user input.
    states
        .iter()
        .filter(|(_, n)| n.is_none())
        .map(|(cs, _)| {
            format!(
                "(SELECT COUNT(*) FROM (SELECT 1 FROM submissions s WHERE {cond} \
                 AND s.clerk_state = '{}' LIMIT {}) x) AS n_{}",
                cs.as_str(),
                COUNT_CAP + 1,
                cs.as_str()
            )
        })
        .collect()
}

/// The counts, from the plan and the row of [`count_columns`]' values. A state just walked
/// past the cap is not walked again while the estimates are kept: it is "more than the cap" as
/// if the planner had expected it so (a state falls back under the cap only by a thousand
/// actions; until the estimates are asked again, within [`ESTIMATE_TTL`], it would still read
/// "more than the cap").
fn finish_counts(
    db: &Db,
    cond: &str,
    binds: &[String],
    mut states: Vec<(ClerkState, Option<i64>)>,
    estimates: Option<Vec<i64>>,
    row: Option<&sqlx::any::AnyRow>,
) -> Result<Counts, DbError> {
    if let Some(row) = row {
        let mut walked_over = false;
        for (cs, n) in states.iter_mut().filter(|(_, n)| n.is_none()) {
            let counted = sqlx::Row::try_get::<i64, _>(row, format!("n_{}", cs.as_str()).as_str())?;
            walked_over |= counted > COUNT_CAP;
            *n = Some(counted);
        }
        if walked_over && db.backend() == Backend::Postgres {
            let mut known: Vec<i64> = estimates.unwrap_or_else(|| vec![0; states.len()]);
            for (i, (_, n)) in states.iter().enumerate() {
                if let (Some(e), Some(n)) = (known.get_mut(i), n) {
                    if *n > COUNT_CAP {
                        *e = (*e).max(ESTIMATE_MARGIN * COUNT_CAP + 1);
                    }
                }
            }
            keep_estimate(estimate_key(db, "states", cond, binds), Some(known), false);
        }
    }
    let total: i64 = states.iter().filter_map(|s| s.1).sum();
    Ok(Counts {
        total: total.min(COUNT_CAP + 1),
        states,
    })
}

/// A page and the counts per clerk state without a text search, in one statement: the page's
/// condition is the counts' and the clerk state, so both share their values.
async fn list_and_counts(
    db: &Db,
    scope: &Scope,
    filter: &InboxFilter,
    page: &PageAt,
    page_size: u32,
) -> Result<(Page, Counts), DbError> {
    let unfiltered = InboxFilter {
        clerk_state: None,
        ..filter.clone()
    };
    let (cond, binds) = where_clause(scope, &unfiltered, TextCond::Whole);
    let (states, estimates) = count_plan(db, &cond, &binds).await?;
    let columns = count_columns(&cond, &states);
    let mut page_binds = binds.clone();
    let page_cond = match filter.clerk_state {
        Some(cs) => {
            page_binds.push(cs.as_str().to_string());
            format!("{cond} AND s.clerk_state = ${}", page_binds.len())
        }
        None => cond.clone(),
    };
    let (list, row) =
        fetch_page(db, page_cond, page_binds, page, page_size, &columns, true).await?;
    let counts = finish_counts(db, &cond, &binds, states, estimates, row.as_ref())?;
    Ok((list, counts))
}

/// How long the planner's estimates of a filter are reused: they come from the table's
/// statistics, which change only when it is analysed (at most every few minutes, by
/// autovacuum), and asking costs a round trip and the planning of the statement per page view.
const ESTIMATE_TTL: Duration = Duration::from_secs(60);

/// Filters whose estimates are kept, at most (the oldest is dropped first).
const ESTIMATES_KEPT: usize = 256;

/// Estimates per database, statement and values: the key, when asked, the estimates.
type EstimateCache = Vec<(String, Instant, Option<Vec<i64>>)>;

/// The estimates kept (see [`ESTIMATE_TTL`]).
static ESTIMATES: Mutex<EstimateCache> = Mutex::new(Vec::new());

/// The key of a kept estimate: the database, what is estimated, the condition and its values.
fn estimate_key(db: &Db, what: &str, cond: &str, binds: &[String]) -> String {
    let mut key = db.pool().connect_options().database_url.to_string();
    for part in [what, cond]
        .into_iter()
        .chain(binds.iter().map(String::as_str))
    {
        key.push('\0');
        key.push_str(part);
    }
    key
}

/// A kept estimate not older than [`ESTIMATE_TTL`] (`None`: ask the planner).
fn kept_estimate(key: &str) -> Option<Option<Vec<i64>>> {
    let now = Instant::now();
    let cache = ESTIMATES.lock().ok()?;
    cache
        .iter()
        .find(|(k, at, _)| k == key && now.duration_since(*at) < ESTIMATE_TTL)
        .map(|(_, _, e)| e.clone())
}

/// Keeps an estimate (replacing one of the same key; the time is kept when `refresh` is off).
fn keep_estimate(key: String, estimates: Option<Vec<i64>>, refresh: bool) {
    let now = Instant::now();
    let Ok(mut cache) = ESTIMATES.lock() else {
        return;
    };
    let at = cache
        .iter()
        .find(|(k, _, _)| *k == key)
        .map(|(_, at, _)| *at)
        .filter(|_| !refresh)
        .unwrap_or(now);
    cache.retain(|(k, at, _)| *k != key && now.duration_since(*at) < ESTIMATE_TTL);
    if cache.len() >= ESTIMATES_KEPT {
        cache.remove(0);
    }
    cache.push((key, at, estimates));
}

/// [`state_estimates`], kept for [`ESTIMATE_TTL`] per database and filter.
async fn cached_state_estimates(
    db: &Db,
    cond: &str,
    binds: &[String],
) -> Result<Option<Vec<i64>>, DbError> {
    let key = estimate_key(db, "states", cond, binds);
    if let Some(e) = kept_estimate(&key) {
        return Ok(e);
    }
    let estimates = state_estimates(db, cond, binds).await?;
    keep_estimate(key, estimates.clone(), true);
    Ok(estimates)
}

/// The planner's estimate of the rows of each clerk state under `cond`, in [`ClerkState::ALL`]
/// order, from one EXPLAIN of their union (the top-level children of its Append node); `None`
/// if the plan does not have that shape.
async fn state_estimates(
    db: &Db,
    cond: &str,
    binds: &[String],
) -> Result<Option<Vec<i64>>, DbError> {
    let branches: Vec<String> = ClerkState::ALL
        .iter()
        .map(|cs| {
            format!(
                "SELECT 1 FROM submissions s WHERE {cond} AND s.clerk_state = '{}'",
                cs.as_str()
            )
        })
        .collect();
    // Kept prepared: each EXPLAIN plans the query anew with the values bound.
    let sql = format!("EXPLAIN {}", branches.join(" UNION ALL "));
    let mut q = sqlx::query(&sql);
    for b in binds {
        q = q.bind(b.as_str());
    }
    let mut lines = Vec::new();
    for r in q.fetch_all(db.pool()).await? {
        lines.push(sqlx::Row::try_get::<String, _>(&r, 0)?);
    }
    Ok(append_estimates(&lines, ClerkState::ALL.len()))
}

/// The `rows=` estimates of the top-level children of an Append plan (`  ->  ...` lines), if
/// there are exactly `n`.
fn append_estimates(lines: &[String], n: usize) -> Option<Vec<i64>> {
    if !lines.first()?.starts_with("Append") {
        return None;
    }
    let estimates: Vec<i64> = lines
        .iter()
        .filter(|l| l.starts_with("  ->  "))
        .map(|l| rows_estimate(l))
        .collect::<Option<_>>()?;
    (estimates.len() == n).then_some(estimates)
}

/// The `rows=N` of one line of EXPLAIN.
fn rows_estimate(line: &str) -> Option<i64> {
    line.split("rows=")
        .nth(1)?
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

/// One submission if the scope may see it (`None` otherwise: the caller answers 404 either way).
pub async fn find(db: &Db, scope: &Scope, id: &str) -> Result<Option<Row>, DbError> {
    let sql = format!(
        "SELECT {} FROM submissions s WHERE s.id = $1",
        LIST_COLUMNS.replace("NULL AS body_text", "s.body_text")
    );
    let row = sqlx::query(&sql).bind(id).fetch_optional(db.pool()).await?;
    let Some(row) = row.as_ref().map(row_of).transpose()? else {
        return Ok(None);
    };
    Ok(visible(scope, &row.submission).then_some(row))
}

fn visible(scope: &Scope, s: &Submission) -> bool {
    match &scope.department {
        None => true,
        Some(d) => s.department.as_deref() == Some(d.as_str()),
    }
}

/// An action of a clerk on a submission.
#[derive(Debug, Clone)]
pub enum Action {
    /// Take it: assign to me (and start work if new).
    Take,
    /// Re-assign to another department with a required note (dekretacja).
    Reassign {
        /// Target department code.
        department: String,
        /// Why.
        note: String,
    },
    /// Move to a clerk state.
    SetState(ClerkState),
    /// A comment on the timeline.
    Comment(String),
}

/// Longest note or comment accepted.
pub const MAX_NOTE_CHARS: usize = 4000;

/// Applies an action of `actor` within `scope`, with its audit event, in one transaction.
pub async fn act(
    db: &Db,
    scope: &Scope,
    id: &str,
    actor: &str,
    action: &Action,
    now: DateTime<Utc>,
) -> Result<(), InboxError> {
    let mut tx = db.begin_write().await?;
    let lock = if db.backend() == Backend::Postgres {
        " FOR UPDATE"
    } else {
        ""
    };
    let row = sqlx::query(&format!(
        "SELECT department, state, clerk_state, assignee FROM submissions WHERE id = $1{lock}"
    ))
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(InboxError::NotFound)?;
    let department = db::opt_text(&row, "department")?;
    if let Some(d) = &scope.department {
        if department.as_deref() != Some(d.as_str()) {
            return Err(InboxError::NotFound);
        }
    }
    let state = db::text(&row, "state")?;
    if state != State::Dispatched.as_str() && state != State::Quarantined.as_str() {
        return Err(InboxError::NotReady);
    }
    let cs_text = db::text(&row, "clerk_state")?;
    let clerk_state: ClerkState = cs_text.parse().unwrap_or(ClerkState::New);
    let sid = SubmissionId(id.to_string());
    let at = format_time(&now);
    match action {
        Action::Take => {
            let to = if clerk_state == ClerkState::New {
                ClerkState::InProgress
            } else {
                clerk_state
            };
            sqlx::query("UPDATE submissions SET assignee = $2, clerk_state = $3, updated_at = $4 WHERE id = $1")
                .bind(id)
                .bind(actor)
                .bind(to.as_str())
                .bind(&at)
                .execute(&mut *tx)
                .await?;
            let detail = serde_json::json!({
                "assignee": actor, "previous_assignee": db::opt_text(&row, "assignee")?,
                "clerk_state_from": clerk_state.as_str(), "clerk_state_to": to.as_str(),
            });
            audit::record(&mut tx, &sid, now, actor, "inbox_taken", detail, None).await?;
        }
        Action::Reassign {
            department: to,
            note,
        } => {
            let note = check_note(note, "Uzasadnienie dekretacji jest wymagane")?;
            if department.as_deref() == Some(to.as_str()) {
                return Err(InboxError::Invalid(
                    "pismo jest już w tym wydziale".to_string(),
                ));
            }
            let known: Option<String> =
                sqlx::query_scalar("SELECT code FROM departments WHERE code = $1")
                    .bind(to)
                    .fetch_optional(&mut *tx)
                    .await?;
            if known.is_none() {
                return Err(InboxError::Invalid(format!("nieznany wydział {to:?}")));
            }
            sqlx::query(
                "UPDATE submissions SET department = $2, assignee = NULL, clerk_state = 'new',
                 updated_at = $3 WHERE id = $1",
            )
            .bind(id)
            .bind(to)
            .bind(&at)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO assignments (id, submission_id, department, assigned_at, actor, rule, note)
                 VALUES ($1, $2, $3, $4, $5, NULL, $6)",
            )
            .bind(uuid::Uuid::now_v7().to_string())
            .bind(id)
            .bind(to)
            .bind(&at)
            .bind(actor)
            .bind(note)
            .execute(&mut *tx)
            .await?;
            let detail = serde_json::json!({
                "from": department, "to": to, "clerk_state_from": clerk_state.as_str(),
                "clerk_state_to": "new",
            });
            audit::record(&mut tx, &sid, now, actor, "reassigned", detail, Some(note)).await?;
        }
        Action::SetState(to) => {
            if *to == clerk_state {
                return Err(InboxError::Invalid(format!(
                    "pismo już ma stan „{}”",
                    to.label()
                )));
            }
            sqlx::query("UPDATE submissions SET clerk_state = $2, updated_at = $3 WHERE id = $1")
                .bind(id)
                .bind(to.as_str())
                .bind(&at)
                .execute(&mut *tx)
                .await?;
            let detail = serde_json::json!({ "from": clerk_state.as_str(), "to": to.as_str() });
            audit::record(
                &mut tx,
                &sid,
                now,
                actor,
                "clerk_state_changed",
                detail,
                None,
            )
            .await?;
        }
        Action::Comment(text) => {
            let text = check_note(text, "Komentarz jest pusty")?;
            let detail = serde_json::json!({});
            audit::record(&mut tx, &sid, now, actor, "commented", detail, Some(text)).await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

fn check_note<'a>(note: &'a str, empty: &str) -> Result<&'a str, InboxError> {
    let note = note.trim();
    if note.is_empty() {
        return Err(InboxError::Invalid(empty.to_string()));
    }
    if note.chars().count() > MAX_NOTE_CHARS {
        return Err(InboxError::Invalid(format!(
            "tekst dłuższy niż {MAX_NOTE_CHARS} znaków"
        )));
    }
    Ok(note)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_is_looked_up_by_its_rarest_word() {
        let ws = words("wniosek-12346 ab");
        assert_eq!(ws, vec!["12346".to_string(), "wniosek".to_string()]);
        let sample: Vec<String> = (0..100)
            .map(|i| format!("osoba{i}@example.pl wniosek {i} rejestracja pojazdu wniosek-{i}.xml"))
            .collect();
        let plan = plan_from_sample(&ws, &sample);
        assert_eq!(plan.rare_word.as_deref(), Some("12346"));
        assert!(!plan.common);
        let plan = plan_from_sample(&words("Pojazdu"), &sample);
        assert_eq!(
            plan,
            TextPlan {
                rare_word: None,
                common: true
            }
        );
        // Equally rare: the longer word, which has more trigrams to narrow with.
        let plan = plan_from_sample(&words("kowalski jan"), &sample);
        assert_eq!(plan.rare_word.as_deref(), Some("kowalski"));
    }

    #[test]
    fn a_rare_word_is_looked_up_alone_and_the_whole_text_checked() {
        let f = InboxFilter {
            text: Some("Wniosek-12346".into()),
            ..Default::default()
        };
        let (sql, binds) = where_clause(&Scope { department: None }, &f, TextCond::Rare("12346"));
        assert_eq!(
            binds,
            vec!["%12346%".to_string(), "wniosek-12346".to_string()]
        );
        assert!(sql.contains("LIKE $1") && sql.contains(", $2) > 0"));
    }

    #[test]
    fn the_estimates_of_the_states_are_the_children_of_the_append() {
        let plan: Vec<String> = [
            "Append  (cost=0.42..990.54 rows=5826 width=4)",
            "  ->  Index Only Scan using submissions_list_state on submissions s  (cost=0.42..421.28 rows=5043 width=4)",
            "        Index Cond: ((department = 'KM'::text) AND (clerk_state = 'new'::text))",
            "  ->  Index Only Scan using submissions_sig_problem on submissions s_1  (cost=0.41..36.55 rows=362 width=4)",
            "        Filter: (sig_failed = 1)",
            "  ->  Bitmap Heap Scan on submissions s_2  (cost=4.3..8.5 rows=1 width=4)",
            "        ->  Bitmap Index Scan on submissions_list_state  (cost=0.00..4.3 rows=7 width=0)",
        ]
        .iter()
        .map(|l| l.to_string())
        .collect();
        assert_eq!(append_estimates(&plan, 3), Some(vec![5043, 362, 1]));
        assert_eq!(append_estimates(&plan, 4), None);
        assert_eq!(append_estimates(&plan[1..], 3), None);
    }

    #[test]
    fn pages_after_and_before_a_key_tile_the_list_with_equal_times() {
        let key = |at: &str, id: &str| SortKey {
            received_at: at.to_string(),
            id: id.to_string(),
        };
        let mut keys = vec![
            key("2020-01-02", "a"),
            key("2020-01-01", "c"),
            key("2020-01-01", "a"),
            key("2020-01-03", "b"),
            key("2020-01-01", "b"),
        ];
        keys.sort_by(newest_first);
        let ids: Vec<&str> = keys.iter().map(|k| k.id.as_str()).collect();
        assert_eq!(ids, ["b", "a", "c", "b", "a"]);
        assert_eq!(
            window(keys.clone(), &PageAt::Number(1), 2),
            (vec!["b".to_string(), "a".to_string()], true)
        );
        // After the second row: the two with the same time, newer id first.
        let (page, more) = window(keys.clone(), &PageAt::After(keys[1].clone()), 2);
        assert_eq!((page, more), (vec!["c".to_string(), "b".to_string()], true));
        let (page, more) = window(keys.clone(), &PageAt::After(keys[3].clone()), 2);
        assert_eq!((page, more), (vec!["a".to_string()], false));
        // Before the fourth row: the two just above it.
        let (page, more) = window(keys.clone(), &PageAt::Before(keys[3].clone()), 2);
        assert_eq!((page, more), (vec!["a".to_string(), "c".to_string()], true));
        let k = key("2020-01-01T00:00:00.000000Z", "b-1 x");
        assert_eq!(SortKey::parse(&k.to_param()), Some(k));
        assert_eq!(SortKey::parse("no-space"), None);
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_escape("50%_a\\b"), "50\\%\\_a\\\\b");
    }

    #[test]
    fn a_clerk_scope_cannot_be_widened_by_a_department_filter() {
        let scope = Scope {
            department: Some("KM".into()),
        };
        let f = InboxFilter {
            department: Some("SO".into()),
            ..Default::default()
        };
        let (sql, binds) = where_clause(&scope, &f, TextCond::Whole);
        assert_eq!(binds, vec!["KM".to_string(), "SO".to_string()]);
        assert!(sql.contains("s.department = $1 AND s.department = $2"));
    }

    #[test]
    fn text_search_binds_one_escaped_lowercase_pattern() {
        let f = InboxFilter {
            text: Some(" Wniosek_50% ".into()),
            ..Default::default()
        };
        let (sql, binds) = where_clause(&Scope { department: None }, &f, TextCond::Whole);
        assert_eq!(binds, vec!["%wniosek\\_50\\%%".to_string()]);
        assert!(sql.starts_with(SEARCH_TEXT));
        assert!(!sql.contains("$?"));
        assert!(!sql.contains("$2"));
    }
}
