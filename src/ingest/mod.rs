//! Channels: from raw bytes to a registered submission. [`email`] registers a raw message (from
//! any mail channel), [`files`] walks `.eml` files and Maildir folders for `podawcza ingest`, and
//! [`mime`] takes a message apart once it is registered.

pub mod email;
pub mod files;
pub mod mailbox;
pub mod mime;
pub mod upload;

/// Errors of a channel.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// Reading the input.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The path.
        path: std::path::PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// Storing the blob.
    #[error(transparent)]
    Blob(#[from] crate::storage::blobs::BlobError),
    /// Committing the row.
    #[error(transparent)]
    Db(#[from] crate::storage::DbError),
    /// A blocking task died.
    #[error("background task failed: {0}")]
    Task(String),
}

/// A file name safe to create on any file system: letters (Polish included), digits, `.`, `-`
/// and `_` kept, everything else `_`, no leading dot, at most 100 characters. Used only behind a
/// generated prefix; a sender's name is never a path.
pub fn safe_file_name(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    while out.starts_with('.') {
        out.replace_range(0..1, "_");
    }
    if out.is_empty() {
        out.push_str("dokument");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::safe_file_name;

    #[test]
    fn file_names_from_senders_cannot_escape_the_folder() {
        assert_eq!(safe_file_name("../../etc/passwd"), "_._.._etc_passwd");
        assert_eq!(safe_file_name("wniosek o dowód.pdf"), "wniosek_o_dowód.pdf");
        assert_eq!(safe_file_name(".bashrc"), "_bashrc");
        assert_eq!(safe_file_name(""), "dokument");
        assert_eq!(safe_file_name("C:\\x\u{0}.pdf"), "C__x_.pdf");
    }
}
