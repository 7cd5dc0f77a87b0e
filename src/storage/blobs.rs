//! The blob store: raw messages and documents on disk, content-addressed by SHA-256, written once.
//!
//! A blob lives at `<dir>/blobs/ab/cdef…` (the first byte of its hash names the shard). It is
//! written to a temporary file, fsynced, renamed into place, and its shard directory fsynced, all
//! before the database row that names it is committed (DESIGN.md, invariant 1). Existing blobs are
//! never rewritten; reading one checks nothing by default, [`BlobStore::get_verified`] re-hashes.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;

/// Errors of the blob store.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// An I/O error on a path.
    #[error("blob store i/o on {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// A key that is not a lowercase SHA-256 hex string.
    #[error("not a blob key: {0:?}")]
    BadKey(String),
    /// The stored bytes do not hash to their key.
    #[error("blob {key} is corrupt: its bytes hash to {actual}")]
    Corrupt {
        /// The key.
        key: String,
        /// What the bytes hash to.
        actual: String,
    },
}

/// SHA-256 of bytes, lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&openssl::sha::sha256(bytes))
}

/// Lowercase hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}

/// Where the blob `key` lives under `root`; the key must be a lowercase SHA-256 hex string, so no
/// path trick can come through it.
fn key_path(root: &Path, key: &str) -> Result<PathBuf, BlobError> {
    let ok = key.len() == 64
        && key
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !ok {
        return Err(BlobError::BadKey(key.to_string()));
    }
    let (shard, rest) = key.split_at(2);
    Ok(root.join(shard).join(rest))
}

/// Numbers the temporary files of every blob store of the process (two stores on the same
/// folder in one process must not pick the same temporary name).
static TEMP_NAMES: AtomicU64 = AtomicU64::new(0);

/// Bytes a streamed blob gathers before writing them.
const GATHER: usize = 256 * 1024;

/// Temporary files a store keeps for reuse at most.
const SPARE_FILES: usize = 8;

/// The content-addressed store.
#[derive(Debug)]
pub struct BlobStore {
    root: PathBuf,
    fsync: bool,
    /// Temporary files of streams whose bytes were stored already, kept to be written again:
    /// a file created only to be deleted costs the file system an inode each time (on ext4
    /// without a journal, every new inode then skips those deleted in the last minutes).
    spare: Spare,
}

/// The store's spare temporary files.
type Spare = std::sync::Arc<std::sync::Mutex<Vec<PathBuf>>>;

impl BlobStore {
    /// Opens (and creates) the store under `dir`.
    pub fn open(dir: &Path, fsync: bool) -> Result<BlobStore, BlobError> {
        let root = dir.join("blobs");
        for d in [root.clone(), root.join("tmp")] {
            fs::create_dir_all(&d).map_err(|source| BlobError::Io { path: d, source })?;
        }
        Ok(BlobStore {
            root,
            fsync,
            spare: Spare::default(),
        })
    }

    /// The path of a blob (the key is checked to be a SHA-256 hex string, so no path trick can
    /// come through it).
    pub fn path(&self, key: &str) -> Result<PathBuf, BlobError> {
        key_path(&self.root, key)
    }

    /// A new temporary file name under `tmp/`, unique in the process (`stem.pid.n`).
    fn temp_path(&self, stem: &str) -> PathBuf {
        let n = TEMP_NAMES.fetch_add(1, Ordering::Relaxed);
        self.root
            .join("tmp")
            .join(format!("{stem}.{}.{n}", std::process::id()))
    }

    /// Stores bytes durably and returns their key. Storing the same bytes twice is a no-op.
    pub fn put(&self, bytes: &[u8]) -> Result<String, BlobError> {
        let key = sha256_hex(bytes);
        self.put_with_key(&key, bytes)?;
        Ok(key)
    }

    /// Stores bytes whose SHA-256 the caller already computed.
    pub fn put_with_key(&self, key: &str, bytes: &[u8]) -> Result<(), BlobError> {
        let dest = self.path(key)?;
        if let Ok(meta) = fs::metadata(&dest) {
            if meta.len() == bytes.len() as u64 {
                return Ok(());
            }
        }
        let shard = dest.parent().unwrap_or(&self.root).to_path_buf();
        fs::create_dir_all(&shard).map_err(|source| BlobError::Io {
            path: shard.clone(),
            source,
        })?;
        let tmp = self.temp_path(key);
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| BlobError::Io { path, source }
        };
        let mut f = File::create(&tmp).map_err(io(&tmp))?;
        f.write_all(bytes).map_err(io(&tmp))?;
        if self.fsync {
            f.sync_all().map_err(io(&tmp))?;
        }
        drop(f);
        fs::rename(&tmp, &dest).map_err(io(&dest))?;
        if self.fsync {
            File::open(&shard)
                .and_then(|d| d.sync_all())
                .map_err(io(&shard))?;
        }
        Ok(())
    }

    /// Stores many blobs durably with one round of parallel fsyncs (group commit): every file is
    /// written, then all are fsynced at once from several threads (the file system joins them into
    /// few journal commits), renamed into place, and their directories fsynced. Returns when every
    /// blob is durable. `items` are `(key, bytes)` with keys the callers computed.
    pub fn put_many(&self, items: &[(&str, &[u8])]) -> Result<(), BlobError> {
        let mut pending: Vec<(PathBuf, PathBuf, File)> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (key, bytes) in items {
            let dest = self.path(key)?;
            if !seen.insert(dest.clone()) {
                continue;
            }
            if fs::metadata(&dest).is_ok_and(|m| m.len() == bytes.len() as u64) {
                continue;
            }
            let tmp = self.temp_path(key);
            let mut f = File::create(&tmp).map_err(|source| BlobError::Io {
                path: tmp.clone(),
                source,
            })?;
            f.write_all(bytes).map_err(|source| BlobError::Io {
                path: tmp.clone(),
                source,
            })?;
            pending.push((tmp, dest, f));
        }
        if self.fsync {
            let files: Vec<(&Path, &File)> =
                pending.iter().map(|(t, _, f)| (t.as_path(), f)).collect();
            parallel(&files, |(path, f)| {
                f.sync_all().map_err(|source| BlobError::Io {
                    path: path.to_path_buf(),
                    source,
                })
            })?;
        }
        let mut dirs = std::collections::BTreeSet::new();
        for (tmp, dest, f) in pending {
            drop(f);
            let shard = dest.parent().unwrap_or(&self.root).to_path_buf();
            if !shard.exists() {
                fs::create_dir_all(&shard).map_err(|source| BlobError::Io {
                    path: shard.clone(),
                    source,
                })?;
                dirs.insert(self.root.clone());
            }
            fs::rename(&tmp, &dest).map_err(|source| BlobError::Io {
                path: dest.clone(),
                source,
            })?;
            dirs.insert(shard);
        }
        if self.fsync {
            let dirs: Vec<PathBuf> = dirs.into_iter().collect();
            parallel(&dirs, |d| {
                File::open(d)
                    .and_then(|f| f.sync_all())
                    .map_err(|source| BlobError::Io {
                        path: d.clone(),
                        source,
                    })
            })?;
        }
        Ok(())
    }

    /// Reads a blob.
    pub fn get(&self, key: &str) -> Result<Vec<u8>, BlobError> {
        let path = self.path(key)?;
        let mut buf = Vec::new();
        File::open(&path)
            .and_then(|mut f| f.read_to_end(&mut buf))
            .map_err(|source| BlobError::Io { path, source })?;
        Ok(buf)
    }

    /// Reads a blob and checks that its bytes still hash to its key.
    pub fn get_verified(&self, key: &str) -> Result<Vec<u8>, BlobError> {
        let bytes = self.get(key)?;
        let actual = sha256_hex(&bytes);
        if actual != key {
            return Err(BlobError::Corrupt {
                key: key.to_string(),
                actual,
            });
        }
        Ok(bytes)
    }

    /// Whether a blob exists.
    pub fn contains(&self, key: &str) -> bool {
        self.path(key).map(|p| p.exists()).unwrap_or(false)
    }

    /// Starts a blob whose bytes arrive in pieces (an upload streamed from the network): they go
    /// to a temporary file while being hashed, and [`BlobWriter::finish`] makes the blob durable
    /// under its key. Nothing is kept in memory but the hash state.
    pub fn writer(&self) -> Result<BlobWriter, BlobError> {
        // A spare file is written over from its start, not emptied first: its blocks and cached
        // pages are used again (emptying frees them only for the stream to allocate them anew,
        // a third of the cost of writing it); `finish` cuts off what is left past the new end.
        let reused = self
            .spare
            .lock()
            .ok()
            .and_then(|mut spare| spare.pop())
            .and_then(|tmp| {
                let file = fs::OpenOptions::new().write(true).open(&tmp).ok()?;
                let len = file.metadata().ok()?.len();
                Some((tmp, file, len))
            });
        let (tmp, file, old_len) = match reused {
            Some(found) => found,
            None => {
                let tmp = self.temp_path("stream");
                let file = File::create(&tmp).map_err(|source| BlobError::Io {
                    path: tmp.clone(),
                    source,
                })?;
                (tmp, file, 0)
            }
        };
        Ok(BlobWriter {
            root: self.root.clone(),
            fsync: self.fsync,
            tmp: Some(tmp),
            file: Some(file),
            old_len,
            pending: Vec::new(),
            pending_len: 0,
            hasher: crate::digest::StreamHasher::new(),
            size: 0,
            spare: self.spare.clone(),
        })
    }
}

/// A blob being written piece by piece ([`BlobStore::writer`]). Dropped unfinished, its temporary
/// file is removed.
pub struct BlobWriter {
    root: PathBuf,
    fsync: bool,
    tmp: Option<PathBuf>,
    file: Option<File>,
    /// Length of the spare file written over (0 for a new one).
    old_len: u64,
    /// Pieces received and hashed, not yet written: the network hands a body over in pieces of
    /// a few to a few dozen KB; gathered to [`GATHER`] bytes they go in one `writev`, without
    /// being copied on the way.
    pending: Vec<Bytes>,
    pending_len: usize,
    hasher: crate::digest::StreamHasher,
    size: u64,
    spare: Spare,
}

impl std::fmt::Debug for BlobWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobWriter")
            .field("tmp", &self.tmp)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

impl BlobWriter {
    /// Appends bytes (copied; [`BlobWriter::write_bytes`] takes a piece the caller owns).
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), BlobError> {
        self.write_bytes(Bytes::copy_from_slice(bytes))
    }

    /// Appends a piece of the stream without copying it.
    pub fn write_bytes(&mut self, bytes: Bytes) -> Result<(), BlobError> {
        if self.file.is_none() {
            return Err(BlobError::Io {
                path: self.tmp.clone().unwrap_or_default(),
                source: io::Error::other("writer already finished"),
            });
        }
        self.hasher.update(&bytes);
        self.size += bytes.len() as u64;
        self.pending_len += bytes.len();
        self.pending.push(bytes);
        if self.pending_len >= GATHER {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes the gathered pieces.
    fn flush(&mut self) -> Result<(), BlobError> {
        let pieces = std::mem::take(&mut self.pending);
        self.pending_len = 0;
        let Some(file) = self.file.as_mut() else {
            return Ok(());
        };
        let mut slices: Vec<io::IoSlice<'_>> = pieces.iter().map(|p| io::IoSlice::new(p)).collect();
        let mut rest = slices.as_mut_slice();
        while !rest.is_empty() {
            match file.write_vectored(rest) {
                Ok(0) => {
                    return Err(BlobError::Io {
                        path: self.tmp.clone().unwrap_or_default(),
                        source: io::ErrorKind::WriteZero.into(),
                    })
                }
                Ok(n) => io::IoSlice::advance_slices(&mut rest, n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(source) => {
                    return Err(BlobError::Io {
                        path: self.tmp.clone().unwrap_or_default(),
                        source,
                    })
                }
            }
        }
        Ok(())
    }

    /// Bytes written so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Makes the blob durable (fsync, rename, fsync of its directory) and returns its key and
    /// size. When the same bytes are stored already, the copy is dropped.
    pub fn finish(self) -> Result<(String, u64), BlobError> {
        self.finish_with_prefixes()
            .map(|(key, size, _)| (key, size))
    }

    /// [`BlobWriter::finish`], also returning the hash states kept every
    /// [`crate::digest::STEP`] bytes (a verifier finishes the digest of a prefix from them).
    pub fn finish_with_prefixes(
        mut self,
    ) -> Result<(String, u64, crate::digest::Prefixes), BlobError> {
        let hasher = std::mem::take(&mut self.hasher);
        let (digest, prefixes) = hasher.finish();
        let key = hex(&digest);
        let dest = key_path(&self.root, &key)?;
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| BlobError::Io { path, source }
        };
        if fs::metadata(&dest).is_ok_and(|m| m.len() == self.size) {
            // Stored already: the pieces still gathered are not written, and the temporary
            // file is kept for the next stream.
            let tmp = self.tmp.take().unwrap_or_default();
            drop(self.file.take());
            let kept =
                self.spare.lock().ok().and_then(|mut spare| {
                    (spare.len() < SPARE_FILES).then(|| spare.push(tmp.clone()))
                });
            if kept.is_none() {
                let _ = fs::remove_file(&tmp);
            }
            return Ok((key, self.size, prefixes));
        }
        self.flush()?;
        // The temporary name stays with the writer until the rename: a failure before it drops
        // the writer, which removes the file.
        let tmp = self.tmp.clone().unwrap_or_default();
        if let Some(f) = self.file.take() {
            if self.old_len > self.size {
                f.set_len(self.size).map_err(io(&tmp))?;
            }
            if self.fsync {
                f.sync_all().map_err(io(&tmp))?;
            }
        }
        let shard = dest.parent().unwrap_or(&self.root).to_path_buf();
        fs::create_dir_all(&shard).map_err(io(&shard))?;
        fs::rename(&tmp, &dest).map_err(io(&dest))?;
        self.tmp = None;
        if self.fsync {
            File::open(&shard)
                .and_then(|d| d.sync_all())
                .map_err(io(&shard))?;
        }
        Ok((key, self.size, prefixes))
    }
}

impl Drop for BlobWriter {
    fn drop(&mut self) {
        self.file.take();
        if let Some(tmp) = self.tmp.take() {
            let _ = fs::remove_file(tmp);
        }
    }
}

/// Runs `f` over `items` on up to 16 threads; the first error wins.
fn parallel<T: Sync>(
    items: &[T],
    f: impl Fn(&T) -> Result<(), BlobError> + Sync,
) -> Result<(), BlobError> {
    if items.len() <= 1 {
        return items.iter().try_for_each(&f);
    }
    let chunk = items.len().div_ceil(16);
    std::thread::scope(|scope| {
        // The calling thread takes the first chunk itself: two files need one new thread.
        let mut chunks = items.chunks(chunk);
        let first = chunks.next().unwrap_or_default();
        let handles: Vec<_> = chunks
            .map(|c| scope.spawn(|| c.iter().try_for_each(&f)))
            .collect();
        let mine = first.iter().try_for_each(&f);
        let theirs = handles.into_iter().try_for_each(|h| {
            h.join().unwrap_or_else(|_| {
                Err(BlobError::Io {
                    path: PathBuf::new(),
                    source: io::Error::other("fsync thread panicked"),
                })
            })
        });
        mine.and(theirs)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_bytes_under_their_sha256_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path(), true).unwrap();
        let key = store.put(b"abc").unwrap();
        assert_eq!(
            key,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(store.put(b"abc").unwrap(), key);
        assert_eq!(store.get_verified(&key).unwrap(), b"abc");
        assert!(store
            .path(&key)
            .unwrap()
            .ends_with("ba/7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    }

    #[test]
    fn a_stream_of_bytes_stored_already_leaves_its_file_for_the_next_stream() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path(), true).unwrap();
        let tmp_files = || {
            std::fs::read_dir(dir.path().join("blobs/tmp"))
                .unwrap()
                .count()
        };
        let stream = |bytes: &[u8]| {
            let mut w = store.writer().unwrap();
            w.write(bytes).unwrap();
            w.finish().unwrap()
        };
        let (key, _) = stream(b"wniosek, wersja pierwsza");
        assert_eq!(tmp_files(), 0);
        // The same bytes again: stored already; the temporary file is kept, not deleted.
        assert_eq!(stream(b"wniosek, wersja pierwsza").0, key);
        assert_eq!(tmp_files(), 1);
        // The next, shorter stream writes over it (the rest cut off), and it becomes that blob.
        let (other, size) = stream(b"krotszy");
        assert_eq!(size, 7);
        assert_eq!(tmp_files(), 0);
        assert_eq!(store.get_verified(&other).unwrap(), b"krotszy");
        assert_eq!(
            store.get_verified(&key).unwrap(),
            b"wniosek, wersja pierwsza"
        );
    }

    #[test]
    fn streamed_blob_is_stored_under_its_hash_and_an_abandoned_one_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path(), true).unwrap();
        let mut w = store.writer().unwrap();
        w.write(b"ab").unwrap();
        w.write(b"c").unwrap();
        assert_eq!(w.size(), 3);
        let (key, size) = w.finish().unwrap();
        assert_eq!((key.as_str(), size), (sha256_hex(b"abc").as_str(), 3));
        assert_eq!(store.get_verified(&key).unwrap(), b"abc");
        // The same bytes again: the existing blob stays, the copy goes.
        let mut w = store.writer().unwrap();
        w.write(b"abc").unwrap();
        assert_eq!(w.finish().unwrap().0, key);
        let mut w = store.writer().unwrap();
        w.write(b"half an upload").unwrap();
        drop(w);
        let leftovers = std::fs::read_dir(dir.path().join("blobs/tmp"))
            .unwrap()
            .count();
        assert_eq!(leftovers, 0);
    }

    #[test]
    fn stores_a_batch_durably_and_skips_what_exists() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path(), true).unwrap();
        let bodies: Vec<Vec<u8>> = (0..40u8).map(|i| vec![i; 100 + usize::from(i)]).collect();
        let keys: Vec<String> = bodies.iter().map(|b| sha256_hex(b)).collect();
        let mut items: Vec<(&str, &[u8])> = keys
            .iter()
            .map(String::as_str)
            .zip(bodies.iter().map(Vec::as_slice))
            .collect();
        items.push(items[0]);
        store.put_many(&items).unwrap();
        store.put_many(&items).unwrap();
        for (k, b) in keys.iter().zip(&bodies) {
            assert_eq!(&store.get_verified(k).unwrap(), b);
        }
        assert_eq!(
            fs::read_dir(dir.path().join("blobs/tmp")).unwrap().count(),
            0,
            "no temporary file left"
        );
    }

    #[test]
    fn refuses_keys_that_are_not_hashes() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path(), false).unwrap();
        for bad in [
            "../etc/passwd",
            "",
            "AB7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        ] {
            assert!(matches!(store.path(bad), Err(BlobError::BadKey(_))));
        }
    }

    #[test]
    fn detects_a_blob_altered_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path(), false).unwrap();
        let key = store.put(b"original").unwrap();
        fs::write(store.path(&key).unwrap(), b"tampered").unwrap();
        assert!(matches!(
            store.get_verified(&key),
            Err(BlobError::Corrupt { .. })
        ));
    }
}
