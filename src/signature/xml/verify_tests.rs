//! End-to-end tests of [`super::verify_xml`] on signatures made by [`super::testkit`]: what a
//! clerk's report says for good, altered, substituted, wrapped, detached and podpis zaufany
//! signatures (W3C XML-DSig §3.2 core validation, EN 319 132-1 §5.2.2 and §6.3).

use super::testkit::{self, Options};
use super::verify_xml;
use crate::signature::report::{Report, SignatureReport};
use base64::Engine;

const DOC: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<wniosek xmlns="urn:test:wniosek"><dane Id="dane-1"><imie>Jan</imie><kwota>100 &amp; 0</kwota></dane></wniosek>"#;

fn none(_: &str) -> Option<Vec<u8>> {
    None
}

fn only(report: &Report) -> &SignatureReport {
    assert_eq!(report.signatures.len(), 1, "{report:?}");
    &report.signatures[0]
}

fn sub(report: &Report) -> Option<&str> {
    only(report).sub_indication.as_deref()
}

#[test]
fn accepts_an_enveloped_rsa_xades_as_intact_but_not_trusted() {
    let signed = testkit::sign(
        DOC,
        &testkit::signer("Jan Kowalski", false),
        &Options::default(),
    );
    let report = verify_xml("wniosek.xml", signed.as_bytes(), &none);
    let s = only(&report);
    assert_eq!(s.intact, Some(true), "{:?}", s.errors);
    assert_eq!(s.format, "XAdES");
    assert_eq!(s.level.as_deref(), Some("B-B"));
    assert_eq!(s.indication.as_deref(), Some("INDETERMINATE"));
    assert_eq!(
        s.sub_indication.as_deref(),
        Some("NO_CERTIFICATE_CHAIN_FOUND")
    );
    assert_eq!(s.signing_time.as_deref(), Some("2020-04-20T10:11:12Z"));
    let signer = s.signer.as_ref().unwrap();
    assert_eq!(signer.pesel.as_deref(), Some("44051401458"));
    assert_eq!(signer.surname.as_deref(), Some("Kowalski"));
    let cert = s.certificate.as_ref().unwrap();
    assert_eq!(cert.not_before, "2020-01-01T00:00:00Z");
    assert_eq!(cert.serial, "12345678");
    assert_eq!(s.signed_data.len(), 1);
    assert!(s.signed_data[0].whole_file);
    assert_eq!(s.signed_data[0].name, "wniosek.xml");
}

#[test]
fn accepts_an_ecdsa_p256_xades_with_a_raw_signature_value() {
    let signed = testkit::sign(DOC, &testkit::signer("EC", true), &Options::default());
    let report = verify_xml("wniosek.xml", signed.as_bytes(), &none);
    assert_eq!(
        only(&report).intact,
        Some(true),
        "{:?}",
        only(&report).errors
    );
}

#[test]
fn rejects_xades_whose_document_was_altered_after_signing() {
    let signed = testkit::sign(DOC, &testkit::signer("A", false), &Options::default());
    let altered = signed.replace("100 &amp; 0", "900 &amp; 0");
    let report = verify_xml("wniosek.xml", altered.as_bytes(), &none);
    assert_eq!(only(&report).intact, Some(false));
    assert_eq!(only(&report).indication.as_deref(), Some("TOTAL_FAILED"));
    assert_eq!(sub(&report), Some("HASH_FAILURE"));
}

#[test]
fn rejects_xades_whose_signature_value_was_altered() {
    let signed = testkit::sign(DOC, &testkit::signer("A", false), &Options::default());
    let start = signed.find("<ds:SignatureValue>").unwrap() + "<ds:SignatureValue>".len();
    let end = signed.find("</ds:SignatureValue>").unwrap();
    let engine = base64::engine::general_purpose::STANDARD;
    let mut value = engine.decode(&signed[start..end]).unwrap();
    value[10] ^= 1;
    let altered = format!(
        "{}{}{}",
        &signed[..start],
        engine.encode(value),
        &signed[end..]
    );
    let report = verify_xml("wniosek.xml", altered.as_bytes(), &none);
    assert_eq!(only(&report).intact, Some(false));
    assert_eq!(sub(&report), Some("SIG_CRYPTO_FAILURE"));
}

#[test]
fn rejects_a_signature_whose_signing_certificate_names_another_certificate() {
    let other = testkit::signer("Other", false).cert;
    let opts = Options {
        other_signing_certificate: Some(other),
        ..Options::default()
    };
    let signed = testkit::sign(DOC, &testkit::signer("A", false), &opts);
    let report = verify_xml("wniosek.xml", signed.as_bytes(), &none);
    assert_eq!(only(&report).intact, Some(false));
    assert_eq!(sub(&report), Some("NO_SIGNING_CERTIFICATE_FOUND"));
}

#[test]
fn reads_the_podpis_zaufany_identity_from_the_claimed_role() {
    let pz = r#"<ppZP:PodpisZP xmlns:ppZP="http://crd.gov.pl/xml/schematy/ppzp/" xmlns:os="http://crd.gov.pl/xml/schematy/osoba/2009/03/06/"><ppZP:DaneZP><ppZP:DaneZPOsobyFizycznej><os:Nazwisko>Testowy</os:Nazwisko><os:Imie>Jan</os:Imie><os:PESEL>00000000000</os:PESEL><ppZP:IdKontaUzytkownikaEpuap>jan_t</ppZP:IdKontaUzytkownikaEpuap></ppZP:DaneZPOsobyFizycznej></ppZP:DaneZP></ppZP:PodpisZP>"#;
    let opts = Options {
        claimed_role: Some(pz.to_string()),
        ..Options::default()
    };
    let signed = testkit::sign(DOC, &testkit::signer("Minister", false), &opts);
    let report = verify_xml("wniosek.xml", signed.as_bytes(), &none);
    let s = only(&report);
    assert_eq!(s.intact, Some(true), "{:?}", s.errors);
    let signer = s.signer.as_ref().unwrap();
    assert_eq!(signer.name.as_deref(), Some("Jan Testowy"));
    assert_eq!(signer.pesel.as_deref(), Some("00000000000"));
    assert_eq!(signer.epuap_account.as_deref(), Some("jan_t"));
}

#[test]
fn verifies_a_detached_pair_by_the_referenced_file_name() {
    let pdf = b"%PDF-1.4 wniosek".to_vec();
    let opts = Options {
        detached: Some(("wniosek.pdf".into(), pdf.clone())),
        ..Options::default()
    };
    let signed = testkit::sign("", &testkit::signer("A", false), &opts);
    let found = |name: &str| (name == "wniosek.pdf").then(|| pdf.clone());
    let report = verify_xml("wniosek.pdf.XAdES", signed.as_bytes(), &found);
    let s = only(&report);
    assert_eq!(s.intact, Some(true), "{:?}", s.errors);
    assert_eq!(s.signed_data[0].name, "wniosek.pdf");
    assert!(s.signed_data[0].whole_file);

    let missing = verify_xml("wniosek.pdf.XAdES", signed.as_bytes(), &none);
    assert_eq!(sub(&missing), Some("SIGNED_DATA_NOT_FOUND"));
    let other = |_: &str| Some(b"%PDF-1.4 inny".to_vec());
    let wrong = verify_xml("wniosek.pdf.XAdES", signed.as_bytes(), &other);
    assert_eq!(sub(&wrong), Some("HASH_FAILURE"));
}

#[test]
fn rejects_a_reference_whose_id_was_duplicated_by_a_wrapping_attack() {
    let opts = Options {
        element_id: Some("dane-1".into()),
        ..Options::default()
    };
    let signed = testkit::sign(DOC, &testkit::signer("A", false), &opts);
    let good = verify_xml("wniosek.xml", signed.as_bytes(), &none);
    assert_eq!(only(&good).intact, Some(true), "{:?}", only(&good).errors);
    assert!(
        !only(&good).signed_data[0].whole_file,
        "an element is not the whole file"
    );

    let wrapped = signed.replace(
        "<wniosek xmlns=\"urn:test:wniosek\">",
        "<wniosek xmlns=\"urn:test:wniosek\"><dane Id=\"dane-1\"><kwota>1</kwota></dane>",
    );
    let report = verify_xml("wniosek.xml", wrapped.as_bytes(), &none);
    assert_eq!(only(&report).intact, Some(false));
    assert_eq!(sub(&report), Some("FORMAT_FAILURE"));
}

#[test]
fn reports_a_document_type_declaration_as_a_file_error() {
    let xml = r#"<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>"#;
    let report = verify_xml("a.xml", xml.as_bytes(), &none);
    assert!(report.error.as_deref().unwrap().contains("DTD"));
    assert!(report.signatures.is_empty());
}

#[test]
fn reports_an_unsigned_document_with_no_signatures() {
    let report = verify_xml("a.xml", DOC.as_bytes(), &none);
    assert_eq!(report.error, None);
    assert!(report.signatures.is_empty());
    assert_eq!(report.container, "xml");
}

/// `xmlsec1 --verify` on a signed document: `Some(true)` OK, `Some(false)` FAIL.
fn xmlsec1_says(xml: &str) -> Option<bool> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("signed.xml");
    std::fs::write(&path, xml).unwrap();
    let out = std::process::Command::new("xmlsec1")
        .args(["--verify", "--insecure", "--enabled-key-data", "x509"])
        .args([
            "--id-attr:Id",
            "http://uri.etsi.org/01903/v1.3.2#:SignedProperties",
        ])
        .arg(&path)
        .output()
        .expect("xmlsec1 is required for this test: apt-get install -y xmlsec1");
    let text =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    if text.lines().any(|l| l.trim() == "OK") {
        Some(true)
    } else if text.lines().any(|l| l.trim() == "FAIL") {
        Some(false)
    } else {
        None
    }
}

#[test]
fn xmlsec1_agrees_on_our_rsa_and_ecdsa_signatures_and_their_alterations() {
    for ec in [false, true] {
        let signed = testkit::sign(DOC, &testkit::signer("Peer", ec), &Options::default());
        assert_eq!(xmlsec1_says(&signed), Some(true), "ec={ec}: {signed}");
        assert_eq!(
            only(&verify_xml("w.xml", signed.as_bytes(), &none)).intact,
            Some(true)
        );
        let altered = signed.replace("<imie>Jan</imie>", "<imie>Ewa</imie>");
        assert_eq!(xmlsec1_says(&altered), Some(false), "ec={ec}");
        assert_eq!(
            only(&verify_xml("w.xml", altered.as_bytes(), &none)).intact,
            Some(false)
        );
    }
}

#[test]
fn an_unsupported_transform_is_indeterminate_with_its_reason() {
    let opts = Options {
        element_id: Some("dane-1".into()),
        element_transform: Some("http://www.w3.org/TR/1999/REC-xslt-19991116".into()),
        ..Options::default()
    };
    let signed = testkit::sign(DOC, &testkit::signer("A", false), &opts);
    let report = verify_xml("w.xml", signed.as_bytes(), &none);
    let s = only(&report);
    assert_eq!(s.intact, Some(false));
    assert_eq!(s.indication.as_deref(), Some("INDETERMINATE"));
    assert_eq!(s.sub_indication.as_deref(), Some("FORMAT_FAILURE"));
    assert!(
        s.errors.iter().any(|e| e.contains("REC-xslt-19991116")),
        "{:?}",
        s.errors
    );
}

#[test]
fn never_panics_on_truncated_or_mangled_input() {
    let signed = testkit::sign(DOC, &testkit::signer("A", true), &Options::default());
    let bytes = signed.as_bytes();
    for cut in (0..bytes.len()).step_by(37) {
        let _ = verify_xml("t.xml", &bytes[..cut], &none);
        let mut mangled = bytes.to_vec();
        mangled[cut] = b'<';
        let _ = verify_xml("m.xml", &mangled, &none);
        mangled[cut] = b'=';
        let _ = verify_xml("m.xml", &mangled, &none);
    }
}

#[test]
fn dispatches_xml_signatures_and_ignores_other_files() {
    let signed = testkit::sign(DOC, &testkit::signer("A", false), &Options::default());
    let report = super::verify("w.xml", signed.as_bytes(), &none).unwrap();
    assert_eq!(only(&report).intact, Some(true));
    assert!(super::verify("w.pdf", b"%PDF-1.7", &none).is_none());
    assert!(super::verify("a.xml", DOC.as_bytes(), &none).is_none());
}
