//! ETSI TS 119 615 qualification logic against the edited Estonian lists of libdigidocpp
//! (`corpus/libdigidocpp/trusted-lists/`, README.txt there): `tsl.asice`, signed
//! 2016-11-28T13:46:41Z, is qualified under the lists its README calls GOOD and not under the
//! BAD ones. libdigidocpp also requires its OCSP responder and TSA to be granted qualified
//! services at their time, so this test does too ([`qualify::supporting_service`]). The lists
//! are hand-edited, so they are loaded for their content only (their signatures fail).

use super::cert::{extended_key_usages, KP_OCSP_SIGNING};
use super::qualify::{supporting_service, QcType, Support};
use super::tl::parse::parse;
use super::*;
use base64::Engine;
use openssl::x509::X509;
use std::io::Read;

fn corpus(rel: &str) -> Vec<u8> {
    let base = std::env::var("PODAWCZA_CORPUS")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus").into());
    std::fs::read(format!("{base}/libdigidocpp/{rel}")).unwrap()
}

fn input() -> ValidationInput {
    let report = crate::signature::xml::asic::verify_asic("tsl.asice", &corpus("tsl.asice"));
    report
        .signatures
        .into_iter()
        .next()
        .and_then(|s| s.validation_input)
        .unwrap()
}

/// The TSA certificate from the signature's time-stamp token (RFC 3161 §2.4.1: a CMS
/// SignedData whose certificates carry the TSA's).
fn tsa_certificate() -> X509 {
    let zip = corpus("tsl.asice");
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
    let mut xml = String::new();
    archive
        .by_name("META-INF/signatures0.xml")
        .unwrap()
        .read_to_string(&mut xml)
        .unwrap();
    let start = xml.find("EncapsulatedTimeStamp").unwrap();
    let body = &xml[start..];
    let b64: String = body[body.find('>').unwrap() + 1..body.find("</").unwrap()]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    let token = openssl::pkcs7::Pkcs7::from_der(&der).unwrap();
    let certs = token.signed().unwrap().certificates().unwrap();
    certs
        .iter()
        .find(|c| {
            extended_key_usages(&c.to_der().unwrap())
                .iter()
                .any(|u| u == cert::KP_TIME_STAMPING)
        })
        .unwrap()
        .to_owned()
}

/// What libdigidocpp calls a good signature: qualified for eSig with a QSCD, its OCSP
/// responder and its TSA granted qualified services at the signing time.
fn qualified_under(list_file: &str, i: &ValidationInput, tsa: &X509) -> bool {
    let list = parse(std::str::from_utf8(&corpus(&format!("trusted-lists/{list_file}"))).unwrap())
        .unwrap();
    let trust = Trust {
        lists: vec![list],
        ..Trust::default()
    };
    let leaf = X509::from_der(i.signing_certificate.as_deref().unwrap()).unwrap();
    let certs: Vec<X509> = i
        .certificates
        .iter()
        .map(|d| X509::from_der(d).unwrap())
        .collect();
    let Ok(chain) = path::build(&leaf, certs.iter(), trust.all_anchors()) else {
        return false;
    };
    let t = i.best_signature_time().unwrap();
    let q = qualify::qualify(&chain, &trust, t);
    let qes = q.is_some_and(|q| q.qualified && q.qscd && q.qc_type == Some(QcType::ESig));
    let ocsp: Vec<X509> = certs
        .iter()
        .filter(|c| {
            extended_key_usages(&c.to_der().unwrap())
                .iter()
                .any(|u| u == KP_OCSP_SIGNING)
        })
        .cloned()
        .collect();
    let ocsp_ok = supporting_service(&ocsp, &trust, t, Support::Ocsp).is_ok();
    let tsa_ok = supporting_service(std::slice::from_ref(tsa), &trust, t, Support::Tsa).is_ok();
    qes && ocsp_ok && tsa_ok
}

#[test]
fn the_edited_estonian_lists_qualify_tsl_asice_as_libdigidocpp_expects() {
    let i = input();
    let tsa = tsa_certificate();
    let good = [
        "EE_T.xml",
        "EE_T-CA-withdrawn-granted-before.xml",
        "EE_T-CA-noqscd-granted-before.xml",
        "EE_T-OCSP-withdrawn-granted-before.xml",
        "EE_T-OCSP-noqscd-granted-before.xml",
        "EE_T-TSA-withdrawn-granted-before.xml",
        "EE_T-TSA-noqscd-granted-before.xml",
    ];
    let bad = [
        "EE_T-CA-non-qa.xml",
        "EE_T-no_QCStatement.xml",
        "EE_T-no_QCSD.xml",
        "EE_T-CA-invalid-type.xml",
        "EE_T-OCSP-invalid-type.xml",
        "EE_T-TSA-invalid-type.xml",
        "EE_T-CA-withdrawn.xml",
        "EE_T-OCSP-withdrawn.xml",
        "EE_T-TSA-withdrawn.xml",
        "EE_T-CA-granted-later.xml",
        "EE_T-OCSP-granted-later.xml",
        "EE_T-TSA-granted-later.xml",
        "EE_T-CA-withdrawn-granted-later.xml",
        "EE_T-OCSP-withdrawn-granted-later.xml",
        "EE_T-TSA-withdrawn-granted-later.xml",
        "EE_T-CA-noqscd-granted-later.xml",
        "EE_T-OCSP-noqscd-granted-later.xml",
        "EE_T-TSA-noqscd-granted-later.xml",
    ];
    let wrong: Vec<String> = good
        .iter()
        .filter(|f| !qualified_under(f, &i, &tsa))
        .map(|f| format!("{f}: expected qualified"))
        .chain(
            bad.iter()
                .filter(|f| qualified_under(f, &i, &tsa))
                .map(|f| format!("{f}: expected not qualified")),
        )
        .collect();
    assert!(wrong.is_empty(), "{wrong:#?}");
    assert_eq!(good.len() + bad.len(), 25);
}
