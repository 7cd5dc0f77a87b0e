//! S/MIME signed mail (RFC 8551 §3.5 `multipart/signed`, RFC 1847): the signature part
//! (`application/pkcs7-signature`) signs the exact bytes of the first body part, MIME headers
//! included, in canonical form (CRLF line ends, RFC 8551 §3.1.1). The mail unpacker hands over
//! both parts; mail stores that rewrote CRLF to LF are tolerated by a second try in canonical
//! form, reported as a warning.

use super::cades::verify_cades;
use crate::signature::report::Report;

/// Verifies the signature part of a `multipart/signed` mail over its signed body part.
/// `None` when the signature part is not CMS SignedData.
pub fn verify_smime(signed_part: &[u8], signature: &[u8]) -> Option<Report> {
    let exact = |_: &str| Some(signed_part.to_vec());
    let first = verify_cades("smime.p7s", signature, &exact)?;
    let whole = |r: &Report| {
        !r.signatures.is_empty() && r.signatures.iter().all(|s| s.intact == Some(true))
    };
    if whole(&first) || signed_part.windows(2).any(|w| w == b"\r\n") {
        return Some(first);
    }
    let canonical = to_crlf(signed_part);
    let retry = |_: &str| Some(canonical.clone());
    let mut second = verify_cades("smime.p7s", signature, &retry)?;
    if !whole(&second) {
        return Some(first);
    }
    for s in &mut second.signatures {
        s.warnings.push(
            "verified after restoring CRLF line ends (RFC 8551 §3.1.1 canonical form)".into(),
        );
    }
    Some(second)
}

/// LF line ends as CRLF.
fn to_crlf(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 32);
    for &b in bytes {
        if b == b'\n' {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signature::cms::testkit::{self, Options};

    #[test]
    fn verifies_a_signed_part_and_tolerates_lost_carriage_returns() {
        let pki = testkit::pki();
        let part = b"Content-Type: text/plain; charset=utf-8\r\n\r\nWniosek o dowod\r\n";
        let opts = Options {
            detached: true,
            ..Options::default()
        };
        let sig = testkit::sign(&pki, &pki.rsa, part, &opts);
        let report = verify_smime(part, &sig).unwrap();
        assert_eq!(report.signatures[0].format, "S/MIME");
        assert_eq!(report.signatures[0].intact, Some(true), "{report:?}");
        let lf: Vec<u8> = part.iter().copied().filter(|&b| b != b'\r').collect();
        let report = verify_smime(&lf, &sig).unwrap();
        assert_eq!(report.signatures[0].intact, Some(true), "{report:?}");
        assert!(report.signatures[0]
            .warnings
            .iter()
            .any(|w| w.contains("CRLF")));
        let report = verify_smime(b"Content-Type: text/plain\r\n\r\nInny\r\n", &sig).unwrap();
        assert_eq!(report.signatures[0].intact, Some(false));
    }
}
