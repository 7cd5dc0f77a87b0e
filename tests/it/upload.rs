//! The residents' side and the JSON API through HTTP (issue 7): uploads of every kind of file,
//! the verdicts on the result page and in the JSON agreeing with `podawcza verify`, receipts
//! verified by our verifier and by `xmlsec1`, the status lookup, limits, the queue, rate limits,
//! tokens, and the OpenAPI document walked against the handlers.

use crate::common::{self, TestEnv};
use podawcza::web::public::Public;
use reqwest::header;
use reqwest::multipart::{Form, Part};
use reqwest::StatusCode;
use std::path::PathBuf;
use std::process::Command;

/// An app on 127.0.0.1:0 for one test.
pub struct Site {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The world behind it.
    pub env: TestEnv,
    /// The queue and limiter the router uses.
    pub public: Public,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Site {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn pki() -> PathBuf {
    common::fixtures().join("pki")
}

/// The configuration that validates against the test PKI and seals receipts with its seal.
pub fn trust_vars() -> Vec<(String, String)> {
    let pki = pki();
    let plid =
        openssl::x509::X509::from_pem(&std::fs::read(pki.join("plid-root.crt.pem")).unwrap())
            .unwrap();
    let plid_sha = podawcza::storage::blobs::sha256_hex(&plid.to_der().unwrap());
    let p = |f: &str| pki.join(f).display().to_string();
    vec![
        ("PODAWCZA_TRUST__ANCHORS_DIR".into(), p("anchors")),
        (
            "PODAWCZA_TRUST__TRUSTED_LISTS".into(),
            format!("[\"{}\"]", p("trusted-list.xml")),
        ),
        (
            "PODAWCZA_TRUST__LIST_SIGNERS".into(),
            format!("[\"{}\"]", p("tl-signer.crt.pem")),
        ),
        (
            "PODAWCZA_TRUST__PERSONAL_ROOT_SHA256".into(),
            format!("[\"{plid_sha}\"]"),
        ),
        ("PODAWCZA_RECEIPT__SEAL_KEY".into(), p("qseal.key.pem")),
        ("PODAWCZA_RECEIPT__SEAL_CERT".into(), p("qseal.crt.pem")),
    ]
}

/// Starts the site: test PKI trust, sealed receipts, no rate limit unless `extra` sets one.
pub async fn site(extra: &[(&str, &str)]) -> Site {
    let mut vars = trust_vars();
    vars.push(("PODAWCZA_WEB__PUBLIC_RATE_PER_MINUTE".into(), "0".into()));
    vars.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let refs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let env = common::env(&refs).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let public = Public::new(&env.app);
    let router = podawcza::web::router_with(env.app.clone(), public.clone());
    let task = tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await;
    });
    Site {
        base,
        env,
        public,
        task,
    }
}

/// A client that keeps cookies and does not follow redirects.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The form token of the upload page (sets the cookie in `c`).
pub async fn csrf(c: &reqwest::Client, base: &str) -> String {
    form_token(c, &format!("{base}/")).await
}

/// The form token of the page at `url` (sets the cookie in `c`).
async fn form_token(c: &reqwest::Client, url: &str) -> String {
    let page = c.get(url).send().await.unwrap().text().await.unwrap();
    let at = page.find("name=\"csrf\" value=\"").unwrap() + "name=\"csrf\" value=\"".len();
    page[at..].split('"').next().unwrap().to_string()
}

fn form(token: Option<&str>, files: &[(&str, Vec<u8>)], email: Option<&str>) -> Form {
    let mut f = Form::new();
    if let Some(t) = token {
        f = f.text("csrf", t.to_string());
    }
    for (name, bytes) in files {
        f = f.part(
            "file",
            Part::bytes(bytes.clone()).file_name(name.to_string()),
        );
    }
    if let Some(e) = email {
        f = f.text("email", e.to_string());
    }
    f.text("subject", "Wniosek o dowód osobisty")
}

/// Uploads through the page; returns the status and the redirect target.
async fn upload(site: &Site, files: &[(&str, Vec<u8>)]) -> (StatusCode, String, String) {
    let c = client();
    let t = csrf(&c, &site.base).await;
    let r = c
        .post(format!("{}/wyslij", site.base))
        .multipart(form(Some(&t), files, None))
        .send()
        .await
        .unwrap();
    let status = r.status();
    let location = r
        .headers()
        .get(header::LOCATION)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body = r.text().await.unwrap();
    (status, location, body)
}

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(pki().join("samples").join(name)).unwrap()
}

fn xades(name: &str) -> Vec<u8> {
    std::fs::read(common::fixtures().join("signed/xades").join(name)).unwrap()
}

/// A small plain PDF (no signature).
fn plain_pdf() -> Vec<u8> {
    let body = "%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n";
    body.as_bytes().to_vec()
}

/// A ZIP whose one entry inflates 1000 times (over `zip_max_ratio`).
fn zip_bomb() -> Vec<u8> {
    use std::io::Write;
    let mut out = std::io::Cursor::new(Vec::new());
    let mut z = zip::ZipWriter::new(&mut out);
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    z.start_file("zera.txt", opts).unwrap();
    z.write_all(&vec![0u8; 20 * 1024 * 1024]).unwrap();
    z.finish().unwrap();
    out.into_inner()
}

/// `podawcza verify --json` with the test PKI at `at`: (file name, [(indication, kind)]).
fn cli_verify(files: &[(&str, Vec<u8>)], at: &str) -> Vec<(String, Vec<(String, String)>)> {
    let dir = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    for (name, bytes) in files {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        paths.push(p);
    }
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_podawcza"));
    cmd.env(
        "PODAWCZA_CONFIG",
        format!("{}/config.toml", env!("CARGO_MANIFEST_DIR")),
    );
    for (k, v) in trust_vars() {
        cmd.env(k, v);
    }
    cmd.args(["verify", "--json", "--trust"])
        .arg(pki().join("anchors"))
        .args(["--at", at]);
    // Detached pairs: the data file of each `.XAdES` is passed as --detached.
    for p in &paths {
        if p.extension().is_some_and(|e| e != "XAdES")
            && paths
                .iter()
                .any(|q| q.extension().is_some_and(|e| e == "XAdES"))
        {
            cmd.arg("--detached").arg(p);
        }
    }
    cmd.args(&paths);
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (v["file"].as_str().unwrap().to_string(), signatures_of(&v))
        })
        .collect()
}

fn signatures_of(report: &serde_json::Value) -> Vec<(String, String)> {
    report["signatures"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|s| {
                    (
                        s["indication"].as_str().unwrap_or("").to_string(),
                        s["kind"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

async fn api_token(site: &Site, name: &str) -> String {
    podawcza::storage::public::add_token(&site.env.app.db, name, podawcza::clock::now())
        .await
        .unwrap()
        .1
}

async fn api_post(
    site: &Site,
    token: Option<&str>,
    files: &[(&str, Vec<u8>)],
    email: Option<&str>,
) -> reqwest::Response {
    let mut r = client()
        .post(format!("{}/api/v1/submissions", site.base))
        .multipart(form(None, files, email));
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    r.send().await.unwrap()
}

#[tokio::test]
async fn uploads_of_every_kind_get_verdicts_that_agree_with_verify_on_the_page_and_in_json() {
    let site = site(&[]).await;
    let pki = podawcza::fixtures::pki::committed().unwrap();
    let pades = podawcza::fixtures::pdf::large_signed(&pki, "qes-signer", 20_000).unwrap();
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("wniosek-pades.pdf", pades),
        ("qes.xml", sample("qes.xml")),
        ("podpis-zaufany.xml", sample("podpis-zaufany.xml")),
        ("revoked.xml", sample("revoked.xml")),
        ("wniosek.pdf", xades("wniosek.pdf")),
        ("wniosek.pdf.XAdES", xades("wniosek.pdf.XAdES")),
        ("zmieniony.xml", xades("altered-content.xml")),
        ("bez-podpisu.pdf", plain_pdf()),
        (
            "uszkodzony.pdf",
            b"%PDF-1.7\n\x00\x01garbage without end".to_vec(),
        ),
    ];
    let token = api_token(&site, "system-dziedzinowy").await;
    let r = api_post(&site, Some(&token), &files, None).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let location = r.headers()[header::LOCATION].to_str().unwrap().to_string();
    let json: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        location,
        format!("/api/v1/submissions/{}", json["id"].as_str().unwrap())
    );
    assert!(json["registration_number"]
        .as_str()
        .unwrap()
        .starts_with("RPW/"));
    assert_eq!(json["state"], "dispatched");
    let at = json["received_at"].as_str().unwrap().to_string();
    let ours = cli_verify(&files, &at);
    let docs = json["documents"].as_array().unwrap();
    assert_eq!(docs.len(), files.len());
    for (name, expected) in &ours {
        let doc = docs.iter().find(|d| d["name"] == name.as_str()).unwrap();
        assert_eq!(&signatures_of(&doc["report"]), expected, "{name}");
        assert_eq!(
            doc["sha256"].as_str().unwrap(),
            podawcza::storage::blobs::sha256_hex(&files.iter().find(|f| f.0 == name).unwrap().1)
        );
    }
    let by_name = |n: &str| signatures_of(&docs.iter().find(|d| d["name"] == n).unwrap()["report"]);
    assert_eq!(
        by_name("qes.xml"),
        vec![("TOTAL_PASSED".into(), "qes".into())]
    );
    assert_eq!(
        by_name("podpis-zaufany.xml"),
        vec![("TOTAL_PASSED".into(), "trusted_profile".into())]
    );
    assert_eq!(by_name("wniosek.pdf.XAdES")[0].0, "TOTAL_PASSED");
    assert_eq!(by_name("zmieniony.xml")[0].0, "TOTAL_FAILED");
    assert!(by_name("bez-podpisu.pdf").is_empty());

    // The same files through the page: the result page says the same, in words.
    let (status, location, _) = upload(&site, &files).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(location.starts_with("/p/"));
    let page = page_at(&site, &location).await;
    assert!(
        page.contains("Podpis kwalifikowany — ważny. Podpisał:"),
        "{page}"
    );
    assert!(page.contains("Podpis zaufany — ważny."));
    assert!(page.contains("Podpis niepoprawny: dokument zmieniono po podpisaniu."));
    assert!(page.contains("Brak podpisu."));
    assert!(page.contains("Przekazane do wydziału"));
    for d in docs {
        let line = podawcza::web::verdict::text(Some(&d["report"]), chrono_tz::Europe::Warsaw);
        let first = line.split(" Podpisał").next().unwrap();
        assert!(
            page.contains(&podawcza_html(first)),
            "{} missing: {first}",
            d["name"]
        );
        assert!(page.contains(d["sha256"].as_str().unwrap()));
    }
}

/// The text of the page at `path`.
async fn page_at(site: &Site, path: &str) -> String {
    client()
        .get(format!("{}{path}", site.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

fn podawcza_html(s: &str) -> String {
    podawcza::web::html::h(s)
}

#[tokio::test]
async fn a_zip_bomb_and_a_corrupt_file_are_registered_kept_and_reported() {
    let site = site(&[]).await;
    let bomb = zip_bomb();
    let (status, location, _) = upload(&site, &[("dokumenty.zip", bomb.clone())]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let page = page_at(&site, &location).await;
    assert!(
        page.contains("Przekazane do Biura Podawczego do sprawdzenia"),
        "{page}"
    );
    assert_eq!(
        site.env
            .count("SELECT COUNT(*) FROM submissions WHERE state = 'quarantined' AND quarantine_reason LIKE '%rejected%'")
            .await,
        1
    );
    let key = podawcza::storage::blobs::sha256_hex(&bomb);
    assert_eq!(site.env.app.blobs.get_verified(&key).unwrap(), bomb);

    // A good archive is unpacked: its entries become documents and are verified.
    let mut out = std::io::Cursor::new(Vec::new());
    {
        use std::io::Write;
        let mut z = zip::ZipWriter::new(&mut out);
        let opts = zip::write::SimpleFileOptions::default();
        z.start_file("qes.xml", opts).unwrap();
        z.write_all(&sample("qes.xml")).unwrap();
        z.finish().unwrap();
    }
    let (status, location, _) = upload(&site, &[("wnioski.zip", out.into_inner())]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let page = page_at(&site, &location).await;
    assert!(page.contains("z archiwum wnioski.zip"), "{page}");
    assert!(page.contains("Podpis kwalifikowany — ważny."));
}

#[tokio::test]
async fn limits_refuse_with_a_clear_message_and_register_nothing() {
    let site = site(&[
        ("PODAWCZA_UPLOAD__MAX_FILE_BYTES", "1000"),
        ("PODAWCZA_UPLOAD__MAX_FILES", "2"),
    ])
    .await;
    let big = vec![b'a'; 1001];
    let (s, _, body) = upload(&site, &[("duzy.pdf", big)]).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(body.contains("jest za duży"), "{body}");
    let (s, _, body) = upload(
        &site,
        &[
            ("a.pdf", plain_pdf()),
            ("b.pdf", plain_pdf()),
            ("c.pdf", plain_pdf()),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(body.contains("Za dużo plików"), "{body}");
    let (s, _, body) = upload(&site, &[("program.exe", b"MZ".to_vec())]).await;
    assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(body.contains("nieobsługiwany format"), "{body}");
    let (s, _, body) = upload(&site, &[]).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(body.contains("Nie dołączono"), "{body}");
    // Without the form's token (a page of another site posting here).
    let r = client()
        .post(format!("{}/wyslij", site.base))
        .multipart(form(None, &[("a.pdf", plain_pdf())], None))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // With a token that is not this browser's cookie.
    let r = client()
        .post(format!("{}/wyslij", site.base))
        .multipart(form(Some(&"x".repeat(43)), &[("a.pdf", plain_pdf())], None))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // The API says the same as problem details.
    let token = api_token(&site, "system").await;
    let r = api_post(&site, Some(&token), &[("duzy.pdf", vec![b'a'; 1001])], None).await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        r.headers()[header::CONTENT_TYPE],
        "application/problem+json"
    );
    let p: serde_json::Value = r.json().await.unwrap();
    assert_eq!(p["status"], 413);
    assert_eq!(p["type"], "urn:podawcza:problem:file-too-large");
    assert_eq!(site.env.count("SELECT COUNT(*) FROM submissions").await, 0);
}

#[tokio::test]
async fn the_receipt_verifies_with_our_verifier_and_xmlsec1_and_prints_the_facts() {
    let site = site(&[]).await;
    let (_, location, _) = upload(&site, &[("qes.xml", sample("qes.xml"))]).await;
    let c = client();
    let xml = c
        .get(format!("{}{location}/potwierdzenie.xml", site.base))
        .send()
        .await
        .unwrap();
    assert_eq!(xml.status(), StatusCode::OK);
    let xml = xml.bytes().await.unwrap().to_vec();
    let text = String::from_utf8(xml.clone()).unwrap();
    let sub = podawcza::storage::queries::list(
        &site.env.app.db,
        &podawcza::storage::queries::ListFilter {
            limit: 1,
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .remove(0);
    assert!(text.contains(&sub.registration_number));
    assert!(text.contains(&podawcza::storage::blobs::sha256_hex(&sample("qes.xml"))));
    // The access code is not in the office's sealed copy.
    let code = location.rsplit('/').next().unwrap();
    assert!(!text.contains(code));

    let mut report = podawcza::signature::inspect("upp.xml", "application/xml", &xml);
    podawcza::signature::trust::validate_report(
        &mut report,
        &site.env.app.trust,
        podawcza::clock::now(),
    );
    let s = &report.signatures[0];
    assert_eq!(s.intact, Some(true));
    assert_eq!(s.indication.as_deref(), Some("TOTAL_PASSED"), "{report:?}");
    assert_eq!(s.kind, "qualified_seal");

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("upp.xml");
    std::fs::write(&path, &xml).unwrap();
    let out = Command::new("xmlsec1")
        .args([
            "--verify",
            "--id-attr:Id",
            "SignedProperties",
            "--trusted-pem",
        ])
        .arg(pki().join("root.crt.pem"))
        .arg("--untrusted-pem")
        .arg(pki().join("qualified-ca.crt.pem"))
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(
        &path,
        text.replace(&sub.registration_number, "RPW/999/2026"),
    )
    .unwrap();
    let out = Command::new("xmlsec1")
        .args([
            "--verify",
            "--id-attr:Id",
            "SignedProperties",
            "--trusted-pem",
        ])
        .arg(pki().join("root.crt.pem"))
        .arg("--untrusted-pem")
        .arg(pki().join("qualified-ca.crt.pem"))
        .arg(&path)
        .output()
        .unwrap();
    assert!(!out.status.success());

    let pdf = c
        .get(format!("{}{location}/potwierdzenie.pdf", site.base))
        .send()
        .await
        .unwrap();
    assert_eq!(pdf.headers()[header::CONTENT_TYPE], "application/pdf");
    let pdf = pdf.bytes().await.unwrap();
    let pdf_path = dir.path().join("upp.pdf");
    std::fs::write(&pdf_path, &pdf).unwrap();
    let out = Command::new("pdftotext")
        .arg(&pdf_path)
        .arg("-")
        .output()
        .unwrap();
    let words = String::from_utf8_lossy(&out.stdout);
    assert!(words.contains(&sub.registration_number), "{words}");
    assert!(words.contains(code), "{words}");
    assert!(words.contains("Urząd Miejski w Gliwicach"), "{words}");

    // The same receipt again, byte for byte (made once, kept as issued).
    let again = c
        .get(format!("{}{location}/potwierdzenie.xml", site.base))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(again.to_vec(), xml);
    // A wrong code reaches nothing.
    let wrong = location.replace(code, "AAAA-BBBB-CCCC-DDDD");
    let r = c
        .get(format!("{}{wrong}/potwierdzenie.pdf", site.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn status_lookup_answers_only_to_the_right_number_and_code() {
    let site = site(&[]).await;
    let (_, location, _) = upload(&site, &[("qes.xml", sample("qes.xml"))]).await;
    let code = location.rsplit('/').next().unwrap().to_string();
    let number: String = sqlx::query_scalar("SELECT registration_number FROM submissions")
        .fetch_one(site.env.app.db.pool())
        .await
        .unwrap();
    let c = client();
    let t = form_token(&c, &format!("{}/status", site.base)).await;
    let ask = |number: String, code: String, t: String| {
        let c = c.clone();
        let base = site.base.clone();
        async move {
            let r = c
                .post(format!("{base}/status"))
                .form(&[("csrf", t), ("number", number), ("code", code)])
                .send()
                .await
                .unwrap();
            (r.status(), r.text().await.unwrap())
        }
    };
    let (s, body) = ask(
        number.clone(),
        code.to_lowercase().replace('-', ""),
        t.clone(),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(body.contains("Przekazane do wydziału"), "{body}");
    assert!(body.contains("id=\"status-department\""));
    let (s, body) = ask(number.clone(), "AAAA-BBBB-CCCC-DDDD".into(), t.clone()).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(!body.contains("status-state"));
    let (s, _) = ask("RPW/999/2026".into(), code.clone(), t.clone()).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = ask(number, code, "wrong".into()).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_api_needs_a_token_and_a_token_sees_only_its_own_submissions() {
    let site = site(&[]).await;
    let r = api_post(&site, None, &[("qes.xml", sample("qes.xml"))], None).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.headers().contains_key(header::WWW_AUTHENTICATE));
    assert_eq!(
        r.headers()[header::CONTENT_TYPE],
        "application/problem+json"
    );
    let a = api_token(&site, "a").await;
    let b = api_token(&site, "b").await;
    let r = api_post(&site, Some(&a), &[("qes.xml", sample("qes.xml"))], None).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let created: serde_json::Value = r.json().await.unwrap();
    let id = created["id"].as_str().unwrap();
    let get = |token: String, path: String| {
        let base = site.base.clone();
        async move {
            client()
                .get(format!("{base}{path}"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
        }
    };
    let r = get(a.clone(), format!("/api/v1/submissions/{id}")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let shown: serde_json::Value = r.json().await.unwrap();
    assert_eq!(shown["registration_number"], created["registration_number"]);
    assert!(shown.get("access_code").is_none());
    for path in [
        format!("/api/v1/submissions/{id}"),
        format!("/api/v1/submissions/{id}/receipt.pdf"),
    ] {
        assert_eq!(get(b.clone(), path).await.status(), StatusCode::NOT_FOUND);
    }
    let r = get(a.clone(), format!("/api/v1/submissions/{id}/receipt.xml")).await;
    assert_eq!(r.status(), StatusCode::OK);
    podawcza::storage::public::revoke_token(&site.env.app.db, "a", podawcza::clock::now())
        .await
        .unwrap();
    let r = get(a, format!("/api/v1/submissions/{id}")).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

/// Resolves `#/components/schemas/X` references and `allOf` into the list of required
/// properties a JSON value must have, checking nested objects and arrays as it goes.
fn check_schema(
    doc: &serde_json::Value,
    schema: &serde_json::Value,
    value: &serde_json::Value,
    at: &str,
) {
    if let Some(r) = schema.get("$ref").and_then(|r| r.as_str()) {
        let name = r.rsplit('/').next().unwrap();
        return check_schema(doc, &doc["components"]["schemas"][name], value, at);
    }
    if let Some(all) = schema.get("allOf").and_then(|a| a.as_array()) {
        for s in all {
            check_schema(doc, s, value, at);
        }
        return;
    }
    if let Some(one) = schema.get("oneOf").and_then(|a| a.as_array()) {
        if value.is_null() && one.iter().any(|s| s["type"] == "null") {
            return;
        }
        return check_schema(doc, &one[0], value, at);
    }
    let types: Vec<&str> = match &schema["type"] {
        serde_json::Value::String(t) => vec![t.as_str()],
        serde_json::Value::Array(a) => a.iter().filter_map(|t| t.as_str()).collect(),
        _ => vec![],
    };
    if value.is_null() {
        assert!(
            types.contains(&"null") || types.is_empty(),
            "{at}: null not allowed"
        );
        return;
    }
    if let Some(e) = schema.get("enum").and_then(|e| e.as_array()) {
        assert!(e.contains(value), "{at}: {value} not in {e:?}");
    }
    if types.contains(&"object") {
        let obj = value
            .as_object()
            .unwrap_or_else(|| panic!("{at}: not an object: {value}"));
        for req in schema["required"].as_array().into_iter().flatten() {
            let k = req.as_str().unwrap();
            assert!(obj.contains_key(k), "{at}: missing {k}");
        }
        if let Some(props) = schema["properties"].as_object() {
            for (k, s) in props {
                if let Some(v) = obj.get(k) {
                    check_schema(doc, s, v, &format!("{at}.{k}"));
                }
            }
        }
    } else if types.contains(&"array") {
        for (i, v) in value.as_array().unwrap().iter().enumerate() {
            check_schema(doc, &schema["items"], v, &format!("{at}[{i}]"));
        }
    } else if types.contains(&"string") {
        assert!(value.is_string(), "{at}: not a string");
    } else if types.contains(&"integer") {
        assert!(value.is_i64() || value.is_u64(), "{at}: not an integer");
    } else if types.contains(&"boolean") {
        assert!(value.is_boolean(), "{at}: not a boolean");
    }
}

#[tokio::test]
async fn every_route_of_the_openapi_document_exists_and_answers_as_described() {
    let site = site(&[]).await;
    let doc: serde_json::Value = client()
        .get(format!("{}/api/v1/openapi.json", site.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let token = api_token(&site, "walker").await;
    // First the POST, so that the GETs have an id.
    let mut id = String::new();
    let paths = doc["paths"].as_object().unwrap();
    let mut order: Vec<(&String, &serde_json::Value)> = paths.iter().collect();
    order.sort_by_key(|(p, _)| (!p.ends_with("/submissions"), p.len()));
    let mut walked = 0;
    for (path, item) in order {
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            let url = format!("{}{}", site.base, path.replace("{id}", &id));
            let anonymous = op
                .get("security")
                .is_some_and(|s| s.as_array().is_some_and(|a| a.is_empty()));
            let mut cases: Vec<(Option<&str>, bool)> = vec![(Some(token.as_str()), true)];
            if !anonymous {
                cases.push((None, false));
            }
            for (auth, good) in cases {
                let mut req = match method.as_str() {
                    "get" => client().get(&url),
                    "post" => client().post(&url).multipart(form(
                        None,
                        &[("qes.xml", sample("qes.xml"))],
                        Some("jan@example.pl"),
                    )),
                    other => panic!("method {other} not walked"),
                };
                if let Some(t) = auth {
                    req = req.bearer_auth(t);
                }
                let r = req.send().await.unwrap();
                let status = r.status().as_u16().to_string();
                let described = responses
                    .get(&status)
                    .unwrap_or_else(|| panic!("{method} {path}: {status} is not described"));
                if good {
                    assert!(r.status().is_success(), "{method} {path}: {status}");
                } else {
                    assert_eq!(status, "401", "{method} {path} without a token");
                }
                let kind = r.headers()[header::CONTENT_TYPE]
                    .to_str()
                    .unwrap()
                    .to_string();
                let content = described["content"].as_object().unwrap();
                let (media, spec) = content
                    .iter()
                    .find(|(m, _)| kind.starts_with(m.as_str()))
                    .unwrap_or_else(|| {
                        panic!("{method} {path}: {kind} not described for {status}")
                    });
                let body = r.bytes().await.unwrap();
                if media.ends_with("json") {
                    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
                    check_schema(&doc, &spec["schema"], &v, &format!("{method} {path}"));
                    if path.ends_with("/submissions") && good {
                        id = v["id"].as_str().unwrap().to_string();
                    }
                } else if media == "application/pdf" {
                    assert!(body.starts_with(b"%PDF-"));
                } else if media == "application/xml" {
                    assert!(body.starts_with(b"<?xml"));
                }
                walked += 1;
            }
        }
    }
    assert!(walked >= 9, "walked {walked}");
    // An unknown route under the API is a problem too.
    let r = client()
        .get(format!("{}/api/v1/nie-ma", site.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        r.headers()[header::CONTENT_TYPE],
        "application/problem+json"
    );
}

#[tokio::test]
async fn a_full_queue_answers_503_before_reading_and_a_busy_client_gets_429() {
    let site = site(&[
        ("PODAWCZA_UPLOAD__VERIFY_WORKERS", "1"),
        ("PODAWCZA_UPLOAD__VERIFY_QUEUE", "0"),
    ])
    .await;
    let held = site.public.gate.try_enter().unwrap();
    let (s, _, body) = upload(&site, &[("qes.xml", sample("qes.xml"))]).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
    assert!(body.contains("nic nie zostało zapisane"));
    let token = api_token(&site, "system").await;
    let r = api_post(&site, Some(&token), &[("qes.xml", sample("qes.xml"))], None).await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.headers().contains_key(header::RETRY_AFTER));
    assert_eq!(site.env.count("SELECT COUNT(*) FROM submissions").await, 0);
    drop(held);
    let (s, _, _) = upload(&site, &[("qes.xml", sample("qes.xml"))]).await;
    assert_eq!(s, StatusCode::SEE_OTHER);

    let limited = self::site(&[
        ("PODAWCZA_WEB__PUBLIC_RATE_PER_MINUTE", "1"),
        ("PODAWCZA_WEB__PUBLIC_RATE_BURST", "2"),
    ])
    .await;
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let r = client()
            .get(format!("{}/api/v1/submissions/x", limited.base))
            .send()
            .await
            .unwrap();
        statuses.push(r.status());
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            assert!(r.headers().contains_key(header::RETRY_AFTER));
        }
    }
    assert_eq!(
        statuses,
        vec![
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
}

#[tokio::test]
async fn public_pages_send_the_security_headers_and_escape_names() {
    let site = site(&[]).await;
    let r = client()
        .get(format!("{}/", site.base))
        .send()
        .await
        .unwrap();
    let csp = r.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("frame-ancestors 'none'"));
    assert!(csp.contains("script-src 'self'"));
    assert!(!csp.contains("unsafe-inline"));
    assert_eq!(r.headers()[header::X_FRAME_OPTIONS], "DENY");
    let page = r.text().await.unwrap();
    assert!(!page.contains("<script>"), "no inline script");
    assert!(page.contains("20 MB"), "limits stated up front");
    assert!(page.contains(".xades"));
    let (_, location, _) = upload(&site, &[("<b x=\"1\">&.pdf", plain_pdf())]).await;
    let page = page_at(&site, &location).await;
    assert!(
        page.contains("&lt;b x=&quot;1&quot;&gt;&amp;.pdf"),
        "{page}"
    );
    assert!(!page.contains("<b x="));
}

/// A ZIP holding `entries`.
fn zip_of(entries: &[(&str, Vec<u8>)]) -> Vec<u8> {
    use std::io::Write;
    let mut out = std::io::Cursor::new(Vec::new());
    let mut z = zip::ZipWriter::new(&mut out);
    for (name, bytes) in entries {
        z.start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        z.write_all(bytes).unwrap();
    }
    z.finish().unwrap();
    out.into_inner()
}

/// What the register says of a submission besides its documents: the audit trail as (actor,
/// action, from, to, reason), the assignments, the outbox rows, the signature summary.
async fn record_of(
    site: &Site,
    id: &str,
) -> (
    Vec<(String, String, String, String, Option<String>)>,
    Vec<(String, String)>,
    Vec<String>,
    (i64, i64, String),
) {
    use sqlx::Row;
    let db = &site.env.app.db;
    let sid = podawcza::model::SubmissionId(id.to_string());
    let trail = podawcza::storage::audit::events(db, &sid)
        .await
        .unwrap()
        .into_iter()
        .map(|e| {
            let at = |k: &str| e.detail[k].as_str().unwrap_or_default().to_string();
            (e.actor, e.action, at("from"), at("to"), e.reason)
        })
        .collect();
    let assigned = sqlx::query(
        "SELECT department, actor FROM assignments WHERE submission_id = $1 ORDER BY assigned_at",
    )
    .bind(id)
    .fetch_all(db.pool())
    .await
    .unwrap()
    .iter()
    .map(|r| {
        (
            r.get::<String, _>("department"),
            r.get::<String, _>("actor"),
        )
    })
    .collect();
    let outbox = sqlx::query("SELECT kind FROM outbox WHERE submission_id = $1 ORDER BY kind")
        .bind(id)
        .fetch_all(db.pool())
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<String, _>("kind"))
        .collect();
    let row = sqlx::query(
        "SELECT sig_failed, sig_indeterminate, sig_kinds FROM submissions WHERE id = $1",
    )
    .bind(id)
    .fetch_one(db.pool())
    .await
    .unwrap();
    let summary = (
        row.get::<i64, _>("sig_failed"),
        row.get::<i64, _>("sig_indeterminate"),
        row.get::<String, _>("sig_kinds"),
    );
    (trail, assigned, outbox, summary)
}

/// An upload without archives has its steps worked out before it is registered, in one
/// transaction; one with an archive is registered first and taken step by step. Both must leave
/// the same record: the same audit trail, assignment, queued mail and signature summary, and
/// the API's answer to the upload must be what reading the submission back gives.
#[tokio::test]
async fn an_upload_registered_with_its_steps_leaves_the_record_of_one_taken_step_by_step() {
    let site = site(&[]).await;
    sqlx::query("UPDATE departments SET email = 'wydzial@gliwice.example'")
        .execute(site.env.app.db.pool())
        .await
        .unwrap();
    let token = api_token(&site, "rejestr").await;
    let signed = ("qes.xml", sample("qes.xml"));
    let forged = ("revoked.xml", sample("revoked.xml"));
    let direct = api_post(
        &site,
        Some(&token),
        &[signed.clone(), forged.clone()],
        Some("jan@example.org"),
    )
    .await;
    assert_eq!(direct.status(), StatusCode::CREATED);
    let direct: serde_json::Value = direct.json().await.unwrap();
    let zipped = api_post(
        &site,
        Some(&token),
        &[("wnioski.zip", zip_of(&[signed, forged]))],
        Some("jan@example.org"),
    )
    .await;
    assert_eq!(zipped.status(), StatusCode::CREATED);
    let zipped: serde_json::Value = zipped.json().await.unwrap();

    // The answer to the upload is the submission as stored.
    let id = direct["id"].as_str().unwrap();
    let shown: serde_json::Value = client()
        .get(format!("{}/api/v1/submissions/{id}", site.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut answered = direct.clone();
    answered.as_object_mut().unwrap().remove("access_code");
    assert_eq!(answered, shown);
    assert_eq!(direct["state"], "dispatched");
    assert!(direct["receipt_issued_at"].is_string());
    let kinds: Vec<(String, String)> = direct["documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let s = &d["report"]["signatures"][0];
            (
                s["indication"].as_str().unwrap().to_string(),
                s["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(kinds[0], ("TOTAL_PASSED".into(), "qes".into()));
    assert_ne!(kinds[1].0, "TOTAL_PASSED");

    // The same record either way (the archive's submission has its file and its two entries).
    let a = record_of(&site, id).await;
    let b = record_of(&site, zipped["id"].as_str().unwrap()).await;
    let actions: Vec<&str> = a.0.iter().map(|e| e.1.as_str()).collect();
    assert_eq!(
        actions,
        [
            "registered",
            "state_changed",
            "state_changed",
            "state_changed",
            "state_changed",
            "receipt_issued"
        ]
    );
    assert_eq!(a.0, b.0);
    // The upload without an archive was registered with its steps: one transaction, one time.
    let times: Vec<_> = podawcza::storage::audit::events(
        &site.env.app.db,
        &podawcza::model::SubmissionId(id.to_string()),
    )
    .await
    .unwrap()
    .iter()
    .map(|e| e.at)
    .collect();
    assert!(times[..5].iter().all(|t| *t == times[0]), "{times:?}");
    // The registration event names the number, as the step-by-step path's does.
    for (v, sid) in [(&direct, id), (&zipped, zipped["id"].as_str().unwrap())] {
        let events = podawcza::storage::audit::events(
            &site.env.app.db,
            &podawcza::model::SubmissionId(sid.to_string()),
        )
        .await
        .unwrap();
        let d = &events[0].detail;
        assert_eq!(d["registration_number"], v["registration_number"], "{d}");
        assert_eq!(d["channel"], "api");
        assert_eq!(d["received_at"], v["received_at"]);
    }
    assert_eq!(a.1, b.1);
    assert_eq!(a.1.len(), 1);
    assert_eq!(a.2, ["notify", "receipt"]);
    assert_eq!(a.2, b.2);
    assert_eq!(a.3, b.3);
    assert!(a.3 .2.contains(",qes,"), "{:?}", a.3);
    // Numbers stay consecutive whichever way a submission was registered.
    let n = |v: &serde_json::Value| {
        v["registration_number"]
            .as_str()
            .unwrap()
            .split('/')
            .nth(1)
            .unwrap()
            .parse::<i64>()
            .unwrap()
    };
    assert_eq!(n(&zipped), n(&direct) + 1);
}

/// The number written in the registration transaction follows the configured pattern as
/// `format_number` does, and the audit event carrying it stays valid JSON whatever the pattern
/// holds (quotes and backslashes are escaped).
#[tokio::test]
async fn an_unusual_number_pattern_is_written_and_escaped_as_configured() {
    let site = site(&[("PODAWCZA_REGISTER__NUMBER_PATTERN", r#"K"\{n}-{yyyy}"#)]).await;
    let token = api_token(&site, "wzorzec").await;
    let r = api_post(&site, Some(&token), &[("qes.xml", sample("qes.xml"))], None).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: serde_json::Value = r.json().await.unwrap();
    let year = podawcza::clock::now()
        .with_timezone(&chrono_tz::Europe::Warsaw)
        .format("%Y")
        .to_string();
    let expected =
        podawcza::storage::register::format_number(r#"K"\{n}-{yyyy}"#, 1, year.parse().unwrap());
    assert_eq!(v["registration_number"], expected.as_str());
    let events = podawcza::storage::audit::events(
        &site.env.app.db,
        &podawcza::model::SubmissionId(v["id"].as_str().unwrap().to_string()),
    )
    .await
    .unwrap();
    assert_eq!(events[0].action, "registered");
    assert_eq!(events[0].detail["registration_number"], expected.as_str());
}

/// Bodies as clients other than browsers write them: an RFC 8187 file name, a preamble, a
/// body that breaks off, a request that is not multipart; each answered by what it is.
#[tokio::test]
async fn raw_multipart_bodies_are_read_as_written_and_broken_ones_refused_with_a_problem() {
    let site = site(&[]).await;
    let token = api_token(&site, "raw").await;
    let post = |content_type: &'static str, body: Vec<u8>| {
        let (base, token) = (site.base.clone(), token.clone());
        async move {
            let r = client()
                .post(format!("{base}/api/v1/submissions"))
                .bearer_auth(token)
                .header(header::CONTENT_TYPE, content_type)
                .body(body)
                .send()
                .await
                .unwrap();
            let status = r.status();
            let kind = r.headers()[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .to_string();
            (status, kind, r.json::<serde_json::Value>().await.unwrap())
        }
    };
    let mut body = b"To jest preambu\xc5\x82a.\r\n--gr4nica\r\n\
        Content-Disposition: form-data; name=\"subject\"\r\n\r\nWniosek\r\n--gr4nica\r\n\
        Content-Disposition: form-data; name=\"file\"; filename=\"wniosek.pdf\"; \
        filename*=UTF-8''wniosek-%C5%BC%C3%B3%C5%82w.pdf\r\nContent-Type: application/pdf\r\n\r\n"
        .to_vec();
    body.extend_from_slice(&plain_pdf());
    body.extend_from_slice(b"\r\n--gr4nica--\r\n");
    let (s, _, json) = post("multipart/form-data; boundary=\"gr4nica\"", body.clone()).await;
    assert_eq!(s, StatusCode::CREATED, "{json}");
    assert_eq!(json["documents"][0]["name"], "wniosek-żółw.pdf");
    assert_eq!(
        json["documents"][0]["sha256"],
        podawcza::storage::blobs::sha256_hex(&plain_pdf())
    );
    // Cut before its closing boundary; a boundary the body does not use; JSON.
    for (content_type, body) in [
        (
            "multipart/form-data; boundary=gr4nica",
            body[..body.len() - 20].to_vec(),
        ),
        ("multipart/form-data; boundary=inna", body.clone()),
        ("application/json", b"{\"file\": \"wniosek.pdf\"}".to_vec()),
    ] {
        let (s, kind, json) = post(content_type, body).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{content_type}: {json}");
        assert_eq!(kind, "application/problem+json");
        assert!(
            json["detail"].as_str().unwrap().contains("multipart"),
            "{json}"
        );
    }
    assert_eq!(
        site.env
            .count("SELECT COUNT(*) FROM submissions WHERE subject = 'Wniosek'")
            .await,
        1
    );
    assert_eq!(site.env.count("SELECT COUNT(*) FROM submissions").await, 1);
}

/// A receipt keeps its two documents in its row; one made before they were kept there (bytes
/// only in the blob store) is still served, and bytes that no longer match the SHA-256 recorded
/// at issue are refused, not served.
#[tokio::test]
async fn receipt_documents_come_from_the_row_or_the_blob_store_and_are_checked() {
    let site = site(&[]).await;
    let token = api_token(&site, "r").await;
    let r = api_post(&site, Some(&token), &[("a.pdf", plain_pdf())], None).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let id = r.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let get = |which: &'static str| {
        let (base, token, id) = (site.base.clone(), token.clone(), id.clone());
        async move {
            let r = client()
                .get(format!("{base}/api/v1/submissions/{id}/receipt.{which}"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            (r.status(), r.bytes().await.unwrap().to_vec())
        }
    };
    let (s, pdf) = get("pdf").await;
    assert_eq!(s, StatusCode::OK);
    assert!(pdf.starts_with(b"%PDF-"));
    let (s, xml) = get("xml").await;
    assert_eq!(s, StatusCode::OK);
    let issued = podawcza::storage::public::receipt(&site.env.app.db, &id)
        .await
        .unwrap()
        .unwrap()
        .issued
        .unwrap();
    assert_eq!(
        podawcza::storage::blobs::sha256_hex(&pdf),
        issued.pdf_sha256
    );
    assert_eq!(
        podawcza::storage::blobs::sha256_hex(&xml),
        issued.xml_sha256
    );
    // Not in the blob store: in the row.
    assert!(!site.env.app.blobs.contains(&issued.pdf_sha256));
    let db = site.env.app.db.pool();
    // As a receipt made before: bytes in the blob store only.
    site.env.app.blobs.put(&pdf).unwrap();
    sqlx::query("UPDATE receipts SET pdf = NULL")
        .execute(db)
        .await
        .unwrap();
    assert_eq!(get("pdf").await, (StatusCode::OK, pdf.clone()));
    // Altered in the row: refused.
    let mut altered = xml.clone();
    altered[100] ^= 1;
    sqlx::query("UPDATE receipts SET xml = $1")
        .bind(altered)
        .execute(db)
        .await
        .unwrap();
    assert_eq!(get("xml").await.0, StatusCode::INTERNAL_SERVER_ERROR);
}

/// An upload registered with its steps writes its documents' names and signature summary with
/// its row: they are what the triggers on `documents` give (recomputing them, by touching every
/// report, changes nothing), and later documents are still named by the trigger.
#[tokio::test]
async fn the_row_of_an_upload_carries_the_summary_the_triggers_would_give() {
    use sqlx::Row;
    let site = site(&[]).await;
    let token = api_token(&site, "summary").await;
    let r = api_post(
        &site,
        Some(&token),
        &[
            ("qes.xml", sample("qes.xml")),
            ("revoked.xml", sample("revoked.xml")),
            ("zwykły.pdf", plain_pdf()),
        ],
        None,
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let id = r.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let db = site.env.app.db.pool();
    let row = |id: String| async move {
        let r = sqlx::query(
            "SELECT sig_failed, sig_indeterminate, sig_kinds, doc_names, doc_names_seq
             FROM submissions WHERE id = $1",
        )
        .bind(id)
        .fetch_one(db)
        .await
        .unwrap();
        (
            r.get::<i64, _>("sig_failed"),
            r.get::<i64, _>("sig_indeterminate"),
            r.get::<String, _>("sig_kinds"),
            r.get::<String, _>("doc_names"),
            r.get::<i64, _>("doc_names_seq"),
        )
    };
    let written = row(id.clone()).await;
    assert_eq!(written.3, "qes.xml revoked.xml zwykły.pdf ");
    assert_eq!(written.4, 3);
    assert!(written.2.contains(",qes,"), "{written:?}");
    assert_eq!(
        written.0 + written.1,
        1,
        "the revoked signature: {written:?}"
    );
    // What the triggers compute from the stored reports is what was written.
    sqlx::query("UPDATE documents SET report = report || '' WHERE submission_id = $1")
        .bind(&id)
        .execute(db)
        .await
        .unwrap();
    sqlx::query("UPDATE submissions SET sig_kinds = ',', sig_failed = 0, sig_indeterminate = 0 WHERE id = $1")
        .bind(&id)
        .execute(db)
        .await
        .unwrap();
    sqlx::query("UPDATE documents SET report = report || '' WHERE submission_id = $1")
        .bind(&id)
        .execute(db)
        .await
        .unwrap();
    assert_eq!(row(id.clone()).await, written);
    // A document stored later (as an archive's entries are) is still named by the trigger.
    sqlx::query(
        "INSERT INTO documents (id, submission_id, seq, name, media_type, size, sha256, role)
         VALUES ('d-later', $1, 4, 'później.txt', 'text/plain', 1, 'x', 'attachment')",
    )
    .bind(&id)
    .execute(db)
    .await
    .unwrap();
    let later = row(id).await;
    assert_eq!(later.3, "qes.xml revoked.xml zwykły.pdf później.txt ");
    assert_eq!(later.4, 4);
}
