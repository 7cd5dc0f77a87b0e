//! The verification report: the JSON contract of DESIGN.md ("The verification report"), shared by
//! `podawcza verify --json`, the upload API and the inbox. Field names are fixed; fields may be added.

use serde::{Deserialize, Serialize};

/// The report for one file. (`Default` so that constructors can name only what they set, and
/// added fields such as `warnings` do not break them.)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Report {
    /// The file name as given.
    pub file: String,
    /// SHA-256 of the file's bytes (hex).
    pub sha256: String,
    /// `xml`, `pdf`, `cms`, `asic-e`, `asic-s`, `zip`, `eml`, `other`.
    pub container: String,
    /// One entry per signature found; empty when the file carries none.
    pub signatures: Vec<SignatureReport>,
    /// Facts about the file that are not signatures (a PDF document time-stamp, a container
    /// without `mimetype`, counter-signatures not listed separately). Added field: absent when empty.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub warnings: Vec<String>,
    /// Set when the file could not be parsed at all.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error: Option<String>,
}

/// The report for one signature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct SignatureReport {
    /// `S1`, `S2`, ... in document order.
    pub id: String,
    /// `XAdES`, `XMLDSig`, `PAdES`, `CAdES`, `S/MIME`.
    pub format: String,
    /// `B-B`, `B-T`, `B-LT`, `B-LTA`, when known.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub level: Option<String>,
    /// Whether the signature was cryptographically checked at all. `false` means only its
    /// structure was found: `intact` and `indication` are then absent, never guessed.
    pub checked: bool,
    /// Every reference digest, the signature value and the signing-certificate binding verify.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub intact: Option<bool>,
    /// `TOTAL_PASSED`, `TOTAL_FAILED`, `INDETERMINATE` (ETSI EN 319 102-1).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub indication: Option<String>,
    /// The EN 319 102-1 sub-indication name.
    #[serde(default)]
    pub sub_indication: Option<String>,
    /// `qes`, `qualified_seal`, `trusted_profile`, `personal`, `advanced`, `unknown`.
    pub kind: String,
    /// Who signed, as far as the evidence says.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub signer: Option<Signer>,
    /// Claimed signing time (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub signing_time: Option<String>,
    /// Time of the signature time-stamp (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub timestamp_time: Option<String>,
    /// The signing certificate.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub certificate: Option<CertificateInfo>,
    /// What the signature covers.
    #[serde(default)]
    pub signed_data: Vec<SignedData>,
    /// Things worth knowing that do not fail the signature.
    #[serde(default)]
    pub warnings: Vec<String>,
    /// Reasons for failure.
    #[serde(default)]
    pub errors: Vec<String>,
    /// Roles the signer claims (XAdES SignerRole), as written.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub claimed_roles: Vec<String>,
    /// The signature policy identifier (XAdES SignaturePolicyIdentifier), or `implied`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub signature_policy: Option<String>,
    /// Commitment types (XAdES CommitmentTypeIndication), e.g. `...#ProofOfOrigin`.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub commitment_types: Vec<String>,
    /// The certification path found by the validation stage, from the signing certificate to
    /// the trust anchor. Added field: absent when no path was found or not yet validated.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub chain: Vec<CertificateInfo>,
    /// One Polish sentence for the clerk (validation stage). Added field: absent until validated.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub summary: Option<String>,
    /// What the format module hands to the validation stage (never serialised; taken by
    /// [`crate::signature::trust::validate_report`]).
    #[serde(skip)]
    pub validation_input: Option<crate::signature::trust::ValidationInput>,
}

/// The signer's identity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Signer {
    /// Display name.
    pub name: Option<String>,
    /// Given name.
    pub given_name: Option<String>,
    /// Surname.
    pub surname: Option<String>,
    /// Certificate subject serialNumber (e.g. `PNOPL-…`).
    pub serial_number: Option<String>,
    /// PESEL, when the evidence carries one.
    pub pesel: Option<String>,
    /// Organization.
    pub organization: Option<String>,
    /// E-mail address.
    pub email: Option<String>,
    /// ePUAP account of a podpis zaufany signer (`IdKontaUzytkownikaEpuap`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub epuap_account: Option<String>,
}

/// The signing certificate, summarised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct CertificateInfo {
    /// Subject DN.
    pub subject: String,
    /// Issuer DN.
    pub issuer: String,
    /// Serial number (hex).
    pub serial: String,
    /// SHA-256 of the DER certificate (hex).
    pub sha256: String,
    /// Start of validity (RFC 3339).
    pub not_before: String,
    /// End of validity (RFC 3339).
    pub not_after: String,
    /// Qualified, as decided by the validation stage (absent until then).
    pub qualified: Option<bool>,
}

/// One piece of signed data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct SignedData {
    /// File or element name.
    pub name: String,
    /// SHA-256 of the signed bytes (hex), when known.
    pub sha256: Option<String>,
    /// Whether the whole file is covered.
    pub whole_file: bool,
}

impl Report {
    /// Whether any signature was found.
    pub fn is_signed(&self) -> bool {
        !self.signatures.is_empty()
    }
}
