//! Certification paths (RFC 5280 §6.1): from the signing certificate through the certificates
//! of the signature and the cached intermediates to a trust anchor. openssl builds the path and
//! checks name chaining, signatures, basic constraints, path length and CA key usage; validity
//! periods are checked by the caller at the times EN 319 102-1 §5.2.6 / §5.6.2 require, so
//! openssl is told not to look at any clock (`NO_CHECK_TIME`).

use super::indication::SubIndication;
use openssl::stack::Stack;
use openssl::x509::store::{X509Store, X509StoreBuilder};
use openssl::x509::verify::X509VerifyFlags;
use openssl::x509::{X509Ref, X509StoreContext, X509};

/// A path that failed, with the EN 319 102-1 sub-indication and openssl's reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathFailure {
    /// The sub-indication.
    pub sub: SubIndication,
    /// What openssl said, and at which depth.
    pub reason: String,
}

// X509_V_ERR_* codes of openssl's x509_vfy.h.
const UNABLE_TO_GET_ISSUER_CERT: i32 = 2;
const DEPTH_ZERO_SELF_SIGNED_CERT: i32 = 18;
const SELF_SIGNED_CERT_IN_CHAIN: i32 = 19;
const UNABLE_TO_GET_ISSUER_CERT_LOCALLY: i32 = 20;
const UNABLE_TO_VERIFY_LEAF_SIGNATURE: i32 = 21;
const INVALID_CA: i32 = 24;
const PATH_LENGTH_EXCEEDED: i32 = 25;
const INVALID_PURPOSE: i32 = 26;
const KEYUSAGE_NO_CERTSIGN: i32 = 32;
const INVALID_NON_CA: i32 = 37;
const PROXY_PATH_LENGTH_EXCEEDED: i32 = 38;

fn sub_indication(code: i32) -> SubIndication {
    match code {
        UNABLE_TO_GET_ISSUER_CERT
        | DEPTH_ZERO_SELF_SIGNED_CERT
        | SELF_SIGNED_CERT_IN_CHAIN
        | UNABLE_TO_GET_ISSUER_CERT_LOCALLY
        | UNABLE_TO_VERIFY_LEAF_SIGNATURE => SubIndication::NoCertificateChainFound,
        INVALID_CA
        | PATH_LENGTH_EXCEEDED
        | INVALID_PURPOSE
        | KEYUSAGE_NO_CERTSIGN
        | INVALID_NON_CA
        | PROXY_PATH_LENGTH_EXCEEDED => SubIndication::ChainConstraintsFailure,
        _ => SubIndication::CertificateChainGeneralFailure,
    }
}

/// Builds and checks the path of `leaf` (RFC 5280 §6.1.3 (a)(1) signatures, (a)(4) name
/// chaining; §6.1.4 (k)–(n) basic constraints, path length, key usage), returning it from the
/// leaf to the anchor. Any anchor may end the path (`PARTIAL_CHAIN`: trusted-list CA
/// certificates are often intermediates).
pub fn build<'a>(
    leaf: &X509Ref,
    untrusted: impl IntoIterator<Item = &'a X509>,
    anchors: impl IntoIterator<Item = &'a X509>,
) -> Result<Vec<X509>, PathFailure> {
    let general = |e: openssl::error::ErrorStack| PathFailure {
        sub: SubIndication::CertificateChainGeneralFailure,
        reason: e.to_string(),
    };
    let mut store = X509StoreBuilder::new().map_err(general)?;
    let mut any = false;
    for a in anchors {
        // Duplicates are refused by some openssl versions; they change nothing.
        any |= store.add_cert(a.clone()).is_ok();
    }
    store
        .set_flags(X509VerifyFlags::PARTIAL_CHAIN | X509VerifyFlags::NO_CHECK_TIME)
        .map_err(general)?;
    let store = store.build();
    build_in(leaf, untrusted, any.then_some(&store))
}

/// [`build`] with the anchors already in `store` (built with `PARTIAL_CHAIN | NO_CHECK_TIME`,
/// as [`super::cache`] does once per trust material); `None`: no anchor at all.
pub fn build_in<'a>(
    leaf: &X509Ref,
    untrusted: impl IntoIterator<Item = &'a X509>,
    store: Option<&X509Store>,
) -> Result<Vec<X509>, PathFailure> {
    let general = |e: openssl::error::ErrorStack| PathFailure {
        sub: SubIndication::CertificateChainGeneralFailure,
        reason: e.to_string(),
    };
    let Some(store) = store else {
        return Err(PathFailure {
            sub: SubIndication::NoCertificateChainFound,
            reason: "no trust anchor configured".into(),
        });
    };
    let mut chain = Stack::new().map_err(general)?;
    for c in untrusted {
        chain.push(c.clone()).map_err(general)?;
    }
    let mut ctx = X509StoreContext::new().map_err(general)?;
    let leaf = leaf.to_owned();
    ctx.init(store, &leaf, &chain, |c| {
        let ok = c.verify_cert()?;
        let path: Vec<X509> = c
            .chain()
            .map(|s| s.iter().map(|x| x.to_owned()).collect())
            .unwrap_or_default();
        Ok((ok, c.error(), c.error_depth(), path))
    })
    .map_err(general)
    .and_then(|(ok, err, depth, path)| {
        if ok && !path.is_empty() {
            Ok(path)
        } else {
            Err(PathFailure {
                sub: sub_indication(err.as_raw()),
                reason: format!("{} (depth {depth})", err.error_string()),
            })
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::pki;

    fn cert(p: &pki::Pki, n: &str) -> X509 {
        p.get(n).unwrap().cert.clone()
    }

    #[test]
    fn finds_the_path_of_a_qualified_signer_through_its_ca() {
        let p = pki::committed().unwrap();
        let path = build(
            &cert(&p, "qes-signer"),
            &[cert(&p, "qualified-ca")],
            &[cert(&p, "root")],
        )
        .unwrap();
        assert_eq!(path.len(), 3);
    }

    #[test]
    fn a_signer_under_an_unknown_root_has_no_chain() {
        let p = pki::committed().unwrap();
        let e = build(
            &cert(&p, "untrusted-signer"),
            &[cert(&p, "untrusted-root")],
            &[cert(&p, "root")],
        )
        .unwrap_err();
        assert_eq!(e.sub, SubIndication::NoCertificateChainFound);
    }

    #[test]
    fn an_end_entity_cannot_issue() {
        let p = pki::committed().unwrap();
        // A CA-issued certificate whose "issuer" offered is an end entity: no path at all.
        let e = build(&cert(&p, "qes-signer"), &[], &[cert(&p, "advanced-signer")]).unwrap_err();
        assert_eq!(e.sub, SubIndication::NoCertificateChainFound);
    }

    #[test]
    fn an_intermediate_anchor_ends_the_path() {
        let p = pki::committed().unwrap();
        let path = build(&cert(&p, "qes-signer"), &[], &[cert(&p, "qualified-ca")]).unwrap();
        assert_eq!(path.len(), 2);
    }
}
