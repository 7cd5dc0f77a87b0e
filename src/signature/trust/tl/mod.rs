//! Trusted lists (ETSI TS 119 612): the EU list of lists and national lists, parsed from XML
//! ([`parse`]), their XAdES signatures checked against the certificates the parent list
//! announces ([`load`]), and the services kept with their status history (§5.5, §5.6) for
//! qualification (TS 119 615).

pub mod load;
pub mod parse;

use chrono::{DateTime, Utc};
use openssl::x509::X509;
use std::sync::OnceLock;

/// Certificates of a list, kept as DER and decoded on first use. Decoding is most of the cost
/// of reading a list (OpenSSL 3 decodes each public key: about 100 certificates in the Polish
/// list, several hundred in the EU list of lists, most never used by a validation).
#[derive(Clone, Default)]
pub struct Certificates {
    der: Vec<Vec<u8>>,
    decoded: OnceLock<Vec<X509>>,
}

impl Certificates {
    /// From DER encodings (one that does not decode is left out on use).
    pub fn from_der(der: Vec<Vec<u8>>) -> Certificates {
        Certificates {
            der,
            decoded: OnceLock::new(),
        }
    }

    /// The DER encodings as read.
    pub fn der(&self) -> &[Vec<u8>] {
        &self.der
    }
}

impl From<Vec<X509>> for Certificates {
    fn from(certs: Vec<X509>) -> Certificates {
        Certificates {
            der: certs.iter().filter_map(|c| c.to_der().ok()).collect(),
            decoded: OnceLock::from(certs),
        }
    }
}

impl std::ops::Deref for Certificates {
    type Target = [X509];

    fn deref(&self) -> &[X509] {
        self.decoded.get_or_init(|| {
            self.der
                .iter()
                .filter_map(|d| X509::from_der(d).ok())
                .collect()
        })
    }
}

impl std::fmt::Debug for Certificates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} certificates", self.der.len())
    }
}

/// `http://uri.etsi.org/TrstSvc/Svctype/CA/QC`.
pub const CA_QC: &str = "http://uri.etsi.org/TrstSvc/Svctype/CA/QC";
/// The prefix of the status URIs (TS 119 612 §5.5.4).
pub const STATUS_PREFIX: &str = "http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/";

/// How the list's own signature was found (TS 119 612 §5.7.1).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum SignatureCheck {
    /// Not checked (a list loaded for its content only, e.g. a test variant).
    #[default]
    Unchecked,
    /// Intact, and the signer is one the parent list announces.
    Verified,
    /// Intact, but no parent list announced this signer (or no parent was given).
    SignerNotAnnounced,
    /// Not intact, or no signature.
    Broken(String),
}

impl std::fmt::Display for SignatureCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SignatureCheck::Unchecked => write!(f, "signature not checked"),
            SignatureCheck::Verified => write!(f, "signature verified, signer announced"),
            SignatureCheck::SignerNotAnnounced => {
                write!(f, "signature intact, signer announced by no parent list")
            }
            SignatureCheck::Broken(why) => write!(f, "signature broken: {why}"),
        }
    }
}

/// A `QualificationElement` (TS 119 612 §5.5.9.2): qualifiers applying to the certificates
/// that meet the criteria.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Qualification {
    /// Qualifier URIs (`.../SvcInfoExt/QCWithSSCD`, `.../QCStatement`, ...).
    pub qualifiers: Vec<String>,
    /// Which certificates.
    pub criteria: Criteria,
}

/// A `CriteriaList` (TS 119 612 §5.5.9.2.1).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Criteria {
    /// `all`, `atLeastOne` or `none`.
    pub assert: String,
    /// `KeyUsage` groups: every bit named in a group must have the value given.
    pub key_usage: Vec<Vec<(String, bool)>>,
    /// `PolicySet` groups: every policy in a group must be in the certificate.
    pub policy_sets: Vec<Vec<String>>,
    /// Nested `CriteriaList`s.
    pub nested: Vec<Criteria>,
}

/// One state of a service: the current information or a `ServiceHistoryInstance` (§5.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceState {
    /// `ServiceTypeIdentifier`.
    pub service_type: String,
    /// `ServiceStatus` URI.
    pub status: String,
    /// `StatusStartingTime`.
    pub start: DateTime<Utc>,
    /// The qualifications of this state.
    pub qualifications: Vec<Qualification>,
    /// `AdditionalServiceInformation` URIs (`.../ForeSignatures`, `.../ForeSeals`, ...).
    pub additional: Vec<String>,
}

impl ServiceState {
    /// The status name without its prefix (`granted`, `withdrawn`, ...).
    pub fn status_name(&self) -> &str {
        self.status.rsplit('/').next().unwrap_or(&self.status)
    }

    /// Whether the status means "qualified" (TS 119 615 §4.3.4: `granted`, and before 2016-07-01
    /// the Directive 1999/93/EC statuses `undersupervision`, `supervisionincessation`,
    /// `accredited`).
    pub fn is_granted(&self) -> bool {
        matches!(
            self.status_name(),
            "granted" | "undersupervision" | "supervisionincessation" | "accredited"
        )
    }
}

/// A trust service with its history.
#[derive(Debug, Clone)]
pub struct Service {
    /// The provider's name (`TSPName`, first entry).
    pub provider: String,
    /// The service's name (`ServiceName`, first entry).
    pub name: String,
    /// `ServiceDigitalIdentity` certificates.
    pub certificates: Certificates,
    /// The states, newest first (the current one, then the history instances).
    pub states: Vec<ServiceState>,
}

impl Service {
    /// The state in force at `t`: the newest whose starting time is not after `t` (§5.6).
    pub fn state_at(&self, t: DateTime<Utc>) -> Option<&ServiceState> {
        self.states.iter().find(|s| s.start <= t)
    }

    /// The current state.
    pub fn current(&self) -> Option<&ServiceState> {
        self.states.first()
    }
}

/// An `OtherTSLPointer` of a list of lists (§5.3.13).
#[derive(Debug, Clone)]
pub struct Pointer {
    /// `TSLLocation`.
    pub location: String,
    /// `SchemeTerritory` of the pointed list.
    pub territory: Option<String>,
    /// The certificates that may sign the pointed list.
    pub certificates: Certificates,
}

/// One trusted list.
#[derive(Debug, Clone, Default)]
pub struct TrustedList {
    /// `SchemeTerritory` (`PL`, `EU`, ...).
    pub territory: String,
    /// `TSLSequenceNumber`.
    pub sequence: u64,
    /// `ListIssueDateTime`.
    pub issued: Option<DateTime<Utc>>,
    /// `NextUpdate`.
    pub next_update: Option<DateTime<Utc>>,
    /// Every service of every provider.
    pub services: Vec<Service>,
    /// Pointers to other lists (the EU list of lists).
    pub pointers: Vec<Pointer>,
    /// The list's own signature.
    pub signature: SignatureCheck,
}

impl TrustedList {
    /// Certificates of the services that issue certificates (`CA/QC`, `CA/PKC`,
    /// `NationalRootCA-QC`): anchors for paths.
    pub fn ca_certificates(&self) -> impl Iterator<Item = &X509> {
        self.services
            .iter()
            .filter(|s| {
                s.states.iter().any(|st| {
                    st.service_type.contains("/Svctype/CA/")
                        || st.service_type.contains("NationalRootCA")
                })
            })
            .flat_map(|s| s.certificates.iter())
    }

    /// Services of the given type in their current state.
    pub fn services_of_type<'a>(&'a self, ty: &'a str) -> impl Iterator<Item = &'a Service> {
        self.services
            .iter()
            .filter(move |s| s.current().is_some_and(|c| c.service_type == ty))
    }
}
