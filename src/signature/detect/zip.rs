//! ZIP containers: ASiC-E and ASiC-S (EN 319 162-1) and plain ZIP. The `mimetype` entry names the
//! container; signatures are read from `META-INF/*signatures*.xml` (XAdES, every `ds:Signature`)
//! and `META-INF/*.p7s` (CAdES, every SignerInfo). Only those small entries are decompressed, each
//! bounded in size, so a zip bomb in a data entry is never expanded.

use super::{cms, xml, Found};
use crate::signature::report::SignatureReport;
use std::io::{Cursor, Read};

/// Most entries in one archive.
const MAX_ENTRIES: usize = 1000;
/// Largest signature entry decompressed, in bytes.
const MAX_SIGNATURE_BYTES: u64 = 20 * 1024 * 1024;
/// Compression ratio beyond which an entry is noted as a likely zip bomb.
const MAX_RATIO: u64 = 200;
/// Declared size beyond which an entry is noted as a likely zip bomb.
const MAX_DECLARED_BYTES: u64 = 256 * 1024 * 1024;
/// Largest `mimetype` entry read.
const MAX_MIMETYPE_BYTES: u64 = 256;

/// A META-INF entry worth reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Entry {
    XmlSignatures,
    Cms,
    TimeStamp,
}

/// Finds the signatures of a ZIP or ASiC container.
pub fn find(name: &str, bytes: &[u8]) -> Found {
    let mut archive = match zip::ZipArchive::new(Cursor::new(bytes)) {
        Ok(a) => a,
        Err(e) => return Found::failed("zip", format!("zip: {e}")),
    };
    if archive.len() > MAX_ENTRIES {
        let message = format!("zip: {} entries, limit {MAX_ENTRIES}", archive.len());
        return Found::failed("zip", message);
    }
    let mut found = Found::new("zip");
    note_bombs(&mut archive, &mut found.warnings);
    let mimetype = read_entry(
        &mut archive,
        "mimetype",
        MAX_MIMETYPE_BYTES,
        &mut found.warnings,
    );
    let mut meta_entries = 0;
    for index in 0..archive.len() {
        let Some((entry_name, kind)) = entry_kind(&archive, index) else {
            continue;
        };
        meta_entries += 1;
        let Some(data) = read_entry(
            &mut archive,
            &entry_name,
            MAX_SIGNATURE_BYTES,
            &mut found.warnings,
        ) else {
            continue;
        };
        add_entry(&mut found, &entry_name, kind, &data);
    }
    found.container = container(name, mimetype.as_deref(), meta_entries > 0, &mut found);
    found
}

/// Notes entries whose declared size or compression ratio is beyond the unpacker's defaults
/// (`[limits]` `zip_max_ratio`, `zip_max_total_bytes`). They are never expanded here.
fn note_bombs<R: Read + std::io::Seek>(
    archive: &mut zip::ZipArchive<R>,
    warnings: &mut Vec<String>,
) {
    for index in 0..archive.len() {
        let Ok(file) = archive.by_index_raw(index) else {
            continue;
        };
        let (size, packed) = (file.size(), file.compressed_size().max(1));
        if size > MAX_DECLARED_BYTES || size / packed > MAX_RATIO {
            warnings.push(format!(
                "{}: declares {size} bytes from {packed} (ratio {}): a likely zip bomb, not expanded",
                file.name(),
                size / packed
            ));
        }
    }
}

/// `asic-e`/`asic-s` from the `mimetype` entry, else from the extension when META-INF holds
/// signature or time-stamp entries.
fn container(
    name: &str,
    mimetype: Option<&[u8]>,
    signature_entries: bool,
    found: &mut Found,
) -> &'static str {
    let mimetype = mimetype.map(|m| String::from_utf8_lossy(m).trim().to_ascii_lowercase());
    match mimetype.as_deref() {
        Some("application/vnd.etsi.asic-e+zip") => return "asic-e",
        Some("application/vnd.etsi.asic-s+zip") => return "asic-s",
        Some(_) => return "zip",
        None => {}
    }
    if !signature_entries {
        return "zip";
    }
    found
        .warnings
        .push("no mimetype entry: ASiC type taken from the file name".into());
    match super::extension(name).as_str() {
        "asics" | "scs" => "asic-s",
        _ => "asic-e",
    }
}

/// The name of entry `index` and what it holds, when it is a META-INF signature file.
fn entry_kind<R: Read + std::io::Seek>(
    archive: &zip::ZipArchive<R>,
    index: usize,
) -> Option<(String, Entry)> {
    let name = archive.name_for_index(index)?.to_string();
    let lower = name.to_ascii_lowercase();
    let base = lower.strip_prefix("meta-inf/")?;
    if base.contains('/') {
        return None;
    }
    let kind = if base.contains("signature") && base.ends_with(".xml") {
        Entry::XmlSignatures
    } else if base.ends_with(".p7s") {
        Entry::Cms
    } else if base.ends_with(".tst") {
        Entry::TimeStamp
    } else {
        return None;
    };
    Some((name, kind))
}

/// Reads one entry by name, at most `limit` bytes; notes why when it cannot.
fn read_entry<R: Read + std::io::Seek>(
    archive: &mut zip::ZipArchive<R>,
    name: &str,
    limit: u64,
    warnings: &mut Vec<String>,
) -> Option<Vec<u8>> {
    let index = archive.index_for_name(name)?;
    let file = match archive.by_index(index) {
        Ok(f) => f,
        Err(e) => {
            warnings.push(format!("{name}: cannot read: {e}"));
            return None;
        }
    };
    if file.size() > limit {
        warnings.push(format!(
            "{name}: {} bytes, limit {limit}: not read",
            file.size()
        ));
        return None;
    }
    let mut data = Vec::new();
    match file.take(limit + 1).read_to_end(&mut data) {
        Ok(_) if data.len() as u64 <= limit => Some(data),
        Ok(_) => {
            warnings.push(format!("{name}: expands beyond {limit} bytes: not read"));
            None
        }
        Err(e) => {
            warnings.push(format!("{name}: cannot read: {e}"));
            None
        }
    }
}

fn add_entry(found: &mut Found, entry: &str, kind: Entry, data: &[u8]) {
    let signatures: Vec<SignatureReport> = match kind {
        Entry::XmlSignatures => match xml::signatures(data) {
            Ok((signatures, notes)) => {
                found
                    .warnings
                    .extend(notes.into_iter().map(|n| format!("{entry}: {n}")));
                signatures
            }
            Err(e) => {
                found.warnings.push(format!("{entry}: {e}"));
                Vec::new()
            }
        },
        Entry::Cms | Entry::TimeStamp => match cms::content_info(data) {
            Ok(Some(summary)) => {
                let inner = cms::from_summary("CAdES", &summary);
                found
                    .warnings
                    .extend(inner.warnings.into_iter().map(|n| format!("{entry}: {n}")));
                inner.signatures
            }
            Ok(None) => Vec::new(),
            Err(e) => {
                found.warnings.push(format!("{entry}: cms: {e}"));
                Vec::new()
            }
        },
    };
    for mut signature in signatures {
        signature
            .warnings
            .push(format!("in container entry {entry}"));
        found.signatures.push(signature);
    }
}
