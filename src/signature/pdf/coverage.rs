//! ByteRange coverage of one signature (ISO 32000-1 §12.8.1, EN 319 142-1 §5.3; VERIFY-NOTES
//! "PDF specifics"): `[0 a b c]`, the hole `[a, b)` exactly the `/Contents` hexadecimal string
//! of that signature, and `b + c` the end of a revision (its `%%EOF`). Anything else is a
//! format failure: the signature does not sign what a reader of that revision sees.

use super::objects::Document;
use super::sigdict::SigDict;

/// What a ByteRange covers.
#[derive(Debug, Clone, Default)]
pub struct Coverage<'a> {
    /// The signed byte ranges, in order (two for a well-formed signature).
    pub ranges: Vec<&'a [u8]>,
    /// The revision whose end the range reaches.
    pub revision: Option<usize>,
    /// The range reaches the end of the file.
    pub whole_file: bool,
    /// Coverage failures.
    pub errors: Vec<String>,
}

/// Checks the ByteRange of `sig` against the file.
pub fn check<'a>(data: &'a [u8], doc: &Document, eofs: &[usize], sig: &SigDict) -> Coverage<'a> {
    let mut out = Coverage::default();
    let br = &sig.byte_range;
    let mut end = 0usize;
    for pair in br.chunks(2) {
        let (Some(&off), Some(&len)) = (pair.first(), pair.get(1)) else {
            out.errors
                .push("ByteRange has an odd number of integers".into());
            break;
        };
        let slice = usize::try_from(off)
            .ok()
            .zip(usize::try_from(len).ok())
            .and_then(|(o, l)| Some((o, o.checked_add(l)?)))
            .and_then(|(o, e)| data.get(o..e).map(|s| (s, e)));
        match slice {
            Some((s, e)) => {
                out.ranges.push(s);
                end = end.max(e);
            }
            None => out.errors.push("ByteRange points outside the file".into()),
        }
    }
    let [zero, a, b, c] = br.as_slice() else {
        out.errors.push(format!(
            "ByteRange is not [0 a b c] but has {} integers",
            br.len()
        ));
        return out;
    };
    if *zero != 0 || a > b || *c < 0 {
        out.errors
            .push("ByteRange is not [0 a b c] with a <= b".into());
    }
    let hole = (usize::try_from(*a).ok(), usize::try_from(*b).ok());
    if hole != (Some(sig.contents_span.0), Some(sig.contents_span.1)) {
        out.errors.push(
            "the ByteRange hole is not exactly the /Contents string of this signature".into(),
        );
    }
    out.revision = doc.revision_ending_at(end, eofs);
    if out.revision.is_none() {
        out.errors
            .push("the signed range does not end at the end of a revision (%%EOF)".into());
    }
    let tail = data.get(end..).unwrap_or_default();
    out.whole_file = tail.iter().all(|b| b.is_ascii_whitespace() || *b == 0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signature::pdf::objects::{eof_positions, index};

    fn sig(range: Vec<i64>, span: (usize, usize)) -> SigDict {
        SigDict {
            byte_range: range,
            contents_span: span,
            ..SigDict::default()
        }
    }

    #[test]
    fn accepts_a_hole_that_is_exactly_the_contents_up_to_the_end_of_a_revision() {
        let data = b"%PDF-1.7\n<< /Contents <00> >>\n%%EOF\n";
        let doc = index(data);
        let eofs = eof_positions(data);
        let ok = check(data, &doc, &eofs, &sig(vec![0, 22, 26, 10], (22, 26)));
        assert!(ok.errors.is_empty(), "{:?}", ok.errors);
        assert!(ok.whole_file);
        assert_eq!(ok.revision, Some(0));
        let shifted = check(data, &doc, &eofs, &sig(vec![0, 21, 26, 10], (22, 26)));
        assert_eq!(shifted.errors.len(), 1);
        let short = check(data, &doc, &eofs, &sig(vec![0, 22, 26, 3], (22, 26)));
        assert!(short.errors[0].contains("end of a revision"));
        let odd = check(data, &doc, &eofs, &sig(vec![0, 22], (22, 26)));
        assert!(!odd.errors.is_empty());
    }
}
