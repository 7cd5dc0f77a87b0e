//! Integration tests: one binary, a module per capability.

mod mime;
