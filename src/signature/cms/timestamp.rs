//! RFC 3161 time-stamp tokens: a ContentInfo of SignedData whose eContent is a TSTInfo
//! (§2.4.2). The token's own signature is checked like any SignerInfo; the message imprint is
//! compared with the time-stamped bytes (the SignerInfo's signature value for a signature
//! time-stamp, EN 319 122-1 §5.3; the ByteRange for a PDF document time-stamp, EN 319 142-1
//! §5.4).

use super::algorithms;
use super::evidence::TimeStamp;
use super::oids;
use super::parse::{self, CmsError};
use super::signer::{self, Role};
use super::time;
use crate::signature::der::{self, Tag};

/// TSTInfo ::= SEQUENCE { version, policy, messageImprint, serialNumber, genTime, ... }.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TstInfo<'a> {
    /// messageImprint.hashAlgorithm OID.
    pub imprint_algorithm: &'a [u8],
    /// messageImprint.hashedMessage.
    pub imprint: &'a [u8],
    /// genTime (RFC 3339).
    pub gen_time: Option<String>,
}

/// Reads a TSTInfo (RFC 3161 §2.4.2).
pub fn tst_info(bytes: &[u8]) -> Option<TstInfo<'_>> {
    let (seq, _) = der::read(bytes).ok()?;
    let mut parts = der::children(seq.content).filter_map(Result::ok);
    let _version = parts.next().filter(|t| t.tag == Tag::INTEGER)?;
    let _policy = parts.next().filter(|t| t.tag == Tag::OID)?;
    let imprint = parts.next().filter(|t| t.tag == Tag::SEQUENCE)?;
    let mut imprint_parts = der::children(imprint.content).filter_map(Result::ok);
    let alg = parse::algorithm(&imprint_parts.next()?).ok()?;
    let hashed = imprint_parts.next().filter(|t| t.tag.number == 4)?;
    let _serial = parts.next().filter(|t| t.tag == Tag::INTEGER)?;
    let gen_time = parts.next().and_then(|t| time::from_tlv(&t));
    Some(TstInfo {
        imprint_algorithm: alg.oid,
        imprint: hashed.content,
        gen_time,
    })
}

/// Checks one token. `imprinted` are the bytes it should time-stamp (`None`: the imprint is
/// not checked, as for archive time-stamps whose input we do not rebuild).
pub fn check(kind: &str, token: &[u8], imprinted: Option<&[&[u8]]>) -> TimeStamp {
    let mut ts = TimeStamp {
        kind: kind.to_string(),
        ..TimeStamp::default()
    };
    if let Err(e) = check_into(&mut ts, token, imprinted) {
        ts.intact = false;
        ts.errors.push(format!("{kind}: {e}"));
    }
    ts
}

fn check_into(
    ts: &mut TimeStamp,
    token: &[u8],
    imprinted: Option<&[&[u8]]>,
) -> Result<(), CmsError> {
    let sd = parse::content_info(token)?;
    if sd.content_type != oids::TST_INFO {
        return Err(CmsError::Structure(
            "time-stamp token does not hold a tstinfo",
        ));
    }
    let content = sd
        .content
        .as_deref()
        .ok_or(CmsError::Structure("time-stamp token without tstinfo"))?;
    let info = tst_info(content).ok_or(CmsError::Structure("unreadable tstinfo"))?;
    ts.time = info.gen_time.clone();
    let si = sd
        .signer_infos
        .first()
        .ok_or(CmsError::Structure("time-stamp token without signer"))?;
    let result = signer::check(&sd, si, Some(&[content]), Role::Content(oids::TST_INFO));
    ts.intact = result.failure.is_none();
    ts.errors
        .extend(result.errors.iter().map(|e| format!("{}: {e}", ts.kind)));
    ts.tsa_certificate = result.signing_certificate;
    if let Some(parts) = imprinted {
        let computed =
            algorithms::digest(info.imprint_algorithm).and_then(|md| algorithms::hash(md, parts));
        let matches = computed.as_deref() == Some(info.imprint);
        ts.imprint_matches = Some(matches);
        if !matches {
            ts.errors
                .push(format!("{}: message imprint does not match", ts.kind));
        }
    }
    Ok(())
}

/// Checks an archive-time-stamp-v3 token (EN 319 122-1 §5.5.3) of the SignerInfo whose
/// received fields are `archived` ([`parse::SignerInfo::archived`]), in a SignedData of
/// `e_content_type` over `content`. The message imprint covers, hashed with the imprint's own
/// algorithm: the eContentType TLV, the hash of the signed content, the SignerInfo fields
/// version to signature as received, and the ats-hash-index-v3 value in the token's own
/// unsigned attributes (or the ats-hash-index of TS 101 733 V2.2.1, same construction). Without the content (detached, not supplied) or without that index
/// the imprint is not checked, and a note says why.
pub fn check_archive_v3(
    token: &[u8],
    e_content_type: &[u8],
    content: Option<&[&[u8]]>,
    archived: &[u8],
) -> TimeStamp {
    const KIND: &str = "ArchiveTimeStamp";
    let input = (|| -> Result<Vec<u8>, &'static str> {
        let sd = parse::content_info(token).map_err(|_| "unreadable token")?;
        let info = sd
            .content
            .as_deref()
            .and_then(tst_info)
            .ok_or("unreadable tstinfo")?;
        let md = algorithms::digest(info.imprint_algorithm).ok_or("unsupported imprint digest")?;
        let index = sd
            .signer_infos
            .first()
            .and_then(|si| {
                let v3 = si.unsigned(oids::ATS_HASH_INDEX_V3).first().cloned();
                v3.or_else(|| si.unsigned(oids::ATS_HASH_INDEX).first().cloned())
            })
            .and_then(|a| a.values.first().copied())
            .ok_or("no ats-hash-index(-v3) in the token")?;
        let parts = content.ok_or("the signed content was not supplied")?;
        let content_hash = algorithms::hash(md, parts).ok_or("hash failed")?;
        let mut input = der_oid(e_content_type);
        input.extend_from_slice(&content_hash);
        input.extend_from_slice(archived);
        input.extend_from_slice(index);
        Ok(input)
    })();
    match input {
        Ok(bytes) => check(KIND, token, Some(&[&bytes])),
        Err(why) => {
            let mut ts = check(KIND, token, None);
            ts.errors
                .push(format!("{KIND}: message imprint not checked: {why}"));
            ts
        }
    }
}

/// An OID's TLV from its content octets (definite short or long length).
fn der_oid(content: &[u8]) -> Vec<u8> {
    let mut out = vec![0x06];
    match u8::try_from(content.len()) {
        Ok(n) if n < 0x80 => out.push(n),
        _ => {
            let len = content.len().to_be_bytes();
            let bytes: Vec<u8> = len.iter().copied().skip_while(|&b| b == 0).collect();
            out.extend(u8::try_from(0x80 | bytes.len()));
            out.extend(bytes);
        }
    }
    out.extend_from_slice(content);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_that_is_not_cms_is_reported_broken() {
        let ts = check("SignatureTimeStamp", b"\x30\x00", None);
        assert!(!ts.intact);
        assert_eq!(ts.errors.len(), 1);
    }
}
