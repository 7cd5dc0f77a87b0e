//! Golden reports of the XML verifier (issue 3, acceptance 1; STYLE.md "Golden files"): each
//! fixture has its expected report beside it as `<case>.expected.json`; on a mismatch the test
//! writes the actual one next to it as `<case>.actual.json` and fails, and `PODAWCZA_ACCEPT=1`
//! accepts the actual reports as the new expectations.
//!
//! Own fixtures live in `fixtures/signed/xades/` and are made with the project's test PKI by
//! `podawcza fixtures xades fixtures/signed/xades` (`src/fixtures/xades.rs`). The corpus goldens
//! (`fixtures/expected/corpus/`) are checked in `xml_corpus.rs` with the helpers of this file.

use podawcza::signature::report::Report;
use podawcza::signature::xml::asic::{is_asic, verify_asic};
use podawcza::signature::xml::verify_xml;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Whether `PODAWCZA_ACCEPT` asks to accept the actual reports.
pub fn accepting() -> bool {
    std::env::var_os("PODAWCZA_ACCEPT").is_some_and(|v| v != "0" && !v.is_empty())
}

/// `x.expected.json` → `x.actual.json`.
fn actual_path(expected: &Path) -> PathBuf {
    let name = expected
        .file_name()
        .map(|n| {
            n.to_string_lossy()
                .replace(".expected.json", ".actual.json")
        })
        .unwrap_or_else(|| "report.actual.json".into());
    expected.with_file_name(name)
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap() + "\n"
}

/// The stored expectation at `expected`, if any.
pub fn read_expected(expected: &Path) -> Option<Value> {
    let text = std::fs::read_to_string(expected).ok()?;
    serde_json::from_str(&text).ok()
}

/// Compares `actual` with the expectation file: `Err` with a one-line reason on a mismatch (the
/// actual value is then written beside it), or stores it when accepting.
pub fn compare(expected: &Path, actual: &Value) -> Result<(), String> {
    let beside = actual_path(expected);
    if accepting() {
        if let Some(dir) = expected.parent() {
            std::fs::create_dir_all(dir).unwrap();
        }
        std::fs::write(expected, pretty(actual)).unwrap();
        let _ = std::fs::remove_file(&beside);
        return Ok(());
    }
    match read_expected(expected) {
        Some(stored) if &stored == actual => {
            let _ = std::fs::remove_file(&beside);
            Ok(())
        }
        stored => {
            if let Some(dir) = beside.parent() {
                std::fs::create_dir_all(dir).unwrap();
            }
            std::fs::write(&beside, pretty(actual)).unwrap();
            let why = if stored.is_some() {
                "differs"
            } else {
                "has no expectation"
            };
            Err(format!(
                "{} {why}: see {} (PODAWCZA_ACCEPT=1 accepts)",
                expected.display(),
                beside.display()
            ))
        }
    }
}

/// This repository's own signed fixtures.
fn own_dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/signed/xades"
    ))
}

/// Verifies an own fixture as the intake would: ASiC whole, XML with the other files of the
/// folder as the submission's detached documents.
fn verify_own(dir: &Path, name: &str) -> Report {
    let bytes = std::fs::read(dir.join(name)).unwrap();
    if is_asic(&bytes) {
        return verify_asic(name, &bytes);
    }
    let detached = |other: &str| {
        let plain = !other.is_empty() && !other.contains('/') && other != name;
        plain.then(|| std::fs::read(dir.join(other)).ok()).flatten()
    };
    verify_xml(name, &bytes, &detached)
}

/// The signed files of the own fixture folder (the detached `wniosek.pdf` is data, not a case).
fn own_cases(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".xml") || n.ends_with(".XAdES") || n.ends_with(".asice"))
        .collect();
    names.sort();
    names
}

fn envelope(report: &Report, note: Option<&str>) -> Value {
    let mut v = serde_json::json!({ "report": report });
    if let Some(note) = note {
        v["note"] = Value::String(note.to_string());
    }
    v
}

#[test]
fn own_xades_fixtures_match_their_expected_reports() {
    let dir = own_dir();
    let cases = own_cases(&dir);
    assert!(cases.len() >= 9, "fixtures missing in {}", dir.display());
    let mut failures = Vec::new();
    for name in &cases {
        let expected = dir.join(format!("{name}.expected.json"));
        let note = read_expected(&expected)
            .and_then(|v| v.get("note").and_then(Value::as_str).map(str::to_string));
        let actual = envelope(&verify_own(&dir, name), note.as_deref());
        if let Err(e) = compare(&expected, &actual) {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// What each own fixture must show, whatever the goldens say (so an accepted golden cannot
/// silently turn an attack into a pass).
#[test]
fn own_xades_fixtures_have_the_verdicts_they_were_made_for() {
    let dir = own_dir();
    let only = |name: &str| {
        let r = verify_own(&dir, name);
        assert!(r.error.is_none(), "{name}: {:?}", r.error);
        assert_eq!(r.signatures.len(), 1, "{name}");
        r.signatures.into_iter().next().unwrap()
    };
    for name in [
        "enveloped-qes.xml",
        "enveloping.xml",
        "wniosek.pdf.XAdES",
        "podpis-zaufany.xml",
        "ep-signature.xml",
        "asic-e.asice",
    ] {
        let s = only(name);
        assert_eq!(s.intact, Some(true), "{name}: {:?}", s.errors);
        assert_eq!(
            s.sub_indication.as_deref(),
            Some("NO_CERTIFICATE_CHAIN_FOUND"),
            "{name}"
        );
        // Enveloping signs the ds:Object, not a document of its own.
        let whole = s.signed_data.iter().any(|d| d.whole_file);
        assert_eq!(
            whole,
            name != "enveloping.xml",
            "{name}: {:?}",
            s.signed_data
        );
    }
    let pair = only("wniosek.pdf.XAdES");
    assert_eq!(
        pair.signed_data.first().map(|d| d.name.as_str()),
        Some("wniosek.pdf")
    );
    let pz = only("podpis-zaufany.xml").signer.unwrap();
    assert_eq!(pz.pesel.as_deref(), Some("44051401458"));
    assert_eq!(pz.epuap_account.as_deref(), Some("jan_testowy"));
    let ep = only("ep-signature.xml").signer.unwrap();
    assert_eq!(ep.surname.as_deref(), Some("Testowa"));
    let key = only("key-substitution.xml");
    assert_eq!(key.intact, Some(false));
    assert_eq!(
        key.sub_indication.as_deref(),
        Some("NO_SIGNING_CERTIFICATE_FOUND")
    );
    let altered = only("altered-content.xml");
    assert_eq!(altered.sub_indication.as_deref(), Some("HASH_FAILURE"));
    let dup = only("wrapping-duplicate-id.xml");
    assert_eq!(dup.intact, Some(false));
    let moved = only("wrapping-moved-element.xml");
    assert!(
        moved.intact != Some(true) || !moved.signed_data.iter().any(|d| d.whole_file),
        "{moved:?}"
    );
}

/// What `xmlsec1 --verify` says about an own fixture: `Some(true)` OK, `Some(false)` FAIL,
/// `None` an error (it could not even try).
fn xmlsec1_says(path: &Path) -> Option<bool> {
    let out = std::process::Command::new("xmlsec1")
        .args(["--verify", "--insecure", "--enabled-key-data", "x509"])
        .args([
            "--id-attr:Id",
            "http://uri.etsi.org/01903/v1.3.2#:SignedProperties",
        ])
        .args(["--id-attr:Id", "urn:podawcza:test:wniosek:Dane"])
        .args(["--id-attr:Id", "http://www.w3.org/2000/09/xmldsig#:Object"])
        .arg(path)
        .output()
        .expect("xmlsec1 is required for this test: apt-get install -y xmlsec1");
    let text =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    let verdict = text
        .lines()
        .map(str::trim)
        .find(|l| *l == "OK" || *l == "FAIL");
    match verdict {
        Some("OK") => Some(true),
        Some("FAIL") => Some(false),
        _ => None,
    }
}

/// Issue 3 acceptance 3 on our own fixtures: xmlsec1 (core XML-DSig only) accepts the valid
/// enveloped and enveloping ones and rejects the altered one; what it cannot see (the
/// SigningCertificate binding, ambiguous Ids) is ours alone to catch.
#[test]
fn xmlsec1_accepts_our_valid_fixtures_and_rejects_the_altered_one() {
    let dir = own_dir();
    for name in [
        "enveloped-qes.xml",
        "enveloping.xml",
        "podpis-zaufany.xml",
        "ep-signature.xml",
    ] {
        assert_eq!(xmlsec1_says(&dir.join(name)), Some(true), "{name}");
    }
    assert_eq!(xmlsec1_says(&dir.join("altered-content.xml")), Some(false));
    // Key substitution is core-valid (the attacker signed with his own key): only the XAdES
    // SigningCertificateV2 binding, which xmlsec1 does not check, exposes it.
    assert_eq!(xmlsec1_says(&dir.join("key-substitution.xml")), Some(true));
    // A duplicated Id: xmlsec1 refuses the document (error or FAIL), never OK.
    assert_ne!(
        xmlsec1_says(&dir.join("wrapping-duplicate-id.xml")),
        Some(true)
    );
}

/// The committed fixtures are exactly what the generator makes from the committed test PKI
/// (fixed signing time, RSA PKCS#1 v1.5, fixed ZIP times): nobody edits them by hand.
#[test]
fn committed_xades_fixtures_are_what_the_generator_makes() {
    let pki = podawcza::fixtures::pki::committed().unwrap();
    let dir = own_dir();
    for (name, bytes) in podawcza::fixtures::xades::cases(&pki).unwrap() {
        let committed = std::fs::read(dir.join(&name)).unwrap_or_default();
        assert!(
            committed == bytes,
            "{name} differs from the generator: podawcza fixtures xades {}",
            dir.display()
        );
    }
}
