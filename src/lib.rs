//! Podawcza: the electronic intake office ("elektroniczna skrzynka podawcza") of a Polish city hall.
//!
//! The pipeline, as the modules show it: a channel ([`ingest`]: the IMAP mailbox, `.eml` files and
//! Maildir folders, web uploads, the JSON API) hands over raw bytes; [`storage`] writes them durably
//! (content-addressed, fsync) and commits the submission row with its registration number before the
//! channel is acknowledged. Workers ([`pipeline`]) then move each submission through durable states:
//! `received` → `unpacked` (MIME, ZIP, ASiC and forwarded mail turned into documents) → `verified`
//! (a [`signature`] report per document) → `classified` (plain or signed, the department chosen by
//! the rules of [`classify`]) → `dispatched` ([`dispatch`]: assigned, audited). A message that cannot
//! be understood goes to `quarantined` with its reason; nothing is ever dropped.
//!
//! Glossary: *podanie* (an application), *RPW* (the register of incoming items, whose number
//! identifies a submission), *dekretacja* (assigning an item to a department), *wydział* (a
//! department), *Biuro Podawcze* (the intake office, which triages what no rule claims).

pub mod app;
pub mod classify;
pub mod clock;
pub mod config;
pub mod digest;
pub mod dispatch;
pub mod encoding;
pub mod fixtures;
pub mod ingest;
pub mod model;
pub mod outbox;
pub mod pipeline;
pub mod receipt;
pub mod signature;
pub mod storage;
pub mod web;
