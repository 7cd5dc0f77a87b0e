//! Online revocation against real servers on loopback (issue 5): an `openssl ocsp` responder
//! signing with the test PKI's `ocsp` certificate, and CRLs made by `openssl ca -gencrl` from
//! the same index, served by `python3 -m http.server`. The signing certificates are made here,
//! issued by the committed `qualified-ca`, with authorityInfoAccess / cRLDistributionPoints
//! naming those servers' ports. After a fetch the same verdicts come offline from the cache.

use chrono::{DateTime, Utc};
use openssl::asn1::{Asn1Integer, Asn1Object, Asn1OctetString, Asn1Time};
use openssl::bn::BigNum;
use openssl::hash::MessageDigest;
use openssl::x509::extension::KeyUsage;
use openssl::x509::{X509Builder, X509Extension, X509NameBuilder, X509};
use podawcza::fixtures::pki;
use podawcza::signature::trust::input::ProofOfExistence;
use podawcza::signature::trust::online::Settings;
use podawcza::signature::trust::{validate, Trust, Validation, ValidationInput};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A server process, stopped when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_listening(port: u16) {
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "server on {port} did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    if content.len() < 0x80 {
        out.push(content.len() as u8);
    } else {
        out.extend([0x82, (content.len() >> 8) as u8, content.len() as u8]);
    }
    out.extend_from_slice(content);
    out
}

fn extension(oid: &str, value: &[u8]) -> X509Extension {
    let oid = Asn1Object::from_str(oid).unwrap();
    let value = Asn1OctetString::new_from_bytes(value).unwrap();
    X509Extension::new_from_der(&oid, false, &value).unwrap()
}

/// A signer issued by the committed qualified CA, naming an OCSP responder and / or a CRL.
fn signer(serial: u32, cn: &str, ocsp: Option<&str>, crl: Option<&str>) -> X509 {
    let p = pki::committed().unwrap();
    let ca = p.get("qualified-ca").unwrap();
    let key = &p.get("qes-signer").unwrap().key;
    let mut name = X509NameBuilder::new().unwrap();
    name.append_entry_by_text("C", "PL").unwrap();
    name.append_entry_by_text("CN", cn).unwrap();
    let name = name.build();
    let mut b = X509Builder::new().unwrap();
    b.set_version(2).unwrap();
    let bn = BigNum::from_u32(serial).unwrap();
    b.set_serial_number(&Asn1Integer::from_bn(&bn).unwrap())
        .unwrap();
    b.set_subject_name(&name).unwrap();
    b.set_issuer_name(ca.cert.subject_name()).unwrap();
    b.set_pubkey(key).unwrap();
    b.set_not_before(&Asn1Time::from_str(pki::NOT_BEFORE).unwrap())
        .unwrap();
    b.set_not_after(&Asn1Time::from_str(pki::NOT_AFTER).unwrap())
        .unwrap();
    b.append_extension(
        KeyUsage::new()
            .critical()
            .non_repudiation()
            .build()
            .unwrap(),
    )
    .unwrap();
    if let Some(url) = ocsp {
        // AuthorityInfoAccess: id-ad-ocsp, uniformResourceIdentifier [6].
        let oid = tlv(0x06, &[0x2b, 6, 1, 5, 5, 7, 48, 1]);
        let ad = tlv(0x30, &[oid, tlv(0x86, url.as_bytes())].concat());
        b.append_extension(extension("1.3.6.1.5.5.7.1.1", &tlv(0x30, &ad)))
            .unwrap();
    }
    if let Some(url) = crl {
        // CRLDistributionPoints: distributionPoint [0] fullName [0] URI [6].
        let point = tlv(0x30, &tlv(0xa0, &tlv(0xa0, &tlv(0x86, url.as_bytes()))));
        b.append_extension(extension("2.5.29.31", &tlv(0x30, &point)))
            .unwrap();
    }
    b.sign(&ca.key, MessageDigest::sha256()).unwrap();
    b.build()
}

/// The CA's database (`openssl ca` index format) for the responder and the CRL.
struct Index {
    dir: tempfile::TempDir,
}

/// Serial numbers of the certificates made here, and the revocation time of the revoked ones.
const GOOD: u32 = 0x5001;
const REVOKED: u32 = 0x5002;
const CRL_GOOD: u32 = 0x5004;
const CRL_REVOKED: u32 = 0x5005;
const REVOKED_AT: &str = "2026-01-01 00:00:00 UTC";

impl Index {
    fn new() -> Index {
        let dir = tempfile::tempdir().unwrap();
        let line = |status: &str, revoked: &str, serial: u32, cn: &str| {
            format!("{status}\t400101000000Z\t{revoked}\t{serial:04X}\tunknown\t/C=PL/CN={cn}\n")
        };
        let index = [
            line("V", "", GOOD, "Online Good"),
            line("R", "260101000000Z", REVOKED, "Online Revoked"),
            line("V", "", CRL_GOOD, "Crl Good"),
            line("R", "260101000000Z", CRL_REVOKED, "Crl Revoked"),
        ]
        .concat();
        std::fs::write(dir.path().join("index.txt"), index).unwrap();
        Index { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `openssl ocsp` on `port`, answers valid for a day (nextUpdate).
    fn responder(&self, port: u16) -> Server {
        let pki = root().join("fixtures/pki");
        let mut child = Command::new("openssl")
            .args(["ocsp", "-index"])
            .arg(self.path("index.txt"))
            .args(["-port", &port.to_string(), "-ndays", "1", "-ignore_err"])
            .arg("-rsigner")
            .arg(pki.join("ocsp.crt.pem"))
            .arg("-rkey")
            .arg(pki.join("ocsp.key.pem"))
            .arg("-CA")
            .arg(pki.join("qualified-ca.crt.pem"))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Not probed by connecting: OpenSSL 3.0's responder hangs on a connection that closes
        // without a request. It says when it listens; the rest of its log is drained.
        let stderr = child.stderr.take().unwrap();
        let mut server = Server(child);
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                if line.contains("waiting for OCSP client connections") {
                    let _ = tx.send(());
                }
            }
        });
        if rx.recv_timeout(Duration::from_secs(10)).is_err() {
            let _ = server.0.kill();
            panic!("openssl ocsp did not start on {port}");
        }
        server
    }

    /// `openssl ca -gencrl` into `www/qualified-ca.crl`, served by `python3 -m http.server`.
    fn crl_server(&self, port: u16) -> Server {
        let pki = root().join("fixtures/pki");
        let www = self.path("www");
        std::fs::create_dir_all(&www).unwrap();
        let cnf = self.path("ca.cnf");
        std::fs::write(
            &cnf,
            format!(
                "[ca]\ndefault_ca = test\n[test]\ndatabase = {}\ndefault_md = sha256\ndefault_crl_days = 1\n",
                self.path("index.txt").display()
            ),
        )
        .unwrap();
        let out = Command::new("openssl")
            .args(["ca", "-gencrl", "-config"])
            .arg(&cnf)
            .arg("-keyfile")
            .arg(pki.join("qualified-ca.key.pem"))
            .arg("-cert")
            .arg(pki.join("qualified-ca.crt.pem"))
            .arg("-out")
            .arg(www.join("qualified-ca.crl"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let child = Command::new("python3")
            .args(["-m", "http.server", "--bind", "127.0.0.1", "--directory"])
            .arg(&www)
            .arg(port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let server = Server(child);
        wait_listening(port);
        server
    }
}

/// The test root as anchor, the qualified CA as cached intermediate, no CRL at hand.
fn trust(cache: &Path, fetch: bool, nonce: bool) -> Trust {
    let p = pki::committed().unwrap();
    let mut t = Trust {
        anchors: vec![p.get("root").unwrap().cert.clone()],
        intermediates: vec![p.get("qualified-ca").unwrap().cert.clone()],
        ..Trust::default()
    };
    t.revocation = Settings {
        fetch,
        cache_dir: Some(cache.to_path_buf()),
        nonce,
        ..Settings::default()
    };
    t.revocation.limits.timeout = Duration::from_secs(2);
    t
}

fn input(cert: &X509, poe: Option<&str>) -> ValidationInput {
    ValidationInput {
        signing_certificate: Some(cert.to_der().unwrap()),
        proofs_of_existence: poe
            .map(|t| ProofOfExistence {
                time: t.parse().unwrap(),
                tsa_certificate: None,
            })
            .into_iter()
            .collect(),
        ..ValidationInput::default()
    }
}

fn verdict(v: &Validation) -> (String, Option<String>) {
    (v.indication.clone(), v.sub_indication.clone())
}

fn passed() -> (String, Option<String>) {
    ("TOTAL_PASSED".into(), None)
}

fn indeterminate(sub: &str) -> (String, Option<String>) {
    ("INDETERMINATE".into(), Some(sub.into()))
}

fn now() -> DateTime<Utc> {
    podawcza::clock::now()
}

#[test]
fn ocsp_good_revoked_and_down_then_the_same_offline_from_the_cache() {
    let index = Index::new();
    let cache = tempfile::tempdir().unwrap();
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/");
    let good = signer(GOOD, "Online Good", Some(&url), None);
    let revoked = signer(REVOKED, "Online Revoked", Some(&url), None);
    {
        let _responder = index.responder(port);
        let online = trust(cache.path(), true, true);
        let v = validate(&input(&good, None), &online, now());
        assert_eq!(verdict(&v), passed(), "{v:?}");
        let v = validate(&input(&revoked, None), &online, now());
        assert_eq!(verdict(&v), indeterminate("REVOKED_NO_POE"), "{v:?}");
        assert!(v.errors[0].contains(REVOKED_AT), "{v:?}");
        // A time-stamp before the revocation keeps it valid; one after it does not.
        let v = validate(
            &input(&revoked, Some("2025-06-01T00:00:00Z")),
            &online,
            now(),
        );
        assert_eq!(verdict(&v), passed(), "{v:?}");
        let v = validate(
            &input(&revoked, Some("2026-02-01T00:00:00Z")),
            &online,
            now(),
        );
        assert_eq!(
            verdict(&v),
            ("TOTAL_FAILED".into(), Some("REVOKED".into())),
            "{v:?}"
        );
    }
    // Both answers are cached, each echoing the 16-byte nonce of its request (RFC 8954).
    let cached: Vec<Vec<u8>> = std::fs::read_dir(cache.path().join("ocsp"))
        .unwrap()
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .collect();
    assert_eq!(cached.len(), 2);
    for der in &cached {
        let nonce = podawcza::signature::trust::online::response_nonce(der);
        assert_eq!(nonce.map(|n| n.len()), Some(16));
    }
    // The responder is gone: the fresh cached answers stand, fetching on or off.
    for fetch in [true, false] {
        let t = trust(cache.path(), fetch, false);
        let v = validate(&input(&good, None), &t, now());
        assert_eq!(verdict(&v), passed(), "fetch {fetch}: {v:?}");
        let v = validate(&input(&revoked, None), &t, now());
        assert_eq!(verdict(&v), indeterminate("REVOKED_NO_POE"), "{v:?}");
    }
    // Two days later the cached answer (nextUpdate: one day) is stale and nobody answers.
    let later = now() + chrono::Duration::days(2);
    let v = validate(
        &input(&good, None),
        &trust(cache.path(), true, false),
        later,
    );
    assert_eq!(verdict(&v), indeterminate("TRY_LATER"), "{v:?}");
    assert!(v.errors[0].contains("not fresh"), "{v:?}");
    assert!(v.errors[0].contains(&url), "{v:?}");
    // Without a cache and with nobody listening: TRY_LATER, saying why.
    let empty = tempfile::tempdir().unwrap();
    let v = validate(
        &input(&good, None),
        &trust(empty.path(), true, false),
        now(),
    );
    assert_eq!(verdict(&v), indeterminate("TRY_LATER"), "{v:?}");
    assert!(v.errors[0].contains(&format!("OCSP {url}")), "{v:?}");
}

#[test]
fn a_responder_that_never_answers_times_out_as_try_later() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // Accepts and holds connections without a word.
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming() {
            held.push(s);
        }
    });
    let url = format!("http://127.0.0.1:{port}/");
    let cert = signer(GOOD, "Online Good", Some(&url), None);
    let cache = tempfile::tempdir().unwrap();
    let start = Instant::now();
    let v = validate(
        &input(&cert, None),
        &trust(cache.path(), true, false),
        now(),
    );
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(verdict(&v), indeterminate("TRY_LATER"), "{v:?}");
    assert!(v.errors[0].contains("no answer within"), "{v:?}");
}

#[test]
fn crls_over_http_then_the_same_offline_from_the_cache() {
    let index = Index::new();
    let cache = tempfile::tempdir().unwrap();
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/qualified-ca.crl");
    let good = signer(CRL_GOOD, "Crl Good", None, Some(&url));
    let revoked = signer(CRL_REVOKED, "Crl Revoked", None, Some(&url));
    {
        let _server = index.crl_server(port);
        let online = trust(cache.path(), true, false);
        let v = validate(&input(&good, None), &online, now());
        assert_eq!(verdict(&v), passed(), "{v:?}");
        let v = validate(&input(&revoked, None), &online, now());
        assert_eq!(verdict(&v), indeterminate("REVOKED_NO_POE"), "{v:?}");
    }
    assert_eq!(
        std::fs::read_dir(cache.path().join("crl")).unwrap().count(),
        1
    );
    let offline = trust(cache.path(), false, false);
    let v = validate(&input(&good, None), &offline, now());
    assert_eq!(verdict(&v), passed(), "{v:?}");
    let v = validate(
        &input(&revoked, Some("2025-06-01T00:00:00Z")),
        &offline,
        now(),
    );
    assert_eq!(verdict(&v), passed(), "{v:?}");
    assert!(
        v.warnings.iter().any(|w| w.contains("stays valid")),
        "{v:?}"
    );
    // A 404 is an error, not a verdict.
    let missing = signer(
        CRL_GOOD,
        "Crl Good",
        None,
        Some(&format!("http://127.0.0.1:{port}/missing.crl")),
    );
    let _server = index.crl_server(port);
    let empty = tempfile::tempdir().unwrap();
    let v = validate(
        &input(&missing, None),
        &trust(empty.path(), true, false),
        now(),
    );
    assert_eq!(verdict(&v), indeterminate("TRY_LATER"), "{v:?}");
    assert!(v.errors[0].contains("HTTP status 404"), "{v:?}");
}
