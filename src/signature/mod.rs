//! Signatures: from a document's bytes to a [`report::Report`] (DESIGN.md, "two stages").
//!
//! [`inspect_with`] hands a document to the verifier of its format: XML signatures and ASiC with
//! XAdES ([`xml`]) are checked for integrity; formats whose verifier is not built yet (CMS, PAdES:
//! issue 4) are only *found* by [`detect`], and say so with `checked: false` — nothing here
//! pretends a signature was checked. Trust (indications other than the integrity verdicts, the
//! `kind`) comes from the validation stage ([`trust`], [`inspect_validated`]).

pub mod der;
pub mod detect;
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
    if bytes.len() <= detect::MAX_INPUT_BYTES {
        if let Some(mut report) = xml::verify(name, bytes, detached) {
            if report.signatures.is_empty() && report.error.is_none() {
                // A container whose only signatures are of a kind not verified yet (CAdES in
                // ASiC): keep them visible, unchecked.
                let found = detect::inspect(name, media_type, bytes);
                report.signatures = found.signatures;
                report.warnings.extend(found.warnings);
            }
            return report;
        }
    }
    detect::inspect(name, media_type, bytes)
}
