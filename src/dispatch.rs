//! Dispatch (placeholder).
