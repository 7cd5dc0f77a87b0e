//! RFC 2231 parameter values (`filename*0*=windows-1250''Wniosek%20; filename*1*=%9Cl%B9sk.pdf`).
//! mail-parser 0.11.6 applies the charset of the first segment to that segment only, so a Polish
//! letter in a continuation becomes U+FFFD; here the segments are joined as bytes first and the
//! whole value decoded with the declared charset (RFC 2231 §4.1: only the first segment carries
//! the charset, the others are in the same one).

/// Most continuation segments read (real names need a handful).
const MAX_SEGMENTS: usize = 64;

/// The value of parameter `name` in the raw header value `raw` (after the field's colon), when it
/// is written in the RFC 2231 extended form; `None` otherwise (the caller uses the plain form).
pub fn extended_parameter(raw: &[u8], name: &str) -> Option<String> {
    let text = String::from_utf8_lossy(raw);
    let mut segments: Vec<(usize, bool, String)> = Vec::new();
    for param in split_params(&text).into_iter().skip(1) {
        let Some((key, value)) = param.split_once('=') else {
            continue;
        };
        let key = key.trim().to_ascii_lowercase();
        let Some(rest) = key.strip_prefix(name).and_then(|r| r.strip_prefix('*')) else {
            continue;
        };
        let value = unquote(value.trim());
        let (number, extended) = match rest {
            "" => (0, true),
            n => match n.strip_suffix('*') {
                Some(n) => (n.parse().ok()?, true),
                None => (n.parse().ok()?, false),
            },
        };
        if segments.len() < MAX_SEGMENTS {
            segments.push((number, extended, value));
        }
    }
    if segments.is_empty() {
        return None;
    }
    segments.sort_by_key(|s| s.0);
    let mut charset = String::new();
    let mut bytes = Vec::new();
    for (number, extended, value) in &segments {
        let mut value = value.as_str();
        if *number == 0 && *extended {
            let mut fields = value.splitn(3, '\'');
            if let (Some(cs), Some(_lang), Some(v)) = (fields.next(), fields.next(), fields.next())
            {
                charset = cs.to_string();
                value = v;
            }
        }
        if *extended {
            bytes.extend(crate::encoding::percent_decode(value));
        } else {
            bytes.extend_from_slice(value.as_bytes());
        }
    }
    Some(decode(&charset, &bytes))
}

/// Splits a header value at `;` outside quotes.
fn split_params(text: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quoted = false;
    for c in text.chars() {
        match c {
            '"' => quoted = !quoted,
            ';' if !quoted => {
                out.push(String::new());
                continue;
            }
            '\r' | '\n' => continue,
            _ => {}
        }
        if let Some(last) = out.last_mut() {
            last.push(c);
        }
    }
    out
}

fn unquote(value: &str) -> String {
    value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value)
        .to_string()
}

/// Decodes with the named charset (WHATWG labels: `iso-8859-2`, `windows-1250`, `utf-8`, ...).
fn decode(charset: &str, bytes: &[u8]) -> String {
    match encoding_rs::Encoding::for_label(charset.trim().as_bytes()) {
        Some(encoding) => encoding.decode_without_bom_handling(bytes).0.into_owned(),
        None => String::from_utf8_lossy(bytes).into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_continuations_before_decoding_the_charset() {
        let raw =
            b" attachment;\r\n filename*0*=windows-1250''Wniosek%20; filename*1*=%9Cl%B9sk.pdf";
        assert_eq!(
            extended_parameter(raw, "filename").as_deref(),
            Some("Wniosek śląsk.pdf")
        );
    }

    #[test]
    fn reads_a_single_extended_value_and_plain_continuations() {
        let raw = b" attachment; filename*=iso-8859-2'pl'%B3%F3d%BC.txt";
        assert_eq!(
            extended_parameter(raw, "filename").as_deref(),
            Some("łódź.txt")
        );
        let raw = b" application/pdf; name*1=\"b.pdf\"; name*0=\"a\"";
        assert_eq!(extended_parameter(raw, "name").as_deref(), Some("ab.pdf"));
    }

    #[test]
    fn leaves_plain_parameters_to_the_caller() {
        assert_eq!(
            extended_parameter(b" attachment; filename=\"a.pdf\"", "filename"),
            None
        );
        assert_eq!(
            extended_parameter(b" text/plain; filename*=x", "name"),
            None
        );
    }

    #[test]
    fn survives_broken_percent_escapes() {
        let raw = b" attachment; filename*=utf-8''a%2%zz%";
        assert_eq!(
            extended_parameter(raw, "filename").as_deref(),
            Some("a%2%zz%")
        );
    }
}
