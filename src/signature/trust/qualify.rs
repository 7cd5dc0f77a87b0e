//! Qualification of a certificate from trusted lists (ETSI TS 119 615 §4.3, TS 119 172-4):
//! the issuing CA/QC service's state at the relevant time, the certificate's qcStatements
//! (EN 319 412-5 §4.2) and the list's qualifiers that apply to it (TS 119 612 §5.5.9.2).

use super::cert::{policies, qc_statements};
use super::tl::{Criteria, Service, CA_QC};
use super::Trust;
use chrono::{DateTime, Utc};
use openssl::x509::{X509KeyUsage, X509Ref, X509};

/// What the certificate is qualified for (EN 319 412-5 §4.2.3 QcType, TS 119 612 QCFor*).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QcType {
    /// Electronic signatures.
    ESig,
    /// Electronic seals.
    ESeal,
    /// Website authentication.
    Web,
}

/// The qualification of one certificate at one time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Qualification {
    /// Qualified at that time.
    pub qualified: bool,
    /// For what (when qualified).
    pub qc_type: Option<QcType>,
    /// The private key is in a QSCD.
    pub qscd: bool,
    /// The trusted-list service that decided (`provider / service`).
    pub service: Option<String>,
    /// Why not, or what overrode the certificate.
    pub notes: Vec<String>,
}

fn same_certificate(a: &X509Ref, b: &X509Ref) -> bool {
    // The name first: comparing keys is the dearer part, and most pairs differ by name.
    a.subject_name().try_cmp(b.subject_name()).ok() == Some(std::cmp::Ordering::Equal)
        && match (a.public_key(), b.public_key()) {
            (Ok(x), Ok(y)) => x.public_eq(&y),
            _ => false,
        }
}

/// The services of the loaded lists one of whose certificates is one of `certs` (TS 119 615
/// §4.3.2: a service identity matches by certificate, or by subject name and public key), in
/// list order; found through the lists' index by subject name.
fn services_of<'a>(certs: &[X509], trust: &'a Trust) -> Vec<&'a Service> {
    if trust.lists.is_empty() || certs.is_empty() {
        return Vec::new();
    }
    let index = super::cache::derived(trust);
    index
        .services_named(certs.iter().map(|c| c.subject_name()))
        .into_iter()
        .filter_map(|(l, s)| trust.lists.get(l)?.services.get(s))
        .filter(|s| {
            s.certificates
                .iter()
                .any(|sc| certs.iter().any(|c| same_certificate(sc, c)))
        })
        .collect()
}

/// The services of the loaded lists whose identity is one of the CAs of `path` (RFC 5280 path,
/// leaf first). TS 119 615 §4.3.2: a service identity matches by certificate, or by subject
/// name and public key.
pub fn issuing_services<'a>(path: &[X509], trust: &'a Trust) -> Vec<&'a Service> {
    services_of(path.get(1..).unwrap_or(&[]), trust)
}

/// The qualification of `path`'s leaf at `t` (TS 119 615 §4.3.3–§4.3.5): the issuing service
/// must be granted both when the certificate was issued (its notBefore) and at `t`; the
/// QSCD status is the one at `t`. `None` when no trusted list knows any of its CAs.
pub fn qualify(path: &[X509], trust: &Trust, t: DateTime<Utc>) -> Option<Qualification> {
    let leaf = path.first()?;
    let issued = super::cert::to_utc(leaf.not_before())?;
    let at_issuance = qualify_at(path, trust, issued)?;
    let mut q = qualify_at(path, trust, t)?;
    if !at_issuance.qualified {
        q.qualified = false;
        q.qc_type = None;
        q.notes.extend(
            at_issuance
                .notes
                .into_iter()
                .map(|n| format!("at issuance: {n}")),
        );
    }
    Some(q)
}

fn qualify_at(path: &[X509], trust: &Trust, t: DateTime<Utc>) -> Option<Qualification> {
    let leaf = path.first()?;
    let services = issuing_services(path, trust);
    if services.is_empty() {
        return None;
    }
    let mut best: Option<Qualification> = None;
    for s in services {
        let q = under_service(leaf, s, t);
        let better = match &best {
            None => true,
            Some(b) => (q.qualified, q.qscd) > (b.qualified, b.qscd),
        };
        if better {
            best = Some(q);
        }
    }
    best
}

/// What a supporting service is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Support {
    /// An OCSP responder for qualified certificates (`Certstatus/OCSP/QC`).
    Ocsp,
    /// A time-stamping unit (`TSA/QTST`).
    Tsa,
}

/// Whether `cert` (an OCSP responder or a TSA certificate, or one of its issuers in `chain`)
/// is a service of that type, granted at `t`, on a loaded list (TS 119 612 §5.5.1; the rule
/// libdigidocpp applies to the OCSP and time-stamp of a qualified signature). `Err` says why
/// not; lists that do not know the service at all give `Err` too.
pub fn supporting_service(
    chain: &[X509],
    trust: &Trust,
    t: DateTime<Utc>,
    kind: Support,
) -> Result<String, String> {
    let wanted = match kind {
        Support::Ocsp => "http://uri.etsi.org/TrstSvc/Svctype/Certstatus/OCSP/QC",
        Support::Tsa => "http://uri.etsi.org/TrstSvc/Svctype/TSA/QTST",
    };
    let mut why = format!("{kind:?} service not on any loaded list");
    for s in services_of(chain, trust) {
        match s.state_at(t) {
            Some(st) if st.service_type == wanted && st.is_granted() => {
                return Ok(format!("{} / {}", s.provider, s.name))
            }
            Some(st) => {
                why = format!(
                    "{}: {} {} at {t}",
                    s.name,
                    st.service_type,
                    st.status_name()
                )
            }
            None => why = format!("{}: not on the list at {t}", s.name),
        }
    }
    Err(why)
}

fn suffix(uri: &str) -> &str {
    uri.rsplit('/').next().unwrap_or(uri)
}

fn under_service(leaf: &X509, s: &Service, t: DateTime<Utc>) -> Qualification {
    let label = format!("{} / {}", s.provider, s.name);
    let mut q = Qualification {
        qualified: false,
        qc_type: None,
        qscd: false,
        service: Some(label.clone()),
        notes: Vec::new(),
    };
    let Some(state) = s.state_at(t) else {
        q.notes.push(format!("{label}: not on the list at {t}"));
        return q;
    };
    if state.service_type != CA_QC {
        q.notes.push(format!(
            "{label}: service type {} is not CA/QC",
            state.service_type
        ));
        return q;
    }
    if !state.is_granted() {
        q.notes
            .push(format!("{label}: status {} at {t}", state.status_name()));
        return q;
    }
    let der = leaf.to_der().unwrap_or_default();
    let qc = qc_statements(&der);
    let pols = policies(&der);
    let qualifiers: Vec<&str> = state
        .qualifications
        .iter()
        .filter(|x| criteria_match(&x.criteria, leaf, &pols))
        .flat_map(|x| x.qualifiers.iter().map(|u| suffix(u)))
        .collect();
    let has = |n: &str| qualifiers.contains(&n);
    q.qualified = !has("NotQualified") && (qc.compliance || has("QCStatement"));
    if !q.qualified {
        q.notes
            .push("neither QcCompliance nor a QCStatement qualifier".into());
        return q;
    }
    q.qc_type = if has("QCForESig") {
        Some(QcType::ESig)
    } else if has("QCForESeal") {
        Some(QcType::ESeal)
    } else if has("QCForWSA") {
        Some(QcType::Web)
    } else if qc.types.iter().any(|t| t == "0.4.0.1862.1.6.2") {
        Some(QcType::ESeal)
    } else if qc.types.iter().any(|t| t == "0.4.0.1862.1.6.3") {
        Some(QcType::Web)
    } else {
        // EN 319 412-5 §4.2.3: without QcType the certificate is for electronic signatures.
        Some(QcType::ESig)
    };
    q.qscd = if has("QCWithSSCD") || has("QCWithQSCD") || has("QCQSCDManagedOnBehalf") {
        true
    } else if has("QCNoSSCD") || has("QCNoQSCD") {
        false
    } else {
        qc.sscd
    };
    q
}

fn key_usage_bit(ku: Option<X509KeyUsage>, name: &str) -> bool {
    let Some(ku) = ku else { return false };
    let flag = match name {
        "digitalSignature" => X509KeyUsage::DIGITAL_SIGNATURE,
        "nonRepudiation" | "contentCommitment" => X509KeyUsage::NON_REPUDIATION,
        "keyEncipherment" => X509KeyUsage::KEY_ENCIPHERMENT,
        "dataEncipherment" => X509KeyUsage::DATA_ENCIPHERMENT,
        "keyAgreement" => X509KeyUsage::KEY_AGREEMENT,
        "keyCertSign" => X509KeyUsage::KEY_CERT_SIGN,
        "crlSign" => X509KeyUsage::CRL_SIGN,
        "encipherOnly" => X509KeyUsage::ENCIPHER_ONLY,
        "decipherOnly" => X509KeyUsage::DECIPHER_ONLY,
        _ => return false,
    };
    ku.contains(flag)
}

/// TS 119 612 §5.5.9.2.1: a `CriteriaList` with `assert` all / atLeastOne / none over its
/// KeyUsage and PolicySet groups and nested lists.
pub fn criteria_match(c: &Criteria, leaf: &X509Ref, pols: &[String]) -> bool {
    let ku = leaf.key_usage();
    let mut results = Vec::new();
    for group in &c.key_usage {
        results.push(group.iter().all(|(bit, v)| key_usage_bit(ku, bit) == *v));
    }
    for set in &c.policy_sets {
        results.push(set.iter().all(|p| pols.contains(p)));
    }
    for n in &c.nested {
        results.push(criteria_match(n, leaf, pols));
    }
    match c.assert.as_str() {
        "atLeastOne" => results.iter().any(|r| *r),
        "none" => !results.iter().any(|r| *r),
        _ => results.iter().all(|r| *r),
    }
}
