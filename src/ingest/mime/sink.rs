//! Where documents are collected while a submission is taken apart: it names them, sniffs their
//! type, counts them against `max_documents`, keeps the ZIP budget of the whole submission and
//! hands ZIP archives to [`super::archive`].

use super::{archive, names, sniff, Extracted, Role, UnpackError};
use crate::config::LimitsConfig;

/// Documents and warnings of one submission, with its budgets.
pub struct Sink<'a> {
    /// The limits.
    pub limits: &'a LimitsConfig,
    /// Documents so far, in message order.
    pub documents: Vec<Extracted>,
    /// Warnings so far.
    pub warnings: Vec<String>,
    /// Bytes decompressed from archives so far.
    pub zip_total: u64,
}

impl<'a> Sink<'a> {
    /// An empty sink.
    pub fn new(limits: &'a LimitsConfig) -> Self {
        Sink {
            limits,
            documents: Vec::new(),
            warnings: Vec::new(),
            zip_total: 0,
        }
    }

    /// Adds a document; a ZIP archive is then unpacked after it (`zip_depth` archives enclose it).
    pub fn add(
        &mut self,
        name: Option<&str>,
        bytes: Vec<u8>,
        declared_type: Option<String>,
        container: &[String],
        role: Role,
        zip_depth: usize,
    ) -> Result<(), UnpackError> {
        if self.documents.len() >= self.limits.max_documents {
            return Err(UnpackError::TooManyDocuments {
                limit: self.limits.max_documents,
            });
        }
        let sniffed = sniff::sniff(&bytes, name.unwrap_or_default());
        // Bytes can show that a file is text, not which kind: a declared text subtype
        // (text/html, text/csv) refines it.
        let media_type = match declared_type.as_deref() {
            Some(declared) if sniffed == "text/plain" && declared.starts_with("text/") => declared,
            _ => sniffed,
        };
        let name = name.and_then(names::clean).unwrap_or_else(|| {
            let ext = sniff::extension_for(media_type);
            format!("part-{}.{ext}", self.documents.len() + 1)
        });
        self.documents.push(Extracted {
            name: name.clone(),
            media_type: media_type.to_string(),
            declared_type,
            bytes,
            container: container.to_vec(),
            role,
        });
        // Only plain ZIP archives are unpacked: Office documents (docx/xlsx/odt) are documents,
        // not folders, and an ASiC container is taken apart by the signature verifier, which
        // must see it whole (EN 319 162-1). `sniff` gives those their own types.
        if sniffed != sniff::ZIP {
            return Ok(());
        }
        let index = self.documents.len() - 1;
        let bytes = self
            .documents
            .get_mut(index)
            .map(|d| std::mem::take(&mut d.bytes))
            .unwrap_or_default();
        let mut path = container.to_vec();
        path.push(name);
        let result = archive::expand(self, &bytes, &path, zip_depth + 1);
        if let Some(doc) = self.documents.get_mut(index) {
            doc.bytes = bytes;
        }
        result
    }
}
