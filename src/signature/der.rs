//! A small bounded DER/BER reader (ITU-T X.690) for the structure of CMS (RFC 5652): tag and
//! length parsing, with a fixed nesting limit and no allocation. It does not decode values; the
//! format modules read the few they need (object identifiers as raw bytes, counts of SET members).
//!
//! BER indefinite lengths (`0x80`, ended by `00 00`) are accepted because real CAdES files use
//! them (streamed `openssl cms` output); finding their end walks the children, at most
//! [`MAX_DEPTH`] levels deep, so attacker data cannot drive the recursion further.

/// Deepest nesting walked while looking for the end of indefinite-length elements.
pub const MAX_DEPTH: usize = 64;

/// Longest length field accepted, in bytes (4: elements up to 4 GiB, always bounded by the input).
const MAX_LENGTH_BYTES: usize = 4;

/// Why the bytes are not well-formed DER/BER.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DerError {
    /// The input ends inside an element.
    #[error("truncated DER: element needs {needed} bytes, {available} available")]
    Truncated {
        /// Bytes the element claims.
        needed: usize,
        /// Bytes left.
        available: usize,
    },
    /// A length field is malformed or too long.
    #[error("bad DER length field")]
    BadLength,
    /// A high tag number does not fit 28 bits.
    #[error("bad DER tag")]
    BadTag,
    /// Indefinite lengths nest deeper than [`MAX_DEPTH`].
    #[error("DER nesting deeper than {limit}")]
    TooDeep {
        /// The limit.
        limit: usize,
    },
    /// A primitive element with an indefinite length, or a missing end-of-contents.
    #[error("bad BER indefinite length")]
    BadIndefinite,
}

/// Tag class: universal, application, context-specific, private.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Universal (SEQUENCE, SET, OID, ...).
    Universal,
    /// Application.
    Application,
    /// Context-specific (`[0]`, `[1]`, ...).
    Context,
    /// Private.
    Private,
}

/// A decoded tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tag {
    /// The class.
    pub class: Class,
    /// Constructed (holds elements) or primitive (holds bytes).
    pub constructed: bool,
    /// The tag number.
    pub number: u32,
}

impl Tag {
    /// Universal SEQUENCE.
    pub const SEQUENCE: Tag = Tag::universal(16, true);
    /// Universal SET.
    pub const SET: Tag = Tag::universal(17, true);
    /// Universal OBJECT IDENTIFIER.
    pub const OID: Tag = Tag::universal(6, false);
    /// Universal INTEGER.
    pub const INTEGER: Tag = Tag::universal(2, false);

    const fn universal(number: u32, constructed: bool) -> Tag {
        Tag {
            class: Class::Universal,
            constructed,
            number,
        }
    }

    /// A context-specific tag `[n]`.
    pub const fn context(number: u32, constructed: bool) -> Tag {
        Tag {
            class: Class::Context,
            constructed,
            number,
        }
    }
}

/// One element: its tag and its content bytes (without the end-of-contents of BER).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tlv<'a> {
    /// The tag.
    pub tag: Tag,
    /// The content octets.
    pub content: &'a [u8],
}

/// Reads the first element of `input`; returns it and the bytes after it.
pub fn read(input: &[u8]) -> Result<(Tlv<'_>, &[u8]), DerError> {
    read_at(input, 0)
}

/// Reads the elements of a constructed element's content, in order.
pub fn children(content: &[u8]) -> Children<'_> {
    Children { rest: content }
}

/// Iterator over consecutive elements; stops after the first error.
#[derive(Debug, Clone)]
pub struct Children<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Children<'a> {
    type Item = Result<Tlv<'a>, DerError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        match read(self.rest) {
            Ok((tlv, rest)) => {
                self.rest = rest;
                Some(Ok(tlv))
            }
            Err(e) => {
                self.rest = &[];
                Some(Err(e))
            }
        }
    }
}

fn read_at(input: &[u8], depth: usize) -> Result<(Tlv<'_>, &[u8]), DerError> {
    if depth > MAX_DEPTH {
        return Err(DerError::TooDeep { limit: MAX_DEPTH });
    }
    let (tag, rest) = read_tag(input)?;
    let (length, rest) = read_length(rest)?;
    match length {
        Some(len) => {
            let content = rest.get(..len).ok_or(DerError::Truncated {
                needed: len,
                available: rest.len(),
            })?;
            let after = rest.get(len..).unwrap_or_default();
            Ok((Tlv { tag, content }, after))
        }
        None if tag.constructed => {
            let len = indefinite_content_len(rest, depth)?;
            let content = rest.get(..len).ok_or(DerError::BadIndefinite)?;
            let after = rest.get(len + 2..).ok_or(DerError::BadIndefinite)?;
            Ok((Tlv { tag, content }, after))
        }
        None => Err(DerError::BadIndefinite),
    }
}

/// Length of the content of an indefinite-length element: up to its `00 00`.
fn indefinite_content_len(content: &[u8], depth: usize) -> Result<usize, DerError> {
    let mut rest = content;
    loop {
        if rest.starts_with(&[0, 0]) {
            return Ok(content.len() - rest.len());
        }
        if rest.is_empty() {
            return Err(DerError::BadIndefinite);
        }
        let (_, after) = read_at(rest, depth + 1)?;
        rest = after;
    }
}

fn read_tag(input: &[u8]) -> Result<(Tag, &[u8]), DerError> {
    let (&first, mut rest) = input.split_first().ok_or(DerError::Truncated {
        needed: 1,
        available: 0,
    })?;
    let class = match first >> 6 {
        0 => Class::Universal,
        1 => Class::Application,
        2 => Class::Context,
        _ => Class::Private,
    };
    let constructed = first & 0x20 != 0;
    let mut number = u32::from(first & 0x1f);
    if number == 0x1f {
        number = 0;
        for i in 0.. {
            let (&b, after) = rest.split_first().ok_or(DerError::BadTag)?;
            rest = after;
            if i >= 4 {
                return Err(DerError::BadTag);
            }
            number = (number << 7) | u32::from(b & 0x7f);
            if b & 0x80 == 0 {
                break;
            }
        }
    }
    let tag = Tag {
        class,
        constructed,
        number,
    };
    Ok((tag, rest))
}

/// The length (`None` for BER indefinite) and the bytes after the length field.
fn read_length(input: &[u8]) -> Result<(Option<usize>, &[u8]), DerError> {
    let (&first, rest) = input.split_first().ok_or(DerError::Truncated {
        needed: 1,
        available: 0,
    })?;
    if first < 0x80 {
        return Ok((Some(usize::from(first)), rest));
    }
    if first == 0x80 {
        return Ok((None, rest));
    }
    let count = usize::from(first & 0x7f);
    if count > MAX_LENGTH_BYTES {
        return Err(DerError::BadLength);
    }
    let bytes = rest.get(..count).ok_or(DerError::BadLength)?;
    let len = bytes
        .iter()
        .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
    Ok((Some(len), rest.get(count..).unwrap_or_default()))
}

/// Encodes an object identifier's dotted form as DER content bytes (for comparing with
/// [`Tlv::content`]); `None` when the text is not an OID.
pub fn oid_bytes(dotted: &str) -> Option<Vec<u8>> {
    let arcs: Vec<u64> = dotted
        .split('.')
        .map(|a| a.parse().ok())
        .collect::<Option<_>>()?;
    let (&a, rest) = arcs.split_first()?;
    let (&b, rest) = rest.split_first()?;
    let mut out = Vec::new();
    for arc in std::iter::once(a * 40 + b).chain(rest.iter().copied()) {
        let mut groups = vec![(arc & 0x7f) as u8];
        let mut v = arc >> 7;
        while v > 0 {
            groups.push((v & 0x7f) as u8 | 0x80);
            v >>= 7;
        }
        out.extend(groups.iter().rev());
    }
    Some(out)
}

/// Reads the first element of `input` and also returns its whole encoding (tag, length, content
/// and any BER end-of-contents): the bytes a signature covers are the bytes as received
/// (RFC 5652 §5.4), never a re-encoding.
pub fn read_raw(input: &[u8]) -> Result<(Tlv<'_>, &[u8], &[u8]), DerError> {
    let (tlv, rest) = read(input)?;
    let raw = input.get(..input.len() - rest.len()).unwrap_or_default();
    Ok((tlv, raw, rest))
}

/// The elements of a constructed element's content with their whole encodings.
pub fn children_raw(content: &[u8]) -> impl Iterator<Item = Result<(Tlv<'_>, &[u8]), DerError>> {
    let mut rest = content;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        match read_raw(rest) {
            Ok((tlv, raw, after)) => {
                rest = after;
                Some(Ok((tlv, raw)))
            }
            Err(e) => {
                rest = &[];
                Some(Err(e))
            }
        }
    })
}

/// The dotted form of an object identifier's content bytes (for messages); `?` for garbage.
pub fn oid_string(content: &[u8]) -> String {
    let mut arcs: Vec<u64> = Vec::new();
    let mut value: u64 = 0;
    for &b in content {
        if value > u64::MAX >> 7 {
            return "?".into();
        }
        value = (value << 7) | u64::from(b & 0x7f);
        if b & 0x80 == 0 {
            if arcs.is_empty() {
                let first = value.min(80) / 40;
                arcs.push(first);
                arcs.push(value - first * 40);
            } else {
                arcs.push(value);
            }
            value = 0;
        }
    }
    if arcs.is_empty() {
        return "?".into();
    }
    arcs.iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_short_sequence_and_its_children() {
        let bytes = [0x30, 0x06, 0x02, 0x01, 0x05, 0x04, 0x01, 0xaa, 0xff];
        let (tlv, rest) = read(&bytes).unwrap();
        assert_eq!(tlv.tag, Tag::SEQUENCE);
        assert_eq!(rest, &[0xff]);
        let kids: Vec<_> = children(tlv.content).collect::<Result<_, _>>().unwrap();
        assert_eq!(kids.len(), 2);
        assert_eq!(kids[0].tag, Tag::INTEGER);
    }

    #[test]
    fn reads_long_form_lengths_and_high_tag_numbers() {
        let mut bytes = vec![0x04, 0x82, 0x01, 0x00];
        bytes.extend(std::iter::repeat_n(7, 256));
        let (tlv, rest) = read(&bytes).unwrap();
        assert_eq!(tlv.content.len(), 256);
        assert!(rest.is_empty());
        let (tlv, _) = read(&[0xbf, 0x81, 0x00, 0x00]).unwrap();
        assert_eq!(tlv.tag, Tag::context(128, true));
    }

    #[test]
    fn reads_ber_indefinite_lengths() {
        let bytes = [0x30, 0x80, 0xa0, 0x80, 0x02, 0x01, 0x01, 0, 0, 0, 0, 0x05];
        let (tlv, rest) = read(&bytes).unwrap();
        assert_eq!(tlv.content, &[0xa0, 0x80, 0x02, 0x01, 0x01, 0, 0]);
        assert_eq!(rest, &[0x05]);
    }

    #[test]
    fn rejects_truncation_bad_lengths_and_missing_end_of_contents() {
        assert!(matches!(
            read(&[0x30, 0x05, 0x01]),
            Err(DerError::Truncated { .. })
        ));
        assert_eq!(
            read(&[0x30, 0x89, 1, 2, 3, 4, 5, 6, 7, 8, 9]),
            Err(DerError::BadLength)
        );
        assert_eq!(
            read(&[0x30, 0x80, 0x02, 0x01, 0x01]),
            Err(DerError::BadIndefinite)
        );
        assert_eq!(read(&[0x04, 0x80, 0, 0]), Err(DerError::BadIndefinite));
        assert!(read(&[]).is_err());
    }

    #[test]
    fn stops_at_the_depth_limit_on_nested_indefinite_lengths() {
        let mut bytes = Vec::new();
        for _ in 0..10_000 {
            bytes.extend([0x30, 0x80]);
        }
        assert_eq!(read(&bytes), Err(DerError::TooDeep { limit: MAX_DEPTH }));
    }

    #[test]
    fn encodes_object_identifiers() {
        assert_eq!(
            oid_bytes("1.2.840.113549.1.7.2").unwrap(),
            vec![0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02]
        );
        assert_eq!(oid_bytes("x.y"), None);
    }

    #[test]
    fn returns_the_whole_encoding_of_an_element_as_received() {
        let bytes = [0x30, 0x80, 0x02, 0x01, 0x01, 0, 0, 0x05, 0x00];
        let (tlv, raw, rest) = read_raw(&bytes).unwrap();
        assert_eq!(tlv.content, &[0x02, 0x01, 0x01]);
        assert_eq!(raw, &bytes[..7]);
        assert_eq!(rest, &[0x05, 0x00]);
        let kids: Vec<_> = children_raw(&bytes).collect::<Result<_, _>>().unwrap();
        assert_eq!(kids.len(), 2);
        assert_eq!(kids[1].1, &[0x05, 0x00]);
    }

    #[test]
    fn prints_object_identifiers_in_dotted_form() {
        let oid = oid_bytes("1.2.840.113549.1.9.16.2.47").unwrap();
        assert_eq!(oid_string(&oid), "1.2.840.113549.1.9.16.2.47");
        assert_eq!(
            oid_string(&oid_bytes("2.16.840.1.101.3.4.2.1").unwrap()),
            "2.16.840.1.101.3.4.2.1"
        );
        assert_eq!(oid_string(&[]), "?");
    }
}
