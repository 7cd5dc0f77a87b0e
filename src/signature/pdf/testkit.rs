//! PDFs made and signed at test time (ISO 32000-1 §12.8.1, EN 319 142-1 §5.3): a one-page
//! document with a signature field, a placeholder `/ByteRange` and `/Contents`, signed with the
//! CMS test kit over the two ranges; incremental updates appended as a signing or editing
//! application would.

use crate::signature::cms::testkit::{self, Identity, Options, Pki};
use crate::signature::pdf::objects::find;

/// Width of each ByteRange number in the placeholder.
const WIDTH: usize = 10;
/// Hex digits reserved for the CMS.
const CONTENTS_HEX: usize = 16_384;

fn placeholder_dict(sub_filter: &str, reason: &str, doc_ts: bool) -> String {
    let zeros = "0".repeat(WIDTH);
    let kind = if doc_ts { "/DocTimeStamp" } else { "/Sig" };
    format!(
        "<< /Type {kind} /Filter /Adobe.PPKLite /SubFilter /{sub_filter} /Reason ({reason}) /M (D:20200420121112+02'00') /ByteRange [0 {zeros} {zeros} {zeros}] /Contents <{}> >>",
        "0".repeat(CONTENTS_HEX)
    )
}

/// A one-page PDF whose signature dictionary (object 5) is a placeholder.
pub fn unsigned(sub_filter: &str, reason: &str) -> Vec<u8> {
    let content = "BT /F1 12 Tf 10 100 Td (Wniosek) Tj ET";
    format!(
        "%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [4 0 R] /SigFlags 3 >> >>\nendobj\n\
         2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n\
         3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 6 0 R /Annots [4 0 R] >>\nendobj\n\
         4 0 obj\n<< /FT /Sig /T (Sig1) /Type /Annot /Subtype /Widget /Rect [0 0 0 0] /P 3 0 R /V 5 0 R >>\nendobj\n\
         5 0 obj\n{}\nendobj\n\
         6 0 obj\n<< /Length {} >>\nstream\n{content}\nendstream\nendobj\n\
         trailer\n<< /Root 1 0 R /Size 7 >>\n%%EOF\n",
        placeholder_dict(sub_filter, reason, false),
        content.len()
    )
    .into_bytes()
}

/// Appends an increment adding a second signature field and its placeholder (objects 7, 8).
pub fn add_signature_field(pdf: &[u8], doc_ts: bool) -> Vec<u8> {
    add_numbered_field(pdf, doc_ts, 1)
}

/// Appends an increment adding signature field number `k` (1 for the second signature of
/// the document) as objects `5 + 2k` and `6 + 2k`, listing every field so far.
pub fn add_numbered_field(pdf: &[u8], doc_ts: bool, k: u32) -> Vec<u8> {
    let sub_filter = if doc_ts {
        "ETSI.RFC3161"
    } else {
        "ETSI.CAdES.detached"
    };
    let (field, sig) = (5 + 2 * k, 6 + 2 * k);
    let fields: String = std::iter::once(4)
        .chain((1..=k).map(|i| 5 + 2 * i))
        .map(|n| format!("{n} 0 R "))
        .collect();
    let mut out = pdf.to_vec();
    out.extend_from_slice(
        format!(
            "{field} 0 obj\n<< /FT /Sig /T (Sig{k}) /Type /Annot /Subtype /Widget /Rect [0 0 0 0] /P 3 0 R /V {sig} 0 R >>\nendobj\n\
             {sig} 0 obj\n{}\nendobj\n\
             1 0 obj\n<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [{fields}] /SigFlags 3 >> >>\nendobj\n\
             3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 6 0 R /Annots [{fields}] >>\nendobj\n\
             trailer\n<< /Root 1 0 R /Size {} >>\n%%EOF\n",
            placeholder_dict(sub_filter, "Kolejny podpis", doc_ts),
            sig + 1
        )
        .as_bytes(),
    );
    out
}

/// A one-page PDF whose content stream is about `bytes` long.
pub fn large_unsigned(bytes: usize) -> Vec<u8> {
    let line = "BT /F1 12 Tf 10 100 Td (Wniosek o wydanie dowodu osobistego) Tj ET\n";
    let content = line.repeat(bytes / line.len() + 1);
    let small = unsigned("ETSI.CAdES.detached", "Zatwierdzam");
    let text = String::from_utf8_lossy(&small).into_owned();
    let old = "BT /F1 12 Tf 10 100 Td (Wniosek) Tj ET";
    text.replace(
        &format!("/Length {}", old.len()),
        &format!("/Length {}", content.len()),
    )
    .replace(old, &content)
    .into_bytes()
}

/// Appends an increment that changes the page content (a modification after signing).
pub fn change_page_content(pdf: &[u8]) -> Vec<u8> {
    let content = "BT /F1 12 Tf 10 100 Td (Inny wniosek) Tj ET";
    let mut out = pdf.to_vec();
    out.extend_from_slice(
        format!(
            "9 0 obj\n<< /Length {} >>\nstream\n{content}\nendstream\nendobj\n\
             3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 9 0 R /Annots [4 0 R] >>\nendobj\n\
             trailer\n<< /Root 1 0 R /Size 10 >>\n%%EOF\n",
            content.len()
        )
        .as_bytes(),
    );
    out
}

/// Where the last placeholder is: the ByteRange numbers and the `/Contents` string.
fn last_placeholder(pdf: &[u8]) -> (usize, usize, usize) {
    let marker = format!("/ByteRange [0 {}", "0".repeat(WIDTH));
    let mut at = None;
    let mut pos = 0;
    while let Some(found) = find(pdf, marker.as_bytes(), pos) {
        at = Some(found);
        pos = found + 1;
    }
    let range_at = at.unwrap() + "/ByteRange [".len();
    let contents_at = find(pdf, b"/Contents <", range_at).unwrap() + "/Contents ".len();
    let contents_end = contents_at + CONTENTS_HEX + 2;
    (range_at, contents_at, contents_end)
}

/// Fills the last placeholder: the ByteRange, then `sign(ranges)` as the `/Contents`.
pub fn fill(pdf: &[u8], sign: impl Fn(&[u8]) -> Vec<u8>) -> Vec<u8> {
    let mut out = pdf.to_vec();
    let (range_at, a, b) = last_placeholder(&out);
    let c = out.len() - b;
    let range = format!("0 {a:>w$} {b:>w$} {c:>w$}", w = WIDTH);
    out.splice(range_at..range_at + range.len(), range.bytes());
    let mut signed = out[..a].to_vec();
    signed.extend_from_slice(&out[b..]);
    let cms = sign(&signed);
    let hex: String = cms.iter().map(|x| format!("{x:02x}")).collect();
    assert!(hex.len() <= CONTENTS_HEX, "cms too large");
    out.splice(a + 1..a + 1 + hex.len(), hex.bytes());
    out
}

/// Signs the last placeholder with a detached CAdES signature by `id`.
pub fn sign(pki: &Pki, id: &Identity, pdf: &[u8]) -> Vec<u8> {
    let opts = Options {
        detached: true,
        ..Options::default()
    };
    fill(pdf, |data| testkit::sign(pki, id, data, &opts))
}

/// Fills the last placeholder with a document time-stamp token over the ranges.
pub fn timestamp(pki: &Pki, pdf: &[u8]) -> Vec<u8> {
    fill(pdf, |data| testkit::timestamp_token(pki, data))
}
