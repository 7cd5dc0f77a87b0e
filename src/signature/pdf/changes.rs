//! What later incremental updates changed after a signed revision (EN 319 142-1 §5.4, ISO
//! 32000-1 §12.8.2 DocMDP/FieldMDP), by comparing object definitions per revision instead of
//! rendering. Allowed: new signatures and document time-stamps, DSS/VRI and the streams they
//! hold, form filling (fields, widgets, new appearance streams, AcroForm), the catalog gaining
//! entries, metadata. Anything else — a new page, a non-widget annotation, a page whose content
//! or resources changed, a changed page tree, a replaced stream, a replaced signature
//! dictionary — is a modification: the signature stays intact but cannot pass.

use super::lexer::{text, Value};
use super::objects::{Document, Object};
use super::sigdict::FieldLock;

/// Annotation subtypes that are not form widgets (ISO 32000-1 §12.5.6.1, Table 169).
const MARKUP: &[&str] = &[
    "Text",
    "Link",
    "FreeText",
    "Line",
    "Square",
    "Circle",
    "Polygon",
    "PolyLine",
    "Highlight",
    "Underline",
    "Squiggly",
    "StrikeOut",
    "Stamp",
    "Caret",
    "Ink",
    "Popup",
    "FileAttachment",
    "Sound",
    "Movie",
    "Screen",
    "PrinterMark",
    "TrapNet",
    "Watermark",
    "3D",
    "Redact",
];

/// Page attributes that make what a reader sees (ISO 32000-1 §7.7.3.3, Table 30).
const PAGE_VISUALS: &[&str] = &["Contents", "Resources", "MediaBox", "CropBox", "Rotate"];

/// The outcome for one signed revision.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// Changes that are not allowed after signing.
    pub modifications: Vec<String>,
    /// Allowed changes worth knowing.
    pub notes: Vec<String>,
}

/// Compares every definition after `revision` with the one in force at `revision`.
/// `signature_object` is the object number of the signature's own dictionary.
/// DocMDP permissions of a certified document (ISO 32000-1 §12.8.2.2, Table 254): 1 no
/// changes, 2 form filling and signing (the default), 3 also annotations.
/// `lock` is the signature's own FieldMDP lock (§12.8.2.4): a later value of a locked field is
/// a modification even where DocMDP allows form filling.
pub fn after(
    doc: &Document,
    revision: usize,
    signature_object: u32,
    docmdp: i64,
    lock: Option<&FieldLock>,
) -> Changes {
    let mut out = Changes::default();
    let mut later = 0;
    for obj in doc.objects.iter().filter(|o| o.revision > revision) {
        later += 1;
        if is_type(&obj.value, "ObjStm") {
            let note = "a later revision holds an object stream whose objects were not compared"
                .to_string();
            if !out.notes.contains(&note) {
                out.notes.push(note);
            }
        }
        let earlier = doc.resolve(obj.num, revision);
        let verdict = match docmdp {
            1 => no_changes(obj, earlier),
            _ => None,
        };
        let verdict = verdict
            .or_else(|| lock.and_then(|l| locked_field_changed(doc, obj, earlier, l)))
            .or_else(|| judge(doc, obj, earlier, signature_object));
        let verdict = verdict.filter(|r| !(docmdp >= 3 && r.contains("annotation")));
        if let Some(reason) = verdict {
            if !out.modifications.contains(&reason) {
                out.modifications.push(reason);
            }
        }
    }
    if doc.unread_object_streams > 0 {
        out.notes.push(format!(
            "{} object streams could not be read: their objects were not compared",
            doc.unread_object_streams
        ));
    }
    if later > 0 && out.modifications.is_empty() {
        out.notes.push(format!(
            "{later} objects added or updated after signing: signatures, validation data or form filling only"
        ));
    }
    out
}

/// DocMDP P=1: after certification only validation data and document time-stamps may be
/// added (EN 319 142-1 §5.4; ISO 32000-2 §12.8.2.2): a new approval signature or a filled
/// field is a modification.
fn no_changes(obj: &Object, earlier: Option<&Object>) -> Option<String> {
    let v = &obj.value;
    let n = obj.num;
    let sig = if v.get("ByteRange").is_some() {
        Some(v)
    } else {
        v.get("V").filter(|x| x.get("ByteRange").is_some())
    };
    if let Some(sig) = sig {
        let stamp = sig.get("Type").is_some_and(|t| t.is_name("DocTimeStamp"))
            || sig.name_of("SubFilter") == Some(b"ETSI.RFC3161".as_slice());
        return (!stamp).then(|| format!("a signature (object {n}) was added to a document certified with no changes permitted"));
    }
    let before = earlier.map(|e| &e.value);
    let filled = v.get("FT").is_some() && !opt_same(v.get("V"), before.and_then(|b| b.get("V")));
    filled.then(|| {
        format!("form field {n} was filled in a document certified with no changes permitted")
    })
}

/// A form field the lock covers whose value (`/V`) is not the one it had when signed.
fn locked_field_changed(
    doc: &Document,
    obj: &Object,
    earlier: Option<&Object>,
    lock: &FieldLock,
) -> Option<String> {
    let v = &obj.value;
    v.get("T")?;
    let before = earlier.and_then(|e| e.value.get("V"));
    if opt_same(v.get("V"), before) {
        return None;
    }
    let name = qualified_name(doc, obj);
    lock.locks(&name).then(|| {
        format!(
            "form field {name:?} (object {}) locked by FieldMDP changed its value",
            obj.num
        )
    })
}

/// The fully qualified name of a field: the partial names `/T` of its ancestors joined with
/// dots (ISO 32000-1 §12.7.3.2), at most 32 levels.
fn qualified_name(doc: &Document, obj: &Object) -> String {
    let mut parts = Vec::new();
    let mut current = Some(&obj.value);
    for _ in 0..32 {
        let Some(v) = current else { break };
        if let Some(Value::Str(t, _, _)) = v.get("T") {
            parts.push(text(t));
        }
        current = match v.get("Parent") {
            Some(Value::Ref(n, _)) => doc.resolve(*n, obj.revision).map(|o| &o.value),
            _ => None,
        };
    }
    parts.reverse();
    parts.join(".")
}

fn judge(doc: &Document, obj: &Object, earlier: Option<&Object>, sig: u32) -> Option<String> {
    let v = &obj.value;
    let n = obj.num;
    if obj.num == sig && earlier.is_some() {
        return Some(format!(
            "the signature dictionary (object {n}) was replaced"
        ));
    }
    if v.get("ByteRange").is_some() || v.get("V").is_some_and(|x| x.get("ByteRange").is_some()) {
        return None;
    }
    let Some(earlier) = earlier else {
        return judge_new(v, n);
    };
    if same(v, &earlier.value) && !obj.stream {
        return None;
    }
    if obj.stream {
        return judge_stream(doc, obj);
    }
    if is_type(v, "Page") {
        return judge_page(doc, obj, &earlier.value);
    }
    if is_type(v, "Pages") {
        let same_tree = ["Kids", "Count"]
            .iter()
            .all(|k| opt_same(v.get(k), earlier.value.get(k)));
        return (!same_tree)
            .then(|| format!("the page tree (object {n}) changed: pages added or removed"));
    }
    if is_type(v, "Catalog") {
        let same_pages = opt_same(v.get("Pages"), earlier.value.get("Pages"));
        return (!same_pages).then(|| "the catalog points to another page tree".to_string());
    }
    if let Value::Array(items) = v {
        return judge_array(doc, obj, items, &earlier.value);
    }
    (!allowed_update(v)).then(|| {
        format!("object {n} was replaced (not a form field, signature or validation data)")
    })
}

/// Dictionaries that form filling and LTV updates rewrite (ISO 32000-1 §12.7 interactive
/// forms, §14.3.3 document information; EN 319 142-1 §5.5 DSS/VRI).
fn allowed_update(v: &Value) -> bool {
    const INFO: &[&str] = &[
        "Title",
        "Author",
        "Subject",
        "Keywords",
        "Creator",
        "Producer",
        "CreationDate",
        "ModDate",
        "Trapped",
    ];
    let Value::Dict(entries) = v else {
        return false;
    };
    let field = v.get("FT").is_some()
        || v.get("Fields").is_some()
        || v.name_of("Subtype") == Some(b"Widget".as_slice());
    let ltv = ["DSS", "VRI", "Sig", "DocTimeStamp"]
        .iter()
        .any(|t| is_type(v, t))
        || v.get("Certs").is_some()
        || v.get("OCSPs").is_some()
        || v.get("CRLs").is_some();
    let info = !entries.is_empty()
        && entries
            .iter()
            .all(|(k, _)| INFO.iter().any(|i| i.as_bytes() == k.as_slice()));
    let field_node = v.get("T").is_some() && (v.get("Parent").is_some() || v.get("Kids").is_some());
    field || ltv || info || field_node
}

/// An indirect array rewritten (DSS certificate lists, a page's /Annots): new members must not
/// be markup annotations.
fn judge_array(doc: &Document, obj: &Object, items: &[Value], before: &Value) -> Option<String> {
    let old = refs(Some(before));
    let added = items.iter().filter_map(|i| match i {
        Value::Ref(num, _) if !old.contains(num) => Some(*num),
        _ => None,
    });
    for num in added {
        if doc
            .resolve(num, obj.revision)
            .is_some_and(|t| is_markup(&t.value))
        {
            return Some(format!("an annotation (object {num}) was added"));
        }
    }
    None
}

/// A stream defined again: allowed for metadata and cross-reference/object streams, and for a
/// form XObject that only widgets use as their appearance (form filling, ISO 32000-1
/// §12.7.3.3); any other replaced stream can change what a page shows.
fn judge_stream(doc: &Document, obj: &Object) -> Option<String> {
    let v = &obj.value;
    let n = obj.num;
    if ["Metadata", "XRef", "ObjStm"].iter().any(|t| is_type(v, t)) {
        return None;
    }
    let users = referrers(doc, n, obj.revision);
    let only_appearance = !users.is_empty()
        && users.iter().all(|u| {
            u.value.name_of("Subtype") == Some(b"Widget".as_slice())
                && mentions(u.value.get("AP"), n)
                && u.value.get("AP").is_some()
                && strip(&u.value, "AP").is_none_or(|rest| !mentions(Some(&rest), n))
        });
    (!only_appearance)
        .then(|| format!("stream object {n} was replaced (content or appearance used elsewhere)"))
}

/// The objects in force at `revision` whose value refers to object `num`.
fn referrers(doc: &Document, num: u32, revision: usize) -> Vec<&Object> {
    doc.objects
        .iter()
        .filter(|o| o.revision <= revision && o.num != num && mentions(Some(&o.value), num))
        .filter(|o| {
            doc.resolve(o.num, revision)
                .is_some_and(|cur| std::ptr::eq(cur, *o))
        })
        .collect()
}

fn mentions(v: Option<&Value>, num: u32) -> bool {
    match v {
        Some(Value::Ref(n, _)) => *n == num,
        Some(Value::Array(items)) => items.iter().any(|i| mentions(Some(i), num)),
        Some(Value::Dict(entries)) => entries.iter().any(|(_, i)| mentions(Some(i), num)),
        _ => false,
    }
}

/// A dictionary without `key`.
fn strip(v: &Value, key: &str) -> Option<Value> {
    match v {
        Value::Dict(entries) => Some(Value::Dict(
            entries
                .iter()
                .filter(|(k, _)| k.as_slice() != key.as_bytes())
                .cloned()
                .collect(),
        )),
        _ => None,
    }
}

/// Equality of PDF values, ignoring where strings sit in the file and dictionary order.
pub fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Str(x, _, _), Value::Str(y, _, _)) => x == y,
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
        }
        (Value::Dict(x), Value::Dict(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, p)| y.iter().any(|(l, q)| k == l && same(p, q)))
        }
        (Value::Ref(n, _), Value::Ref(m, _)) => n == m,
        _ => a == b,
    }
}

fn opt_same(a: Option<&Value>, b: Option<&Value>) -> bool {
    match (a, b) {
        (Some(x), Some(y)) => same(x, y),
        (None, None) => true,
        _ => false,
    }
}

fn refs(x: Option<&Value>) -> Vec<u32> {
    match x {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|i| match i {
                Value::Ref(num, _) => Some(*num),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn judge_new(v: &Value, n: u32) -> Option<String> {
    if is_type(v, "Page") {
        return Some(format!("a page (object {n}) was added"));
    }
    is_markup(v).then(|| format!("an annotation (object {n}) was added"))
}

fn judge_page(doc: &Document, obj: &Object, before: &Value) -> Option<String> {
    let v = &obj.value;
    let n = obj.num;
    for key in PAGE_VISUALS {
        if opt_same(v.get(key), before.get(key)) {
            continue;
        }
        if *key == "Resources" && resources_only_grew(doc, obj, v.get(key), before.get(key)) {
            continue;
        }
        return Some(format!("page object {n} changed its /{key}"));
    }
    let old = annots(doc, before.get("Annots"), obj.revision.saturating_sub(1));
    for added in annots(doc, v.get("Annots"), obj.revision)
        .into_iter()
        .filter(|r| !old.contains(r))
    {
        let target = doc.resolve(added, obj.revision);
        if target.is_some_and(|t| is_markup(&t.value)) {
            return Some(format!(
                "an annotation (object {added}) was added to page {n}"
            ));
        }
    }
    None
}

/// A page's resources where every name kept its object and only new names were added (a
/// signature appearance may add an XObject); a name now bound to another object is a change.
fn resources_only_grew(
    doc: &Document,
    obj: &Object,
    now: Option<&Value>,
    before: Option<&Value>,
) -> bool {
    let deref = |v: Option<&Value>, rev: usize| -> Option<Value> {
        match v {
            Some(Value::Ref(num, _)) => doc.resolve(*num, rev).map(|o| o.value.clone()),
            Some(other) => Some(other.clone()),
            None => None,
        }
    };
    let (Some(Value::Dict(now)), Some(before)) = (
        deref(now, obj.revision),
        deref(before, obj.revision.saturating_sub(1)),
    ) else {
        return false;
    };
    now.iter().all(|(category, entries)| {
        let Some(old) = before.get(&String::from_utf8_lossy(category)) else {
            return true;
        };
        match (
            deref(Some(entries), obj.revision),
            deref(Some(old), obj.revision.saturating_sub(1)),
        ) {
            (Some(Value::Dict(new)), Some(Value::Dict(old))) => old
                .iter()
                .all(|(k, o)| new.iter().any(|(l, p)| k == l && same(o, p))),
            (Some(a), Some(b)) => same(&a, &b),
            _ => false,
        }
    })
}

/// The annotation references of a page, through an indirect `/Annots` array.
fn annots(doc: &Document, v: Option<&Value>, revision: usize) -> Vec<u32> {
    match v {
        Some(Value::Ref(num, _)) => refs(doc.resolve(*num, revision).map(|o| &o.value)),
        other => refs(other),
    }
}

fn is_type(v: &Value, t: &str) -> bool {
    v.get("Type").is_some_and(|x| x.is_name(t))
}

fn is_markup(v: &Value) -> bool {
    v.name_of("Subtype")
        .is_some_and(|s| MARKUP.iter().any(|m| m.as_bytes() == s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signature::pdf::objects::index;

    fn changes(update: &str) -> Changes {
        changes_under(update, 2)
    }

    fn changes_locked(update: &str, lock: &FieldLock) -> Changes {
        let mut pdf = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [7 0 R 8 0 R] >> >>\nendobj\n7 0 obj\n<< /T (osoba) /Kids [9 0 R] >>\nendobj\n9 0 obj\n<< /FT /Tx /T (imie) /Parent 7 0 R /V () >>\nendobj\n8 0 obj\n<< /FT /Tx /T (uwagi) /V () >>\nendobj\n6 0 obj\n<< /Type /Sig /ByteRange [0 1 2 3] /Contents <00> >>\nendobj\n%%EOF\n".to_vec();
        pdf.extend_from_slice(update.as_bytes());
        pdf.extend_from_slice(b"\n%%EOF\n");
        after(&index(&pdf), 0, 6, 2, Some(lock))
    }

    #[test]
    fn a_fieldmdp_lock_forbids_filling_the_fields_it_names_only() {
        let fill_name = "9 0 obj\n<< /FT /Tx /T (imie) /Parent 7 0 R /V (Jan) >>\nendobj";
        let fill_note = "8 0 obj\n<< /FT /Tx /T (uwagi) /V (pilne) >>\nendobj";
        let include = FieldLock::Include(vec!["osoba".into()]);
        let c = changes_locked(fill_name, &include);
        assert!(c.modifications[0].contains("\"osoba.imie\""), "{c:?}");
        assert!(changes_locked(fill_note, &include).modifications.is_empty());
        let exclude = FieldLock::Exclude(vec!["osoba.imie".into()]);
        assert!(changes_locked(fill_name, &exclude).modifications.is_empty());
        assert!(!changes_locked(fill_note, &exclude).modifications.is_empty());
        assert!(!changes_locked(fill_note, &FieldLock::All)
            .modifications
            .is_empty());
        // The same value written again is no change.
        let same = "8 0 obj\n<< /FT /Tx /T (uwagi) /V () >>\nendobj";
        assert!(changes_locked(same, &FieldLock::All)
            .modifications
            .is_empty());
    }

    fn changes_under(update: &str, docmdp: i64) -> Changes {
        let mut pdf = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n3 0 obj\n<< /Type /Page /Contents 4 0 R /Annots [5 0 R] >>\nendobj\n5 0 obj\n<< /Type /Annot /Subtype /Widget /FT /Sig /V 6 0 R >>\nendobj\n6 0 obj\n<< /Type /Sig /ByteRange [0 1 2 3] /Contents <00> >>\nendobj\n%%EOF\n".to_vec();
        pdf.extend_from_slice(update.as_bytes());
        pdf.extend_from_slice(b"\n%%EOF\n");
        after(&index(&pdf), 0, 6, docmdp, None)
    }

    #[test]
    fn allows_validation_data_and_new_signatures() {
        let c = changes("7 0 obj\n<< /Type /DSS >>\nendobj\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R /DSS 7 0 R >>\nendobj\n8 0 obj\n<< /Type /DocTimeStamp /ByteRange [0 1 2 3] /Contents <00> >>\nendobj");
        assert!(c.modifications.is_empty(), "{c:?}");
        assert_eq!(c.notes.len(), 1);
    }

    #[test]
    fn flags_new_content_annotations_and_pages() {
        let c = changes("3 0 obj\n<< /Type /Page /Contents 9 0 R /Annots [5 0 R] >>\nendobj");
        assert_eq!(c.modifications, vec!["page object 3 changed its /Contents"]);
        let c = changes("9 0 obj\n<< /Type /Annot /Subtype /FreeText >>\nendobj\n3 0 obj\n<< /Type /Page /Contents 4 0 R /Annots [5 0 R 9 0 R] >>\nendobj");
        assert!(c.modifications[0].contains("annotation"), "{c:?}");
        let c = changes("2 0 obj\n<< /Type /Pages /Kids [3 0 R 10 0 R] /Count 2 >>\nendobj");
        assert!(c.modifications[0].contains("page tree"), "{c:?}");
        let c = changes("6 0 obj\n<< /Type /Sig /ByteRange [0 1 2 3] /Contents <01> >>\nendobj");
        assert!(c.modifications[0].contains("signature dictionary"), "{c:?}");
    }

    #[test]
    fn a_certification_without_changes_forbids_new_signatures_but_not_time_stamps() {
        let sig = "8 0 obj\n<< /Type /Sig /ByteRange [0 1 2 3] /Contents <00> >>\nendobj";
        assert!(changes(sig).modifications.is_empty());
        assert!(changes_under(sig, 1).modifications[0].contains("certified"));
        let stamp =
            "8 0 obj\n<< /Type /DocTimeStamp /ByteRange [0 1 2 3] /Contents <00> >>\nendobj";
        assert!(changes_under(stamp, 1).modifications.is_empty());
        let note = "9 0 obj\n<< /Type /Annot /Subtype /Text >>\nendobj";
        assert!(!changes(note).modifications.is_empty());
        assert!(changes_under(note, 3).modifications.is_empty());
    }
}
