//! The validation of one signature (ETSI EN 319 102-1 §5.3 basic validation, with the past
//! signature validation of §5.6.2.4 when a time-stamp proves existence): identification of the
//! signing certificate (§5.2.3), X.509 certificate validation (§5.2.6: path, validity,
//! revocation), cryptographic constraints (§5.2.8); then the qualification (TS 119 615) and the
//! Polish kind of a valid signature.

use super::cert::validity;
use super::indication::{Indication, SubIndication, Verdict};
use super::input::ValidationInput;
use super::kind::{self, Kind};
use super::revocation::{self, Status};
use super::{crypto, path, qualify, Trust};
use chrono::{DateTime, Utc};
use openssl::x509::{X509KeyUsage, X509};

/// The outcome for one signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validation {
    /// `TOTAL_PASSED`, `TOTAL_FAILED`, `INDETERMINATE`.
    pub indication: String,
    /// The EN 319 102-1 sub-indication, `None` when passed.
    pub sub_indication: Option<String>,
    /// The kind (`unknown` unless passed).
    pub kind: Kind,
    /// Whether the signing certificate was qualified at the relevant time (`None`: no list
    /// knows its issuer, or no path was found).
    pub qualified: Option<bool>,
    /// Things worth knowing.
    pub warnings: Vec<String>,
    /// Why it did not pass.
    pub errors: Vec<String>,
}

impl Validation {
    fn verdict(v: Verdict) -> Validation {
        Validation {
            indication: v.indication.as_str().into(),
            sub_indication: v.sub.map(|s| s.as_str().to_string()),
            kind: Kind::Unknown,
            qualified: None,
            warnings: Vec::new(),
            errors: Vec::new(),
        }
    }

    fn fail(sub: SubIndication, error: String) -> Validation {
        let mut v = Validation::verdict(Verdict::of(sub));
        v.errors.push(error);
        v
    }

    /// Whether it passed.
    pub fn passed(&self) -> bool {
        self.indication == Indication::TotalPassed.as_str()
    }
}

/// Validates one signature against `trust` at the validation time `at` (a parameter: no clock
/// is read here; DESIGN.md invariant 4).
pub fn validate(input: &ValidationInput, trust: &Trust, at: DateTime<Utc>) -> Validation {
    validate_with_path(input, trust, at).0
}

/// [`validate()`], with the certification path it built (leaf first, ending at the anchor;
/// empty when the format's verdict stood or no path was found), which the report shows
/// (`chain`) without building it again.
pub fn validate_with_path(
    input: &ValidationInput,
    trust: &Trust,
    at: DateTime<Utc>,
) -> (Validation, Vec<X509>) {
    if let Some(i) = &input.integrity {
        let mut v = Validation::verdict(Verdict::PASSED);
        v.indication = i.indication.clone();
        v.sub_indication = Some(i.sub_indication.clone());
        return (v, Vec::new());
    }
    let Some(leaf) = input
        .signing_certificate
        .as_deref()
        .and_then(|d| trust.cache.certificate(d))
    else {
        let mut v = Validation::verdict(Verdict::PASSED);
        v.indication = "INDETERMINATE".into();
        v.sub_indication = Some("NO_SIGNING_CERTIFICATE_FOUND".into());
        return (v, Vec::new());
    };
    let (mut near, mut far) = match input.signing_certificate.as_deref() {
        Some(d) => path_candidates(d, &input.certificates),
        None => (
            input.certificates.iter().map(Vec::as_slice).collect(),
            Vec::new(),
        ),
    };
    let decode = |ders: &[&[u8]]| -> Vec<X509> {
        ders.iter()
            .filter_map(|d| trust.cache.certificate(d))
            .collect()
    };
    // Anchors' store and DER, derived once per trust material.
    let derived = super::cache::derived(trust);
    // A root the signature carries that is also a configured anchor is in the store already.
    near.retain(|d| !(self_issued(d) && derived.anchor_ders.iter().any(|a| a.as_slice() == *d)));
    let mut embedded = decode(&near);
    let build = |embedded: &[X509]| {
        path::build_in(
            &leaf,
            embedded.iter().chain(&trust.intermediates),
            derived.store.as_ref(),
        )
    };
    let mut built = build(&embedded);
    if built.is_err() && !far.is_empty() {
        // Names that match only once canonicalised (RFC 5280 §7.1): openssl finds them.
        embedded.extend(decode(&far));
        far.clear();
        built = build(&embedded);
    }
    let chain = match built {
        Ok(p) => p,
        Err(e) => {
            return (
                Validation::fail(e.sub, format!("certificate path: {}", e.reason)),
                Vec::new(),
            )
        }
    };
    let mut warnings = Vec::new();
    let verdict = check_path(input, trust, &chain, (&embedded, far), at, &mut warnings);
    let mut v = match verdict {
        Ok(()) => Validation::verdict(Verdict::PASSED),
        Err((sub, e)) => Validation::fail(sub, e),
    };
    v.warnings = warnings;
    let when = input.best_signature_time().unwrap_or(at);
    let q = qualify::qualify(&chain, trust, when);
    v.qualified = q.as_ref().map(|q| q.qualified);
    if v.passed() {
        v.kind = kind::decide(&chain, q.as_ref(), input, &trust.settings, &mut v.warnings);
        if matches!(v.kind, Kind::Qes | Kind::QualifiedSeal) {
            v.warnings.extend(supporting_services(input, trust, when));
        }
    } else if let Some(q) = &q {
        v.warnings.extend(q.notes.iter().cloned());
    }
    (v, chain)
}

/// TS 119 612 §5.5.1: whether the OCSP responders and TSAs the signature relies on are
/// qualified services at that time (libdigidocpp's rule; a warning here, since eIDAS does not
/// make the QES depend on them).
fn supporting_services(input: &ValidationInput, trust: &Trust, when: DateTime<Utc>) -> Vec<String> {
    use super::cert::{extended_key_usages, KP_OCSP_SIGNING};
    use super::qualify::{supporting_service, Support};
    let mut out = Vec::new();
    for der in &input.certificates {
        if !extended_key_usages(der)
            .iter()
            .any(|u| u == KP_OCSP_SIGNING)
        {
            continue;
        }
        // Decoded only now: most embedded certificates are not OCSP responders.
        if let Some(c) = trust.cache.certificate(der) {
            if let Err(e) = supporting_service(std::slice::from_ref(&c), trust, when, Support::Ocsp)
            {
                out.push(format!("OCSP responder not a qualified service: {e}"));
            }
        }
    }
    for p in &input.proofs_of_existence {
        let Some(tsa) = p
            .tsa_certificate
            .as_deref()
            .and_then(|d| trust.cache.certificate(d))
        else {
            continue;
        };
        if let Err(e) = supporting_service(std::slice::from_ref(&tsa), trust, p.time, Support::Tsa)
        {
            out.push(format!("time-stamp not from a qualified TSA: {e}"));
        }
    }
    out
}

type Check = Result<(), (SubIndication, String)>;

/// A certificate's subject as text (`CN=…, O=…`), written only when a message needs it.
struct Subject<'a>(&'a X509);

impl std::fmt::Display for Subject<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&crate::signature::xml::certinfo::name_to_string(
            self.0.subject_name(),
        ))
    }
}

fn self_issued(der: &[u8]) -> bool {
    super::cert::names(der).is_some_and(|(issuer, subject)| issuer == subject)
}

/// Splits the embedded certificates (DER) into those that may lie on the path of `leaf`
/// (their subject, as encoded, is the issuer of `leaf` or of another one kept, transitively)
/// and the others (time-stamp and responder chains, …), which are decoded only if the path
/// or a response needs them: decoding a certificate (its key above all, through openssl 3's
/// provider decoders) is the dearest part of validating. A certificate whose names cannot be
/// read is kept.
fn path_candidates<'a>(leaf: &[u8], certs: &'a [Vec<u8>]) -> (Vec<&'a [u8]>, Vec<&'a [u8]>) {
    let all = || (certs.iter().map(Vec::as_slice).collect(), Vec::new());
    let Some((first_issuer, _)) = super::cert::names(leaf) else {
        return all();
    };
    let names: Vec<Option<(&[u8], &[u8])>> = certs.iter().map(|d| super::cert::names(d)).collect();
    let mut keep: Vec<bool> = names.iter().map(Option::is_none).collect();
    let mut wanted = vec![first_issuer];
    while let Some(issuer) = wanted.pop() {
        for (k, n) in keep.iter_mut().zip(&names) {
            if let (false, Some((i, subject))) = (*k, n) {
                if *subject == issuer {
                    *k = true;
                    wanted.push(i);
                }
            }
        }
    }
    let (near, far): (Vec<_>, Vec<_>) = certs.iter().zip(keep).partition(|(_, k)| *k);
    (
        near.into_iter().map(|(d, _)| d.as_slice()).collect(),
        far.into_iter().map(|(d, _)| d.as_slice()).collect(),
    )
}

fn check_path(
    input: &ValidationInput,
    trust: &Trust,
    chain: &[X509],
    embedded: (&[X509], Vec<&[u8]>),
    at: DateTime<Utc>,
    warnings: &mut Vec<String>,
) -> Check {
    let leaf = chain
        .first()
        .ok_or((SubIndication::NoCertificateChainFound, "empty path".into()))?;
    check_key_usage(leaf)?;
    let poe = input.best_signature_time();
    // RFC 5280 §6.1.1 (d): the anchor's own validity is not part of the path.
    let certs = chain.get(..chain.len().saturating_sub(1)).unwrap_or(&[]);
    let control = check_times(certs, at, poe, warnings)?;
    check_revocation(input, trust, chain, embedded, control, poe, warnings)?;
    check_crypto(certs, poe.unwrap_or(at), warnings)
}

/// RFC 5280 §4.2.1.3 and EN 319 412-2 §4.3.2: a signing certificate signs with
/// nonRepudiation or digitalSignature.
fn check_key_usage(leaf: &X509) -> Check {
    match leaf.key_usage() {
        Some(ku) if !ku.intersects(X509KeyUsage::NON_REPUDIATION | X509KeyUsage::DIGITAL_SIGNATURE) => Err((
            SubIndication::ChainConstraintsFailure,
            "the signing certificate's key usage allows neither nonRepudiation nor digitalSignature".into(),
        )),
        _ => Ok(()),
    }
}

/// EN 319 102-1 §5.2.6 / §5.6.2.4: every certificate of the path valid at the validation time,
/// or, when one expired since, at the proof of existence. Returns the control time.
fn check_times(
    certs: &[X509],
    at: DateTime<Utc>,
    poe: Option<DateTime<Utc>>,
    warnings: &mut Vec<String>,
) -> Result<DateTime<Utc>, (SubIndication, String)> {
    // The subject's text is written only for a message.
    let windows: Vec<(Subject<'_>, DateTime<Utc>, DateTime<Utc>)> = certs
        .iter()
        .filter_map(|c| {
            let (nb, na) = validity(c)?;
            Some((Subject(c), nb, na))
        })
        .collect();
    if let Some((who, nb, _)) = windows.iter().find(|(_, nb, _)| at < *nb) {
        return Err((
            SubIndication::NotYetValid,
            format!("{who} is valid only from {nb}"),
        ));
    }
    let Some((who, _, na)) = windows.iter().find(|(_, _, na)| at > *na) else {
        return Ok(at);
    };
    let Some(p) = poe else {
        return Err((
            SubIndication::OutOfBoundsNoPoe,
            format!("{who} expired at {na} and no time-stamp proves the signature existed before"),
        ));
    };
    if let Some((who, _, na)) = windows.iter().find(|(_, _, na)| p > *na) {
        return Err((
            SubIndication::Expired,
            format!("{who} expired at {na}, before the time-stamp {p}"),
        ));
    }
    if let Some((who, nb, _)) = windows.iter().find(|(_, nb, _)| p < *nb) {
        return Err((
            SubIndication::NotYetValid,
            format!("{who} is valid only from {nb}, after the time-stamp {p}"),
        ));
    }
    warnings.push(format!(
        "{who} expired at {na}; the signature is time-stamped at {p}, before"
    ));
    Ok(p)
}

/// EN 319 102-1 §5.2.6.4 and §5.6.2.1: revocation of each certificate of the path, from the
/// embedded data, the cached CRLs and OCSP answers, and, when `[trust] online_revocation` is on
/// and nothing fresh is at hand, from the network (kept in the cache); a time-stamp before the
/// revocation keeps the signature valid. Freshness (§5.2.5) is judged at the proof of existence,
/// else at the control time.
fn check_revocation(
    input: &ValidationInput,
    trust: &Trust,
    chain: &[X509],
    (embedded_certs, undecoded): (&[X509], Vec<&[u8]>),
    control: DateTime<Utc>,
    poe: Option<DateTime<Utc>>,
    warnings: &mut Vec<String>,
) -> Check {
    let embedded = revocation::parse_all(&input.crls);
    let derived = super::cache::derived(trust);
    // A delegated OCSP responder's certificate may travel in the signature rather than in the
    // response (RFC 6960 §4.2.2.2).
    let others: Vec<X509> = chain.iter().chain(embedded_certs).cloned().collect();
    let others = others.as_slice();
    // Decoded once for the whole path.
    let subjects: Vec<&openssl::x509::X509Ref> = chain
        .get(..chain.len().saturating_sub(1))
        .unwrap_or(&[])
        .iter()
        .map(|c| c.as_ref())
        .collect();
    let embedded_ocsp = super::ocsp::Parsed::about(&input.ocsp_responses, others, &subjects)
        .or_with(undecoded)
        .decoding_with(&trust.cache);
    let fresh_for = poe.map_or(control, |p| p.min(control));
    let settings = &trust.revocation;
    for (i, pair) in chain.windows(2).enumerate() {
        let [cert, issuer] = pair else { continue };
        let who = Subject(cert);
        let (cached_ocsp, cached_crls) = super::online::cached(settings, cert, issuer);
        let from_crl = revocation::status_checked(
            cert,
            issuer,
            embedded.iter().chain(&trust.crls).chain(&cached_crls),
            |crl, key| derived.crl_verified(trust, crl, issuer, key),
        );
        let mut from_ocsp = embedded_ocsp.status(cert, issuer);
        if !cached_ocsp.is_empty() {
            from_ocsp = from_ocsp.merge(super::ocsp::status(cert, issuer, &cached_ocsp, others));
        }
        let mut status = from_crl.merge(from_ocsp);
        let conclusive = |s: &Status| match s {
            Status::Revoked(_) => true,
            Status::Good(issued) => issued.fresh_at(fresh_for, settings.max_age),
            Status::Unknown => false,
        };
        let mut fetch_errors = Vec::new();
        if settings.fetch && !conclusive(&status) {
            let fetched = super::online::fetch(settings, cert, issuer, others);
            status = status.merge(fetched.status);
            fetch_errors = fetched.errors;
        }
        let mut why_unknown = String::new();
        if let Status::Good(issued) = status {
            if !conclusive(&status) {
                why_unknown = format!(
                    "the revocation data for {who} (issued {}, next update {}) is not fresh at {fresh_for}",
                    issued.this_update,
                    issued.next_update.map_or_else(|| "not given".to_string(), |n| n.to_string())
                );
                status = Status::Unknown;
            }
        }
        if matches!(status, Status::Unknown) && why_unknown.is_empty() {
            why_unknown = format!("no revocation data for {who}");
        }
        if matches!(status, Status::Unknown) && !fetch_errors.is_empty() {
            why_unknown = format!("{why_unknown}; {}", fetch_errors.join("; "));
        }
        match status {
            Status::Revoked(r) if r <= control => match poe {
                Some(p) if p < r => warnings.push(format!(
                    "{who} was revoked at {r}, after the time-stamp {p}: the signature stays valid"
                )),
                Some(p) if i == 0 => {
                    return Err((SubIndication::Revoked, format!("{who} was revoked at {r}, before the time-stamp {p}")))
                }
                _ if i == 0 => {
                    return Err((SubIndication::RevokedNoPoe, format!("{who} was revoked at {r}; no time-stamp proves the signature existed before")))
                }
                _ => {
                    return Err((SubIndication::RevokedCaNoPoe, format!("{who} (a CA of the path) was revoked at {r}")))
                }
            },
            Status::Revoked(r) => warnings.push(format!("{who} was revoked later, at {r}")),
            Status::Good(_) => {}
            Status::Unknown if i == 0 && trust.settings.require_revocation => {
                return Err((SubIndication::TryLater, why_unknown))
            }
            Status::Unknown => warnings.push(why_unknown),
        }
    }
    Ok(())
}

/// EN 319 102-1 §5.2.8: algorithms and key sizes of the path, at the time they must be relied
/// on (the proof of existence, else the validation time).
fn check_crypto(certs: &[X509], when: DateTime<Utc>, warnings: &mut Vec<String>) -> Check {
    for c in certs {
        if let Some((until, why)) = crypto::expiry(c) {
            let who = Subject(c);
            if when >= until {
                return Err((
                    SubIndication::CryptoConstraintsFailure,
                    format!("{who}: {why}, not acceptable after {until}"),
                ));
            }
            warnings.push(format!("{who}: {why}, acceptable only before {until}"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::fixtures::pki;

    #[test]
    fn only_the_certificates_chaining_to_the_signer_are_decoded_first() {
        let p = pki::committed().unwrap();
        let der = |n: &str| p.get(n).unwrap().cert.to_der().unwrap();
        let certs = vec![
            der("untrusted-root"),
            der("root"),
            der("qes-signer"),
            der("qualified-ca"),
            der("commercial-ca"),
        ];
        let (near, far) = path_candidates(&der("qes-signer"), &certs);
        assert_eq!(near, vec![certs[1].as_slice(), certs[3].as_slice()]);
        assert_eq!(
            far,
            vec![
                certs[0].as_slice(),
                certs[2].as_slice(),
                certs[4].as_slice()
            ]
        );
        // Unreadable names: everything is kept.
        let (near, far) = path_candidates(b"not a certificate", &certs);
        assert_eq!((near.len(), far.len()), (5, 0));
    }
}
