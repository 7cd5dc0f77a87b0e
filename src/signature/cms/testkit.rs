//! Test fixtures made at test time (RFC 5652, RFC 3161, RFC 5035): a small PKI of our own and a
//! hand-rolled SignedData builder, so tests can produce what openssl will not (ESS attributes,
//! non-DER attribute order, swapped certificates, time-stamp tokens, counter-signatures).

use super::certs;
use super::oids;
use crate::signature::der::oid_bytes;
use openssl::asn1::{Asn1Integer, Asn1Time};
use openssl::bn::BigNum;
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::{hash, MessageDigest};
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::sign::Signer;
use openssl::x509::extension::SubjectKeyIdentifier;
use openssl::x509::{X509Name, X509};

/// A key and its certificate.
pub struct Identity {
    pub key: PKey<Private>,
    pub cert: X509,
}

/// A CA, two signers (RSA, EC) and a TSA.
pub struct Pki {
    pub ca: Identity,
    pub rsa: Identity,
    pub ec: Identity,
    pub tsa: Identity,
}

fn name(cn: &str, serial: Option<&str>) -> X509Name {
    let mut b = X509Name::builder().unwrap();
    b.append_entry_by_nid(Nid::COUNTRYNAME, "PL").unwrap();
    b.append_entry_by_nid(Nid::COMMONNAME, cn).unwrap();
    if let Some(s) = serial {
        b.append_entry_by_nid(Nid::SERIALNUMBER, s).unwrap();
    }
    b.build()
}

/// A certificate for `key` named `cn`, issued by `issuer` (self-signed when `None`).
pub fn certificate(key: &PKey<Private>, cn: &str, serial: u32, issuer: Option<&Identity>) -> X509 {
    let mut b = X509::builder().unwrap();
    b.set_version(2).unwrap();
    let serial = Asn1Integer::from_bn(&BigNum::from_u32(serial).unwrap()).unwrap();
    b.set_serial_number(&serial).unwrap();
    let subject = name(cn, (cn == "Jan Kowalski").then_some("PNOPL-44051401458"));
    b.set_subject_name(&subject).unwrap();
    match issuer {
        Some(i) => b.set_issuer_name(i.cert.subject_name()).unwrap(),
        None => b.set_issuer_name(&subject).unwrap(),
    }
    b.set_pubkey(key).unwrap();
    b.set_not_before(&Asn1Time::from_unix(1_577_836_800).unwrap())
        .unwrap();
    b.set_not_after(&Asn1Time::from_unix(1_893_456_000).unwrap())
        .unwrap();
    let ski = SubjectKeyIdentifier::new()
        .build(&b.x509v3_context(None, None))
        .unwrap();
    b.append_extension(ski).unwrap();
    let signing_key = issuer.map_or(key, |i| &i.key);
    b.sign(signing_key, MessageDigest::sha256()).unwrap();
    b.build()
}

pub fn rsa_key() -> PKey<Private> {
    PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap()
}

pub fn ec_key() -> PKey<Private> {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
    PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap()
}

/// A fresh PKI (keys are generated each call).
pub fn pki() -> Pki {
    let ca_key = rsa_key();
    let ca_cert = certificate(&ca_key, "Test CA", 1, None);
    let ca = Identity {
        key: ca_key,
        cert: ca_cert,
    };
    let issue = |key: PKey<Private>, cn: &str, serial: u32| {
        let cert = certificate(&key, cn, serial, Some(&ca));
        Identity { key, cert }
    };
    let rsa = issue(rsa_key(), "Jan Kowalski", 2);
    let ec = issue(ec_key(), "Anna Nowak", 3);
    let tsa = issue(ec_key(), "Test TSA", 4);
    Pki { ca, rsa, ec, tsa }
}

/// DER TLV with a short or long length.
pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .iter()
            .copied()
            .skip_while(|&b| b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

pub fn seq(parts: &[&[u8]]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

pub fn set(parts: &[&[u8]]) -> Vec<u8> {
    tlv(0x31, &parts.concat())
}

pub fn oid(content: &[u8]) -> Vec<u8> {
    tlv(0x06, content)
}

pub fn alg(content: &[u8]) -> Vec<u8> {
    seq(&[&oid(content)])
}

pub fn attr(type_oid: &[u8], value: &[u8]) -> Vec<u8> {
    seq(&[&oid(type_oid), &set(&[value])])
}

/// How to build a SignedData.
#[derive(Clone)]
pub struct Options {
    /// Leave eContent out.
    pub detached: bool,
    /// Add signingCertificateV2 for this certificate (default: the signer's).
    pub ess_v2: bool,
    /// Add signingCertificate (v1, SHA-1).
    pub ess_v1: bool,
    /// Put the attributes in non-DER order (messageDigest before contentType).
    pub reorder: bool,
    /// Add a signature time-stamp from the TSA over the signature value.
    pub timestamp: bool,
    /// eContentType.
    pub content_type: Vec<u8>,
    /// Extra signed attributes (whole Attribute encodings).
    pub extra_signed: Vec<Vec<u8>>,
    /// Use subjectKeyIdentifier as sid.
    pub key_id: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            detached: false,
            ess_v2: true,
            ess_v1: false,
            reorder: false,
            timestamp: false,
            content_type: oids::DATA.to_vec(),
            extra_signed: Vec::new(),
            key_id: false,
        }
    }
}

fn sid(cert: &X509, key_id: bool) -> Vec<u8> {
    let der = cert.to_der().unwrap();
    let f = certs::fields(&der).unwrap();
    if key_id {
        return tlv(0x80, f.key_id.unwrap());
    }
    seq(&[f.issuer, &tlv(0x02, f.serial)])
}

fn sign_bytes(id: &Identity, data: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let mut s = Signer::new(MessageDigest::sha256(), &id.key).unwrap();
    s.update(data).unwrap();
    let value = s.sign_to_vec().unwrap();
    let algorithm = if id.key.rsa().is_ok() {
        seq(&[&oid(oids::RSA_SHA256), &[0x05, 0x00]])
    } else {
        alg(oids::ECDSA_SHA256)
    };
    (value, algorithm)
}

/// A SignerInfo by `id` with the given signed attributes (as encoded, in order).
pub fn signer_info(
    id: &Identity,
    attrs: &[Vec<u8>],
    unsigned: &[Vec<u8>],
    key_id: bool,
) -> Vec<u8> {
    signer_info_over(id, attrs, attrs, unsigned, key_id)
}

/// A SignerInfo that sends `sent` but signed `signed` (to test attribute order).
pub fn signer_info_over(
    id: &Identity,
    sent: &[Vec<u8>],
    signed: &[Vec<u8>],
    unsigned: &[Vec<u8>],
    key_id: bool,
) -> Vec<u8> {
    let body = sent.concat();
    let (value, algorithm) = sign_bytes(id, &tlv(0x31, &signed.concat()));
    let mut parts = vec![
        tlv(0x02, &[if key_id { 3 } else { 1 }]),
        sid(&id.cert, key_id),
        alg(oids::SHA256),
        tlv(0xa0, &body),
        algorithm,
        tlv(0x04, &value),
    ];
    if !unsigned.is_empty() {
        parts.push(tlv(0xa1, &unsigned.concat()));
    }
    let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
    seq(&refs)
}

/// ESSCertIDv2 attribute for a certificate.
pub fn ess_v2(cert: &X509) -> Vec<u8> {
    let digest = hash(MessageDigest::sha256(), &cert.to_der().unwrap()).unwrap();
    let id = seq(&[&tlv(0x04, &digest)]);
    attr(oids::SIGNING_CERTIFICATE_V2, &seq(&[&seq(&[&id])]))
}

/// ESSCertID (v1) attribute for a certificate.
pub fn ess_v1(cert: &X509) -> Vec<u8> {
    let digest = hash(MessageDigest::sha1(), &cert.to_der().unwrap()).unwrap();
    let id = seq(&[&tlv(0x04, &digest)]);
    attr(oids::SIGNING_CERTIFICATE, &seq(&[&seq(&[&id])]))
}

/// ContentInfo { signedData } around the parts.
pub fn content_info(
    content_type: &[u8],
    content: Option<&[u8]>,
    certs: &[&X509],
    signers: &[Vec<u8>],
) -> Vec<u8> {
    let mut encap = vec![oid(content_type)];
    if let Some(c) = content {
        encap.push(tlv(0xa0, &tlv(0x04, c)));
    }
    let encap_refs: Vec<&[u8]> = encap.iter().map(Vec::as_slice).collect();
    let cert_der: Vec<Vec<u8>> = certs.iter().map(|c| c.to_der().unwrap()).collect();
    let signer_refs: Vec<&[u8]> = signers.iter().map(Vec::as_slice).collect();
    let sd = seq(&[
        &tlv(0x02, &[1]),
        &set(&[&alg(oids::SHA256)]),
        &seq(&encap_refs),
        &tlv(0xa0, &cert_der.concat()),
        &set(&signer_refs),
    ]);
    seq(&[&oid(oids::SIGNED_DATA), &tlv(0xa0, &sd)])
}

/// The standard signed attributes over `content`.
pub fn attributes(id: &Identity, content: &[u8], opts: &Options) -> Vec<Vec<u8>> {
    let digest = hash(MessageDigest::sha256(), content).unwrap();
    let ct = attr(oids::CONTENT_TYPE, &oid(&opts.content_type));
    let md = attr(oids::MESSAGE_DIGEST, &tlv(0x04, &digest));
    let st = attr(oids::SIGNING_TIME, &tlv(0x17, b"200420101112Z"));
    let mut attrs = if opts.reorder {
        vec![st, md, ct]
    } else {
        vec![ct, st, md]
    };
    if opts.ess_v2 {
        attrs.push(ess_v2(&id.cert));
    }
    if opts.ess_v1 {
        attrs.push(ess_v1(&id.cert));
    }
    attrs.extend(opts.extra_signed.iter().cloned());
    attrs
}

/// An RFC 3161 token from the TSA over `data`.
pub fn timestamp_token(pki: &Pki, data: &[u8]) -> Vec<u8> {
    let imprint = hash(MessageDigest::sha256(), data).unwrap();
    let tst = seq(&[
        &tlv(0x02, &[1]),
        &oid(&oid_bytes("1.2.3.4").unwrap()),
        &seq(&[&alg(oids::SHA256), &tlv(0x04, &imprint)]),
        &tlv(0x02, &[7]),
        &tlv(0x18, b"20200420101114Z"),
    ]);
    let opts = Options {
        content_type: oids::TST_INFO.to_vec(),
        ..Options::default()
    };
    let attrs = attributes(&pki.tsa, &tst, &opts);
    let si = signer_info(&pki.tsa, &attrs, &[], false);
    content_info(oids::TST_INFO, Some(&tst), &[&pki.tsa.cert], &[si])
}

/// A signature by `id` over `content` built as the options say.
pub fn sign(pki: &Pki, id: &Identity, content: &[u8], opts: &Options) -> Vec<u8> {
    let attrs = attributes(id, content, opts);
    let mut si = signer_info(id, &attrs, &[], opts.key_id);
    if opts.timestamp {
        let value = signature_value(&si);
        let unsigned = attr(oids::SIGNATURE_TIME_STAMP, &timestamp_token(pki, &value));
        si = replace_unsigned(&si, &unsigned);
    }
    let embedded = (!opts.detached).then_some(content);
    content_info(
        &opts.content_type,
        embedded,
        &[&id.cert, &pki.ca.cert],
        &[si],
    )
}

/// The signature value of an encoded SignerInfo.
pub fn signature_value(si: &[u8]) -> Vec<u8> {
    let (tlv, _) = crate::signature::der::read(si).unwrap();
    let parsed = super::parse::signer_info(&tlv).unwrap();
    parsed.signature.to_vec()
}

/// The SignerInfo with its unsigned attributes replaced (the signed part untouched).
pub fn replace_unsigned(si: &[u8], unsigned: &[u8]) -> Vec<u8> {
    let (outer, _) = crate::signature::der::read(si).unwrap();
    let mut parts: Vec<Vec<u8>> = crate::signature::der::children_raw(outer.content)
        .map(|r| r.unwrap().1.to_vec())
        .filter(|raw| raw.first() != Some(&0xa1))
        .collect();
    parts.push(tlv(0xa1, unsigned));
    let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
    seq(&refs)
}
