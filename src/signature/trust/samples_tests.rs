//! Signed samples made with the test PKI (`fixtures/pki/samples/`, written when missing, then
//! kept: tests and `podawcza verify --trust fixtures/pki/anchors` read them) and the golden
//! verdict of each (issue 5 acceptance 3). Also the test trusted list, signed by `tl-signer`.

use super::*;
use crate::fixtures::pki::{self, Pki};
use crate::signature::inspect_validated;
use crate::signature::xml::testkit::{self, Options, TestSigner};
use std::path::{Path, PathBuf};

const DOC: &str = r#"<?xml version="1.0" encoding="UTF-8"?><wniosek xmlns="urn:podawcza:test"><tresc>Proszę o wydanie odpisu aktu urodzenia.</tresc></wniosek>"#;

const PZ: &str = r#"<ppZP:PodpisZP xmlns:ppZP="http://crd.gov.pl/xml/schematy/ppzp/" xmlns:os="http://crd.gov.pl/xml/schematy/osoba/2009/03/06/"><ppZP:DaneZP><ppZP:DaneZPOsobyFizycznej><os:Nazwisko>Testowa</os:Nazwisko><os:Imie>Anna</os:Imie><os:PESEL>02070803628</os:PESEL></ppZP:DaneZPOsobyFizycznej></ppZP:DaneZP></ppZP:PodpisZP>"#;

/// Sample file, signer, expected (indication, sub-indication, kind) at 2026-01-01.
pub const SAMPLES: &[(&str, &str, &str, Option<&str>, &str)] = &[
    ("qes.xml", "qes-signer", "TOTAL_PASSED", None, "qes"),
    ("qseal.xml", "qseal", "TOTAL_PASSED", None, "qualified_seal"),
    (
        "podpis-zaufany.xml",
        "pz-seal",
        "TOTAL_PASSED",
        None,
        "trusted_profile",
    ),
    (
        "podpis-osobisty.xml",
        "plid-signer",
        "TOTAL_PASSED",
        None,
        "personal",
    ),
    (
        "advanced.xml",
        "advanced-signer",
        "TOTAL_PASSED",
        None,
        "advanced",
    ),
    (
        "untrusted.xml",
        "untrusted-signer",
        "INDETERMINATE",
        Some("NO_CERTIFICATE_CHAIN_FOUND"),
        "unknown",
    ),
    (
        "revoked.xml",
        "revoked-signer",
        "INDETERMINATE",
        Some("REVOKED_NO_POE"),
        "unknown",
    ),
    (
        "expired.xml",
        "expired-signer",
        "INDETERMINATE",
        Some("OUT_OF_BOUNDS_NO_POE"),
        "unknown",
    ),
    (
        "not-yet-valid.xml",
        "not-yet-valid-signer",
        "TOTAL_FAILED",
        Some("NOT_YET_VALID"),
        "unknown",
    ),
    (
        "weak.xml",
        "weak-signer",
        "INDETERMINATE",
        Some("CRYPTO_CONSTRAINTS_FAILURE"),
        "unknown",
    ),
];

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/pki")
}

fn signer(p: &Pki, name: &str) -> TestSigner {
    let e = p.get(name).unwrap();
    TestSigner {
        key: e.key.clone(),
        cert: e.cert.clone(),
    }
}

/// The sample's bytes: read, or made and written when missing (ECDSA is randomised, so a
/// sample is never rewritten).
fn sample(p: &Pki, file: &str, who: &str) -> Vec<u8> {
    let path = dir().join("samples").join(file);
    if let Ok(b) = std::fs::read(&path) {
        return b;
    }
    let opts = Options {
        claimed_role: (who == "pz-seal").then(|| PZ.to_string()),
        ..Options::default()
    };
    let xml = testkit::sign(DOC, &signer(p, who), &opts);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, &xml).unwrap();
    xml.into_bytes()
}

fn trust() -> Trust {
    let p = pki::committed().unwrap();
    let settings = KindSettings {
        personal_root_sha256: vec![cert::sha256_hex(&p.get("plid-root").unwrap().cert)],
        ..KindSettings::default()
    };
    let mut t = Trust::load_dir(&dir().join("anchors"), settings).unwrap();
    let list = std::fs::read(dir().join("trusted-list.xml")).unwrap();
    let tl_signer = p.get("tl-signer").unwrap().cert.clone();
    t.lists
        .push(tl::load::load("trusted-list.xml", &list, Some(&[tl_signer])).unwrap());
    t
}

#[test]
fn the_test_trusted_list_is_signed_by_the_test_tl_signer() {
    let p = pki::committed().unwrap();
    let path = dir().join("trusted-list.xml");
    let have = std::fs::read_to_string(&path).unwrap();
    if !have.contains("<ds:Signature") {
        let signed = testkit::sign(&have, &signer(&p, "tl-signer"), &Options::default());
        std::fs::write(&path, signed).unwrap();
    }
    let t = trust();
    assert_eq!(
        t.lists.first().unwrap().signature,
        tl::SignatureCheck::Verified
    );
}

#[test]
fn every_sample_gets_its_golden_verdict() {
    let p = pki::committed().unwrap();
    let t = trust();
    let at = input::parse_time("2026-01-01T00:00:00Z").unwrap();
    for (file, who, indication, sub, kind) in SAMPLES {
        let bytes = sample(&p, file, who);
        let r = inspect_validated(file, "application/xml", &bytes, &|_| None, &t, at);
        let s = r.signatures.first().unwrap();
        assert_eq!(
            (
                s.indication.as_deref(),
                s.sub_indication.as_deref(),
                s.kind.as_str()
            ),
            (Some(*indication), *sub, *kind),
            "{file}: {:?} {:?}",
            s.errors,
            s.warnings
        );
    }
}

#[test]
fn the_expired_sample_was_valid_while_its_certificate_was() {
    let p = pki::committed().unwrap();
    let bytes = sample(&p, "expired.xml", "expired-signer");
    let at = input::parse_time("2020-06-01T00:00:00Z").unwrap();
    let r = inspect_validated(
        "expired.xml",
        "application/xml",
        &bytes,
        &|_| None,
        &trust(),
        at,
    );
    let s = r.signatures.first().unwrap();
    assert_eq!(
        (s.indication.as_deref(), s.kind.as_str()),
        (Some("TOTAL_PASSED"), "qes")
    );
}
