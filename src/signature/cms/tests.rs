//! End-to-end tests of the CMS verifier over SignedData made at test time (RFC 5652 §5.4,
//! RFC 5035 §3, RFC 3161, RFC 5652 §11.4).

use super::oids;
use super::testkit::{self, Options};
use super::verify_cades;
use crate::signature::report::{Report, SignatureReport};
use openssl::cms::{CMSOptions, CmsContentInfo};
use std::sync::OnceLock;

fn pki() -> &'static testkit::Pki {
    static PKI: OnceLock<testkit::Pki> = OnceLock::new();
    PKI.get_or_init(testkit::pki)
}

const DATA: &[u8] = b"Wniosek o wydanie dowodu osobistego\n";

fn verify(name: &str, bytes: &[u8], data: Option<&[u8]>) -> Report {
    let resolve = |n: &str| {
        (n == "wniosek.txt")
            .then(|| data.map(<[u8]>::to_vec))
            .flatten()
    };
    verify_cades(name, bytes, &resolve).expect("cms")
}

fn only(report: &Report) -> &SignatureReport {
    assert_eq!(report.signatures.len(), 1, "{report:?}");
    &report.signatures[0]
}

#[test]
fn an_enveloping_signature_with_ess_v2_is_intact_but_not_trusted() {
    let cms = testkit::sign(pki(), &pki().rsa, DATA, &Options::default());
    let report = verify("wniosek.txt.p7m", &cms, None);
    let s = only(&report);
    assert_eq!(s.intact, Some(true), "{s:?}");
    assert_eq!(s.indication.as_deref(), Some("INDETERMINATE"));
    assert_eq!(
        s.sub_indication.as_deref(),
        Some("NO_CERTIFICATE_CHAIN_FOUND")
    );
    assert_eq!(s.format, "CAdES");
    assert_eq!(s.level.as_deref(), Some("B-B"));
    assert_eq!(s.signing_time.as_deref(), Some("2020-04-20T10:11:12Z"));
    let signer = s.signer.as_ref().unwrap();
    assert_eq!(signer.name.as_deref(), Some("Jan Kowalski"));
    assert_eq!(signer.pesel.as_deref(), Some("44051401458"));
    assert!(s.signed_data[0].whole_file);
}

#[test]
fn a_detached_signature_is_paired_with_its_data_file_by_name() {
    let opts = Options {
        detached: true,
        ..Options::default()
    };
    let cms = testkit::sign(pki(), &pki().ec, DATA, &opts);
    let s = only(&verify("wniosek.txt.p7s", &cms, Some(DATA))).clone();
    assert_eq!(s.intact, Some(true), "{s:?}");
    assert_eq!(s.signed_data[0].name, "wniosek.txt");
    let missing = only(&verify("wniosek.txt.p7s", &cms, None)).clone();
    assert_eq!(missing.intact, Some(false));
    assert_eq!(
        missing.sub_indication.as_deref(),
        Some("SIGNED_DATA_NOT_FOUND")
    );
}

#[test]
fn rejects_a_signature_whose_content_was_altered() {
    let opts = Options {
        detached: true,
        ..Options::default()
    };
    let cms = testkit::sign(pki(), &pki().rsa, DATA, &opts);
    let s = only(&verify(
        "wniosek.txt.p7s",
        &cms,
        Some(b"Wniosek o cos innego\n"),
    ))
    .clone();
    assert_eq!(s.intact, Some(false));
    assert_eq!(s.indication.as_deref(), Some("TOTAL_FAILED"));
    assert_eq!(s.sub_indication.as_deref(), Some("HASH_FAILURE"));
}

#[test]
fn verifies_signed_attributes_exactly_as_received_in_non_der_order() {
    let opts = Options {
        reorder: true,
        key_id: true,
        ..Options::default()
    };
    let cms = testkit::sign(pki(), &pki().ec, DATA, &opts);
    let s = only(&verify("x.p7m", &cms, None)).clone();
    assert_eq!(s.intact, Some(true), "{s:?}");
}

#[test]
fn verifies_attributes_sent_out_of_order_but_signed_in_der_order() {
    let cms = sent_reordered();
    let s = only(&verify("x.p7m", &cms, None)).clone();
    assert_eq!(s.intact, Some(true), "{s:?}");
    assert!(s.warnings.iter().any(|w| w.contains("DER order")), "{s:?}");
}

#[test]
fn rejects_a_signature_value_that_was_altered() {
    let mut cms = testkit::sign(pki(), &pki().rsa, DATA, &Options::default());
    let at = cms.len() - 10;
    cms[at] ^= 1;
    let s = only(&verify("x.p7m", &cms, None)).clone();
    assert_eq!(s.intact, Some(false));
    assert_eq!(s.sub_indication.as_deref(), Some("SIG_CRYPTO_FAILURE"));
}

#[test]
fn key_substitution_breaks_the_signing_certificate_binding() {
    // The attacker signs with their own key and certificate but keeps the victim's ESS
    // reference in the signed attributes.
    let opts = Options {
        ess_v2: false,
        extra_signed: vec![testkit::ess_v2(&pki().rsa.cert)],
        ..Options::default()
    };
    let cms = testkit::sign(pki(), &pki().ec, DATA, &opts);
    let s = only(&verify("x.p7m", &cms, None)).clone();
    assert_eq!(s.intact, Some(false), "{s:?}");
    assert_eq!(
        s.sub_indication.as_deref(),
        Some("NO_SIGNING_CERTIFICATE_FOUND")
    );
}

#[test]
fn binds_the_certificate_through_ess_v1_with_sha1() {
    let opts = Options {
        ess_v2: false,
        ess_v1: true,
        ..Options::default()
    };
    let cms = testkit::sign(pki(), &pki().rsa, DATA, &opts);
    let s = only(&verify("x.p7m", &cms, None)).clone();
    assert_eq!(s.intact, Some(true), "{s:?}");
    assert!(!s
        .warnings
        .iter()
        .any(|w| w.contains("no signing-certificate")));
}

#[test]
fn a_signature_time_stamp_over_the_value_gives_b_t() {
    let opts = Options {
        timestamp: true,
        ..Options::default()
    };
    let cms = testkit::sign(pki(), &pki().ec, DATA, &opts);
    let s = only(&verify("x.p7m", &cms, None)).clone();
    assert_eq!(s.intact, Some(true), "{s:?}");
    assert_eq!(s.level.as_deref(), Some("B-T"), "{s:?}");
    assert_eq!(s.timestamp_time.as_deref(), Some("2020-04-20T10:11:14Z"));
}

#[test]
fn a_time_stamp_copied_from_another_signature_is_ignored() {
    let other = testkit::sign(
        pki(),
        &pki().ec,
        b"other",
        &Options {
            timestamp: true,
            ..Options::default()
        },
    );
    let theirs = crate::signature::cms::parse::content_info(&other).unwrap();
    let token = theirs.signer_infos[0].unsigned(oids::SIGNATURE_TIME_STAMP)[0].values[0].to_vec();
    let attrs = testkit::attributes(&pki().rsa, DATA, &Options::default());
    let unsigned = testkit::attr(oids::SIGNATURE_TIME_STAMP, &token);
    let si = testkit::signer_info(&pki().rsa, &attrs, &[unsigned], false);
    let cms = testkit::content_info(oids::DATA, Some(DATA), &[&pki().rsa.cert], &[si]);
    let s = only(&verify("x.p7m", &cms, None)).clone();
    assert_eq!(s.intact, Some(true));
    assert_eq!(s.level.as_deref(), Some("B-B"));
    assert!(s.timestamp_time.is_none());
    assert!(s.warnings.iter().any(|w| w.contains("imprint")), "{s:?}");
}

#[test]
fn reports_two_signers_and_a_counter_signature() {
    let attrs = testkit::attributes(&pki().rsa, DATA, &Options::default());
    let first = testkit::signer_info(&pki().rsa, &attrs, &[], false);
    let value = testkit::signature_value(&first);
    let digest = openssl::hash::hash(openssl::hash::MessageDigest::sha256(), &value).unwrap();
    let counter_attrs = vec![
        testkit::attr(oids::MESSAGE_DIGEST, &testkit::tlv(0x04, &digest)),
        testkit::ess_v2(&pki().ec.cert),
    ];
    let counter = testkit::signer_info(&pki().ec, &counter_attrs, &[], false);
    let first =
        testkit::replace_unsigned(&first, &testkit::attr(oids::COUNTER_SIGNATURE, &counter));
    let attrs2 = testkit::attributes(&pki().ec, DATA, &Options::default());
    let second = testkit::signer_info(&pki().ec, &attrs2, &[], false);
    let cms = testkit::content_info(
        oids::DATA,
        Some(DATA),
        &[&pki().rsa.cert, &pki().ec.cert],
        &[first, second],
    );
    let report = verify("x.p7m", &cms, None);
    assert_eq!(report.signatures.len(), 2);
    assert!(
        report.signatures.iter().all(|s| s.intact == Some(true)),
        "{report:?}"
    );
    assert_eq!(report.signatures[1].id, "S2");
    let notes = &report.signatures[0].warnings;
    assert!(
        notes
            .iter()
            .any(|w| w.contains("counter-signature") && w.ends_with(": intact")),
        "{notes:?}"
    );
}

#[test]
fn a_signature_without_its_certificate_has_no_signing_certificate() {
    let attrs = testkit::attributes(&pki().rsa, DATA, &Options::default());
    let si = testkit::signer_info(&pki().rsa, &attrs, &[], false);
    let cms = testkit::content_info(oids::DATA, Some(DATA), &[&pki().ec.cert], &[si]);
    let s = only(&verify("x.p7m", &cms, None)).clone();
    assert_eq!(s.intact, Some(false));
    assert_eq!(
        s.sub_indication.as_deref(),
        Some("NO_SIGNING_CERTIFICATE_FOUND")
    );
}

#[test]
fn rejects_duplicated_signing_time_and_a_wrong_content_type() {
    let opts = Options {
        extra_signed: vec![testkit::attr(
            oids::SIGNING_TIME,
            &testkit::tlv(0x17, b"200421101112Z"),
        )],
        ..Options::default()
    };
    let cms = testkit::sign(pki(), &pki().rsa, DATA, &opts);
    let s = only(&verify("x.p7m", &cms, None)).clone();
    assert_eq!(s.sub_indication.as_deref(), Some("FORMAT_FAILURE"), "{s:?}");
    let attrs = testkit::attributes(&pki().rsa, DATA, &Options::default());
    let si = testkit::signer_info(&pki().rsa, &attrs, &[], false);
    let receipt = crate::signature::der::oid_bytes("1.2.840.113549.1.9.16.1.1").unwrap();
    let cms = testkit::content_info(&receipt, Some(DATA), &[&pki().rsa.cert], &[si]);
    let s = only(&verify("x.p7m", &cms, None)).clone();
    assert_eq!(s.sub_indication.as_deref(), Some("FORMAT_FAILURE"), "{s:?}");
}

fn openssl_sign(flags: CMSOptions) -> Vec<u8> {
    let id = &pki().rsa;
    let cms = CmsContentInfo::sign(Some(&id.cert), Some(&id.key), None, Some(DATA), flags).unwrap();
    cms.to_der().unwrap()
}

#[test]
fn verifies_what_openssl_signs_in_der_pem_and_base64() {
    use base64::Engine;
    let der = openssl_sign(CMSOptions::BINARY);
    let pem = openssl::cms::CmsContentInfo::from_der(&der)
        .unwrap()
        .to_pem()
        .unwrap();
    let b64 = base64::engine::general_purpose::STANDARD.encode(&der);
    for bytes in [der.clone(), pem, b64.into_bytes()] {
        let s = only(&verify("x.p7m", &bytes, None)).clone();
        assert_eq!(s.intact, Some(true), "{s:?}");
        assert!(s
            .warnings
            .iter()
            .any(|w| w.contains("no signing-certificate")));
    }
    let detached = openssl_sign(CMSOptions::BINARY | CMSOptions::DETACHED);
    let s = only(&verify("wniosek.txt.p7s", &detached, Some(DATA))).clone();
    assert_eq!(s.intact, Some(true), "{s:?}");
}

#[test]
fn verifies_ber_indefinite_lengths_around_the_signed_data() {
    let der = testkit::sign(pki(), &pki().rsa, DATA, &Options::default());
    let (outer, _) = crate::signature::der::read(&der).unwrap();
    let mut ber = vec![0x30, 0x80];
    ber.extend_from_slice(outer.content);
    ber.extend([0, 0]);
    let s = only(&verify("x.p7m", &ber, None)).clone();
    assert_eq!(s.intact, Some(true), "{s:?}");
}

fn sent_reordered() -> Vec<u8> {
    let opts = Options {
        reorder: true,
        ..Options::default()
    };
    let sent = testkit::attributes(&pki().rsa, DATA, &opts);
    let mut signed = sent.clone();
    signed.sort();
    let si = testkit::signer_info_over(&pki().rsa, &sent, &signed, &[], false);
    testkit::content_info(oids::DATA, Some(DATA), &[&pki().rsa.cert], &[si])
}

/// A differential case: name, CMS, detached content, expected verdict.
type Case<'a> = (&'a str, Vec<u8>, Option<&'a [u8]>, bool);

/// `openssl cms -verify -noverify -binary` on a fixture: whether it says the signature verifies.
fn openssl_says(cms: &[u8], content: Option<&[u8]>) -> bool {
    let dir = tempfile::tempdir().unwrap();
    let sig = dir.path().join("sig.der");
    std::fs::write(&sig, cms).unwrap();
    let mut cmd = std::process::Command::new("openssl");
    cmd.args([
        "cms",
        "-verify",
        "-noverify",
        "-binary",
        "-inform",
        "DER",
        "-in",
    ])
    .arg(&sig)
    .args(["-out", "/dev/null"]);
    if let Some(c) = content {
        let data = dir.path().join("data");
        std::fs::write(&data, c).unwrap();
        cmd.arg("-content").arg(&data);
    }
    cmd.output().unwrap().status.success()
}

#[test]
fn agrees_with_openssl_cms_on_own_fixtures_except_where_openssl_is_known_wrong() {
    let detached = Options {
        detached: true,
        ..Options::default()
    };
    let reordered = Options {
        reorder: true,
        ..Options::default()
    };
    let substituted = Options {
        ess_v2: false,
        extra_signed: vec![testkit::ess_v2(&pki().rsa.cert)],
        ..Options::default()
    };
    let cases: Vec<Case<'_>> = vec![
        (
            "enveloping",
            testkit::sign(pki(), &pki().rsa, DATA, &Options::default()),
            None,
            true,
        ),
        (
            "detached",
            testkit::sign(pki(), &pki().ec, DATA, &detached),
            Some(DATA),
            true,
        ),
        (
            "altered content",
            testkit::sign(pki(), &pki().ec, DATA, &detached),
            Some(b"other"),
            false,
        ),
        (
            "key substitution",
            testkit::sign(pki(), &pki().ec, DATA, &substituted),
            None,
            false,
        ),
        // Attributes signed and sent in the same non-DER order: both hash them as received.
        (
            "non-DER attribute order",
            testkit::sign(pki(), &pki().ec, DATA, &reordered),
            None,
            true,
        ),
        // Signed in DER order but sent in another (DSS dss-667 DER_reordered): openssl hashes
        // the attributes as sent only and fails; RFC 5652 §5.4 signs the DER encoding.
        (
            "signed in DER order, sent reordered",
            sent_reordered(),
            None,
            true,
        ),
    ];
    // Key substitution: the ESS reference names another certificate than the one that
    // verified; openssl cms -noverify does not compare them (RFC 5035 §3 binding).
    let openssl_wrong = ["signed in DER order, sent reordered", "key substitution"];
    for (name, cms, content, expected) in cases {
        let resolve = |_: &str| content.map(<[u8]>::to_vec);
        let ours =
            verify_cades("x.p7s", &cms, &resolve).unwrap().signatures[0].intact == Some(true);
        assert_eq!(ours, expected, "{name}: ours");
        let theirs = openssl_says(&cms, content);
        if openssl_wrong.contains(&name) {
            assert_ne!(
                theirs, expected,
                "{name}: openssl was expected to get this wrong"
            );
        } else {
            assert_eq!(theirs, expected, "{name}: openssl");
        }
    }
}
