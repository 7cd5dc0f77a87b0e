//! XAdES qualifying properties (ETSI EN 319 132-1; legacy namespaces of TS 101 903 v1.1.1 and
//! v1.2.2): the binding of QualifyingProperties to the signature (§4.3.1 `Target`), the typed
//! reference to SignedProperties (§4.3.1, §6.3 a), the signing-certificate binding
//! (§5.2.2 SigningCertificateV2, and v1 SigningCertificate), SigningTime (§5.2.1), SignerRole
//! (§5.2.6) with the podpis zaufany identity, and the unsigned properties that set the level
//! (§5.3 SignatureTimeStamp, §5.5 CertificateValues / RevocationValues, §5.5.2 ArchiveTimeStamp).

use super::der;
use super::dsig::{ReferenceCheck, SignatureXml};
use super::transforms::{decode_base64, is_dsig};
use openssl::x509::X509;
use roxmltree::Node;

/// XAdES namespaces, newest first.
pub const XADES_NS: [&str; 4] = [
    "http://uri.etsi.org/01903/v1.3.2#",
    "http://uri.etsi.org/01903/v1.4.1#",
    "http://uri.etsi.org/01903/v1.2.2#",
    "http://uri.etsi.org/01903/v1.1.1#",
];
const SIGNED_PROPERTIES_TYPES: [&str; 3] = [
    "http://uri.etsi.org/01903#SignedProperties",
    "http://uri.etsi.org/01903/v1.2.2#SignedProperties",
    "http://uri.etsi.org/01903/v1.1.1#SignedProperties",
];
const PPZP_NS: &str = "http://crd.gov.pl/xml/schematy/ppzp/";
const PZ_NS: &str = "http://crd.gov.pl/xml/schematy/podpis_zaufany/";

/// Whether `n` is the XAdES element `local` in any XAdES namespace.
pub fn is_xades(n: Node, local: &str) -> bool {
    n.is_element()
        && n.tag_name().name() == local
        && n.tag_name()
            .namespace()
            .is_some_and(|ns| XADES_NS.contains(&ns))
}

fn xchild<'a, 'i>(n: Node<'a, 'i>, local: &str) -> Option<Node<'a, 'i>> {
    n.children().find(|c| is_xades(*c, local))
}

fn xpath_of<'a, 'i>(n: Node<'a, 'i>, path: &[&str]) -> Option<Node<'a, 'i>> {
    path.iter().try_fold(n, |cur, local| xchild(cur, local))
}

/// A certificate named by SigningCertificate(V2)/Cert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertRef {
    /// `CertDigest/DigestMethod/@Algorithm`.
    pub digest_method: String,
    /// `CertDigest/DigestValue`, decoded.
    pub digest: Vec<u8>,
    /// Serial number content octets (from IssuerSerial or IssuerSerialV2), when given.
    pub serial: Option<Vec<u8>>,
}

/// The podpis zaufany identity in `ppZP:PodpisZP` or `EPSignature` (VERIFY-NOTES.md).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TrustedProfileIdentity {
    /// os:Imie / FirstName.
    pub given_name: Option<String>,
    /// os:Nazwisko / CurrentFamilyName.
    pub surname: Option<String>,
    /// os:PESEL / PersonalIdentifier.
    pub pesel: Option<String>,
    /// IdKontaUzytkownikaEpuap (under DanePodpisu or DaneZPOsobyFizycznej).
    pub epuap_account: Option<String>,
    /// DateOfBirth (EPSignature form).
    pub date_of_birth: Option<String>,
}

/// A time-stamp token found among the unsigned properties.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeStamp {
    /// The property: `SignatureTimeStamp`, `ArchiveTimeStamp`, ...
    pub kind: String,
    /// `genTime` (RFC 3339), when the token could be read.
    pub time: Option<String>,
    /// Whether the imprint matches the time-stamped data (only checked for SignatureTimeStamp).
    pub imprint_matches: Option<bool>,
    /// The token's own CMS signature verifies with the TSA certificate it carries (RFC 3161
    /// §2.4.2; the CMS verifier's check). Needed before its time serves as proof of existence.
    pub token_intact: bool,
    /// The TSA certificate (DER) the token carries.
    pub tsa_certificate: Option<Vec<u8>>,
}

/// What the qualifying properties of one signature say.
#[derive(Debug, Clone, Default)]
pub struct Xades {
    /// The namespace used.
    pub namespace: String,
    /// Certificates named by SigningCertificate / SigningCertificateV2 (readable entries).
    pub signing_certificates: Vec<CertRef>,
    /// Whether a SigningCertificate or SigningCertificateV2 property is present at all.
    pub signing_certificate_present: bool,
    /// SigningTime as written.
    pub signing_time: Option<String>,
    /// ClaimedRole texts (other than the podpis zaufany structure).
    pub claimed_roles: Vec<String>,
    /// The podpis zaufany identity, when present.
    pub trusted_profile: Option<TrustedProfileIdentity>,
    /// SignaturePolicyIdentifier (§5.2.9): the policy identifier, or `implied`.
    pub signature_policy: Option<String>,
    /// CommitmentTypeIndication identifiers (§5.2.3).
    pub commitment_types: Vec<String>,
    /// Time-stamp tokens.
    pub timestamps: Vec<TimeStamp>,
    /// CertificateValues present.
    pub certificate_values: bool,
    /// RevocationValues present.
    pub revocation_values: bool,
    /// Certificates in CertificateValues (DER).
    pub extra_certificates: Vec<Vec<u8>>,
    /// CRLs in RevocationValues (EncapsulatedCRLValue, DER), also those of the time-stamps'
    /// and attribute authorities' validation data (EN 319 132-1 §5.5.2, §5.5.4, XAdES 1.4.1
    /// TimeStampValidationData).
    pub crls: Vec<Vec<u8>>,
    /// OCSP responses in RevocationValues (EncapsulatedOCSPValue, DER OCSPResponse, or the
    /// BasicOCSPResponse some signers put there), likewise.
    pub ocsp_responses: Vec<Vec<u8>>,
    /// Structural failures that break the signature (FORMAT_FAILURE / SIG_CRYPTO_FAILURE).
    pub errors: Vec<String>,
    /// Things worth reporting.
    pub warnings: Vec<String>,
}

/// Reads the XAdES properties of `sig`; `None` when it has no QualifyingProperties (plain
/// XML-DSig).
pub fn read(sig: &SignatureXml, checks: &[ReferenceCheck]) -> Option<Xades> {
    let qps: Vec<Node> = sig
        .node
        .children()
        .filter(|c| is_dsig(*c, "Object"))
        .flat_map(|o| {
            o.children()
                .filter(|c| is_xades(*c, "QualifyingProperties"))
        })
        .collect();
    let qp = *qps.first()?;
    let mut x = Xades {
        namespace: qp.tag_name().namespace().unwrap_or("").to_string(),
        ..Xades::default()
    };
    if qps.len() > 1 {
        x.errors
            .push("more than one QualifyingProperties in the signature".into());
    }
    check_target(sig, qp, &mut x);
    let Some(sp) = xchild(qp, "SignedProperties") else {
        x.errors
            .push("QualifyingProperties without SignedProperties".into());
        return Some(x);
    };
    check_signed_properties_reference(sp, checks, &mut x);
    if let Some(ssp) = xchild(sp, "SignedSignatureProperties") {
        read_signed_signature_properties(ssp, &mut x);
    }
    if let Some(sdop) = xchild(sp, "SignedDataObjectProperties") {
        x.commitment_types = sdop
            .children()
            .filter(|c| is_xades(*c, "CommitmentTypeIndication"))
            .filter_map(|c| xpath_of(c, &["CommitmentTypeId", "Identifier"]))
            .filter_map(|i| i.text().map(|t| t.trim().to_string()))
            .collect();
    }
    if let Some(usp) = xpath_of(qp, &["UnsignedProperties", "UnsignedSignatureProperties"]) {
        read_unsigned(sig, usp, &mut x);
    }
    Some(x)
}

/// EN 319 132-1 §4.3.1: `Target` names this signature's Id. The cryptographic binding is the
/// SignedProperties reference (checked below); producers that misspell the Target (no `#`,
/// other case: DSS accepts both) get a warning, not a failure.
fn check_target(sig: &SignatureXml, qp: Node, x: &mut Xades) {
    let target = qp.attribute("Target").unwrap_or("");
    let bound = sig
        .id
        .is_some_and(|id| target.strip_prefix('#') == Some(id));
    if !bound {
        x.warnings.push(format!(
            "QualifyingProperties Target {target:?} does not name this signature"
        ));
    }
}

/// §6.3 a): one reference covers SignedProperties (and says so with its Type).
fn check_signed_properties_reference(sp: Node, checks: &[ReferenceCheck], x: &mut Xades) {
    let covering: Vec<&ReferenceCheck> = checks
        .iter()
        .filter(|c| c.element.is_some_and(|e| e.id() == sp.id()))
        .collect();
    match covering.first() {
        None => x
            .errors
            .push("SignedProperties not covered by a reference".into()),
        Some(c) => {
            let typed = c
                .kind
                .as_deref()
                .is_some_and(|k| SIGNED_PROPERTIES_TYPES.contains(&k));
            if !typed {
                x.warnings
                    .push("the SignedProperties reference has no SignedProperties Type".into());
            }
        }
    }
}

fn read_signed_signature_properties(ssp: Node, x: &mut Xades) {
    x.signing_time = xchild(ssp, "SigningTime")
        .and_then(|t| t.text())
        .map(|t| t.trim().to_string());
    for name in ["SigningCertificateV2", "SigningCertificate"] {
        if let Some(sc) = xchild(ssp, name) {
            x.signing_certificate_present = true;
            for cert in sc.children().filter(|c| is_xades(*c, "Cert")) {
                if let Some(r) = cert_ref(cert) {
                    x.signing_certificates.push(r);
                }
            }
        }
    }
    let role = xchild(ssp, "SignerRoleV2").or_else(|| xchild(ssp, "SignerRole"));
    if let Some(claimed) = role.and_then(|r| xchild(r, "ClaimedRoles")) {
        for c in claimed.children().filter(|c| is_xades(*c, "ClaimedRole")) {
            let text = c.text().map(str::trim).unwrap_or("");
            if !text.is_empty() {
                x.claimed_roles.push(text.to_string());
            }
        }
    }
    x.trusted_profile = trusted_profile(ssp);
    x.signature_policy = xchild(ssp, "SignaturePolicyIdentifier").map(|p| {
        if xchild(p, "SignaturePolicyImplied").is_some() {
            return "implied".to_string();
        }
        xpath_of(p, &["SignaturePolicyId", "SigPolicyId", "Identifier"])
            .and_then(|i| i.text())
            .map_or_else(String::new, |t| t.trim().to_string())
    });
}

fn cert_ref(cert: Node) -> Option<CertRef> {
    let digest = xchild(cert, "CertDigest")?;
    let method = digest
        .children()
        .find(|c| c.tag_name().name() == "DigestMethod")?
        .attribute("Algorithm")?;
    let value = digest
        .children()
        .find(|c| c.tag_name().name() == "DigestValue")?;
    let serial = xchild(cert, "IssuerSerial")
        .and_then(|is| {
            is.children()
                .find(|c| c.is_element() && c.tag_name().name() == "X509SerialNumber")
        })
        .and_then(|s| s.text())
        .and_then(|t| openssl::bn::BigNum::from_dec_str(t.trim()).ok())
        .map(|bn| bn.to_vec())
        .or_else(|| {
            let v2 = xchild(cert, "IssuerSerialV2")?;
            let der = decode_base64(v2.text().unwrap_or("").as_bytes())?;
            der::issuer_serial_number(&der).map(strip_sign_byte)
        });
    Some(CertRef {
        digest_method: method.to_string(),
        digest: decode_base64(value.text().unwrap_or("").as_bytes())?,
        serial,
    })
}

/// DER INTEGER content with its leading sign octet removed, to compare with `BigNum::to_vec`.
fn strip_sign_byte(content: &[u8]) -> Vec<u8> {
    match content.split_first() {
        Some((0, rest)) if !rest.is_empty() => rest.to_vec(),
        _ => content.to_vec(),
    }
}

/// EN 319 132-1 §5.2.2 (and v1 §7.2.2): does some Cert entry name `cert` by digest, and by
/// serial number when one is given? `None` when the signature names no certificate; `false`
/// when the property is there but no readable entry names it.
pub fn signing_certificate_matches(x: &Xades, cert: &X509) -> Option<bool> {
    if !x.signing_certificate_present {
        return None;
    }
    let der = cert.to_der().ok()?;
    let serial = cert.serial_number().to_bn().ok().map(|b| b.to_vec());
    Some(x.signing_certificates.iter().any(|r| {
        let Some(md) = super::algorithms::digest_by_uri(&r.digest_method) else {
            return false;
        };
        let digest_ok = super::algorithms::digest(md, &der).as_deref() == Some(&r.digest[..]);
        let serial_ok = r.serial.is_none() || r.serial == serial;
        digest_ok && serial_ok
    }))
}

fn text_at(n: Node, ns: &str, local: &str) -> Option<String> {
    n.descendants()
        .find(|d| d.tag_name().name() == local && d.tag_name().namespace() == Some(ns))
        .and_then(|d| d.text())
        .map(|t| t.trim().to_string())
}

fn text_local(n: Node, local: &str) -> Option<String> {
    n.descendants()
        .find(|d| d.is_element() && d.tag_name().name() == local)
        .and_then(|d| d.text())
        .map(|t| t.trim().to_string())
}

/// VERIFY-NOTES.md "Polish trust facts": `ppZP:PodpisZP` (name, PESEL, ePUAP account in either
/// placement) or the newer `EPSignature` / `NaturalPerson` form.
fn trusted_profile(ssp: Node) -> Option<TrustedProfileIdentity> {
    let os = "http://crd.gov.pl/xml/schematy/osoba/2009/03/06/";
    if let Some(pz) = ssp
        .descendants()
        .find(|d| d.tag_name().name() == "PodpisZP" && d.tag_name().namespace() == Some(PPZP_NS))
    {
        return Some(TrustedProfileIdentity {
            given_name: text_at(pz, os, "Imie"),
            surname: text_at(pz, os, "Nazwisko"),
            pesel: text_at(pz, os, "PESEL"),
            epuap_account: text_at(pz, PPZP_NS, "IdKontaUzytkownikaEpuap"),
            date_of_birth: None,
        });
    }
    let ep = ssp.descendants().find(|d| {
        d.tag_name().name() == "EPSignature" && d.tag_name().namespace() == Some(PZ_NS)
    })?;
    let person = ep
        .descendants()
        .find(|d| d.tag_name().name() == "NaturalPerson")?;
    Some(TrustedProfileIdentity {
        given_name: text_local(person, "FirstName"),
        surname: text_local(person, "CurrentFamilyName"),
        // eIDAS-style identifiers carry the PESEL as `PNOPL-<PESEL>`.
        pesel: text_local(person, "PersonalIdentifier")
            .map(|id| super::certinfo::pesel_from_serial(&id).unwrap_or(id)),
        epuap_account: text_local(ep, "IdKontaUzytkownikaEpuap"),
        date_of_birth: text_local(person, "DateOfBirth"),
    })
}

fn read_unsigned(sig: &SignatureXml, usp: Node, x: &mut Xades) {
    for prop in usp.children().filter(|c| c.is_element()) {
        let name = prop.tag_name().name();
        match name {
            "CertificateValues" => {
                x.certificate_values = true;
                x.extra_certificates.extend(
                    prop.children()
                        .filter(|c| c.tag_name().name() == "EncapsulatedX509Certificate")
                        .filter_map(|c| decode_base64(c.text().unwrap_or("").as_bytes())),
                );
            }
            "RevocationValues" => {
                x.revocation_values = true;
                read_revocation_values(prop, x);
            }
            // Validation data of time-stamps and attribute authorities: more certificates and
            // revocation values, not what makes the signature B-LT.
            "TimeStampValidationData"
            | "AttrAuthoritiesCertValues"
            | "AttributeRevocationValues" => {
                for part in prop.descendants().filter(|d| d.is_element()) {
                    match part.tag_name().name() {
                        "EncapsulatedX509Certificate" => x
                            .extra_certificates
                            .extend(decode_base64(part.text().unwrap_or("").as_bytes())),
                        "EncapsulatedCRLValue" => x
                            .crls
                            .extend(decode_base64(part.text().unwrap_or("").as_bytes())),
                        "EncapsulatedOCSPValue" => x
                            .ocsp_responses
                            .extend(decode_base64(part.text().unwrap_or("").as_bytes())),
                        _ => {}
                    }
                }
            }
            "SignatureTimeStamp"
            | "ArchiveTimeStamp"
            | "SigAndRefsTimeStamp"
            | "RefsOnlyTimeStamp" => {
                x.timestamps.push(read_timestamp(sig, prop, name));
            }
            _ => {}
        }
    }
}

/// RevocationValues (EN 319 132-1 §5.5.2): CRLValues / EncapsulatedCRLValue and OCSPValues /
/// EncapsulatedOCSPValue, base64 DER.
fn read_revocation_values(prop: Node, x: &mut Xades) {
    for group in prop.children().filter(|c| c.is_element()) {
        let (item, out) = match group.tag_name().name() {
            "CRLValues" => ("EncapsulatedCRLValue", &mut x.crls),
            "OCSPValues" => ("EncapsulatedOCSPValue", &mut x.ocsp_responses),
            _ => continue,
        };
        out.extend(
            group
                .children()
                .filter(|c| c.tag_name().name() == item)
                .filter_map(|c| decode_base64(c.text().unwrap_or("").as_bytes())),
        );
    }
}

fn read_timestamp(sig: &SignatureXml, prop: Node, kind: &str) -> TimeStamp {
    let token = prop
        .children()
        .find(|c| c.tag_name().name() == "EncapsulatedTimeStamp")
        .and_then(|e| decode_base64(e.text().unwrap_or("").as_bytes()));
    let info = token.as_deref().and_then(der::tst_info);
    let imprint_matches = match (&info, kind) {
        (Some(info), "SignatureTimeStamp") => signature_timestamp_imprint(sig, prop, info),
        _ => None,
    };
    let token_check = token
        .as_deref()
        .map(|t| crate::signature::cms::timestamp::check(kind, t, None));
    TimeStamp {
        kind: kind.to_string(),
        time: info
            .as_ref()
            .and_then(|i| der::generalized_time_to_rfc3339(&i.gen_time)),
        imprint_matches,
        token_intact: token_check.as_ref().is_some_and(|c| c.intact),
        tsa_certificate: token_check.and_then(|c| c.tsa_certificate),
    }
}

/// EN 319 132-1 §5.3: the SignatureTimeStamp imprint is over the canonical ds:SignatureValue.
fn signature_timestamp_imprint(
    sig: &SignatureXml,
    prop: Node,
    info: &der::TstInfo,
) -> Option<bool> {
    let value = sig
        .node
        .children()
        .find(|c| is_dsig(*c, "SignatureValue"))?;
    let uri = prop
        .children()
        .find(|c| c.tag_name().name() == "CanonicalizationMethod")
        .and_then(|c| c.attribute("Algorithm"))
        .unwrap_or("http://www.w3.org/TR/2001/REC-xml-c14n-20010315");
    let params = super::c14n::Params::from_uri(uri)?;
    let doc = sig.node.document();
    let set = super::nodeset::NodeSet::subtree(doc, value);
    let octets = super::c14n::canonicalize(doc, &set, &params);
    let md = der::digest_for_oid(&info.hash_oid)?;
    Some(super::algorithms::digest(md, &octets)? == info.imprint)
}

#[cfg(test)]
mod tests {
    use super::*;
    use roxmltree::Document;

    fn ssp_of(doc: &Document) -> TrustedProfileIdentity {
        let ssp = doc
            .descendants()
            .find(|n| is_xades(*n, "SignedSignatureProperties"))
            .unwrap();
        trusted_profile(ssp).unwrap()
    }

    #[test]
    fn reads_podpis_zaufany_with_the_account_under_dane_podpisu() {
        let path = crate::signature::xml::c14n_conformance::corpus_dir()
            .join("poland/synthetic/synthetic_podpis_zaufany_signedproperties_fragment.xml");
        let xml = std::fs::read_to_string(path).unwrap();
        let doc = Document::parse(&xml).unwrap();
        let pz = ssp_of(&doc);
        assert_eq!(pz.given_name.as_deref(), Some("Jan"));
        assert_eq!(pz.surname.as_deref(), Some("Testowy"));
        assert_eq!(pz.pesel.as_deref(), Some("00000000000"));
        assert_eq!(pz.epuap_account.as_deref(), Some("jan_testowy"));
    }

    #[test]
    fn reads_the_newer_ep_signature_natural_person_form() {
        let xml = r#"<x:SignedSignatureProperties xmlns:x="http://uri.etsi.org/01903/v1.3.2#"><x:SignerRole><x:ClaimedRoles><x:ClaimedRole><pz:EPSignature xmlns:pz="http://crd.gov.pl/xml/schematy/podpis_zaufany/"><pz:NaturalPerson><pz:CurrentFamilyName>Nowak</pz:CurrentFamilyName><pz:FirstName>Anna</pz:FirstName><pz:DateOfBirth>1990-01-01</pz:DateOfBirth><pz:PersonalIdentifier>PNOPL-90010100000</pz:PersonalIdentifier></pz:NaturalPerson></pz:EPSignature></x:ClaimedRole></x:ClaimedRoles></x:SignerRole></x:SignedSignatureProperties>"#;
        let doc = Document::parse(xml).unwrap();
        let pz = ssp_of(&doc);
        assert_eq!(pz.surname.as_deref(), Some("Nowak"));
        assert_eq!(pz.given_name.as_deref(), Some("Anna"));
        assert_eq!(pz.pesel.as_deref(), Some("90010100000"));
        assert_eq!(pz.date_of_birth.as_deref(), Some("1990-01-01"));
    }
}
