//! A streaming reader of `multipart/form-data` request bodies (RFC 7578): the upload page's form
//! and the API's `POST /submissions`.
//!
//! A file part's bytes are handed out as the pieces the network delivered them in (slices of
//! hyper's buffers, never copied): only the few bytes that might begin a boundary at the end of
//! one piece are held back until the next piece shows whether they do. Part headers, at most
//! [`MAX_HEADER_BYTES`] of them, are the only bytes gathered. The whole body is bounded by the
//! limit given to [`Multipart::new`] (413 past it), a text field by the caller's limit.

use axum::body::{Body, BodyDataStream};
use axum::http::{header, HeaderMap, StatusCode};
use bytes::{Bytes, BytesMut};
use futures::StreamExt;

/// Bytes of one part's header block at most.
pub const MAX_HEADER_BYTES: usize = 8 * 1024;

/// Header lines of one part at most.
const MAX_HEADER_LINES: usize = 16;

/// Bytes before the first boundary (a preamble) at most.
const MAX_PREAMBLE_BYTES: usize = 8 * 1024;

/// Boundary length at most (RFC 2046: 1 to 70 characters).
const MAX_BOUNDARY: usize = 70;

/// Why a body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum MultipartError {
    /// The body is larger than allowed.
    #[error("żądanie przekracza dopuszczalny rozmiar ({limit} B)")]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The body is not well-formed multipart/form-data, or it broke off.
    #[error("{0}")]
    Malformed(String),
}

impl MultipartError {
    /// The HTTP status it answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            MultipartError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            MultipartError::Malformed(_) => StatusCode::BAD_REQUEST,
        }
    }
}

fn malformed(what: &str) -> MultipartError {
    MultipartError::Malformed(format!("niepoprawne dane formularza (multipart): {what}"))
}

/// A part's headers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Part {
    /// The `name` of its Content-Disposition.
    pub name: String,
    /// Its file name (`filename*` preferred to `filename`), when it is a file.
    pub file_name: Option<String>,
    /// Its Content-Type, when given.
    pub content_type: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before the first boundary.
    Preamble,
    /// Just after a boundary: `--` ends the body, CRLF starts a part's headers.
    Boundary,
    /// Inside a part's data.
    Data,
    /// After the closing boundary.
    End,
}

/// The reader ([`Multipart::next_part`], then [`Multipart::chunk`] until `None`).
pub struct Multipart {
    stream: BodyDataStream,
    /// `\r\n--` and the boundary.
    delimiter: Vec<u8>,
    finder: memchr::memmem::Finder<'static>,
    /// Bytes received and not yet handed out or consumed.
    buf: Bytes,
    /// A piece received after `buf`, not yet looked at.
    next: Option<Bytes>,
    state: State,
    received: usize,
    limit: usize,
}

impl std::fmt::Debug for Multipart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Multipart")
            .field("state", &self.state)
            .field("received", &self.received)
            .finish_non_exhaustive()
    }
}

/// The boundary of a `multipart/form-data` Content-Type.
pub fn boundary(headers: &HeaderMap) -> Result<String, MultipartError> {
    let value = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| malformed("brak nagłówka Content-Type"))?;
    let mut params = split_params(value);
    let kind = params.next().unwrap_or_default();
    if !kind.trim().eq_ignore_ascii_case("multipart/form-data") {
        return Err(malformed("Content-Type nie jest multipart/form-data"));
    }
    let b = params
        .filter_map(|p| param(p, "boundary"))
        .next()
        .ok_or_else(|| malformed("brak parametru boundary"))?;
    if b.is_empty() || b.len() > MAX_BOUNDARY || b.bytes().any(|c| c.is_ascii_control()) {
        return Err(malformed("niepoprawny parametr boundary"));
    }
    Ok(b)
}

impl Multipart {
    /// A reader of `body`, whose headers name the boundary; at most `limit` bytes are read.
    pub fn new(headers: &HeaderMap, body: Body, limit: usize) -> Result<Multipart, MultipartError> {
        let boundary = boundary(headers)?;
        Ok(Multipart::with_boundary(
            &boundary,
            body.into_data_stream(),
            limit,
        ))
    }

    fn with_boundary(boundary: &str, stream: BodyDataStream, limit: usize) -> Multipart {
        let mut delimiter = b"\r\n--".to_vec();
        delimiter.extend_from_slice(boundary.as_bytes());
        let finder = memchr::memmem::Finder::new(&delimiter).into_owned();
        Multipart {
            stream,
            delimiter,
            finder,
            buf: Bytes::new(),
            next: None,
            state: State::Preamble,
            received: 0,
            limit,
        }
    }

    /// The next piece of the body (`None` at its end).
    async fn piece(&mut self) -> Result<Option<Bytes>, MultipartError> {
        if let Some(p) = self.next.take() {
            return Ok(Some(p));
        }
        loop {
            match self.stream.next().await {
                None => return Ok(None),
                Some(Err(e)) => {
                    return Err(MultipartError::Malformed(format!(
                        "przerwany odczyt żądania: {e}"
                    )))
                }
                Some(Ok(p)) if p.is_empty() => continue,
                Some(Ok(p)) => {
                    self.received = self.received.saturating_add(p.len());
                    if self.received > self.limit {
                        return Err(MultipartError::TooLarge { limit: self.limit });
                    }
                    return Ok(Some(p));
                }
            }
        }
    }

    /// Appends to `buf` at most `MAX_HEADER_BYTES` of the next piece (the rest waits in `next`):
    /// what is gathered while looking for a boundary or the end of headers stays small.
    async fn gather(&mut self) -> Result<bool, MultipartError> {
        let Some(mut p) = self.piece().await? else {
            return Ok(false);
        };
        if self.buf.is_empty() && p.len() <= MAX_HEADER_BYTES {
            self.buf = p;
            return Ok(true);
        }
        let take = p.len().min(MAX_HEADER_BYTES);
        let mut joined = BytesMut::with_capacity(self.buf.len() + take);
        joined.extend_from_slice(&self.buf);
        joined.extend_from_slice(&p.split_to(take));
        self.buf = joined.freeze();
        if !p.is_empty() {
            self.next = Some(p);
        }
        Ok(true)
    }

    /// Moves to the next part and returns its headers (`None` after the last one). What is left
    /// of the current part is skipped.
    pub async fn next_part(&mut self) -> Result<Option<Part>, MultipartError> {
        loop {
            match self.state {
                State::End => return Ok(None),
                State::Data => while self.chunk().await?.is_some() {},
                State::Preamble => self.skip_preamble().await?,
                State::Boundary => {
                    // `--` closes the body; else optional blanks, then CRLF and the headers.
                    while self.buf.len() < 2 {
                        if !self.gather().await? {
                            return Err(malformed("treść urwana po separatorze"));
                        }
                    }
                    if self.buf.starts_with(b"--") {
                        self.state = State::End;
                        return Ok(None);
                    }
                    return self.headers().await.map(Some);
                }
            }
        }
    }

    async fn skip_preamble(&mut self) -> Result<(), MultipartError> {
        // The first boundary may open the body without the CRLF before it.
        let first = self.delimiter.get(2..).unwrap_or_default().to_vec();
        loop {
            if self.buf.starts_with(&first) {
                let _ = self.buf.split_to(first.len());
                self.state = State::Boundary;
                return Ok(());
            }
            if let Some(i) = self.finder.find(&self.buf) {
                let _ = self.buf.split_to(i + self.delimiter.len());
                self.state = State::Boundary;
                return Ok(());
            }
            if self.buf.len() > MAX_PREAMBLE_BYTES {
                return Err(malformed("nie znaleziono separatora części"));
            }
            if !self.gather().await? {
                return Err(malformed("nie znaleziono separatora części"));
            }
        }
    }

    async fn headers(&mut self) -> Result<Part, MultipartError> {
        // Blanks after the boundary (transport padding), then CRLF.
        loop {
            let blanks = self
                .buf
                .iter()
                .take_while(|&&c| c == b' ' || c == b'\t')
                .count();
            if blanks > 64 {
                return Err(malformed("znaki po separatorze"));
            }
            if let Some(eol) = self.buf.get(blanks..blanks + 2) {
                if eol != b"\r\n" {
                    return Err(malformed("znaki po separatorze"));
                }
                let _ = self.buf.split_to(blanks + 2);
                break;
            }
            if !self.gather().await? {
                return Err(malformed("treść urwana po separatorze"));
            }
        }
        // The header lines, up to the empty line.
        let end = loop {
            if self.buf.starts_with(b"\r\n") {
                break 0;
            }
            if let Some(i) = memchr::memmem::find(&self.buf, b"\r\n\r\n") {
                break i + 2;
            }
            if self.buf.len() > MAX_HEADER_BYTES {
                return Err(malformed("za długie nagłówki części"));
            }
            if !self.gather().await? {
                return Err(malformed("treść urwana w nagłówkach części"));
            }
        };
        if end > MAX_HEADER_BYTES {
            return Err(malformed("za długie nagłówki części"));
        }
        let block = self.buf.split_to(end);
        let _ = self.buf.split_to(2);
        let part = parse_headers(&block)?;
        self.state = State::Data;
        Ok(part)
    }

    /// The next piece of the current part's data (`None` at its end).
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, MultipartError> {
        // At most this many bytes at the end of `buf` may be the start of a boundary.
        let hold = self.delimiter.len() - 1;
        loop {
            if self.state != State::Data {
                return Ok(None);
            }
            if let Some(i) = self.finder.find(&self.buf) {
                let data = self.buf.split_to(i);
                let _ = self.buf.split_to(self.delimiter.len());
                self.state = State::Boundary;
                return Ok((!data.is_empty()).then_some(data));
            }
            if self.buf.len() > hold {
                return Ok(Some(self.buf.split_to(self.buf.len() - hold)));
            }
            let Some(p) = self.piece().await? else {
                return Err(malformed("treść urwana przed końcowym separatorem"));
            };
            if self.buf.is_empty() {
                self.buf = p;
                continue;
            }
            // The held bytes and the start of the piece: a boundary beginning in the held bytes
            // ends within the first `hold` bytes of the piece. Only these are copied.
            let take = p.len().min(hold);
            let mut probe = BytesMut::with_capacity(self.buf.len() + take);
            probe.extend_from_slice(&self.buf);
            probe.extend_from_slice(p.get(..take).unwrap_or_default());
            if let Some(i) = self.finder.find(&probe) {
                // No whole boundary is in `buf` (looked for above): this one starts in it and
                // ends in the piece.
                let held = self.buf.len();
                let data = self.buf.split_to(i);
                let used = (i + self.delimiter.len()).saturating_sub(held);
                self.buf = p.slice(used.min(p.len())..);
                self.state = State::Boundary;
                return Ok((!data.is_empty()).then_some(data));
            }
            if take < hold {
                // A short piece: the probe may still end in the start of a boundary.
                self.buf = probe.freeze();
                continue;
            }
            // No boundary begins in the held bytes: they are data, the piece is looked at next.
            return Ok(Some(std::mem::replace(&mut self.buf, p)));
        }
    }

    /// The current part's data as text (UTF-8, malformed sequences replaced), at most `limit`
    /// bytes.
    pub async fn text(&mut self, limit: usize) -> Result<String, MultipartError> {
        let mut bytes = Vec::new();
        while let Some(c) = self.chunk().await? {
            if bytes.len() + c.len() > limit {
                return Err(MultipartError::TooLarge { limit });
            }
            bytes.extend_from_slice(&c);
        }
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }
}

/// A part's header block (lines ending in CRLF).
fn parse_headers(block: &[u8]) -> Result<Part, MultipartError> {
    let mut part = Part::default();
    let mut disposition = None;
    for (n, line) in block
        .split(|&c| c == b'\n')
        .filter(|l| !l.is_empty())
        .enumerate()
    {
        if n >= MAX_HEADER_LINES {
            return Err(malformed("za wiele nagłówków części"));
        }
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let line = String::from_utf8_lossy(line);
        let Some((name, value)) = line.split_once(':') else {
            return Err(malformed("niepoprawny nagłówek części"));
        };
        let value = value.trim();
        match name.trim().to_ascii_lowercase().as_str() {
            "content-disposition" => disposition = Some(value.to_string()),
            "content-type" => part.content_type = Some(value.to_string()),
            _ => {}
        }
    }
    let disposition = disposition.ok_or_else(|| malformed("część bez Content-Disposition"))?;
    let mut params = split_params(&disposition);
    if !params
        .next()
        .is_some_and(|k| k.trim().eq_ignore_ascii_case("form-data"))
    {
        return Err(malformed("część nie jest form-data"));
    }
    let (mut plain, mut extended) = (None, None);
    for p in params {
        if let Some(v) = param(p, "name") {
            part.name = v;
        } else if let Some(v) = param(p, "filename") {
            plain = Some(v);
        } else if let Some(v) = param(p, "filename*") {
            extended = ext_value(&v);
        }
    }
    part.file_name = extended.or(plain);
    Ok(part)
}

/// The `;`-separated pieces of a header value, quotes respected.
fn split_params(value: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(value);
    std::iter::from_fn(move || {
        let s = rest?;
        let (mut quoted, mut escaped) = (false, false);
        for (i, c) in s.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' if quoted => escaped = true,
                '"' => quoted = !quoted,
                ';' if !quoted => {
                    rest = s.get(i + 1..);
                    return s.get(..i);
                }
                _ => {}
            }
        }
        rest = None;
        Some(s)
    })
}

/// The value of `piece` when it is the parameter `name` (name case-insensitive; a quoted value
/// unquoted, `\"` and `\\` unescaped; other backslashes kept, as in a Windows path).
fn param(piece: &str, name: &str) -> Option<String> {
    let (k, v) = piece.split_once('=')?;
    if !k.trim().eq_ignore_ascii_case(name) {
        return None;
    }
    let v = v.trim();
    let Some(inner) = v.strip_prefix('"') else {
        return Some(v.to_string());
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => break,
            '\\' if matches!(chars.peek(), Some('"' | '\\')) => {
                out.extend(chars.next());
            }
            c => out.push(c),
        }
    }
    Some(out)
}

/// An RFC 8187 value (`UTF-8''%C5%BC.pdf`); other charsets than UTF-8 and ISO-8859-1 are not
/// read (the plain `filename` is used then).
fn ext_value(v: &str) -> Option<String> {
    let mut it = v.splitn(3, '\'');
    let charset = it.next()?;
    let _language = it.next()?;
    let encoded = it.next()?;
    let mut bytes = Vec::with_capacity(encoded.len());
    let mut b = encoded.bytes();
    while let Some(c) = b.next() {
        if c == b'%' {
            let hi = b.next().and_then(|h| (h as char).to_digit(16))?;
            let lo = b.next().and_then(|l| (l as char).to_digit(16))?;
            bytes.push(u8::try_from(hi * 16 + lo).ok()?);
        } else {
            bytes.push(c);
        }
    }
    if charset.eq_ignore_ascii_case("utf-8") {
        String::from_utf8(bytes).ok()
    } else if charset.eq_ignore_ascii_case("iso-8859-1") {
        Some(bytes.iter().map(|&c| char::from(c)).collect())
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader(body: Vec<Vec<u8>>, boundary: &str, limit: usize) -> Multipart {
        let pieces = body
            .into_iter()
            .map(|p| Ok::<_, std::io::Error>(Bytes::from(p)));
        let body = Body::from_stream(futures::stream::iter(pieces));
        Multipart::with_boundary(boundary, body.into_data_stream(), limit)
    }

    /// Every part's headers and data.
    async fn read_all(mut m: Multipart) -> Result<Vec<(Part, Vec<u8>)>, MultipartError> {
        let mut out = Vec::new();
        while let Some(part) = m.next_part().await? {
            let mut data = Vec::new();
            while let Some(c) = m.chunk().await? {
                assert!(!c.is_empty(), "no empty chunks");
                data.extend_from_slice(&c);
            }
            out.push((part, data));
        }
        Ok(out)
    }

    fn body(boundary: &str, parts: &[(&str, Option<&str>, &[u8])]) -> Vec<u8> {
        let mut b = Vec::new();
        for (name, file, data) in parts {
            b.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
            match file {
                Some(f) => b.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\n\
                         Content-Type: application/pdf\r\n\r\n"
                    )
                    .as_bytes(),
                ),
                None => b.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
                ),
            }
            b.extend_from_slice(data);
            b.extend_from_slice(b"\r\n");
        }
        b.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        b
    }

    fn split_at(b: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let mut from = 0;
        for &c in cuts {
            let c = c.clamp(from, b.len());
            out.push(b[from..c].to_vec());
            from = c;
        }
        out.push(b[from..].to_vec());
        out
    }

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
    }

    #[test]
    fn reads_fields_and_files_however_the_body_is_cut() {
        // Data that looks like a boundary without being one, at the edges of the parts.
        let tricky: &[u8] = b"\r\n--XyZ\r\n--Xy\r\r\n-\r\n--XyZ-";
        let data: Vec<u8> = (0..3000u32).map(|i| (i * 7 % 251) as u8).collect();
        let b = body(
            "XyZZ",
            &[
                ("subject", None, "Wniosek o dowód".as_bytes()),
                ("file", Some("wniosek.pdf"), tricky),
                ("file", Some("b.pdf"), &data),
                ("message", None, b""),
            ],
        );
        let want = rt()
            .block_on(read_all(reader(vec![b.clone()], "XyZZ", 1 << 20)))
            .unwrap();
        assert_eq!(want.len(), 4);
        assert_eq!(want[0].0.name, "subject");
        assert_eq!(want[0].1, "Wniosek o dowód".as_bytes());
        assert_eq!(want[1].0.file_name.as_deref(), Some("wniosek.pdf"));
        assert_eq!(want[1].0.content_type.as_deref(), Some("application/pdf"));
        assert_eq!(want[1].1, tricky);
        assert_eq!(want[2].1, data);
        assert_eq!(want[3].1, b"");
        // Cut in two and three at every place, and in pieces of every small size.
        let rt = rt();
        for i in 0..=b.len() {
            let got = rt.block_on(read_all(reader(split_at(&b, &[i]), "XyZZ", 1 << 20)));
            assert_eq!(got.unwrap(), want, "cut at {i}");
            let j = (i * 31 + 5) % (b.len() + 1);
            let mut cuts = [i, j];
            cuts.sort();
            let got = rt.block_on(read_all(reader(split_at(&b, &cuts), "XyZZ", 1 << 20)));
            assert_eq!(got.unwrap(), want, "cut at {cuts:?}");
        }
        for size in 1..=12 {
            let cuts: Vec<usize> = (1..b.len() / size + 1).map(|k| k * size).collect();
            let got = rt.block_on(read_all(reader(split_at(&b, &cuts), "XyZZ", 1 << 20)));
            assert_eq!(got.unwrap(), want, "pieces of {size}");
        }
    }

    #[test]
    fn a_file_arrives_in_the_networks_pieces_uncopied() {
        let data = vec![b'%'; 300_000];
        let b = body("b0undary", &[("file", Some("a.pdf"), &data)]);
        let pieces = split_at(&b, &[65_536, 131_072, 196_608, 262_144]);
        let m = reader(pieces, "b0undary", 1 << 20);
        let mut m = m;
        let rt = rt();
        rt.block_on(async {
            m.next_part().await.unwrap().unwrap();
            let mut sizes = Vec::new();
            while let Some(c) = m.chunk().await.unwrap() {
                sizes.push(c.len());
            }
            assert_eq!(sizes.iter().sum::<usize>(), data.len());
            // Each piece of the network comes out whole but for the few bytes held back at its
            // end (handed out on their own), and the first but for the headers gathered.
            assert!(sizes.len() <= 2 * 5 + 1, "{sizes:?}");
            assert_eq!(
                sizes.iter().filter(|&&s| s == 65_536 - 11).count(),
                3,
                "{sizes:?}"
            );
            assert!(
                sizes.iter().filter(|&&s| s < 20).all(|&s| s == 11),
                "{sizes:?}"
            );
            assert!(m.next_part().await.unwrap().is_none());
        });
    }

    #[test]
    fn a_preamble_blanks_after_a_boundary_and_an_epilogue_are_allowed() {
        let b = b"preambu\xc5\x82a\r\n--B  \t\r\nContent-Disposition: form-data; name=a\r\n\r\nx\r\n--B--\r\nepilog"
            .to_vec();
        let got = rt().block_on(read_all(reader(vec![b], "B", 1000))).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(
            (got[0].0.name.as_str(), got[0].1.as_slice()),
            ("a", &b"x"[..])
        );
    }

    #[test]
    fn file_names_plain_quoted_escaped_and_extended() {
        let h = |cd: &str| parse_headers(format!("Content-Disposition: {cd}\r\n").as_bytes());
        let f = |cd: &str| h(cd).unwrap().file_name;
        assert_eq!(
            f("form-data; name=\"file\"; filename=\"żółć.pdf\"").as_deref(),
            Some("żółć.pdf")
        );
        assert_eq!(
            f("form-data; name=file; filename=a.pdf").as_deref(),
            Some("a.pdf")
        );
        assert_eq!(
            f(r#"form-data; name="file"; filename="a \"b\"; c.pdf""#).as_deref(),
            Some("a \"b\"; c.pdf")
        );
        assert_eq!(
            f(r#"form-data; name="file"; filename="C:\Users\jan\wniosek.pdf""#).as_deref(),
            Some(r"C:\Users\jan\wniosek.pdf")
        );
        assert_eq!(
            f("form-data; name=\"file\"; filename=\"x.pdf\"; filename*=UTF-8''%C5%BC%C3%B3%C5%82w.pdf")
                .as_deref(),
            Some("żółw.pdf")
        );
        assert_eq!(
            f("form-data; name=\"file\"; filename*=utf-8''%C5%BC.pdf").as_deref(),
            Some("ż.pdf")
        );
        assert_eq!(f("form-data; name=\"subject\""), None);
        assert_eq!(h("form-data; NAME=\"subject\"").unwrap().name, "subject");
        assert!(h("attachment; name=\"x\"").is_err());
        assert!(parse_headers(b"Content-Type: text/plain\r\n").is_err());
        assert!(parse_headers(b"no colon here\r\n").is_err());
    }

    #[test]
    fn the_boundary_comes_from_the_content_type() {
        let mut h = HeaderMap::new();
        let mut set = |v: &str| {
            h.insert(header::CONTENT_TYPE, v.parse().unwrap());
            boundary(&h)
        };
        assert_eq!(set("multipart/form-data; boundary=abc").unwrap(), "abc");
        assert_eq!(
            set("Multipart/Form-Data; charset=utf-8; boundary=\"a b;c\"").unwrap(),
            "a b;c"
        );
        assert!(set("multipart/mixed; boundary=abc").is_err());
        assert!(set("multipart/form-data").is_err());
        assert!(set("multipart/form-data; boundary=\"\"").is_err());
        assert!(set(&format!("multipart/form-data; boundary={}", "x".repeat(71))).is_err());
        assert!(set("application/json").is_err());
    }

    #[test]
    fn broken_bodies_are_errors_and_the_limit_holds() {
        let rt = rt();
        let run =
            |b: &[u8], limit: usize| rt.block_on(read_all(reader(vec![b.to_vec()], "B", limit)));
        let ok = body("B", &[("file", Some("a.pdf"), &[b'x'; 500])]);
        assert!(run(&ok, ok.len()).is_ok());
        assert!(matches!(
            run(&ok, ok.len() - 1),
            Err(MultipartError::TooLarge { .. })
        ));
        // Cut before the closing boundary, inside headers, right after a boundary.
        for cut in [ok.len() - 10, 20, 3] {
            assert!(
                matches!(run(&ok[..cut], 1 << 20), Err(MultipartError::Malformed(_))),
                "cut at {cut}"
            );
        }
        assert!(run(b"no boundary at all", 1 << 20).is_err());
        assert!(run(b"--Bjunk\r\n", 1 << 20).is_err());
        let long_headers = format!(
            "--B\r\nContent-Disposition: form-data; name=a\r\nX: {}\r\n\r\nx\r\n--B--",
            "y".repeat(MAX_HEADER_BYTES)
        );
        assert!(run(long_headers.as_bytes(), 1 << 20).is_err());
        let many = format!(
            "--B\r\nContent-Disposition: form-data; name=a\r\n{}\r\nx\r\n--B--",
            "X: y\r\n".repeat(MAX_HEADER_LINES)
        );
        assert!(run(many.as_bytes(), 1 << 20).is_err());
        // A text field past its limit.
        let text = body("B", &[("message", None, &[b'a'; 100])]);
        rt.block_on(async {
            let mut m = reader(vec![text.clone()], "B", 1 << 20);
            m.next_part().await.unwrap();
            assert!(matches!(
                m.text(99).await,
                Err(MultipartError::TooLarge { limit: 99 })
            ));
            let mut m = reader(vec![text], "B", 1 << 20);
            m.next_part().await.unwrap();
            assert_eq!(m.text(100).await.unwrap(), "a".repeat(100));
        });
    }

    #[test]
    fn parts_left_unread_are_skipped() {
        let b = body(
            "B",
            &[
                ("file", Some("a.pdf"), &[b'1'; 20_000]),
                ("subject", None, b"temat"),
            ],
        );
        let pieces = split_at(&b, &[100, 7000, 13_000]);
        rt().block_on(async {
            let mut m = reader(pieces, "B", 1 << 20);
            assert_eq!(m.next_part().await.unwrap().unwrap().name, "file");
            let p = m.next_part().await.unwrap().unwrap();
            assert_eq!(p.name, "subject");
            assert_eq!(m.text(100).await.unwrap(), "temat");
            assert!(m.next_part().await.unwrap().is_none());
            assert!(m.next_part().await.unwrap().is_none());
        });
    }
}
