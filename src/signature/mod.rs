//! Signatures: from a document's bytes to a [`report::Report`] (DESIGN.md, "two stages").
//!
//! [`inspect_with`] hands a document to the verifier of its format: XML signatures and ASiC with
//! XAdES ([`xml`]); CAdES, PAdES and ASiC with CAdES ([`cms`], [`pdf`]). Each checks integrity and
//! reports it; whatever no verifier claims is only *found* by [`detect`] and says so with
//! `checked: false` — nothing here pretends a signature was checked. Trust (indications other than
//! the integrity verdicts, the `kind`) comes from the validation stage ([`trust`],
//! [`inspect_validated`]).

pub mod cms;
pub mod decoded;
pub mod der;
pub mod detect;
pub mod pdf;
pub mod report;
pub mod trust;
pub mod xml;

pub use report::Report;

/// Resolves a detached object by the name a signature gives for it (the other documents of the
/// same submission, or `--detached FILE`).
pub type Detached<'a> = &'a dyn Fn(&str) -> Option<Vec<u8>>;

/// Inspects one document without any detached objects.
pub fn inspect(name: &str, media_type: &str, bytes: &[u8]) -> Report {
    inspect_with(name, media_type, bytes, &|_| None)
}

/// Inspects one document and validates its signatures against `trust` at `at` (EN 319 102-1:
/// the validation time is a parameter, never the clock).
pub fn inspect_validated(
    name: &str,
    media_type: &str,
    bytes: &[u8],
    detached: Detached<'_>,
    trust: &trust::Trust,
    at: chrono::DateTime<chrono::Utc>,
) -> Report {
    let mut report = inspect_with(name, media_type, bytes, detached);
    trust::validate_report(&mut report, trust, at);
    report
}

/// Inspects one document: verifies what a verifier exists for, finds the rest. Never fails.
pub fn inspect_with(name: &str, media_type: &str, bytes: &[u8], detached: Detached<'_>) -> Report {
    inspect_stored(name, media_type, bytes, detached, None)
}

/// [`inspect_with`] for a document whose SHA-256 the caller already knows (lowercase hex: the
/// blob store's key, computed when its bytes were written): a PDF is then hashed only over its
/// signed ranges, not a second time whole for the report, and with the hash states kept while
/// it streamed in, only over the bytes after the state nearest each signature's hole.
pub fn inspect_stored(
    name: &str,
    media_type: &str,
    bytes: &[u8],
    detached: Detached<'_>,
    known: Option<crate::digest::Known<'_>>,
) -> Report {
    if bytes.len() > detect::MAX_INPUT_BYTES {
        return detect::inspect(name, media_type, bytes);
    }
    if let Some(mut report) = xml::verify(name, bytes, detached) {
        if (report.error.is_none() && report.signatures.iter().any(|s| !s.checked))
            || report.signatures.is_empty()
        {
            // An ASiC container may carry CAdES signatures (`META-INF/*.p7s`) beside or instead of
            // XAdES ones: the CMS verifier checks those.
            if let Some(cades) = cms::verify_cms_family_stored(name, bytes, detached, known) {
                merge_checked(&mut report, cades);
            }
        }
        if report.signatures.is_empty() && report.error.is_none() {
            let found = detect::inspect(name, media_type, bytes);
            report.signatures = found.signatures;
            report.warnings.extend(found.warnings);
        }
        return report;
    }
    if let Some(report) = cms::verify_cms_family_stored(name, bytes, detached, known) {
        return report;
    }
    detect::inspect(name, media_type, bytes)
}

/// Replaces the unchecked entries of `report` with the signatures another verifier checked, and
/// numbers them again in order.
fn merge_checked(report: &mut Report, other: Report) {
    report.signatures.retain(|s| s.checked);
    report.signatures.extend(other.signatures);
    report.warnings.extend(other.warnings);
    if report.error.is_none() {
        report.error = other.error;
    }
    for (i, s) in report.signatures.iter_mut().enumerate() {
        s.id = format!("S{}", i + 1);
    }
}
