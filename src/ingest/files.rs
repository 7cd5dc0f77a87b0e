//! `podawcza ingest FILE|DIR...`: `.eml` files, folders of them, and Maildir folders.
//!
//! A Maildir (a folder with `cur/`, `new/` or `tmp/`) gives each message's delivery time in its
//! file name (`1587377472.M5P7.host,S=1234:2,S`): that is the channel's arrival time. For loose
//! `.eml` files the topmost `Received:` header decides (see [`super::email::arrival`]).

use super::email::{register_mails, RawMail};
use super::IngestError;
use crate::app::App;
use crate::model::ArrivalSource;
use crate::storage::register::Registered;
use chrono::{DateTime, Utc};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What one `ingest` run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IngestSummary {
    /// Newly registered.
    pub registered: usize,
    /// Already registered before (same Message-ID and SHA-256).
    pub duplicates: usize,
}

/// Expands the arguments into message files: files as given, folders walked (Maildir `cur/` and
/// `new/`; otherwise every `*.eml` below), sorted for a stable order.
pub fn collect(paths: &[PathBuf]) -> Result<Vec<PathBuf>, IngestError> {
    let mut out = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|source| IngestError::Read {
            path: p.clone(),
            source,
        })?;
        if meta.is_file() {
            out.push(p.clone());
        } else if is_maildir(p) {
            for sub in ["new", "cur"] {
                let d = p.join(sub);
                if d.is_dir() {
                    out.extend(list_files(&d, &|_| true)?);
                }
            }
        } else {
            out.extend(walk(p)?);
        }
    }
    Ok(out)
}

fn is_maildir(p: &Path) -> bool {
    ["cur", "new", "tmp"].iter().any(|s| p.join(s).is_dir())
}

fn walk(dir: &Path) -> Result<Vec<PathBuf>, IngestError> {
    let mut out = list_files(dir, &|p| {
        p.extension().is_some_and(|e| e.eq_ignore_ascii_case("eml"))
    })?;
    let entries = std::fs::read_dir(dir).map_err(|source| IngestError::Read {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut subdirs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    subdirs.sort();
    for d in subdirs {
        if is_maildir(&d) {
            out.extend(collect(&[d])?);
        } else {
            out.extend(walk(&d)?);
        }
    }
    Ok(out)
}

fn list_files(dir: &Path, keep: &dyn Fn(&Path) -> bool) -> Result<Vec<PathBuf>, IngestError> {
    let entries = std::fs::read_dir(dir).map_err(|source| IngestError::Read {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file() && keep(p))
        .collect();
    files.sort();
    Ok(files)
}

/// The delivery time in a Maildir file name, when the file sits in a Maildir's `cur/` or `new/`.
pub fn maildir_time(path: &Path) -> Option<DateTime<Utc>> {
    let parent = path.parent()?.file_name()?.to_str()?;
    if parent != "cur" && parent != "new" {
        return None;
    }
    let name = path.file_name()?.to_str()?;
    let secs: i64 = name.split('.').next()?.parse().ok()?;
    DateTime::from_timestamp(secs, 0)
}

/// Registers the given files in batches of `batch` messages (one durable commit per batch).
pub async fn ingest_files(
    app: &Arc<App>,
    files: &[PathBuf],
    batch: usize,
    now: impl Fn() -> DateTime<Utc>,
) -> Result<IngestSummary, IngestError> {
    let mut summary = IngestSummary::default();
    for chunk in files.chunks(batch.max(1)) {
        let mut mails = Vec::with_capacity(chunk.len());
        for path in chunk {
            let bytes = tokio::fs::read(path)
                .await
                .map_err(|source| IngestError::Read {
                    path: path.clone(),
                    source,
                })?;
            let channel_time = maildir_time(path).map(|t| (t, ArrivalSource::MaildirName));
            mails.push(RawMail {
                bytes,
                channel_time,
                source: Some(format!("file:{}", path.display())),
            });
        }
        for r in register_mails(app, mails, "system:ingest", now()).await? {
            match r {
                Registered::New { .. } => summary.registered += 1,
                Registered::Duplicate { .. } => summary.duplicates += 1,
            }
        }
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_delivery_time_from_a_maildir_name() {
        let p = Path::new("/m/new/1587377472.M5P7.host,S=1234:2,S");
        assert_eq!(maildir_time(p).map(|t| t.timestamp()), Some(1_587_377_472));
        assert_eq!(
            maildir_time(Path::new("/m/other/1587377472.M5P7.host")),
            None
        );
        assert_eq!(maildir_time(Path::new("/m/new/notatime")), None);
    }

    #[test]
    fn collects_maildir_messages_and_eml_files_in_a_stable_order() {
        let dir = tempfile::tempdir().unwrap();
        let md = dir.path().join("box");
        for sub in ["cur", "new", "tmp"] {
            std::fs::create_dir_all(md.join(sub)).unwrap();
        }
        std::fs::write(md.join("new/2.x"), "a").unwrap();
        std::fs::write(md.join("cur/1.x:2,S"), "b").unwrap();
        std::fs::write(md.join("tmp/3.x"), "c").unwrap();
        std::fs::write(dir.path().join("b.eml"), "d").unwrap();
        std::fs::write(dir.path().join("notes.txt"), "e").unwrap();
        let got = collect(&[dir.path().to_path_buf()]).unwrap();
        let names: Vec<String> = got
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["b.eml", "2.x", "1.x:2,S"]);
    }
}
