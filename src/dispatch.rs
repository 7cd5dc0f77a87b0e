//! Dispatch: the last pipeline step puts a classified submission into its department's inbox.
//!
//! The assignment itself (an `assignments` row and an audit event, committed with the state
//! change) is written by [`crate::storage::work::commit_step`]; re-assignment by clerks comes with
//! the inbox (issue 8) and notifications and receipts with the outbox (issue 6). This module holds
//! what decides *how* a submission is presented to its department.

use crate::config::RoutingConfig;

/// The full name of a department code, for people (falls back to the code itself).
pub fn department_name<'a>(routing: &'a RoutingConfig, code: &'a str) -> &'a str {
    routing
        .departments
        .iter()
        .find(|d| d.code == code)
        .map(|d| d.name.as_str())
        .unwrap_or(code)
}
