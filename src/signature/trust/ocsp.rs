//! Revocation status from OCSP responses (RFC 6960) embedded in the signature or cached: a
//! response counts only when its signature verifies and its signer is the certificate's issuer
//! or a responder the issuer delegated (§4.2.2.2, checked by openssl's `OCSP_basic_verify`
//! against a store holding only that issuer, with no clock: validation time is a parameter).

use super::revocation::{Issued, Status};
use chrono::{DateTime, NaiveDateTime, Utc};
use openssl::asn1::Asn1GeneralizedTimeRef;
use openssl::hash::MessageDigest;
use openssl::ocsp::{
    OcspBasicResponse, OcspCertId, OcspCertStatus, OcspFlag, OcspResponse, OcspResponseStatus,
    OcspStatus,
};
use openssl::stack::Stack;
use openssl::x509::store::{X509Store, X509StoreBuilder};
use openssl::x509::verify::X509VerifyFlags;
use openssl::x509::{X509Ref, X509};

/// `Jun  1 00:00:00 2024 GMT` (openssl's display of an ASN.1 time) as UTC.
fn to_utc(t: &Asn1GeneralizedTimeRef) -> Option<DateTime<Utc>> {
    let text = t.to_string();
    NaiveDateTime::parse_from_str(text.trim_end_matches(" GMT"), "%b %e %H:%M:%S %Y")
        .ok()
        .map(|n| n.and_utc())
}

/// The status of `cert` (issued by `issuer`) in the DER `responses`; `others` may hold the
/// delegated responder's certificate when a response does not carry it.
pub fn status(cert: &X509Ref, issuer: &X509Ref, responses: &[Vec<u8>], others: &[X509]) -> Status {
    Parsed::new(responses, others).status(cert, issuer)
}

/// OCSP responses decoded once, with the certificates that may complete a responder's chain,
/// for asking about several certificates of a path without decoding anything again.
pub struct Parsed<'a> {
    basics: Vec<Basic>,
    others: Vec<X509>,
    /// DER of `others`, for recognising a certificate a response carries again.
    others_der: std::cell::OnceCell<Vec<Vec<u8>>>,
    /// The certificates the responses carry, decoded on first need, once for all responses.
    carried: std::cell::RefCell<Vec<(Vec<u8>, X509)>>,
    /// Certificates not decoded yet (DER), tried with `others` when a response does not
    /// verify with `others` alone.
    fallback: Vec<&'a [u8]>,
    decoded_fallback: std::cell::OnceCell<Vec<X509>>,
    /// Where certificates are decoded (and kept for later validations), when given.
    cache: Option<&'a super::cache::TrustCache>,
}

/// One basic response, decoded without the certificates it carries (`certs`, RFC 6960
/// §4.2.1): decoding a certificate is the dearest part of reading revocation data, and they
/// are often the signature's own certificates again, or the same responder in every response.
struct Basic {
    response: OcspBasicResponse,
    /// DER of the certificates it carried, in their order.
    certs: Vec<Vec<u8>>,
}

impl<'a> Parsed<'a> {
    /// Decodes the successful basic responses among the DER `responses` (whole OCSPResponses
    /// or bare BasicOCSPResponses), skipping the rest; `others` as in [`status`].
    pub fn new(responses: &[Vec<u8>], others: &[X509]) -> Parsed<'a> {
        Parsed::about(responses, others, &[])
    }

    /// Like [`Parsed::new`], but decodes only the responses that may be about one of `certs`
    /// (those whose DER holds its serial number, which every CertID about it carries, RFC 6960
    /// §4.1.1); all of them when `certs` is empty.
    pub fn about(responses: &[Vec<u8>], others: &[X509], certs: &[&X509Ref]) -> Parsed<'a> {
        let serials: Option<Vec<Vec<u8>>> = certs
            .iter()
            .map(|c| {
                let bn = c.serial_number().to_bn().ok()?;
                let bytes = bn.to_vec();
                (!bn.is_negative() && !bytes.is_empty()).then_some(bytes)
            })
            .collect();
        let wanted = |der: &[u8]| match &serials {
            Some(s) if !s.is_empty() => s
                .iter()
                .any(|serial| der.windows(serial.len()).any(|w| w == serial.as_slice())),
            _ => true,
        };
        let basics = responses
            .iter()
            .filter(|der| wanted(der))
            .filter_map(|der| basic(der))
            .collect();
        Parsed {
            basics,
            others: others.to_vec(),
            others_der: std::cell::OnceCell::new(),
            carried: std::cell::RefCell::new(Vec::new()),
            fallback: Vec::new(),
            decoded_fallback: std::cell::OnceCell::new(),
            cache: None,
        }
    }

    /// Certificates (DER, decoded only if needed) that may also hold a delegated responder's
    /// certificate: a response that does not verify with `others` is tried again with these.
    pub fn or_with(mut self, fallback: Vec<&'a [u8]>) -> Parsed<'a> {
        self.fallback = fallback;
        self
    }

    /// Decodes certificates through the trust material's cache of decoded certificates.
    pub fn decoding_with(mut self, cache: &'a super::cache::TrustCache) -> Parsed<'a> {
        self.cache = Some(cache);
        self
    }

    fn decode(&self, der: &[u8]) -> Option<X509> {
        match self.cache {
            Some(c) => c.certificate(der),
            None => crate::signature::decoded::certificate(der),
        }
    }

    /// A certificate a response carried: one of `others` with the same DER, else decoded
    /// (once for all responses).
    fn carried(&self, der: &[u8]) -> Option<X509> {
        let others_der = self
            .others_der
            .get_or_init(|| self.others.iter().filter_map(|c| c.to_der().ok()).collect());
        if let Some(i) = others_der.iter().position(|d| d.as_slice() == der) {
            return self.others.get(i).cloned();
        }
        let mut carried = self.carried.borrow_mut();
        if let Some((_, c)) = carried.iter().find(|(d, _)| d.as_slice() == der) {
            return Some(c.clone());
        }
        let c = self.decode(der)?;
        carried.push((der.to_vec(), c.clone()));
        Some(c)
    }

    /// Whether `b` verifies (`OCSP_basic_verify` against a store of the issuer alone) with the
    /// certificates it carried, then `others`, as untrusted certificates — what openssl does
    /// with a response that still holds them — and, failing that, also the fallback ones.
    fn verifies(&self, b: &Basic, store: &X509Store) -> bool {
        let stack = |extra: &[X509]| -> Option<Stack<X509>> {
            let mut st = Stack::new().ok()?;
            // A carried certificate that does not decode makes the response unusable, as
            // when openssl decodes the response whole.
            for der in &b.certs {
                st.push(self.carried(der)?).ok()?;
            }
            for c in self.others.iter().chain(extra) {
                st.push(c.clone()).ok()?;
            }
            Some(st)
        };
        let with = |st: &Stack<X509>| b.response.verify(st, store, OcspFlag::empty()).is_ok();
        if stack(&[]).as_ref().is_some_and(with) {
            return true;
        }
        if self.fallback.is_empty() {
            return false;
        }
        let decoded = self.decoded_fallback.get_or_init(|| {
            self.fallback
                .iter()
                .filter_map(|d| self.decode(d))
                .collect()
        });
        stack(decoded).as_ref().is_some_and(with)
    }

    /// The status of `cert` (issued by `issuer`) in these responses.
    pub fn status(&self, cert: &X509Ref, issuer: &X509Ref) -> Status {
        // The certificate is looked up first (CertID with SHA-1, else SHA-256, RFC 6960
        // §4.1.1), so a response about other certificates costs no signature verification.
        let ids = [MessageDigest::sha1(), MessageDigest::sha256()]
            .into_iter()
            .filter_map(|md| OcspCertId::from_cert(md, cert, issuer).ok())
            .collect::<Vec<_>>();
        let mut store = None;
        self.basics
            .iter()
            .filter_map(|b| {
                let s = ids.iter().find_map(|id| b.response.find_status(id))?;
                if store.is_none() {
                    store = issuer_store(issuer);
                }
                if !self.verifies(b, store.as_ref()?) {
                    return None;
                }
                read(&s)
            })
            .fold(Status::Unknown, Status::merge)
    }
}

/// The successful basic response in `der` (a whole OCSPResponse or a bare BasicOCSPResponse),
/// decoded without the certificates it carries.
fn basic(der: &[u8]) -> Option<Basic> {
    let basic_der = match OcspResponse::from_der(der) {
        // Decoding a whole response leaves its basic response undecoded (an OCTET STRING).
        Ok(r) if r.status() != OcspResponseStatus::SUCCESSFUL => return None,
        Ok(_) => basic_of(der),
        Err(_) => Some(der.to_vec()),
    };
    if let Some((stripped, certs)) = basic_der.as_deref().and_then(split_certs) {
        if let Some(response) = OcspResponse::from_der(&wrap_basic(&stripped))
            .ok()
            .and_then(|r| r.basic().ok())
        {
            return Some(Basic { response, certs });
        }
    }
    // What the split could not read, openssl reads whole.
    let response = match OcspResponse::from_der(der) {
        Ok(r) => r,
        Err(_) => OcspResponse::from_der(&wrap_basic(der)).ok()?,
    };
    if response.status() != OcspResponseStatus::SUCCESSFUL {
        return None;
    }
    Some(Basic {
        response: response.basic().ok()?,
        certs: Vec::new(),
    })
}

/// A BasicOCSPResponse without its `certs [0]`, and the DER of those certificates. The signed
/// part (`tbsResponseData`) keeps its bytes as received.
fn split_certs(basic: &[u8]) -> Option<(Vec<u8>, Vec<Vec<u8>>)> {
    use crate::signature::der::{self, Tag};
    let (top, _) = der::read(basic).ok()?;
    let mut kept = Vec::new();
    let mut certs = Vec::new();
    for item in der::children_raw(top.content) {
        let (t, raw) = item.ok()?;
        if t.tag == Tag::context(0, true) {
            let (seq, _) = der::read(t.content).ok()?;
            for c in der::children_raw(seq.content) {
                certs.push(c.ok()?.1.to_vec());
            }
        } else {
            kept.extend_from_slice(raw);
        }
    }
    Some((tlv(0x30, &kept), certs))
}

/// A store holding only `issuer`, checked with no clock.
fn issuer_store(issuer: &X509Ref) -> Option<X509Store> {
    let mut store = X509StoreBuilder::new().ok()?;
    store.add_cert(issuer.to_owned()).ok()?;
    store
        .set_flags(X509VerifyFlags::PARTIAL_CHAIN | X509VerifyFlags::NO_CHECK_TIME)
        .ok()?;
    Some(store.build())
}

fn read(s: &OcspStatus<'_>) -> Option<Status> {
    if s.status == OcspCertStatus::REVOKED {
        return Some(Status::Revoked(to_utc(s.revocation_time?)?));
    }
    if s.status != OcspCertStatus::GOOD {
        return None;
    }
    Some(Status::Good(Issued {
        this_update: to_utc(s.this_update)?,
        next_update: s.next_update().and_then(to_utc),
    }))
}

/// The status of `cert` in one DER response, `None` when the response is unusable (not
/// successful, not verifiable, or silent about `cert`).
pub fn one(cert: &X509Ref, issuer: &X509Ref, der: &[u8], others: &[X509]) -> Option<Status> {
    match Parsed::new(std::slice::from_ref(&der.to_vec()), others).status(cert, issuer) {
        Status::Unknown => None,
        s => Some(s),
    }
}

/// One DER element: tag, definite length, content (for the few structures written here and
/// in [`super::online`]).
pub(crate) fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|&b| b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

/// The BasicOCSPResponse (DER) inside an OCSPResponse: the reverse of [`wrap_basic`].
pub fn basic_of(response: &[u8]) -> Option<Vec<u8>> {
    use crate::signature::der::{self, Tag};
    let (top, _) = der::read(response).ok()?;
    let bytes = der::children(top.content)
        .filter_map(Result::ok)
        .find(|t| t.tag == Tag::context(0, true))?;
    let (rb, _) = der::read(bytes.content).ok()?;
    let octets = der::children(rb.content).filter_map(Result::ok).nth(1)?;
    Some(octets.content.to_vec())
}

/// A BasicOCSPResponse (what CAdES `ocspVals` and some XAdES `EncapsulatedOCSPValue`s hold)
/// as the OCSPResponse it came in: status successful, responseType id-pkix-ocsp-basic
/// (RFC 6960 §4.2.1).
pub fn wrap_basic(basic: &[u8]) -> Vec<u8> {
    // 1.3.6.1.5.5.7.48.1.1
    let basic_oid = [0x2b, 6, 1, 5, 5, 7, 48, 1, 1];
    let bytes = tlv(0x30, &[tlv(0x06, &basic_oid), tlv(0x04, basic)].concat());
    tlv(0x30, &[vec![0x0a, 0x01, 0x00], tlv(0xa0, &bytes)].concat())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::pki;

    fn response(name: &str) -> Vec<u8> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/pki/ocsp");
        std::fs::read(dir.join(format!("{name}.ocsp.der"))).unwrap()
    }

    #[test]
    fn reads_a_revocation_from_the_test_responder() {
        let p = pki::committed().unwrap();
        let ca = &p.get("qualified-ca").unwrap().cert;
        let s = status(
            &p.get("revoked-signer").unwrap().cert,
            ca,
            &[response("revoked-signer")],
            &[],
        );
        assert!(
            matches!(s, Status::Revoked(t) if t.to_rfc3339() == "2024-06-01T00:00:00+00:00"),
            "{s:?}"
        );
        let s = status(
            &p.get("qes-signer").unwrap().cert,
            ca,
            &[response("qes-signer")],
            &[],
        );
        assert!(matches!(s, Status::Good(_)), "{s:?}");
    }

    #[test]
    fn a_bare_basic_response_reads_like_the_whole_response() {
        let p = pki::committed().unwrap();
        let ca = &p.get("qualified-ca").unwrap().cert;
        let whole = response("revoked-signer");
        let basic = basic_of(&whole).unwrap();
        assert_eq!(wrap_basic(&basic), whole);
        let s = status(&p.get("revoked-signer").unwrap().cert, ca, &[basic], &[]);
        assert!(matches!(s, Status::Revoked(_)), "{s:?}");
    }

    #[test]
    fn a_response_about_another_certificate_says_nothing() {
        let p = pki::committed().unwrap();
        let ca = &p.get("qualified-ca").unwrap().cert;
        let s = status(
            &p.get("qes-signer").unwrap().cert,
            ca,
            &[response("revoked-signer")],
            &[],
        );
        assert_eq!(s, Status::Unknown);
    }

    #[test]
    fn a_response_signed_by_someone_else_is_ignored() {
        let p = pki::committed().unwrap();
        let other = &p.get("commercial-ca").unwrap().cert;
        let s = status(
            &p.get("revoked-signer").unwrap().cert,
            other,
            &[response("revoked-signer")],
            &[],
        );
        assert_eq!(s, Status::Unknown);
    }
}
