//! Signature dictionaries (ISO 32000-1 §12.8.1 Table 252; EN 319 142-1 §5.3 for PAdES,
//! §5.4 document time-stamps): every dictionary with a `/ByteRange`, its `/Contents` span and
//! the claimed `/Reason`, `/Name`, `/M`, `/Location`; and the podpis zaufany identity that
//! the Polish trusted-profile seal writes into `/Reason`.

use super::lexer::{text, Value};
use super::objects::{Document, Object};
use crate::signature::report::Signer;

/// One signature dictionary as found.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SigDict {
    /// Object number of the dictionary (or of the field holding it directly).
    pub object: u32,
    /// Offset of that object.
    pub offset: usize,
    /// `/ByteRange` integers as written.
    pub byte_range: Vec<i64>,
    /// `/Contents` bytes (the DER CMS, zero-padded).
    pub contents: Vec<u8>,
    /// `/Contents` span in the file, delimiters included.
    pub contents_span: (usize, usize),
    /// `/SubFilter`.
    pub sub_filter: String,
    /// `/Type /DocTimeStamp`, or `/SubFilter /ETSI.RFC3161`.
    pub doc_timestamp: bool,
    /// `/Reason`.
    pub reason: Option<String>,
    /// `/Name`.
    pub name: Option<String>,
    /// `/M` as RFC 3339.
    pub time: Option<String>,
    /// `/Location`.
    pub location: Option<String>,
    /// DocMDP `/P` when this is a certification signature (ISO 32000-1 §12.8.2.2).
    pub docmdp: Option<i64>,
    /// The fields this signature locks (FieldMDP, ISO 32000-1 §12.8.2.4 and the signature
    /// field's `/Lock`, §12.7.4.5 Table 233).
    pub field_lock: Option<FieldLock>,
}

/// A FieldMDP lock: which form fields may not change after the signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldLock {
    /// `/Action /All`: every field.
    All,
    /// `/Action /Include`: the fields named (fully qualified names).
    Include(Vec<String>),
    /// `/Action /Exclude`: every field but the ones named.
    Exclude(Vec<String>),
}

impl FieldLock {
    /// Whether the field with the fully qualified name `name` is locked. A name locks its
    /// descendants too (`a` locks `a.b`).
    pub fn locks(&self, name: &str) -> bool {
        let listed = |names: &[String]| {
            names.iter().any(|n| {
                name == n
                    || name
                        .strip_prefix(n.as_str())
                        .is_some_and(|rest| rest.starts_with('.'))
            })
        };
        match self {
            FieldLock::All => true,
            FieldLock::Include(names) => listed(names),
            FieldLock::Exclude(names) => !listed(names),
        }
    }

    /// Reads `<< /Action /Include /Fields [(a) (b)] >>` (a TransformParams or a SigFieldLock).
    fn read(dict: &Value) -> Option<FieldLock> {
        let names = || match dict.get("Fields") {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|i| match i {
                    Value::Str(b, _, _) => Some(text(b)),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        match dict.name_of("Action")? {
            b"All" => Some(FieldLock::All),
            b"Include" => Some(FieldLock::Include(names())),
            b"Exclude" => Some(FieldLock::Exclude(names())),
            _ => None,
        }
    }
}

/// Most signatures read from one file.
pub const MAX_SIGNATURES: usize = 512;

/// Every signature dictionary of the document, once each, in file order. A dictionary
/// defined again in a later revision is kept in its first form (the one its ByteRange signs).
pub fn find(doc: &Document, encrypted: bool) -> Vec<SigDict> {
    let mut out: Vec<SigDict> = Vec::new();
    let locking: Vec<&Object> = doc
        .objects
        .iter()
        .filter(|o| o.value.get("Lock").is_some())
        .collect();
    // A signature's /Contents must lie in the file's bytes, never in a compressed stream.
    for obj in doc.objects.iter().filter(|o| !o.compressed) {
        let Some(dict) = signature_dict(&obj.value) else {
            continue;
        };
        let Some(mut sig) = read(dict, encrypted) else {
            continue;
        };
        sig.object = obj.num;
        sig.offset = obj.offset;
        if sig.field_lock.is_none() {
            sig.field_lock = field_lock_of(doc, &locking, obj.num, obj.revision);
        }
        // The same object defined again keeps its first form; another object claiming the
        // same ByteRange is another signature (a copied dictionary whose /Contents is not the
        // hole: DSS917 "INCSAVE_signed_EDITED"), checked on its own.
        if out
            .iter()
            .any(|s| s.object == sig.object && s.byte_range == sig.byte_range)
        {
            continue;
        }
        out.push(sig);
        if out.len() >= MAX_SIGNATURES {
            break;
        }
    }
    out
}

/// The dictionary itself, or a field/widget's direct `/V` value.
fn signature_dict(value: &Value) -> Option<&Value> {
    if value.get("ByteRange").is_some() {
        return Some(value);
    }
    value.get("V").filter(|v| v.get("ByteRange").is_some())
}

fn read(dict: &Value, encrypted: bool) -> Option<SigDict> {
    let Some(Value::Array(range)) = dict.get("ByteRange") else {
        return None;
    };
    let byte_range = range.iter().filter_map(Value::as_int).collect();
    let Some(Value::Str(contents, start, end)) = dict.get("Contents") else {
        return None;
    };
    let sub_filter = dict
        .name_of("SubFilter")
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .unwrap_or_default();
    // §7.6.1: the strings of an encrypted file are encrypted (except /Contents): not read.
    let string = |key: &str| match dict.get(key) {
        Some(Value::Str(b, _, _)) if !encrypted => Some(text(b)),
        _ => None,
    };
    Some(SigDict {
        byte_range,
        contents: contents.clone(),
        contents_span: (*start, *end),
        doc_timestamp: dict.get("Type").is_some_and(|t| t.is_name("DocTimeStamp"))
            || sub_filter == "ETSI.RFC3161",
        sub_filter,
        reason: string("Reason"),
        name: string("Name"),
        time: string("M").as_deref().and_then(pdf_date),
        location: string("Location"),
        docmdp: docmdp(dict),
        field_lock: reference(dict, "FieldMDP").and_then(FieldLock::read),
        ..SigDict::default()
    })
}

/// `/Reference [<< /TransformMethod /DocMDP /TransformParams << /P n >> >>]`; `P` defaults to 2.
fn docmdp(dict: &Value) -> Option<i64> {
    let params = reference(dict, "DocMDP")?;
    Some(params.get("P").and_then(Value::as_int).unwrap_or(2))
}

/// The `/TransformParams` of the signature reference with `/TransformMethod /<method>`
/// (an empty dictionary when it has none).
fn reference<'a>(dict: &'a Value, method: &str) -> Option<&'a Value> {
    static EMPTY: Value = Value::Dict(Vec::new());
    let Some(Value::Array(refs)) = dict.get("Reference") else {
        return None;
    };
    refs.iter()
        .find(|r| r.get("TransformMethod").is_some_and(|m| m.is_name(method)))
        .map(|r| r.get("TransformParams").unwrap_or(&EMPTY))
}

/// The `/Lock` of the signature field whose `/V` is object `sig` (a direct dictionary or a
/// reference resolved at `revision`).
fn field_lock_of(
    doc: &Document,
    fields: &[&Object],
    sig: u32,
    revision: usize,
) -> Option<FieldLock> {
    fields
        .iter()
        .filter(|o| o.revision <= revision)
        .filter(|o| matches!(o.value.get("V"), Some(Value::Ref(n, _)) if *n == sig))
        .find_map(|o| match o.value.get("Lock")? {
            Value::Ref(n, _) => FieldLock::read(&doc.resolve(*n, revision)?.value),
            direct => FieldLock::read(direct),
        })
}

/// A PDF date `D:YYYYMMDDHHmmSSOHH'mm'` (ISO 32000-1 §7.9.4) as RFC 3339 UTC.
pub fn pdf_date(s: &str) -> Option<String> {
    let s = s.strip_prefix("D:").unwrap_or(s);
    let num = |a: usize, b: usize| s.get(a..b).and_then(|t| t.parse::<u32>().ok());
    let year = i32::try_from(num(0, 4)?).ok()?;
    let date =
        chrono::NaiveDate::from_ymd_opt(year, num(4, 6).unwrap_or(1), num(6, 8).unwrap_or(1))?;
    let time = date.and_hms_opt(
        num(8, 10).unwrap_or(0),
        num(10, 12).unwrap_or(0),
        num(12, 14).unwrap_or(0),
    )?;
    let offset_minutes = match s.get(14..15) {
        Some(sign @ ("+" | "-")) => {
            let h = i64::from(num(15, 17).unwrap_or(0));
            let m = i64::from(num(18, 20).unwrap_or(0));
            let total = h * 60 + m;
            if sign == "+" {
                total
            } else {
                -total
            }
        }
        _ => 0,
    };
    let utc = time.and_utc() - chrono::Duration::minutes(offset_minutes);
    Some(utc.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

/// The citizen named in a podpis zaufany `/Reason`: "Opatrzono pieczęcią ministra ... w
/// imieniu: NAME, PESEL: 12345678901, PZ ID: ..." (VERIFY-NOTES "PDF specifics").
pub fn trusted_profile(reason: &str) -> Option<Signer> {
    let (_, rest) = reason.split_once("w imieniu:")?;
    let mut fields = rest.split(',').map(str::trim);
    let name = fields.next().filter(|n| !n.is_empty())?.to_string();
    let pesel = fields
        .find_map(|f| f.strip_prefix("PESEL:"))
        .map(|p| p.trim().to_string())
        .filter(|p| p.len() == 11 && p.bytes().all(|b| b.is_ascii_digit()));
    let (given, surname) = match name.rsplit_once(' ') {
        Some((g, s)) => (Some(g.to_string()), Some(s.to_string())),
        None => (None, None),
    };
    Some(Signer {
        name: Some(name),
        given_name: given,
        surname,
        pesel,
        ..Signer::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_pdf_dates_with_offsets() {
        assert_eq!(
            pdf_date("D:20200420121112+02'00'").as_deref(),
            Some("2020-04-20T10:11:12Z")
        );
        assert_eq!(
            pdf_date("D:20200420101112Z").as_deref(),
            Some("2020-04-20T10:11:12Z")
        );
        assert_eq!(pdf_date("D:2020").as_deref(), Some("2020-01-01T00:00:00Z"));
        assert_eq!(pdf_date("garbage"), None);
    }

    #[test]
    fn reads_the_citizen_from_a_trusted_profile_reason() {
        let reason = "Opatrzono pieczęcią ministra właściwego do spraw informatyzacji w imieniu: JAN MARIA KOWALSKI, PESEL: 44051401458, PZ ID: 1234567";
        let s = trusted_profile(reason).unwrap();
        assert_eq!(s.name.as_deref(), Some("JAN MARIA KOWALSKI"));
        assert_eq!(s.given_name.as_deref(), Some("JAN MARIA"));
        assert_eq!(s.surname.as_deref(), Some("KOWALSKI"));
        assert_eq!(s.pesel.as_deref(), Some("44051401458"));
        assert!(trusted_profile("Zatwierdzam").is_none());
    }
}
