//! Test-only signer: makes enveloped and detached XAdES-B signatures with a throw-away key and
//! certificate through the library signer of [`super::sign`] (this module's own exclusive
//! canonicalization, conformance-tested in `c14n_conformance.rs`), so verification tests need no
//! stored fixtures.

use openssl::asn1::Asn1Time;
use openssl::bn::BigNum;
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::x509::{X509Builder, X509NameBuilder, X509};

/// A key and its self-signed certificate.
pub struct TestSigner {
    /// The private key.
    pub key: PKey<Private>,
    /// The certificate.
    pub cert: X509,
}

pub use crate::signature::xml::sign::Options;

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

/// Signs `document` (whose root element's end tag is the last thing in it) with an enveloped
/// XAdES-B-B signature, or a detached one with [`Options::detached`]: the library signer of
/// [`super::sign`], with the throw-away key.
pub fn sign(document: &str, s: &TestSigner, opts: &Options) -> String {
    crate::signature::xml::sign::sign(document, &s.key, &s.cert, opts).unwrap()
}
