//! The department inbox through HTTP: the real router on a port of its own, a cookie-keeping
//! client, and submissions seeded straight into the register (with their blobs), so every access
//! rule is tested rather than assumed.

use crate::common::{self, TestEnv};
use podawcza::storage::accounts::{self, Role};
use reqwest::header;
use reqwest::StatusCode;

/// The demo password of test accounts.
pub const PASSWORD: &str = "haslo-testowe-1";

/// An app served on 127.0.0.1:0 for one test.
pub struct Server {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The test world behind it.
    pub env: TestEnv,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts the app with config overrides and the usual accounts: `km1`, `km2` (KM clerks), `so1`
/// (SO clerk), `bp` (intake), `admin`. Served like `podawcza serve` (with the peer address). Every
/// test logs in from 127.0.0.1, so the per-client login limit is raised unless `extra` sets it.
pub async fn server(extra: &[(&str, &str)]) -> Server {
    let mut vars = vec![("PODAWCZA_WEB__LOGIN_RATE_BURST", "1000")];
    vars.extend_from_slice(extra);
    let env = common::env(&vars).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = podawcza::web::router(env.app.clone())
        .into_make_service_with_connect_info::<std::net::SocketAddr>();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    let now = podawcza::clock::now();
    for (login, dept, role) in [
        ("km1", "KM", Role::Clerk),
        ("km2", "KM", Role::Clerk),
        ("so1", "SO", Role::Clerk),
        ("bp", "BP", Role::Intake),
        ("admin", "BP", Role::Admin),
    ] {
        accounts::add_user(&env.app.db, login, dept, role, PASSWORD, now)
            .await
            .unwrap();
    }
    Server { base, env, task }
}

/// What a seeded submission looks like.
pub struct Seed<'a> {
    /// Department.
    pub department: &'a str,
    /// Subject.
    pub subject: &'a str,
    /// Documents: name, bytes, report JSON (or `None`).
    pub documents: Vec<(&'a str, &'a [u8], Option<serde_json::Value>)>,
    /// Arrival time.
    pub received_at: &'a str,
}

/// A signature report of one document with the given indication and kind.
pub fn report(name: &str, indication: &str, sub: Option<&str>, kind: &str) -> serde_json::Value {
    serde_json::json!({
        "file": name, "sha256": "", "container": "xml",
        "signatures": [{
            "id": "S1", "format": "XAdES", "level": "B-T", "checked": true,
            "intact": indication != "TOTAL_FAILED", "indication": indication,
            "sub_indication": sub, "kind": kind,
            "signer": {"name": "Jan Kowalski", "given_name": "Jan", "surname": "Kowalski",
                       "serial_number": "PNOPL-44051401359", "pesel": "44051401359",
                       "organization": null, "email": null},
            "signing_time": "2020-04-20T10:11:12Z", "timestamp_time": null,
            "certificate": {"subject": "CN=Jan Kowalski", "issuer": "CN=Test QCA", "serial": "01",
                            "sha256": "ab", "not_before": "2019-01-01T00:00:00Z",
                            "not_after": "2021-01-01T00:00:00Z", "qualified": true},
            "signed_data": [], "warnings": [], "errors": ["reference digest mismatch"]
        }]
    })
}

/// Inserts a dispatched submission with its documents and blobs; returns its id and the ids of
/// its documents.
pub async fn seed(env: &TestEnv, n: i64, s: Seed<'_>) -> (String, Vec<String>) {
    let db = env.app.db.pool();
    let id = uuid::Uuid::now_v7().to_string();
    let raw = format!("Subject: {}\r\n\r\nraw message {n}\r\n", s.subject);
    let raw_key = env.app.blobs.put(raw.as_bytes()).unwrap();
    let signed = s.documents.iter().any(|d| {
        d.2.as_ref()
            .and_then(|r| r["signatures"].as_array())
            .is_some_and(|a| !a.is_empty())
    });
    sqlx::query(
        "INSERT INTO submissions (id, registration_number, reg_year, reg_seq, channel, received_at,
            arrival_source, registered_at, sender, sender_name, recipients, subject, body_text,
            raw_sha256, raw_size, state, department, signed, updated_at)
         VALUES ($1, $2, 2020, $3, 'email', $4, 'received_header', $4, $5, 'Mieszkaniec', '[]',
            $6, 'Treść pisma.', $7, $8, 'dispatched', $9, $10, $4)",
    )
    .bind(&id)
    .bind(format!("RPW/{n}/2020"))
    .bind(n)
    .bind(s.received_at)
    .bind(format!("osoba{n}@example.pl"))
    .bind(s.subject)
    .bind(&raw_key)
    .bind(raw.len() as i64)
    .bind(s.department)
    .bind(i64::from(signed))
    .execute(db)
    .await
    .unwrap();
    let mut doc_ids = Vec::new();
    for (seq, (name, bytes, report)) in s.documents.iter().enumerate() {
        let key = env.app.blobs.put(bytes).unwrap();
        let doc_id = uuid::Uuid::now_v7().to_string();
        let media_type = if name.ends_with(".pdf") {
            "application/pdf"
        } else {
            "application/xml"
        };
        sqlx::query(
            "INSERT INTO documents (id, submission_id, seq, name, media_type, size, sha256,
                container, role, report, signed)
             VALUES ($1, $2, $3, $4, $9, $5, $6, '', 'attachment', $7, $8)",
        )
        .bind(&doc_id)
        .bind(&id)
        .bind(seq as i64 + 1)
        .bind(*name)
        .bind(bytes.len() as i64)
        .bind(&key)
        .bind(report.as_ref().map(|r| r.to_string()))
        .bind(i64::from(report.is_some()))
        .bind(media_type)
        .execute(db)
        .await
        .unwrap();
        doc_ids.push(doc_id);
    }
    (id, doc_ids)
}

/// A client with its own cookie jar that does not follow redirects.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The value of the first `name="csrf"` field of a page.
pub fn csrf_of(page: &str) -> String {
    let marker = r#"name="csrf" value=""#;
    let start = page.find(marker).expect("a csrf field") + marker.len();
    page[start..].split('"').next().unwrap().to_string()
}

/// Logs in; returns the response of the POST.
pub async fn try_login(
    c: &reqwest::Client,
    base: &str,
    login: &str,
    pw: &str,
) -> reqwest::Response {
    let form = c.get(format!("{base}/login")).send().await.unwrap();
    let token = csrf_of(&form.text().await.unwrap());
    c.post(format!("{base}/login"))
        .form(&[("csrf", token.as_str()), ("login", login), ("password", pw)])
        .send()
        .await
        .unwrap()
}

/// A logged-in client.
pub async fn logged_in(base: &str, login: &str) -> reqwest::Client {
    let c = client();
    let r = try_login(&c, base, login, PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "login of {login}");
    assert_eq!(r.headers()[header::LOCATION], "/inbox");
    c
}

async fn get(c: &reqwest::Client, url: String) -> (StatusCode, String) {
    let r = c.get(url).send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

/// The CSRF token of a logged-in client.
pub async fn token(c: &reqwest::Client, base: &str) -> String {
    csrf_of(&get(c, format!("{base}/inbox")).await.1)
}

fn plain<'a>(dept: &'a str, subject: &'a str, at: &'a str) -> Seed<'a> {
    Seed {
        department: dept,
        subject,
        documents: vec![("wniosek.pdf", b"%PDF-1.4 wniosek", None)],
        received_at: at,
    }
}

#[tokio::test]
async fn a_clerk_sees_only_their_departments_submissions_newest_first() {
    let s = server(&[]).await;
    seed(
        &s.env,
        1,
        plain("KM", "Rejestracja starsza", "2020-04-20T08:00:00.000000Z"),
    )
    .await;
    seed(
        &s.env,
        2,
        plain("KM", "Rejestracja nowsza", "2020-04-21T08:00:00.000000Z"),
    )
    .await;
    seed(
        &s.env,
        3,
        plain("SO", "Dowód osobisty", "2020-04-22T08:00:00.000000Z"),
    )
    .await;
    let km = logged_in(&s.base, "km1").await;
    let (status, page) = get(&km, format!("{}/inbox", s.base)).await;
    assert_eq!(status, StatusCode::OK);
    let newer = page.find("Rejestracja nowsza").expect("newer listed");
    let older = page.find("Rejestracja starsza").expect("older listed");
    assert!(newer < older, "newest first");
    assert!(!page.contains("Dowód osobisty"));
    // Asking for another department's list yields nothing, not that department.
    let (_, page) = get(&km, format!("{}/inbox?wydzial=SO", s.base)).await;
    assert!(!page.contains("Dowód osobisty"));
    assert!(page.contains("Brak pism"));
    // The intake office sees all, and may narrow to one department.
    let bp = logged_in(&s.base, "bp").await;
    let (_, page) = get(&bp, format!("{}/inbox", s.base)).await;
    assert!(page.contains("Dowód osobisty") && page.contains("Rejestracja nowsza"));
    let (_, page) = get(&bp, format!("{}/inbox?wydzial=SO", s.base)).await;
    assert!(page.contains("Dowód osobisty") && !page.contains("Rejestracja nowsza"));
}

#[tokio::test]
async fn another_departments_submission_is_404_on_every_route() {
    let s = server(&[]).await;
    let (id, docs) = seed(
        &s.env,
        1,
        plain("SO", "Dowód", "2020-04-20T08:00:00.000000Z"),
    )
    .await;
    let km = logged_in(&s.base, "km1").await;
    let t = token(&km, &s.base).await;
    let b = &s.base;
    for url in [
        format!("{b}/inbox/{id}"),
        format!("{b}/inbox/{id}/original"),
        format!("{b}/inbox/{id}/documents/{}", docs[0]),
        format!("{b}/inbox/no-such-id"),
    ] {
        assert_eq!(
            get(&km, url.clone()).await.0,
            StatusCode::NOT_FOUND,
            "{url}"
        );
    }
    for (verb, extra) in [
        ("take", ("x", "")),
        ("state", ("state", "done")),
        ("assign", ("department", "KM")),
        ("comment", ("text", "moje")),
    ] {
        let r = km
            .post(format!("{b}/inbox/{id}/{verb}"))
            .form(&[("csrf", t.as_str()), extra, ("note", "przejmuję")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{verb}");
    }
    assert_eq!(
        s.env.count("SELECT COUNT(*) FROM audit_events").await,
        0,
        "nothing was recorded"
    );
    let so = logged_in(&s.base, "so1").await;
    assert_eq!(get(&so, format!("{b}/inbox/{id}")).await.0, StatusCode::OK);
    // A document id of one submission does not open through another submission's URL.
    let (other, _) = seed(
        &s.env,
        2,
        plain("SO", "Inne", "2020-04-20T09:00:00.000000Z"),
    )
    .await;
    let url = format!("{b}/inbox/{other}/documents/{}", docs[0]);
    assert_eq!(get(&so, url).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_form_without_or_with_a_wrong_csrf_token_is_refused_with_403() {
    let s = server(&[]).await;
    let (id, _) = seed(
        &s.env,
        1,
        plain("KM", "Pojazd", "2020-04-20T08:00:00.000000Z"),
    )
    .await;
    let km = logged_in(&s.base, "km1").await;
    let other = logged_in(&s.base, "km2").await;
    let foreign = token(&other, &s.base).await;
    for form in [
        vec![("text", "bez tokenu")],
        vec![("csrf", ""), ("text", "pusty")],
        vec![("csrf", "zly-token"), ("text", "zły")],
        vec![("csrf", foreign.as_str()), ("text", "token innej sesji")],
    ] {
        let r = km
            .post(format!("{}/inbox/{id}/comment", s.base))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{form:?}");
    }
    let r = km
        .post(format!("{}/logout", s.base))
        .form(&[("csrf", "zly")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // The login form: its token must match the cookie set with the form.
    let fresh = client();
    let r = fresh
        .post(format!("{}/login", s.base))
        .form(&[("csrf", "x"), ("login", "km1"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(s.env.count("SELECT COUNT(*) FROM audit_events").await, 0);
    // With the right token the same comment goes through.
    let t = token(&km, &s.base).await;
    let r = km
        .post(format!("{}/inbox/{id}/comment", s.base))
        .form(&[("csrf", t.as_str()), ("text", "dobry")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn names_with_path_tricks_only_label_the_download_of_the_stored_blob() {
    let s = server(&[]).await;
    let bytes: &[u8] = b"<?xml version=\"1.0\"?><wniosek/>";
    let seed_doc = Seed {
        department: "KM",
        subject: "Ścieżki",
        documents: vec![
            ("../../../../etc/passwd", bytes, None),
            ("..\\..\\windows\\win.ini", b"drugi", None),
        ],
        received_at: "2020-04-20T08:00:00.000000Z",
    };
    let (id, docs) = seed(&s.env, 1, seed_doc).await;
    let km = logged_in(&s.base, "km1").await;
    let r = km
        .get(format!("{}/inbox/{id}/documents/{}", s.base, docs[0]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let h = r.headers().clone();
    assert_eq!(h[header::CONTENT_TYPE], "application/octet-stream");
    assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(
        h[header::CONTENT_DISPOSITION],
        "attachment; filename=\"passwd\"; filename*=UTF-8''passwd"
    );
    assert_eq!(r.bytes().await.unwrap().as_ref(), bytes);
    let r = km
        .get(format!("{}/inbox/{id}/documents/{}", s.base, docs[1]))
        .send()
        .await
        .unwrap();
    assert!(r.headers()[header::CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .contains("filename=\"win.ini\""));
    // Path tricks in the URL name no document.
    for trick in [
        "..%2F..%2F..%2Fetc%2Fpasswd",
        "..",
        "%2e%2e",
        &"0".repeat(64),
    ] {
        let url = format!("{}/inbox/{id}/documents/{trick}", s.base);
        let status = km.get(url).send().await.unwrap().status();
        assert_eq!(status, StatusCode::NOT_FOUND, "{trick}");
    }
}

#[tokio::test]
async fn subjects_file_names_and_signers_are_escaped_and_pesel_hidden_in_the_list() {
    let s = server(&[]).await;
    let evil = "<script>alert(1)</script> PESEL 44051401359";
    let mut r = report("a.xml", "TOTAL_FAILED", Some("HASH_FAILURE"), "qes");
    r["signatures"][0]["signer"]["name"] = "<img src=x onerror=alert(2)>".into();
    let seed_doc = Seed {
        department: "KM",
        subject: evil,
        documents: vec![("<b>plik</b>\".xml", b"<x/>", Some(r))],
        received_at: "2020-04-20T08:00:00.000000Z",
    };
    let (id, _) = seed(&s.env, 1, seed_doc).await;
    let km = logged_in(&s.base, "km1").await;
    let (_, list) = get(&km, format!("{}/inbox", s.base)).await;
    assert!(!list.contains("<script>alert") && !list.contains("<b>plik"));
    assert!(list.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(list.contains("&lt;b&gt;plik&lt;/b&gt;&quot;.xml"));
    assert!(!list.contains("44051401359"), "no PESEL in the list");
    let (_, page) = get(&km, format!("{}/inbox/{id}", s.base)).await;
    assert!(!page.contains("<script>alert") && !page.contains("<img src=x"));
    assert!(page.contains("&lt;img src=x onerror=alert(2)&gt;"));
}

/// A login attempt from `ip` (as a reverse proxy would report it in X-Forwarded-For).
async fn login_from(c: &reqwest::Client, base: &str, ip: &str, pw: &str) -> reqwest::Response {
    let form = c.get(format!("{base}/login")).send().await.unwrap();
    assert_eq!(
        form.status(),
        StatusCode::OK,
        "the form itself is never limited"
    );
    let token = csrf_of(&form.text().await.unwrap());
    c.post(format!("{base}/login"))
        .header("X-Forwarded-For", format!("10.9.9.9, {ip}"))
        .form(&[("csrf", token.as_str()), ("login", "km1"), ("password", pw)])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn login_attempts_are_limited_per_client_address() {
    let s = server(&[
        ("PODAWCZA_WEB__LOGIN_RATE_PER_MINUTE", "1"),
        ("PODAWCZA_WEB__LOGIN_RATE_BURST", "3"),
        ("PODAWCZA_WEB__LOGIN_MAX_FAILURES", "100"),
        ("PODAWCZA_WEB__TRUST_FORWARDED_FOR", "true"),
    ])
    .await;
    let c = client();
    for _ in 0..3 {
        let r = login_from(&c, &s.base, "198.51.100.7", "zle-haslo-123").await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    // The fourth attempt is refused before the password is looked at, even the right one.
    let r = login_from(&c, &s.base, "198.51.100.7", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = r.headers()[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "Retry-After {wait}");
    assert!(r.headers().get(header::SET_COOKIE).is_none(), "no session");
    assert!(r.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .contains("default-src 'none'"));
    let page = r.text().await.unwrap();
    assert!(page.contains("Zbyt wiele prób logowania"), "{page}");
    assert!(page.contains(&format!("za {wait} s")), "{page}");
    // Another client (by the proxy's report) logs in at once.
    let r = login_from(&client(), &s.base, "203.0.113.9", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // The failed attempts were counted against the account too (the limit is on top of them).
    let failures: i64 = sqlx::query_scalar("SELECT failed_attempts FROM users WHERE login = 'km1'")
        .fetch_one(s.env.app.db.pool())
        .await
        .unwrap();
    assert_eq!(
        failures, 0,
        "reset by the successful login from the other address"
    );
}

#[tokio::test]
async fn a_forged_forwarded_for_does_not_escape_the_login_limit() {
    // Not behind a proxy: the peer address counts and X-Forwarded-For is the client's own words.
    let s = server(&[
        ("PODAWCZA_WEB__LOGIN_RATE_PER_MINUTE", "1"),
        ("PODAWCZA_WEB__LOGIN_RATE_BURST", "2"),
    ])
    .await;
    let c = client();
    for ip in ["192.0.2.1", "192.0.2.2"] {
        let r = login_from(&c, &s.base, ip, "zle-haslo-123").await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    let r = login_from(&c, &s.base, "192.0.2.3", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    // Turned off (0), nothing is limited.
    let s = server(&[
        ("PODAWCZA_WEB__LOGIN_RATE_PER_MINUTE", "0"),
        ("PODAWCZA_WEB__LOGIN_RATE_BURST", "1"),
    ])
    .await;
    for _ in 0..4 {
        let r = login_from(&c, &s.base, "192.0.2.1", "zle-haslo-123").await;
        assert_eq!(r.status(), StatusCode::OK);
    }
}

#[tokio::test]
async fn an_account_is_locked_after_repeated_failures_even_for_the_right_password() {
    let s = server(&[("PODAWCZA_WEB__LOGIN_MAX_FAILURES", "3")]).await;
    let c = client();
    for _ in 0..3 {
        let r = try_login(&c, &s.base, "km1", "zle-haslo-123").await;
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r
            .text()
            .await
            .unwrap()
            .contains("Nieprawidłowy login lub hasło"));
    }
    let r = try_login(&c, &s.base, "km1", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::OK, "no session while locked");
    assert!(r.text().await.unwrap().contains("Konto zablokowane"));
    // Another account is not affected; an unknown login gives the same answer as a wrong password.
    let r = try_login(&client(), &s.base, "nikt", "cokolwiek-123").await;
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("Nieprawidłowy login lub hasło"));
    logged_in(&s.base, "km2").await;
    // The admin unlocks it.
    let admin = logged_in(&s.base, "admin").await;
    let t = token(&admin, &s.base).await;
    let r = admin
        .post(format!("{}/admin/users/km1/unlock", s.base))
        .form(&[("csrf", t.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    logged_in(&s.base, "km1").await;
}

#[tokio::test]
async fn logout_deletes_the_session_so_the_old_cookie_no_longer_opens_anything() {
    let s = server(&[]).await;
    let km = logged_in(&s.base, "km1").await;
    let page = get(&km, format!("{}/inbox", s.base)).await.1;
    let t = csrf_of(&page);
    let r = km
        .post(format!("{}/logout", s.base))
        .form(&[("csrf", t.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(s.env.count("SELECT COUNT(*) FROM sessions").await, 0);
    // Even a client that kept the old cookie value is sent to the login page.
    let r = km.get(format!("{}/inbox", s.base)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()[header::LOCATION], "/login");
}

#[tokio::test]
async fn the_session_cookie_is_http_only_strict_and_secure_when_configured() {
    let s = server(&[("PODAWCZA_WEB__SECURE_COOKIES", "true")]).await;
    let c = client();
    let r = try_login(&c, &s.base, "km1", PASSWORD).await;
    // A client keeps Secure cookies only over HTTPS, so read the header itself.
    let cookies: Vec<_> = r.headers().get_all(header::SET_COOKIE).iter().collect();
    let session = cookies
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|v| v.starts_with("__Host-podawcza_session="))
        .expect("session cookie");
    for attr in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/"] {
        assert!(session.contains(attr), "{attr} in {session}");
    }
}

#[tokio::test]
async fn pages_need_a_login_and_carry_the_security_headers() {
    let s = server(&[]).await;
    let anon = client();
    for path in ["/inbox", "/inbox/x", "/inbox/x/original", "/admin/users"] {
        let r = anon.get(format!("{}{path}", s.base)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(r.headers()[header::LOCATION], "/login");
    }
    let km = logged_in(&s.base, "km1").await;
    let r = km.get(format!("{}/inbox", s.base)).send().await.unwrap();
    let csp = r.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    assert!(csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"));
    assert_eq!(r.headers()[header::X_FRAME_OPTIONS], "DENY");
    assert_eq!(r.headers()[header::CACHE_CONTROL], "no-store");
    // A clerk is not an administrator.
    let r = km
        .get(format!("{}/admin/users", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn filters_find_failed_signatures_and_text_in_document_names() {
    let s = server(&[]).await;
    let failed = Seed {
        department: "KM",
        subject: "Wniosek z podpisem nieważnym",
        documents: vec![(
            "wniosek-zly.xml",
            b"<a/>",
            Some(report("a", "TOTAL_FAILED", Some("HASH_FAILURE"), "qes")),
        )],
        received_at: "2020-04-20T08:00:00.000000Z",
    };
    let good = Seed {
        department: "KM",
        subject: "Wniosek z podpisem zaufanym",
        documents: vec![(
            "wniosek-pz.xml",
            b"<b/>",
            Some(report("b", "TOTAL_PASSED", None, "trusted_profile")),
        )],
        received_at: "2020-04-21T08:00:00.000000Z",
    };
    let indet = Seed {
        department: "KM",
        subject: "Wniosek nierozstrzygnięty",
        documents: vec![(
            "wniosek-ind.xml",
            b"<c/>",
            Some(report(
                "c",
                "INDETERMINATE",
                Some("NO_CERTIFICATE_CHAIN_FOUND"),
                "unknown",
            )),
        )],
        received_at: "2020-05-02T08:00:00.000000Z",
    };
    seed(&s.env, 1, failed).await;
    seed(&s.env, 2, good).await;
    seed(&s.env, 3, indet).await;
    seed(
        &s.env,
        4,
        plain("KM", "Zwykły e-mail", "2020-04-22T08:00:00.000000Z"),
    )
    .await;
    let km = logged_in(&s.base, "km1").await;
    let list = |q: &str| get(&km, format!("{}/inbox?{q}", s.base));
    let (_, all) = list("").await;
    assert!(all.contains("PODPIS NIEWAŻNY") && all.contains("PODPIS NIEROZSTRZYGNIĘTY"));
    let (_, p) = list("waznosc=failed").await;
    assert!(p.contains("podpisem nieważnym") && !p.contains("zaufanym") && !p.contains("Zwykły"));
    let (_, p) = list("waznosc=problem").await;
    assert!(p.contains("nieważnym") && p.contains("nierozstrzygnięty") && !p.contains("zaufanym"));
    let (_, p) = list("waznosc=passed").await;
    assert!(p.contains("zaufanym") && !p.contains("nieważnym"));
    let (_, p) = list("rodzaj=trusted_profile").await;
    assert!(p.contains("zaufanym") && !p.contains("nieważnym"));
    let (_, p) = list("podpis=nie").await;
    assert!(p.contains("Zwykły") && !p.contains("zaufanym"));
    let (_, p) = list("q=WNIOSEK-PZ").await;
    assert!(
        p.contains("zaufanym") && !p.contains("nieważnym"),
        "document names, any case"
    );
    let (_, p) = list("q=50%25").await;
    assert!(
        p.contains("Brak pism"),
        "a % is a character, not a wildcard"
    );
    let (_, p) = list("od=2020-05-01&do=2020-05-31").await;
    assert!(p.contains("nierozstrzygnięty") && !p.contains("nieważnym"));
    let (status, _) = list("waznosc=zly").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_list_pages_and_counts_per_clerk_state() {
    let s = server(&[("PODAWCZA_WEB__PAGE_SIZE", "2")]).await;
    for n in 1..=5 {
        let at = format!("2020-04-{:02}T08:00:00.000000Z", 10 + n);
        let subject = format!("Pismo numer {n}");
        seed(&s.env, n, plain("KM", &subject, &at)).await;
    }
    let km = logged_in(&s.base, "km1").await;
    let (_, p1) = get(&km, format!("{}/inbox", s.base)).await;
    assert!(p1.contains("Pismo numer 5") && p1.contains("Pismo numer 4"));
    assert!(!p1.contains("Pismo numer 3") && p1.contains("rel=\"next\""));
    assert!(p1.contains("nowe (5)") && p1.contains("w toku (0)"));
    let (_, p3) = get(&km, format!("{}/inbox?strona=3", s.base)).await;
    assert!(p3.contains("Pismo numer 1") && !p3.contains("rel=\"next\""));
    // A text search counts its matches per state too.
    let (_, p) = get(&km, format!("{}/inbox?q=numer+4", s.base)).await;
    assert!(p.contains("wszystkie (1)") && p.contains("nowe (1)") && p.contains("w toku (0)"));

    // Past the cap: per state without a search, only "more than" in all for a search.
    sqlx::query(
        "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 1001)
         INSERT INTO submissions (id, registration_number, reg_year, reg_seq, channel,
             received_at, arrival_source, registered_at, sender, recipients, subject, raw_sha256,
             raw_size, state, department, updated_at)
         SELECT 'bulk-' || n, 'RPW/' || n || '/2019', 2019, n, 'email',
             '2019-01-01T00:00:00.000000Z', 'received_header', '2019-01-01T00:00:00.000000Z',
             'masowa@example.pl', '[]', 'Masowa korespondencja', 'x', 1, 'dispatched', 'KM',
             '2019-01-01T00:00:00.000000Z'
         FROM g",
    )
    .execute(s.env.app.db.pool())
    .await
    .unwrap();
    let (_, p) = get(&km, format!("{}/inbox", s.base)).await;
    assert!(p.contains("wszystkie (ponad 1000)") && p.contains("nowe (ponad 1000)"));
    assert!(p.contains("w toku (0)"));
    let (_, p) = get(&km, format!("{}/inbox?q=masowa", s.base)).await;
    assert!(p.contains("wszystkie (ponad 1000)"), "{p}");
    assert!(
        p.contains(">nowe</a>") && p.contains(">w toku</a>"),
        "no count per state"
    );
    let (_, p) = get(&km, format!("{}/inbox?q=numer", s.base)).await;
    assert!(p.contains("wszystkie (5)") && p.contains("nowe (5)"));
}

#[tokio::test]
async fn take_state_comment_and_reassignment_are_audit_events_and_move_the_submission() {
    let s = server(&[]).await;
    let (id, _) = seed(
        &s.env,
        1,
        plain("KM", "Do przekazania", "2020-04-20T08:00:00.000000Z"),
    )
    .await;
    let km = logged_in(&s.base, "km1").await;
    let t = token(&km, &s.base).await;
    let post = |verb: &str, form: Vec<(&str, &str)>| {
        let mut form = form;
        form.push(("csrf", t.as_str()));
        km.post(format!("{}/inbox/{id}/{verb}", s.base))
            .form(&form)
            .send()
    };
    assert_eq!(
        post("take", vec![]).await.unwrap().status(),
        StatusCode::SEE_OTHER
    );
    let r = post("state", vec![("state", "waiting")]).await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = post("comment", vec![("text", "Wezwano do uzupełnienia")])
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // Re-assignment needs a note and a real department.
    let r = post("assign", vec![("department", "SO"), ("note", "  ")])
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = post("assign", vec![("department", "XX"), ("note", "zły")])
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = post(
        "assign",
        vec![("department", "SO"), ("note", "Sprawa meldunkowa")],
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()[header::LOCATION], "/inbox", "no longer ours");
    let actions: Vec<(String, String, Option<String>)> = sqlx::query_as(
        "SELECT actor, action, reason FROM audit_events WHERE submission_id = $1 ORDER BY at, id",
    )
    .bind(&id)
    .fetch_all(s.env.app.db.pool())
    .await
    .unwrap();
    let names: Vec<&str> = actions.iter().map(|a| a.1.as_str()).collect();
    assert_eq!(
        names,
        [
            "inbox_taken",
            "clerk_state_changed",
            "commented",
            "reassigned"
        ]
    );
    assert!(actions.iter().all(|a| a.0 == "km1"));
    assert_eq!(actions[3].2.as_deref(), Some("Sprawa meldunkowa"));
    let (dept, cs): (String, String) =
        sqlx::query_as("SELECT department, clerk_state FROM submissions WHERE id = $1")
            .bind(&id)
            .fetch_one(s.env.app.db.pool())
            .await
            .unwrap();
    assert_eq!((dept.as_str(), cs.as_str()), ("SO", "new"));
    assert_eq!(
        s.env
            .count("SELECT COUNT(*) FROM assignments WHERE department = 'SO' AND note = 'Sprawa meldunkowa'")
            .await,
        1
    );
    // KM lost it, SO has it with the whole timeline.
    assert_eq!(
        get(&km, format!("{}/inbox/{id}", s.base)).await.0,
        StatusCode::NOT_FOUND
    );
    let so = logged_in(&s.base, "so1").await;
    let (status, page) = get(&so, format!("{}/inbox/{id}", s.base)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("dekretacja do innego wydziału") && page.contains("Sprawa meldunkowa"));
    assert!(page.contains("Wezwano do uzupełnienia"));
}

#[tokio::test]
async fn downloads_are_byte_exact_originals_with_their_sha256_shown() {
    let s = server(&[]).await;
    let bytes: &[u8] = b"%PDF-1.7\n\x00\xff\xfe binary \r\n";
    let seed_doc = Seed {
        department: "KM",
        subject: "Binarny",
        documents: vec![("wniosek ż.pdf", bytes, None)],
        received_at: "2020-04-20T08:00:00.000000Z",
    };
    let (id, docs) = seed(&s.env, 1, seed_doc).await;
    let km = logged_in(&s.base, "km1").await;
    let (_, page) = get(&km, format!("{}/inbox/{id}", s.base)).await;
    let sha = podawcza::storage::blobs::sha256_hex(bytes);
    assert!(page.contains(&sha));
    let r = km
        .get(format!("{}/inbox/{id}/documents/{}", s.base, docs[0]))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()[header::CONTENT_DISPOSITION],
        "attachment; filename=\"wniosek _.pdf\"; filename*=UTF-8''wniosek%20%C5%BC.pdf"
    );
    assert_eq!(r.bytes().await.unwrap().as_ref(), bytes);
    let r = km
        .get(format!("{}/inbox/{id}/original", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()[header::CONTENT_DISPOSITION],
        "attachment; filename=\"RPW-1-2020.eml\"; filename*=UTF-8''RPW-1-2020.eml"
    );
    let raw = r.bytes().await.unwrap();
    assert!(raw.starts_with(b"Subject: Binarny\r\n"));
}

#[tokio::test]
async fn user_add_on_the_command_line_creates_an_account_that_can_log_in() {
    let s = server(&[]).await;
    let pw = s.env.dir.path().join("pw");
    std::fs::write(&pw, "nowe-haslo-kierownika\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_podawcza"))
        .args([
            "user",
            "add",
            "kierownik",
            "--department",
            "USC",
            "--role",
            "clerk",
        ])
        .arg("--password-file")
        .arg(&pw)
        .envs(s.env.cli_env())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let c = client();
    let r = try_login(&c, &s.base, "kierownik", "nowe-haslo-kierownika").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let stored: String =
        sqlx::query_scalar("SELECT password_hash FROM users WHERE login = 'kierownik'")
            .fetch_one(s.env.app.db.pool())
            .await
            .unwrap();
    assert!(stored.starts_with("$argon2id$") && !stored.contains("nowe-haslo"));
    // A role that does not exist is refused.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_podawcza"))
        .args(["user", "add", "x", "--department", "USC", "--role", "boss"])
        .arg("--password-file")
        .arg(&pw)
        .envs(s.env.cli_env())
        .output()
        .unwrap();
    assert!(!out.status.success());
}

#[tokio::test]
async fn statistics_count_channels_signatures_and_failures_in_svg_and_csv() {
    let s = server(&[]).await;
    let failed = Seed {
        department: "KM",
        subject: "Podpisany",
        documents: vec![(
            "a.xml",
            b"<a/>",
            Some(report("a", "TOTAL_FAILED", Some("HASH_FAILURE"), "qes")),
        )],
        received_at: "2020-04-20T08:00:00.000000Z",
    };
    seed(&s.env, 1, failed).await;
    seed(
        &s.env,
        2,
        plain("KM", "Zwykły", "2020-04-21T08:00:00.000000Z"),
    )
    .await;
    seed(
        &s.env,
        3,
        plain("SO", "Inny", "2020-04-28T08:00:00.000000Z"),
    )
    .await;
    let bp = logged_in(&s.base, "bp").await;
    let (status, page) = get(&bp, format!("{}/stats", s.base)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("<svg") && page.contains("2020-W17") && page.contains("2020-W18"));
    let (_, csv) = get(&bp, format!("{}/stats.csv", s.base)).await;
    assert!(csv.contains("tydzien,2020-W17,2,0,0,1,1\n"), "{csv}");
    assert!(csv.contains("tydzien,2020-W18,1,0,0,0,1\n"));
    assert!(csv.contains("wydzial,\"KM\",2\n") && csv.contains("rodzaj,\"qes\",1,1\n"));
    // A clerk's figures cover their department only.
    let so = logged_in(&s.base, "so1").await;
    let (_, csv) = get(&so, format!("{}/stats.csv", s.base)).await;
    assert!(!csv.contains("2020-W17") && csv.contains("wydzial,\"SO\",1\n"));
}

#[tokio::test]
async fn the_signature_summary_follows_a_report_written_after_registration() {
    let s = server(&[]).await;
    let (id, docs) = seed(
        &s.env,
        1,
        plain("KM", "Zweryfikowany później", "2020-04-20T08:00:00.000000Z"),
    )
    .await;
    let km = logged_in(&s.base, "km1").await;
    let (_, p) = get(&km, format!("{}/inbox?waznosc=failed", s.base)).await;
    assert!(!p.contains("Zweryfikowany później"));
    // The pipeline writes the report of a document after it was registered.
    let r = report("a", "TOTAL_FAILED", Some("REVOKED"), "personal").to_string();
    sqlx::query("UPDATE documents SET report = $1 WHERE id = $2")
        .bind(r)
        .bind(&docs[0])
        .execute(s.env.app.db.pool())
        .await
        .unwrap();
    sqlx::query("UPDATE submissions SET signed = 1 WHERE id = $1")
        .bind(&id)
        .execute(s.env.app.db.pool())
        .await
        .unwrap();
    for q in [
        "waznosc=failed",
        "waznosc=problem",
        "rodzaj=personal",
        "podpis=tak",
    ] {
        let (_, p) = get(&km, format!("{}/inbox?{q}", s.base)).await;
        assert!(p.contains("Zweryfikowany później"), "{q}");
    }
    let (_, p) = get(&km, format!("{}/inbox?rodzaj=qes", s.base)).await;
    assert!(!p.contains("Zweryfikowany później"));
}

#[tokio::test]
async fn the_signature_panel_shows_the_certification_path_the_validation_found() {
    // A real signature of the test PKI, validated by the library as the pipeline does.
    let pki = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/pki");
    let trust = podawcza::signature::trust::Trust::load_dir(
        &pki.join("anchors"),
        podawcza::signature::trust::KindSettings::default(),
    )
    .unwrap();
    let bytes = std::fs::read(pki.join("samples/qes.xml")).unwrap();
    let at = chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let report = podawcza::signature::inspect_validated(
        "qes.xml",
        "application/xml",
        &bytes,
        &|_| None,
        &trust,
        at,
    );
    let sig = &report.signatures[0];
    let chain = &sig.chain;
    assert!(chain.len() >= 2, "signer and anchor at least: {chain:?}");
    assert_eq!(
        chain[0].sha256,
        sig.certificate.as_ref().unwrap().sha256,
        "the path starts at the signing certificate"
    );
    let anchor = chain.last().unwrap();
    assert_eq!(
        anchor.subject, anchor.issuer,
        "and ends at a self-signed anchor"
    );
    for pair in chain.windows(2) {
        assert_eq!(pair[0].issuer, pair[1].subject, "each issued by the next");
    }

    let s = server(&[]).await;
    let (id, _) = seed(
        &s.env,
        1,
        Seed {
            department: "KM",
            subject: "Wniosek z łańcuchem",
            documents: vec![(
                "qes.xml",
                bytes.as_slice(),
                Some(serde_json::to_value(&report).unwrap()),
            )],
            received_at: "2020-04-20T08:00:00.000000Z",
        },
    )
    .await;
    let km = logged_in(&s.base, "km1").await;
    let (status, page) = get(&km, format!("{}/inbox/{id}", s.base)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Ścieżka certyfikacji"), "{page}");
    let signer = page.find("(certyfikat podpisującego)").unwrap();
    let root = page.find("(kotwica zaufania)").unwrap();
    assert!(signer < root);
    assert!(page.contains(&anchor.sha256));
}

fn header_of(r: &reqwest::Response, name: header::HeaderName) -> String {
    r.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_pdf_is_previewed_inline_in_a_sandbox_and_downloaded_as_an_attachment() {
    let s = server(&[]).await;
    let pdf: &[u8] = b"%PDF-1.4\n1 0 obj << /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >>";
    let (id, docs) = seed(
        &s.env,
        1,
        Seed {
            department: "KM",
            subject: "Wniosek z PDF",
            documents: vec![
                ("wniosek.pdf", pdf, None),
                ("podpis.xml", b"<a/>", None),
                // Labelled a PDF, but HTML inside: never served inline.
                (
                    "udawany.pdf",
                    b"<html><script>alert(1)</script></html>",
                    None,
                ),
            ],
            received_at: "2020-04-20T08:00:00.000000Z",
        },
    )
    .await;
    let km = logged_in(&s.base, "km1").await;
    let url = |doc: &str| format!("{}/inbox/{id}/documents/{doc}", s.base);

    // The detail page frames the preview; its policy allows frames from this origin only, and
    // the page itself still may not be framed.
    let r = km
        .get(format!("{}/inbox/{id}", s.base))
        .send()
        .await
        .unwrap();
    let csp = header_of(&r, header::CONTENT_SECURITY_POLICY);
    assert!(
        csp.contains("frame-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert!(
        csp.contains("default-src 'none'") && !csp.contains("script-src"),
        "{csp}"
    );
    assert_eq!(header_of(&r, header::X_FRAME_OPTIONS), "DENY");
    let page = r.text().await.unwrap();
    assert!(page.contains(&format!(
        r#"<iframe src="/inbox/{id}/documents/{}?preview=1""#,
        docs[0]
    )));
    assert!(
        !page.contains(&format!("{}?preview=1", docs[1])),
        "no preview of XML"
    );

    // The preview: inline, the exact bytes, sandboxed, frameable by this origin only.
    let r = km
        .get(format!("{}?preview=1", url(&docs[0])))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header_of(&r, header::CONTENT_TYPE), "application/pdf");
    assert!(
        header_of(&r, header::CONTENT_DISPOSITION).starts_with("inline; filename=\"wniosek.pdf\"")
    );
    let csp = header_of(&r, header::CONTENT_SECURITY_POLICY);
    assert!(csp.split(';').any(|d| d.trim() == "sandbox"), "{csp}");
    assert!(
        csp.contains("frame-ancestors 'self'") && !csp.contains("'none'"),
        "{csp}"
    );
    assert_eq!(header_of(&r, header::X_FRAME_OPTIONS), "SAMEORIGIN");
    assert_eq!(header_of(&r, header::X_CONTENT_TYPE_OPTIONS), "nosniff");
    assert_eq!(r.bytes().await.unwrap().as_ref(), pdf);

    // The plain download is still an attachment under the common policy.
    let r = km.get(url(&docs[0])).send().await.unwrap();
    assert!(header_of(&r, header::CONTENT_DISPOSITION).starts_with("attachment"));
    assert_eq!(
        header_of(&r, header::CONTENT_TYPE),
        "application/octet-stream"
    );
    assert!(header_of(&r, header::CONTENT_SECURITY_POLICY).contains("frame-ancestors 'none'"));
    assert_eq!(r.bytes().await.unwrap().as_ref(), pdf);

    // No preview of anything that is not a PDF by type and by content.
    for doc in [&docs[1], &docs[2]] {
        let r = km
            .get(format!("{}?preview=1", url(doc)))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        assert!(header_of(&r, header::CONTENT_TYPE).starts_with("text/html"));
        assert!(r.text().await.unwrap().contains("tylko dla plików PDF"));
    }
    // Another department's clerk: 404, like the download.
    let so = logged_in(&s.base, "so1").await;
    let r = so
        .get(format!("{}?preview=1", url(&docs[0])))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // A page without PDFs keeps the common policy (no frames at all).
    let (plain_id, _) = seed(
        &s.env,
        2,
        Seed {
            department: "KM",
            subject: "Bez PDF",
            documents: vec![("a.xml", b"<a/>", None)],
            received_at: "2020-04-20T09:00:00.000000Z",
        },
    )
    .await;
    let r = km
        .get(format!("{}/inbox/{plain_id}", s.base))
        .send()
        .await
        .unwrap();
    assert!(!header_of(&r, header::CONTENT_SECURITY_POLICY).contains("frame-src"));
}

#[tokio::test]
async fn the_time_limit_follows_the_routing_rule_then_the_default() {
    let s = server(&[
        (
            "PODAWCZA_ROUTING__RULES",
            r#"[{name = "odpisy", department = "USC", keywords = ["odpis"], deadline_days = 7}]"#,
        ),
        ("PODAWCZA_WEB__DEADLINE_MONTHS", "2"),
    ])
    .await;
    // Three days ago: a 7-day limit leaves 4 days.
    let at = (podawcza::clock::now() - chrono::Duration::days(3))
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string();
    let (fresh, _) = seed(&s.env, 1, plain("USC", "Odpis aktu", &at)).await;
    let (old, _) = seed(
        &s.env,
        2,
        plain("USC", "Zwykły wniosek", "2020-04-20T10:00:00.000000Z"),
    )
    .await;
    let (routed_old, _) = seed(
        &s.env,
        3,
        plain("USC", "Odpis z 2020", "2020-04-20T10:00:00.000000Z"),
    )
    .await;
    for id in [&fresh, &routed_old] {
        sqlx::query("UPDATE submissions SET routing_rule = 'odpisy' WHERE id = $1")
            .bind(id)
            .execute(s.env.app.db.pool())
            .await
            .unwrap();
    }
    let usc = {
        let c = client();
        let now = podawcza::clock::now();
        accounts::add_user(&s.env.app.db, "usc1", "USC", Role::Clerk, PASSWORD, now)
            .await
            .unwrap();
        let r = try_login(&c, &s.base, "usc1", PASSWORD).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        c
    };
    let (_, p) = get(&usc, format!("{}/inbox/{fresh}", s.base)).await;
    assert!(p.contains("zostało 4 dni"), "{p}");
    assert!(p.contains("7 dni (reguła odpisy)"), "{p}");
    let (_, p) = get(&usc, format!("{}/inbox/{routed_old}", s.base)).await;
    assert!(p.contains("2020-04-27"), "7 days after arrival");
    let (_, p) = get(&usc, format!("{}/inbox/{old}", s.base)).await;
    assert!(p.contains("2020-06-20"), "two months by default");
    assert!(p.contains("2 mies. (KPA art. 35)"), "{p}");
    // The list shows the same dates, and how many days are left.
    let (_, p) = get(&usc, format!("{}/inbox", s.base)).await;
    assert!(p.contains("2020-04-27") && p.contains("2020-06-20") && p.contains("zostało 4 dni"));
}

/// The subjects listed on every page of `query` (following "next"), in order.
async fn all_pages(c: &reqwest::Client, base: &str, query: &str) -> Vec<String> {
    let mut subjects = Vec::new();
    for page in 1..=20 {
        let (status, p) = get(c, format!("{base}/inbox?{query}&strona={page}")).await;
        assert_eq!(status, StatusCode::OK);
        for part in p.split(r#"class="subject">"#).skip(1) {
            subjects.push(part.split('<').next().unwrap().to_string());
        }
        if !p.contains("rel=\"next\"") {
            return subjects;
        }
    }
    panic!("more than 20 pages");
}

#[tokio::test]
async fn a_text_search_pages_through_every_match_once_and_counts_them_per_state() {
    let s = server(&[("PODAWCZA_WEB__PAGE_SIZE", "2")]).await;
    let states = ["new", "in_progress", "waiting"];
    for n in 1..=9 {
        let at = format!("2020-04-{:02}T08:00:00.000000Z", 10 + n);
        let subject = if n <= 7 {
            format!("Budowa drogi nr {n}")
        } else {
            format!("Inne pismo {n}")
        };
        let (id, _) = seed(&s.env, n, plain("KM", &subject, &at)).await;
        sqlx::query("UPDATE submissions SET clerk_state = $1 WHERE id = $2")
            .bind(states[n as usize % 3])
            .bind(&id)
            .execute(s.env.app.db.pool())
            .await
            .unwrap();
    }
    seed(
        &s.env,
        10,
        plain("SO", "Budowa drogi w SO", "2020-04-25T08:00:00.000000Z"),
    )
    .await;
    let km = logged_in(&s.base, "km1").await;
    let newest_first = |ns: &[i64]| -> Vec<String> {
        ns.iter()
            .rev()
            .map(|n| format!("Budowa drogi nr {n}"))
            .collect()
    };
    // Without planner statistics (a new database), and on PostgreSQL again after ANALYZE, when
    // "drogi" is a common word of the sample and "osoba3" a rare one.
    for analysed in [false, true] {
        if analysed {
            if !common::on_postgres() {
                break;
            }
            sqlx::query("ANALYZE submissions")
                .execute(s.env.app.db.pool())
                .await
                .unwrap();
        }
        let all = all_pages(&km, &s.base, "q=DROGI").await;
        assert_eq!(
            all,
            newest_first(&[1, 2, 3, 4, 5, 6, 7]),
            "analysed {analysed}"
        );
        let waiting = all_pages(&km, &s.base, "q=drogi&stan=waiting").await;
        assert_eq!(waiting, newest_first(&[2, 5]), "analysed {analysed}");
        let (_, p) = get(&km, format!("{}/inbox?q=budowa+drogi", s.base)).await;
        assert!(
            p.contains("wszystkie (7)")
                && p.contains("nowe (2)")
                && p.contains("w toku (3)")
                && p.contains("czeka na stronę (2)")
                && p.contains("załatwione (0)"),
            "analysed {analysed}: {p}"
        );
        let one = all_pages(&km, &s.base, "q=osoba3%40example").await;
        assert_eq!(one, newest_first(&[3]), "analysed {analysed}");
        let none = all_pages(&km, &s.base, "q=osoba3%40example.pl+x").await;
        assert!(
            none.is_empty(),
            "the whole text must match, not only its rarest word"
        );
    }
}

#[tokio::test]
async fn a_large_state_is_more_than_the_cap_and_a_small_one_exact_after_analyze() {
    let s = server(&[]).await;
    sqlx::query(
        "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 4010)
         INSERT INTO submissions (id, registration_number, reg_year, reg_seq, channel,
             received_at, arrival_source, registered_at, sender, recipients, subject, raw_sha256,
             raw_size, state, department, updated_at, clerk_state)
         SELECT 'bulk-' || n, 'RPW/' || n || '/2019', 2019, n, 'email',
             '2019-01-01T00:00:00.000000Z', 'received_header', '2019-01-01T00:00:00.000000Z',
             'masowa@example.pl', '[]', 'Masowa korespondencja', 'x', 1, 'dispatched', 'KM',
             '2019-01-01T00:00:00.000000Z', CASE WHEN n <= 10 THEN 'in_progress' ELSE 'new' END
         FROM g",
    )
    .execute(s.env.app.db.pool())
    .await
    .unwrap();
    // With statistics PostgreSQL expects about 4,000 new ones and does not walk them; without
    // (and on SQLite) they are counted up to the cap. The page is the same either way.
    for analysed in [false, true] {
        if analysed {
            if !common::on_postgres() {
                break;
            }
            sqlx::query("ANALYZE submissions")
                .execute(s.env.app.db.pool())
                .await
                .unwrap();
        }
        let km = logged_in(&s.base, "km1").await;
        let (_, p) = get(&km, format!("{}/inbox", s.base)).await;
        assert!(
            p.contains("wszystkie (ponad 1000)")
                && p.contains("nowe (ponad 1000)")
                && p.contains("w toku (10)")
                && p.contains("załatwione (0)"),
            "analysed {analysed}: {p}"
        );
        let (_, p) = get(&km, format!("{}/inbox?stan=in_progress", s.base)).await;
        assert!(p.contains("w toku (10)"), "analysed {analysed}");
    }
}

/// The `href` of the pager's link `rel` ("next" or "prev") of a page, if there is one.
fn pager_link(page: &str, rel: &str) -> Option<String> {
    let end = page.find(&format!(r#"" rel="{rel}""#))?;
    let start = page[..end].rfind("href=\"")? + "href=\"".len();
    Some(page[start..end].to_string())
}

/// The subjects of a list page, in order.
fn subjects_of(page: &str) -> Vec<String> {
    page.split(r#"class="subject">"#)
        .skip(1)
        .map(|part| part.split('<').next().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn the_pagers_links_visit_every_row_of_a_filtered_list_once_with_equal_arrival_times() {
    let s = server(&[("PODAWCZA_WEB__PAGE_SIZE", "3")]).await;
    // Fourteen KM submissions, nine of them arriving at the same instant, every other one with a
    // failed signature; and failed ones in SO at the same instant, which a KM clerk never sees.
    let mut failed = Vec::new();
    let mut all = Vec::new();
    for n in 1..=14i64 {
        let at = if (3..=11).contains(&n) {
            "2020-05-01T08:00:00.000000Z".to_string()
        } else {
            format!("2020-04-{:02}T08:00:00.000000Z", 10 + n)
        };
        let subject = format!("Pismo kolejne {n}");
        let bad = n % 2 == 0;
        let report = bad.then(|| report("a", "TOTAL_FAILED", Some("HASH_FAILURE"), "qes"));
        let seed_of = |dept| Seed {
            department: dept,
            subject: &subject,
            documents: vec![("wniosek.xml", b"<a/>", report.clone())],
            received_at: &at,
        };
        seed(&s.env, n, seed_of("KM")).await;
        if bad {
            seed(&s.env, 100 + n, seed_of("SO")).await;
            failed.push(subject.clone());
        }
        all.push(subject);
    }
    let km = logged_in(&s.base, "km1").await;
    for (query, expected) in [
        ("", &all),
        ("waznosc=failed", &failed),
        ("stan=new&waznosc=failed", &failed),
        // A text search: its matches are fetched once and paged in memory.
        ("q=kolejne", &all),
        ("q=kolejne&waznosc=failed", &failed),
    ] {
        // Forward by the "next" links, which carry the last row's key.
        let mut pages: Vec<Vec<String>> = Vec::new();
        let mut url = format!("/inbox?{query}");
        loop {
            let (status, p) = get(&km, format!("{}{url}", s.base)).await;
            assert_eq!(status, StatusCode::OK, "{url}");
            pages.push(subjects_of(&p));
            assert!(pages.len() <= 10, "{query}: the links go round in circles");
            match pager_link(&p, "next") {
                Some(next) => {
                    assert!(next.contains("&po="), "{next}");
                    url = next;
                }
                None => break,
            }
        }
        let seen: Vec<String> = pages.concat();
        let mut sorted = seen.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(
            sorted.len(),
            seen.len(),
            "{query}: a row twice in {pages:?}"
        );
        let mut want = expected.clone();
        want.sort();
        assert_eq!(sorted, want, "{query}: every row once");
        assert!(
            pages[..pages.len() - 1].iter().all(|p| p.len() == 3),
            "{pages:?}"
        );
        // The same pages by number, as typed.
        for (i, page) in pages.iter().enumerate() {
            let sep = if query.is_empty() { "" } else { "&" };
            let (_, p) = get(
                &km,
                format!("{}/inbox?{query}{sep}strona={}", s.base, i + 1),
            )
            .await;
            assert_eq!(&subjects_of(&p), page, "{query}: page {} by number", i + 1);
        }
        // And back by the "previous" links, page by page.
        let (_, mut p) = get(&km, format!("{}{url}", s.base)).await;
        for i in (0..pages.len() - 1).rev() {
            let prev = pager_link(&p, "prev").expect("a previous page");
            p = get(&km, format!("{}{prev}", s.base)).await.1;
            assert_eq!(subjects_of(&p), pages[i], "{query}: back to page {}", i + 1);
            assert_eq!(pager_link(&p, "prev").is_some(), i > 0);
        }
    }
    // A key that is not one is refused, not guessed at.
    let (status, _) = get(&km, format!("{}/inbox?po=nonsense", s.base)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}
