//! What validation derives from the trust material once rather than per signature: the
//! openssl store of every anchor (the directory's and the trusted lists' CA certificates), the
//! DER of the directory's anchors, an index of the trusted lists' services by the subject name
//! of their certificates (TS 119 615 §4.3.2 matches a service by name and key; walking every
//! service of the EU list for each certificate of each path cost more than the path), and the
//! signature checks of the cached CRLs. Beside it, the certificates decoded lately, kept by
//! their DER (see [`TrustCache::certificate`]).
//!
//! Built on first use and rebuilt when anchors, lists or CRLs were added since
//! ([`super::Trust`]'s fields are public: the cache notices a changed number of anchors, lists,
//! services or CRLs, or a reallocated anchor or CRL vector). Nothing here changes a verdict:
//! only work already done for the same material is not done again.

use super::Trust;
use crate::signature::der::{self, Tag};
use openssl::hash::MessageDigest;
use openssl::pkey::{PKeyRef, Public};
use openssl::x509::store::{X509Store, X509StoreBuilder};
use openssl::x509::verify::X509VerifyFlags;
use openssl::x509::{X509Crl, X509NameRef, X509Ref, X509};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

/// The derived trust material (see the module's description), and the certificates decoded
/// lately; `Default` is empty.
#[derive(Default)]
pub struct TrustCache {
    built: RwLock<Option<Arc<Derived>>>,
}

impl std::fmt::Debug for TrustCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TrustCache")
    }
}

impl TrustCache {
    /// Forgets what was derived (after the trust material changed).
    pub fn clear(&self) {
        if let Ok(mut b) = self.built.write() {
            *b = None;
        }
    }

    /// The certificate of `der`, decoded once for all validations that meet it again (the CA
    /// and OCSP responder certificates most signatures of one CA carry): see
    /// [`crate::signature::decoded`].
    pub fn certificate(&self, der: &[u8]) -> Option<X509> {
        crate::signature::decoded::certificate(der)
    }

    /// Forgets the decoded certificate of `der` (a benchmark measuring a new signing
    /// certificate under a known CA forgets only that one).
    pub fn forget_certificate(&self, der: &[u8]) {
        crate::signature::decoded::forget(der);
    }

    /// Forgets the decoded certificates (a benchmark measuring validation of certificates never
    /// seen before clears them before each round).
    pub fn forget_certificates(&self) {
        crate::signature::decoded::forget_all();
    }
}

/// What one version of the trust material gives.
pub struct Derived {
    key: Key,
    /// Every anchor in one store, checked with no clock and ending paths at any anchor
    /// (`PARTIAL_CHAIN`); `None` when there is no anchor at all.
    pub store: Option<X509Store>,
    /// DER of the directory's anchors (`Trust::anchors`).
    pub anchor_ders: Vec<Vec<u8>>,
    /// Services (list index, service index) by the [`name_key`] of their certificates' subjects.
    services: HashMap<String, Vec<(usize, usize)>>,
    /// Services with a certificate whose subject name could not be read here.
    unreadable: Vec<(usize, usize)>,
    /// Whether the CRL `Trust::crls[i]` verifies with the key of the issuer whose SHA-256
    /// fingerprint is given: cached CRLs are trust material, checked once, not per signature.
    crl_checks: Mutex<HashMap<(usize, Vec<u8>), bool>>,
}

impl Derived {
    /// Whether `crl` (one of `trust.crls`, else checked every time) verifies with the key of
    /// `issuer`; the answer for a cached CRL is remembered.
    pub fn crl_verified(
        &self,
        trust: &Trust,
        crl: &X509Crl,
        issuer: &X509Ref,
        key: &PKeyRef<Public>,
    ) -> bool {
        let check = || crl.verify(key).unwrap_or(false);
        let Some(i) = trust.crls.iter().position(|c| std::ptr::eq(c, crl)) else {
            return check();
        };
        let Ok(fingerprint) = issuer.digest(MessageDigest::sha256()) else {
            return check();
        };
        let k = (i, fingerprint.to_vec());
        if let Some(&ok) = self.crl_checks.lock().ok().as_ref().and_then(|m| m.get(&k)) {
            return ok;
        }
        let ok = check();
        if let Ok(mut m) = self.crl_checks.lock() {
            m.insert(k, ok);
        }
        ok
    }

    /// The services (list index, service index, in list order) one of whose certificates has
    /// a subject name that may equal one of `names` (same [`name_key`]); the caller still
    /// compares name and key.
    pub fn services_named<'n>(
        &self,
        names: impl IntoIterator<Item = &'n X509NameRef>,
    ) -> Vec<(usize, usize)> {
        let mut found: Vec<(usize, usize)> = names
            .into_iter()
            .filter_map(|n| name_key(&n.to_der().ok()?))
            .filter_map(|k| self.services.get(&k))
            .flatten()
            .copied()
            .chain(self.unreadable.iter().copied())
            .collect();
        found.sort_unstable();
        found.dedup();
        found
    }
}

/// What identifies a version of the trust material: numbers of anchors, lists, services and
/// CRLs, and where the anchors and CRLs are.
type Key = [usize; 6];

fn key_of(trust: &Trust) -> Key {
    [
        trust.anchors.len(),
        trust.anchors.as_ptr() as usize,
        trust.lists.len(),
        trust.lists.iter().map(|l| l.services.len()).sum(),
        trust.crls.len(),
        trust.crls.as_ptr() as usize,
    ]
}

/// The derived material of `trust`, built now if it is missing or stale.
pub fn derived(trust: &Trust) -> Arc<Derived> {
    let key = key_of(trust);
    if let Ok(b) = trust.cache.built.read() {
        if let Some(d) = b.as_ref().filter(|d| d.key == key) {
            return Arc::clone(d);
        }
    }
    let d = Arc::new(build(trust, key));
    if let Ok(mut b) = trust.cache.built.write() {
        *b = Some(Arc::clone(&d));
    }
    d
}

fn build(trust: &Trust, key: Key) -> Derived {
    let store = X509StoreBuilder::new().ok().and_then(|mut b| {
        let mut any = false;
        for a in trust.all_anchors() {
            // Duplicates are refused by some openssl versions; they change nothing.
            any |= b.add_cert(a.clone()).is_ok();
        }
        b.set_flags(X509VerifyFlags::PARTIAL_CHAIN | X509VerifyFlags::NO_CHECK_TIME)
            .ok()?;
        any.then(|| b.build())
    });
    let mut services: HashMap<String, Vec<(usize, usize)>> = HashMap::new();
    let mut unreadable = Vec::new();
    for (l, list) in trust.lists.iter().enumerate() {
        for (s, service) in list.services.iter().enumerate() {
            for der in service.certificates.der() {
                let Some(k) = super::cert::names(der).and_then(|(_, subject)| {
                    // `names` gives the content; the key reads a whole Name.
                    name_key(&super::ocsp::tlv(0x30, subject))
                }) else {
                    // Not indexed: offered for every name.
                    if unreadable.last() != Some(&(l, s)) {
                        unreadable.push((l, s));
                    }
                    continue;
                };
                let entry = services.entry(k).or_default();
                if entry.last() != Some(&(l, s)) {
                    entry.push((l, s));
                }
            }
        }
    }
    Derived {
        key,
        store,
        anchor_ders: trust
            .anchors
            .iter()
            .filter_map(|a| a.to_der().ok())
            .collect(),
        services,
        unreadable,
        crl_checks: Mutex::new(HashMap::new()),
    }
}

/// A key of a DER Name that two names equal under RFC 5280 §7.1 comparison (openssl's
/// canonical form: strings as UTF-8, ASCII case folded, whitespace collapsed) always share:
/// every attribute's type and value, its value lowercased and without whitespace, sorted. Names
/// with the same key may still differ; a name that cannot be read has none.
pub fn name_key(name_der: &[u8]) -> Option<String> {
    let (seq, _) = der::read(name_der).ok()?;
    let mut parts = Vec::new();
    for rdn in der::children(seq.content) {
        for atv in der::children(rdn.ok()?.content) {
            let atv = atv.ok()?;
            let mut fields = der::children(atv.content);
            let oid = fields.next()?.ok()?;
            let value = fields.next()?.ok()?;
            let text = string_value(value.tag, value.content).map_or_else(
                || format!("#{}:{}", value.tag.number, hex(value.content)),
                |s| {
                    s.chars()
                        .filter(|c| !c.is_whitespace())
                        .flat_map(char::to_lowercase)
                        .collect()
                },
            );
            parts.push(format!("{}={text}", hex(oid.content)));
        }
    }
    parts.sort();
    Some(parts.join(","))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The text of the string types openssl canonicalises.
fn string_value(tag: Tag, content: &[u8]) -> Option<String> {
    if tag.constructed || tag.class != der::Class::Universal {
        return None;
    }
    match tag.number {
        // UTF8String, NumericString, PrintableString, IA5String, VisibleString.
        12 | 18 | 19 | 22 | 26 => std::str::from_utf8(content).ok().map(str::to_string),
        // TeletexString, read as Latin-1 (as openssl does).
        20 => Some(content.iter().map(|&b| char::from(b)).collect()),
        // BMPString.
        30 => {
            let units: Vec<u16> = content
                .chunks(2)
                .map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))
                .collect();
            String::from_utf16(&units).ok()
        }
        // UniversalString.
        28 => content
            .chunks(4)
            .map(|c| {
                let mut b = [0u8; 4];
                b[..c.len()].copy_from_slice(c);
                char::from_u32(u32::from_be_bytes(b))
            })
            .collect(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use openssl::x509::X509Name;

    fn name(entries: &[(&str, &str)]) -> Vec<u8> {
        let mut b = X509Name::builder().unwrap();
        for (k, v) in entries {
            b.append_entry_by_text(k, v).unwrap();
        }
        b.build().to_der().unwrap()
    }

    #[test]
    fn names_equal_after_canonicalisation_share_a_key() {
        let a = name(&[("C", "PL"), ("O", "Urząd  Miasta"), ("CN", "CA 1")]);
        let b = name(&[("C", "pl"), ("O", "urząd miasta"), ("CN", " ca 1")]);
        assert_eq!(name_key(&a), name_key(&b));
        let c = name(&[("C", "PL"), ("O", "Urząd Miasta"), ("CN", "CA 2")]);
        assert_ne!(name_key(&a), name_key(&c));
    }
}
