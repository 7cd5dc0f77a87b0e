//! Acceptance 3: SIGKILL in the middle of ingesting 1,000 messages, then a restart: every message
//! registered exactly once, every blob matching its SHA-256, numbering gap-free, all processed.

use crate::common::{env, write_synthetic};
use podawcza::storage::queries;
use std::process::{Command, Stdio};

fn ingest_command(t: &crate::common::TestEnv, src: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_podawcza"));
    cmd.args(["ingest", "--batch", "16"]).arg(src);
    cmd.envs(t.cli_env());
    // A short lease, so the restarted process takes over the rows the killed one had claimed.
    cmd.env("PODAWCZA_PIPELINE__LEASE_SECS", "2");
    cmd.env("PODAWCZA_LOG", "warn");
    cmd.stdout(Stdio::null());
    cmd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_ingest_loses_and_doubles_nothing() {
    let t = env(&[]).await;
    let src = t.dir.path().join("inbox");
    write_synthetic(&src, 0, 1000, 2020);

    let mut child = ingest_command(&t, &src).spawn().expect("start ingest");
    // Wait (by polling the register, not by sleeping a fixed time) until it is well under way.
    loop {
        let n = t.count("SELECT COUNT(*) FROM submissions").await;
        if n >= 200 {
            break;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("ingest ended before it could be killed ({status}); registered {n}");
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    child.kill().expect("SIGKILL");
    child.wait().unwrap();
    let at_kill = t.count("SELECT COUNT(*) FROM submissions").await;
    assert!(
        at_kill < 1000,
        "the kill came too late to test anything ({at_kill} registered)"
    );

    let status = ingest_command(&t, &src).status().expect("restart ingest");
    assert!(status.success());

    assert_eq!(t.count("SELECT COUNT(*) FROM submissions").await, 1000);
    assert_eq!(
        t.count("SELECT COUNT(DISTINCT message_id) FROM submissions")
            .await,
        1000
    );
    let seqs: Vec<i64> = sqlx::query_scalar("SELECT reg_seq FROM submissions ORDER BY reg_seq")
        .fetch_all(t.app.db.pool())
        .await
        .unwrap();
    assert_eq!(seqs, (1..=1000).collect::<Vec<i64>>());
    assert_eq!(
        t.count(
            "SELECT COUNT(*) FROM submissions WHERE state NOT IN ('dispatched', 'quarantined')"
        )
        .await,
        0
    );

    let all = queries::list(&t.app.db, &queries::ListFilter::default())
        .await
        .unwrap();
    for s in &all {
        let raw = t
            .app
            .blobs
            .get_verified(&s.raw_sha256)
            .expect("raw blob intact");
        assert_eq!(raw.len() as i64, s.raw_size);
        for d in queries::documents(&t.app.db, &s.id).await.unwrap() {
            t.app
                .blobs
                .get_verified(&d.sha256)
                .expect("document blob intact");
        }
    }
    // Each file's bytes are exactly one submission's original.
    for entry in std::fs::read_dir(&src).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        let sha = podawcza::storage::blobs::sha256_hex(&bytes);
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM submissions WHERE raw_sha256 = $1")
            .bind(&sha)
            .fetch_one(t.app.db.pool())
            .await
            .unwrap();
        assert_eq!(n, 1);
    }
}
