//! Object streams (ISO 32000-1 §7.5.7): `/Type /ObjStm` streams that hold compressed
//! objects, inflated with limits so that the change analysis sees the objects modern writers
//! put there. Only `/FlateDecode` without a predictor is read; anything else is skipped.

use super::lexer::{Lexer, Value};
use flate2::read::ZlibDecoder;
use std::io::Read;

/// Largest inflated object stream.
pub const MAX_STREAM_BYTES: u64 = 16 * 1024 * 1024;
/// Most objects read from one object stream.
pub const MAX_MEMBERS: usize = 100_000;

/// The objects of one object stream: `(number, value)`, and the bytes inflated; `None` when it
/// cannot be read. At most `budget` bytes (and [`MAX_STREAM_BYTES`]) are inflated.
pub fn members(dict: &Value, raw: &[u8], budget: u64) -> Option<(Vec<(u32, Value)>, u64)> {
    let flate = match dict.get("Filter") {
        Some(f) if f.is_name("FlateDecode") => true,
        Some(Value::Array(fs)) => fs.len() == 1 && fs.iter().all(|f| f.is_name("FlateDecode")),
        _ => false,
    };
    if !flate || dict.get("DecodeParms").is_some() {
        return None;
    }
    let mut data = Vec::new();
    ZlibDecoder::new(raw)
        .take(MAX_STREAM_BYTES.min(budget))
        .read_to_end(&mut data)
        .ok()?;
    let count = usize::try_from(dict.get("N")?.as_int()?)
        .ok()?
        .min(MAX_MEMBERS);
    let first = usize::try_from(dict.get("First")?.as_int()?).ok()?;
    let mut header = Lexer::new(&data, 0);
    let mut out = Vec::new();
    for _ in 0..count {
        let num = header.value(0).ok()?.as_int()?;
        let offset = header.value(0).ok()?.as_int()?;
        let at = first.checked_add(usize::try_from(offset).ok()?)?;
        if let Ok(value) = Lexer::new(&data, at).value(0) {
            out.push((u32::try_from(num).ok()?, value));
        }
    }
    Some((out, u64::try_from(data.len()).unwrap_or(u64::MAX)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::ZlibEncoder;
    use std::io::Write;

    #[test]
    fn reads_the_objects_of_a_flate_object_stream() {
        let body = b"7 0 8 18 << /Type /Page >> << /Type /Annot >>";
        let mut z = ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(body).unwrap();
        let raw = z.finish().unwrap();
        let dict = Lexer::new(b"<< /Type /ObjStm /N 2 /First 9 /Filter /FlateDecode >>", 0)
            .value(0)
            .unwrap();
        let (objs, used) = members(&dict, &raw, u64::MAX).unwrap();
        assert_eq!(used, body.len() as u64);
        assert_eq!(objs.len(), 2);
        assert_eq!(objs[0].0, 7);
        assert!(objs[1].1.get("Type").unwrap().is_name("Annot"));
        assert!(members(&dict, b"not zlib", u64::MAX).is_none());
    }
}
