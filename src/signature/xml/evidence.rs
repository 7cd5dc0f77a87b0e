//! Format-neutral evidence for one signature (DESIGN.md "two stages": what the format module
//! establishes, before any trust decision), built from the core XML-DSig checks and the XAdES
//! properties.

use super::counter::Counter;
use super::dsig::{RefOutcome, ReferenceCheck, SignatureXml, ValueOutcome};
use super::refs::RefError;
use super::xades::{self, TrustedProfileIdentity, Xades};
use openssl::x509::X509;

/// Why a signature is not intact, most serious first (EN 319 102-1 §5.2 sub-indications).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Failure {
    /// Structure broken or ambiguous (FORMAT_FAILURE).
    Format,
    /// A reference digest does not match (HASH_FAILURE).
    Hash,
    /// The signature value does not verify (SIG_CRYPTO_FAILURE).
    Crypto,
    /// The signing certificate is not the one the signature names
    /// (NO_SIGNING_CERTIFICATE_FOUND), or there is no key at all.
    SigningCertificate,
    /// Signed data missing (SIGNED_DATA_NOT_FOUND).
    SignedDataNotFound,
    /// An algorithm or transform we do not implement (INDETERMINATE / FORMAT_FAILURE).
    Unsupported,
}

/// One covered object (EN 319 102-1 "signed scope").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    /// File name, or `file#id` for an element.
    pub name: String,
    /// SHA-256 of the covered bytes (detached) or of their canonical form.
    pub sha256: Option<String>,
    /// Whether the whole file (or the whole document minus the signature) is covered.
    pub whole_file: bool,
}

/// Everything the XML module establishes about one signature.
#[derive(Debug, Clone, Default)]
pub struct Evidence {
    /// `S1`, `S2`... in document order.
    pub id: String,
    /// The signature's `Id` attribute.
    pub xml_id: Option<String>,
    /// Whether it carries XAdES qualifying properties.
    pub xades: bool,
    /// Every reference digest matched.
    pub references_intact: bool,
    /// The signature value verified.
    pub value_intact: bool,
    /// The certificate that verified matches SigningCertificate(V2); `None` if none is named.
    pub signing_certificate_bound: Option<bool>,
    /// The most serious failure, if any.
    pub failure: Option<Failure>,
    /// A signed manifest names data that was not supplied: the signature is intact, but what
    /// it signs is not established (DSS ManifestEntryExistence: SIGNED_DATA_NOT_FOUND).
    pub manifest_data_missing: bool,
    /// DER of the certificate whose key verified the signature (or the first one offered).
    pub signing_certificate: Option<Vec<u8>>,
    /// The same certificate parsed, so the report need not decode it again (decoding a
    /// certificate's public key is the dearest step of OpenSSL 3's `d2i_X509`).
    pub signing_x509: Option<X509>,
    /// DER of every other certificate found (KeyInfo, CertificateValues).
    pub certificates: Vec<Vec<u8>>,
    /// DER CRLs of RevocationValues (and the time-stamps' validation data).
    pub crls: Vec<Vec<u8>>,
    /// DER OCSP responses of RevocationValues (and the time-stamps' validation data).
    pub ocsp_responses: Vec<Vec<u8>>,
    /// Claimed signing time (as written).
    pub signing_time: Option<String>,
    /// Earliest SignatureTimeStamp time (RFC 3339).
    pub timestamp_time: Option<String>,
    /// Verified SignatureTimeStamps over this signature value: time (RFC 3339) and the TSA
    /// certificate (DER), for the validation's proofs of existence (the token's own signature
    /// checked, which `timestamp_time` does not require).
    pub verified_timestamps: Vec<(String, Option<Vec<u8>>)>,
    /// Podpis zaufany identity.
    pub trusted_profile: Option<TrustedProfileIdentity>,
    /// Claimed roles.
    pub claimed_roles: Vec<String>,
    /// Signature policy identifier (or `implied`).
    pub signature_policy: Option<String>,
    /// Commitment type identifiers.
    pub commitment_types: Vec<String>,
    /// Covered objects.
    pub scope: Vec<Scope>,
    /// `B-B`, `B-T`, `B-LT`, `B-LTA` for XAdES.
    pub level: Option<String>,
    /// Non-fatal observations.
    pub warnings: Vec<String>,
    /// Reasons for failure.
    pub errors: Vec<String>,
}

impl Evidence {
    /// Every reference, the value and the signing-certificate binding verify.
    pub fn intact(&self) -> bool {
        self.failure.is_none()
    }

    fn fail(&mut self, failure: Failure, message: String) {
        self.failure = Some(self.failure.map_or(failure, |f| f.min(failure)));
        self.errors.push(message);
    }
}

/// Builds the evidence of one signature from its checks.
pub fn build(
    index: usize,
    file: &str,
    sig: &SignatureXml,
    checks: &[ReferenceCheck],
    value: &ValueOutcome,
) -> Evidence {
    let mut ev = Evidence {
        id: format!("S{}", index + 1),
        xml_id: sig.id.map(str::to_string),
        ..Evidence::default()
    };
    record_references(&mut ev, checks);
    record_value(&mut ev, sig, value);
    let x = xades::read(sig, checks);
    if let Some(x) = &x {
        record_xades(&mut ev, sig, x, value);
    }
    ev.scope = scope(file, sig, checks);
    ev
}

/// Records what a counter-signature counter-signs; one that does not cover the enclosing
/// signature's value fails (EN 319 132-1 §5.2.7.2).
pub fn add_counter(ev: &mut Evidence, counter: &Counter) {
    match counter {
        Counter::No => {}
        Counter::Of(id) => ev
            .warnings
            .push(format!("counter-signature of the signature {id:?}")),
        Counter::Detached(id) => ev.fail(
            Failure::Format,
            format!("counter-signature does not cover the value of the signature {id:?}"),
        ),
    }
}

/// Final remarks once every reference (manifests included) is in: a signature that covers no
/// whole file is worth a warning (a clerk reads the whole document; EN 319 102-1 signed scope).
pub fn finish(ev: &mut Evidence) {
    if !ev.scope.iter().any(|s| s.whole_file) {
        ev.warnings
            .push("no reference covers the whole document or file".into());
    }
}

/// Adds the checked entries of signed manifests (§5.1, checked as DSS does): an altered or
/// ambiguous entry fails the signature; a missing one leaves it intact but its signed data
/// unproven; the entries join the signed scope.
pub fn add_manifest_entries(ev: &mut Evidence, entries: &[ReferenceCheck]) {
    for (i, c) in entries.iter().enumerate() {
        let uri = c.uri.as_deref().unwrap_or("(no uri)");
        let what = format!("manifest reference {} ({uri})", i + 1);
        match &c.outcome {
            RefOutcome::NotResolved(
                e @ (RefError::DetachedNotFound(_) | RefError::IdNotFound(_)),
            ) => {
                ev.manifest_data_missing = true;
                ev.warnings.push(format!("{what}: {e}"));
            }
            _ => record_checks(ev, std::slice::from_ref(c), "manifest reference"),
        }
    }
    for c in entries.iter().filter(|c| c.outcome == RefOutcome::Valid) {
        let name = c
            .detached
            .clone()
            .or_else(|| c.uri.clone())
            .unwrap_or_default();
        ev.scope.push(Scope {
            name,
            sha256: c.sha256.clone(),
            whole_file: c.detached.is_some() && c.whole,
        });
    }
}

fn record_references(ev: &mut Evidence, checks: &[ReferenceCheck]) {
    ev.references_intact = checks.iter().all(|c| c.outcome == RefOutcome::Valid);
    record_checks(ev, checks, "reference");
}

fn record_checks(ev: &mut Evidence, checks: &[ReferenceCheck], label: &str) {
    for (i, c) in checks.iter().enumerate() {
        let uri = c.uri.as_deref().unwrap_or("(no uri)");
        let what = format!("{label} {} ({uri})", i + 1);
        match &c.outcome {
            RefOutcome::Valid => {}
            RefOutcome::DigestMismatch => {
                ev.fail(Failure::Hash, format!("{what}: digest mismatch"))
            }
            RefOutcome::NotResolved(e @ RefError::AmbiguousId { .. }) => {
                ev.fail(Failure::Format, format!("{what}: {e}"))
            }
            RefOutcome::NotResolved(e @ RefError::Unsupported(_)) => {
                ev.fail(Failure::Unsupported, format!("{what}: {e}"))
            }
            RefOutcome::NotResolved(e) => {
                ev.fail(Failure::SignedDataNotFound, format!("{what}: {e}"))
            }
            RefOutcome::Unsupported(s) => {
                ev.fail(Failure::Unsupported, format!("{what}: unsupported {s}"))
            }
            RefOutcome::Failed(s) => ev.fail(Failure::Format, format!("{what}: {s}")),
        }
    }
}

fn record_value(ev: &mut Evidence, sig: &SignatureXml, value: &ValueOutcome) {
    let der = |c: &X509| c.to_der().ok();
    let signer = match value {
        ValueOutcome::Valid(i) => {
            ev.value_intact = true;
            i.and_then(|i| sig.certificates.get(i))
        }
        ValueOutcome::Invalid => {
            ev.fail(Failure::Crypto, "signature value does not verify".into());
            sig.certificates.first()
        }
        ValueOutcome::Unsupported(s) => {
            ev.fail(Failure::Unsupported, format!("unsupported {s}"));
            sig.certificates.first()
        }
        ValueOutcome::NoKey => {
            ev.fail(
                Failure::SigningCertificate,
                "no certificate or key to verify the signature with".into(),
            );
            None
        }
    };
    ev.signing_certificate = signer.and_then(der);
    ev.signing_x509 = signer.cloned();
    ev.certificates = sig
        .certificates
        .iter()
        .filter_map(der)
        .filter(|d| Some(d) != ev.signing_certificate.as_ref())
        .collect();
    if matches!(value, ValueOutcome::Valid(None)) {
        ev.warnings
            .push("verified with a bare KeyValue: no certificate identifies the signer".into());
    }
}

fn record_xades(ev: &mut Evidence, sig: &SignatureXml, x: &Xades, value: &ValueOutcome) {
    ev.xades = true;
    for e in &x.errors {
        ev.fail(Failure::Format, e.clone());
    }
    ev.warnings.extend(x.warnings.iter().cloned());
    if let ValueOutcome::Valid(Some(i)) = value {
        if let Some(cert) = sig.certificates.get(*i) {
            ev.signing_certificate_bound = xades::signing_certificate_matches(x, cert);
        }
    }
    match ev.signing_certificate_bound {
        Some(false) => ev.fail(
            Failure::SigningCertificate,
            "the certificate that verified the signature is not the SigningCertificate".into(),
        ),
        None if ev.value_intact => ev
            .warnings
            .push("no SigningCertificate property binds the certificate".into()),
        _ => {}
    }
    ev.signing_time = x.signing_time.as_deref().map(utc_rfc3339);
    ev.trusted_profile = x.trusted_profile.clone();
    ev.claimed_roles = x.claimed_roles.clone();
    ev.signature_policy = x.signature_policy.clone();
    ev.commitment_types = x.commitment_types.clone();
    ev.certificates.extend(
        x.extra_certificates
            .iter()
            .filter(|d| Some(*d) != ev.signing_certificate.as_ref())
            .cloned(),
    );
    ev.certificates.sort();
    ev.certificates.dedup();
    ev.crls = x.crls.clone();
    ev.ocsp_responses = x.ocsp_responses.clone();
    // Only a time-stamp whose imprint is this signature value dates it (EN 319 132-1 §5.3);
    // a copied token from another signature is reported and ignored.
    ev.timestamp_time = x
        .timestamps
        .iter()
        .filter(|t| t.kind == "SignatureTimeStamp" && t.imprint_matches == Some(true))
        .filter_map(|t| t.time.clone())
        .min();
    ev.verified_timestamps = x
        .timestamps
        .iter()
        .filter(|t| t.kind == "SignatureTimeStamp" && t.imprint_matches == Some(true))
        .filter(|t| t.token_intact)
        .filter_map(|t| Some((t.time.clone()?, t.tsa_certificate.clone())))
        .collect();
    for t in &x.timestamps {
        if t.imprint_matches == Some(false) {
            ev.warnings.push(format!(
                "{} does not time-stamp this signature value",
                t.kind
            ));
        }
    }
    ev.level = Some(level(x).to_string());
}

/// An `xs:dateTime` SigningTime in UTC RFC 3339 (`2020-04-20T10:11:12Z`, fractions dropped, as
/// the report's other times); kept as written when it has no zone or does not parse.
fn utc_rfc3339(t: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(t.trim())
        .map(|d| {
            d.with_timezone(&chrono::Utc)
                .format("%Y-%m-%dT%H:%M:%SZ")
                .to_string()
        })
        .unwrap_or_else(|_| t.trim().to_string())
}

/// EN 319 132-1 §6: B-T adds a signature time-stamp, B-LT the validation data, B-LTA an
/// archive time-stamp.
fn level(x: &Xades) -> &'static str {
    let has = |k: &str| x.timestamps.iter().any(|t| t.kind == k);
    let t = x
        .timestamps
        .iter()
        .any(|t| t.kind == "SignatureTimeStamp" && t.imprint_matches == Some(true));
    let lt = t && x.certificate_values && x.revocation_values;
    match (t, lt, has("ArchiveTimeStamp")) {
        (true, true, true) => "B-LTA",
        (true, true, false) => "B-LT",
        (true, false, _) => "B-T",
        _ => "B-B",
    }
}

/// The objects the signer's data references cover (not the signature's own properties).
fn scope(file: &str, sig: &SignatureXml, checks: &[ReferenceCheck]) -> Vec<Scope> {
    let mut out = Vec::new();
    for c in checks {
        if c.outcome != RefOutcome::Valid {
            continue;
        }
        if let Some(name) = &c.detached {
            out.push(Scope {
                name: name.clone(),
                sha256: c.sha256.clone(),
                whole_file: c.whole,
            });
            continue;
        }
        match c.element {
            None => out.push(Scope {
                name: file.to_string(),
                sha256: c.sha256.clone(),
                whole_file: c.whole,
            }),
            Some(el) => {
                let inside = el.ancestors().any(|a| a.id() == sig.node.id());
                let is_property = el.ancestors().any(|a| {
                    xades::is_xades(a, "QualifyingProperties")
                        || super::transforms::is_dsig(a, "KeyInfo")
                });
                if is_property {
                    continue;
                }
                let root = el.document().root_element().id() == el.id();
                out.push(Scope {
                    name: format!(
                        "{file}#{}",
                        c.uri.as_deref().unwrap_or("").trim_start_matches('#')
                    ),
                    sha256: c.sha256.clone(),
                    whole_file: c.whole && root && !inside,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_signing_times_to_utc() {
        assert_eq!(
            utc_rfc3339("2013-12-10T15:49:45+01:00"),
            "2013-12-10T14:49:45Z"
        );
        assert_eq!(
            utc_rfc3339("2014-11-10T20:39:56.293Z"),
            "2014-11-10T20:39:56Z"
        );
        assert_eq!(utc_rfc3339("2014-11-10T20:39:56"), "2014-11-10T20:39:56");
    }
}
