//! The validation stage (DESIGN.md "Two stages"; issue 5): format-neutral evidence
//! ([`input::ValidationInput`]) + trust material ([`Trust`]) + a validation time → ETSI
//! EN 319 102-1 indications, the qualification (TS 119 615) and the `kind` of each signature.
//!
//! - [`input`]: what validation needs from any format, and the adapters (XAdES now; CAdES /
//!   PAdES: one more `From` impl);
//! - [`store`]: anchors, cached intermediates and CRLs, trusted lists, kind settings;
//! - [`path`], [`revocation`], [`ocsp`], [`crypto`], [`cert`]: RFC 5280 paths, CRLs, OCSP
//!   (RFC 6960), crypto constraints;
//! - [`online`], [`http`]: optional OCSP / CRL fetching and the revocation cache;
//! - [`tl`]: trusted lists (TS 119 612) with their signatures checked; [`update`]: fetching
//!   them (`podawcza trust update`);
//! - [`qualify`], [`kind`]: qualification and the Polish kinds;
//! - [`validate()`]: one signature; [`validate_report`]: every signature of a report;
//!   [`summary`]: a Polish sentence per signature.
//!
//! No clock is read here: the validation time is always a parameter.

pub mod cache;
pub mod cert;
pub mod chain;
pub mod crypto;
pub mod http;
pub mod indication;
pub mod input;
pub mod kind;
pub mod ocsp;
pub mod online;
pub mod path;
pub mod qualify;
pub mod revocation;
pub mod store;
pub mod summary;
pub mod tl;
pub mod update;
pub mod validate;

pub use input::ValidationInput;
pub use kind::Kind;
pub use store::{KindSettings, Trust, TrustError};
pub use validate::{validate, Validation};

use crate::signature::report::{Report, SignatureReport};
use chrono::{DateTime, Utc};

/// Writes a validation into a signature's report entry (DESIGN.md report contract): the
/// indication, sub-indication, kind, `certificate.qualified`, warnings, errors and the clerk's
/// sentence.
pub fn apply(v: &Validation, s: &mut SignatureReport) {
    s.indication = Some(v.indication.clone());
    s.sub_indication = v.sub_indication.clone();
    s.kind = v.kind.as_str().to_string();
    if let Some(c) = s.certificate.as_mut() {
        c.qualified = v.qualified;
    }
    s.warnings.extend(v.warnings.iter().cloned());
    s.errors.extend(v.errors.iter().cloned());
    let mut sentence = summary::sentence(v, s.signer.as_ref());
    // EN 319 102-1 signed scope: a valid signature over part of a file (an element, a
    // ds:Object, or wrapped content) must not read as approval of all the clerk sees.
    if v.passed() && !s.signed_data.iter().any(|d| d.whole_file) {
        sentence.push_str(" Uwaga: podpis nie obejmuje całego pliku — sprawdź, co podpisano.");
    }
    s.summary = Some(sentence);
}

/// Validates every checked signature of `report` that carries its validation input.
pub fn validate_report(report: &mut Report, trust: &Trust, at: DateTime<Utc>) {
    for s in &mut report.signatures {
        if let Some(input) = s.validation_input.take() {
            let (v, path) = validate::validate_with_path(&input, trust, at);
            // The path validation built; when it built none (the format's verdict stood, or no
            // path was found) the report's path is looked for as before.
            s.chain = if path.is_empty() {
                chain::of(&input, trust)
            } else {
                chain::summarise(&path)
            };
            apply(&v, s);
        }
    }
}
#[cfg(test)]
mod end_to_end_tests;
#[cfg(test)]
mod estonian_tests;
#[cfg(test)]
mod evidence_tests;
#[cfg(test)]
mod samples_tests;
#[cfg(test)]
mod validate_tests;
