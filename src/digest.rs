//! SHA-256 of a stream that also keeps the hash state at fixed offsets, so the digest of any
//! prefix of the stream can be finished later without reading that prefix again.
//!
//! A PDF signature covers the file minus its `/Contents` hole: `[0, a)` and `[b, end)`. The first
//! range is a prefix of the file. An upload is hashed as it streams in (its SHA-256 is its blob
//! key); with the states kept every [`STEP`] bytes, the verifier starts the signed ranges' digest
//! from the state at or before `a` and hashes at most [`STEP`] bytes of the prefix plus the short
//! range after the hole, instead of the whole file a second time.

use openssl::sha::Sha256;

/// Bytes between two kept states.
pub const STEP: usize = 64 * 1024;

/// States kept at most (4 MiB of states for a 4 GiB stream would be silly: past this many
/// steps — 256 MiB — later offsets simply are not kept, and a verifier hashes from the last one).
const MAX_STATES: usize = 4096;

/// The SHA-256 states of a stream after every [`STEP`] bytes.
#[derive(Clone, Default)]
pub struct Prefixes {
    /// `states[i]` has hashed the first `(i + 1) * STEP` bytes.
    states: Vec<Sha256>,
    /// Bytes of the stream these states belong to.
    len: usize,
}

impl std::fmt::Debug for Prefixes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prefixes")
            .field("states", &self.states.len())
            .field("len", &self.len)
            .finish()
    }
}

impl Prefixes {
    /// The kept state that has hashed the most bytes but no more than `offset`, with that
    /// number of bytes (`None` when no state was kept that early, or `offset` is past the end).
    pub fn at_or_before(&self, offset: usize) -> Option<(usize, Sha256)> {
        if offset > self.len {
            return None;
        }
        let i = (offset / STEP).min(self.states.len());
        let i = i.checked_sub(1)?;
        Some(((i + 1) * STEP, self.states.get(i)?.clone()))
    }

    /// Length of the stream these states were taken from.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the stream was empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// Hashes a stream piece by piece, keeping [`Prefixes`].
#[derive(Clone, Default)]
pub struct StreamHasher {
    hasher: Sha256,
    prefixes: Prefixes,
}

impl std::fmt::Debug for StreamHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamHasher")
            .field("prefixes", &self.prefixes)
            .finish_non_exhaustive()
    }
}

impl StreamHasher {
    /// A hasher at the start of a stream.
    pub fn new() -> StreamHasher {
        StreamHasher::default()
    }

    /// Hashes the next piece of the stream.
    pub fn update(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            let p = &mut self.prefixes;
            let to_next = STEP - p.len % STEP;
            let (now, rest) = bytes.split_at(to_next.min(bytes.len()));
            self.hasher.update(now);
            p.len += now.len();
            if p.len.is_multiple_of(STEP) && p.states.len() < MAX_STATES {
                p.states.push(self.hasher.clone());
            }
            bytes = rest;
        }
    }

    /// The SHA-256 of the whole stream, and the states kept on the way.
    pub fn finish(self) -> ([u8; 32], Prefixes) {
        (self.hasher.finish(), self.prefixes)
    }
}

/// What a caller knows already of bytes it hands to a verifier (a stored blob): their SHA-256
/// (lowercase hex, the blob key), and the hash states taken while they streamed in, if it kept
/// them.
#[derive(Debug, Clone, Copy)]
pub struct Known<'a> {
    /// SHA-256 of the bytes, lowercase hex.
    pub sha256: &'a str,
    /// States every [`STEP`] bytes of the same bytes.
    pub prefixes: Option<&'a Prefixes>,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn sha(bytes: &[u8]) -> [u8; 32] {
        openssl::sha::sha256(bytes)
    }

    #[test]
    fn the_whole_digest_and_every_prefix_agree_with_hashing_in_one_go() {
        let data: Vec<u8> = (0..(3 * STEP + 1234))
            .map(|i| (i * 7 % 251) as u8)
            .collect();
        // Pieces of awkward sizes, across the steps.
        let mut h = StreamHasher::new();
        for piece in data.chunks(STEP / 3 + 17) {
            h.update(piece);
        }
        let (whole, prefixes) = h.finish();
        assert_eq!(whole, sha(&data));
        assert_eq!(prefixes.len(), data.len());
        for offset in [
            0,
            1,
            STEP - 1,
            STEP,
            STEP + 1,
            2 * STEP + 5,
            3 * STEP,
            data.len(),
        ] {
            let found = prefixes.at_or_before(offset);
            if offset < STEP {
                assert!(found.is_none(), "{offset}");
                continue;
            }
            let (at, mut state) = found.unwrap();
            assert!(at <= offset && offset - at < STEP, "{offset} {at}");
            state.update(&data[at..offset]);
            assert_eq!(state.finish(), sha(&data[..offset]), "{offset}");
        }
        assert!(prefixes.at_or_before(data.len() + 1).is_none());
    }

    #[test]
    fn a_stream_of_exact_steps_keeps_a_state_at_its_end() {
        let data = vec![0x5a; 2 * STEP];
        let mut h = StreamHasher::new();
        h.update(&data);
        let (_, prefixes) = h.finish();
        let (at, state) = prefixes.at_or_before(2 * STEP).unwrap();
        assert_eq!(at, 2 * STEP);
        assert_eq!(state.finish(), sha(&data));
    }
}
