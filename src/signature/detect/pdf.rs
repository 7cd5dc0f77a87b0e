//! PDF: finds signature dictionaries (ISO 32000-1 §12.8.1: `/ByteRange` and `/Contents`) with a
//! bounded byte scan, without a PDF parser: each `/ByteRange` is traced back to the `<<` that
//! opens its dictionary, whose top-level entries are read by a small lexer. `/SubFilter
//! /ETSI.RFC3161` (or `/Type /DocTimeStamp`) is a document time-stamp (EN 319 142-1 §5.4), noted,
//! not a signature.
//!
//! Limits of a scan: a signature dictionary inside a compressed object stream is not seen (its
//! `/Contents` should lie in the bytes its `/ByteRange` leaves out, so writers keep it
//! uncompressed; `corpus/dss/pades/dss-2554/fieldmdp-exclude.pdf` does not), and a dictionary no
//! longer referenced by a form field (an abandoned signature of an earlier revision) is still
//! counted. The verifier, which parses the cross-reference chain, will know better.

use super::{find_bytes, unverified, Found};
use crate::signature::report::{SignatureReport, Signer};

/// Most signature dictionaries looked at.
const MAX_SIGNATURES: usize = 200;
/// Longest signature dictionary, in bytes (its `/Contents` hex string included).
const MAX_DICT_BYTES: usize = 4 * 1024 * 1024;
/// Bytes scanned back and forth around all `/ByteRange`s together, beyond the file itself.
const SCAN_BUDGET: usize = 64 * 1024 * 1024;
/// Deepest nesting of dictionaries and arrays inside a signature dictionary.
const MAX_NESTING: usize = 32;

/// Finds the signatures of a PDF (container `pdf`).
pub fn find(bytes: &[u8]) -> Found {
    let head = bytes.get(..1024).unwrap_or(bytes);
    if find_bytes(head, b"%PDF-", 0).is_none() {
        return Found::failed("pdf", "not a PDF: no %PDF- header");
    }
    let encrypted = find_bytes(bytes, b"/Encrypt", 0).is_some();
    let mut found = Found::new("pdf");
    // An object rewritten by an incremental update is one signature; two objects that claim
    // the same /ByteRange are two (one of them will not verify).
    let mut seen: Vec<SignatureKey> = Vec::new();
    let mut budget = SCAN_BUDGET;
    let mut pos = 0;
    while let Some(at) = find_bytes(bytes, b"/ByteRange", pos) {
        pos = at + 1;
        if seen.len() >= MAX_SIGNATURES || budget == 0 {
            found
                .warnings
                .push("too many signature dictionaries: the rest were not inspected".into());
            break;
        }
        let Some((start, dict)) = enclosing_dict(bytes, at, &mut budget) else {
            continue;
        };
        let Some(byte_range) = dict.raw("ByteRange") else {
            continue;
        };
        let key = (object_id(bytes, start), byte_range);
        if seen.contains(&key) || dict.string("Contents").is_none() {
            continue;
        }
        seen.push(key);
        add(&mut found, &dict, encrypted);
    }
    if encrypted && !seen.is_empty() {
        found
            .warnings
            .push("encrypted PDF: signer name and reason not read".into());
    }
    found
}

/// What tells two signature dictionaries apart: the object that holds it and its /ByteRange.
type SignatureKey = (Option<(u64, u64)>, Vec<u8>);

/// Adds one signature dictionary to the findings: a signature, or a note for a time-stamp.
fn add(found: &mut Found, dict: &Dict, encrypted: bool) {
    let sub_filter = dict.name("SubFilter").unwrap_or_default();
    if sub_filter == "ETSI.RFC3161" || dict.name("Type").as_deref() == Some("DocTimeStamp") {
        found
            .warnings
            .push("document time-stamp (ETSI.RFC3161): not a signature".into());
        return;
    }
    found
        .signatures
        .push(signature(dict, &sub_filter, encrypted));
}

fn signature(dict: &Dict, sub_filter: &str, encrypted: bool) -> SignatureReport {
    let mut report = unverified("PAdES");
    match sub_filter {
        "ETSI.CAdES.detached" | "adbe.pkcs7.detached" | "adbe.pkcs7.sha1" => {}
        "" => report.warnings.push("no /SubFilter".into()),
        other => report.warnings.push(format!("unusual /SubFilter {other}")),
    }
    report.warnings.push(format!("/SubFilter {sub_filter}"));
    report.signing_time = dict.string("M").and_then(|m| pdf_date(&text(&m)));
    if encrypted {
        return report;
    }
    if let Some(name) = dict.string("Name") {
        report.signer = Some(Signer {
            name: Some(text(&name)),
            ..Signer::default()
        });
    }
    if let Some(reason) = dict.string("Reason") {
        report.warnings.push(format!("reason: {}", text(&reason)));
    }
    report
}

/// A value of a dictionary entry, as far as the scan needs it.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Name(String),
    Str(Vec<u8>),
    /// Anything else, as its raw bytes (numbers, references, arrays, dictionaries).
    Raw(Vec<u8>),
}

/// The top-level entries of one dictionary.
#[derive(Debug, Clone, Default)]
struct Dict {
    entries: Vec<(String, Value)>,
}

impl Dict {
    fn get(&self, key: &str) -> Option<&Value> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    fn name(&self, key: &str) -> Option<String> {
        match self.get(key)? {
            Value::Name(n) => Some(n.clone()),
            _ => None,
        }
    }

    fn string(&self, key: &str) -> Option<Vec<u8>> {
        match self.get(key)? {
            Value::Str(s) => Some(s.clone()),
            _ => None,
        }
    }

    fn raw(&self, key: &str) -> Option<Vec<u8>> {
        match self.get(key)? {
            Value::Raw(r) => Some(
                r.split(u8::is_ascii_whitespace)
                    .flatten()
                    .copied()
                    .collect(),
            ),
            _ => None,
        }
    }
}

/// The dictionary around position `at` and where it starts: back to its `<<`, then lexed forward.
fn enclosing_dict(bytes: &[u8], at: usize, budget: &mut usize) -> Option<(usize, Dict)> {
    let start = dict_start(bytes, at, budget)?;
    let window = bytes.get(start..start.saturating_add(MAX_DICT_BYTES).min(bytes.len()))?;
    let mut lexer = Lexer {
        bytes: window,
        pos: 2,
    };
    let dict = lexer.dict_entries();
    *budget = budget.saturating_sub(lexer.pos);
    dict.map(|d| (start, d))
}

/// The `N G` of the `N G obj` that holds the dictionary starting at `start`, if near before it.
fn object_id(bytes: &[u8], start: usize) -> Option<(u64, u64)> {
    let window = bytes.get(start.saturating_sub(256)..start)?;
    let at = window.windows(3).rposition(|w| w == b"obj")?;
    let before = window.get(..at)?;
    if before.ends_with(b"end") {
        return None;
    }
    let text = std::str::from_utf8(before.rsplit(|&b| b == b'\n' || b == b'\r').next()?).ok()?;
    let mut numbers = text.split_ascii_whitespace().rev();
    let generation = numbers.next()?.parse().ok()?;
    let number = numbers.next()?.parse().ok()?;
    Some((number, generation))
}

/// Position of the `<<` opening the dictionary that contains `at`, balancing nested `>>`/`<<`.
fn dict_start(bytes: &[u8], at: usize, budget: &mut usize) -> Option<usize> {
    let floor = at.saturating_sub(MAX_DICT_BYTES);
    let mut depth = 0usize;
    let mut i = at;
    while i > floor && *budget > 0 {
        *budget -= 1;
        let pair = bytes.get(i - 1..=i)?;
        if pair == b">>" {
            depth += 1;
            i -= 1;
        } else if pair == b"<<" {
            if depth == 0 {
                return Some(i - 1);
            }
            depth -= 1;
            i -= 1;
        }
        i = i.saturating_sub(1);
    }
    None
}

/// A minimal PDF lexer over one dictionary (ISO 32000-1 §7.3).
struct Lexer<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Lexer<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn starts(&self, s: &[u8]) -> bool {
        self.bytes.get(self.pos..).is_some_and(|r| r.starts_with(s))
    }

    fn skip_space(&mut self) {
        while let Some(b) = self.peek() {
            if b == b'%' {
                while self.peek().is_some_and(|b| b != b'\n' && b != b'\r') {
                    self.pos += 1;
                }
            } else if b.is_ascii_whitespace() || b == 0 {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    /// Entries up to the closing `>>`; `None` if the dictionary is malformed or unterminated.
    fn dict_entries(&mut self) -> Option<Dict> {
        let mut dict = Dict::default();
        loop {
            self.skip_space();
            if self.starts(b">>") {
                return Some(dict);
            }
            if self.peek()? != b'/' {
                return None;
            }
            let key = self.name()?;
            self.skip_space();
            let value = self.value()?;
            dict.entries.push((key, value));
        }
    }

    fn value(&mut self) -> Option<Value> {
        match self.peek()? {
            b'/' => self.name().map(Value::Name),
            b'(' => self.literal().map(Value::Str),
            b'<' if !self.starts(b"<<") => self.hex().map(Value::Str),
            _ => self.raw().map(Value::Raw),
        }
    }

    fn name(&mut self) -> Option<String> {
        self.pos += 1;
        let start = self.pos;
        while self.peek().is_some_and(|b| !is_delimiter(b)) {
            self.pos += 1;
        }
        let raw = self.bytes.get(start..self.pos)?;
        Some(String::from_utf8_lossy(raw).into_owned())
    }

    /// A literal string `( ... )` with nested parentheses and escapes (§7.3.4.2).
    fn literal(&mut self) -> Option<Vec<u8>> {
        self.pos += 1;
        let mut out = Vec::new();
        let mut depth = 0usize;
        loop {
            let b = self.peek()?;
            self.pos += 1;
            match b {
                b'\\' => self.escape(&mut out)?,
                b'(' => {
                    depth += 1;
                    out.push(b);
                }
                b')' if depth == 0 => return Some(out),
                b')' => {
                    depth -= 1;
                    out.push(b);
                }
                _ => out.push(b),
            }
        }
    }

    fn escape(&mut self, out: &mut Vec<u8>) -> Option<()> {
        let b = self.peek()?;
        self.pos += 1;
        match b {
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'\r' | b'\n' => {
                if b == b'\r' && self.peek() == Some(b'\n') {
                    self.pos += 1;
                }
            }
            b'0'..=b'7' => {
                let mut v = u32::from(b - b'0');
                for _ in 0..2 {
                    match self.peek() {
                        Some(d @ b'0'..=b'7') => {
                            v = v * 8 + u32::from(d - b'0');
                            self.pos += 1;
                        }
                        _ => break,
                    }
                }
                out.push((v & 0xff) as u8);
            }
            other => out.push(other),
        }
        Some(())
    }

    /// A hex string `< ... >` (§7.3.4.3).
    fn hex(&mut self) -> Option<Vec<u8>> {
        self.pos += 1;
        let mut digits = Vec::new();
        loop {
            let b = self.peek()?;
            self.pos += 1;
            match b {
                b'>' => break,
                b if b.is_ascii_hexdigit() => digits.push(b),
                b if b.is_ascii_whitespace() => {}
                _ => return None,
            }
        }
        if digits.len() % 2 == 1 {
            digits.push(b'0');
        }
        Some(
            digits
                .chunks(2)
                .filter_map(|pair| std::str::from_utf8(pair).ok())
                .filter_map(|pair| u8::from_str_radix(pair, 16).ok())
                .collect(),
        )
    }

    /// Anything else up to the next key or the end of the dictionary, nesting tracked.
    fn raw(&mut self) -> Option<Vec<u8>> {
        let start = self.pos;
        let mut depth = 0usize;
        loop {
            self.skip_space();
            if depth == 0 && (self.starts(b">>") || self.peek() == Some(b'/')) {
                return self.bytes.get(start..self.pos).map(<[u8]>::to_vec);
            }
            if depth > MAX_NESTING {
                return None;
            }
            if self.starts(b"<<") {
                depth += 1;
                self.pos += 2;
                continue;
            }
            match self.peek()? {
                b'[' => depth += 1,
                b']' => depth = depth.checked_sub(1)?,
                b'>' if self.starts(b">>") => {
                    depth -= 1;
                    self.pos += 1;
                }
                b'(' => {
                    self.literal()?;
                    continue;
                }
                b'<' => {
                    self.hex()?;
                    continue;
                }
                b'/' => {
                    self.name()?;
                    continue;
                }
                _ => {}
            }
            self.pos += 1;
        }
    }
}

fn is_delimiter(b: u8) -> bool {
    b.is_ascii_whitespace() || b"()<>[]{}/%".contains(&b) || b == 0
}

/// A PDF text string: UTF-16BE with BOM, UTF-8 with BOM or valid UTF-8, else Latin-1
/// (close to PDFDocEncoding for letters).
fn text(bytes: &[u8]) -> String {
    if let Some(utf16) = bytes.strip_prefix(&[0xfe, 0xff]) {
        let units: Vec<u16> = utf16
            .chunks_exact(2)
            .map(|p| {
                u16::from_be_bytes([
                    p.first().copied().unwrap_or(0),
                    p.get(1).copied().unwrap_or(0),
                ])
            })
            .collect();
        return String::from_utf16_lossy(&units);
    }
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => bytes.iter().map(|&b| char::from(b)).collect(),
    }
}

/// `D:YYYYMMDDHHmmSS+HH'mm'` (ISO 32000-1 §7.9.4) as RFC 3339 UTC; missing parts default.
fn pdf_date(raw: &str) -> Option<String> {
    let s = raw.trim().strip_prefix("D:").unwrap_or(raw.trim());
    let digits: String = s.chars().take_while(char::is_ascii_digit).collect();
    let field = |from: usize, len: usize, default: u32| -> Option<u32> {
        match digits.get(from..from + len) {
            Some(d) => d.parse().ok(),
            None => Some(default),
        }
    };
    let year = i32::try_from(field(0, 4, 0)?)
        .ok()
        .filter(|_| digits.len() >= 4)?;
    let date = chrono::NaiveDate::from_ymd_opt(year, field(4, 2, 1)?, field(6, 2, 1)?)?;
    let time = date.and_hms_opt(field(8, 2, 0)?, field(10, 2, 0)?, field(12, 2, 0)?)?;
    let rest = s.get(digits.len()..).unwrap_or_default();
    let offset_secs = pdf_offset(rest)?;
    let utc = time - chrono::Duration::seconds(i64::from(offset_secs));
    Some(
        utc.and_utc()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    )
}

/// `Z`, `+HH'mm'`, `-HH'mm` or nothing, in seconds east of UTC.
fn pdf_offset(rest: &str) -> Option<i32> {
    let sign = match rest.chars().next() {
        None | Some('Z') => return Some(0),
        Some('+') => 1,
        Some('-') => -1,
        Some(_) => return None,
    };
    let digits: String = rest.chars().filter(char::is_ascii_digit).collect();
    let hours: i32 = digits.get(..2)?.parse().ok()?;
    let minutes: i32 = digits.get(2..4).and_then(|m| m.parse().ok()).unwrap_or(0);
    Some(sign * (hours * 3600 + minutes * 60))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pdf(sig_dicts: &[&str]) -> Vec<u8> {
        let mut out = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n".to_vec();
        for (i, d) in sig_dicts.iter().enumerate() {
            out.extend(format!("{} 0 obj\n{d}\nendobj\n", i + 2).as_bytes());
        }
        out.extend(b"trailer\n<< /Root 1 0 R >>\n%%EOF\n");
        out
    }

    const PADES: &str = "<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached \
        /Contents <3082000a0b0c> /ByteRange [0 100 200 50] /M (D:20200420121112+02'00') \
        /Reason (Opatrzono pieczeci\\(\\) w imieniu: JAN) /Name <FEFF004A0061006E> \
        /Prop_Build << /Filter << /Name /Adobe.PPKLite >> >> >>";

    #[test]
    fn finds_a_signature_dictionary_with_its_claimed_time_and_name() {
        let found = find(&pdf(&[PADES]));
        assert_eq!(found.error, None);
        assert_eq!(found.signatures.len(), 1);
        let s = &found.signatures[0];
        assert_eq!(s.format, "PAdES");
        assert!(!s.checked);
        assert_eq!(s.signing_time.as_deref(), Some("2020-04-20T10:11:12Z"));
        assert_eq!(s.signer.as_ref().unwrap().name.as_deref(), Some("Jan"));
        assert!(s
            .warnings
            .iter()
            .any(|w| w.starts_with("reason: Opatrzono pieczeci() w")));
    }

    #[test]
    fn a_document_time_stamp_is_a_note_not_a_signature() {
        let ts = "<</Type/DocTimeStamp/SubFilter/ETSI.RFC3161/Contents<00>/ByteRange[0 1 2 3]>>";
        let found = find(&pdf(&[PADES, ts]));
        assert_eq!(found.signatures.len(), 1);
        assert_eq!(found.warnings.len(), 1);
    }

    #[test]
    fn the_same_object_rewritten_in_an_update_counts_once() {
        let mut bytes = pdf(&[PADES]);
        bytes.extend(format!("2 0 obj\n{PADES}\nendobj\n%%EOF\n").as_bytes());
        assert_eq!(find(&bytes).signatures.len(), 1);
    }

    #[test]
    fn an_unsigned_pdf_and_a_broken_one_have_no_signatures_and_no_error() {
        assert!(find(&pdf(&[])).signatures.is_empty());
        let broken = b"%PDF-1.4\n/ByteRange [0 1 2 3] << /ByteRange (unterminated";
        let found = find(broken);
        assert!(found.signatures.is_empty());
        assert_eq!(found.error, None);
    }

    #[test]
    fn two_objects_claiming_the_same_byte_range_are_two_signatures() {
        let found = find(&pdf(&[PADES, PADES]));
        assert_eq!(found.signatures.len(), 2);
    }

    #[test]
    fn reads_the_object_number_before_a_dictionary() {
        let bytes = b"xx\n12 0 obj\n<< /A 1 >>";
        assert_eq!(object_id(bytes, 12), Some((12, 0)));
        assert_eq!(object_id(b"endobj\n<<", 7), None);
    }

    #[test]
    fn parses_pdf_dates_with_and_without_offsets() {
        assert_eq!(pdf_date("D:2020").as_deref(), Some("2020-01-01T00:00:00Z"));
        assert_eq!(
            pdf_date("D:20200420101112Z").as_deref(),
            Some("2020-04-20T10:11:12Z")
        );
        assert_eq!(
            pdf_date("D:20200420101112-01'30").as_deref(),
            Some("2020-04-20T11:41:12Z")
        );
        assert_eq!(pdf_date("yesterday"), None);
    }
}
