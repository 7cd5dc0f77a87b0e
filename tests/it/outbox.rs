//! Outgoing mail against a real SMTP server (aiosmtpd, scripts/smtp-sink.py): each test starts a
//! sink of its own (its own ports and folder, stopped by the pid it got), so it can also take the
//! server down and bring it back.

use crate::common::{env, TestEnv};
use crate::mailbox::var;
use podawcza::ingest::email::{register_mails, RawMail};
use podawcza::outbox;
use std::process::{Child, Command};
use std::time::Duration;

/// A running sink.
struct Sink {
    child: Option<Child>,
    dir: std::path::PathBuf,
    starttls_port: u16,
    tls_port: u16,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Sink {
    fn new(dir: std::path::PathBuf) -> Sink {
        let mut s = Sink {
            child: None,
            dir,
            starttls_port: free_port(),
            tls_port: free_port(),
        };
        s.start();
        s
    }

    fn start(&mut self) {
        let log = self.dir.with_extension("log");
        let out = std::fs::File::create(&log).unwrap();
        let err = out.try_clone().unwrap();
        let mut child = Command::new(var("PODAWCZA_TEST_PYTHON"))
            .arg(var("PODAWCZA_TEST_SMTP_SINK"))
            .args(["--dir", &self.dir.display().to_string()])
            .args(["--starttls-port", &self.starttls_port.to_string()])
            .args(["--tls-port", &self.tls_port.to_string()])
            .args(["--cert", &var("PODAWCZA_TEST_TLS_CERT")])
            .args(["--key", &var("PODAWCZA_TEST_TLS_KEY")])
            .args(["--user", "sekretariat", "--password", "haslo-testowe"])
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("start the SMTP sink");
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while !std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains("ready")
        {
            assert!(child.try_wait().unwrap().is_none(), "the SMTP sink died");
            assert!(
                std::time::Instant::now() < deadline,
                "the SMTP sink did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        self.child = Some(child);
    }

    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// The messages received: (recipients, raw bytes).
    fn received(&self) -> Vec<(String, Vec<u8>)> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(&self.dir).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "eml") {
                let rcpt = std::fs::read_to_string(p.with_extension("rcpt")).unwrap();
                out.push((rcpt, std::fs::read(&p).unwrap()));
            }
        }
        out
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A test world sending through `sink` over `tls`.
async fn smtp_env(sink: &Sink, tls: &str, extra: &[(&str, &str)]) -> TestEnv {
    let mut vars = smtp_vars(sink, tls);
    vars.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let refs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    env(&refs).await
}

/// The configuration that sends through `sink` over `tls`.
fn smtp_vars(sink: &Sink, tls: &str) -> Vec<(String, String)> {
    let pw = sink.dir.with_extension("password");
    std::fs::write(&pw, "haslo-testowe").unwrap();
    let port = if tls == "implicit" {
        sink.tls_port
    } else {
        sink.starttls_port
    };
    let mut vars: Vec<(String, String)> = [
        ("ENABLED", "true".to_string()),
        ("HOST", "localhost".to_string()),
        ("PORT", port.to_string()),
        ("TLS", tls.to_string()),
        ("CA_FILE", var("PODAWCZA_TEST_TLS_CA")),
        ("USER", "sekretariat".to_string()),
        ("PASSWORD_FILE", pw.display().to_string()),
        ("TIMEOUT_SECS", "5".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (format!("PODAWCZA_SMTP__{k}"), v))
    .collect();
    vars.push(("PODAWCZA_OUTBOX__RETRY_BASE_SECS".into(), "1".into()));
    vars.push(("PODAWCZA_OUTBOX__RETRY_MAX_SECS".into(), "1".into()));
    vars.push(("PODAWCZA_OUTBOX__IDLE_POLL_MS".into(), "50".into()));
    vars
}

fn sink_in(dir: &tempfile::TempDir) -> Sink {
    let d = dir.path().join("smtp");
    std::fs::create_dir_all(&d).unwrap();
    Sink::new(d)
}

/// Registers the messages and runs the pipeline to `dispatched`.
async fn take_in(t: &TestEnv, mails: Vec<Vec<u8>>) {
    let raws = mails
        .into_iter()
        .map(|bytes| RawMail {
            bytes,
            channel_time: None,
            source: None,
        })
        .collect();
    register_mails(&t.app, raws, "test", podawcza::clock::now())
        .await
        .unwrap();
    podawcza::pipeline::run_until_idle(&t.app, 1).await.unwrap();
}

fn mail(from: &str, extra_headers: &str, i: u64) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: bp@um.gliwice.pl\r\nSubject: Wniosek {i}\r\nMessage-ID: <w{i}.{}@example.pl>\r\n\
         Date: Mon, 20 Apr 2020 10:00:00 +0200\r\n{extra_headers}\r\nProszę o wydanie zaświadczenia.\r\n",
        uuid::Uuid::now_v7().simple()
    )
    .into_bytes()
}

fn parse(raw: &[u8]) -> mail_parser::Message<'_> {
    mail_parser::MessageParser::default().parse(raw).unwrap()
}

#[tokio::test]
async fn acknowledgements_reach_the_smtp_server_with_the_right_content() {
    for tls in ["starttls", "implicit"] {
        let dir = tempfile::tempdir().unwrap();
        let sink = sink_in(&dir);
        let t = smtp_env(&sink, tls, &[]).await;
        let original = podawcza::fixtures::synthetic::message(7, 2020).bytes;
        take_in(&t, vec![original]).await;
        let s = outbox::send_due(&t.app, "test").await.unwrap();
        assert_eq!(s.sent, 1, "{tls}: {s:?}");
        let got = sink.received();
        assert_eq!(got.len(), 1);
        let (rcpt, raw) = &got[0];
        let sub = &podawcza::storage::queries::list(&t.app.db, &Default::default())
            .await
            .unwrap()[0];
        assert_eq!(rcpt.trim(), sub.sender.clone().unwrap());
        let m = parse(raw);
        assert!(m.subject().unwrap().contains(&sub.registration_number));
        let auto = m.header_raw("Auto-Submitted").unwrap();
        assert_eq!(auto.trim(), "auto-replied");
        assert!(m.header_raw("In-Reply-To").is_some());
        let body = m.body_text(0).unwrap();
        assert!(body.contains(&sub.registration_number), "{body}");
        assert!(body.contains("Europe/Warsaw"));
        let local = sub
            .received_at
            .with_timezone(&chrono_tz::Europe::Warsaw)
            .format("%Y-%m-%d %H:%M:%S")
            .to_string();
        assert!(body.contains(&local), "arrival time in Warsaw time: {body}");
        assert!(body.contains(&t.app.config.outbox.email_notice));
        let docs = podawcza::storage::queries::documents(&t.app.db, &sub.id)
            .await
            .unwrap();
        assert!(!docs.is_empty());
        for d in &docs {
            assert!(
                body.contains(&d.sha256),
                "document {} listed with its SHA-256",
                d.name
            );
        }
        // Sent once: a second pass finds nothing to do.
        assert_eq!(
            outbox::send_due(&t.app, "test").await.unwrap(),
            Default::default()
        );
        assert_eq!(sink.received().len(), 1);
    }
}

#[tokio::test]
async fn auto_replies_lists_bounces_and_floods_get_no_acknowledgement() {
    let dir = tempfile::tempdir().unwrap();
    let sink = sink_in(&dir);
    let t = smtp_env(
        &sink,
        "starttls",
        &[("PODAWCZA_OUTBOX__MAX_PER_SENDER_PER_HOUR", "2")],
    )
    .await;
    take_in(
        &t,
        vec![
            mail("urlop@example.pl", "Auto-Submitted: auto-replied\r\n", 1),
            mail("MAILER-DAEMON@example.pl", "", 2),
            mail(
                "lista@example.pl",
                "List-Id: <ogloszenia.example.pl>\r\n",
                3,
            ),
            mail("news@example.pl", "Precedence: bulk\r\n", 4),
        ],
    )
    .await;
    let s = outbox::send_due(&t.app, "test").await.unwrap();
    assert_eq!((s.sent, s.suppressed), (0, 4));
    assert!(sink.received().is_empty());

    take_in(
        &t,
        (10..13).map(|i| mail("jan@example.pl", "", i)).collect(),
    )
    .await;
    let s = outbox::send_due(&t.app, "test").await.unwrap();
    assert_eq!((s.sent, s.suppressed), (2, 1), "two per hour to one sender");
    assert_eq!(sink.received().len(), 2);
    assert_eq!(
        t.count("SELECT COUNT(*) FROM outbox WHERE reason = 'rate limit for this sender'")
            .await,
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_outbox_retries_while_the_server_is_down_and_delivers_once_it_is_back() {
    let dir = tempfile::tempdir().unwrap();
    let mut sink = sink_in(&dir);
    let t = smtp_env(&sink, "implicit", &[]).await;
    sink.stop();
    take_in(&t, vec![mail("jan@example.pl", "", 1)]).await;
    let s = outbox::send_due(&t.app, "test").await.unwrap();
    assert_eq!((s.sent, s.failed), (0, 1));
    assert_eq!(
        t.count("SELECT COUNT(*) FROM outbox WHERE state = 'pending' AND attempts = 1")
            .await,
        1
    );

    let (tx, rx) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(outbox::run_forever(t.app.clone(), rx));
    // Let it fail at least once more on its own, then bring the server back.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while t.count("SELECT MAX(attempts) FROM outbox").await < 2 {
        assert!(tokio::time::Instant::now() < deadline, "no retry");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    sink.start();
    while t
        .count("SELECT COUNT(*) FROM outbox WHERE state = 'sent'")
        .await
        < 1
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "not delivered after the server came back"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tx.send(true).unwrap();
    worker.await.unwrap();
    assert_eq!(sink.received().len(), 1);
    assert_eq!(t.count("SELECT COUNT(*) FROM outbox").await, 1);
}

#[tokio::test]
async fn the_department_is_notified_when_a_submission_is_dispatched_to_it() {
    let dir = tempfile::tempdir().unwrap();
    let sink = sink_in(&dir);
    let t = smtp_env(
        &sink,
        "starttls",
        &[("PODAWCZA_OUTBOX__ACKNOWLEDGE_EMAIL", "false")],
    )
    .await;
    sqlx::query("UPDATE departments SET email = 'wydzial-' || lower(code) || '@um.gliwice.pl'")
        .execute(t.app.db.pool())
        .await
        .unwrap();
    take_in(&t, vec![mail("jan@example.pl", "", 1)]).await;
    let s = outbox::send_due(&t.app, "test").await.unwrap();
    assert_eq!(
        (s.sent, s.suppressed),
        (1, 1),
        "notification sent, acknowledgement switched off"
    );
    let got = sink.received();
    let dept: String = sqlx::query_scalar("SELECT department FROM submissions")
        .fetch_one(t.app.db.pool())
        .await
        .unwrap();
    assert_eq!(
        got[0].0.trim(),
        format!("wydzial-{}@um.gliwice.pl", dept.to_lowercase())
    );
    let m = parse(&got[0].1);
    assert_eq!(
        m.header_raw("Auto-Submitted").unwrap().trim(),
        "auto-generated"
    );
}

#[tokio::test]
async fn an_upload_with_an_address_gets_its_receipt_by_mail_with_the_pdf_and_the_sealed_xml() {
    let dir = tempfile::tempdir().unwrap();
    let sink = sink_in(&dir);
    let vars = smtp_vars(&sink, "starttls");
    let refs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let site = crate::upload::site(&refs).await;
    let c = crate::upload::client();
    let token = crate::upload::csrf(&c, &site.base).await;
    let qes = std::fs::read(crate::common::fixtures().join("pki/samples/qes.xml")).unwrap();
    let form = reqwest::multipart::Form::new()
        .text("csrf", token)
        .part(
            "file",
            reqwest::multipart::Part::bytes(qes).file_name("qes.xml"),
        )
        .text("email", "mieszkaniec@example.pl");
    let r = c
        .post(format!("{}/wyslij", site.base))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::SEE_OTHER);
    let s = outbox::send_due(&site.env.app, "test").await.unwrap();
    assert_eq!(s.sent, 1, "{s:?}");
    let got = sink.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0.trim(), "mieszkaniec@example.pl");
    let m = parse(&got[0].1);
    let number: String = sqlx::query_scalar("SELECT registration_number FROM submissions")
        .fetch_one(site.env.app.db.pool())
        .await
        .unwrap();
    assert!(m.subject().unwrap().contains(&number));
    assert_eq!(
        m.header_raw("Auto-Submitted").unwrap().trim(),
        "auto-replied"
    );
    let names: Vec<String> = m
        .attachments()
        .filter_map(|a| mail_parser::MimeHeaders::attachment_name(a).map(str::to_string))
        .collect();
    let stem = number.replace('/', "-");
    assert_eq!(
        names,
        vec![format!("UPP-{stem}.pdf"), format!("UPP-{stem}.xml")]
    );
    // The attached XML is the sealed receipt as issued, byte for byte.
    let issued: String = sqlx::query_scalar("SELECT xml_sha256 FROM receipts")
        .fetch_one(site.env.app.db.pool())
        .await
        .unwrap();
    let xml = m.attachments().nth(1).unwrap().contents().to_vec();
    assert_eq!(podawcza::storage::blobs::sha256_hex(&xml), issued);
}
