//! ASiC-E and ASiC-S containers with XAdES (ETSI EN 319 162-1): the `mimetype` entry first and
//! stored (§A.1), XAdES signatures in `META-INF/*signatures*.xml` (§4.4.3) over the container's
//! files, the ODF `META-INF/manifest.xml` of ASiC-E (§A.1), and the container tricks that fool
//! readers: path traversal, absolute names, duplicate names, files no signature covers, ZIP
//! bombs. CAdES (`META-INF/signature*.p7s`) is listed but left to the CMS verifier (issue 4).
//!
//! Container problems are not owned by one signature: they are the report's `warnings`.

use super::verify::{evidence, signature_report};
use crate::signature::report::{Report, SignatureReport};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::io::Read;

/// Most entries accepted in a container.
pub const MAX_ENTRIES: usize = 10_000;
/// Largest uncompressed entry accepted, in bytes.
pub const MAX_ENTRY_BYTES: u64 = 64 * 1024 * 1024;
/// Largest uncompressed total accepted, in bytes.
pub const MAX_TOTAL_BYTES: u64 = 256 * 1024 * 1024;

const MIME_ASIC_E: &str = "application/vnd.etsi.asic-e+zip";
const MIME_ASIC_S: &str = "application/vnd.etsi.asic-s+zip";

/// A container read into memory, with what was wrong with its structure.
struct Container {
    entries: HashMap<String, Vec<u8>>,
    order: Vec<String>,
    mimetype: Option<String>,
    problems: Vec<String>,
}

/// Whether `bytes` look like an ASiC container (a ZIP whose first entry is `mimetype` naming an
/// ASiC type, or which holds `META-INF/` signatures).
pub fn is_asic(bytes: &[u8]) -> bool {
    if !bytes.starts_with(b"PK\x03\x04") {
        return false;
    }
    let Some(names) = central_directory_names(bytes) else {
        return false;
    };
    let mimetype = first_local_entry(bytes).is_some_and(|(name, _, data)| {
        name == "mimetype" && data.starts_with(b"application/vnd.etsi.asic-")
    });
    mimetype || names.iter().any(|n| n.starts_with("META-INF/"))
}

/// Verifies every XAdES signature of an ASiC container against the container's files.
pub fn verify_asic(name: &str, bytes: &[u8]) -> Report {
    let mut report = Report {
        file: name.to_string(),
        sha256: super::dsig::sha256_hex(bytes).unwrap_or_default(),
        container: "asic-e".to_string(),
        ..Report::default()
    };
    let container = match read_container(bytes) {
        Ok(c) => c,
        Err(e) => {
            report.error = Some(e);
            return report;
        }
    };
    let kind = container_kind(&container);
    report.container = kind.to_string();
    report.signatures = signatures(&container);
    let mut problems = container.problems.clone();
    problems.extend(mimetype_problems(name, container.mimetype.as_deref()));
    problems.extend(manifest_problems(&container));
    if kind == "asic-s" {
        problems.extend(asic_s_problems(&container));
    }
    let asic_like =
        container.mimetype.is_some() || container.order.iter().any(|n| n.starts_with("META-INF/"));
    if !report.signatures.is_empty() {
        problems.extend(coverage_problems(&container, &report.signatures));
    } else if !asic_like {
        // A plain ZIP is just an unsigned document.
        report.container = "zip".to_string();
    }
    report.warnings = problems;
    report
}

/// EN 319 162-1 §A.1: the mimetype names an ASiC type, and the one the extension promises.
fn mimetype_problems(name: &str, mimetype: Option<&str>) -> Vec<String> {
    let Some(m) = mimetype else {
        return Vec::new();
    };
    let lower = name.to_ascii_lowercase();
    let mut out = Vec::new();
    if m != MIME_ASIC_E && m != MIME_ASIC_S {
        out.push(format!("unknown mimetype {m:?}"));
    } else if (lower.ends_with(".asics") || lower.ends_with(".scs")) && m != MIME_ASIC_S {
        out.push(format!(
            "mimetype {m:?} does not match the ASiC-S file name"
        ));
    } else if (lower.ends_with(".asice") || lower.ends_with(".sce")) && m != MIME_ASIC_E {
        out.push(format!(
            "mimetype {m:?} does not match the ASiC-E file name"
        ));
    }
    out
}

/// EN 319 162-1 §4.3: an ASiC-S holds one data object, at the root, and one signature or
/// time-stamp file.
fn asic_s_problems(c: &Container) -> Vec<String> {
    let mut out = Vec::new();
    let files = data_files(c);
    if files.len() != 1 {
        out.push(format!(
            "an ASiC-S holds {} data files (one expected)",
            files.len()
        ));
    }
    for f in files.iter().filter(|f| f.contains('/')) {
        out.push(format!("the ASiC-S data object {f:?} is not at the root"));
    }
    // Several time-stamp files are legitimate (archive time-stamps over ASiCArchiveManifest);
    // several signature files are not.
    let signature_files = c
        .order
        .iter()
        .filter(|n| is_signature_file(n) || (n.starts_with("META-INF/") && n.ends_with(".p7s")))
        .count();
    if signature_files > 1 {
        out.push(format!(
            "an ASiC-S holds {signature_files} signature files (one expected)"
        ));
    }
    let timestamps = c
        .order
        .iter()
        .any(|n| n.starts_with("META-INF/") && n.ends_with(".tst"));
    if signature_files > 0 && timestamps {
        out.push(
            "an ASiC-S holds both a signature and a time-stamp token (one or the other)".into(),
        );
    }
    out
}

fn container_kind(c: &Container) -> &'static str {
    match c.mimetype.as_deref() {
        Some(MIME_ASIC_S) => "asic-s",
        Some(MIME_ASIC_E) => "asic-e",
        _ if data_files(c).len() == 1 && c.entries.contains_key("META-INF/signatures.xml") => {
            "asic-s"
        }
        _ => "asic-e",
    }
}

fn is_signature_file(name: &str) -> bool {
    name.starts_with("META-INF/")
        && name.contains("signatures")
        && name.to_ascii_lowercase().ends_with(".xml")
}

fn data_files(c: &Container) -> Vec<&String> {
    c.order
        .iter()
        .filter(|n| n.as_str() != "mimetype" && !n.starts_with("META-INF/") && !n.ends_with('/'))
        .collect()
}

/// EN 319 162-1 §4.4.3: every `META-INF/*signatures*.xml` holds XAdES signatures whose
/// references name the container's files.
fn signatures(c: &Container) -> Vec<SignatureReport> {
    let resolve = |name: &str| c.entries.get(name).cloned();
    let mut out = Vec::new();
    for file in c.order.iter() {
        if is_signature_file(file) {
            let bytes = c.entries.get(file).map(Vec::as_slice).unwrap_or_default();
            match evidence(file, bytes, &resolve) {
                Ok(list) => out.extend(list.iter().map(signature_report)),
                Err(e) => out.push(unreadable(file, &e.to_string())),
            }
        } else if file.starts_with("META-INF/") && file.ends_with(".p7s") {
            out.push(SignatureReport {
                format: "CAdES".to_string(),
                checked: false,
                kind: "unknown".to_string(),
                warnings: vec![format!(
                    "{file}: CAdES in ASiC is checked by the CMS verifier"
                )],
                ..SignatureReport::default()
            });
        }
    }
    for (i, s) in out.iter_mut().enumerate() {
        s.id = format!("S{}", i + 1);
    }
    out
}

fn unreadable(file: &str, reason: &str) -> SignatureReport {
    SignatureReport {
        format: "XAdES".to_string(),
        checked: true,
        intact: Some(false),
        indication: Some("TOTAL_FAILED".to_string()),
        sub_indication: Some("FORMAT_FAILURE".to_string()),
        kind: "unknown".to_string(),
        errors: vec![format!("{file}: {reason}")],
        ..SignatureReport::default()
    }
}

/// Files that no intact signature covers, and the ASiC-E manifest's disagreements with the
/// container (EN 319 162-1 §A.1).
fn coverage_problems(c: &Container, sigs: &[SignatureReport]) -> Vec<String> {
    let covered: HashSet<&str> = sigs
        .iter()
        .filter(|s| s.intact == Some(true))
        .flat_map(|s| s.signed_data.iter().map(|d| d.name.as_str()))
        .collect();
    let data = data_files(c);
    let mut out: Vec<String> = sigs
        .iter()
        .filter(|s| s.checked && s.signed_data.is_empty())
        .map(|s| format!("signature {} covers no file of the container", s.id))
        .collect();
    out.extend(
        data.iter()
            .filter(|f| !covered.contains(f.as_str()))
            .map(|f| format!("file {f:?} is not covered by any intact signature")),
    );
    out
}

/// The ODF manifest of an ASiC-E (EN 319 162-1 §A.1) against the container's files.
fn manifest_problems(c: &Container) -> Vec<String> {
    let Some(listed) = c
        .entries
        .get("META-INF/manifest.xml")
        .and_then(|m| manifest_paths(m))
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for f in data_files(c) {
        if !listed.contains(f.as_str()) {
            out.push(format!("file {f:?} is not listed in META-INF/manifest.xml"));
        }
    }
    for l in &listed {
        if !c.entries.contains_key(l.as_str()) {
            out.push(format!(
                "META-INF/manifest.xml lists {l:?}, which the container lacks"
            ));
        }
    }
    out
}

/// The `manifest:full-path` of every file entry of an ODF manifest, except the root `/`; sorted,
/// so the report's warnings come in a stable order (golden reports compare them).
fn manifest_paths(bytes: &[u8]) -> Option<BTreeSet<String>> {
    let text = super::parse::decode(bytes).ok()?;
    let doc = super::parse::parse(&text).ok()?;
    Some(
        doc.descendants()
            .filter(|n| n.tag_name().name() == "file-entry")
            .filter_map(|n| {
                n.attributes()
                    .find(|a| a.name() == "full-path")
                    .map(|a| a.value().to_string())
            })
            .filter(|p| p != "/" && (p.is_empty() || !p.ends_with('/')))
            .collect(),
    )
}

fn read_container(bytes: &[u8]) -> Result<Container, String> {
    let names = central_directory_names(bytes).ok_or("not a readable zip container")?;
    if names.len() > MAX_ENTRIES {
        return Err(format!("container has more than {MAX_ENTRIES} entries"));
    }
    let mut problems = name_problems(&names);
    let first = first_local_entry(bytes);
    let mimetype = match &first {
        Some((name, method, data)) if name == "mimetype" => {
            if *method != 0 {
                problems.push("the mimetype entry is compressed (must be stored)".into());
            }
            Some(String::from_utf8_lossy(data).trim().to_string())
        }
        // The mimetype entry is optional in ASiC (EN 319 162-1 §A.1), but when present it
        // comes first so that readers can sniff the type.
        _ if names.iter().any(|n| n == "mimetype") => {
            problems.push("the mimetype entry is not the first entry".into());
            None
        }
        _ if names.iter().any(|n| is_signature_file(n)) => {
            problems.push("no mimetype entry (EN 319 162-1 §A.1 expects it first)".into());
            None
        }
        _ => None,
    };
    let entries = read_entries(bytes)?;
    Ok(Container {
        entries,
        order: names,
        mimetype,
        problems,
    })
}

/// Path tricks in entry names: `..`, absolute names, backslashes, duplicates.
fn name_problems(names: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for n in names {
        let parts: Vec<&str> = n.trim_end_matches('/').split(['/', '\\']).collect();
        let traversal = parts.iter().any(|p| matches!(*p, ".." | "." | ""));
        let absolute = n.starts_with('/') || n.starts_with('\\') || n.get(1..2) == Some(":");
        if traversal || absolute || n.contains('\\') {
            out.push(format!("unsafe entry name {n:?}"));
        }
        if !seen.insert(n.as_str()) {
            out.push(format!("duplicate entry name {n:?}"));
        }
    }
    out
}

fn read_entries(bytes: &[u8]) -> Result<HashMap<String, Vec<u8>>, String> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| format!("unreadable zip container: {e}"))?;
    let mut entries = HashMap::new();
    let mut total: u64 = 0;
    for i in 0..zip.len() {
        let mut file = zip
            .by_index(i)
            .map_err(|e| format!("unreadable zip entry: {e}"))?;
        if file.is_dir() {
            continue;
        }
        let name = file.name().to_string();
        // The declared size is checked first (a bomb usually declares its size honestly);
        // the bounded read below catches one that lies.
        let declared = file.size();
        if declared > MAX_ENTRY_BYTES || total.saturating_add(declared) > MAX_TOTAL_BYTES {
            return Err(format!(
                "zip entry {name:?} declares {declared} bytes, beyond the limits ({MAX_ENTRY_BYTES} bytes per entry, {MAX_TOTAL_BYTES} in total)"
            ));
        }
        let mut data = Vec::new();
        let read = (&mut file)
            .take(MAX_ENTRY_BYTES + 1)
            .read_to_end(&mut data)
            .map_err(|e| format!("unreadable zip entry {name:?}: {e}"))?;
        let read = u64::try_from(read).unwrap_or(u64::MAX);
        total = total.saturating_add(read);
        if read > MAX_ENTRY_BYTES || total > MAX_TOTAL_BYTES {
            return Err(format!(
                "zip entry {name:?} expands beyond the limits ({MAX_ENTRY_BYTES} bytes per entry, {MAX_TOTAL_BYTES} in total)"
            ));
        }
        entries.insert(name, data);
    }
    Ok(entries)
}

fn u16_at(b: &[u8], at: usize) -> Option<usize> {
    let s = b.get(at..at + 2)?;
    Some(usize::from(u16::from_le_bytes([*s.first()?, *s.get(1)?])))
}

fn u32_at(b: &[u8], at: usize) -> Option<usize> {
    let s = b.get(at..at + 4)?;
    let v = u32::from_le_bytes([*s.first()?, *s.get(1)?, *s.get(2)?, *s.get(3)?]);
    usize::try_from(v).ok()
}

/// The first local file header (APPNOTE §4.3.7): name, compression method, stored data.
fn first_local_entry(b: &[u8]) -> Option<(String, usize, &[u8])> {
    if !b.starts_with(b"PK\x03\x04") {
        return None;
    }
    let method = u16_at(b, 8)?;
    let size = u32_at(b, 18)?;
    let name_len = u16_at(b, 26)?;
    let extra_len = u16_at(b, 28)?;
    let name = String::from_utf8_lossy(b.get(30..30 + name_len)?).into_owned();
    let start = 30 + name_len + extra_len;
    Some((name, method, b.get(start..start + size.min(256))?))
}

/// Entry names in central-directory order, duplicates kept (APPNOTE §4.3.12, §4.3.16). The zip
/// crate indexes entries by name and would hide a duplicate.
fn central_directory_names(b: &[u8]) -> Option<Vec<String>> {
    let eocd = b.len().checked_sub(22).and_then(|last| {
        (0..=last)
            .rev()
            .take(65_557)
            .find(|&i| b.get(i..i + 4) == Some(b"PK\x05\x06"))
    })?;
    let count = u16_at(b, eocd + 10)?;
    let mut at = u32_at(b, eocd + 16)?;
    let mut names = Vec::with_capacity(count.min(MAX_ENTRIES + 1));
    for _ in 0..count {
        if b.get(at..at + 4) != Some(b"PK\x01\x02") || names.len() > MAX_ENTRIES {
            break;
        }
        let name_len = u16_at(b, at + 28)?;
        let extra_len = u16_at(b, at + 30)?;
        let comment_len = u16_at(b, at + 32)?;
        names.push(String::from_utf8_lossy(b.get(at + 46..at + 46 + name_len)?).into_owned());
        at += 46 + name_len + extra_len + comment_len;
    }
    Some(names)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn zip_of(entries: &[(&str, &[u8], bool)]) -> Vec<u8> {
        let mut out = std::io::Cursor::new(Vec::new());
        let mut w = zip::ZipWriter::new(&mut out);
        for (name, data, stored) in entries {
            let method = if *stored {
                zip::CompressionMethod::Stored
            } else {
                zip::CompressionMethod::Deflated
            };
            let opts = zip::write::SimpleFileOptions::default().compression_method(method);
            w.start_file(*name, opts).unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap();
        out.into_inner()
    }

    #[test]
    fn flags_traversal_and_a_compressed_mimetype() {
        let bytes = signed_container(Some(("../evil.txt", b"x")));
        let report = verify_asic("a.asice", &bytes);
        let warnings = report.warnings.join("; ");
        assert!(
            warnings.contains("unsafe entry name \"../evil.txt\""),
            "{warnings}"
        );
        let bytes = zip_of(&[
            ("mimetype", MIME_ASIC_E.as_bytes(), false),
            ("../a", b"x", true),
        ]);
        let report = verify_asic("a.asice", &bytes);
        let warnings = report.warnings.join("; ");
        assert!(
            warnings.contains("unsafe") && warnings.contains("compressed"),
            "{warnings}"
        );
        let (_, method, _) = first_local_entry(&bytes).unwrap();
        assert_ne!(method, 0, "the test container's mimetype is compressed");
    }

    fn signed_container(extra: Option<(&str, &[u8])>) -> Vec<u8> {
        use crate::signature::xml::testkit::{self, Options};
        let pdf = b"%PDF-1.4 wniosek".to_vec();
        let opts = Options {
            detached: Some(("wniosek.pdf".into(), pdf.clone())),
            ..Options::default()
        };
        let sig = testkit::sign("", &testkit::signer("A", true), &opts);
        let mut entries: Vec<(&str, &[u8], bool)> = vec![
            ("mimetype", MIME_ASIC_E.as_bytes(), true),
            ("wniosek.pdf", &pdf, false),
            ("META-INF/signatures0.xml", sig.as_bytes(), false),
        ];
        if let Some((name, data)) = extra {
            entries.push((name, data, false));
        }
        zip_of(&entries)
    }

    #[test]
    fn verifies_an_asic_e_whose_signature_covers_its_file() {
        let bytes = signed_container(None);
        assert!(is_asic(&bytes));
        let report = verify_asic("wniosek.asice", &bytes);
        assert_eq!(report.container, "asic-e");
        assert_eq!(report.signatures.len(), 1, "{report:?}");
        let s = &report.signatures[0];
        assert_eq!(s.intact, Some(true), "{:?}", s.errors);
        assert_eq!(s.signed_data[0].name, "wniosek.pdf");
        assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    }

    #[test]
    fn reports_a_file_that_no_signature_covers() {
        let bytes = signed_container(Some(("dopisek.txt", b"added later")));
        let report = verify_asic("wniosek.asice", &bytes);
        let s = &report.signatures[0];
        assert_eq!(s.intact, Some(true));
        let expected = "file \"dopisek.txt\" is not covered by any intact signature";
        assert!(
            report.warnings.iter().any(|w| w == expected),
            "{:?}",
            report.warnings
        );
    }

    #[test]
    fn refuses_an_entry_that_expands_beyond_the_limit() {
        let big = vec![0u8; usize::try_from(MAX_ENTRY_BYTES).unwrap() + 1];
        let bytes = zip_of(&[
            ("mimetype", MIME_ASIC_E.as_bytes(), true),
            ("big.bin", &big, false),
        ]);
        let report = verify_asic("bomb.asice", &bytes);
        assert!(report.error.unwrap().contains("beyond the limits"));
    }
}
