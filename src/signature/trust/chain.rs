//! The certification path of a signature as the report shows it (`chain`, DESIGN.md report
//! contract: an added field): the same path [`super::validate()`] builds, summarised certificate
//! by certificate from the signing certificate to the trust anchor.

use super::input::ValidationInput;
use super::{path, Trust};
use crate::signature::report::CertificateInfo;
use crate::signature::xml::certinfo;
use openssl::x509::X509;

/// The path from the signing certificate to its anchor, or empty when none was found (the
/// signature's errors say why).
pub fn of(input: &ValidationInput, trust: &Trust) -> Vec<CertificateInfo> {
    let Some(leaf) = input
        .signing_certificate
        .as_deref()
        .and_then(|d| trust.cache.certificate(d))
    else {
        return Vec::new();
    };
    let embedded: Vec<X509> = input
        .certificates
        .iter()
        .filter_map(|d| trust.cache.certificate(d))
        .collect();
    match path::build_in(
        &leaf,
        embedded.iter().chain(&trust.intermediates),
        super::cache::derived(trust).store.as_ref(),
    ) {
        Ok(chain) => summarise(&chain),
        Err(_) => Vec::new(),
    }
}

/// The report's summary of a path already built (leaf first).
pub fn summarise(path: &[X509]) -> Vec<CertificateInfo> {
    path.iter()
        .filter_map(|c| {
            c.to_der()
                .ok()
                .map(|der| certinfo::certificate_info_of(c, &der))
        })
        .collect()
}
