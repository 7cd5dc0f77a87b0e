//! Revocation data embedded in a CMS signature, for the validation stage (issue 5; a
//! CAdES-B-LT or PAdES-B-LT signature validated offline later): the SignedData `crls` field
//! (RFC 5652 §10.2.1; OCSP responses as `id-ri-ocsp-response`, RFC 5940 §4.1), the CAdES
//! `revocationValues` attribute (EN 319 122-1 §5.5.2; `ocspVals` are BasicOCSPResponses) and
//! Adobe's signed `adbe-revocationInfoArchival` (ISO 32000-1 §12.8.3.3.2). Nothing is judged
//! here: [`crate::signature::trust`] checks each CRL's and response's signature.

use super::oids;
use super::parse::{SignedData, SignerInfo};
use crate::signature::der::{self, Tag, Tlv};

/// id-ri-ocsp-response (RFC 5940 §4.1): 1.3.6.1.5.5.7.16.2.
const RI_OCSP_RESPONSE: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x10, 0x02];

/// Most CRLs and responses taken from one signature (bounds the work on hostile input).
const MAX_ITEMS: usize = 256;

/// The CRLs and OCSP responses (DER OCSPResponse) found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Found {
    /// CertificateLists.
    pub crls: Vec<Vec<u8>>,
    /// OCSPResponses.
    pub ocsp_responses: Vec<Vec<u8>>,
}

/// Everything embedded for `si` in `sd`.
pub fn extract(sd: &SignedData<'_>, si: &SignerInfo<'_>) -> Found {
    let mut f = Found::default();
    for raw in &sd.revocation_info {
        revocation_choice(raw, &mut f);
    }
    for value in si
        .unsigned(oids::REVOCATION_VALUES)
        .iter()
        .flat_map(|a| a.values.iter())
    {
        revocation_values(value, &mut f);
    }
    for value in si
        .signed(oids::ADBE_REVOCATION)
        .iter()
        .flat_map(|a| a.values.iter())
    {
        adbe_archival(value, &mut f);
    }
    f.crls.truncate(MAX_ITEMS);
    f.ocsp_responses.truncate(MAX_ITEMS);
    f.crls.sort();
    f.crls.dedup();
    f.ocsp_responses.sort();
    f.ocsp_responses.dedup();
    f
}

/// RevocationInfoChoice ::= CertificateList | [1] OtherRevocationInfoFormat.
fn revocation_choice(raw: &[u8], f: &mut Found) {
    let Ok((tlv, _)) = der::read(raw) else { return };
    if tlv.tag == Tag::SEQUENCE {
        f.crls.push(raw.to_vec());
    } else if tlv.tag == Tag::context(1, true) {
        let mut parts = der::children_raw(tlv.content).filter_map(Result::ok);
        if let (Some((format, _)), Some((_, info))) = (parts.next(), parts.next()) {
            if format.tag == Tag::OID && format.content == RI_OCSP_RESPONSE {
                f.ocsp_responses.push(info.to_vec());
            }
        }
    }
}

/// The elements (as encoded) of a `[n] EXPLICIT SEQUENCE OF X` or `[n] IMPLICIT SEQUENCE OF X`.
fn sequence_items<'a>(tagged: &Tlv<'a>) -> Vec<&'a [u8]> {
    let inner = match der::read(tagged.content) {
        Ok((seq, rest)) if seq.tag == Tag::SEQUENCE && rest.is_empty() => {
            // EXPLICIT: the SEQUENCE OF inside; IMPLICIT with one SEQUENCE item looks the same,
            // so tell them apart by whether the inside holds sequences itself.
            let nested = der::children(seq.content)
                .filter_map(Result::ok)
                .all(|c| c.tag == Tag::SEQUENCE);
            if nested {
                seq.content
            } else {
                tagged.content
            }
        }
        _ => tagged.content,
    };
    der::children_raw(inner)
        .filter_map(Result::ok)
        .filter(|(t, _)| t.tag == Tag::SEQUENCE)
        .map(|(_, raw)| raw)
        .collect()
}

/// RevocationValues ::= SEQUENCE { crlVals [0] SEQUENCE OF CertificateList OPTIONAL,
/// ocspVals [1] SEQUENCE OF BasicOCSPResponse OPTIONAL, otherRevVals [2] OPTIONAL }
/// (RFC 5126 §6.3.4, explicitly tagged).
fn revocation_values(value: &[u8], f: &mut Found) {
    let Ok((seq, _)) = der::read(value) else {
        return;
    };
    for field in der::children(seq.content).filter_map(Result::ok) {
        if field.tag == Tag::context(0, true) {
            f.crls
                .extend(sequence_items(&field).iter().map(|c| c.to_vec()));
        } else if field.tag == Tag::context(1, true) {
            f.ocsp_responses.extend(
                sequence_items(&field)
                    .iter()
                    .map(|b| crate::signature::trust::ocsp::wrap_basic(b)),
            );
        }
    }
}

/// RevocationInfoArchival ::= SEQUENCE { crl [0] EXPLICIT SEQUENCE OF CRLs OPTIONAL,
/// ocsp [1] EXPLICIT SEQUENCE OF OCSPResponse OPTIONAL, otherRevInfo [2] ... }.
fn adbe_archival(value: &[u8], f: &mut Found) {
    let Ok((seq, _)) = der::read(value) else {
        return;
    };
    for field in der::children(seq.content).filter_map(Result::ok) {
        if field.tag == Tag::context(0, true) {
            f.crls
                .extend(sequence_items(&field).iter().map(|c| c.to_vec()));
        } else if field.tag == Tag::context(1, true) {
            f.ocsp_responses
                .extend(sequence_items(&field).iter().map(|c| c.to_vec()));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::fixtures::pki;
    use crate::signature::cms::oids;
    use crate::signature::cms::testkit::{self, alg, attr, oid, seq, set, tlv, Identity, Options};
    use crate::signature::trust::{validate_report, Trust};

    fn ocsp(name: &str) -> Vec<u8> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/pki/ocsp");
        std::fs::read(dir.join(format!("{name}.ocsp.der"))).unwrap()
    }

    /// A CAdES-B-B by a test PKI signer (with the qualified CA's certificate), the `crls`
    /// field holding `crls`, the unsigned attributes `unsigned` (whole Attribute encodings).
    fn cades(signer: &str, crls: &[Vec<u8>], unsigned: &[Vec<u8>]) -> Vec<u8> {
        let p = pki::committed().unwrap();
        let e = p.get(signer).unwrap();
        let id = Identity {
            key: e.key.clone(),
            cert: e.cert.clone(),
        };
        let content = b"Wniosek o wydanie odpisu\n";
        let attrs = testkit::attributes(&id, content, &Options::default());
        let mut si = testkit::signer_info(&id, &attrs, &[], false);
        if !unsigned.is_empty() {
            si = testkit::replace_unsigned(&si, &unsigned.concat());
        }
        let ca = p.der("qualified-ca").unwrap();
        let mut parts = vec![
            tlv(0x02, &[1]),
            set(&[&alg(oids::SHA256)]),
            seq(&[&oid(oids::DATA), &tlv(0xa0, &tlv(0x04, content))]),
            tlv(0xa0, &[e.cert.to_der().unwrap(), ca].concat()),
        ];
        if !crls.is_empty() {
            parts.push(tlv(0xa1, &crls.concat()));
        }
        parts.push(set(&[&si]));
        let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
        seq(&[&oid(oids::SIGNED_DATA), &tlv(0xa0, &seq(&refs))])
    }

    /// The verdict at 2026-01-01 with only the test root trusted: no CRL, no cache, no network.
    fn verdict(bytes: &[u8]) -> (String, Option<String>) {
        let p = pki::committed().unwrap();
        let trust = Trust {
            anchors: vec![p.get("root").unwrap().cert.clone()],
            ..Trust::default()
        };
        let mut report =
            crate::signature::cms::verify_cades("wniosek.p7m", bytes, &|_| None).unwrap();
        let at = "2026-01-01T00:00:00Z".parse().unwrap();
        validate_report(&mut report, &trust, at);
        let s = &report.signatures[0];
        (
            s.indication.clone().unwrap_or_default(),
            s.sub_indication.clone(),
        )
    }

    fn passed() -> (String, Option<String>) {
        ("TOTAL_PASSED".into(), None)
    }

    fn indeterminate(sub: &str) -> (String, Option<String>) {
        ("INDETERMINATE".into(), Some(sub.into()))
    }

    #[test]
    fn without_embedded_data_the_verdict_waits() {
        assert_eq!(
            verdict(&cades("qes-signer", &[], &[])),
            indeterminate("TRY_LATER")
        );
    }

    #[test]
    fn a_crl_in_the_signed_data_decides_offline() {
        let p = pki::committed().unwrap();
        let crl = p.crls["qualified-ca"].clone();
        assert_eq!(
            verdict(&cades("qes-signer", std::slice::from_ref(&crl), &[])),
            passed()
        );
        assert_eq!(
            verdict(&cades("revoked-signer", &[crl], &[])),
            indeterminate("REVOKED_NO_POE")
        );
    }

    #[test]
    fn an_ocsp_response_as_other_revocation_info_decides_offline() {
        // [1] OtherRevocationInfoFormat { id-ri-ocsp-response, OCSPResponse } (RFC 5940 §4.1).
        let other = |r: Vec<u8>| tlv(0xa1, &[oid(super::RI_OCSP_RESPONSE), r].concat());
        assert_eq!(
            verdict(&cades("qes-signer", &[other(ocsp("qes-signer"))], &[])),
            passed()
        );
        assert_eq!(
            verdict(&cades(
                "revoked-signer",
                &[other(ocsp("revoked-signer"))],
                &[]
            )),
            indeterminate("REVOKED_NO_POE")
        );
    }

    #[test]
    fn revocation_values_with_a_basic_response_decide_offline() {
        let basic = |name: &str| crate::signature::trust::ocsp::basic_of(&ocsp(name)).unwrap();
        // RevocationValues { ocspVals [1] SEQUENCE OF BasicOCSPResponse } (EN 319 122-1 §5.5.2).
        let values = |name: &str| {
            attr(
                oids::REVOCATION_VALUES,
                &seq(&[&tlv(0xa1, &seq(&[&basic(name)]))]),
            )
        };
        let good = cades("qes-signer", &[], &[values("qes-signer")]);
        assert_eq!(verdict(&good), passed());
        let revoked = cades("revoked-signer", &[], &[values("revoked-signer")]);
        assert_eq!(verdict(&revoked), indeterminate("REVOKED_NO_POE"));
    }
}
