//! CAdES files (ETSI EN 319 122-1, TS 119 182 naming practice): `.p7m`/`.sig` enveloping
//! signatures and `.p7s` detached ones, in DER, BER, PEM or bare base64. A detached signature
//! is paired with its data file by name (`x.pdf.p7s` ↔ `x.pdf`) through the resolver.

use super::certs;
use super::evidence::Scope;
use super::parse::{self, CmsError};
use super::report::signature_report;
use super::verify;
use crate::signature::report::Report;
use base64::Engine;

/// Largest base64/PEM text decoded (the decoded DER is smaller).
const MAX_TEXT_BYTES: usize = 64 * 1024 * 1024;

/// Supplies detached data by name (the empty name: "the file given with `--detached`").
pub type Resolver<'a> = &'a dyn Fn(&str) -> Option<Vec<u8>>;

/// Verifies a CMS file; `None` when it is not a CMS SignedData at all (DER, PEM or base64).
pub fn verify_cades(name: &str, bytes: &[u8], detached: Resolver<'_>) -> Option<Report> {
    let Some(der) = to_der(bytes) else {
        let error = "not cms: neither DER, PEM nor base64".to_string();
        return has_cms_name(name).then(|| report(name, bytes, Some(error)));
    };
    let sd = match parse::content_info(&der) {
        Ok(sd) => sd,
        Err(CmsError::NotSignedData(_)) => return None,
        Err(e) if bytes.first() == Some(&0x30) || has_cms_name(name) => {
            return Some(report(name, bytes, Some(e.to_string())));
        }
        Err(_) => return None,
    };
    let mut out = report(name, bytes, None);
    if sd.content_type == super::oids::TST_INFO {
        out.warnings
            .push("RFC 3161 time-stamp token: not a signature".into());
        return Some(out);
    }
    let format = if is_smime(name) { "S/MIME" } else { "CAdES" };
    let data_name = data_name(name);
    let supplied = match &sd.content {
        Some(_) => None,
        None => detached(&data_name).or_else(|| detached("")),
    };
    let content: Option<&[u8]> = sd.content.as_deref().or(supplied.as_deref());
    let parts = content.map(|c| [c]);
    let mut list = verify::evidence(&sd, parts.as_ref().map(|p| &p[..]), format, 0);
    for ev in &mut list {
        if let Some(c) = content {
            let name = match &sd.content {
                Some(_) => format!("{name} (encapsulated content)"),
                None => data_name.clone(),
            };
            ev.scope.push(Scope {
                name,
                sha256: Some(certs::sha256_hex(c)),
                whole_file: true,
            });
        }
    }
    out.signatures = list.iter().map(signature_report).collect();
    if out.signatures.is_empty() {
        out.warnings.push("SignedData without SignerInfo".into());
    }
    Some(out)
}

/// The encapsulated content of an enveloping `.p7m` (the document inside, for unpacking).
pub fn encapsulated_content(bytes: &[u8]) -> Option<Vec<u8>> {
    let der = to_der(bytes)?;
    let sd = parse::content_info(&der).ok()?;
    sd.content.map(|c| c.into_owned())
}

fn report(name: &str, bytes: &[u8], error: Option<String>) -> Report {
    Report {
        file: name.to_string(),
        sha256: certs::sha256_hex(bytes),
        container: "cms".to_string(),
        error,
        ..Report::default()
    }
}

/// The data file a detached signature names: its own name without the signature extension.
pub fn data_name(name: &str) -> String {
    const SUFFIXES: [&str; 8] = [
        ".p7s", ".p7m", ".sig", ".cades", ".csig", ".pkcs7", ".p7", ".cms",
    ];
    let lower = name.to_ascii_lowercase();
    SUFFIXES
        .iter()
        .find(|s| lower.ends_with(*s))
        .and_then(|s| name.get(..name.len() - s.len()))
        .unwrap_or(name)
        .to_string()
}

/// A name only CMS files carry (`.sig` is shared with XAdES, so it does not count).
fn has_cms_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    !lower.ends_with(".sig") && data_name(name).len() != name.len()
}

/// The mail unpacker hands the signature part of an S/MIME mail over as `smime.p7s`/`.p7m`.
fn is_smime(name: &str) -> bool {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    base.eq_ignore_ascii_case("smime.p7s") || base.eq_ignore_ascii_case("smime.p7m")
}

/// DER bytes from DER/BER, PEM (`-----BEGIN PKCS7-----`, `CMS`, ...) or bare base64.
pub fn to_der(bytes: &[u8]) -> Option<std::borrow::Cow<'_, [u8]>> {
    if bytes.first() == Some(&0x30) {
        return Some(std::borrow::Cow::Borrowed(bytes));
    }
    if bytes.len() > MAX_TEXT_BYTES {
        return None;
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
    let der = base64::engine::general_purpose::STANDARD
        .decode(clean)
        .ok()?;
    (der.first() == Some(&0x30)).then_some(std::borrow::Cow::Owned(der))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_a_detached_signature_with_its_data_file_by_name() {
        assert_eq!(data_name("wniosek.pdf.p7s"), "wniosek.pdf");
        assert_eq!(data_name("Test.bin.SIG"), "Test.bin");
        assert_eq!(data_name("plain.txt"), "plain.txt");
    }

    #[test]
    fn is_not_cms_for_text_or_other_der() {
        let none = |_: &str| None;
        assert!(verify_cades("a.txt", b"hello", &none).is_none());
        let data = [
            0x30, 0x0b, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01,
        ];
        assert!(verify_cades("a.p7m", &data, &none).is_none());
        let broken = verify_cades("a.p7s", b"\x30\x82\xff", &none).unwrap();
        assert!(broken.error.is_some());
        assert!(verify_cades("a.p7m", b"not base64 at all", &none)
            .unwrap()
            .error
            .is_some());
        assert!(verify_cades("podpis.sig", b"<?xml version='1.0'?><x/>", &none).is_none());
    }
}
