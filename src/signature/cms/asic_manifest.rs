//! `ASiCManifest` (ETSI EN 319 162-1 §4.4.3.2, Annex A.4): the signature it names
//! (`SigReference`) and the data objects it covers (`DataObjectReference` with an XML-DSig
//! `DigestMethod` and `DigestValue`), read with roxmltree (no DTD) and checked against the
//! container's entries.

use super::certs;
use super::evidence::Failure;
use base64::Engine;
use openssl::hash::{hash, MessageDigest};

/// One `DataObjectReference`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// The entry name (`URI`).
    pub uri: String,
    /// `DigestMethod/@Algorithm`.
    pub method: String,
    /// `DigestValue`, decoded.
    pub digest: Vec<u8>,
}

/// A parsed manifest.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Manifest {
    /// `SigReference/@URI`.
    pub signature: Option<String>,
    /// The data objects.
    pub references: Vec<Reference>,
}

/// Reads an ASiCManifest.
pub fn parse(bytes: &[u8]) -> Result<Manifest, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "ASiCManifest is not UTF-8".to_string())?;
    let doc = roxmltree::Document::parse(text).map_err(|e| format!("ASiCManifest: {e}"))?;
    let mut out = Manifest::default();
    for node in doc.descendants().filter(|n| n.is_element()) {
        match node.tag_name().name() {
            "SigReference" => out.signature = node.attribute("URI").map(str::to_string),
            "DataObjectReference" => {
                let child = |name: &str| node.children().find(|c| c.tag_name().name() == name);
                let method = child("DigestMethod")
                    .and_then(|m| m.attribute("Algorithm"))
                    .unwrap_or_default()
                    .to_string();
                let value: String = child("DigestValue")
                    .and_then(|v| v.text())
                    .unwrap_or_default()
                    .chars()
                    .filter(|c| !c.is_whitespace())
                    .collect();
                let digest = base64::engine::general_purpose::STANDARD
                    .decode(value)
                    .map_err(|_| "ASiCManifest: DigestValue is not base64".to_string())?;
                out.references.push(Reference {
                    uri: node.attribute("URI").unwrap_or_default().to_string(),
                    method,
                    digest,
                });
            }
            _ => {}
        }
    }
    Ok(out)
}

/// XML-DSig digest method URIs (W3C XML Signature 1.1 §6.2, RFC 6931 §2.1).
fn digest_method(uri: &str) -> Option<MessageDigest> {
    Some(match uri.rsplit('#').next()? {
        "sha1" => MessageDigest::sha1(),
        "sha224" => MessageDigest::sha224(),
        "sha256" => MessageDigest::sha256(),
        "sha384" => MessageDigest::sha384(),
        "sha512" => MessageDigest::sha512(),
        "sha3-256" => MessageDigest::sha3_256(),
        "sha3-384" => MessageDigest::sha3_384(),
        "sha3-512" => MessageDigest::sha3_512(),
        _ => return None,
    })
}

/// Checks one reference against the entry `fetch` returns; the SHA-256 of the entry when it
/// matches.
pub fn check(
    r: &Reference,
    fetch: impl FnOnce(&str) -> Option<Vec<u8>>,
) -> Result<String, (Failure, String)> {
    let md = digest_method(&r.method).ok_or_else(|| {
        (
            Failure::Unsupported,
            format!("{}: unsupported digest method {}", r.uri, r.method),
        )
    })?;
    let data = fetch(&r.uri).ok_or_else(|| {
        (
            Failure::SignedDataNotFound,
            format!("{}: named by the manifest, not in the container", r.uri),
        )
    })?;
    let digest = hash(md, &data).map_err(|e| (Failure::Format, e.to_string()))?;
    if *digest != *r.digest {
        return Err((
            Failure::Hash,
            format!("{}: digest does not match the manifest", r.uri),
        ));
    }
    Ok(certs::sha256_hex(&data))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = r#"<asic:ASiCManifest xmlns:asic="http://uri.etsi.org/02918/v1.2.1#"><asic:SigReference URI="META-INF/signature001.p7s"/><asic:DataObjectReference URI="a.txt"><DigestMethod xmlns="http://www.w3.org/2000/09/xmldsig#" Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><DigestValue xmlns="http://www.w3.org/2000/09/xmldsig#">LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=</DigestValue></asic:DataObjectReference></asic:ASiCManifest>"#;

    #[test]
    fn checks_manifest_digests_against_the_entries() {
        let m = parse(MANIFEST.as_bytes()).unwrap();
        assert_eq!(m.signature.as_deref(), Some("META-INF/signature001.p7s"));
        let r = &m.references[0];
        assert!(check(r, |_| Some(b"hello".to_vec())).is_ok());
        assert_eq!(
            check(r, |_| Some(b"other".to_vec())).unwrap_err().0,
            Failure::Hash
        );
        assert_eq!(
            check(r, |_| None).unwrap_err().0,
            Failure::SignedDataNotFound
        );
        assert!(parse(b"<!DOCTYPE x [<!ENTITY a 'b'>]><x/>").is_err());
    }
}
