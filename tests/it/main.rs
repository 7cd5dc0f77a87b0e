//! Integration tests: one binary, a module per capability. Each test gets its own database
//! (SQLite file, or a fresh PostgreSQL database when `PODAWCZA_TEST_DB=postgres`) and its own data
//! folder. `scripts/test.sh` runs this binary on both backends.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

mod browser;
mod browser_upload;
mod cli;
mod cms_corpus;
mod common;
mod crash;
mod detect;
mod inbox;
mod mailbox;
mod mime;
mod outbox;
mod pdf_golden;
mod pdf_pyhanko;
mod pipeline;
mod quarantine;
mod receipt;
mod register;
mod revocation;
mod trust;
mod upload;
mod xml_corpus;
mod xml_golden;
