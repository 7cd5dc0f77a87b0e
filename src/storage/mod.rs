//! Storage: the database (SQLite or PostgreSQL through one code path) and the blob store.

pub mod blobs;
