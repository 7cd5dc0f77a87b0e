//! Channels: from raw bytes to a registered submission.

pub mod mime;
