//! The XAdES-B-B signer (ETSI EN 319 132-1 §4.2, baseline B-B): the office seals its receipts
//! with it (`receipt`), and the test fixtures (`fixtures::xades`) and unit tests sign with it.
//! Enveloped by default; enveloping, detached and by-Id references on request ([`Options`]).
//!
//! The signature is built from a template with placeholders, which are filled in order over
//! this module's own exclusive canonicalization (the one the verifier uses): the data digest,
//! the SignedProperties digest, then the SignatureValue over the canonical SignedInfo. RSA
//! PKCS#1 v1.5 is deterministic, so the same inputs give the same bytes; ECDSA is not.

use crate::signature::xml::c14n::{canonicalize, Method, Params};
use crate::signature::xml::nodeset::NodeSet;
use crate::signature::xml::transforms::is_dsig;
use base64::Engine;
use openssl::error::ErrorStack;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, PKeyRef, Private};
use openssl::x509::X509;
use roxmltree::Document;
use thiserror::Error;

/// Why a signature could not be made.
#[derive(Debug, Error)]
pub enum SignError {
    /// OpenSSL refused a key, a certificate or a digest.
    #[error("openssl: {0}")]
    Openssl(#[from] ErrorStack),
    /// The template or the document is not what the signer expects.
    #[error("signature template: {0}")]
    Template(&'static str),
    /// No certificate of the PEM file belongs to the private key.
    #[error("no certificate matches the private key")]
    NoMatchingCertificate,
}

/// Options of a signature.
#[derive(Default, Clone)]
pub struct Options {
    /// Extra XML placed in SignerRole/ClaimedRoles/ClaimedRole (e.g. a `ppZP:PodpisZP`).
    pub claimed_role: Option<String>,
    /// Sign a detached file of this name and content instead of the enveloping document.
    pub detached: Option<(String, Vec<u8>)>,
    /// Name this certificate in SigningCertificateV2 instead of the signer's.
    pub other_signing_certificate: Option<X509>,
    /// Sign the element with this `Id` (by `#id`) instead of the whole document.
    pub element_id: Option<String>,
    /// With `element_id`: this transform algorithm instead of exclusive C14N.
    pub element_transform: Option<String>,
    /// Enveloping: the document goes into `ds:Object Id="obj-1"`, signed by `#obj-1`.
    pub enveloping: bool,
    /// SigningTime as `xsd:dateTime` (default 2020-04-20T10:11:12Z, the test signer's).
    pub signing_time: Option<String>,
    /// Further certificates put into KeyInfo after the signer's (its chain towards the root).
    pub chain: Vec<X509>,
}

/// A private key with its certificate and the certificates of its chain: the office's seal.
#[derive(Clone)]
pub struct SigningKey {
    key: PKey<Private>,
    cert: X509,
    chain: Vec<X509>,
}

impl SigningKey {
    /// Reads a PEM private key (PKCS#8 or traditional) and a PEM file of certificates: the one
    /// whose public key is the key's is the signer's, the others (in file order) its chain.
    pub fn from_pem(key_pem: &[u8], certs_pem: &[u8]) -> Result<SigningKey, SignError> {
        let key = PKey::private_key_from_pem(key_pem)?;
        let mut certs = X509::stack_from_pem(certs_pem)?;
        let at = certs
            .iter()
            .position(|c| c.public_key().is_ok_and(|p| p.public_eq(&key)))
            .ok_or(SignError::NoMatchingCertificate)?;
        let cert = certs.remove(at);
        Ok(SigningKey {
            key,
            cert,
            chain: certs,
        })
    }

    /// The signer's certificate subject, one line (for the log).
    pub fn subject(&self) -> String {
        super::certinfo::name_to_string(self.cert.subject_name())
    }

    /// Seals `document` (its root's end tag the last markup in it) with an enveloped XAdES-B-B
    /// signature: SigningCertificateV2, SigningTime `signing_time` (`xsd:dateTime`), exclusive
    /// C14N, RSA or ECDSA with SHA-256, the certificate and its chain in KeyInfo.
    pub fn sign_enveloped(&self, document: &str, signing_time: &str) -> Result<String, SignError> {
        let opts = Options {
            signing_time: Some(signing_time.to_string()),
            chain: self.chain.clone(),
            ..Options::default()
        };
        sign(document, &self.key, &self.cert, &opts)
    }
}

const EXC: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
const SHA256_URI: &str = "http://www.w3.org/2001/04/xmlenc#sha256";

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn sha256_b64(data: &[u8]) -> Result<String, SignError> {
    Ok(b64(&openssl::hash::hash(MessageDigest::sha256(), data)?))
}

fn exc() -> Params {
    Params {
        method: Method::Exclusive,
        with_comments: false,
        inclusive_prefixes: Vec::new(),
    }
}

/// The data reference of a signature (XML-DSig §4.4.3).
fn data_reference(opts: &Options) -> Result<String, SignError> {
    let id = if opts.enveloping {
        Some("obj-1")
    } else {
        opts.element_id.as_deref()
    };
    Ok(match (&opts.detached, id) {
        (Some((name, bytes)), _) => format!(
            r#"<ds:Reference Id="r-data" URI="{name}"><ds:DigestMethod Algorithm="{SHA256_URI}"/><ds:DigestValue>{}</ds:DigestValue></ds:Reference>"#,
            sha256_b64(bytes)?
        ),
        (None, Some(id)) => format!(
            r##"<ds:Reference Id="r-data" URI="#{id}"><ds:Transforms><ds:Transform Algorithm="{}"/></ds:Transforms><ds:DigestMethod Algorithm="{SHA256_URI}"/><ds:DigestValue>DOC-DIGEST</ds:DigestValue></ds:Reference>"##,
            opts.element_transform.as_deref().unwrap_or(EXC)
        ),
        (None, None) => format!(
            r#"<ds:Reference Id="r-data" URI=""><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/><ds:Transform Algorithm="{EXC}"/></ds:Transforms><ds:DigestMethod Algorithm="{SHA256_URI}"/><ds:DigestValue>DOC-DIGEST</ds:DigestValue></ds:Reference>"#
        ),
    })
}

/// The `ds:Signature` with placeholders for the digests and the value.
fn template(cert: &X509, ec: bool, opts: &Options, object: &str) -> Result<String, SignError> {
    let method = if ec {
        "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
    } else {
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
    };
    let named = opts.other_signing_certificate.as_ref().unwrap_or(cert);
    let cert_digest = sha256_b64(&named.to_der()?)?;
    let role = opts
        .claimed_role
        .as_ref()
        .map(|r| format!("<xades:SignerRole><xades:ClaimedRoles><xades:ClaimedRole>{r}</xades:ClaimedRole></xades:ClaimedRoles></xades:SignerRole>"))
        .unwrap_or_default();
    let time = opts
        .signing_time
        .as_deref()
        .unwrap_or("2020-04-20T10:11:12Z");
    let mut certs = format!(
        "<ds:X509Certificate>{}</ds:X509Certificate>",
        b64(&cert.to_der()?)
    );
    for c in &opts.chain {
        certs.push_str(&format!(
            "<ds:X509Certificate>{}</ds:X509Certificate>",
            b64(&c.to_der()?)
        ));
    }
    Ok(format!(
        r##"<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Id="sig-1"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="{EXC}"/><ds:SignatureMethod Algorithm="{method}"/>{data_ref}<ds:Reference Type="http://uri.etsi.org/01903#SignedProperties" URI="#sp-1"><ds:Transforms><ds:Transform Algorithm="{EXC}"/></ds:Transforms><ds:DigestMethod Algorithm="{SHA256_URI}"/><ds:DigestValue>SP-DIGEST</ds:DigestValue></ds:Reference></ds:SignedInfo><ds:SignatureValue>SIGNATURE-VALUE</ds:SignatureValue><ds:KeyInfo><ds:X509Data>{certs}</ds:X509Data></ds:KeyInfo>{object}<ds:Object><xades:QualifyingProperties xmlns:xades="http://uri.etsi.org/01903/v1.3.2#" Target="#sig-1"><xades:SignedProperties Id="sp-1"><xades:SignedSignatureProperties><xades:SigningTime>{time}</xades:SigningTime><xades:SigningCertificateV2><xades:Cert><xades:CertDigest><ds:DigestMethod Algorithm="{SHA256_URI}"/><ds:DigestValue>{cert_digest}</ds:DigestValue></xades:CertDigest></xades:Cert></xades:SigningCertificateV2>{role}</xades:SignedSignatureProperties></xades:SignedProperties></xades:QualifyingProperties></ds:Object></ds:Signature>"##,
        data_ref = data_reference(opts)?,
    ))
}

/// Places the signature: before the root's end tag (enveloped), around the document
/// (enveloping), or alone (detached). Returns the XML and where the signature starts in it.
fn place(document: &str, signature: String, opts: &Options) -> Result<(String, usize), SignError> {
    if opts.detached.is_some() || opts.enveloping {
        return Ok((signature, 0));
    }
    let end = document
        .rfind("</")
        .ok_or(SignError::Template("document has no end tag"))?;
    let (head, tail) = (
        document.get(..end).unwrap_or_default(),
        document.get(end..).unwrap_or_default(),
    );
    Ok((format!("{head}{signature}{tail}"), end))
}

/// Signs `document` with an XAdES-B-B signature (enveloped by default; see [`Options`]).
pub fn sign(
    document: &str,
    key: &PKeyRef<Private>,
    cert: &X509,
    opts: &Options,
) -> Result<String, SignError> {
    let ec = key.ec_key().is_ok();
    let body = document
        .trim_start_matches(|c| c != '<')
        .strip_prefix("<?xml")
        .and_then(|rest| rest.split_once("?>").map(|(_, r)| r))
        .unwrap_or(document);
    let object = if opts.enveloping {
        format!(r#"<ds:Object Id="obj-1">{body}</ds:Object>"#)
    } else {
        String::new()
    };
    let (xml, at) = place(document, template(cert, ec, opts, &object)?, opts)?;
    let element_id = opts
        .element_id
        .clone()
        .or_else(|| opts.enveloping.then(|| "obj-1".to_string()));
    let xml = if opts.detached.is_some() {
        xml
    } else {
        fill(&xml, at, "DOC-DIGEST", |doc| {
            document_digest(doc, element_id.as_deref())
        })?
    };
    let xml = fill(&xml, at, "SP-DIGEST", |doc| {
        let sp = doc
            .descendants()
            .find(|n| n.attribute("Id") == Some("sp-1"))
            .ok_or(SignError::Template("no SignedProperties"))?;
        sha256_b64(&canonicalize(doc, &NodeSet::subtree(doc, sp), &exc()))
    })?;
    fill(&xml, at, "SIGNATURE-VALUE", |doc| {
        signature_value(doc, key, ec)
    })
}

/// The digest of the signed document or element (comments dropped, signature removed).
fn document_digest(doc: &Document, element_id: Option<&str>) -> Result<String, SignError> {
    let sig = doc
        .descendants()
        .find(|n| is_dsig(*n, "Signature"))
        .ok_or(SignError::Template("no Signature"))?;
    let mut set = match element_id {
        Some(id) => {
            let el = doc
                .descendants()
                .find(|n| n.attribute("Id") == Some(id))
                .ok_or(SignError::Template("no element with the signed Id"))?;
            NodeSet::subtree(doc, el)
        }
        None => NodeSet::whole(doc),
    };
    set.remove_comments(doc);
    if element_id.is_none() {
        set.remove_subtree(sig);
    }
    sha256_b64(&canonicalize(doc, &set, &exc()))
}

/// The SignatureValue over the canonical SignedInfo (ECDSA as r‖s, XML-DSig 1.1 §6.4.3).
fn signature_value(doc: &Document, key: &PKeyRef<Private>, ec: bool) -> Result<String, SignError> {
    let si = doc
        .descendants()
        .find(|n| is_dsig(*n, "SignedInfo"))
        .ok_or(SignError::Template("no SignedInfo"))?;
    let canonical = canonicalize(doc, &NodeSet::subtree(doc, si), &exc());
    let mut signer = openssl::sign::Signer::new(MessageDigest::sha256(), key)?;
    signer.update(&canonical)?;
    let mut value = signer.sign_to_vec()?;
    if ec {
        let sig = openssl::ecdsa::EcdsaSig::from_der(&value)?;
        // The field size of the curve (32 bytes for P-256, 48 for P-384).
        let len = key
            .ec_key()
            .ok()
            .and_then(|k| i32::try_from(k.group().degree().div_ceil(8)).ok())
            .unwrap_or(32);
        value = sig.r().to_vec_padded(len)?;
        value.extend(sig.s().to_vec_padded(len)?);
    }
    Ok(b64(&value))
}

/// Replaces `placeholder` (searched from `from`, the start of the signature, so the signed
/// document's own text can never be taken for it) with what `compute` makes of the parsed XML.
fn fill(
    xml: &str,
    from: usize,
    placeholder: &str,
    compute: impl Fn(&Document) -> Result<String, SignError>,
) -> Result<String, SignError> {
    let doc = Document::parse(xml).map_err(|_| SignError::Template("signed XML does not parse"))?;
    let value = compute(&doc)?;
    let at = xml
        .get(from..)
        .and_then(|s| s.find(placeholder))
        .map(|i| i + from)
        .ok_or(SignError::Template("placeholder missing"))?;
    let mut out = String::with_capacity(xml.len() + value.len());
    out.push_str(xml.get(..at).unwrap_or_default());
    out.push_str(&value);
    out.push_str(xml.get(at + placeholder.len()..).unwrap_or_default());
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::fixtures::pki;

    #[test]
    fn text_that_looks_like_a_placeholder_is_signed_as_it_is() {
        let p = pki::committed().unwrap();
        let seal = p.get("qseal").unwrap();
        let doc = "<a><b>DOC-DIGEST SP-DIGEST SIGNATURE-VALUE</b></a>";
        let signed = sign(doc, &seal.key, &seal.cert, &Options::default()).unwrap();
        assert!(signed.starts_with("<a><b>DOC-DIGEST SP-DIGEST SIGNATURE-VALUE</b>"));
        let r = crate::signature::xml::verify_xml("a.xml", signed.as_bytes(), &|_| None);
        assert_eq!(r.signatures.first().and_then(|s| s.intact), Some(true));
    }

    #[test]
    fn the_signer_certificate_is_found_among_its_chain() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/pki");
        let key = std::fs::read(dir.join("qseal.key.pem")).unwrap();
        let mut certs = std::fs::read(dir.join("qualified-ca.crt.pem")).unwrap();
        certs.extend(std::fs::read(dir.join("qseal.crt.pem")).unwrap());
        let k = SigningKey::from_pem(&key, &certs).unwrap();
        assert!(k.subject().contains("Gmina Testowa"), "{}", k.subject());
        assert_eq!(k.chain.len(), 1);
        let other = std::fs::read(dir.join("qes-signer.crt.pem")).unwrap();
        assert!(matches!(
            SigningKey::from_pem(&key, &other),
            Err(SignError::NoMatchingCertificate)
        ));
    }
}
