//! CMS (RFC 5652): finds a `ContentInfo` holding `SignedData` in DER/BER, PEM or base64 and
//! reports one CAdES (or S/MIME) signature per `SignerInfo`, noting whether the signed content is
//! inside (enveloping, `.p7m`) or elsewhere (detached, `.p7s`). A SignedData whose content is a
//! `TSTInfo` is a time-stamp token (RFC 3161), noted, not a signature.

use super::{unverified, Found};
use crate::signature::der::{self, DerError, Tag};
use crate::signature::report::SignatureReport;
use base64::Engine;

/// pkcs-7, 1.2.840.113549.1.7: the arc of the content types.
const PKCS7: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07];
/// id-signedData, 1.2.840.113549.1.7.2.
const SIGNED_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];
/// id-signingTime, 1.2.840.113549.1.9.5.
const SIGNING_TIME: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x05];
/// id-ct-TSTInfo, 1.2.840.113549.1.9.16.1.4.
const TST_INFO: &[u8] = &[
    0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x01, 0x04,
];

/// What the structure of a SignedData says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedDataSummary {
    /// Number of `SignerInfo` entries.
    pub signers: usize,
    /// The signed `signingTime` attribute of each SignerInfo, in order (RFC 3339 UTC).
    pub signing_times: Vec<Option<String>>,
    /// No `eContent`: the signed data is a separate file.
    pub detached: bool,
    /// The content is an RFC 3161 `TSTInfo` (a time-stamp token).
    pub timestamp: bool,
}

/// Whether the bytes parse as a CMS `ContentInfo` (checked on the first element only).
pub fn looks_like_cms(bytes: &[u8]) -> bool {
    bytes.first() == Some(&0x30) && matches!(content_info(bytes), Ok(Some(_)))
}

/// Finds the signatures of a CMS file (container `cms`).
pub fn find(name: &str, bytes: &[u8]) -> Found {
    let Some(der) = to_der(bytes) else {
        return Found::failed("cms", "not CMS: neither DER, PEM nor base64");
    };
    match content_info(&der) {
        Ok(Some(summary)) => {
            let format = if is_smime(name) { "S/MIME" } else { "CAdES" };
            from_summary(format, &summary)
        }
        // Another PKCS #7 type (EnvelopedData, ...) is CMS without a signature; anything
        // else (a certificate, a key) is not CMS at all.
        Ok(None) if is_pkcs7(&der) => Found::new("cms"),
        Ok(None) => Found::new("other"),
        Err(e) => Found::failed("cms", format!("cms: {e}")),
    }
}

/// Whether the DER is a ContentInfo of any PKCS #7 content type (1.2.840.113549.1.7.*).
fn is_pkcs7(der: &[u8]) -> bool {
    let Ok((outer, _)) = der::read(der) else {
        return false;
    };
    let first = der::children(outer.content).next();
    matches!(first, Some(Ok(oid)) if oid.tag == Tag::OID && oid.content.starts_with(PKCS7))
}

/// The mail unpacker hands the signature part of an S/MIME mail over as `smime.p7s`/`smime.p7m`.
fn is_smime(name: &str) -> bool {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    base.eq_ignore_ascii_case("smime.p7s") || base.eq_ignore_ascii_case("smime.p7m")
}

/// One report per SignerInfo, or a note for a time-stamp token.
pub fn from_summary(format: &str, summary: &SignedDataSummary) -> Found {
    let mut found = Found::new("cms");
    if summary.timestamp {
        found
            .warnings
            .push("RFC 3161 time-stamp token: not a signature".into());
        return found;
    }
    let note = if summary.detached {
        "detached: the signed content is a separate file"
    } else {
        "enveloping: the signed content is inside the signature"
    };
    found.signatures = (0..summary.signers)
        .map(|i| {
            let mut report = signature(format, note);
            report.signing_time = summary.signing_times.get(i).cloned().flatten();
            report
        })
        .collect();
    if summary.signers == 0 {
        found.warnings.push("SignedData without SignerInfo".into());
    }
    found
}

fn signature(format: &str, note: &str) -> SignatureReport {
    let mut report = unverified(format);
    report.warnings.push(note.to_string());
    report
}

/// DER bytes from DER, PEM (`-----BEGIN PKCS7-----`, `CMS`, ...) or bare base64.
fn to_der(bytes: &[u8]) -> Option<Vec<u8>> {
    if bytes.first() == Some(&0x30) {
        return Some(bytes.to_vec());
    }
    let text = std::str::from_utf8(bytes).ok()?;
    let body: String = if text.trim_start().starts_with("-----BEGIN") {
        text.lines()
            .skip_while(|l| !l.starts_with("-----BEGIN"))
            .skip(1)
            .take_while(|l| !l.starts_with("-----END"))
            .filter(|l| !l.contains(':'))
            .collect()
    } else {
        text.to_string()
    };
    let clean: String = body.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(clean).ok()
}

/// `Some` when the bytes are a ContentInfo of SignedData, `None` for another content type.
pub fn content_info(bytes: &[u8]) -> Result<Option<SignedDataSummary>, DerError> {
    let (outer, _) = der::read(bytes)?;
    if outer.tag != Tag::SEQUENCE {
        return Ok(None);
    }
    let mut parts = der::children(outer.content);
    let Some(oid) = parts.next().transpose()? else {
        return Ok(None);
    };
    if oid.tag != Tag::OID || oid.content != SIGNED_DATA {
        return Ok(None);
    }
    let Some(explicit) = parts.next().transpose()? else {
        return Ok(None);
    };
    if explicit.tag != Tag::context(0, true) {
        return Ok(None);
    }
    let (signed_data, _) = der::read(explicit.content)?;
    summarise(signed_data.content).map(Some)
}

/// SignedData ::= SEQUENCE { version, digestAlgorithms SET, encapContentInfo, [0] certificates
/// OPTIONAL, [1] crls OPTIONAL, signerInfos SET } (RFC 5652 §5.1).
fn summarise(signed_data: &[u8]) -> Result<SignedDataSummary, DerError> {
    let items: Vec<der::Tlv<'_>> = der::children(signed_data).collect::<Result<_, _>>()?;
    let encap_at = items
        .iter()
        .position(|t| t.tag == Tag::SEQUENCE)
        .ok_or(DerError::BadIndefinite)?;
    let encap = items.get(encap_at).ok_or(DerError::BadIndefinite)?;
    let mut encap_parts = der::children(encap.content);
    let content_type = encap_parts.next().transpose()?.map(|t| t.content);
    let detached = encap_parts.next().transpose()?.is_none();
    let signer_infos: Vec<der::Tlv<'_>> = items
        .get(encap_at + 1..)
        .and_then(|after| after.last())
        .filter(|t| t.tag == Tag::SET)
        .map(|set| der::children(set.content).filter_map(Result::ok).collect())
        .unwrap_or_default();
    Ok(SignedDataSummary {
        signers: signer_infos.len(),
        signing_times: signer_infos
            .iter()
            .map(|si| signing_time(si.content))
            .collect(),
        detached,
        timestamp: content_type == Some(TST_INFO),
    })
}

/// The `signingTime` among the signed attributes (`[0] IMPLICIT SET OF Attribute`) of a
/// SignerInfo (RFC 5652 §5.3, §11.3).
fn signing_time(signer_info: &[u8]) -> Option<String> {
    let attrs = der::children(signer_info)
        .filter_map(Result::ok)
        .find(|t| t.tag == Tag::context(0, true))?;
    der::children(attrs.content)
        .filter_map(Result::ok)
        .find_map(|attr| {
            let mut parts = der::children(attr.content).filter_map(Result::ok);
            let oid = parts.next()?;
            if oid.tag != Tag::OID || oid.content != SIGNING_TIME {
                return None;
            }
            let value = der::children(parts.next()?.content).next()?.ok()?;
            let text = std::str::from_utf8(value.content).ok()?;
            asn1_time(text, value.tag.number == 23)
        })
}

/// UTCTime (`YYMMDDHHMMSSZ`, years 1950–2049) or GeneralizedTime (`YYYYMMDDHHMMSS[.f]Z`) as
/// RFC 3339 UTC.
fn asn1_time(text: &str, utc_time: bool) -> Option<String> {
    let text = text.strip_suffix('Z')?;
    let (year, rest) = if utc_time {
        let yy: i32 = text.get(..2)?.parse().ok()?;
        (if yy >= 50 { 1900 + yy } else { 2000 + yy }, text.get(2..)?)
    } else {
        (text.get(..4)?.parse().ok()?, text.get(4..)?)
    };
    let field = |i: usize| -> Option<u32> { rest.get(i..i + 2)?.parse().ok() };
    let date = chrono::NaiveDate::from_ymd_opt(year, field(0)?, field(2)?)?;
    let time = date.and_hms_opt(field(4)?, field(6)?, field(8)?)?;
    Some(
        time.and_utc()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_content_types_and_garbage_are_not_signed_data() {
        // ContentInfo of id-data (1.2.840.113549.1.7.1).
        let data = [
            0x30, 0x0b, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01,
        ];
        assert_eq!(content_info(&data), Ok(None));
        assert!(!looks_like_cms(b"hello"));
        assert!(find("x.p7s", b"\x30\x82\xff").error.is_some());
    }

    #[test]
    fn reads_utc_and_generalized_times() {
        assert_eq!(
            asn1_time("200420101112Z", true).as_deref(),
            Some("2020-04-20T10:11:12Z")
        );
        assert_eq!(
            asn1_time("990101000000Z", true).as_deref(),
            Some("1999-01-01T00:00:00Z")
        );
        assert_eq!(
            asn1_time("20200420101112.5Z", false).as_deref(),
            Some("2020-04-20T10:11:12Z")
        );
        assert_eq!(asn1_time("2020", false), None);
    }

    #[test]
    fn smime_is_told_by_the_name_the_mail_unpacker_gives() {
        assert!(is_smime("smime.p7s"));
        assert!(is_smime("SMIME.P7S"));
        assert!(!is_smime("wniosek.pdf.p7s"));
    }
}
