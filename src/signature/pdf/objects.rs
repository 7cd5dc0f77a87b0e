//! The revisions of a PDF (ISO 32000-1 §7.5.6 incremental updates: each ends with `%%EOF`) and
//! an index of every indirect object defined in each, found by scanning `N G obj` headers.
//! Scanning rather than following xref chains makes the reader immune to cyclic `/Prev`
//! chains and broken xref tables, and sees every definition, including the ones an attacker
//! hid from the last xref (DSS "hide"/"replace" samples). Streams are skipped by `/Length`
//! or up to `endstream`, so stream data is not mistaken for objects.

use super::lexer::{is_delimiter, is_space, Lexer, Value};
use std::collections::HashMap;

/// Most indirect objects indexed in one file.
pub const MAX_OBJECTS: usize = 1_000_000;

/// One indirect object definition.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    /// Object number.
    pub num: u32,
    /// Generation.
    pub gen: u16,
    /// Offset of its header.
    pub offset: usize,
    /// Index of the revision that defines it.
    pub revision: usize,
    /// The object (for a stream: its dictionary).
    pub value: Value,
    /// Whether it is a stream.
    pub stream: bool,
    /// Whether it was read from an object stream (ISO 32000-1 §7.5.7).
    pub compressed: bool,
}

/// The file's revisions and objects.
#[derive(Debug, Clone, Default)]
pub struct Document {
    /// End offset of each revision (after `%%EOF` and its end-of-line), ascending.
    pub revision_ends: Vec<usize>,
    /// Offset just after each `%%EOF` ([`eof_positions`]), ascending.
    pub eofs: Vec<usize>,
    /// Every object definition in file order.
    pub objects: Vec<Object>,
    /// The index stopped at [`MAX_OBJECTS`].
    pub truncated: bool,
    /// Object streams that could not be inflated (their objects are not compared).
    pub unread_object_streams: usize,
    /// Indexes into `objects` by object number, in file order.
    by_num: HashMap<u32, Vec<usize>>,
}

/// Reads the revisions and object definitions of a PDF.
pub fn index(data: &[u8]) -> Document {
    let eofs = eof_positions(data);
    let revision_ends = revision_ends(data, &eofs);
    let mut doc = Document {
        revision_ends,
        eofs,
        ..Document::default()
    };
    let mut pos = 0;
    let mut inflated = Inflation::default();
    while let Some(found) = find(data, b"obj", pos) {
        pos = found + 3;
        if !data
            .get(pos)
            .is_none_or(|&b| is_space(b) || is_delimiter(b))
        {
            continue;
        }
        let Some(start) = header_start(data, found) else {
            continue;
        };
        let mut lx = Lexer::new(data, start);
        let Some((num, gen)) = lx.object_header() else {
            continue;
        };
        let Ok(value) = lx.value(0) else {
            continue;
        };
        let stream = lx.keyword(b"stream");
        let revision = doc.revision_of(start);
        if stream {
            let (data_start, data_end, after) = stream_bounds(data, lx.pos, &value);
            pos = after;
            if value.get("Type").is_some_and(|t| t.is_name("ObjStm")) {
                let raw = data.get(data_start..data_end).unwrap_or_default();
                doc.add_compressed(&value, raw, start, revision, &mut inflated);
            }
        } else {
            pos = pos.max(lx.pos);
        }
        doc.push(Object {
            num,
            gen,
            offset: start,
            revision,
            value,
            stream,
            compressed: false,
        });
        if doc.objects.len() >= MAX_OBJECTS {
            doc.truncated = true;
            break;
        }
    }
    doc
}

/// Most object streams inflated in one file.
pub const MAX_OBJECT_STREAMS: usize = 4096;
/// Most bytes inflated from the object streams of one file in all.
pub const MAX_INFLATED_BYTES: u64 = 256 * 1024 * 1024;

/// What the object streams of one file have used so far.
#[derive(Debug, Default)]
struct Inflation {
    streams: usize,
    bytes: u64,
}

impl Document {
    fn push(&mut self, obj: Object) {
        self.by_num
            .entry(obj.num)
            .or_default()
            .push(self.objects.len());
        self.objects.push(obj);
    }

    /// The members of an object stream, as objects of the revision that holds the stream.
    fn add_compressed(
        &mut self,
        dict: &Value,
        raw: &[u8],
        offset: usize,
        revision: usize,
        used: &mut Inflation,
    ) {
        used.streams += 1;
        let left = MAX_INFLATED_BYTES.saturating_sub(used.bytes);
        if used.streams > MAX_OBJECT_STREAMS || left == 0 {
            self.truncated = true;
            return;
        }
        let Some((members, inflated)) = super::objstm::members(dict, raw, left) else {
            self.unread_object_streams += 1;
            return;
        };
        used.bytes += inflated;
        for (num, value) in members {
            self.push(Object {
                num,
                gen: 0,
                offset,
                revision,
                value,
                stream: false,
                compressed: true,
            });
        }
    }

    /// The revision holding `offset` (bytes after the last `%%EOF` form one more).
    pub fn revision_of(&self, offset: usize) -> usize {
        self.revision_ends.partition_point(|&end| end <= offset)
    }

    /// The revision a signed range ending at `end` covers: one whose end it is, allowing the
    /// end-of-line after `%%EOF` to be in or out.
    pub fn revision_ending_at(&self, end: usize, eof_positions: &[usize]) -> Option<usize> {
        eof_positions
            .iter()
            .zip(&self.revision_ends)
            .position(|(&eof, &rev_end)| end >= eof && end <= rev_end)
    }

    /// The definition of object `num` in force at the end of `revision`.
    pub fn resolve(&self, num: u32, revision: usize) -> Option<&Object> {
        self.by_num
            .get(&num)?
            .iter()
            .rev()
            .filter_map(|&i| self.objects.get(i))
            .find(|o| o.revision <= revision)
    }
}

/// Offsets just after each `%%EOF` (without the end-of-line).
pub fn eof_positions(data: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut pos = 0;
    while let Some(found) = find(data, b"%%EOF", pos) {
        pos = found + 5;
        out.push(pos);
    }
    out
}

fn revision_ends(data: &[u8], eofs: &[usize]) -> Vec<usize> {
    eofs.iter()
        .map(|&end| {
            let mut end = end;
            for _ in 0..2 {
                if matches!(data.get(end), Some(b'\r' | b'\n')) {
                    end += 1;
                }
            }
            end
        })
        .collect()
}

/// The start of `N G` before the `obj` keyword at `at`, if the bytes there are digits.
fn header_start(data: &[u8], at: usize) -> Option<usize> {
    let mut i = at;
    let mut fields = 0;
    while fields < 2 {
        while i > 0 && data.get(i - 1).is_some_and(|&b| is_space(b)) {
            i -= 1;
        }
        let end = i;
        while i > 0 && data.get(i - 1).is_some_and(u8::is_ascii_digit) {
            i -= 1;
        }
        if i == end {
            return None;
        }
        fields += 1;
    }
    Some(i)
}

/// After the `stream` keyword: the data's start and end, and the offset after `endstream`.
/// `/Length` is trusted when direct and landing on `endstream`; else `endstream` is searched.
fn stream_bounds(data: &[u8], after_keyword: usize, dict: &Value) -> (usize, usize, usize) {
    let mut start = after_keyword;
    if data.get(start) == Some(&b'\r') {
        start += 1;
    }
    if data.get(start) == Some(&b'\n') {
        start += 1;
    }
    if let Some(len) = dict.get("Length").and_then(Value::as_int) {
        let end = usize::try_from(len).ok().and_then(|l| start.checked_add(l));
        if let Some(end) = end {
            let mut lx = Lexer::new(data, end);
            if lx.keyword(b"endstream") {
                return (start, end, lx.pos);
            }
        }
    }
    match find(data, b"endstream", start) {
        Some(p) => (start, p, p + 9),
        None => (start, data.len(), data.len()),
    }
}

/// The first occurrence of `needle` at or after `from` (SIMD substring search: the scans
/// for `obj`, `%%EOF`, `trailer` and `endstream` run over every byte of the file).
pub fn find(data: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    memchr::memmem::find(data.get(from..)?, needle).map(|at| from + at)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PDF: &[u8] = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n2 0 obj\n<< /Length 9 >>\nstream\n3 0 obj x\nendstream\nendobj\n%%EOF\n4 0 obj\n(new)\nendobj\n1 0 obj\n<< /Type /Catalog /DSS 4 0 R >>\nendobj\n%%EOF\r\n";

    #[test]
    fn indexes_objects_per_revision_and_skips_stream_data() {
        let doc = index(PDF);
        assert_eq!(doc.revision_ends.len(), 2);
        let nums: Vec<(u32, usize)> = doc.objects.iter().map(|o| (o.num, o.revision)).collect();
        assert_eq!(nums, vec![(1, 0), (2, 0), (4, 1), (1, 1)]);
        assert!(doc.objects[1].stream);
        assert_eq!(doc.resolve(1, 0).unwrap().offset, 9);
        assert!(doc.resolve(1, 1).unwrap().value.get("DSS").is_some());
        assert_eq!(*doc.revision_ends.last().unwrap(), PDF.len());
    }

    #[test]
    fn finds_needles() {
        assert_eq!(find(b"abcabc", b"ca", 0), Some(2));
        assert_eq!(find(b"abc", b"x", 0), None);
        assert_eq!(find(b"abc", b"c", 5), None);
    }
}
