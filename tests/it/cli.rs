//! The command line, run as a separate process: ingest, list, show, export byte-exact.

use crate::common::{env, fixtures};
use std::process::Command;

fn podawcza(t: &crate::common::TestEnv, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_podawcza"))
        .args(args)
        .envs(t.cli_env())
        .env("PODAWCZA_LOG", "warn")
        .output()
        .expect("run podawcza");
    assert!(
        out.status.success(),
        "podawcza {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_lists_shows_and_exports_the_originals_byte_exact() {
    let t = env(&[]).await;
    let demo = fixtures().join("demo");
    let out = podawcza(&t, &["ingest", demo.to_str().unwrap()]);
    assert!(out.contains("registered 8, duplicates 0"), "{out}");
    let again = podawcza(&t, &["ingest", demo.to_str().unwrap()]);
    assert!(again.contains("registered 0, duplicates 8"), "{again}");

    let lines: Vec<serde_json::Value> = podawcza(&t, &["submissions", "--json"])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 8);
    let by_subject = |s: &str| {
        lines
            .iter()
            .find(|l| l["subject"] == s)
            .unwrap_or_else(|| panic!("{s}"))
    };
    assert_eq!(by_subject("Rejestracja pojazdu")["department"], "KM");
    assert_eq!(by_subject("Utrata dowodu osobistego")["department"], "SO");
    assert_eq!(by_subject("Odpis aktu urodzenia")["department"], "USC");
    assert_eq!(by_subject("skan")["state"], "quarantined");

    let number = by_subject("Dokumenty do zameldowania")["registration_number"]
        .as_str()
        .unwrap()
        .to_string();
    let shown: serde_json::Value =
        serde_json::from_str(&podawcza(&t, &["show", &number, "--json"])).unwrap();
    let docs = shown["documents"].as_array().unwrap();
    let names: Vec<&str> = docs.iter().map(|d| d["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "dokumenty.zip",
            "zgloszenie-pobytu-stalego.pdf",
            "umowa-najmu.pdf"
        ]
    );
    assert!(shown["audit"].as_array().unwrap().len() >= 5);

    let target = t.dir.path().join("export");
    podawcza(&t, &["export", &number, target.to_str().unwrap()]);
    let original = std::fs::read(demo.join("05-zameldowanie-zip.eml")).unwrap();
    assert_eq!(
        std::fs::read(target.join("message.eml")).unwrap(),
        original,
        "the original, byte for byte"
    );
    let sums = std::fs::read_to_string(target.join("SHA256SUMS")).unwrap();
    assert_eq!(sums.lines().count(), 4);
    for line in sums.lines() {
        let (sha, name) = line.split_once("  ").unwrap();
        let bytes = std::fs::read(target.join(name)).unwrap();
        assert_eq!(podawcza::storage::blobs::sha256_hex(&bytes), sha, "{name}");
    }
}

#[test]
fn verify_prints_one_json_report_per_file_and_reports_unreadable_files() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain.txt");
    std::fs::write(&plain, "nic").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_podawcza"))
        .args(["verify", "--json"])
        .arg(&plain)
        .arg(dir.path().join("missing.pdf"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "an unreadable file is an I/O error"
    );
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["signatures"], serde_json::json!([]));
    assert!(lines[1]["error"].is_string());
}

/// `serve` answers `/healthz` with the register's counts and stops cleanly on SIGTERM.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_reports_health_and_stops_on_sigterm() {
    use std::io::{BufRead, Read, Write};
    let t = env(&[]).await;
    let demo = fixtures().join("demo");
    podawcza(&t, &["ingest", demo.to_str().unwrap()]);
    let mut child = Command::new(env!("CARGO_BIN_EXE_podawcza"))
        .arg("serve")
        .envs(t.cli_env())
        .env("PODAWCZA_WEB__LISTEN", "127.0.0.1:0")
        .env("PODAWCZA_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let addr = loop {
        let line = lines.next().expect("serve printed its address").unwrap();
        if let Some(a) = line.strip_prefix("Podawcza listening on http://") {
            break a.to_string();
        }
    };
    let mut conn = std::net::TcpStream::connect(&addr).unwrap();
    conn.write_all(b"GET /healthz HTTP/1.0\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut response = String::new();
    conn.read_to_string(&mut response).unwrap();
    assert!(
        response.starts_with("HTTP/1.0 200") || response.starts_with("HTTP/1.1 200"),
        "{response}"
    );
    let body: serde_json::Value =
        serde_json::from_str(response.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(body["submissions"]["dispatched"], 7);
    assert_eq!(body["submissions"]["quarantined"], 1);
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert!(
        status.success(),
        "serve must stop cleanly on SIGTERM: {status}"
    );
}
