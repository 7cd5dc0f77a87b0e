//! Revocation data embedded in real XAdES-LT and PAdES-LT signatures of the corpus (EN 319 132-1
//! §5.5.2 RevocationValues; CMS crls and Adobe's revocationInfoArchival) reaches the validation: with the signature's own root as the only anchor
//! and nothing cached or fetched, the signing certificate's status comes from what it carries.

use super::*;
use crate::signature::xml::verify::evidence;
use openssl::x509::X509;

fn corpus(rel: &str) -> Vec<u8> {
    let base = std::env::var("PODAWCZA_CORPUS")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus").into());
    std::fs::read(format!("{base}/{rel}")).unwrap()
}

/// A trust of the self-signed certificates the signature carries, nothing else.
fn own_roots(input: &ValidationInput) -> Trust {
    let roots: Vec<X509> = input
        .certificates
        .iter()
        .filter_map(|d| X509::from_der(d).ok())
        .filter(|c| c.issuer_name().to_der().ok() == c.subject_name().to_der().ok())
        .collect();
    Trust {
        anchors: roots,
        ..Trust::default()
    }
}

/// The input of the only signature, and a trust of its self-signed certificates.
fn input_and_own_roots(rel: &str) -> (ValidationInput, Trust) {
    let ev = evidence(rel, &corpus(rel), &|_| None).unwrap();
    let input = ValidationInput::from(&ev[0]);
    let trust = own_roots(&input);
    (input, trust)
}

/// XAdES-LT signatures of the 2014-2015 ETSI plugtests (Spain, Hungary) validated in 2026:
/// their certificates expired long ago; the time-stamp proves the signature existed while they
/// were valid, and the OCSP responses and CRLs they carry prove the signer was not revoked
/// then. Without that data the same validation must wait (TRY_LATER).
#[test]
fn a_xades_lt_validates_years_later_from_its_own_revocation_values() {
    let at = "2026-01-01T00:00:00Z".parse().unwrap();
    for rel in [
        "dss/xades/Signature-X-ES-100.xml",
        "dss/xades/Signature-X-ES-103.xml",
        "dss/xades/Signature-X-HU_POL-3.xml",
    ] {
        let (input, trust) = input_and_own_roots(rel);
        assert!(!input.ocsp_responses.is_empty(), "{rel}");
        let v = validate(&input, &trust, at);
        assert_eq!(v.indication, "TOTAL_PASSED", "{rel}: {v:?}");
        let mut bare = input.clone();
        bare.crls.clear();
        bare.ocsp_responses.clear();
        let v = validate(&bare, &trust, at);
        assert_eq!(
            v.sub_indication.as_deref(),
            Some("TRY_LATER"),
            "{rel}: {v:?}"
        );
    }
}

/// PAdES-B-LT signatures whose CMS carries the revocation data (Adobe's signed
/// revocationInfoArchival, CMS crls) validated in 2026 from their own data; TRY_LATER without.
#[test]
fn a_pades_lt_validates_years_later_from_its_embedded_revocation_data() {
    let at = "2026-01-01T00:00:00Z".parse().unwrap();
    for rel in [
        "dss/pades/Signature-P-BG_BOR-2.pdf",
        "dss/pades/Signature-P-HU_MIC-3.pdf",
        "dss/pades/pades-ocsp-sign-cert.pdf",
    ] {
        let r = crate::signature::inspect_with(rel, "application/pdf", &corpus(rel), &|_| None);
        let input = r.signatures[0].validation_input.clone().unwrap();
        let trust = own_roots(&input);
        let v = validate(&input, &trust, at);
        assert_eq!(v.indication, "TOTAL_PASSED", "{rel}: {v:?}");
        let mut bare = input.clone();
        bare.crls.clear();
        bare.ocsp_responses.clear();
        let v = validate(&bare, &trust, at);
        assert_eq!(
            v.sub_indication.as_deref(),
            Some("TRY_LATER"),
            "{rel}: {v:?}"
        );
    }
}
