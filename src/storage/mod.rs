//! Storage: the database (embedded SQLite or PostgreSQL through one code path, see [`db`]) and the
//! content-addressed blob store ([`blobs`]). Plain async functions grouped by what they keep:
//! [`register`] (new submissions and their numbers), [`work`] (claiming rows and moving them through
//! the pipeline), [`queries`] (reading the register), [`audit`] (the append-only trail).

pub mod accounts;
pub mod audit;
pub mod blobs;
pub mod db;
pub mod inbox;
pub mod intake;
pub mod public;
pub mod queries;
pub mod register;
pub mod work;

pub use blobs::BlobStore;
pub use db::{Backend, Db, DbError};
