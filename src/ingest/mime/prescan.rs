//! A structural pre-scan of a raw message, run before mail-parser sees it. mail-parser walks
//! multiparts with a stack of its own, but builds a forwarded `message/rfc822` as a nested
//! `Message` value: ten thousand nested levels would overflow the stack when that value is built,
//! walked or dropped. It also recovers silently from a cut-off message. So this scan, iterative and
//! linear in the input, measures the nesting depth and the number of parts against the limits and
//! finds truncations (a multipart never closed, base64 cut in the middle of a group) first.

use super::UnpackError;
use crate::config::LimitsConfig;

/// What the scan learnt besides the errors.
#[derive(Debug, Default)]
pub struct Scan {
    /// Non-fatal oddities.
    pub warnings: Vec<String>,
    /// Close delimiters missing from the raw message: where (a line start) and which boundary.
    /// mail-parser does not close an inner multipart at its parent's delimiter (it reads the
    /// rest as the inner part's text, losing the later attachments), so these are written into
    /// a copy of the message before it is parsed (see [`repaired`]).
    pub repairs: Vec<(usize, Vec<u8>)>,
}

/// `raw` with the missing close delimiters of `repairs` inserted.
pub fn repaired(raw: &[u8], repairs: &[(usize, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + repairs.len() * 80);
    let mut at = 0;
    for (pos, boundary) in repairs {
        out.extend_from_slice(raw.get(at..*pos).unwrap_or_default());
        out.extend_from_slice(b"--");
        out.extend_from_slice(boundary);
        out.extend_from_slice(b"--\r\n");
        at = *pos;
    }
    out.extend_from_slice(raw.get(at..).unwrap_or_default());
    out
}

/// An open multipart: its boundary and the depth of its children.
struct Frame {
    boundary: Vec<u8>,
    child_depth: usize,
    /// `multipart/digest`: a child without `Content-Type` is a `message/rfc822` (RFC 2046 §5.1.5).
    digest: bool,
}

/// The fields of one header block that decide the structure.
#[derive(Default)]
struct PartHead {
    content_type: String,
    boundary: Option<Vec<u8>>,
    encoding: String,
}

/// Most multiparts whose boundary never appears. Each costs a search to the end of the message
/// (in this scan and again in mail-parser), so a flood of them would make a slow message.
const MAX_MISSING_BOUNDARIES: usize = 8;

/// mail-parser parses a forwarded message sent base64 or quoted-printable only three levels deep
/// (`MAX_NESTED_ENCODED`); deeper ones stay opaque bytes, so the scan need not decode them either.
const MAX_NESTED_ENCODED: usize = 3;

/// Scans `raw` (whose top entity sits at `depth`) within `limits`.
pub fn scan(raw: &[u8], depth: usize, limits: &LimitsConfig) -> Result<Scan, UnpackError> {
    scan_encoded(raw, depth, 0, limits)
}

fn scan_encoded(
    raw: &[u8],
    depth: usize,
    encoded_level: usize,
    limits: &LimitsConfig,
) -> Result<Scan, UnpackError> {
    let mut scanner = Scanner {
        raw,
        pos: 0,
        parts: 0,
        delimiter_start: 0,
        missing_boundaries: 0,
        encoded_level,
        limits,
        out: Scan::default(),
    };
    scanner.run(depth)?;
    Ok(scanner.out)
}

struct Scanner<'a> {
    raw: &'a [u8],
    pos: usize,
    parts: usize,
    delimiter_start: usize,
    missing_boundaries: usize,
    encoded_level: usize,
    limits: &'a LimitsConfig,
    out: Scan,
}

impl Scanner<'_> {
    fn run(&mut self, top_depth: usize) -> Result<(), UnpackError> {
        let mut stack: Vec<Frame> = Vec::new();
        let mut depth = top_depth;
        let mut in_digest = false;
        let mut in_message_top = false;
        loop {
            self.parts += 1;
            if self.parts > self.limits.max_parts {
                return Err(UnpackError::TooManyParts {
                    limit: self.limits.max_parts,
                });
            }
            if depth > self.limits.max_mime_depth {
                return Err(UnpackError::TooDeep {
                    limit: self.limits.max_mime_depth,
                });
            }
            let mut head = self.read_head(!stack.is_empty())?;
            if head.content_type.is_empty() && in_digest {
                head.content_type = "message/rfc822".to_string();
            }
            in_digest = false;
            let parent_is_message = std::mem::take(&mut in_message_top);
            if head.content_type.starts_with("multipart/") {
                if let Some(boundary) = head.boundary.clone() {
                    let body_start = self.pos;
                    if self.seek_delimiter(&boundary) == Some(false) {
                        in_digest = head.content_type == "multipart/digest";
                        stack.push(Frame {
                            boundary,
                            child_depth: depth + 1,
                            digest: in_digest,
                        });
                        depth += 1;
                        continue;
                    }
                    // No first delimiter: mail-parser reads such a part as text, and so do we.
                    self.pos = body_start;
                    self.missing_boundaries += 1;
                    if self.missing_boundaries > MAX_MISSING_BOUNDARIES {
                        return Err(UnpackError::Unparseable {
                            reason: format!(
                                "more than {MAX_MISSING_BOUNDARIES} multiparts without any boundary line"
                            ),
                        });
                    }
                }
            }
            let is_message =
                head.content_type == "message/rfc822" || head.content_type == "message/global";
            if is_message && !is_encoded(&head.encoding) {
                if parent_is_message && !stack.is_empty() {
                    // mail-parser 0.11.6 loses the parts that follow such a message (and trips a
                    // debug assertion): better quarantined than silently incomplete.
                    return Err(UnpackError::Unparseable {
                        reason: "a forwarded message whose whole body is another forwarded \
                                 message, inside a multipart, cannot be taken apart"
                            .into(),
                    });
                }
                in_message_top = true;
                depth += 1;
                continue;
            }
            // A leaf (or an encoded message): its body runs to the next delimiter.
            let body_start = self.pos;
            let mut found = self.seek_open(&stack);
            let body_end = if found.is_some() {
                self.delimiter_start
            } else {
                self.raw.len()
            };
            let body = self.raw.get(body_start..body_end).unwrap_or_default();
            self.check_leaf(&head, body, depth, found.is_none())?;
            // Close finished multiparts, then go on with the next sibling.
            loop {
                let Some((level, closed)) = found else {
                    return match stack.last() {
                        None => Ok(()),
                        Some(frame) => Err(unclosed(Some(frame))),
                    };
                };
                self.close_skipped(&mut stack, level);
                if !closed {
                    break;
                }
                stack.pop();
                if stack.is_empty() {
                    return Ok(());
                }
                found = self.seek_open(&stack);
            }
            depth = stack.last().map_or(depth, |f| f.child_depth);
            in_digest = stack.last().is_some_and(|f| f.digest);
        }
    }

    /// Checks a leaf body: base64 cut off; an encoded message is decoded and scanned in turn.
    fn check_leaf(
        &mut self,
        head: &PartHead,
        body: &[u8],
        depth: usize,
        at_end: bool,
    ) -> Result<(), UnpackError> {
        if head.encoding == "base64" && !base64_symbols(body).is_multiple_of(4) {
            let what = format!(
                "base64 data of part {} ({}) ends in the middle of a 4-character group",
                self.parts, head.content_type
            );
            if at_end {
                return Err(UnpackError::Truncated {
                    reason: format!("{what}: the message is cut off"),
                });
            }
            self.out.warnings.push(what);
        }
        let is_message =
            head.content_type == "message/rfc822" || head.content_type == "message/global";
        if is_message && is_encoded(&head.encoding) && self.encoded_level < MAX_NESTED_ENCODED {
            let decoded = if head.encoding == "base64" {
                mail_parser::decoders::base64::base64_decode(body)
            } else {
                mail_parser::decoders::quoted_printable::quoted_printable_decode(body)
            };
            if let Some(inner) = decoded {
                let inner_scan =
                    scan_encoded(&inner, depth + 1, self.encoded_level + 1, self.limits)?;
                self.out.warnings.extend(inner_scan.warnings);
            }
        }
        Ok(())
    }

    /// Reads a header block at `pos`, leaving `pos` at the body.
    fn read_head(&mut self, inside_multipart: bool) -> Result<PartHead, UnpackError> {
        let mut head = PartHead::default();
        let mut fields: Vec<Vec<u8>> = Vec::new();
        loop {
            let Some(line) = self.next_line() else {
                if inside_multipart {
                    return Err(UnpackError::Truncated {
                        reason: format!("part {} is cut off inside its header", self.parts),
                    });
                }
                break;
            };
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.is_empty() {
                break;
            }
            match (line.first(), fields.last_mut()) {
                (Some(b' ' | b'\t'), Some(last)) => last.extend_from_slice(line),
                _ => fields.push(line.to_vec()),
            }
        }
        for field in &fields {
            let text = String::from_utf8_lossy(field);
            let Some((name, value)) = text.split_once(':') else {
                continue;
            };
            if name.trim().eq_ignore_ascii_case("content-type") {
                let (media_type, params) = value.split_once(';').unwrap_or((value, ""));
                head.content_type = media_type.trim().to_ascii_lowercase();
                head.boundary = parameter(params, "boundary").map(String::into_bytes);
            } else if name
                .trim()
                .eq_ignore_ascii_case("content-transfer-encoding")
            {
                head.encoding = value.trim().to_ascii_lowercase();
            }
        }
        Ok(head)
    }

    /// The next line without its `\n`, advancing `pos`.
    fn next_line(&mut self) -> Option<&[u8]> {
        let rest = self.raw.get(self.pos..)?;
        if rest.is_empty() {
            return None;
        }
        let len = rest.iter().position(|&b| b == b'\n');
        let line = rest.get(..len.unwrap_or(rest.len()))?;
        self.pos += len.map_or(rest.len(), |l| l + 1);
        Some(line)
    }
}

impl Scanner<'_> {
    /// Finds the next delimiter line `--boundary` from `pos`; `Some(true)` for the close
    /// delimiter `--boundary--`. Leaves `pos` after the line and remembers where it started
    /// (the CRLF before it belongs to the delimiter, RFC 2046 §5.1.1).
    fn seek_delimiter(&mut self, boundary: &[u8]) -> Option<bool> {
        self.seek_any(&[boundary]).map(|(_, closed)| closed)
    }

    /// Finds the next delimiter of any open multipart: its level in `stack` and whether it closes.
    fn seek_open(&mut self, stack: &[Frame]) -> Option<(usize, bool)> {
        let boundaries: Vec<&[u8]> = stack.iter().map(|f| f.boundary.as_slice()).collect();
        self.seek_any(&boundaries)
    }

    /// Finds the next delimiter line of one of `boundaries`, innermost (last) first.
    fn seek_any(&mut self, boundaries: &[&[u8]]) -> Option<(usize, bool)> {
        let saved = self.pos;
        loop {
            let start = self.pos;
            let Some(line) = self.next_line() else {
                self.pos = saved;
                return None;
            };
            let Some(rest) = line.strip_prefix(b"--") else {
                continue;
            };
            let found = boundaries.iter().enumerate().rev().find_map(|(level, b)| {
                rest.strip_prefix(*b)
                    .map(|after| (level, after.starts_with(b"--")))
            });
            if found.is_some() {
                self.delimiter_start = start;
                return found;
            }
        }
    }

    /// An outer multipart's delimiter closes the inner ones left open (a malformed message, not
    /// a cut one): they are closed with a warning, as mail readers do.
    fn close_skipped(&mut self, stack: &mut Vec<Frame>, level: usize) {
        while stack.len() > level + 1 {
            if let Some(frame) = stack.pop() {
                self.out.warnings.push(format!(
                    "multipart with boundary \"{}\" is not closed before its parent goes on",
                    String::from_utf8_lossy(&frame.boundary)
                ));
                self.out
                    .repairs
                    .push((self.delimiter_start, frame.boundary));
            }
        }
    }
}

/// The number of base64 symbols in the leading run of base64 lines of `body`: a gateway's
/// disclaimer appended after the data (seen in the wild) is not counted, so it is not taken for
/// a cut.
fn base64_symbols(body: &[u8]) -> usize {
    let mut symbols = 0;
    for line in body.split(|&b| b == b'\n') {
        let line = line.trim_ascii();
        let is_base64 = line
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='));
        if !is_base64 {
            break;
        }
        symbols += line.len();
        if line.contains(&b'=') {
            break;
        }
    }
    symbols
}

fn is_encoded(encoding: &str) -> bool {
    encoding == "base64" || encoding == "quoted-printable"
}

fn unclosed(frame: Option<&Frame>) -> UnpackError {
    let boundary = frame
        .map(|f| String::from_utf8_lossy(&f.boundary).into_owned())
        .unwrap_or_default();
    UnpackError::Truncated {
        reason: format!(
            "multipart with boundary \"{boundary}\" has no closing delimiter: the message is cut off"
        ),
    }
}

/// A parameter of a structured header value (`; name=value` or `; name="value"`).
fn parameter(params: &str, name: &str) -> Option<String> {
    for param in params.split(';') {
        let Some((key, value)) = param.split_once('=') else {
            continue;
        };
        if key.trim().eq_ignore_ascii_case(name) {
            let value = value.trim();
            let value = match value.strip_prefix('"') {
                Some(quoted) => quoted.split('"').next().unwrap_or_default(),
                None => value.split_whitespace().next().unwrap_or_default(),
            };
            return Some(value.to_string()).filter(|v| !v.is_empty());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> LimitsConfig {
        LimitsConfig {
            max_message_bytes: 1 << 20,
            max_mime_depth: 8,
            max_parts: 20,
            max_documents: 20,
            zip_max_total_bytes: 1 << 20,
            zip_max_ratio: 100,
            zip_max_entries: 10,
            zip_max_depth: 2,
        }
    }

    fn nested(levels: usize) -> Vec<u8> {
        let mut m = String::from("Subject: deep\r\n");
        for i in 0..levels {
            m.push_str(&format!(
                "Content-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n--b{i}\r\n"
            ));
        }
        m.push_str("Content-Type: text/plain\r\n\r\nx\r\n");
        for i in (0..levels).rev() {
            m.push_str(&format!("--b{i}--\r\n"));
        }
        m.into_bytes()
    }

    #[test]
    fn accepts_nesting_within_the_limit() {
        assert!(scan(&nested(7), 0, &limits()).is_ok());
    }

    #[test]
    fn rejects_nesting_beyond_the_limit() {
        assert_eq!(
            scan(&nested(10_000), 0, &limits()).err(),
            Some(UnpackError::TooDeep { limit: 8 })
        );
    }

    #[test]
    fn rejects_a_multipart_without_its_closing_delimiter() {
        let raw = b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n\r\nhello\r\n";
        let err = scan(raw, 0, &limits()).err();
        assert!(
            matches!(err, Some(UnpackError::Truncated { .. })),
            "{err:?}"
        );
    }

    #[test]
    fn rejects_base64_cut_at_the_end_of_the_message() {
        let raw =
            b"Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0x";
        assert!(scan(raw, 0, &limits()).is_ok());
        let cut =
            b"Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0";
        let err = scan(cut, 0, &limits()).err();
        assert!(
            matches!(err, Some(UnpackError::Truncated { .. })),
            "{err:?}"
        );
    }

    #[test]
    fn ignores_text_appended_after_base64_data() {
        let raw = b"Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n\
JVBERi0x\r\nJVBE\r\n\r\n-- \r\nThis e-mail is confidential.\r\n";
        assert!(scan(raw, 0, &limits()).is_ok());
    }

    #[test]
    fn counts_untyped_digest_entries_as_forwarded_messages() {
        let mut m = String::from("Subject: digest\r\n");
        // Each level: a digest whose entry has no header of its own, so it is a message, whose
        // header opens the next digest: two levels each, five times.
        for i in 0..5 {
            m.push_str(&format!(
                "Content-Type: multipart/digest; boundary=\"d{i}\"\r\n\r\n--d{i}\r\n\r\n"
            ));
        }
        m.push_str("x\r\n");
        let err = scan(m.as_bytes(), 0, &limits()).err();
        assert_eq!(err, Some(UnpackError::TooDeep { limit: 8 }));
    }

    #[test]
    fn stops_at_a_flood_of_multiparts_without_boundaries() {
        let mut m = String::from("Content-Type: multipart/mixed; boundary=x\r\n\r\n");
        for i in 0..15 {
            m.push_str(&format!(
                "--x\r\nContent-Type: multipart/mixed; boundary=missing{i}\r\n\r\na\r\n"
            ));
        }
        m.push_str("--x--\r\n");
        let err = scan(m.as_bytes(), 0, &limits()).err();
        assert!(
            matches!(err, Some(UnpackError::Unparseable { .. })),
            "{err:?}"
        );
    }

    #[test]
    fn closes_an_inner_multipart_left_open_with_a_warning() {
        let raw = b"Content-Type: multipart/mixed; boundary=out\r\n\r\n--out\r\n\
Content-Type: multipart/alternative; boundary=in\r\n\r\n--in\r\n\r\ntext\r\n\
--out\r\nContent-Type: application/pdf\r\n\r\n%PDF\r\n--out--\r\n";
        let scan = scan(raw, 0, &limits()).unwrap();
        assert_eq!(scan.warnings.len(), 1, "{:?}", scan.warnings);
    }

    #[test]
    fn refuses_a_forwarded_message_that_only_forwards_another_inside_a_multipart() {
        let raw = b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\
Content-Type: message/rfc822\r\n\r\nContent-Type: message/rfc822\r\n\r\nSubject: x\r\n\r\n\
body\r\n--b--\r\n";
        let err = scan(raw, 0, &limits()).err();
        assert!(
            matches!(err, Some(UnpackError::Unparseable { .. })),
            "{err:?}"
        );
    }

    #[test]
    fn counts_parts_against_the_limit() {
        let mut m = String::from("Content-Type: multipart/mixed; boundary=x\r\n\r\n");
        for _ in 0..30 {
            m.push_str("--x\r\nContent-Type: text/plain\r\n\r\na\r\n");
        }
        m.push_str("--x--\r\n");
        assert_eq!(
            scan(m.as_bytes(), 0, &limits()).err(),
            Some(UnpackError::TooManyParts { limit: 20 })
        );
    }

    #[test]
    fn reads_quoted_and_bare_parameters() {
        assert_eq!(
            parameter(" charset=x; boundary=\"a b\"", "boundary").as_deref(),
            Some("a b")
        );
        assert_eq!(
            parameter(" BOUNDARY=abc ", "boundary").as_deref(),
            Some("abc")
        );
        assert_eq!(parameter(" name=x", "boundary"), None);
    }
}
