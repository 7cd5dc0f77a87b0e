//! The validation stage from the command line (issue 5): `podawcza verify --trust DIR --at T`
//! on the samples signed with the test PKI, and `podawcza trust import` on the real EU and
//! Polish trusted lists (read in place from the shared corpus).

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn corpus() -> PathBuf {
    std::env::var("PODAWCZA_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root().join("../shared/corpus"))
}

/// Runs `verify --json --trust fixtures/pki/anchors --at AT` on samples, with a config whose
/// `[trust]` pins the test pl.ID root and loads the signed test trusted list.
fn verify(at: &str, samples: &[&str]) -> Vec<serde_json::Value> {
    let pki = root().join("fixtures/pki");
    let plid = std::fs::read(pki.join("plid-root.crt.pem")).unwrap();
    let der = openssl::x509::X509::from_pem(&plid)
        .unwrap()
        .to_der()
        .unwrap();
    let sha: String = openssl::sha::sha256(&der)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_podawcza"));
    cmd.args(["verify", "--json", "--trust"])
        .arg(pki.join("anchors"))
        .args(["--at", at])
        .env(
            "PODAWCZA_TRUST__PERSONAL_ROOT_SHA256",
            format!("[\"{sha}\"]"),
        )
        .env(
            "PODAWCZA_TRUST__TRUSTED_LISTS",
            format!("[\"{}\"]", pki.join("trusted-list.xml").display()),
        )
        .env(
            "PODAWCZA_TRUST__LIST_SIGNERS",
            format!("[\"{}\"]", pki.join("tl-signer.crt.pem").display()),
        );
    for s in samples {
        cmd.arg(pki.join("samples").join(s));
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn verdict(r: &serde_json::Value) -> (String, String, String) {
    let s = &r["signatures"][0];
    (
        s["indication"].as_str().unwrap_or("").to_string(),
        s["sub_indication"].as_str().unwrap_or("").to_string(),
        s["kind"].as_str().unwrap_or("").to_string(),
    )
}

#[test]
fn verify_with_trust_gives_each_sample_its_kind() {
    let reports = verify(
        "2026-01-01T00:00:00Z",
        &[
            "qes.xml",
            "podpis-zaufany.xml",
            "podpis-osobisty.xml",
            "revoked.xml",
        ],
    );
    let got: Vec<_> = reports.iter().map(verdict).collect();
    let want = [
        ("TOTAL_PASSED", "", "qes"),
        ("TOTAL_PASSED", "", "trusted_profile"),
        ("TOTAL_PASSED", "", "personal"),
        ("INDETERMINATE", "REVOKED_NO_POE", "unknown"),
    ];
    for (g, w) in got.iter().zip(want) {
        assert_eq!((g.0.as_str(), g.1.as_str(), g.2.as_str()), w);
    }
    assert_eq!(
        reports[0]["signatures"][0]["certificate"]["qualified"],
        true
    );
    assert!(reports[0]["signatures"][0]["summary"]
        .as_str()
        .unwrap()
        .ends_with("ważny."));
}

#[test]
fn verify_at_a_past_time_takes_the_certificate_then_valid() {
    let reports = verify("2020-06-01T00:00:00Z", &["expired.xml"]);
    assert_eq!(verdict(&reports[0]).0, "TOTAL_PASSED");
}

#[test]
fn trust_import_checks_the_polish_list_against_the_eu_list() {
    let lists = corpus().join("dss/trusted-lists");
    let out = Command::new(env!("CARGO_BIN_EXE_podawcza"))
        .args(["trust", "import"])
        .arg(lists.join("EU.xml"))
        .arg(lists.join("PL.xml"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("PL list no. 110, 102 services, signature verified"),
        "{text}"
    );
}

#[test]
fn trust_import_refuses_a_list_whose_signature_is_broken() {
    let lists = corpus().join("dss/trusted-lists");
    let out = Command::new(env!("CARGO_BIN_EXE_podawcza"))
        .args(["trust", "import"])
        .arg(lists.join("CZ_broken-sig.xml"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("refused"));
}

/// `python3 -m http.server` on loopback serving the corpus lists in place; stopped on drop.
struct ListServer {
    child: std::process::Child,
    port: u16,
}

impl ListServer {
    fn start() -> ListServer {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("python3")
            .args(["-m", "http.server", "--bind", "127.0.0.1", "--directory"])
            .arg(corpus().join("dss/trusted-lists"))
            .arg(port.to_string())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let start = std::time::Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(start.elapsed().as_secs() < 10, "http.server did not start");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        ListServer { child, port }
    }

    fn url(&self, file: &str) -> String {
        format!("http://127.0.0.1:{}/{file}", self.port)
    }
}

impl Drop for ListServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn trust_update(lists_dir: &Path, args: &[String]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_podawcza"))
        .args(["trust", "update"])
        .args(args)
        .env("PODAWCZA_TRUST__LISTS_DIR", lists_dir)
        .output()
        .unwrap()
}

#[test]
fn trust_update_fetches_checks_and_stores_the_lists() {
    let server = ListServer::start();
    let dir = tempfile::tempdir().unwrap();
    let out = trust_update(
        dir.path(),
        &[
            "--lotl".into(),
            server.url("EU.xml"),
            "--list".into(),
            format!("PL={}", server.url("PL.xml")),
        ],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("PL list no. 110, 102 services, signature verified"),
        "{text}"
    );
    let lists = corpus().join("dss/trusted-lists");
    for name in ["EU.xml", "PL.xml"] {
        assert_eq!(
            std::fs::read(dir.path().join(name)).unwrap(),
            std::fs::read(lists.join(name)).unwrap(),
            "{name}"
        );
    }
}

#[test]
fn trust_update_writes_nothing_when_the_list_of_lists_is_broken() {
    let server = ListServer::start();
    let dir = tempfile::tempdir().unwrap();
    let out = trust_update(
        dir.path(),
        &[
            "--lotl".into(),
            server.url("eu-lotl_broken-sig.xml"),
            "--list".into(),
            format!("PL={}", server.url("PL.xml")),
        ],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("refused"), "{text}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "{text}");
}

#[test]
fn trust_update_without_a_network_says_so_and_fails() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let out = trust_update(
        dir.path(),
        &["--lotl".into(), format!("http://127.0.0.1:{port}/EU.xml")],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("nie udało się pobrać listy list UE"), "{err}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}
