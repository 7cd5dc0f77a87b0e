//! Signatures: from a document's bytes to a [`report::Report`] (DESIGN.md, "two stages").
//!
//! Until the verifiers land (issues 3, 4, 5), [`detect`] only finds which documents *carry* a
//! signature structure and says so with `checked: false`; nothing here pretends a signature was
//! checked.

pub mod cms;
pub mod der;
pub mod detect;
pub mod pdf;
pub mod report;

pub use detect::inspect;
pub use report::Report;
