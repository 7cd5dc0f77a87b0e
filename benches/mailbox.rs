//! Benchmark (acceptance 8 of issue 6): drain a Dovecot mailbox of 10,000 generated messages
//! (about 50 KB on average) into the register, next to a plain IMAP download of the same mailbox
//! in the same run, and the delay between a new message and its registration with IDLE.
//!
//! The drain is `mailbox::poll_once`: connect, SEARCH, RFC822.SIZE, BODY.PEEK[] in batches, blobs
//! written and fsynced, submissions registered (numbers, rows) and the IMAP rows committed, every
//! message marked on the server and the mark noted. The pipeline's workers (unpack, verify,
//! classify) do not run during it: they are measured by `scripts/bench.sh ingest`.
//!
//! Needs the servers of `scripts/lib/mailservers.sh`: run `scripts/bench.sh`.
//! `PODAWCZA_BENCH_N` changes the number of messages; `PODAWCZA_BENCH_PG_URL` adds PostgreSQL;
//! `PODAWCZA_BENCH_DBS=postgres` (or `sqlite`) runs one engine only.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // a benchmark may stop loudly

use futures::TryStreamExt;
use podawcza::app::App;
use podawcza::config::{Config, REFERENCE_CONFIG};
use podawcza::ingest::mailbox::{self, connect};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set: run scripts/bench.sh"))
}

async fn open(dir: &std::path::Path, user: &str, db_url: Option<&str>, folders: &str) -> Arc<App> {
    let pw = dir.join("imap-password");
    std::fs::write(&pw, var("PODAWCZA_TEST_IMAP_PASSWORD")).unwrap();
    let url = db_url
        .map(str::to_string)
        .unwrap_or_else(|| format!("sqlite://{}?mode=rwc", dir.join("p.db").display()));
    let mut vars: Vec<(String, String)> =
        std::env::vars().filter(|(k, _)| k.contains("__")).collect();
    for (k, v) in [
        ("STORAGE__DIR", dir.display().to_string()),
        ("DATABASE__URL", url),
        ("MAILBOX__ENABLED", "true".into()),
        ("MAILBOX__HOST", var("PODAWCZA_TEST_IMAP_HOST")),
        ("MAILBOX__PORT", var("PODAWCZA_TEST_IMAPS_PORT")),
        ("MAILBOX__CA_FILE", var("PODAWCZA_TEST_TLS_CA")),
        ("MAILBOX__USER", user.to_string()),
        ("MAILBOX__PASSWORD_FILE", pw.display().to_string()),
        ("MAILBOX__IDLE", "true".into()),
        ("MAILBOX__FOLDERS", folders.to_string()),
        ("MAILBOX__POLL_INTERVAL_SECS", "60".into()),
    ] {
        vars.push((format!("PODAWCZA_{k}"), v));
    }
    let config = Config::from_toml("bench", REFERENCE_CONFIG, vars).expect("config");
    App::open(config).await.expect("open")
}

async fn fill(app: &App, n: u64) -> u64 {
    let mut s = connect::connect(&app.config.mailbox).await.unwrap();
    let mut bytes = 0;
    for i in 0..n {
        let m = podawcza::fixtures::synthetic::message(i, 2020).bytes;
        bytes += m.len() as u64;
        s.append("INBOX", None, None, &m).await.unwrap();
    }
    s.logout().await.unwrap();
    bytes
}

/// CPU seconds this process has used (all threads, user and system; /proc/self/stat, 100 ticks a
/// second): the machine is shared, so the work per message is a steadier figure than the time.
fn cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0.0))
        .collect();
    (f.get(11).copied().unwrap_or(0.0) + f.get(12).copied().unwrap_or(0.0)) / 100.0
}

/// A plain download: every message's BODY.PEEK[] in batches of the poller's size, nothing kept.
async fn plain_download(app: &App, n: u64) -> (Duration, u64) {
    let t0 = Instant::now();
    let mut s = connect::connect(&app.config.mailbox).await.unwrap();
    s.select("INBOX").await.unwrap();
    let batch = app.config.mailbox.batch_size as u64;
    let mut bytes = 0;
    let mut from = 1;
    while from <= n {
        let to = (from + batch - 1).min(n);
        let got: Vec<_> = s
            .uid_fetch(
                format!("{from}:{to}"),
                "(UID RFC822.SIZE INTERNALDATE BODY.PEEK[])",
            )
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        bytes += got
            .iter()
            .filter_map(|f| f.body())
            .map(|b| b.len() as u64)
            .sum::<u64>();
        from = to + 1;
    }
    s.logout().await.unwrap();
    (t0.elapsed(), bytes)
}

/// With IDLE on two folders: the time from APPEND to the row in the register, alternately in the
/// folder the poll's own session watches (the last) and in the one watched by a connection of its
/// own (the first).
async fn idle_latency(app: &Arc<App>) -> Vec<(&'static str, Duration)> {
    let (tx, rx) = tokio::sync::watch::channel(false);
    let poller = tokio::spawn(mailbox::run_forever(app.clone(), rx));
    let count = || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM submissions")
            .fetch_one(app.db.pool())
            .await
            .unwrap()
    };
    let mut out = Vec::new();
    let mut s = connect::connect(&app.config.mailbox).await.unwrap();
    for i in 0..6u64 {
        let folder = if i % 2 == 0 { "INBOX" } else { "Sprawy" };
        let before = count().await;
        // Give the poller time to be back in IDLE after the previous message.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let m = podawcza::fixtures::synthetic::message(900_000 + i, 2021).bytes;
        let t0 = Instant::now();
        s.append(folder, None, None, &m).await.unwrap();
        while count().await == before {
            assert!(t0.elapsed() < Duration::from_secs(120), "not registered");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        out.push((folder, t0.elapsed()));
    }
    tx.send(true).unwrap();
    poller.await.unwrap();
    out
}

async fn run(label: &str, db_url: Option<&str>, n: u64) {
    let dir = tempfile::tempdir().unwrap();
    let user = format!("bench{}", uuid::Uuid::now_v7().simple());
    let app = open(dir.path(), &user, db_url, "[\"INBOX\"]").await;
    let t_fill = Instant::now();
    let total = fill(&app, n).await;
    println!(
        "{label:<10} loaded {n} messages, {:.1} MB, into Dovecot in {:.1} s",
        total as f64 / 1e6,
        t_fill.elapsed().as_secs_f64()
    );
    // The plain download runs before and after the drain (it only reads) and the drain is
    // compared with the faster of the two: the machine is shared, and the load moves.
    let c0 = cpu_secs();
    let (t_plain1, plain_bytes) = plain_download(&app, n).await;
    let c1 = cpu_secs();
    let t0 = Instant::now();
    let s = mailbox::poll_once(&app).await.unwrap();
    let t_drain = t0.elapsed();
    let c2 = cpu_secs();
    assert_eq!(s.registered as u64, n);
    let (t_plain2, _) = plain_download(&app, n).await;
    let c3 = cpu_secs();
    let plain_cpu = (c1 - c0).min(c3 - c2);
    let t_plain = t_plain1.min(t_plain2);
    let plain_rate = n as f64 / t_plain.as_secs_f64();
    let drain_rate = n as f64 / t_drain.as_secs_f64();
    println!(
        "{label:<10} plain IMAP download: {:.2} s before the drain, {:.2} s after => best \
         {plain_rate:.0} msg/s ({:.1} MB/s)",
        t_plain1.as_secs_f64(),
        t_plain2.as_secs_f64(),
        plain_bytes as f64 / 1e6 / t_plain.as_secs_f64()
    );
    println!(
        "{label:<10} drain into the register (search, sizes, fetch, blobs fsynced, rows committed, \
         marked on the server; no pipeline workers; batch_size {}): {:.2} s => \
         {drain_rate:.0} msg/s = {:.0} % of the plain download (goal: at least 50 %)",
        app.config.mailbox.batch_size,
        t_drain.as_secs_f64(),
        100.0 * drain_rate / plain_rate
    );
    println!(
        "{label:<10} CPU of this process (not Dovecot's): plain download {:.0} us/msg, drain \
         {:.0} us/msg",
        plain_cpu * 1e6 / n as f64,
        (c2 - c1) * 1e6 / n as f64
    );
    // The same register, now polling two folders with IDLE on both (a restart with a new config).
    let mut s = connect::connect(&app.config.mailbox).await.unwrap();
    s.create("Sprawy").await.unwrap();
    s.logout().await.unwrap();
    drop(app);
    let app = open(dir.path(), &user, db_url, "[\"Sprawy\", \"INBOX\"]").await;
    let lat = idle_latency(&app).await;
    let ms: Vec<String> = lat
        .iter()
        .map(|(f, d)| format!("{f} {} ms", d.as_millis()))
        .collect();
    println!(
        "{label:<10} IDLE on 2 folders: new message registered after {} (goal: under 2000 ms)",
        ms.join(", ")
    );
}

/// A new database beside `admin`'s, so earlier runs and other benchmarks do not count.
async fn fresh_pg(admin: &str) -> String {
    let name = format!("bench_{}", uuid::Uuid::now_v7().simple());
    sqlx::any::install_default_drivers();
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(admin)
        .await
        .unwrap();
    sqlx::Executor::execute(&mut conn, format!("CREATE DATABASE {name}").as_str())
        .await
        .unwrap();
    let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(admin);
    format!("{base}/{name}")
}

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("PODAWCZA_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let n: u64 = std::env::var("PODAWCZA_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let rt = tokio::runtime::Runtime::new().unwrap();
    // `PODAWCZA_BENCH_DBS=postgres` (or `sqlite`) runs one engine only.
    let dbs = std::env::var("PODAWCZA_BENCH_DBS").unwrap_or_else(|_| "sqlite,postgres".into());
    rt.block_on(async {
        if dbs.contains("sqlite") {
            run("sqlite", None, n).await;
        }
        if let (true, Ok(admin)) = (
            dbs.contains("postgres"),
            std::env::var("PODAWCZA_BENCH_PG_URL"),
        ) {
            run("postgres", Some(&fresh_pg(&admin).await), n).await;
        }
    });
}
