//! ZIP archives: each entry becomes a document (role `Entry`), within the limits of the submission.
//! Sizes written in the archive are never trusted: every entry is read through a `take()` limit,
//! so a ZIP bomb costs at most the budget it is allowed. A corrupt or encrypted archive or entry
//! is a warning (the archive itself stays a document); a bomb is an error naming the archive.

use super::sink::Sink;
use super::{cp852, names, Role, UnpackError};
use std::io::{Cursor, Read};

/// Below this many decompressed bytes the ratio is not checked: a small text file of spaces
/// compresses 500:1 without being a bomb.
const RATIO_FLOOR: u64 = 1024 * 1024;

/// Unpacks the ZIP `bytes`, whose path of archive names (outermost first, the last being this
/// archive) is `path`, enclosed in `level - 1` other archives.
pub fn expand(
    sink: &mut Sink<'_>,
    bytes: &[u8],
    path: &[String],
    level: usize,
) -> Result<(), UnpackError> {
    let limits = sink.limits;
    let display = archive_name(path);
    if level > limits.zip_max_depth {
        return Err(bomb(
            &display,
            format!("archives nested deeper than {}", limits.zip_max_depth),
        ));
    }
    let mut archive = match zip::ZipArchive::new(Cursor::new(bytes)) {
        Ok(archive) => archive,
        Err(e) => {
            sink.warnings.push(format!(
                "archive {display} could not be opened ({e}); kept whole"
            ));
            return Ok(());
        }
    };
    if archive.len() > limits.zip_max_entries {
        return Err(bomb(
            &display,
            format!(
                "{} entries, limit {}",
                archive.len(),
                limits.zip_max_entries
            ),
        ));
    }
    for index in 0..archive.len() {
        let entry = match read_entry(sink, &mut archive, index, &display)? {
            Some(entry) => entry,
            None => continue,
        };
        sink.add(
            Some(names::entry_file_name(&entry.0)),
            entry.1,
            None,
            path,
            Role::Entry,
            level,
        )?;
    }
    Ok(())
}

/// Reads entry `index`: its decoded name and bytes, `None` for a directory or an entry that
/// cannot be read (with a warning).
fn read_entry(
    sink: &mut Sink<'_>,
    archive: &mut zip::ZipArchive<Cursor<&[u8]>>,
    index: usize,
    display: &str,
) -> Result<Option<(String, Vec<u8>)>, UnpackError> {
    let limits = sink.limits;
    let mut file = match archive.by_index(index) {
        Ok(file) => file,
        Err(e) => {
            sink.warnings.push(format!(
                "entry {} of archive {display} could not be read ({e}); skipped",
                index + 1
            ));
            return Ok(None);
        }
    };
    let name = entry_name(file.name_raw());
    if file.is_dir() {
        return Ok(None);
    }
    let remaining = limits.zip_max_total_bytes.saturating_sub(sink.zip_total);
    let by_ratio = file
        .compressed_size()
        .saturating_mul(limits.zip_max_ratio)
        .max(RATIO_FLOOR);
    let allowed = remaining.min(by_ratio);
    let mut bytes = Vec::new();
    let read = (&mut file)
        .take(allowed.saturating_add(1))
        .read_to_end(&mut bytes);
    let got = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    if got > allowed {
        let reason = if allowed == remaining {
            format!(
                "entry {name} takes the decompressed total over the limit of {} bytes",
                limits.zip_max_total_bytes
            )
        } else {
            format!(
                "entry {name} expands more than {}:1 ({} bytes compressed)",
                limits.zip_max_ratio,
                file.compressed_size()
            )
        };
        return Err(bomb(display, reason));
    }
    if let Err(e) = read {
        sink.warnings.push(format!(
            "entry {name} of archive {display} is corrupt ({e}); skipped"
        ));
        return Ok(None);
    }
    sink.zip_total = sink.zip_total.saturating_add(got);
    Ok(Some((name, bytes)))
}

/// An entry name: UTF-8 when it is valid UTF-8 (always so when general purpose bit 11 is set,
/// APPNOTE 4.4.4), else CP852, the code page of Polish DOS and Windows archivers (APPNOTE says
/// CP437, but Polish files come from Polish tools).
fn entry_name(raw: &[u8]) -> String {
    match std::str::from_utf8(raw) {
        Ok(name) => name.to_string(),
        Err(_) => cp852::decode(raw),
    }
}

fn archive_name(path: &[String]) -> String {
    let archives: Vec<&str> = path
        .iter()
        .filter(|c| !c.starts_with("message/"))
        .map(String::as_str)
        .collect();
    archives.join("/")
}

fn bomb(name: &str, reason: String) -> UnpackError {
    UnpackError::Archive {
        name: name.to_string(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_utf8_names_and_falls_back_to_cp852() {
        assert_eq!(
            entry_name("zaświadczenie.pdf".as_bytes()),
            "zaświadczenie.pdf"
        );
        assert_eq!(entry_name(b"za\x98wiadczenie.pdf"), "zaświadczenie.pdf");
    }

    #[test]
    fn names_an_archive_by_its_archive_path_only() {
        let path = vec![
            "message/rfc822 \"Fwd\"".to_string(),
            "a.zip".to_string(),
            "b.zip".to_string(),
        ];
        assert_eq!(archive_name(&path), "a.zip/b.zip");
    }
}
