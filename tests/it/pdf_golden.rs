//! Golden reports of the PDF verifier over the own PDF fixtures (issue 4, acceptance 1;
//! STYLE.md "Golden files"): `fixtures/signed/pdf/<case>` are made by
//! [`podawcza::fixtures::pdf::cases`] with the committed test PKI (deterministic: RSA
//! PKCS#1 v1.5, fixed times), and `fixtures/expected/pdf/<case>.expected.json` hold their
//! reports. On a mismatch the actual report is written beside as `.actual.json` and the test
//! fails; `PODAWCZA_ACCEPT=1` accepts. A second test asserts the verdict each fixture was made
//! for, whatever the goldens say.

use crate::xml_golden::{accepting, compare};
use podawcza::fixtures::{pdf, pki};
use podawcza::signature::cms::verify_cms_family;
use podawcza::signature::Report;
use std::path::{Path, PathBuf};

fn signed_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/signed/pdf")
}

fn expected_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/expected/pdf")
}

fn verify(name: &str) -> Report {
    let bytes = std::fs::read(signed_dir().join(name)).expect("committed fixture");
    verify_cms_family(name, &bytes, &|_| None).expect("a pdf")
}

#[test]
fn committed_pdf_fixtures_are_what_the_fixture_code_makes() {
    let pki = pki::committed().expect("committed test PKI");
    let dir = signed_dir();
    let mut stale = Vec::new();
    for (name, bytes) in pdf::cases(&pki).expect("own PDF fixtures") {
        let path = dir.join(&name);
        if std::fs::read(&path).ok().as_deref() != Some(bytes.as_slice()) {
            if accepting() {
                std::fs::create_dir_all(&dir).expect("mkdir");
                std::fs::write(&path, &bytes).expect("write fixture");
            } else {
                stale.push(name);
            }
        }
    }
    assert!(
        stale.is_empty(),
        "fixtures/signed/pdf differs from src/fixtures/pdf.rs for {stale:?}: run with PODAWCZA_ACCEPT=1"
    );
}

#[test]
fn own_pdf_fixtures_match_their_expected_reports() {
    let pki = pki::committed().expect("committed test PKI");
    let mut failures = Vec::new();
    for (name, _) in pdf::cases(&pki).expect("own PDF fixtures") {
        let report = serde_json::to_value(verify(&name)).expect("json");
        let expected = expected_dir().join(format!("{name}.expected.json"));
        if let Err(e) = compare(&expected, &report) {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Each fixture's verdict: intact, and the errors ("modified after signing: ...") it must or
/// must not carry, and its level.
#[test]
fn own_pdf_fixtures_have_the_verdicts_they_were_made_for() {
    let modified = |name: &str, why: &str| {
        let r = verify(name);
        let s = &r.signatures[0];
        assert_eq!(s.intact, Some(true), "{name}: {s:?}");
        assert!(
            s.errors
                .iter()
                .any(|e| e.starts_with("modified after signing") && e.contains(why)),
            "{name}: {:?}",
            s.errors
        );
        assert_ne!(s.indication.as_deref(), Some("TOTAL_PASSED"), "{name}");
    };
    let clean = |name: &str, signatures: usize, level: &str| {
        let r = verify(name);
        assert!(r.error.is_none(), "{name}: {:?}", r.error);
        assert_eq!(r.signatures.len(), signatures, "{name}");
        for s in &r.signatures {
            assert_eq!(s.intact, Some(true), "{name}: {s:?}");
            assert!(s.errors.is_empty(), "{name}: {:?}", s.errors);
        }
        assert_eq!(r.signatures[0].level.as_deref(), Some(level), "{name}");
        r
    };
    clean("signed.pdf", 1, "B-B");
    clean("signed-incremental.pdf", 1, "B-B");
    clean("signed-twice.pdf", 2, "B-B");
    clean("form-filled-after-signing.pdf", 1, "B-B");
    clean("certified-p2-form-filled.pdf", 1, "B-B");
    clean("fieldmdp-exclude-form-filled.pdf", 1, "B-B");
    clean("timestamped.pdf", 1, "B-T");
    clean("lta.pdf", 1, "B-LTA");
    // Its only time-stamp does not stamp this document: no B-T, so neither B-LT nor B-LTA.
    let broken = clean("lta-stamp-broken.pdf", 1, "B-B");
    assert!(
        broken
            .warnings
            .iter()
            .any(|w| w.contains("document time-stamp") && w.contains("not intact")),
        "{:?}",
        broken.warnings
    );
    let pz = clean("podpis-zaufany.pdf", 1, "B-B");
    let citizen = pz.signatures[0].signer.clone().unwrap_or_default();
    assert_eq!(citizen.pesel.as_deref(), Some("44051401458"), "{citizen:?}");
    modified("changed-after-signing.pdf", "/Contents");
    modified("annotation-after-signing.pdf", "annotation");
    modified("certified-p1-form-filled.pdf", "no changes permitted");
    modified("fieldmdp-include-form-filled.pdf", "FieldMDP");
}
