//! A bounded reader of PDF objects (ISO 32000-1 §7.2 lexical conventions, §7.3 objects):
//! numbers, names, literal and hexadecimal strings, arrays, dictionaries, indirect references
//! and `N G obj` headers. It never follows a reference, nests at most [`MAX_DEPTH`] deep and
//! reads at most [`MAX_ITEMS`] items per object, so hostile files end quickly. Hexadecimal
//! strings keep their byte span: a signature's `/Contents` must be exactly the ByteRange hole.

/// Deepest nesting of arrays and dictionaries.
pub const MAX_DEPTH: usize = 32;
/// Most items read in one object.
pub const MAX_ITEMS: usize = 100_000;

/// Why an object cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LexError {
    /// Unexpected byte or end of data.
    #[error("pdf syntax error at byte {0}")]
    Syntax(usize),
    /// Nesting or size over the limits.
    #[error("pdf object over the reader's limits at byte {0}")]
    TooBig(usize),
}

/// A PDF object (ISO 32000-1 §7.3).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A real number.
    Real(f64),
    /// A name, `#xx` escapes decoded, without the slash.
    Name(Vec<u8>),
    /// A string's bytes, with its span `[start, end)` in the file (delimiters included).
    Str(Vec<u8>, usize, usize),
    /// An array.
    Array(Vec<Value>),
    /// A dictionary, entries in file order.
    Dict(Vec<(Vec<u8>, Value)>),
    /// `n g R`.
    Ref(u32, u16),
}

impl Value {
    /// The value of `key` in a dictionary.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Dict(entries) => entries
                .iter()
                .find(|(k, _)| k.as_slice() == key.as_bytes())
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// Whether this is the name `name`.
    pub fn is_name(&self, name: &str) -> bool {
        matches!(self, Value::Name(n) if n.as_slice() == name.as_bytes())
    }

    /// The name of `key` in a dictionary.
    pub fn name_of(&self, key: &str) -> Option<&[u8]> {
        match self.get(key) {
            Some(Value::Name(n)) => Some(n),
            _ => None,
        }
    }

    /// An integer.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }
}

/// A cursor over the file's bytes.
pub struct Lexer<'a> {
    data: &'a [u8],
    /// The current offset.
    pub pos: usize,
    items: usize,
}

/// PDF white-space (ISO 32000-1 §7.2.2, Table 1).
pub fn is_space(b: u8) -> bool {
    matches!(b, 0 | 9 | 10 | 12 | 13 | 32)
}

/// PDF delimiters (Table 2).
pub fn is_delimiter(b: u8) -> bool {
    matches!(
        b,
        b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%'
    )
}

impl<'a> Lexer<'a> {
    /// A lexer at `pos`.
    pub fn new(data: &'a [u8], pos: usize) -> Lexer<'a> {
        Lexer {
            data,
            pos,
            items: 0,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.data.get(self.pos).copied()
    }

    fn err(&self) -> LexError {
        LexError::Syntax(self.pos)
    }

    /// Skips white-space and comments.
    pub fn skip_space(&mut self) {
        while let Some(b) = self.peek() {
            if is_space(b) {
                self.pos += 1;
            } else if b == b'%' {
                while let Some(c) = self.peek() {
                    if c == b'\n' || c == b'\r' {
                        break;
                    }
                    self.pos += 1;
                }
            } else {
                break;
            }
        }
    }

    /// Reads a regular token (keyword or number) without consuming delimiters.
    fn token(&mut self) -> &'a [u8] {
        let start = self.pos;
        while let Some(b) = self.peek() {
            if is_space(b) || is_delimiter(b) {
                break;
            }
            self.pos += 1;
        }
        self.data.get(start..self.pos).unwrap_or_default()
    }

    /// Whether the next token is `keyword` (consumed when it is).
    pub fn keyword(&mut self, keyword: &[u8]) -> bool {
        self.skip_space();
        let save = self.pos;
        if self.token() == keyword {
            return true;
        }
        self.pos = save;
        false
    }

    /// Reads `N G obj` and returns the object number and generation.
    pub fn object_header(&mut self) -> Option<(u32, u16)> {
        self.skip_space();
        let num = std::str::from_utf8(self.token()).ok()?.parse().ok()?;
        self.skip_space();
        let gen = std::str::from_utf8(self.token()).ok()?.parse().ok()?;
        self.keyword(b"obj").then_some((num, gen))
    }

    /// Reads one object.
    pub fn value(&mut self, depth: usize) -> Result<Value, LexError> {
        self.items += 1;
        if depth > MAX_DEPTH || self.items > MAX_ITEMS {
            return Err(LexError::TooBig(self.pos));
        }
        self.skip_space();
        match self.peek().ok_or_else(|| self.err())? {
            b'/' => {
                self.pos += 1;
                Ok(Value::Name(decode_name(self.token())))
            }
            b'(' => self.literal(),
            b'<' if self.data.get(self.pos + 1) == Some(&b'<') => self.dict(depth),
            b'<' => self.hex(),
            b'[' => self.array(depth),
            _ => self.number_or_keyword(),
        }
    }

    fn array(&mut self, depth: usize) -> Result<Value, LexError> {
        self.pos += 1;
        let mut items = Vec::new();
        loop {
            self.skip_space();
            if self.peek() == Some(b']') {
                self.pos += 1;
                return Ok(Value::Array(items));
            }
            items.push(self.value(depth + 1)?);
        }
    }

    fn dict(&mut self, depth: usize) -> Result<Value, LexError> {
        self.pos += 2;
        let mut entries = Vec::new();
        loop {
            self.skip_space();
            if self.data.get(self.pos..self.pos + 2) == Some(b">>") {
                self.pos += 2;
                return Ok(Value::Dict(entries));
            }
            let Value::Name(key) = self.value(depth + 1)? else {
                return Err(self.err());
            };
            let value = self.value(depth + 1)?;
            entries.push((key, value));
        }
    }

    fn hex(&mut self) -> Result<Value, LexError> {
        let start = self.pos;
        self.pos += 1;
        let mut digits = Vec::new();
        loop {
            let b = self.peek().ok_or_else(|| self.err())?;
            self.pos += 1;
            match b {
                b'>' => break,
                _ if is_space(b) => {}
                _ => digits.push(hex_digit(b).ok_or(LexError::Syntax(self.pos))?),
            }
        }
        if digits.len() % 2 == 1 {
            digits.push(0);
        }
        let bytes = digits
            .chunks(2)
            .map(|p| p.iter().fold(0u8, |a, d| a * 16 + d))
            .collect();
        Ok(Value::Str(bytes, start, self.pos))
    }

    fn literal(&mut self) -> Result<Value, LexError> {
        let start = self.pos;
        self.pos += 1;
        let mut out = Vec::new();
        let mut nesting = 0usize;
        loop {
            let b = self.peek().ok_or_else(|| self.err())?;
            self.pos += 1;
            match b {
                b'(' => {
                    nesting += 1;
                    out.push(b);
                }
                b')' if nesting == 0 => break,
                b')' => {
                    nesting -= 1;
                    out.push(b);
                }
                b'\\' => self.escape(&mut out)?,
                _ => out.push(b),
            }
        }
        Ok(Value::Str(out, start, self.pos))
    }

    /// ISO 32000-1 §7.3.4.2, Table 3.
    fn escape(&mut self, out: &mut Vec<u8>) -> Result<(), LexError> {
        let b = self.peek().ok_or_else(|| self.err())?;
        self.pos += 1;
        match b {
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'\r' => {
                if self.peek() == Some(b'\n') {
                    self.pos += 1;
                }
            }
            b'\n' => {}
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
        Ok(())
    }

    fn number_or_keyword(&mut self) -> Result<Value, LexError> {
        let start = self.pos;
        let token = self.token();
        if token.is_empty() {
            self.pos += 1;
            return Err(LexError::Syntax(start));
        }
        match token {
            b"true" => return Ok(Value::Bool(true)),
            b"false" => return Ok(Value::Bool(false)),
            b"null" => return Ok(Value::Null),
            _ => {}
        }
        let text = std::str::from_utf8(token).map_err(|_| LexError::Syntax(start))?;
        if let Ok(i) = text.parse::<i64>() {
            return Ok(self.maybe_ref(i));
        }
        text.parse::<f64>()
            .map(Value::Real)
            .map_err(|_| LexError::Syntax(start))
    }

    /// `n g R` after an integer `n`.
    fn maybe_ref(&mut self, n: i64) -> Value {
        let save = self.pos;
        self.skip_space();
        let gen = std::str::from_utf8(self.token())
            .ok()
            .and_then(|t| t.parse::<u16>().ok());
        if let (Some(gen), Ok(num)) = (gen, u32::try_from(n)) {
            if self.keyword(b"R") {
                return Value::Ref(num, gen);
            }
        }
        self.pos = save;
        Value::Int(n)
    }
}

fn hex_digit(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// ISO 32000-1 §7.3.5: `#xx` in names.
fn decode_name(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while let Some(&b) = raw.get(i) {
        let pair = (
            raw.get(i + 1).copied().and_then(hex_digit),
            raw.get(i + 2).copied().and_then(hex_digit),
        );
        match (b, pair) {
            (b'#', (Some(h), Some(l))) => {
                out.push(h * 16 + l);
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

/// Text of a PDF text string (§7.9.2.2): UTF-16BE with a BOM, UTF-8 with a BOM, else
/// PDFDocEncoding (read as Latin-1, which it equals for the printable range).
pub fn text(bytes: &[u8]) -> String {
    if let Some(rest) = bytes.strip_prefix(&[0xfe, 0xff]) {
        let units: Vec<u16> = rest
            .chunks(2)
            .map(|c| {
                u16::from_be_bytes([
                    c.first().copied().unwrap_or(0),
                    c.get(1).copied().unwrap_or(0),
                ])
            })
            .collect();
        return String::from_utf16_lossy(&units);
    }
    if let Some(rest) = bytes.strip_prefix(&[0xef, 0xbb, 0xbf]) {
        return String::from_utf8_lossy(rest).into_owned();
    }
    bytes.iter().map(|&b| char::from(b)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_signature_dictionary_with_spans() {
        let src = b"<< /Type /Sig /ByteRange [0 10 20 30] /Contents <3082 00> /Reason (a\\(b\\) \\101) /P 5 0 R >>";
        let v = Lexer::new(src, 0).value(0).unwrap();
        assert!(v.get("Type").unwrap().is_name("Sig"));
        let Some(Value::Str(bytes, start, end)) = v.get("Contents") else {
            panic!("contents");
        };
        assert_eq!(bytes, &[0x30, 0x82, 0x00]);
        assert_eq!(&src[*start..*end], b"<3082 00>");
        assert!(matches!(v.get("Reason"), Some(Value::Str(b, _, _)) if b == b"a(b) A"));
        assert_eq!(v.get("P"), Some(&Value::Ref(5, 0)));
    }

    #[test]
    fn stops_at_the_depth_limit() {
        let deep = vec![b'['; 10_000];
        assert!(matches!(
            Lexer::new(&deep, 0).value(0),
            Err(LexError::TooBig(_))
        ));
        assert!(Lexer::new(b"<< /A", 0).value(0).is_err());
    }

    #[test]
    fn reads_object_headers_and_text_strings() {
        let mut lx = Lexer::new(b" 12 0 obj << >>", 0);
        assert_eq!(lx.object_header(), Some((12, 0)));
        assert_eq!(text(&[0xfe, 0xff, 0, b'J', 1, 0x05]), "Ją");
        assert_eq!(decode_name(b"A#20B"), b"A B");
    }
}
