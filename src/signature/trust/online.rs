//! Online revocation (issue 5; off by default, `[trust] online_revocation`): OCSP requests
//! (RFC 6960, POST, optional nonce of RFC 8954) to the responders of the certificate's
//! authorityInfoAccess (RFC 5280 §4.2.2.1), then CRLs (RFC 5280 §5) from its
//! cRLDistributionPoints (§4.2.1.13), over HTTP with a deadline and a size bound.
//!
//! Everything fetched that says something about the certificate is kept in the revocation
//! cache (`ocsp/<key>.der`, `crl/<sha256 of the address>.crl`) and is evidence from then on:
//! validation reads the cache whether or not fetching is on, so a validation without network
//! gives the same verdict from the same cache (DESIGN.md invariant 4). Nothing here reads a
//! clock; whether data is fresh enough not to fetch is decided against the validation time.

use super::http::{self, Limits};
use super::ocsp::{self, tlv};
use super::revocation::{self, Status};
use openssl::x509::{X509Crl, X509Ref, X509};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// id-pkix-ocsp-nonce (RFC 6960 §4.4.1).
const NONCE_OID: &str = "1.3.6.1.5.5.7.48.1.2";
/// id-sha1, the hash of CertID that every responder supports (RFC 6960 §4.1.1, RFC 5019 §2.1.1).
const SHA1_OID: &str = "1.3.14.3.2.26";

/// How revocation data is fetched, cached and judged fresh (config `[trust]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Fetch over the network when nothing fresh is at hand.
    pub fetch: bool,
    /// Where fetched responses and CRLs are kept (`None`: no cache, nothing kept).
    pub cache_dir: Option<PathBuf>,
    /// Deadline and size bound of one fetch.
    pub limits: Limits,
    /// Send a nonce in OCSP requests; an answer carrying another nonce is refused.
    pub nonce: bool,
    /// How long data without nextUpdate stays fresh after its thisUpdate.
    pub max_age: chrono::Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            fetch: false,
            cache_dir: None,
            limits: Limits {
                timeout: Duration::from_secs(10),
                max_bytes: 10 * 1024 * 1024,
            },
            nonce: false,
            max_age: chrono::Duration::days(1),
        }
    }
}

impl Settings {
    /// Settings from `[trust]`; the cache defaults to `<anchors_dir>/revocation`.
    pub fn from_config(c: &crate::config::TrustConfig, anchors_dir: &Path) -> Settings {
        let cache_dir = if c.revocation_cache_dir.is_empty() {
            anchors_dir.join("revocation")
        } else {
            PathBuf::from(&c.revocation_cache_dir)
        };
        Settings {
            fetch: c.online_revocation,
            cache_dir: Some(cache_dir),
            limits: Limits {
                timeout: Duration::from_secs(c.fetch_timeout_secs.max(1)),
                max_bytes: c.fetch_max_bytes,
            },
            nonce: c.ocsp_nonce,
            max_age: chrono::Duration::seconds(
                i64::try_from(c.revocation_max_age_secs).unwrap_or(i64::MAX / 1000),
            ),
        }
    }
}

/// The OCSP responder addresses of `cert` (authorityInfoAccess id-ad-ocsp), HTTP only.
pub fn ocsp_urls(cert: &X509Ref) -> Vec<String> {
    cert.ocsp_responders()
        .map(|s| {
            s.iter()
                .map(|u| u.to_string())
                .filter(|u| is_http(u))
                .collect()
        })
        .unwrap_or_default()
}

/// The CRL addresses of `cert` (cRLDistributionPoints fullName URIs), HTTP only.
pub fn crl_urls(cert: &X509Ref) -> Vec<String> {
    let Some(points) = cert.crl_distribution_points() else {
        return Vec::new();
    };
    points
        .iter()
        .filter_map(|p| p.distpoint()?.fullname())
        .flat_map(|names| names.iter().filter_map(|n| n.uri()).map(str::to_string))
        .filter(|u| is_http(u))
        .collect()
}

fn is_http(u: &str) -> bool {
    u.starts_with("http://") || u.starts_with("https://")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The cache file of OCSP answers about `cert`: named by its issuer and serial number.
fn ocsp_file(dir: &Path, cert: &X509Ref, issuer: &X509Ref) -> Option<PathBuf> {
    let mut key = issuer.to_der().ok()?;
    key.extend(cert.serial_number().to_bn().ok()?.to_vec());
    Some(
        dir.join("ocsp")
            .join(format!("{}.der", hex(&openssl::sha::sha256(&key)))),
    )
}

/// The cache file of the CRL fetched from `url`.
fn crl_file(dir: &Path, url: &str) -> PathBuf {
    dir.join("crl").join(format!(
        "{}.crl",
        hex(&openssl::sha::sha256(url.as_bytes()))
    ))
}

/// The cached OCSP answers (DER) and CRLs that concern `cert`.
pub fn cached(s: &Settings, cert: &X509Ref, issuer: &X509Ref) -> (Vec<Vec<u8>>, Vec<X509Crl>) {
    let Some(dir) = &s.cache_dir else {
        return (Vec::new(), Vec::new());
    };
    let ocsp = ocsp_file(dir, cert, issuer)
        .and_then(|f| std::fs::read(f).ok())
        .into_iter()
        .collect();
    let crls = crl_urls(cert)
        .iter()
        .filter_map(|u| std::fs::read(crl_file(dir, u)).ok())
        .collect::<Vec<_>>();
    (ocsp, revocation::parse_all(&crls))
}

/// Writes `bytes` to `path` through a temporary file and a rename, so a reader never sees half.
fn store(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

/// What a fetch brought: the status it established (`Unknown` if nothing usable) and what
/// went wrong on the way (one line per address tried).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// The status from the fetched data.
    pub status: Status,
    /// Failures, e.g. `OCSP http://…: no answer within 10s`.
    pub errors: Vec<String>,
}

/// Fetches revocation data for `cert`: OCSP from each responder until one answers usably,
/// then, if that left the status open, the CRLs. Usable data goes into the cache.
pub fn fetch(s: &Settings, cert: &X509Ref, issuer: &X509Ref, others: &[X509]) -> Fetched {
    let mut errors = Vec::new();
    let mut status = Status::Unknown;
    for url in ocsp_urls(cert) {
        match fetch_ocsp(s, &url, cert, issuer, others) {
            Ok((st, der)) => {
                status = status.merge(st);
                keep(ocsp_file_for(s, cert, issuer), &der, &mut errors);
                break;
            }
            Err(e) => errors.push(format!("OCSP {url}: {e}")),
        }
    }
    if matches!(status, Status::Unknown) {
        for url in crl_urls(cert) {
            match fetch_crl(s, &url, cert, issuer) {
                Ok((st, der)) => {
                    status = status.merge(st);
                    let file = s.cache_dir.as_deref().map(|d| crl_file(d, &url));
                    keep(file, &der, &mut errors);
                    break;
                }
                Err(e) => errors.push(format!("CRL {url}: {e}")),
            }
        }
    }
    if errors.is_empty() && matches!(status, Status::Unknown) {
        errors.push("the certificate names no OCSP responder and no CRL address".into());
    }
    Fetched { status, errors }
}

fn ocsp_file_for(s: &Settings, cert: &X509Ref, issuer: &X509Ref) -> Option<PathBuf> {
    s.cache_dir
        .as_deref()
        .and_then(|d| ocsp_file(d, cert, issuer))
}

fn keep(file: Option<PathBuf>, der: &[u8], errors: &mut Vec<String>) {
    if let Some(f) = file {
        if let Err(e) = store(&f, der) {
            errors.push(format!("revocation cache {}: {e}", f.display()));
        }
    }
}

fn fetch_ocsp(
    s: &Settings,
    url: &str,
    cert: &X509Ref,
    issuer: &X509Ref,
    others: &[X509],
) -> Result<(Status, Vec<u8>), String> {
    let nonce = if s.nonce {
        let mut n = [0u8; 16];
        openssl::rand::rand_bytes(&mut n).map_err(|e| e.to_string())?;
        Some(n.to_vec())
    } else {
        None
    };
    let req = request(cert, issuer, nonce.as_deref()).ok_or("cannot build the request")?;
    let body =
        http::post(url, "application/ocsp-request", &req, &s.limits).map_err(|e| e.to_string())?;
    if let (Some(sent), Some(got)) = (&nonce, response_nonce(&body)) {
        if *sent != got {
            return Err("the answer carries another nonce (replayed?)".into());
        }
    }
    let st = ocsp::one(cert, issuer, &body, others)
        .ok_or("the answer is not a successful, verifiable response about this certificate")?;
    Ok((st, body))
}

fn fetch_crl(
    s: &Settings,
    url: &str,
    cert: &X509Ref,
    issuer: &X509Ref,
) -> Result<(Status, Vec<u8>), String> {
    let body = http::get(url, &s.limits).map_err(|e| e.to_string())?;
    let crl = X509Crl::from_der(&body)
        .or_else(|_| X509Crl::from_pem(&body))
        .map_err(|_| "not a CRL")?;
    match revocation::status(cert, issuer, [&crl]) {
        Status::Unknown => {
            Err("not a CRL of the certificate's issuer, or its signature fails".into())
        }
        st => Ok((st, crl.to_der().unwrap_or(body))),
    }
}

/// An OCSPRequest (RFC 6960 §4.1.1) for one certificate with a SHA-1 CertID, and a nonce
/// extension when `nonce` is given.
pub fn request(cert: &X509Ref, issuer: &X509Ref, nonce: Option<&[u8]>) -> Option<Vec<u8>> {
    use crate::signature::der;
    let name_hash = openssl::sha::sha1(&issuer.subject_name().to_der().ok()?);
    let spki = issuer.public_key().ok()?.public_key_to_der().ok()?;
    let (seq, _) = der::read(&spki).ok()?;
    let bits = der::children(seq.content).nth(1)?.ok()?;
    let key_hash = openssl::sha::sha1(bits.content.get(1..)?);
    let mut serial = cert.serial_number().to_bn().ok()?.to_vec();
    if serial.first().is_none_or(|b| b & 0x80 != 0) {
        serial.insert(0, 0);
    }
    let alg = tlv(
        0x30,
        &[tlv(0x06, &der::oid_bytes(SHA1_OID)?), vec![0x05, 0x00]].concat(),
    );
    let cert_id = tlv(
        0x30,
        &[
            alg,
            tlv(0x04, &name_hash),
            tlv(0x04, &key_hash),
            tlv(0x02, &serial),
        ]
        .concat(),
    );
    let request_list = tlv(0x30, &tlv(0x30, &cert_id));
    let mut tbs = request_list;
    if let Some(n) = nonce {
        let ext = tlv(
            0x30,
            &[
                tlv(0x06, &der::oid_bytes(NONCE_OID)?),
                tlv(0x04, &tlv(0x04, n)),
            ]
            .concat(),
        );
        tbs.extend(tlv(0xa2, &tlv(0x30, &ext)));
    }
    Some(tlv(0x30, &tlv(0x30, &tbs)))
}

/// The nonce of an OCSPResponse (responseExtensions of the BasicOCSPResponse), if any.
pub fn response_nonce(response: &[u8]) -> Option<Vec<u8>> {
    use crate::signature::der::{self, Class, Tag};
    let (top, _) = der::read(response).ok()?;
    let bytes = der::children(top.content)
        .filter_map(Result::ok)
        .find(|t| t.tag == Tag::context(0, true))?;
    let (rb, _) = der::read(bytes.content).ok()?;
    let basic_octets = der::children(rb.content).filter_map(Result::ok).nth(1)?;
    let (basic, _) = der::read(basic_octets.content).ok()?;
    let (data, _) = der::read(basic.content).ok()?;
    let parts: Vec<_> = der::children(data.content).filter_map(Result::ok).collect();
    let responses = parts.iter().position(|t| t.tag == Tag::SEQUENCE)?;
    let exts = parts
        .get(responses + 1..)?
        .iter()
        .find(|t| t.tag.class == Class::Context && t.tag.number == 1)?;
    let (list, _) = der::read(exts.content).ok()?;
    let want = der::oid_bytes(NONCE_OID)?;
    for ext in der::children(list.content).filter_map(Result::ok) {
        let fields: Vec<_> = der::children(ext.content).filter_map(Result::ok).collect();
        if fields.first().is_some_and(|f| f.content == want.as_slice()) {
            let value = fields.last()?;
            // RFC 8954: the extnValue holds an OCTET STRING; some responders put the raw bytes.
            return Some(match der::read(value.content) {
                Ok((inner, rest)) if rest.is_empty() && inner.tag.number == 4 => {
                    inner.content.to_vec()
                }
                _ => value.content.to_vec(),
            });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::pki;

    #[test]
    fn builds_a_request_openssl_reads_with_the_same_cert_id() {
        let p = pki::committed().unwrap();
        let ca = &p.get("qualified-ca").unwrap().cert;
        let leaf = &p.get("qes-signer").unwrap().cert;
        let der = request(leaf, ca, Some(b"0123456789abcdef")).unwrap();
        let parsed = openssl::ocsp::OcspRequest::from_der(&der).unwrap();
        let mine = parsed.to_der().unwrap();
        assert_eq!(mine, der);
        let mut theirs = openssl::ocsp::OcspRequest::new().unwrap();
        let id =
            openssl::ocsp::OcspCertId::from_cert(openssl::hash::MessageDigest::sha1(), leaf, ca)
                .unwrap();
        theirs.add_id(id).unwrap();
        let theirs = theirs.to_der().unwrap();
        assert_eq!(request(leaf, ca, None).unwrap(), theirs);
    }

    #[test]
    fn the_committed_pki_names_no_addresses() {
        let p = pki::committed().unwrap();
        let leaf = &p.get("qes-signer").unwrap().cert;
        assert!(ocsp_urls(leaf).is_empty());
        assert!(crl_urls(leaf).is_empty());
    }

    #[test]
    fn a_response_without_nonce_has_none() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/pki/ocsp");
        let der = std::fs::read(dir.join("qes-signer.ocsp.der")).unwrap();
        assert_eq!(response_nonce(&der), None);
    }
}
