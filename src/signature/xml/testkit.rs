//! Test-only signer: makes enveloped and detached XAdES-B signatures with a throw-away key and
//! certificate, using this module's own exclusive canonicalization (conformance-tested against
//! the W3C vectors in `c14n_conformance.rs`), so verification tests need no stored fixtures.

use super::c14n::{canonicalize, Method, Params};
use super::nodeset::NodeSet;
use super::transforms::is_dsig;
use base64::Engine;
use openssl::asn1::Asn1Time;
use openssl::bn::BigNum;
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::sign::Signer;
use openssl::x509::{X509Builder, X509NameBuilder, X509};
use roxmltree::Document;

/// A key and its self-signed certificate.
pub struct TestSigner {
    /// The private key.
    pub key: PKey<Private>,
    /// The certificate.
    pub cert: X509,
}

/// Options of a test signature.
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
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A signer with an RSA key or, with `ec`, a P-256 key; subject `CN=cn, serialNumber=PNOPL-...`.
pub fn signer(cn: &str, ec: bool) -> TestSigner {
    let key = if ec {
        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
        PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap()
    } else {
        PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap()
    };
    let mut name = X509NameBuilder::new().unwrap();
    name.append_entry_by_nid(Nid::COMMONNAME, cn).unwrap();
    name.append_entry_by_nid(Nid::GIVENNAME, "Jan").unwrap();
    name.append_entry_by_nid(Nid::SURNAME, "Kowalski").unwrap();
    name.append_entry_by_nid(Nid::SERIALNUMBER, "PNOPL-44051401458")
        .unwrap();
    name.append_entry_by_nid(Nid::COUNTRYNAME, "PL").unwrap();
    let name = name.build();
    let mut b = X509Builder::new().unwrap();
    b.set_version(2).unwrap();
    let serial = BigNum::from_u32(0x1234_5678)
        .unwrap()
        .to_asn1_integer()
        .unwrap();
    b.set_serial_number(&serial).unwrap();
    b.set_subject_name(&name).unwrap();
    b.set_issuer_name(&name).unwrap();
    b.set_pubkey(&key).unwrap();
    b.set_not_before(&Asn1Time::from_unix(1_577_836_800).unwrap())
        .unwrap();
    b.set_not_after(&Asn1Time::from_unix(1_893_456_000).unwrap())
        .unwrap();
    b.sign(&key, MessageDigest::sha256()).unwrap();
    TestSigner {
        key,
        cert: b.build(),
    }
}

const EXC: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";

fn exc() -> Params {
    Params {
        method: Method::Exclusive,
        with_comments: false,
        inclusive_prefixes: Vec::new(),
    }
}

fn sha256_b64(data: &[u8]) -> String {
    b64(&openssl::hash::hash(MessageDigest::sha256(), data).unwrap())
}

/// Signs `document` (whose root element's end tag is the last thing in it) with an enveloped
/// XAdES-B-B signature, or a detached one with [`Options::detached`].
pub fn sign(document: &str, s: &TestSigner, opts: &Options) -> String {
    let ec = s.key.ec_key().is_ok();
    let method = if ec {
        "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
    } else {
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
    };
    let named = opts.other_signing_certificate.as_ref().unwrap_or(&s.cert);
    let cert_digest = sha256_b64(&named.to_der().unwrap());
    let role = opts
        .claimed_role
        .as_ref()
        .map(|r| format!("<xades:SignerRole><xades:ClaimedRoles><xades:ClaimedRole>{r}</xades:ClaimedRole></xades:ClaimedRoles></xades:SignerRole>"))
        .unwrap_or_default();
    let data_ref = match &opts.detached {
        Some((name, bytes)) => format!(
            r#"<ds:Reference Id="r-data" URI="{name}"><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue>{}</ds:DigestValue></ds:Reference>"#,
            sha256_b64(bytes)
        ),
        None if opts.element_id.is_some() => format!(
            r##"<ds:Reference Id="r-data" URI="#{}"><ds:Transforms><ds:Transform Algorithm="{}"/></ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue>DOC-DIGEST</ds:DigestValue></ds:Reference>"##,
            opts.element_id.as_deref().unwrap_or(""),
            opts.element_transform.as_deref().unwrap_or(EXC)
        ),
        None => format!(
            r#"<ds:Reference Id="r-data" URI=""><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/><ds:Transform Algorithm="{EXC}"/></ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue>DOC-DIGEST</ds:DigestValue></ds:Reference>"#
        ),
    };
    let signature = format!(
        r##"<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Id="sig-1"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="{EXC}"/><ds:SignatureMethod Algorithm="{method}"/>{data_ref}<ds:Reference Type="http://uri.etsi.org/01903#SignedProperties" URI="#sp-1"><ds:Transforms><ds:Transform Algorithm="{EXC}"/></ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue>SP-DIGEST</ds:DigestValue></ds:Reference></ds:SignedInfo><ds:SignatureValue>SIGNATURE-VALUE</ds:SignatureValue><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo><ds:Object><xades:QualifyingProperties xmlns:xades="http://uri.etsi.org/01903/v1.3.2#" Target="#sig-1"><xades:SignedProperties Id="sp-1"><xades:SignedSignatureProperties><xades:SigningTime>2020-04-20T10:11:12Z</xades:SigningTime><xades:SigningCertificateV2><xades:Cert><xades:CertDigest><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue>{cert_digest}</ds:DigestValue></xades:CertDigest></xades:Cert></xades:SigningCertificateV2>{role}</xades:SignedSignatureProperties></xades:SignedProperties></xades:QualifyingProperties></ds:Object></ds:Signature>"##,
        cert = b64(&s.cert.to_der().unwrap()),
    );
    let xml = match &opts.detached {
        Some(_) => signature,
        None => {
            let end = document.rfind("</").unwrap();
            format!("{}{}{}", &document[..end], signature, &document[end..])
        }
    };
    let xml = fill(&xml, |doc| {
        let sig = doc
            .descendants()
            .find(|n| is_dsig(*n, "Signature"))
            .unwrap();
        let mut set = match &opts.element_id {
            Some(id) => {
                let el = doc
                    .descendants()
                    .find(|n| n.attribute("Id") == Some(id))
                    .unwrap();
                NodeSet::subtree(doc, el)
            }
            None => NodeSet::whole(doc),
        };
        set.remove_comments(doc);
        set.remove_subtree(sig);
        ("DOC-DIGEST", sha256_b64(&canonicalize(doc, &set, &exc())))
    });
    let xml = fill(&xml, |doc| {
        let sp = doc
            .descendants()
            .find(|n| n.attribute("Id") == Some("sp-1"))
            .unwrap();
        let set = NodeSet::subtree(doc, sp);
        ("SP-DIGEST", sha256_b64(&canonicalize(doc, &set, &exc())))
    });
    let key = &s.key;
    fill(&xml, |doc| {
        let si = doc
            .descendants()
            .find(|n| is_dsig(*n, "SignedInfo"))
            .unwrap();
        let canonical = canonicalize(doc, &NodeSet::subtree(doc, si), &exc());
        let mut signer = Signer::new(MessageDigest::sha256(), key).unwrap();
        signer.update(&canonical).unwrap();
        let mut value = signer.sign_to_vec().unwrap();
        if ec {
            let sig = openssl::ecdsa::EcdsaSig::from_der(&value).unwrap();
            value = sig.r().to_vec_padded(32).unwrap();
            value.extend(sig.s().to_vec_padded(32).unwrap());
        }
        ("SIGNATURE-VALUE", b64(&value))
    })
}

fn fill(xml: &str, compute: impl Fn(&Document) -> (&'static str, String)) -> String {
    let doc = Document::parse(xml).unwrap();
    let (placeholder, value) = compute(&doc);
    xml.replacen(placeholder, &value, 1)
}
