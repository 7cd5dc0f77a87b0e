//! A strict streaming reader for the common shape of signed XML, and a canonicalizer that
//! writes the canonical form of "the whole document minus one element" straight from its
//! tokens into a digest, without building a tree.
//!
//! It exists for speed: a tree of a 100 KB form costs more than the rest of a verification
//! together. It is deliberately narrower than the tree parser ([`super::parse`]): whatever it
//! does not handle exactly as roxmltree does (DTDs, CDATA, processing instructions other than
//! the XML declaration, non-ASCII names, carriage returns, unusual namespace declarations,
//! attributes sharing a local name, anything malformed) makes it give up with
//! [`Unsupported`], and the caller goes the tree way, which then reports any error. So the
//! reader never has to be right about a refusal, only about what it accepts.

use super::c14n::{Method, XML_NS};
use super::parse::{MAX_DEPTH, MAX_NODES};
use super::transforms::DSIG_NS;
use std::borrow::Cow;
use std::collections::HashMap;

const XMLNS_NS: &str = "http://www.w3.org/2000/xmlns/";

/// The document is outside what the streaming reader handles (or is not well-formed): use the
/// tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unsupported;

type R<T> = Result<T, Unsupported>;

/// An attribute of a start tag, as written.
#[derive(Debug, Clone, Copy)]
struct RawAttr<'t> {
    qname: &'t str,
    prefix: &'t str,
    local: &'t str,
    /// Between the quotes, references not yet replaced.
    value: &'t str,
}

impl RawAttr<'_> {
    fn is_namespace_declaration(&self) -> bool {
        self.prefix == "xmlns" || self.qname == "xmlns"
    }
}

/// A start tag.
#[derive(Debug, Clone, Copy)]
struct StartTag<'t> {
    /// Offset of its `<`.
    start: usize,
    /// Offset after its `>`.
    end: usize,
    qname: &'t str,
    prefix: &'t str,
    local: &'t str,
}

/// Equality of two short strings (names, prefixes, namespace URIs) without a `memcmp` call:
/// they are usually slices of the same text, often the very same slice, and on the machines
/// measured a library call per comparison cost more than the rest of a start tag's work.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && (std::ptr::eq(a.as_ptr(), b.as_ptr()) || a.bytes().zip(b.bytes()).all(|(x, y)| x == y))
}

/// Byte order of two short strings (C14N sorts by code point, which UTF-8 byte order is),
/// without a `memcmp` call.
fn order(a: &str, b: &str) -> std::cmp::Ordering {
    if same(a, b) {
        return std::cmp::Ordering::Equal;
    }
    a.bytes().cmp(b.bytes())
}

/// The namespace bindings in scope: declarations in document order, the latest first found.
#[derive(Default)]
struct Scope<'t> {
    bindings: Vec<(&'t str, &'t str)>,
}

impl<'t> Scope<'t> {
    /// The URI bound to `prefix` ("" for the default namespace) among the first `upto`
    /// bindings.
    fn lookup_in(&self, upto: usize, prefix: &str) -> Option<&'t str> {
        self.bindings
            .get(..upto)
            .unwrap_or_default()
            .iter()
            .rev()
            .find(|(p, _)| same(p, prefix))
            .map(|(_, uri)| *uri)
    }

    fn lookup(&self, prefix: &str) -> Option<&'t str> {
        self.lookup_in(self.bindings.len(), prefix)
    }
}

/// What the tokenizer reports.
trait Sink<'t> {
    /// Whether the tokenizer checks characters, references, attributes and prefixes for this
    /// sink. Only a second pass over a text the first pass checked may skip it: the checks
    /// never change the tokens, they only refuse.
    const CHECK: bool;
    /// A start tag, after its namespace declarations were added to `scope` (from `mark` on).
    fn start(
        &mut self,
        tag: &StartTag<'t>,
        attrs: &[RawAttr<'t>],
        scope: &Scope<'t>,
        mark: usize,
    ) -> R<()>;
    /// The end of an element (also of an empty-element tag); `end` is the offset after it.
    fn end(&mut self, qname: &'t str, end: usize);
    /// Character data inside the document element, references not yet replaced.
    fn text(&mut self, raw: &'t str);
}

/// Tokenizes `text`, checking what well-formedness needs, and reports to `sink`.
fn tokenize<'t, S: Sink<'t>>(text: &'t str, sink: &mut S) -> R<()> {
    let b = text.as_bytes();
    let mut i = if b.starts_with(b"<?xml") {
        xml_declaration(b)?
    } else {
        0
    };
    let mut scope = Scope::default();
    // Open elements: qualified name and the scope length before their declarations.
    let mut open: Vec<(&'t str, usize)> = Vec::new();
    let mut attrs: Vec<RawAttr<'t>> = Vec::with_capacity(16);
    let mut seen_root = false;
    let mut nodes = 1usize;
    while i < b.len() {
        let lt = memchr::memchr(b'<', rest(b, i)).map_or(b.len(), |p| i + p);
        if lt > i {
            let raw = text.get(i..lt).ok_or(Unsupported)?;
            if open.is_empty() {
                if !raw.bytes().all(|c| matches!(c, b' ' | b'\t' | b'\n')) {
                    return Err(Unsupported);
                }
            } else {
                if S::CHECK {
                    check_text(raw.as_bytes())?;
                }
                sink.text(raw);
                nodes += 1;
            }
        }
        if lt == b.len() {
            break;
        }
        i = lt;
        let here = rest(b, i);
        if here.starts_with(b"<!--") {
            i = comment(b, i)?;
            nodes += 1;
        } else if here.starts_with(b"</") {
            let (qname, _, after) = name(text, i + 2)?;
            let after = skip_ws(b, after);
            if b.get(after) != Some(&b'>') {
                return Err(Unsupported);
            }
            let (open_qname, mark) = open.pop().ok_or(Unsupported)?;
            if !same(open_qname, qname) {
                return Err(Unsupported);
            }
            i = after + 1;
            sink.end(qname, i);
            scope.bindings.truncate(mark);
        } else if here.starts_with(b"<?") || here.starts_with(b"<!") {
            return Err(Unsupported);
        } else {
            if open.is_empty() && seen_root {
                return Err(Unsupported);
            }
            if open.len() >= MAX_DEPTH - 1 || nodes > MAX_NODES as usize / 2 {
                return Err(Unsupported);
            }
            seen_root = true;
            let mark = scope.bindings.len();
            let (tag, empty) = start_tag(text, i, &mut attrs, &mut scope, S::CHECK)?;
            sink.start(&tag, &attrs, &scope, mark)?;
            nodes += 1;
            i = tag.end;
            if empty {
                sink.end(tag.qname, i);
                scope.bindings.truncate(mark);
            } else {
                open.push((tag.qname, mark));
            }
        }
    }
    if !seen_root || !open.is_empty() {
        return Err(Unsupported);
    }
    Ok(())
}

fn rest(b: &[u8], i: usize) -> &[u8] {
    b.get(i..).unwrap_or_default()
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\t' | b'\n')) {
        i += 1;
    }
    i
}

/// Byte classes of the reader: name characters, and the bytes character data and attribute
/// values need a closer look at.
const NAME: u8 = 1;
const NAME_START: u8 = 2;
/// `&`, `]`, 0xEF (start of U+FFFE/U+FFFF), control characters other than tab and line feed.
const TEXT_SPECIAL: u8 = 4;
/// `&`, `<`, 0xEF, control characters other than tab and line feed.
const ATTR_SPECIAL: u8 = 8;

const CLASSES: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        let mut k = 0;
        if b.is_ascii_alphabetic() || b == b'_' {
            k |= NAME | NAME_START;
        } else if b.is_ascii_digit() || b == b'-' || b == b'.' {
            k |= NAME;
        }
        if b == b'&' || b == 0xEF || (b < 0x20 && b != b'\t' && b != b'\n') {
            k |= TEXT_SPECIAL | ATTR_SPECIAL;
        }
        if b == b']' {
            k |= TEXT_SPECIAL;
        }
        if b == b'<' {
            k |= ATTR_SPECIAL;
        }
        t[c] = k;
        c += 1;
    }
    t
};

fn class(b: u8) -> u8 {
    CLASSES[usize::from(b)]
}

/// An ASCII qualified name at `i` (at most one colon, not first or last): the name, the
/// length of its prefix (0 without one) and the offset after it. Non-ASCII names are left to
/// the tree parser.
fn name(text: &str, i: usize) -> R<(&str, usize, usize)> {
    let b = text.as_bytes();
    let first = *b.get(i).ok_or(Unsupported)?;
    if class(first) & NAME_START == 0 {
        return Err(Unsupported);
    }
    let mut j = i + 1;
    let mut colon = 0;
    while let Some(&c) = b.get(j) {
        if class(c) & NAME == 0 {
            if c != b':' || colon != 0 {
                break;
            }
            // The local part starts like a name too.
            if b.get(j + 1).is_none_or(|n| class(*n) & NAME_START == 0) {
                return Err(Unsupported);
            }
            colon = j - i;
        }
        j += 1;
    }
    if matches!(b.get(j), Some(&c) if c >= 0x80 || c == b':') {
        return Err(Unsupported);
    }
    Ok((text.get(i..j).ok_or(Unsupported)?, colon, j))
}

/// Prefix and local part of a qualified name whose colon is at `colon` (0: none).
fn split_at_colon(qname: &str, colon: usize) -> (&str, &str) {
    if colon == 0 {
        return ("", qname);
    }
    (
        qname.get(..colon).unwrap_or_default(),
        qname.get(colon + 1..).unwrap_or_default(),
    )
}

/// `<?xml version="1.0" [encoding="..."] [standalone="yes|no"]?>` at offset 0, strictly; the
/// offset after it.
fn xml_declaration(b: &[u8]) -> R<usize> {
    let mut i = 5;
    let mut seen = 0;
    loop {
        let after_ws = skip_ws(b, i);
        if rest(b, after_ws).starts_with(b"?>") {
            return if seen > 0 {
                Ok(after_ws + 2)
            } else {
                Err(Unsupported)
            };
        }
        if after_ws == i {
            return Err(Unsupported);
        }
        i = after_ws;
        let (key, value, next) = pseudo_attribute(b, i)?;
        let ok = match (seen, key) {
            (0, b"version") => value == b"1.0",
            (1, b"encoding") => {
                value.first().is_some_and(u8::is_ascii_alphabetic)
                    && value
                        .iter()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
            }
            (1 | 2, b"standalone") => value == b"yes" || value == b"no",
            _ => false,
        };
        if !ok {
            return Err(Unsupported);
        }
        seen = if key == b"standalone" { 3 } else { seen + 1 };
        i = next;
    }
}

fn pseudo_attribute(b: &[u8], i: usize) -> R<(&[u8], &[u8], usize)> {
    let end = i + rest(b, i)
        .iter()
        .position(|c| !c.is_ascii_alphabetic())
        .ok_or(Unsupported)?;
    let key = b.get(i..end).ok_or(Unsupported)?;
    let j = skip_ws(b, end);
    if b.get(j) != Some(&b'=') {
        return Err(Unsupported);
    }
    let j = skip_ws(b, j + 1);
    let quote = *b.get(j).ok_or(Unsupported)?;
    if quote != b'"' && quote != b'\'' {
        return Err(Unsupported);
    }
    let close = j + 1 + memchr::memchr(quote, rest(b, j + 1)).ok_or(Unsupported)?;
    Ok((key, b.get(j + 1..close).ok_or(Unsupported)?, close + 1))
}

/// A comment at `i`: the offset after it. `--` may only end it (XML 1.0 §2.5).
fn comment(b: &[u8], i: usize) -> R<usize> {
    let start = i + 4;
    let dashes = start + memchr::memmem::find(rest(b, start), b"--").ok_or(Unsupported)?;
    if b.get(dashes + 2) != Some(&b'>') {
        return Err(Unsupported);
    }
    check_chars(b.get(start..dashes).ok_or(Unsupported)?)?;
    Ok(dashes + 3)
}

/// Refuses control characters, carriage returns (line-end normalization is the tree's job)
/// and the non-characters U+FFFE and U+FFFF.
fn check_chars(b: &[u8]) -> R<()> {
    for (k, &c) in b.iter().enumerate() {
        if (c < 0x20 && c != b'\t' && c != b'\n') || (c == 0xEF && is_non_character(b, k)) {
            return Err(Unsupported);
        }
    }
    Ok(())
}

/// Whether the 0xEF at `k` starts U+FFFE or U+FFFF.
fn is_non_character(b: &[u8], k: usize) -> bool {
    b.get(k + 1) == Some(&0xBF) && matches!(b.get(k + 2), Some(0xBE | 0xBF))
}

/// Character data: characters, references and no `]]>`.
fn check_text(b: &[u8]) -> R<()> {
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if class(c) & TEXT_SPECIAL == 0 {
            i += 1;
            continue;
        }
        match c {
            b'&' => i = reference(b, i)?.1,
            b']' if rest(b, i).starts_with(b"]]>") => return Err(Unsupported),
            b']' => i += 1,
            0xEF if !is_non_character(b, i) => i += 1,
            _ => return Err(Unsupported),
        }
    }
    Ok(())
}

/// The reference at `i` (`&name;` of the five predefined entities, `&#N;`, `&#xH;`): its
/// character and the offset after it. A reference to a character XML does not allow (or to a
/// surrogate, which roxmltree turns into U+FFFD) is left to the tree.
fn reference(b: &[u8], i: usize) -> R<(char, usize)> {
    let after = rest(b, i + 1);
    let predefined = match after {
        [b'l', b't', b';', ..] => Some(('<', 4)),
        [b'g', b't', b';', ..] => Some(('>', 4)),
        [b'a', b'm', b'p', b';', ..] => Some(('&', 5)),
        [b'q', b'u', b'o', b't', b';', ..] => Some(('"', 6)),
        [b'a', b'p', b'o', b's', b';', ..] => Some(('\'', 6)),
        _ => None,
    };
    if let Some((c, len)) = predefined {
        return Ok((c, i + len));
    }
    let semi = i + memchr::memchr(b';', rest(b, i)).ok_or(Unsupported)?;
    let body = b.get(i + 1..semi).ok_or(Unsupported)?;
    let c = match body {
        b"lt" => '<',
        b"gt" => '>',
        b"amp" => '&',
        b"quot" => '"',
        b"apos" => '\'',
        _ => {
            let (digits, radix) = match body {
                [b'#', b'x', hex @ ..] => (hex, 16),
                [b'#', dec @ ..] => (dec, 10),
                _ => return Err(Unsupported),
            };
            let digits_ok = !digits.is_empty()
                && digits.len() <= 8
                && digits.iter().all(|d| char::from(*d).is_digit(radix));
            if !digits_ok {
                return Err(Unsupported);
            }
            let s = std::str::from_utf8(digits).map_err(|_| Unsupported)?;
            let n = u32::from_str_radix(s, radix).map_err(|_| Unsupported)?;
            let c = char::from_u32(n).ok_or(Unsupported)?;
            let allowed =
                matches!(n, 0x9 | 0xA | 0xD | 0x20..=0xD7FF | 0xE000..=0xFFFD | 0x10000..);
            if !allowed {
                return Err(Unsupported);
            }
            c
        }
    };
    Ok((c, semi + 1))
}

/// An attribute value: no `<`, valid references, no carriage return or control character.
fn check_attribute_value(b: &[u8]) -> R<()> {
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if class(c) & ATTR_SPECIAL == 0 {
            i += 1;
            continue;
        }
        match c {
            b'&' => i = reference(b, i)?.1,
            0xEF if !is_non_character(b, i) => i += 1,
            _ => return Err(Unsupported),
        }
    }
    Ok(())
}

/// The start tag at `i`: its attributes (in `attrs`) and namespace declarations (pushed on
/// `scope`) checked, and whether it is an empty-element tag.
fn start_tag<'t>(
    text: &'t str,
    i: usize,
    attrs: &mut Vec<RawAttr<'t>>,
    scope: &mut Scope<'t>,
    check: bool,
) -> R<(StartTag<'t>, bool)> {
    let b = text.as_bytes();
    let (qname, colon, mut j) = name(text, i + 1)?;
    let (prefix, local) = split_at_colon(qname, colon);
    if prefix == "xmlns" {
        return Err(Unsupported);
    }
    attrs.clear();
    let empty = loop {
        let after = skip_ws(b, j);
        match b.get(after) {
            Some(b'>') => {
                j = after + 1;
                break false;
            }
            Some(b'/') if b.get(after + 1) == Some(&b'>') => {
                j = after + 2;
                break true;
            }
            _ if after == j => return Err(Unsupported),
            _ => {}
        }
        let (aq, acolon, k) = name(text, after)?;
        let k = skip_ws(b, k);
        if b.get(k) != Some(&b'=') {
            return Err(Unsupported);
        }
        let k = skip_ws(b, k + 1);
        let quote = *b.get(k).ok_or(Unsupported)?;
        if quote != b'"' && quote != b'\'' {
            return Err(Unsupported);
        }
        let close = k + 1 + memchr::memchr(quote, rest(b, k + 1)).ok_or(Unsupported)?;
        let value = text.get(k + 1..close).ok_or(Unsupported)?;
        let (ap, al) = split_at_colon(aq, acolon);
        if check {
            check_attribute_value(value.as_bytes())?;
        }
        if check
            && attrs
                .iter()
                .any(|a| same(a.qname, aq) || (!a.is_namespace_declaration() && same(a.local, al)))
        {
            // Duplicates, and attributes that could share an expanded name: left to the tree.
            return Err(Unsupported);
        }
        attrs.push(RawAttr {
            qname: aq,
            prefix: ap,
            local: al,
            value,
        });
        j = close + 1;
    };
    for a in attrs.iter() {
        if !a.is_namespace_declaration() {
            continue;
        }
        let bad_uri = a.value.is_empty() && a.prefix == "xmlns"
            || a.value.bytes().any(|c| matches!(c, b'&' | b'\t' | b'\n'))
            || a.value == XML_NS
            || a.value == XMLNS_NS;
        if check && (bad_uri || (a.prefix == "xmlns" && matches!(a.local, "xml" | "xmlns"))) {
            return Err(Unsupported);
        }
        let bound = if a.prefix == "xmlns" { a.local } else { "" };
        scope.bindings.push((bound, a.value));
    }
    if check {
        let declared = |p: &str| p == "xml" || scope.lookup(p).is_some_and(|u| !u.is_empty());
        if !prefix.is_empty() && (prefix == "xml" || !declared(prefix)) {
            return Err(Unsupported);
        }
        for a in attrs.iter() {
            if !a.is_namespace_declaration() && !a.prefix.is_empty() && !declared(a.prefix) {
                return Err(Unsupported);
            }
        }
    }
    let tag = StartTag {
        start: i,
        end: j,
        qname,
        prefix,
        local,
    };
    Ok((tag, empty))
}

/// The namespace URI of an attribute that is not a declaration.
fn attribute_namespace<'t>(a: &RawAttr<'t>, scope: &Scope<'t>) -> &'t str {
    match a.prefix {
        "" => "",
        "xml" => XML_NS,
        p => scope.lookup(p).unwrap_or(""),
    }
}

/// The value of an attribute after normalization (XML 1.0 §3.3.3), as roxmltree gives it.
fn attribute_value<'t>(raw: &'t str) -> Cow<'t, str> {
    if !raw.bytes().any(|c| matches!(c, b'&' | b'\t' | b'\n')) {
        return Cow::Borrowed(raw);
    }
    let b = raw.as_bytes();
    let mut out = String::with_capacity(raw.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        match c {
            b'&' => match reference(b, i) {
                Ok((ch, next)) => {
                    out.push(ch);
                    i = next;
                }
                Err(_) => {
                    out.push('&');
                    i += 1;
                }
            },
            b'\t' | b'\n' => {
                out.push(' ');
                i += 1;
            }
            _ => {
                let run =
                    memchr::memchr3(b'&', b'\t', b'\n', rest(b, i)).map_or(b.len(), |p| i + p);
                out.push_str(raw.get(i..run).unwrap_or_default());
                i = run;
            }
        }
    }
    Cow::Owned(out)
}

/// What one pass over a document found: its `ds:Signature` elements, where the first one is
/// and which elements enclose it, and every ID-typed attribute value with the number of
/// elements carrying it (`Id`, `ID`, `id`, `xml:id`, as [`super::refs::IdIndex`] reads them).
#[derive(Debug, Default)]
pub struct Scan<'t> {
    /// How many `ds:Signature` elements the document holds (nested ones included).
    pub signatures: usize,
    /// Byte range of the first `ds:Signature` element.
    pub signature: Option<(usize, usize)>,
    /// The start tags (as written) and qualified names of the elements enclosing it, outermost
    /// first.
    pub ancestors: Vec<(&'t str, &'t str)>,
    /// ID value → number of elements carrying it.
    pub ids: HashMap<Cow<'t, str>, usize>,
    /// Open elements while scanning: start tag and qualified name.
    stack: Vec<(&'t str, &'t str)>,
    /// Depth of the first signature while it is open.
    in_signature: Option<usize>,
    text: &'t str,
}

impl<'t> Sink<'t> for Scan<'t> {
    const CHECK: bool = true;

    fn start(
        &mut self,
        tag: &StartTag<'t>,
        attrs: &[RawAttr<'t>],
        scope: &Scope<'t>,
        _mark: usize,
    ) -> R<()> {
        let scan = self;
        let mut seen: Vec<Cow<'t, str>> = Vec::new();
        for a in attrs {
            let id_like = match a.prefix {
                "" => matches!(a.local, "Id" | "ID" | "id"),
                "xml" => a.local == "id",
                _ => false,
            };
            if id_like {
                let value = attribute_value(a.value);
                if !seen.contains(&value) {
                    *scan.ids.entry(value.clone()).or_default() += 1;
                    seen.push(value);
                }
            }
        }
        let is_signature =
            tag.local == "Signature" && scope.lookup(tag.prefix).is_some_and(|u| same(u, DSIG_NS));
        if is_signature {
            scan.signatures += 1;
            if scan.signature.is_none() {
                scan.signature = Some((tag.start, tag.end));
                scan.ancestors = scan.stack.clone();
                scan.in_signature = Some(scan.stack.len());
            }
        }
        let raw = scan.text.get(tag.start..tag.end).ok_or(Unsupported)?;
        scan.stack.push((raw, tag.qname));
        Ok(())
    }

    fn end(&mut self, _qname: &'t str, end: usize) {
        let scan = self;
        scan.stack.pop();
        if scan.in_signature == Some(scan.stack.len()) {
            scan.in_signature = None;
            if let Some((_, e)) = scan.signature.as_mut() {
                *e = end;
            }
        }
    }

    fn text(&mut self, _raw: &'t str) {}
}

/// Reads `text` once with the streaming reader.
pub fn scan(text: &str) -> Result<Scan<'_>, Unsupported> {
    let mut scan = Scan {
        text,
        ..Scan::default()
    };
    tokenize(text, &mut scan)?;
    Ok(scan)
}

/// How many canonical bytes are gathered before they are handed on.
const CHUNK: usize = 32 * 1024;

/// The canonicalizing sink.
struct Canon<'t, 'w> {
    method: Method,
    /// Offset of the start tag of the element left out (the enveloped signature).
    skip: Option<usize>,
    /// Depth inside the element left out.
    skipping: usize,
    /// Exclusive C14N: namespace bindings rendered by the output ancestors, and where each
    /// open element's renderings start.
    rendered: Vec<(&'t str, &'t str)>,
    marks: Vec<usize>,
    used: Vec<&'t str>,
    decls: Vec<(&'t str, &'t str)>,
    sorted: Vec<(&'t str, &'t str, &'t str, &'t str)>,
    out: Vec<u8>,
    write: &'w mut dyn FnMut(&[u8]),
}

impl Canon<'_, '_> {
    fn flush_if_full(&mut self) {
        if self.out.len() >= CHUNK {
            (self.write)(&self.out);
            self.out.clear();
        }
    }

    fn write_namespace(&mut self, prefix: &str, uri: &str) {
        if prefix.is_empty() {
            self.out.extend_from_slice(b" xmlns=\"");
        } else {
            self.out.extend_from_slice(b" xmlns:");
            self.out.extend_from_slice(prefix.as_bytes());
            self.out.extend_from_slice(b"=\"");
        }
        // Declarations with references or tabs/newlines were refused by the reader.
        escape_attribute_raw(&mut self.out, uri.as_bytes());
        self.out.push(b'"');
    }
}

impl<'t> Sink<'t> for Canon<'t, '_> {
    // The text was checked by `scan` before it is canonicalized.
    const CHECK: bool = false;

    fn start(
        &mut self,
        tag: &StartTag<'t>,
        attrs: &[RawAttr<'t>],
        scope: &Scope<'t>,
        mark: usize,
    ) -> R<()> {
        if self.skipping > 0 || self.skip == Some(tag.start) {
            self.skipping += 1;
            return Ok(());
        }
        self.out.push(b'<');
        self.out.extend_from_slice(tag.qname.as_bytes());
        match self.method {
            Method::Exclusive => {
                self.marks.push(self.rendered.len());
                let mut used = std::mem::take(&mut self.used);
                used.clear();
                used.push(tag.prefix);
                for a in attrs {
                    if !a.is_namespace_declaration() && !a.prefix.is_empty() && a.prefix != "xml" {
                        used.push(a.prefix);
                    }
                }
                used.sort_unstable();
                used.dedup();
                for &prefix in &used {
                    let mine = scope.lookup(prefix).unwrap_or("");
                    let before = self
                        .rendered
                        .iter()
                        .rev()
                        .find(|(p, _)| same(p, prefix))
                        .map_or("", |(_, u)| *u);
                    if same(mine, before) {
                        continue;
                    }
                    if !mine.is_empty() || prefix.is_empty() {
                        self.write_namespace(prefix, mine);
                    }
                    self.rendered.push((prefix, mine));
                }
                self.used = used;
            }
            Method::Inclusive10 | Method::Inclusive11 => {
                // The parent is always in the output: render what this element declares
                // differently from it (and `xmlns=""` when it drops a default namespace).
                let mut decls = std::mem::take(&mut self.decls);
                decls.clear();
                for &(prefix, uri) in scope.bindings.get(mark..).unwrap_or_default() {
                    let parent = scope.lookup_in(mark, prefix).unwrap_or("");
                    if !same(uri, parent) && !decls.iter().any(|(p, _)| same(p, prefix)) {
                        decls.push((prefix, uri));
                    }
                }
                decls.sort_unstable_by(|a, b| order(a.0, b.0));
                for &(prefix, uri) in &decls {
                    self.write_namespace(prefix, uri);
                }
                self.decls = decls;
            }
        }
        let mut sorted = std::mem::take(&mut self.sorted);
        sorted.clear();
        for a in attrs {
            if !a.is_namespace_declaration() {
                sorted.push((attribute_namespace(a, scope), a.local, a.qname, a.value));
            }
        }
        if sorted.len() > 1 {
            sorted.sort_unstable_by(|a, b| order(a.0, b.0).then_with(|| order(a.1, b.1)));
        }
        for &(_, _, qname, value) in &sorted {
            self.out.push(b' ');
            self.out.extend_from_slice(qname.as_bytes());
            self.out.extend_from_slice(b"=\"");
            escape_attribute_raw(&mut self.out, value.as_bytes());
            self.out.push(b'"');
        }
        self.sorted = sorted;
        self.out.push(b'>');
        Ok(())
    }

    fn end(&mut self, qname: &'t str, _end: usize) {
        if self.skipping > 0 {
            self.skipping -= 1;
            return;
        }
        self.out.extend_from_slice(b"</");
        self.out.extend_from_slice(qname.as_bytes());
        self.out.push(b'>');
        if self.method == Method::Exclusive {
            if let Some(m) = self.marks.pop() {
                self.rendered.truncate(m);
            }
        }
        self.flush_if_full();
    }

    fn text(&mut self, raw: &'t str) {
        if self.skipping > 0 {
            return;
        }
        escape_text_raw(&mut self.out, raw.as_bytes());
        self.flush_if_full();
    }
}

fn push_char(out: &mut Vec<u8>, c: char) {
    let mut buf = [0u8; 4];
    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
}

/// C14N §2.3 text escaping of character data as written: references replaced, then `&`, `<`,
/// `>` and carriage return escaped.
fn escape_text_raw(out: &mut Vec<u8>, b: &[u8]) {
    let mut start = 0;
    let mut i = 0;
    while let Some(p) = memchr::memchr2(b'&', b'>', rest(b, i)) {
        let at = i + p;
        out.extend_from_slice(b.get(start..at).unwrap_or_default());
        if b.get(at) == Some(&b'>') {
            out.extend_from_slice(b"&gt;");
            i = at + 1;
        } else {
            // Checked by the reader.
            let (c, next) = reference(b, at).unwrap_or(('&', at + 1));
            match c {
                '&' => out.extend_from_slice(b"&amp;"),
                '<' => out.extend_from_slice(b"&lt;"),
                '>' => out.extend_from_slice(b"&gt;"),
                '\r' => out.extend_from_slice(b"&#xD;"),
                c => push_char(out, c),
            }
            i = next;
        }
        start = i;
    }
    out.extend_from_slice(b.get(start..).unwrap_or_default());
}

/// C14N §2.3 attribute escaping of a value as written: normalized (literal tab and line feed
/// become spaces, references replaced), then `&`, `<`, `"`, tab, line feed and carriage return
/// escaped.
fn escape_attribute_raw(out: &mut Vec<u8>, b: &[u8]) {
    let mut start = 0;
    for (k, &c) in b.iter().enumerate() {
        if k < start {
            continue;
        }
        let replacement: &[u8] = match c {
            b'\t' | b'\n' => b" ",
            b'"' => b"&quot;",
            b'&' => {
                out.extend_from_slice(b.get(start..k).unwrap_or_default());
                let (ch, next) = reference(b, k).unwrap_or(('&', k + 1));
                match ch {
                    '&' => out.extend_from_slice(b"&amp;"),
                    '<' => out.extend_from_slice(b"&lt;"),
                    '"' => out.extend_from_slice(b"&quot;"),
                    '\t' => out.extend_from_slice(b"&#x9;"),
                    '\n' => out.extend_from_slice(b"&#xA;"),
                    '\r' => out.extend_from_slice(b"&#xD;"),
                    ch => push_char(out, ch),
                }
                start = next;
                continue;
            }
            _ => continue,
        };
        out.extend_from_slice(b.get(start..k).unwrap_or_default());
        out.extend_from_slice(replacement);
        start = k + 1;
    }
    out.extend_from_slice(b.get(start..).unwrap_or_default());
}

/// Writes to `write`, in chunks, the canonical form (`method`, without comments) of the whole
/// document `text` without the element whose start tag is at offset `skip`: what a
/// `URI=""` reference with the enveloped-signature transform digests.
pub fn canonicalize_without(
    text: &str,
    skip: Option<usize>,
    method: Method,
    write: &mut dyn FnMut(&[u8]),
) -> Result<(), Unsupported> {
    let mut canon = Canon::new(method, skip, write);
    tokenize(text, &mut canon)?;
    canon.finish();
    Ok(())
}

impl<'t, 'w> Canon<'t, 'w> {
    fn new(method: Method, skip: Option<usize>, write: &'w mut dyn FnMut(&[u8])) -> Self {
        Canon {
            method,
            skip,
            skipping: 0,
            rendered: Vec::new(),
            marks: Vec::new(),
            used: Vec::new(),
            decls: Vec::new(),
            sorted: Vec::new(),
            out: Vec::with_capacity(CHUNK + 4096),
            write,
        }
    }

    fn finish(&mut self) {
        if !self.out.is_empty() {
            (self.write)(&self.out);
            self.out.clear();
        }
    }
}

/// [`scan`] and, in the same pass, the canonical form `method` of the document without its
/// first `ds:Signature` (what [`canonicalize_without`] writes), kept in memory: one pass
/// instead of two when the caller guessed the method its reference names. `None` for the
/// canonical form when it would be larger than twice the input (exclusive C14N re-renders
/// namespace declarations, and memory stays bounded by the input).
pub fn scan_and_canonicalize(
    text: &str,
    method: Method,
) -> Result<(Scan<'_>, Option<Vec<u8>>), Unsupported> {
    let limit = text.len().saturating_mul(2).saturating_add(64 * 1024);
    let mut kept: Vec<u8> = Vec::with_capacity(text.len() + CHUNK);
    let mut overflow = false;
    let mut write = |chunk: &[u8]| {
        if overflow {
            return;
        }
        if kept.len() + chunk.len() > limit {
            overflow = true;
            kept = Vec::new();
        } else {
            kept.extend_from_slice(chunk);
        }
    };
    let mut both = Both {
        scan: Scan {
            text,
            ..Scan::default()
        },
        canon: Canon::new(method, None, &mut write),
    };
    tokenize(text, &mut both)?;
    both.canon.finish();
    let scan = both.scan;
    Ok((scan, (!overflow).then_some(kept)))
}

/// The scanning and the canonicalizing sink in one pass: the canonicalizer leaves out the
/// element the scanner finds to be the first `ds:Signature`.
struct Both<'t, 'w> {
    scan: Scan<'t>,
    canon: Canon<'t, 'w>,
}

impl<'t> Sink<'t> for Both<'t, '_> {
    const CHECK: bool = true;

    fn start(
        &mut self,
        tag: &StartTag<'t>,
        attrs: &[RawAttr<'t>],
        scope: &Scope<'t>,
        mark: usize,
    ) -> R<()> {
        let found = self.scan.signature.is_some();
        self.scan.start(tag, attrs, scope, mark)?;
        if !found && self.scan.signature.is_some() {
            self.canon.skip = Some(tag.start);
        }
        self.canon.start(tag, attrs, scope, mark)
    }

    fn end(&mut self, qname: &'t str, end: usize) {
        self.scan.end(qname, end);
        self.canon.end(qname, end);
    }

    fn text(&mut self, raw: &'t str) {
        self.scan.text(raw);
        self.canon.text(raw);
    }
}
