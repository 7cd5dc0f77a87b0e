//! The blob store (placeholder).

/// SHA-256 of bytes, lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = openssl::sha::sha256(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}
