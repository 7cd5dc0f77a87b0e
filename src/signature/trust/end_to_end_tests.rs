//! From bytes to report with the validation stage: XAdES signed with the test PKI
//! (`fixtures/pki`), verified by the XML module and validated here (DESIGN.md report contract).

use super::tl::parse::parse;
use super::*;
use crate::fixtures::pki;
use crate::signature::inspect_validated;
use crate::signature::xml::testkit::{self, Options, TestSigner};
use std::path::Path;

const DOC: &str = r#"<?xml version="1.0" encoding="UTF-8"?><wniosek xmlns="urn:test"><tresc>Proszę o odpis aktu urodzenia.</tresc></wniosek>"#;

fn trust(p: &pki::Pki) -> Trust {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/pki/anchors");
    let mut trust = Trust::load_dir(&dir, KindSettings::default()).unwrap();
    trust
        .lists
        .push(parse(&pki::trusted_list(p).unwrap()).unwrap());
    trust
}

fn signed_by(p: &pki::Pki, name: &str, opts: &Options) -> String {
    let e = p.get(name).unwrap();
    let s = TestSigner {
        key: e.key.clone(),
        cert: e.cert.clone(),
    };
    testkit::sign(DOC, &s, opts)
}

fn at() -> chrono::DateTime<chrono::Utc> {
    input::parse_time("2026-01-01T00:00:00Z").unwrap()
}

#[test]
fn a_xades_signed_with_the_qualified_test_certificate_is_a_valid_qes() {
    let p = pki::committed().unwrap();
    let xml = signed_by(&p, "qes-signer", &Options::default());
    let r = inspect_validated(
        "wniosek.xml",
        "application/xml",
        xml.as_bytes(),
        &|_| None,
        &trust(&p),
        at(),
    );
    let s = r.signatures.first().unwrap();
    assert_eq!(
        s.indication.as_deref(),
        Some("TOTAL_PASSED"),
        "{:?}",
        s.errors
    );
    assert_eq!(s.kind, "qes");
    assert_eq!(s.certificate.as_ref().and_then(|c| c.qualified), Some(true));
    assert_eq!(
        s.summary.as_deref(),
        Some("Kwalifikowany podpis elektroniczny: Jan Testowy — ważny.")
    );
    let json = serde_json::to_string(&r).unwrap();
    assert!(!json.contains("validation_input"));
}

#[test]
fn a_xades_sealed_by_the_pz_seal_for_a_citizen_is_a_podpis_zaufany() {
    let p = pki::committed().unwrap();
    let pz = r#"<ppZP:PodpisZP xmlns:ppZP="http://crd.gov.pl/xml/schematy/ppzp/" xmlns:os="http://crd.gov.pl/xml/schematy/osoba/2009/03/06/"><ppZP:DaneZP><ppZP:DaneZPOsobyFizycznej><os:Nazwisko>Testowa</os:Nazwisko><os:Imie>Anna</os:Imie><os:PESEL>02070803628</os:PESEL></ppZP:DaneZPOsobyFizycznej></ppZP:DaneZP></ppZP:PodpisZP>"#;
    let opts = Options {
        claimed_role: Some(pz.into()),
        ..Options::default()
    };
    let xml = signed_by(&p, "pz-seal", &opts);
    let r = inspect_validated(
        "wniosek.xml",
        "application/xml",
        xml.as_bytes(),
        &|_| None,
        &trust(&p),
        at(),
    );
    let s = r.signatures.first().unwrap();
    assert_eq!(
        (s.indication.as_deref(), s.kind.as_str()),
        (Some("TOTAL_PASSED"), "trusted_profile"),
        "{:?}",
        s.errors
    );
    assert_eq!(
        s.summary.as_deref(),
        Some("Podpis zaufany: Anna Testowa — ważny.")
    );
}

#[test]
fn a_xades_altered_after_signing_stays_failed_whatever_the_trust() {
    let p = pki::committed().unwrap();
    let xml = signed_by(&p, "qes-signer", &Options::default()).replace("odpis", "odpiS");
    let r = inspect_validated(
        "wniosek.xml",
        "application/xml",
        xml.as_bytes(),
        &|_| None,
        &trust(&p),
        at(),
    );
    let s = r.signatures.first().unwrap();
    assert_eq!(s.indication.as_deref(), Some("TOTAL_FAILED"));
    assert_eq!(s.sub_indication.as_deref(), Some("HASH_FAILURE"));
    assert_eq!(s.kind, "unknown");
}

#[test]
fn a_cades_signed_with_the_qualified_test_certificate_is_a_valid_qes() {
    use openssl::cms::{CMSOptions, CmsContentInfo};
    let p = pki::committed().unwrap();
    let e = p.get("qes-signer").unwrap();
    let data = "Wniosek o wydanie zaświadczenia.".as_bytes();
    let cms = CmsContentInfo::sign(
        Some(&e.cert),
        Some(&e.key),
        None,
        Some(data),
        CMSOptions::BINARY,
    )
    .unwrap();
    let der = cms.to_der().unwrap();
    let r = inspect_validated(
        "wniosek.txt.p7m",
        "application/pkcs7-mime",
        &der,
        &|_| None,
        &trust(&p),
        at(),
    );
    let s = r.signatures.first().unwrap();
    assert_eq!(s.intact, Some(true), "{:?}", s.errors);
    assert_eq!(
        (s.indication.as_deref(), s.kind.as_str()),
        (Some("TOTAL_PASSED"), "qes"),
        "{:?} {:?}",
        s.errors,
        s.warnings
    );
}

#[test]
fn a_valid_signature_over_part_of_the_file_says_so_to_the_clerk() {
    let p = pki::committed().unwrap();
    let doc = DOC.replace("<tresc>", r#"<tresc Id="t1">"#);
    let e = p.get("qes-signer").unwrap();
    let s = TestSigner {
        key: e.key.clone(),
        cert: e.cert.clone(),
    };
    let opts = Options {
        element_id: Some("t1".into()),
        ..Options::default()
    };
    let xml = testkit::sign(&doc, &s, &opts);
    let r = inspect_validated(
        "wniosek.xml",
        "application/xml",
        xml.as_bytes(),
        &|_| None,
        &trust(&p),
        at(),
    );
    let s = r.signatures.first().unwrap();
    assert_eq!(
        s.indication.as_deref(),
        Some("TOTAL_PASSED"),
        "{:?}",
        s.errors
    );
    assert!(s
        .summary
        .as_deref()
        .unwrap()
        .contains("nie obejmuje całego pliku"));
}
