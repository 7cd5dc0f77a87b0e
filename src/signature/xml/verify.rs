//! The XML verifier's entry points: bytes → [`Evidence`] per `ds:Signature` → the report of
//! DESIGN.md. No trust decision is taken here (EN 319 102-1 §5.2: without trust anchors an
//! intact signature is INDETERMINATE / NO_CERTIFICATE_CHAIN_FOUND).

use super::algorithms;
use super::certinfo;
use super::counter;
use super::dsig::{self, sha256_hex};
use super::evidence::{self, Evidence, Failure};
use super::fast;
use super::manifest;
use super::parse::{self, ParseError};
use super::refs::{IdIndex, Resolver};
use super::transforms::is_dsig;
use crate::signature::report::{Report, SignatureReport, SignedData};

/// The evidence of every `ds:Signature` in an XML document, in document order.
///
/// A document of the common shape (one enveloped signature over `URI=""`, see [`fast`]) is
/// verified without a tree of the whole document; any other goes through the tree.
pub fn evidence(name: &str, bytes: &[u8], detached: Resolver) -> Result<Vec<Evidence>, ParseError> {
    let text = parse::decode(bytes)?;
    if let Some(list) = fast::evidence(name, &text, detached) {
        return Ok(list);
    }
    let doc = parse::parse(&text)?;
    Ok(evidence_in(name, &doc, detached))
}

/// [`evidence()`] of a document already parsed with [`parse::parse`] (for callers that read the
/// same document for something else, like a trusted list: it is parsed once).
pub fn evidence_in(name: &str, doc: &roxmltree::Document<'_>, detached: Resolver) -> Vec<Evidence> {
    let ids = IdIndex::new(doc);
    let mut out = Vec::new();
    for (index, node) in doc
        .descendants()
        .filter(|n| is_dsig(*n, "Signature"))
        .enumerate()
    {
        let ev = match dsig::parse_signature(node) {
            Ok(sig) => {
                let checks: Vec<_> = sig
                    .references
                    .iter()
                    .map(|r| dsig::check_reference(doc, &ids, &sig, r, detached))
                    .collect();
                signature_evidence(index, name, doc, &ids, &sig, &checks, detached)
            }
            Err(e) => Evidence {
                id: format!("S{}", index + 1),
                xml_id: node.attribute("Id").map(str::to_string),
                failure: Some(Failure::Format),
                errors: vec![e.to_string()],
                ..Evidence::default()
            },
        };
        out.push(ev);
    }
    out
}

/// The evidence of one signature whose references were checked (`checks`, in order).
pub(crate) fn signature_evidence<'a, 'i>(
    index: usize,
    name: &str,
    doc: &'a roxmltree::Document<'i>,
    ids: &'a IdIndex<'a, 'i>,
    sig: &dsig::SignatureXml<'a, 'i>,
    checks: &[dsig::ReferenceCheck<'a, 'i>],
    detached: Resolver,
) -> Evidence {
    let value = dsig::check_value(doc, sig);
    let entries = manifest::check(doc, ids, sig, checks, detached);
    let mut ev = evidence::build(index, name, sig, checks, &value);
    evidence::add_manifest_entries(&mut ev, &entries);
    evidence::add_counter(&mut ev, &counter::classify(sig, checks));
    ev.warnings.extend(crypto_policy(sig, &value));
    evidence::finish(&mut ev);
    ev
}

fn crypto_policy(sig: &dsig::SignatureXml, value: &dsig::ValueOutcome) -> Vec<String> {
    let method = sig.signature_method.attribute("Algorithm").unwrap_or("");
    let digests: Vec<&str> = sig.references.iter().map(|r| r.digest_method).collect();
    let key = match value {
        dsig::ValueOutcome::Valid(Some(i)) => {
            sig.certificates.get(*i).and_then(|c| c.public_key().ok())
        }
        _ => None,
    };
    algorithms::policy_warnings(method, &digests, key.as_ref())
}

/// Verifies every XML signature in `bytes` and reports it in the JSON contract of DESIGN.md.
/// `detached` supplies detached objects by the name a reference gives (the empty name for a
/// reference without URI). Never fails: unreadable XML is a report with `error` set.
pub fn verify_xml(name: &str, bytes: &[u8], detached: Resolver) -> Report {
    report(name, bytes, evidence(name, bytes, detached))
}

/// [`verify_xml`] always through the tree of the whole document, never the streaming path of
/// [`fast`]: what the fast path is compared with (tests, `benches/xml.rs`).
pub fn verify_xml_tree(name: &str, bytes: &[u8], detached: Resolver) -> Report {
    let list = parse::decode(bytes).and_then(|text| {
        let doc = parse::parse(&text)?;
        Ok(evidence_in(name, &doc, detached))
    });
    report(name, bytes, list)
}

fn report(name: &str, bytes: &[u8], list: Result<Vec<Evidence>, ParseError>) -> Report {
    let mut report = Report {
        file: name.to_string(),
        sha256: sha256_hex(bytes).unwrap_or_default(),
        container: "xml".to_string(),
        ..Report::default()
    };
    match list {
        Ok(list) => report.signatures = list.iter().map(signature_report).collect(),
        Err(e) => report.error = Some(e.to_string()),
    }
    report
}

/// EN 319 102-1 §5.1.3 indications, for the integrity stage only.
fn indication(ev: &Evidence) -> (&'static str, &'static str) {
    match ev.failure {
        None if ev.manifest_data_missing => ("INDETERMINATE", "SIGNED_DATA_NOT_FOUND"),
        None => ("INDETERMINATE", "NO_CERTIFICATE_CHAIN_FOUND"),
        Some(Failure::Format) => ("TOTAL_FAILED", "FORMAT_FAILURE"),
        Some(Failure::Hash) => ("TOTAL_FAILED", "HASH_FAILURE"),
        Some(Failure::Crypto) => ("TOTAL_FAILED", "SIG_CRYPTO_FAILURE"),
        Some(Failure::SigningCertificate) => ("INDETERMINATE", "NO_SIGNING_CERTIFICATE_FOUND"),
        Some(Failure::SignedDataNotFound) => ("INDETERMINATE", "SIGNED_DATA_NOT_FOUND"),
        Some(Failure::Unsupported) => ("INDETERMINATE", "FORMAT_FAILURE"),
    }
}

/// The report entry of one signature.
pub fn signature_report(ev: &Evidence) -> SignatureReport {
    let (indication, sub) = indication(ev);
    let cert = ev.signing_certificate.as_deref();
    let parsed = match (&ev.signing_x509, cert) {
        (Some(x), _) => Some(x.clone()),
        (None, Some(der)) => crate::signature::decoded::certificate(der),
        (None, None) => None,
    };
    SignatureReport {
        id: ev.id.clone(),
        format: if ev.xades { "XAdES" } else { "XMLDSig" }.to_string(),
        level: ev.level.clone(),
        checked: true,
        intact: Some(ev.intact()),
        indication: Some(indication.to_string()),
        sub_indication: Some(sub.to_string()),
        kind: "unknown".to_string(),
        signer: certinfo::signer_of(parsed.as_ref(), ev.trusted_profile.as_ref()),
        signing_time: ev.signing_time.clone(),
        timestamp_time: ev.timestamp_time.clone(),
        certificate: parsed
            .as_ref()
            .zip(cert)
            .map(|(x, der)| certinfo::certificate_info_of(x, der)),
        signed_data: ev
            .scope
            .iter()
            .map(|s| SignedData {
                name: s.name.clone(),
                sha256: s.sha256.clone(),
                whole_file: s.whole_file,
            })
            .collect(),
        warnings: ev.warnings.clone(),
        errors: ev.errors.clone(),
        claimed_roles: ev.claimed_roles.clone(),
        signature_policy: ev.signature_policy.clone(),
        commitment_types: ev.commitment_types.clone(),
        chain: Vec::new(),
        summary: None,
        validation_input: Some(ev.into()),
    }
}
