//! A minimal DER reader (ITU-T X.690 §8.1, definite lengths only) for the two ASN.1 values the
//! XAdES checks need that openssl's Rust API does not expose: `IssuerSerial` (RFC 5035 §4,
//! EN 319 132-1 §5.2.2 `IssuerSerialV2`) and the RFC 3161 §2.4.2 `TSTInfo` of a time-stamp token.

/// One TLV: tag byte and content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tlv<'a> {
    /// The identifier octet (single-byte tags only).
    pub tag: u8,
    /// The content octets.
    pub content: &'a [u8],
}

/// Reads one TLV from the front of `input`, returning it and the rest.
pub fn read(input: &[u8]) -> Option<(Tlv<'_>, &[u8])> {
    let (&tag, rest) = input.split_first()?;
    if tag & 0x1f == 0x1f {
        return None;
    }
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let (bytes, rest) = (rest.get(..n)?, rest.get(n..)?);
        let len = bytes
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, rest)
    };
    let content = rest.get(..len)?;
    Some((Tlv { tag, content }, rest.get(len..)?))
}

/// The TLVs inside a constructed value.
pub fn children(content: &[u8]) -> Option<Vec<Tlv<'_>>> {
    let mut out = Vec::new();
    let mut rest = content;
    while !rest.is_empty() {
        let (tlv, r) = read(rest)?;
        out.push(tlv);
        rest = r;
    }
    Some(out)
}

/// The serial number (content octets of the INTEGER) of a DER `IssuerSerial`.
pub fn issuer_serial_number(der: &[u8]) -> Option<&[u8]> {
    let (seq, _) = read(der)?;
    let parts = children(seq.content)?;
    parts.iter().find(|t| t.tag == 0x02).map(|t| t.content)
}

/// What a time-stamp token says (RFC 3161 §2.4.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TstInfo {
    /// The OID of the imprint's hash algorithm, DER content octets.
    pub hash_oid: Vec<u8>,
    /// The imprint.
    pub imprint: Vec<u8>,
    /// `genTime` as written (GeneralizedTime, e.g. `20200420101112Z`).
    pub gen_time: String,
}

/// Reads the `TSTInfo` of a DER `ContentInfo` holding a time-stamp token (RFC 3161 §2.4.2,
/// RFC 5652 §5.1: ContentInfo → `[0]` SignedData → encapContentInfo → `[0]` OCTET STRING).
pub fn tst_info(token: &[u8]) -> Option<TstInfo> {
    let (content_info, _) = read(token)?;
    let ci = children(content_info.content)?;
    let explicit = ci.get(1)?;
    let (signed_data, _) = read(explicit.content)?;
    let sd = children(signed_data.content)?;
    let encap = sd.get(2)?;
    let encap_parts = children(encap.content)?;
    let wrapper = encap_parts.get(1)?;
    let (octets, _) = read(wrapper.content)?;
    let (tst, _) = read(octets.content)?;
    let fields = children(tst.content)?;
    let imprint = children(fields.get(2)?.content)?;
    let alg = children(imprint.first()?.content)?;
    let gen_time = fields.get(4).filter(|t| t.tag == 0x18)?;
    Some(TstInfo {
        hash_oid: alg.first()?.content.to_vec(),
        imprint: imprint.get(1)?.content.to_vec(),
        gen_time: String::from_utf8_lossy(gen_time.content).into_owned(),
    })
}

/// `20200420101112Z` or `20200420101112.5Z` → `2020-04-20T10:11:12Z`.
pub fn generalized_time_to_rfc3339(t: &str) -> Option<String> {
    let digits = t.get(..14)?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) || !t.ends_with('Z') {
        return None;
    }
    Some(format!(
        "{}-{}-{}T{}:{}:{}Z",
        digits.get(..4)?,
        digits.get(4..6)?,
        digits.get(6..8)?,
        digits.get(8..10)?,
        digits.get(10..12)?,
        digits.get(12..14)?
    ))
}

/// The openssl digest for a hash OID given as DER content octets.
pub fn digest_for_oid(oid: &[u8]) -> Option<openssl::hash::MessageDigest> {
    use openssl::hash::MessageDigest;
    const SHA1: &[u8] = &[0x2b, 0x0e, 0x03, 0x02, 0x1a];
    const SHA2: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02];
    if oid == SHA1 {
        return Some(MessageDigest::sha1());
    }
    let (&last, prefix) = oid.split_last()?;
    if prefix != SHA2 {
        return None;
    }
    match last {
        1 => Some(MessageDigest::sha256()),
        2 => Some(MessageDigest::sha384()),
        3 => Some(MessageDigest::sha512()),
        4 => Some(MessageDigest::sha224()),
        8 => Some(MessageDigest::sha3_256()),
        9 => Some(MessageDigest::sha3_384()),
        10 => Some(MessageDigest::sha3_512()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_serial_of_an_issuer_serial() {
        // SEQUENCE { SEQUENCE { [4] {} }, INTEGER 0x0102 }
        let der = [0x30, 0x08, 0x30, 0x02, 0xa4, 0x00, 0x02, 0x02, 0x01, 0x02];
        assert_eq!(issuer_serial_number(&der), Some(&[1u8, 2][..]));
    }

    #[test]
    fn refuses_truncated_input() {
        assert_eq!(read(&[0x30, 0x05, 0x01]), None);
        assert_eq!(tst_info(&[0x30]), None);
    }

    #[test]
    fn formats_generalized_time_as_rfc_3339() {
        assert_eq!(
            generalized_time_to_rfc3339("20200420101112.123Z").as_deref(),
            Some("2020-04-20T10:11:12Z")
        );
    }
}
