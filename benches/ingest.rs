//! Benchmark (acceptance 6 of the register issue): ingest 10,000 generated messages (about 50 KB
//! on average, many with attachments) end to end to `dispatched`, on SQLite and, when
//! `PODAWCZA_BENCH_PG_URL` is set, on PostgreSQL. Prints messages per second and peak memory.
//!
//! Run: `scripts/bench.sh` (starts its own PostgreSQL), or `cargo bench --bench ingest` for SQLite
//! only. `PODAWCZA_BENCH_N` changes the number of messages.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a benchmark may stop loudly

use podawcza::app::App;
use podawcza::config::{Config, REFERENCE_CONFIG};
use std::time::Instant;

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    kb / 1024.0
}

async fn run(
    label: &str,
    overlap: bool,
    db_url: Option<String>,
    src: &std::path::Path,
    n: usize,
    bytes: u64,
) {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = db_url
        .unwrap_or_else(|| format!("sqlite://{}?mode=rwc", dir.path().join("p.db").display()));
    // Any PODAWCZA_<SECTION>__<KEY> of the environment applies too (e.g. PIPELINE__WORKERS).
    let mut vars: Vec<(String, String)> =
        std::env::vars().filter(|(k, _)| k.contains("__")).collect();
    vars.extend([
        (
            "PODAWCZA_STORAGE__DIR".to_string(),
            dir.path().display().to_string(),
        ),
        ("PODAWCZA_DATABASE__URL".to_string(), url),
        (
            "PODAWCZA_PIPELINE__IDLE_POLL_MS".to_string(),
            "20".to_string(),
        ),
    ]);
    let config = Config::from_toml("bench", REFERENCE_CONFIG, vars).expect("config");
    let workers = config.pipeline.workers;
    let app = App::open(config).await.expect("open");
    let files = podawcza::ingest::files::collect(&[src.to_path_buf()]).expect("collect");
    let t0 = Instant::now();
    let register = podawcza::ingest::files::ingest_files(&app, &files, 64, podawcza::clock::now);
    let (reg, run, t_reg) = if overlap {
        // As `podawcza ingest` and `serve` do: workers process while registration goes on.
        let (reg, run) = podawcza::pipeline::alongside(&app, async {
            let r = register.await;
            (r, t0.elapsed())
        })
        .await
        .expect("pipeline");
        (reg.0.expect("ingest"), run, reg.1)
    } else {
        let reg = register.await.expect("ingest");
        let t_reg = t0.elapsed();
        let run = podawcza::pipeline::run_until_idle(&app, workers)
            .await
            .expect("pipeline");
        (reg, run, t_reg)
    };
    let total = t0.elapsed();
    assert_eq!(reg.registered, n);
    assert_eq!(run.dispatched + run.quarantined, n);
    let mode = if overlap {
        "overlapped"
    } else {
        "register, then process"
    };
    println!(
        "{label:<8} {mode:<22} {n} messages, {:.1} MB: all registered after {:.2} s, all dispatched ({} + {} quarantined) after {:.2} s \
         => {:.0} messages/s end to end ({:.1} MB/s), peak RSS {:.0} MB",
        bytes as f64 / 1e6,
        t_reg.as_secs_f64(),
        run.dispatched,
        run.quarantined,
        total.as_secs_f64(),
        n as f64 / total.as_secs_f64(),
        bytes as f64 / 1e6 / total.as_secs_f64(),
        peak_rss_mb()
    );
    app.db.close().await;
}

async fn reset_postgres(url: &str) {
    sqlx::any::install_default_drivers();
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(url)
        .await
        .expect("connect");
    sqlx::Executor::execute(
        &mut conn,
        "DROP SCHEMA public CASCADE; CREATE SCHEMA public;",
    )
    .await
    .expect("reset schema");
}

fn main() {
    let n: usize = std::env::var("PODAWCZA_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let src = tempfile::tempdir().expect("tempdir");
    let mut bytes = 0u64;
    for i in 0..n as u64 {
        let m = podawcza::fixtures::synthetic::message(i, 2020);
        bytes += m.bytes.len() as u64;
        std::fs::write(src.path().join(format!("{i:06}.eml")), &m.bytes).expect("write");
    }
    println!(
        "generated {n} messages, average {:.1} KB",
        bytes as f64 / n as f64 / 1024.0
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    for overlap in [false, true] {
        rt.block_on(run("sqlite", overlap, None, src.path(), n, bytes));
    }
    if let Ok(pg) = std::env::var("PODAWCZA_BENCH_PG_URL") {
        // Each run gets a fresh schema: the server's database is emptied first.
        for overlap in [false, true] {
            rt.block_on(reset_postgres(&pg));
            rt.block_on(run(
                "postgres",
                overlap,
                Some(pg.clone()),
                src.path(),
                n,
                bytes,
            ));
        }
    }
}
