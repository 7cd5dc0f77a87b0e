//! The mailbox channel against a real Dovecot (started by scripts/test.sh, see
//! scripts/lib/mailservers.sh): each test takes an IMAP user of its own, loads mail with
//! `doveadm save` (or IMAP APPEND for big backlogs) and checks the register and the server.

use crate::common::{env, TestEnv};
use podawcza::ingest::mailbox::{self, connect, store};
use std::collections::HashSet;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

/// A variable the test script exports; a clear failure (never a skip) without it.
pub fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the tests through scripts/test.sh, which starts Dovecot and the SMTP sink")
    })
}

/// A fresh IMAP user name.
fn new_user() -> String {
    format!("u{}", uuid::Uuid::now_v7().simple())
}

/// Config overrides for polling `user`'s mailbox over `tls` (`implicit` or `starttls`).
fn overrides(t_dir: &std::path::Path, user: &str, tls: &str) -> Vec<(String, String)> {
    let pw = t_dir.join("imap-password");
    std::fs::write(&pw, var("PODAWCZA_TEST_IMAP_PASSWORD")).unwrap();
    let port = if tls == "implicit" {
        var("PODAWCZA_TEST_IMAPS_PORT")
    } else {
        var("PODAWCZA_TEST_IMAP_PORT")
    };
    [
        ("ENABLED", "true".to_string()),
        ("HOST", var("PODAWCZA_TEST_IMAP_HOST")),
        ("PORT", port),
        ("TLS", tls.to_string()),
        ("CA_FILE", var("PODAWCZA_TEST_TLS_CA")),
        ("USER", user.to_string()),
        ("PASSWORD_FILE", pw.display().to_string()),
        ("TIMEOUT_SECS", "20".to_string()),
        ("LEASE_SECS", "5".to_string()),
        ("MAX_BACKOFF_SECS", "1".to_string()),
        ("POLL_INTERVAL_SECS", "1".to_string()),
        ("IDLE", "false".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (format!("PODAWCZA_MAILBOX__{k}"), v))
    .collect()
}

/// A test world whose `[mailbox]` points at `user` on the shared Dovecot.
async fn mail_env(user: &str, tls: &str, extra: &[(&str, &str)]) -> TestEnv {
    let dir = tempfile::tempdir().unwrap();
    let mut vars = overrides(dir.path(), user, tls);
    vars.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let refs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let t = env(&refs).await;
    std::fs::copy(
        dir.path().join("imap-password"),
        t.dir.path().join("imap-password"),
    )
    .unwrap();
    t
}

/// `doveadm save`: delivers one message without IMAP.
pub fn doveadm_save(conf: &str, user: &str, folder: &str, bytes: &[u8]) {
    let mut child = Command::new("doveadm")
        .args(["-c", conf, "save", "-u", user, "-m", folder])
        .stdin(Stdio::piped())
        .spawn()
        .expect("doveadm save");
    child.stdin.take().unwrap().write_all(bytes).unwrap();
    assert!(child.wait().unwrap().success(), "doveadm save failed");
}

fn doveadm(conf: &str, args: &[&str]) {
    let status = Command::new("doveadm")
        .args(["-c", conf])
        .args(args)
        .status()
        .expect("doveadm");
    assert!(status.success(), "doveadm {args:?} failed");
}

fn save(user: &str, folder: &str, bytes: &[u8]) {
    doveadm_save(&var("PODAWCZA_TEST_DOVECOT_CONF"), user, folder, bytes);
}

fn synthetic(i: u64) -> Vec<u8> {
    podawcza::fixtures::synthetic::message(i, 2020).bytes
}

/// A small well-formed message.
fn small(i: u64) -> Vec<u8> {
    format!(
        "From: Jan Kowalski <jan{i}@example.pl>\r\nTo: bp@um.gliwice.pl\r\nSubject: Wniosek {i}\r\n\
         Message-ID: <m{i}@example.pl>\r\nDate: Mon, 20 Apr 2020 10:00:00 +0200\r\n\r\nTreść {i}.\r\n"
    )
    .into_bytes()
}

/// Appends many messages over one IMAP connection (faster than one doveadm per message).
async fn append_all(t: &TestEnv, folder: &str, messages: impl Iterator<Item = Vec<u8>>) {
    let mut s = connect::connect(&t.app.config.mailbox).await.unwrap();
    for m in messages {
        s.append(folder, None, None, &m).await.unwrap();
    }
    s.logout().await.unwrap();
}

/// UIDs in `folder` that do not carry the poller's keyword.
async fn unmarked_on_server(t: &TestEnv, folder: &str) -> usize {
    let mut s = connect::connect(&t.app.config.mailbox).await.unwrap();
    s.select(folder).await.unwrap();
    let q = format!("UNKEYWORD {}", t.app.config.mailbox.keyword);
    let n = s.uid_search(&q).await.unwrap().len();
    s.logout().await.unwrap();
    n
}

async fn submissions(t: &TestEnv) -> i64 {
    t.count("SELECT COUNT(*) FROM submissions").await
}

#[tokio::test]
async fn messages_are_registered_exactly_once_over_implicit_tls_and_starttls() {
    for tls in ["implicit", "starttls"] {
        let user = new_user();
        let t = mail_env(&user, tls, &[]).await;
        for i in 0..3 {
            save(&user, "INBOX", &small(i));
        }
        let s = mailbox::poll_once(&t.app).await.unwrap();
        assert_eq!((s.registered, s.duplicates), (3, 0), "{tls}");
        let again = mailbox::poll_once(&t.app).await.unwrap();
        assert_eq!((again.registered, again.duplicates), (0, 0), "{tls}");
        assert_eq!(submissions(&t).await, 3);
        assert_eq!(
            t.count("SELECT COUNT(*) FROM submissions WHERE arrival_source = 'imap_internaldate'")
                .await,
            3
        );
        assert_eq!(
            t.count("SELECT COUNT(*) FROM imap_messages WHERE marked_at IS NOT NULL")
                .await,
            3
        );
        assert_eq!(unmarked_on_server(&t, "INBOX").await, 0, "{tls}");
        // A message that arrives later is taken by the next poll.
        save(&user, "INBOX", &small(3));
        assert_eq!(mailbox::poll_once(&t.app).await.unwrap().registered, 1);
    }
}

#[tokio::test]
async fn the_certificate_is_checked_against_the_configured_ca() {
    let user = new_user();
    let t = mail_env(&user, "implicit", &[("PODAWCZA_MAILBOX__CA_FILE", "")]).await;
    let e = mailbox::poll_once(&t.app).await.unwrap_err();
    assert!(e.to_string().contains("tls"), "{e}");
}

fn poll_command(t: &TestEnv, user_env: &[(String, String)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_podawcza"));
    cmd.args(["poll", "--once"]);
    cmd.envs(t.cli_env());
    cmd.envs(user_env.iter().cloned());
    cmd.env("PODAWCZA_MAILBOX__BATCH_SIZE", "20");
    cmd.env("PODAWCZA_LOG", "warn");
    cmd.stdout(Stdio::null());
    cmd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_a_backlog_of_1000_loses_and_doubles_nothing() {
    let user = new_user();
    let t = mail_env(&user, "implicit", &[]).await;
    append_all(&t, "INBOX", (0..1000).map(small)).await;
    let vars = overrides(t.dir.path(), &user, "implicit");

    let mut child = poll_command(&t, &vars).spawn().unwrap();
    loop {
        let n = submissions(&t).await;
        if n >= 200 {
            break;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("poll ended before it could be killed ({status}); registered {n}");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let at_kill = submissions(&t).await;
    assert!(
        at_kill < 1000,
        "the kill came too late ({at_kill} registered)"
    );

    // The lease of the killed poller runs out (5 s), then the restart finishes the work.
    let status = poll_command(&t, &vars).status().unwrap();
    assert!(status.success());
    assert_eq!(submissions(&t).await, 1000);
    assert_eq!(
        t.count("SELECT COUNT(DISTINCT raw_sha256) FROM submissions")
            .await,
        1000
    );
    assert_eq!(t.count("SELECT COUNT(*) FROM imap_messages").await, 1000);
    assert_eq!(
        t.count("SELECT COUNT(*) FROM imap_messages WHERE marked_at IS NULL")
            .await,
        0
    );
    assert_eq!(unmarked_on_server(&t, "INBOX").await, 0);
    let status = Command::new(env!("CARGO_BIN_EXE_podawcza"))
        .arg("status")
        .envs(t.cli_env())
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&status.stdout);
    assert!(
        out.contains("mailbox ogolna") && out.contains("backlog 0"),
        "{out}"
    );
}

/// `GET /healthz` from the real router on a port of its own.
async fn get_healthz(t: &TestEnv) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = podawcza::web::router(t.app.clone());
    let server = tokio::spawn(async move { axum::serve(listener, router).await });
    let mut c = tokio::net::TcpStream::connect(addr).await.unwrap();
    c.write_all(b"GET /healthz HTTP/1.0\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut page = String::new();
    c.read_to_string(&mut page).await.unwrap();
    server.abort();
    page
}

#[tokio::test]
async fn a_recreated_folder_with_a_new_uidvalidity_neither_reimports_nor_skips() {
    let user = new_user();
    let conf = var("PODAWCZA_TEST_DOVECOT_CONF");
    let t = mail_env(
        &user,
        "implicit",
        &[("PODAWCZA_MAILBOX__FOLDERS", "[\"Wnioski\"]")],
    )
    .await;
    doveadm(&conf, &["mailbox", "create", "-u", &user, "Wnioski"]);
    for i in 0..3 {
        save(&user, "Wnioski", &synthetic(i));
    }
    assert_eq!(mailbox::poll_once(&t.app).await.unwrap().registered, 3);

    doveadm(&conf, &["mailbox", "delete", "-u", &user, "Wnioski"]);
    doveadm(&conf, &["mailbox", "create", "-u", &user, "Wnioski"]);
    for i in 0..4 {
        save(&user, "Wnioski", &synthetic(i));
    }
    let s = mailbox::poll_once(&t.app).await.unwrap();
    assert_eq!((s.registered, s.duplicates), (1, 3));
    assert_eq!(submissions(&t).await, 4);
    assert_eq!(
        t.count("SELECT COUNT(DISTINCT uidvalidity) FROM imap_messages")
            .await,
        2
    );
    assert_eq!(unmarked_on_server(&t, "Wnioski").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_pollers_on_one_mailbox_register_each_message_once() {
    let user = new_user();
    let t = mail_env(&user, "starttls", &[("PODAWCZA_MAILBOX__BATCH_SIZE", "10")]).await;
    append_all(&t, "INBOX", (0..150).map(small)).await;
    let vars = overrides(t.dir.path(), &user, "starttls");
    let refs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let other = t.second_app(&refs).await;
    let (a, b) = tokio::join!(mailbox::poll_once(&t.app), mailbox::poll_once(&other));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.registered + b.registered, 150);
    assert_eq!(a.duplicates + b.duplicates, 0);
    assert_eq!(submissions(&t).await, 150);
    assert_eq!(t.count("SELECT COUNT(*) FROM imap_messages").await, 150);
}

#[tokio::test]
async fn oversized_and_malformed_messages_are_recorded_and_the_batch_goes_on() {
    let user = new_user();
    let t = mail_env(
        &user,
        "implicit",
        &[("PODAWCZA_MAILBOX__MAX_MESSAGE_BYTES", "4000")],
    )
    .await;
    save(&user, "INBOX", &small(1));
    let mut big = small(2);
    big.extend(std::iter::repeat_n(b'x', 6000));
    big.extend_from_slice(b"\r\n");
    save(&user, "INBOX", &big);
    save(
        &user,
        "INBOX",
        b"\xff\xfe not a mail header at all\r\n\x00\x01\r\n",
    );
    save(&user, "INBOX", &small(3));

    let s = mailbox::poll_once(&t.app).await.unwrap();
    assert_eq!((s.registered, s.oversized), (3, 1));
    assert_eq!(submissions(&t).await, 3);
    let headers: String =
        sqlx::query_scalar("SELECT headers FROM imap_messages WHERE status = 'oversized'")
            .fetch_one(t.app.db.pool())
            .await
            .unwrap();
    assert!(headers.contains("Subject: Wniosek 2"));
    // Left on the server, unmarked; not fetched again.
    assert_eq!(unmarked_on_server(&t, "INBOX").await, 1);
    assert_eq!(
        mailbox::poll_once(&t.app).await.unwrap(),
        Default::default()
    );
    let health = store::health(&t.app.db).await.unwrap();
    assert_eq!((health.len(), health[0].oversized), (1, 1));
    let page = get_healthz(&t).await;
    assert!(page.contains("\"oversized\":1"), "{page}");
    assert!(page.contains("\"last_success_at\":\""), "{page}");
    // The malformed one is processed like any other: nothing is dropped.
    podawcza::pipeline::run_until_idle(&t.app, 1).await.unwrap();
    assert_eq!(
        t.count("SELECT COUNT(*) FROM submissions WHERE state IN ('dispatched', 'quarantined')")
            .await,
        3
    );
}

/// A Dovecot of this test's own (same mail store and certificate, its own ports and pid file),
/// so stopping it disturbs no other test.
struct OwnDovecot {
    conf: std::path::PathBuf,
    pid_file: std::path::PathBuf,
}

impl OwnDovecot {
    fn new(dir: &std::path::Path) -> (OwnDovecot, u16) {
        let shared = std::fs::read_to_string(var("PODAWCZA_TEST_DOVECOT_CONF")).unwrap();
        let port = free_port();
        // Dovecot's own users (dovecot, dovenull) must reach its sockets.
        std::fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        let run = dir.join("dovecot-run");
        std::fs::create_dir_all(run.join("state")).unwrap();
        let mut out = String::new();
        for line in shared.lines() {
            let l = line.trim_start();
            let replaced = if l.starts_with("base_dir") {
                format!("base_dir = {}", run.display())
            } else if l.starts_with("state_dir") {
                format!("state_dir = {}/state", run.display())
            } else if l.starts_with("log_path") {
                format!("log_path = {}/dovecot.log", run.display())
            } else if l.starts_with("port = ") && l != "port = 0" {
                // Only the implicit-TLS listener is used; the other gets a port of its own too.
                format!(
                    "port = {}",
                    if out.contains("imaps") {
                        port
                    } else {
                        free_port()
                    }
                )
            } else {
                line.to_string()
            };
            out.push_str(&replaced);
            out.push('\n');
        }
        let conf = dir.join("dovecot.conf");
        std::fs::write(&conf, out).unwrap();
        let d = OwnDovecot {
            conf,
            pid_file: run.join("master.pid"),
        };
        d.start();
        (d, port)
    }

    fn start(&self) {
        let _ = std::fs::remove_file(&self.pid_file);
        let status = Command::new("dovecot")
            .arg("-c")
            .arg(&self.conf)
            .status()
            .unwrap();
        assert!(status.success(), "dovecot did not start");
    }

    fn stop(&self) {
        let pid = std::fs::read_to_string(&self.pid_file).unwrap();
        let pid = pid.trim();
        assert!(Command::new("kill")
            .args(["-TERM", pid])
            .status()
            .unwrap()
            .success());
        let proc = format!("/proc/{pid}");
        while std::path::Path::new(&proc).exists() {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for OwnDovecot {
    fn drop(&mut self) {
        if let Ok(pid) = std::fs::read_to_string(&self.pid_file) {
            let _ = Command::new("kill").args(["-TERM", pid.trim()]).status();
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn wait_for(what: &str, secs: u64, mut cond: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    while !cond().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_poller_recovers_by_itself_when_dovecot_stops_and_starts_again() {
    let user = new_user();
    let dir = tempfile::tempdir().unwrap();
    let (dovecot, port) = OwnDovecot::new(dir.path());
    let port = port.to_string();
    let t = mail_env(&user, "implicit", &[("PODAWCZA_MAILBOX__PORT", &port)]).await;
    // Mail is loaded through the shared Dovecot, which serves the same mail store and keeps
    // running while this test's own one is stopped.
    for i in 0..5 {
        save(&user, "INBOX", &small(i));
    }
    let (tx, rx) = tokio::sync::watch::channel(false);
    let poller = tokio::spawn(mailbox::run_forever(t.app.clone(), rx));
    wait_for("the first five", 30, async || submissions(&t).await == 5).await;

    dovecot.stop();
    for i in 5..10 {
        save(&user, "INBOX", &small(i));
    }
    wait_for("a failed poll", 30, async || {
        t.count("SELECT COUNT(*) FROM mailbox_state WHERE last_error IS NOT NULL")
            .await
            == 1
    })
    .await;
    assert_eq!(submissions(&t).await, 5);
    dovecot.start();
    wait_for("the other five", 30, async || submissions(&t).await == 10).await;
    tx.send(true).unwrap();
    poller.await.unwrap();
    let ids: HashSet<String> = sqlx::query_scalar("SELECT raw_sha256 FROM submissions")
        .fetch_all(t.app.db.pool())
        .await
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(ids.len(), 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_idle_a_new_message_is_taken_long_before_the_next_poll() {
    let user = new_user();
    let t = mail_env(
        &user,
        "starttls",
        &[
            ("PODAWCZA_MAILBOX__IDLE", "true"),
            ("PODAWCZA_MAILBOX__POLL_INTERVAL_SECS", "600"),
        ],
    )
    .await;
    save(&user, "INBOX", &small(1));
    let (tx, rx) = tokio::sync::watch::channel(false);
    let poller = tokio::spawn(mailbox::run_forever(t.app.clone(), rx));
    wait_for("the first poll", 30, async || submissions(&t).await == 1).await;
    // The poller now waits in IDLE for up to ten minutes; the server wakes it up.
    tokio::time::sleep(Duration::from_millis(300)).await;
    save(&user, "INBOX", &small(2));
    wait_for("the message announced by IDLE", 20, async || {
        submissions(&t).await == 2
    })
    .await;
    tx.send(true).unwrap();
    poller.await.unwrap();
}

#[tokio::test]
async fn registered_messages_can_be_moved_or_deleted_but_only_after_they_are_stored() {
    for (mode, extra) in [
        ("move", ("PODAWCZA_MAILBOX__MARK", "move")),
        ("delete", ("PODAWCZA_MAILBOX__DELETE", "true")),
    ] {
        let user = new_user();
        let t = mail_env(&user, "implicit", &[extra]).await;
        for i in 0..3 {
            save(&user, "INBOX", &small(i));
        }
        assert_eq!(
            mailbox::poll_once(&t.app).await.unwrap().registered,
            3,
            "{mode}"
        );
        let mut s = connect::connect(&t.app.config.mailbox).await.unwrap();
        let inbox = s.select("INBOX").await.unwrap();
        assert_eq!(inbox.exists, 0, "{mode}: the folder is emptied");
        if mode == "move" {
            let moved = s.select("Zarejestrowane").await.unwrap();
            assert_eq!(moved.exists, 3);
        }
        s.logout().await.unwrap();
        assert_eq!(submissions(&t).await, 3);
        let blobs: Vec<String> = sqlx::query_scalar("SELECT raw_sha256 FROM submissions")
            .fetch_all(t.app.db.pool())
            .await
            .unwrap();
        for b in blobs {
            assert!(
                t.app.blobs.get_verified(&b).is_ok(),
                "{mode}: stored before it left the server"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_idle_a_message_in_a_second_folder_is_taken_long_before_the_next_poll() {
    let user = new_user();
    let conf = var("PODAWCZA_TEST_DOVECOT_CONF");
    let t = mail_env(
        &user,
        "implicit",
        &[
            ("PODAWCZA_MAILBOX__IDLE", "true"),
            ("PODAWCZA_MAILBOX__POLL_INTERVAL_SECS", "60"),
            ("PODAWCZA_MAILBOX__FOLDERS", "[\"INBOX\", \"Sprawy\"]"),
        ],
    )
    .await;
    doveadm(&conf, &["mailbox", "create", "-u", &user, "Sprawy"]);
    save(&user, "INBOX", &small(1));
    save(&user, "Sprawy", &small(2));
    let (tx, rx) = tokio::sync::watch::channel(false);
    let poller = tokio::spawn(mailbox::run_forever(t.app.clone(), rx));
    wait_for("the first poll", 30, async || submissions(&t).await == 2).await;
    // Both folders are now watched in IDLE for up to a minute; a message in the second folder (not
    // the one the poll's own session has selected) must wake the poller, well within 15 s.
    tokio::time::sleep(Duration::from_millis(500)).await;
    save(&user, "Sprawy", &small(3));
    wait_for("the message in the second folder", 15, async || {
        submissions(&t).await == 3
    })
    .await;
    // And after that wake-up both folders are watched again.
    tokio::time::sleep(Duration::from_millis(500)).await;
    save(&user, "INBOX", &small(4));
    wait_for("the message in the first folder", 15, async || {
        submissions(&t).await == 4
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    save(&user, "Sprawy", &small(5));
    wait_for("a second message in the second folder", 15, async || {
        submissions(&t).await == 5
    })
    .await;
    tx.send(true).unwrap();
    poller.await.unwrap();
    assert_eq!(unmarked_on_server(&t, "INBOX").await, 0);
    assert_eq!(unmarked_on_server(&t, "Sprawy").await, 0);
    assert_eq!(t.count("SELECT COUNT(*) FROM imap_messages").await, 5);
}

#[tokio::test]
async fn an_oversized_message_is_taken_once_when_the_limit_is_raised() {
    let user = new_user();
    let t = mail_env(
        &user,
        "starttls",
        &[("PODAWCZA_MAILBOX__MAX_MESSAGE_BYTES", "4000")],
    )
    .await;
    let mut big = small(2);
    big.extend(std::iter::repeat_n(b'x', 6000));
    big.extend_from_slice(b"\r\n");
    save(&user, "INBOX", &small(1));
    save(&user, "INBOX", &big);
    save(&user, "INBOX", &small(3));
    let s = mailbox::poll_once(&t.app).await.unwrap();
    assert_eq!((s.registered, s.oversized), (2, 1));
    assert_eq!(store::health(&t.app.db).await.unwrap()[0].oversized, 1);
    // Still too big for a limit raised a little: left alone.
    let restart = async |limit: &str| {
        let mut vars = overrides(t.dir.path(), &user, "starttls");
        vars.push(("PODAWCZA_MAILBOX__MAX_MESSAGE_BYTES".into(), limit.into()));
        let refs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        t.second_app(&refs).await
    };
    let app = restart("5000").await;
    assert_eq!(mailbox::poll_once(&app).await.unwrap(), Default::default());
    assert_eq!(unmarked_on_server(&t, "INBOX").await, 1);

    // The limit raised enough and the poller restarted: the message is fetched and registered.
    let app = restart("100000").await;
    let s = mailbox::poll_once(&app).await.unwrap();
    assert_eq!((s.registered, s.duplicates, s.oversized), (1, 0, 0));
    assert_eq!(submissions(&t).await, 3);
    let subject: String = sqlx::query_scalar(
        "SELECT s.subject FROM submissions s JOIN imap_messages i ON i.submission_id = s.id
         WHERE i.size > 6000",
    )
    .fetch_one(t.app.db.pool())
    .await
    .unwrap();
    assert_eq!(subject, "Wniosek 2");
    assert_eq!(unmarked_on_server(&t, "INBOX").await, 0);
    let health = store::health(&t.app.db).await.unwrap();
    assert_eq!((health[0].oversized, health[0].unmarked), (0, 0));
    assert!(get_healthz(&t).await.contains("\"oversized\":0"));
    assert_eq!(
        t.count("SELECT COUNT(*) FROM imap_messages WHERE status = 'registered' AND marked_at IS NOT NULL")
            .await,
        3
    );
    // Exactly once: neither this process nor another one restarted takes it again.
    assert_eq!(mailbox::poll_once(&app).await.unwrap(), Default::default());
    let again = restart("100000").await;
    assert_eq!(
        mailbox::poll_once(&again).await.unwrap(),
        Default::default()
    );
    assert_eq!(submissions(&t).await, 3);
}
