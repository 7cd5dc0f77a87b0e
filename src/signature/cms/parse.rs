//! The structure of CMS SignedData (RFC 5652 §5), read with the bounded reader of
//! [`crate::signature::der`] into borrowed slices: every part a signature covers keeps the exact
//! bytes it arrived with (the signed attributes, the certificates, the encapsulated content).

use super::oids;
use crate::signature::der::{self, DerError, Tag, Tlv};
use std::borrow::Cow;

/// Why a CMS structure cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CmsError {
    /// The bytes are not well-formed DER/BER.
    #[error("malformed cms: {0}")]
    Der(#[from] DerError),
    /// A required part is missing or has the wrong type.
    #[error("malformed cms: {0}")]
    Structure(&'static str),
    /// The ContentInfo holds another content type.
    #[error("not cms signed-data (content type {0})")]
    NotSignedData(String),
}

/// An AlgorithmIdentifier (RFC 5280 §4.1.1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlgorithmId<'a> {
    /// The algorithm OID (content bytes).
    pub oid: &'a [u8],
    /// The parameters, when present.
    pub params: Option<Tlv<'a>>,
}

/// SignerIdentifier (RFC 5652 §5.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignerId<'a> {
    /// issuerAndSerialNumber: the raw issuer Name (whole TLV) and the serial's content bytes.
    IssuerSerial {
        /// The issuer Name as encoded.
        issuer: &'a [u8],
        /// The serial number INTEGER content.
        serial: &'a [u8],
    },
    /// subjectKeyIdentifier `[0]`.
    KeyId(&'a [u8]),
}

/// One Attribute (RFC 5652 §5.3): its type and the whole encodings of its values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute<'a> {
    /// attrType (content bytes of the OID).
    pub oid: &'a [u8],
    /// Each AttributeValue, as encoded.
    pub values: Vec<&'a [u8]>,
}

/// SignerInfo (RFC 5652 §5.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignerInfo<'a> {
    /// Who signed.
    pub sid: SignerId<'a>,
    /// digestAlgorithm.
    pub digest_algorithm: AlgorithmId<'a>,
    /// The `[0] IMPLICIT` signedAttrs element exactly as received, tag included.
    pub signed_attrs_raw: Option<&'a [u8]>,
    /// The signed attributes, in received order.
    pub signed_attrs: Vec<Attribute<'a>>,
    /// signatureAlgorithm.
    pub signature_algorithm: AlgorithmId<'a>,
    /// The signature value (OCTET STRING content).
    pub signature: &'a [u8],
    /// The unsigned attributes.
    pub unsigned_attrs: Vec<Attribute<'a>>,
    /// version, sid, digestAlgorithm, signedAttrs, signatureAlgorithm and signature exactly
    /// as received (what an archive-time-stamp-v3 covers, EN 319 122-1 §5.5.3).
    pub archived: &'a [u8],
}

/// SignedData (RFC 5652 §5.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedData<'a> {
    /// eContentType (content bytes of the OID).
    pub content_type: &'a [u8],
    /// eContent: `None` when detached. BER constructed OCTET STRINGs are joined (owned).
    pub content: Option<Cow<'a, [u8]>>,
    /// Every certificate of the `certificates` field, as DER.
    pub certificates: Vec<&'a [u8]>,
    /// Number of entries in the `crls` field (RevocationInfoChoices).
    pub revocation_entries: usize,
    /// The entries of the `crls` field as encoded (RFC 5652 §10.2.1: a CertificateList, or an
    /// `[1]` OtherRevocationInfoFormat such as an OCSP response, RFC 5940 §4.1).
    pub revocation_info: Vec<&'a [u8]>,
    /// The signer infos.
    pub signer_infos: Vec<SignerInfo<'a>>,
}

/// Most SignerInfos read from one SignedData (bounds the work on hostile input).
const MAX_SIGNERS: usize = 64;

/// Reads a ContentInfo (RFC 5652 §3) holding SignedData.
pub fn content_info(bytes: &[u8]) -> Result<SignedData<'_>, CmsError> {
    let (outer, _) = der::read(bytes)?;
    expect_tag(&outer, Tag::SEQUENCE, "contentinfo is not a sequence")?;
    let mut parts = der::children(outer.content);
    let oid = next(&mut parts, "contentinfo without content type")?;
    expect_tag(&oid, Tag::OID, "content type is not an oid")?;
    if oid.content != oids::SIGNED_DATA {
        return Err(CmsError::NotSignedData(der::oid_string(oid.content)));
    }
    let explicit = next(&mut parts, "contentinfo without content")?;
    expect_tag(&explicit, Tag::context(0, true), "content is not [0]")?;
    let (sd, _) = der::read(explicit.content)?;
    expect_tag(&sd, Tag::SEQUENCE, "signed-data is not a sequence")?;
    signed_data(sd.content)
}

fn signed_data(content: &[u8]) -> Result<SignedData<'_>, CmsError> {
    let mut parts = der::children(content).peekable();
    let version = next(&mut parts, "signed-data without version")?;
    expect_tag(
        &version,
        Tag::INTEGER,
        "signed-data version is not an integer",
    )?;
    let algs = next(&mut parts, "signed-data without digest algorithms")?;
    expect_tag(&algs, Tag::SET, "digest algorithms is not a set")?;
    let encap = next(&mut parts, "signed-data without encapsulated content")?;
    let (content_type, content) = encapsulated(&encap)?;
    let mut certificates = Vec::new();
    let mut revocation_entries = 0;
    let mut revocation_info = Vec::new();
    let mut signer_set = None;
    for item in parts {
        let item = item?;
        match item.tag {
            t if t == Tag::context(0, true) => certificates = certificate_list(item.content)?,
            t if t == Tag::context(1, true) => {
                revocation_entries = der::children(item.content).count();
                revocation_info = der::children_raw(item.content)
                    .filter_map(Result::ok)
                    .map(|(_, raw)| raw)
                    .collect();
            }
            t if t == Tag::SET => signer_set = Some(item),
            _ => return Err(CmsError::Structure("unexpected element in signed-data")),
        }
    }
    let signer_set = signer_set.ok_or(CmsError::Structure("signed-data without signer infos"))?;
    let signer_infos = der::children(signer_set.content)
        .take(MAX_SIGNERS)
        .map(|si| signer_info(&si?))
        .collect::<Result<_, _>>()?;
    Ok(SignedData {
        content_type,
        content,
        certificates,
        revocation_entries,
        revocation_info,
        signer_infos,
    })
}

/// eContentType and eContent.
type Encapsulated<'a> = (&'a [u8], Option<Cow<'a, [u8]>>);

/// EncapsulatedContentInfo (RFC 5652 §5.2): the type and the eContent octets, if any.
fn encapsulated<'a>(encap: &Tlv<'a>) -> Result<Encapsulated<'a>, CmsError> {
    expect_tag(
        encap,
        Tag::SEQUENCE,
        "encapsulated content is not a sequence",
    )?;
    let mut parts = der::children(encap.content);
    let oid = next(&mut parts, "encapsulated content without type")?;
    expect_tag(&oid, Tag::OID, "encapsulated content type is not an oid")?;
    let Some(explicit) = parts.next().transpose()? else {
        return Ok((oid.content, None));
    };
    expect_tag(&explicit, Tag::context(0, true), "econtent is not [0]")?;
    let (octets, _) = der::read(explicit.content)?;
    Ok((oid.content, Some(octet_string(&octets, 0)?)))
}

/// The value of an OCTET STRING, joining the segments of a BER constructed one (X.690 §8.7.3).
pub fn octet_string<'a>(tlv: &Tlv<'a>, depth: usize) -> Result<Cow<'a, [u8]>, CmsError> {
    if depth > der::MAX_DEPTH || tlv.tag.number != 4 {
        return Err(CmsError::Structure("expected an octet string"));
    }
    if !tlv.tag.constructed {
        return Ok(Cow::Borrowed(tlv.content));
    }
    let mut out = Vec::new();
    for part in der::children(tlv.content) {
        out.extend_from_slice(&octet_string(&part?, depth + 1)?);
    }
    Ok(Cow::Owned(out))
}

/// CertificateSet (RFC 5652 §10.2.3): the plain X.509 certificates, as encoded.
fn certificate_list(content: &[u8]) -> Result<Vec<&[u8]>, CmsError> {
    let mut out = Vec::new();
    for item in der::children_raw(content) {
        let (tlv, raw) = item?;
        if tlv.tag == Tag::SEQUENCE {
            out.push(raw);
        }
    }
    Ok(out)
}

/// SignerInfo ::= SEQUENCE { version, sid, digestAlgorithm, `[0]` signedAttrs OPTIONAL,
/// signatureAlgorithm, signature, `[1]` unsignedAttrs OPTIONAL } (RFC 5652 §5.3).
pub fn signer_info<'a>(si: &Tlv<'a>) -> Result<SignerInfo<'a>, CmsError> {
    expect_tag(si, Tag::SEQUENCE, "signer info is not a sequence")?;
    let mut parts = der::children_raw(si.content).peekable();
    let (version, _) = next_raw(&mut parts, "signer info without version")?;
    expect_tag(
        &version,
        Tag::INTEGER,
        "signer info version is not an integer",
    )?;
    let (sid, _) = next_raw(&mut parts, "signer info without sid")?;
    let sid = signer_id(&sid)?;
    let (digest, _) = next_raw(&mut parts, "signer info without digest algorithm")?;
    let digest_algorithm = algorithm(&digest)?;
    let (mut item, raw) = next_raw(&mut parts, "signer info without signature algorithm")?;
    let mut signed_attrs_raw = None;
    let mut signed_attrs = Vec::new();
    if item.tag == Tag::context(0, true) {
        signed_attrs_raw = Some(raw);
        signed_attrs = attributes(item.content)?;
        item = next_raw(&mut parts, "signer info without signature algorithm")?.0;
    }
    let signature_algorithm = algorithm(&item)?;
    let (value, value_raw) = next_raw(&mut parts, "signer info without signature")?;
    // The fields up to the signature value are contiguous in the content: their end is the
    // value's end (pointer arithmetic on two slices of one buffer, no unsafe).
    let archived_end = (value_raw.as_ptr() as usize + value_raw.len())
        .saturating_sub(si.content.as_ptr() as usize);
    let archived = si.content.get(..archived_end).unwrap_or_default();
    if value.tag.number != 4 || value.tag.constructed {
        return Err(CmsError::Structure(
            "signature value is not an octet string",
        ));
    }
    let unsigned_attrs = match parts.next().transpose()? {
        Some((t, _)) if t.tag == Tag::context(1, true) => attributes(t.content)?,
        Some(_) => return Err(CmsError::Structure("unexpected element in signer info")),
        None => Vec::new(),
    };
    Ok(SignerInfo {
        sid,
        digest_algorithm,
        signed_attrs_raw,
        signed_attrs,
        signature_algorithm,
        signature: value.content,
        unsigned_attrs,
        archived,
    })
}

fn signer_id<'a>(sid: &Tlv<'a>) -> Result<SignerId<'a>, CmsError> {
    if sid.tag == Tag::context(0, false) {
        return Ok(SignerId::KeyId(sid.content));
    }
    expect_tag(
        sid,
        Tag::SEQUENCE,
        "sid is neither issuer-and-serial nor key id",
    )?;
    let mut parts = der::children_raw(sid.content);
    let (name, issuer) = next_raw(&mut parts, "sid without issuer")?;
    expect_tag(&name, Tag::SEQUENCE, "sid issuer is not a name")?;
    let (serial, _) = next_raw(&mut parts, "sid without serial")?;
    expect_tag(&serial, Tag::INTEGER, "sid serial is not an integer")?;
    Ok(SignerId::IssuerSerial {
        issuer,
        serial: serial.content,
    })
}

/// Reads an AlgorithmIdentifier.
pub fn algorithm<'a>(tlv: &Tlv<'a>) -> Result<AlgorithmId<'a>, CmsError> {
    expect_tag(tlv, Tag::SEQUENCE, "algorithm identifier is not a sequence")?;
    let mut parts = der::children(tlv.content);
    let oid = next(&mut parts, "algorithm identifier without oid")?;
    expect_tag(&oid, Tag::OID, "algorithm is not an oid")?;
    let params = parts.next().transpose()?;
    Ok(AlgorithmId {
        oid: oid.content,
        params,
    })
}

/// SET OF Attribute (RFC 5652 §5.3), in received order.
pub fn attributes(content: &[u8]) -> Result<Vec<Attribute<'_>>, CmsError> {
    let mut out = Vec::new();
    for attr in der::children(content) {
        let attr = attr?;
        expect_tag(&attr, Tag::SEQUENCE, "attribute is not a sequence")?;
        let mut parts = der::children(attr.content);
        let oid = next(&mut parts, "attribute without type")?;
        expect_tag(&oid, Tag::OID, "attribute type is not an oid")?;
        let set = next(&mut parts, "attribute without values")?;
        expect_tag(&set, Tag::SET, "attribute values are not a set")?;
        let values = der::children_raw(set.content)
            .map(|v| v.map(|(_, raw)| raw))
            .collect::<Result<_, _>>()?;
        out.push(Attribute {
            oid: oid.content,
            values,
        });
    }
    Ok(out)
}

impl<'a> SignerInfo<'a> {
    /// Every signed attribute of type `oid`.
    pub fn signed(&self, oid: &[u8]) -> Vec<&Attribute<'a>> {
        self.signed_attrs.iter().filter(|a| a.oid == oid).collect()
    }

    /// Every unsigned attribute of type `oid`.
    pub fn unsigned(&self, oid: &[u8]) -> Vec<&Attribute<'a>> {
        self.unsigned_attrs
            .iter()
            .filter(|a| a.oid == oid)
            .collect()
    }

    /// The bytes the signature value covers when signed attributes are present: their
    /// encoding as received with the `[0] IMPLICIT` tag replaced by SET (RFC 5652 §5.4).
    pub fn signed_attrs_to_verify(&self) -> Option<Vec<u8>> {
        let mut bytes = self.signed_attrs_raw?.to_vec();
        *bytes.first_mut()? = 0x31;
        Some(bytes)
    }

    /// The signed attributes re-encoded as DER requires (X.690 §11.6: SET OF members sorted by
    /// their encodings), for signers that sent them in another order than they signed them;
    /// `None` when that is the order received.
    pub fn signed_attrs_der_sorted(&self) -> Option<Vec<u8>> {
        let (tlv, _) = der::read(self.signed_attrs_raw?).ok()?;
        let mut members: Vec<&[u8]> = der::children_raw(tlv.content)
            .map(|m| m.map(|(_, raw)| raw))
            .collect::<Result<_, _>>()
            .ok()?;
        members.sort_unstable();
        let body = members.concat();
        let mut out = vec![0x31];
        let len = body.len();
        if len < 0x80 {
            out.push(u8::try_from(len).ok()?);
        } else {
            let bytes: Vec<u8> = len
                .to_be_bytes()
                .into_iter()
                .skip_while(|&b| b == 0)
                .collect();
            out.push(0x80 | u8::try_from(bytes.len()).ok()?);
            out.extend(bytes);
        }
        out.extend(body);
        (Some(&out) != self.signed_attrs_to_verify().as_ref()).then_some(out)
    }
}

fn next<'a>(
    parts: &mut impl Iterator<Item = Result<Tlv<'a>, DerError>>,
    missing: &'static str,
) -> Result<Tlv<'a>, CmsError> {
    parts
        .next()
        .transpose()?
        .ok_or(CmsError::Structure(missing))
}

fn next_raw<'a>(
    parts: &mut impl Iterator<Item = Result<(Tlv<'a>, &'a [u8]), DerError>>,
    missing: &'static str,
) -> Result<(Tlv<'a>, &'a [u8]), CmsError> {
    parts
        .next()
        .transpose()?
        .ok_or(CmsError::Structure(missing))
}

fn expect_tag(tlv: &Tlv<'_>, tag: Tag, message: &'static str) -> Result<(), CmsError> {
    if tlv.tag == tag {
        Ok(())
    } else {
        Err(CmsError::Structure(message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_the_segments_of_a_ber_constructed_octet_string() {
        let bytes = [0x24, 0x80, 0x04, 0x02, 1, 2, 0x04, 0x01, 3, 0, 0];
        let (tlv, _) = der::read(&bytes).unwrap();
        assert_eq!(octet_string(&tlv, 0).unwrap().as_ref(), &[1, 2, 3]);
    }

    #[test]
    fn refuses_content_info_of_another_type() {
        let data = [
            0x30, 0x0b, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01,
        ];
        assert!(matches!(
            content_info(&data),
            Err(CmsError::NotSignedData(_))
        ));
        assert!(content_info(b"\x30\x03\x02\x01").is_err());
    }
}
