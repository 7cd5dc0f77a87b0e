//! Validation of signatures made with the project's test PKI (issue 5 acceptance 3): every
//! kind, an untrusted chain, revocation before and after a time-stamped signing, expiry with
//! and without proof of existence, not yet valid, a weak algorithm. Integrity is the format
//! modules' business: these inputs are intact by construction.

use super::input::{IntegrityVerdict, ProofOfExistence, ValidationInput};
use super::tl::parse::parse;
use super::*;
use crate::fixtures::pki::{self, Pki};
use crate::signature::report::Signer;
use chrono::{DateTime, Utc};
use std::path::Path;

fn t(s: &str) -> DateTime<Utc> {
    input::parse_time(s).unwrap()
}

fn trust(p: &Pki) -> Trust {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/pki/anchors");
    let settings = KindSettings {
        personal_root_sha256: vec![cert::sha256_hex(&p.get("plid-root").unwrap().cert)],
        ..KindSettings::default()
    };
    let mut trust = Trust::load_dir(&dir, settings).unwrap();
    trust
        .lists
        .push(parse(&pki::trusted_list(p).unwrap()).unwrap());
    trust
}

fn input(p: &Pki, signer: &str, cas: &[&str]) -> ValidationInput {
    ValidationInput {
        signing_certificate: Some(p.der(signer).unwrap()),
        certificates: cas.iter().map(|c| p.der(c).unwrap()).collect(),
        signing_time: Some(t("2024-03-01T10:00:00Z")),
        ..ValidationInput::default()
    }
}

fn with_poe(mut i: ValidationInput, at: &str) -> ValidationInput {
    i.proofs_of_existence.push(ProofOfExistence {
        time: t(at),
        tsa_certificate: None,
    });
    i
}

const NOW: &str = "2026-01-01T00:00:00Z";

fn run(i: &ValidationInput) -> Validation {
    let p = pki::committed().unwrap();
    validate(i, &trust(&p), t(NOW))
}

fn verdict(v: &Validation) -> (&str, Option<&str>, &str) {
    (
        v.indication.as_str(),
        v.sub_indication.as_deref(),
        v.kind.as_str(),
    )
}

#[test]
fn a_qualified_signature_passes_as_qes() {
    let p = pki::committed().unwrap();
    let v = run(&input(&p, "qes-signer", &["qualified-ca"]));
    assert_eq!(verdict(&v), ("TOTAL_PASSED", None, "qes"), "{v:?}");
    assert_eq!(v.qualified, Some(true));
}

#[test]
fn a_qualified_seal_passes_as_qualified_seal() {
    let p = pki::committed().unwrap();
    let v = run(&input(&p, "qseal", &["qualified-ca"]));
    assert_eq!(
        verdict(&v),
        ("TOTAL_PASSED", None, "qualified_seal"),
        "{v:?}"
    );
}

#[test]
fn the_pz_seal_with_a_citizen_is_a_podpis_zaufany() {
    let p = pki::committed().unwrap();
    let mut i = input(&p, "pz-seal", &["eurocert-ca"]);
    i.claimed_signer = Some(Signer {
        name: Some("Jan Testowy".into()),
        ..Signer::default()
    });
    assert_eq!(verdict(&run(&i)), ("TOTAL_PASSED", None, "trusted_profile"));
}

#[test]
fn the_pz_seal_without_a_citizen_is_only_a_qualified_seal() {
    let p = pki::committed().unwrap();
    let v = run(&input(&p, "pz-seal", &["eurocert-ca"]));
    assert_eq!(verdict(&v), ("TOTAL_PASSED", None, "qualified_seal"));
    assert!(v.warnings.iter().any(|w| w.contains("podpis zaufany")));
}

#[test]
fn a_path_to_the_pinned_pl_id_root_is_a_podpis_osobisty() {
    let p = pki::committed().unwrap();
    let v = run(&input(&p, "plid-signer", &["plid-authorization-ca"]));
    assert_eq!(verdict(&v), ("TOTAL_PASSED", None, "personal"), "{v:?}");
    assert_eq!(v.qualified, None);
}

#[test]
fn a_commercial_certificate_gives_an_advanced_signature() {
    let p = pki::committed().unwrap();
    let v = run(&input(&p, "advanced-signer", &["commercial-ca"]));
    assert_eq!(verdict(&v), ("TOTAL_PASSED", None, "advanced"), "{v:?}");
}

#[test]
fn a_signer_under_an_unknown_root_has_no_chain() {
    let p = pki::committed().unwrap();
    let v = run(&input(&p, "untrusted-signer", &["untrusted-root"]));
    assert_eq!(
        verdict(&v),
        (
            "INDETERMINATE",
            Some("NO_CERTIFICATE_CHAIN_FOUND"),
            "unknown"
        )
    );
}

#[test]
fn a_signer_whose_ca_is_missing_has_no_chain() {
    let p = pki::committed().unwrap();
    // The commercial CA is on no list: without it in the signature or the cache, no path.
    let mut tr = trust(&p);
    tr.intermediates.clear();
    let v = validate(&input(&p, "advanced-signer", &[]), &tr, t(NOW));
    assert_eq!(
        v.sub_indication.as_deref(),
        Some("NO_CERTIFICATE_CHAIN_FOUND")
    );
}

#[test]
fn a_ca_on_the_trusted_list_is_an_anchor_by_itself() {
    let p = pki::committed().unwrap();
    let v = run(&input(&p, "qes-signer", &[]));
    assert_eq!(verdict(&v), ("TOTAL_PASSED", None, "qes"));
}

#[test]
fn revoked_without_a_time_stamp_is_revoked_no_poe() {
    let p = pki::committed().unwrap();
    let v = run(&input(&p, "revoked-signer", &["qualified-ca"]));
    assert_eq!(
        verdict(&v),
        ("INDETERMINATE", Some("REVOKED_NO_POE"), "unknown")
    );
}

#[test]
fn revoked_after_a_time_stamped_signing_stays_valid() {
    let p = pki::committed().unwrap();
    let i = with_poe(
        input(&p, "revoked-signer", &["qualified-ca"]),
        "2024-03-01T10:00:05Z",
    );
    let v = run(&i);
    assert_eq!(verdict(&v), ("TOTAL_PASSED", None, "qes"), "{v:?}");
    assert!(v.warnings.iter().any(|w| w.contains("revoked")));
}

#[test]
fn revoked_before_the_time_stamp_fails() {
    let p = pki::committed().unwrap();
    let i = with_poe(
        input(&p, "revoked-signer", &["qualified-ca"]),
        "2025-01-01T00:00:00Z",
    );
    assert_eq!(
        verdict(&run(&i)),
        ("TOTAL_FAILED", Some("REVOKED"), "unknown")
    );
}

#[test]
fn validated_before_its_revocation_the_certificate_is_good() {
    let p = pki::committed().unwrap();
    let i = input(&p, "revoked-signer", &["qualified-ca"]);
    let v = validate(&i, &trust(&p), t("2024-05-01T00:00:00Z"));
    assert_eq!(verdict(&v), ("TOTAL_PASSED", None, "qes"));
}

#[test]
fn expired_without_proof_of_existence_is_out_of_bounds() {
    let p = pki::committed().unwrap();
    let v = run(&input(&p, "expired-signer", &["qualified-ca"]));
    assert_eq!(
        verdict(&v),
        ("INDETERMINATE", Some("OUT_OF_BOUNDS_NO_POE"), "unknown")
    );
}

#[test]
fn expired_but_time_stamped_while_valid_passes() {
    let p = pki::committed().unwrap();
    let i = with_poe(
        input(&p, "expired-signer", &["qualified-ca"]),
        "2020-06-01T00:00:00Z",
    );
    assert_eq!(verdict(&run(&i)), ("TOTAL_PASSED", None, "qes"));
}

#[test]
fn time_stamped_after_expiry_is_expired() {
    let p = pki::committed().unwrap();
    let i = with_poe(
        input(&p, "expired-signer", &["qualified-ca"]),
        "2022-01-01T00:00:00Z",
    );
    assert_eq!(
        verdict(&run(&i)),
        ("TOTAL_FAILED", Some("EXPIRED"), "unknown")
    );
}

#[test]
fn a_certificate_valid_only_from_2035_is_not_yet_valid() {
    let p = pki::committed().unwrap();
    let v = run(&input(&p, "not-yet-valid-signer", &["qualified-ca"]));
    assert_eq!(
        verdict(&v),
        ("TOTAL_FAILED", Some("NOT_YET_VALID"), "unknown")
    );
}

#[test]
fn sha1_and_rsa_1024_fail_the_crypto_constraints() {
    let p = pki::committed().unwrap();
    let v = run(&input(&p, "weak-signer", &["commercial-ca"]));
    assert_eq!(
        verdict(&v),
        (
            "INDETERMINATE",
            Some("CRYPTO_CONSTRAINTS_FAILURE"),
            "unknown"
        )
    );
}

#[test]
fn a_broken_signature_keeps_the_format_verdict() {
    let p = pki::committed().unwrap();
    let mut i = input(&p, "qes-signer", &["qualified-ca"]);
    i.integrity = Some(IntegrityVerdict {
        indication: "TOTAL_FAILED".into(),
        sub_indication: "HASH_FAILURE".into(),
    });
    assert_eq!(
        verdict(&run(&i)),
        ("TOTAL_FAILED", Some("HASH_FAILURE"), "unknown")
    );
}

#[test]
fn without_revocation_data_the_result_is_try_later() {
    let p = pki::committed().unwrap();
    let mut tr = trust(&p);
    tr.crls.clear();
    let v = validate(&input(&p, "qes-signer", &["qualified-ca"]), &tr, t(NOW));
    assert_eq!(verdict(&v), ("INDETERMINATE", Some("TRY_LATER"), "unknown"));
    tr.settings.require_revocation = false;
    let v = validate(&input(&p, "qes-signer", &["qualified-ca"]), &tr, t(NOW));
    assert_eq!(verdict(&v), ("TOTAL_PASSED", None, "qes"));
}

#[test]
fn an_embedded_crl_is_used_like_a_cached_one() {
    let p = pki::committed().unwrap();
    let mut tr = trust(&p);
    tr.crls.clear();
    let mut i = input(&p, "revoked-signer", &["qualified-ca"]);
    i.crls.push(p.crls["qualified-ca"].clone());
    let v = validate(&i, &tr, t(NOW));
    assert_eq!(v.sub_indication.as_deref(), Some("REVOKED_NO_POE"));
}

#[test]
fn the_ca_service_granted_only_since_2020_does_not_qualify_earlier_signatures() {
    let p = pki::committed().unwrap();
    let chain = vec![
        p.get("qes-signer").unwrap().cert.clone(),
        p.get("qualified-ca").unwrap().cert.clone(),
    ];
    let tr = trust(&p);
    let q = qualify::qualify(&chain, &tr, t("2019-12-01T00:00:00Z")).unwrap();
    assert!(!q.qualified, "{q:?}");
    assert!(
        qualify::qualify(&chain, &tr, t("2021-01-01T00:00:00Z"))
            .unwrap()
            .qualified
    );
}

#[test]
fn an_embedded_ocsp_response_answers_without_any_crl() {
    let p = pki::committed().unwrap();
    let mut tr = trust(&p);
    tr.crls.clear();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/pki/ocsp");
    let mut good = input(&p, "qes-signer", &["qualified-ca"]);
    good.ocsp_responses
        .push(std::fs::read(dir.join("qes-signer.ocsp.der")).unwrap());
    assert_eq!(
        verdict(&validate(&good, &tr, t(NOW))),
        ("TOTAL_PASSED", None, "qes")
    );
    let mut revoked = with_poe(
        input(&p, "revoked-signer", &["qualified-ca"]),
        "2025-01-01T00:00:00Z",
    );
    revoked
        .ocsp_responses
        .push(std::fs::read(dir.join("revoked-signer.ocsp.der")).unwrap());
    assert_eq!(
        verdict(&validate(&revoked, &tr, t(NOW))),
        ("TOTAL_FAILED", Some("REVOKED"), "unknown")
    );
}

#[test]
fn what_one_trust_keeps_between_validations_changes_no_verdict() {
    let p = pki::committed().unwrap();
    let kept = trust(&p);
    for (signer, expected) in [
        ("qes-signer", ("TOTAL_PASSED", None, "qes")),
        (
            "revoked-signer",
            ("INDETERMINATE", Some("REVOKED_NO_POE"), "unknown"),
        ),
    ] {
        let i = input(&p, signer, &["qualified-ca"]);
        // Decoded certificates, the anchors' store, the list index and the cached CRLs'
        // signature checks are reused the second time.
        for _ in 0..2 {
            let v = validate(&i, &kept, t(NOW));
            assert_eq!(verdict(&v), expected, "{v:?}");
            assert_eq!(v, validate(&i, &trust(&p), t(NOW)));
        }
    }
    // A list added after a validation is seen by the next one.
    let mut later = trust(&p);
    later.lists.clear();
    let qes = input(&p, "qes-signer", &["qualified-ca"]);
    assert_eq!(validate(&qes, &later, t(NOW)).qualified, None);
    later
        .lists
        .push(parse(&pki::trusted_list(&p).unwrap()).unwrap());
    assert_eq!(validate(&qes, &later, t(NOW)).qualified, Some(true));
}
