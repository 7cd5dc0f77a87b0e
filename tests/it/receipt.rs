//! The receipt (UPP, issue 7): the PDF read back by `pdftotext` (Debian poppler-utils) and by
//! `podawcza verify`; the sealed XML verified by the project's verifier against the test PKI and
//! by `xmlsec1`, and an altered copy refused by both. Outputs are kept in
//! `target/test-artifacts/receipt/`.

use chrono::TimeZone;
use podawcza::config::{ReceiptConfig, TrustConfig};
use podawcza::receipt::{self, Receipt, ReceiptDocument, Seal};
use podawcza::signature::trust::Trust;
use std::path::{Path, PathBuf};
use std::process::Command;

const TZ: chrono_tz::Tz = chrono_tz::Europe::Warsaw;

/// A file name with markup characters and Polish letters (must come back exactly).
const TRICKY_NAME: &str = "Wniosek <pilny> & \"zażółć gęślą jaźń\" ŻÓŁW.pdf";

fn artifacts() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/test-artifacts/receipt");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn pki() -> PathBuf {
    crate::common::fixtures().join("pki")
}

fn sha256(data: &str) -> String {
    podawcza::storage::blobs::sha256_hex(data.as_bytes())
}

fn receipt(documents: usize) -> Receipt {
    let utc = chrono::Utc;
    let mut docs = vec![
        ReceiptDocument {
            name: TRICKY_NAME.into(),
            sha256: sha256("a"),
            size: 48_213,
            verdict: "Podpis kwalifikowany — ważny. Podpisał: Jan Kowalski, 20.04.2020 10:11"
                .into(),
        },
        ReceiptDocument {
            name: "skan dowodu.jpg".into(),
            sha256: sha256("b"),
            size: 2,
            verdict: "Brak podpisu".into(),
        },
    ];
    for i in docs.len()..documents {
        docs.push(ReceiptDocument {
            name: format!("załącznik nr {i}.pdf"),
            sha256: sha256(&i.to_string()),
            size: 1_000 * i as i64,
            verdict: "Podpis niepoprawny: dokument zmieniono po podpisaniu".into(),
        });
    }
    docs.truncate(documents);
    Receipt {
        office: "Urząd Miejski w Gliwicach".into(),
        registration_number: "RPW/1234/2026".into(),
        submission_id: "0193a7c2-5d1e-7f00-8a1b-2c3d4e5f6a7b".into(),
        channel: "upload".into(),
        received_at: utc.with_ymd_and_hms(2026, 3, 14, 9, 30, 5).unwrap(),
        issued_at: utc.with_ymd_and_hms(2026, 3, 14, 9, 30, 7).unwrap(),
        sender_email: Some("jan.kowalski@example.pl".into()),
        subject: Some("Wniosek o wymianę dowodu osobistego".into()),
        access_code: Some("K7QM-3XWD".into()),
        status_url: Some("https://podawcza.gliwice.eu/status".into()),
        department: Some("Wydział Spraw Obywatelskich".into()),
        documents: docs,
    }
}

/// The demo seal: the test PKI's qualified seal, with the qualified CA as its chain (as a
/// production certificate file would carry it).
fn seal() -> Seal {
    let dir = tempfile::tempdir().unwrap();
    let chain = dir.path().join("seal-chain.pem");
    let mut pem = std::fs::read(pki().join("qseal.crt.pem")).unwrap();
    pem.extend(std::fs::read(pki().join("qualified-ca.crt.pem")).unwrap());
    std::fs::write(&chain, pem).unwrap();
    let cfg = ReceiptConfig {
        seal_key: pki().join("qseal.key.pem").display().to_string(),
        seal_cert: chain.display().to_string(),
    };
    Seal::load(&cfg).unwrap().unwrap()
}

/// The seal as the demo config names it: the certificate alone, no chain.
fn seal_without_chain() -> Seal {
    let cfg = ReceiptConfig {
        seal_key: pki().join("qseal.key.pem").display().to_string(),
        seal_cert: pki().join("qseal.crt.pem").display().to_string(),
    };
    Seal::load(&cfg).unwrap().unwrap()
}

/// The text of a PDF as poppler reads it; poppler must not complain about its structure
/// (`pdfinfo` reports a broken xref table as "Internal Error: xref num N not found").
fn pdftotext(pdf: &Path) -> String {
    let info = Command::new("pdfinfo").arg(pdf).output().unwrap();
    assert!(
        info.status.success() && info.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&info.stderr)
    );
    let out = Command::new("pdftotext")
        .args(["-enc", "UTF-8"])
        .arg(pdf)
        .arg("-")
        .output()
        .expect("pdftotext (Debian poppler-utils; scripts/lib/setup.sh installs it)");
    // poppler reports a broken xref table or object as "Syntax Error" (and then repairs it).
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn a_receipt_of_many_documents_runs_over_several_pages_poppler_reads_cleanly() {
    let r = receipt(40);
    let path = artifacts().join("receipt-40.pdf");
    std::fs::write(&path, receipt::pdf(&r, TZ)).unwrap();
    let info = Command::new("pdfinfo").arg(&path).output().unwrap();
    let said = String::from_utf8_lossy(&info.stdout);
    assert!(
        info.status.success() && info.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&info.stderr)
    );
    let pages: usize = said
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(pages >= 3, "{said}");
    assert!(
        said.contains("Urzędowe poświadczenie przedłożenia RPW/1234/2026"),
        "{said}"
    );
    let text = pdftotext(&path);
    for d in &r.documents {
        assert!(
            text.contains(&format!("SHA-256: {}", d.sha256)),
            "{}",
            d.sha256
        );
    }
    assert!(
        text.contains(&format!("strona {pages} z {pages}")),
        "{text}"
    );
}

#[test]
fn the_pdf_receipt_reads_back_exactly_through_pdftotext() {
    let mut r = receipt(3);
    // Every letter of the encoding beyond ASCII, in words short enough for one line.
    let letters = "ĄĆĘŁŃÓŚŹŻ ąćęłńóśźż ŠŤŽšťžĽľŔŕÁáÂâĂăÄäĹĺÇçČčÉéËëĚěÍíÎîĎďĐđŇňÔôŐőÖöŘřŮůÚúŰűÜüÝýŢţßŞş €‚„…†‡‰‹›‘’“”•–—™ ˇ˘¤¦§¨©«¬®°±˛´µ¶·¸»˝×÷˙";
    r.documents[2].name = letters.into();
    let pdf = receipt::pdf(&r, TZ);
    let path = artifacts().join("receipt.pdf");
    std::fs::write(&path, &pdf).unwrap();
    let text = pdftotext(&path);
    std::fs::write(artifacts().join("receipt.pdf.txt"), &text).unwrap();
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    for expected in [
        "Urząd Miejski w Gliwicach",
        "Urzędowe poświadczenie przedłożenia",
        "Numer w rejestrze (RPW): RPW/1234/2026",
        "Data i godzina wpływu: 14.03.2026 10:30:05 CET (UTC+01:00)",
        "Data i godzina sporządzenia poświadczenia: 14.03.2026 10:30:07 CET (UTC+01:00)",
        "Sposób wniesienia: formularz na stronie internetowej urzędu",
        "Wydział: Wydział Spraw Obywatelskich",
        "Kod dostępu: K7QM-3XWD",
        "Adres: https://podawcza.gliwice.eu/status",
        "Dokumenty (3)",
        &format!("1. {TRICKY_NAME}"),
        &format!("SHA-256: {}", sha256("a")),
        "Rozmiar: 48 213 bajtów",
        "Rozmiar: 2 bajty",
        "Wynik weryfikacji: Brak podpisu",
    ] {
        assert!(lines.contains(&expected), "{expected:?} not in:\n{text}");
    }
    for word in letters.split(' ') {
        assert!(text.contains(word), "{word:?} not in:\n{text}");
    }
}

#[test]
fn the_pdf_receipt_is_an_unsigned_pdf_to_our_own_verifier() {
    let path = artifacts().join("receipt-verify.pdf");
    std::fs::write(&path, receipt::pdf(&receipt(2), TZ)).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_podawcza"))
        .args(["verify", "--json"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(report["error"].is_null(), "{report}");
    assert_eq!(
        report["signatures"].as_array().map(Vec::len),
        Some(0),
        "{report}"
    );
    assert_eq!(report["container"], "pdf", "{report}");
}

/// The test PKI as trust material: the anchors, the test trusted list and its signer.
fn trust() -> Trust {
    let cfg = TrustConfig {
        anchors_dir: pki().join("anchors").display().to_string(),
        trusted_lists: vec![pki().join("trusted-list.xml").display().to_string()],
        list_signers: vec![pki().join("tl-signer.crt.pem").display().to_string()],
        ..TrustConfig::default()
    };
    Trust::from_config(&cfg, None).unwrap().0
}

/// (intact, indication, kind) of the first signature, as the pipeline would record them.
fn our_verdict(name: &str, xml: &str, at: chrono::DateTime<chrono::Utc>) -> (bool, String, String) {
    let r = podawcza::signature::inspect_validated(
        name,
        "application/xml",
        xml.as_bytes(),
        &|_| None,
        &trust(),
        at,
    );
    let s = r.signatures.first().unwrap_or_else(|| panic!("{r:?}"));
    (
        s.intact == Some(true),
        s.indication.clone().unwrap_or_default(),
        s.kind.clone(),
    )
}

/// What `xmlsec1 --verify` says, with the test root as the only trusted certificate (and the
/// qualified CA as an untrusted intermediate when `intermediate`: the signature may not carry it).
fn xmlsec1(path: &Path, intermediate: bool) -> (bool, String) {
    let mut cmd = Command::new("xmlsec1");
    cmd.args([
        "--verify",
        "--id-attr:Id",
        "SignedProperties",
        "--trusted-pem",
    ])
    .arg(pki().join("root.crt.pem"));
    if intermediate {
        cmd.arg("--untrusted-pem")
            .arg(pki().join("qualified-ca.crt.pem"));
    }
    let out = cmd
        .arg(path)
        .output()
        .expect("xmlsec1 (scripts/lib/setup.sh installs it)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (
        out.status.success() && text.lines().any(|l| l.trim() == "OK"),
        text,
    )
}

#[test]
fn the_sealed_xml_receipt_verifies_with_ours_and_xmlsec1_and_an_altered_copy_does_not() {
    let r = receipt(10);
    let seal = seal();
    let started = std::time::Instant::now();
    let sealed = receipt::sealed_xml(&r, TZ, &seal).unwrap();
    let sealing = started.elapsed();
    let started = std::time::Instant::now();
    let pdf = receipt::pdf(&r, TZ);
    let printing = started.elapsed();
    println!(
        "10-document receipt: sealed_xml {sealing:?}, pdf {printing:?} ({} bytes XML, {} bytes PDF)",
        sealed.len(),
        pdf.len()
    );
    let path = artifacts().join("receipt.xml");
    std::fs::write(&path, &sealed).unwrap();

    assert_eq!(
        our_verdict("receipt.xml", &sealed, r.issued_at),
        (true, "TOTAL_PASSED".into(), "qualified_seal".into())
    );
    let (ok, said) = xmlsec1(&path, false);
    assert!(ok, "xmlsec1 refused the receipt:\n{said}");

    let altered = sealed.replacen("RPW/1234/2026", "RPW/1235/2026", 1);
    assert_ne!(altered, sealed);
    let altered_path = artifacts().join("receipt-altered.xml");
    std::fs::write(&altered_path, &altered).unwrap();
    let (intact, indication, _) = our_verdict("receipt-altered.xml", &altered, r.issued_at);
    assert!(!intact && indication == "TOTAL_FAILED", "{indication}");
    let (ok, said) = xmlsec1(&altered_path, false);
    assert!(!ok, "xmlsec1 accepted the altered receipt:\n{said}");
}

#[test]
fn a_seal_without_its_chain_in_the_file_still_verifies_with_the_intermediate_known() {
    let r = receipt(1);
    let sealed = receipt::sealed_xml(&r, TZ, &seal_without_chain()).unwrap();
    assert_eq!(sealed.matches("<ds:X509Certificate>").count(), 1);
    let path = artifacts().join("receipt-no-chain.xml");
    std::fs::write(&path, &sealed).unwrap();
    assert_eq!(
        our_verdict("receipt-no-chain.xml", &sealed, r.issued_at),
        (true, "TOTAL_PASSED".into(), "qualified_seal".into())
    );
    let (ok, said) = xmlsec1(&path, false);
    assert!(
        !ok,
        "xmlsec1 found a path without the intermediate:\n{said}"
    );
    let (ok, said) = xmlsec1(&path, true);
    assert!(ok, "xmlsec1 refused the receipt:\n{said}");
}

#[test]
fn a_file_name_with_markup_and_polish_letters_round_trips_through_the_sealed_xml() {
    let r = receipt(2);
    let sealed = receipt::sealed_xml(&r, TZ, &seal()).unwrap();
    let back = receipt::xml::read(&sealed).unwrap();
    assert_eq!(back.documents[0].name, TRICKY_NAME);
    assert_eq!(back, r);
}

#[test]
fn the_seal_is_optional_but_never_half_configured() {
    let none = ReceiptConfig::default();
    assert!(Seal::load(&none).unwrap().is_none());
    let half = ReceiptConfig {
        seal_key: pki().join("qseal.key.pem").display().to_string(),
        seal_cert: String::new(),
    };
    assert!(Seal::load(&half).is_err());
    let wrong = ReceiptConfig {
        seal_key: pki().join("qseal.key.pem").display().to_string(),
        seal_cert: pki().join("qes-signer.crt.pem").display().to_string(),
    };
    let e = Seal::load(&wrong).err().unwrap().to_string();
    assert!(e.contains("no certificate matches the private key"), "{e}");
    let plain = ReceiptConfig {
        seal_key: pki().join("qseal.key.pem").display().to_string(),
        seal_cert: pki().join("qseal.crt.pem").display().to_string(),
    };
    let seal = Seal::load(&plain).unwrap().unwrap();
    assert!(
        seal.subject().contains("Gmina Testowa"),
        "{}",
        seal.subject()
    );
}
