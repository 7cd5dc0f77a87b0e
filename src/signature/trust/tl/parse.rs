//! Reading a trusted list (ETSI TS 119 612 §5, Annex C schema) from XML with roxmltree, no DTD,
//! by local names (lists in the wild use any prefix): scheme information, pointers to other
//! lists, and every service with its current state and history. Malformed entries are skipped,
//! never fatal: a list is external data.

use super::{Certificates, Criteria, Pointer, Qualification, Service, ServiceState, TrustedList};
use base64::Engine;
use chrono::{DateTime, Utc};
use roxmltree::{Document, Node, ParsingOptions};

/// Why a list could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum ListError {
    /// Not well-formed XML (or a DTD, which lists never need).
    #[error("not a readable trusted list: {0}")]
    Xml(#[from] roxmltree::Error),
    /// Not a `TrustServiceStatusList`.
    #[error("root element is {0:?}, not TrustServiceStatusList")]
    NotAList(String),
    /// Not UTF-8.
    #[error("trusted list is not UTF-8")]
    Encoding,
    /// Refused by the XML verifier's parser (limits, DTD, not well-formed).
    #[error("not a readable trusted list: {0}")]
    Parse(#[from] crate::signature::xml::parse::ParseError),
}

fn child<'a, 'i>(n: Node<'a, 'i>, name: &str) -> Option<Node<'a, 'i>> {
    n.children()
        .find(|c| c.is_element() && c.tag_name().name() == name)
}

fn children<'a, 'i: 'a>(n: Node<'a, 'i>, name: &'a str) -> impl Iterator<Item = Node<'a, 'i>> + 'a {
    n.children()
        .filter(move |c| c.is_element() && c.tag_name().name() == name)
}

fn text(n: Option<Node<'_, '_>>) -> String {
    n.and_then(|n| n.text())
        .map(str::trim)
        .unwrap_or("")
        .to_string()
}

fn path<'a, 'i>(n: Node<'a, 'i>, names: &[&str]) -> Option<Node<'a, 'i>> {
    names.iter().try_fold(n, |cur, name| child(cur, name))
}

fn time(n: Option<Node<'_, '_>>) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(&text(n))
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

fn first_name(n: Option<Node<'_, '_>>) -> String {
    text(n.and_then(|n| child(n, "Name")))
}

/// Parses the text of a list (no signature check: see [`super::load`]).
pub fn parse(xml: &str) -> Result<TrustedList, ListError> {
    let opts = ParsingOptions {
        allow_dtd: false,
        ..ParsingOptions::default()
    };
    let doc = Document::parse_with_options(xml, opts)?;
    from_document(&doc)
}

/// Reads a list from a parsed document (the one its signature is checked on: parsed once).
pub fn from_document(doc: &Document<'_>) -> Result<TrustedList, ListError> {
    let root = doc.root_element();
    if root.tag_name().name() != "TrustServiceStatusList" {
        return Err(ListError::NotAList(root.tag_name().name().to_string()));
    }
    let info = child(root, "SchemeInformation");
    let mut list = TrustedList {
        territory: text(info.and_then(|i| child(i, "SchemeTerritory"))),
        sequence: text(info.and_then(|i| child(i, "TSLSequenceNumber")))
            .parse()
            .unwrap_or(0),
        issued: time(info.and_then(|i| child(i, "ListIssueDateTime"))),
        next_update: time(info.and_then(|i| path(i, &["NextUpdate", "dateTime"]))),
        ..TrustedList::default()
    };
    if let Some(p) = info.and_then(|i| child(i, "PointersToOtherTSL")) {
        list.pointers = children(p, "OtherTSLPointer").map(pointer).collect();
    }
    if let Some(tsps) = child(root, "TrustServiceProviderList") {
        for tsp in children(tsps, "TrustServiceProvider") {
            let provider = first_name(path(tsp, &["TSPInformation", "TSPName"]));
            let Some(services) = child(tsp, "TSPServices") else {
                continue;
            };
            for s in children(services, "TSPService") {
                if let Some(s) = service(s, &provider) {
                    list.services.push(s);
                }
            }
        }
    }
    Ok(list)
}

/// The certificates of a digital identity, decoded on first use ([`Certificates`]).
fn certificates(identity: Option<Node<'_, '_>>) -> Certificates {
    let Some(identity) = identity else {
        return Certificates::default();
    };
    Certificates::from_der(
        identity
            .descendants()
            .filter(|n| n.is_element() && n.tag_name().name() == "X509Certificate")
            .filter_map(|n| {
                let b64: String = n.text()?.chars().filter(|c| !c.is_whitespace()).collect();
                base64::engine::general_purpose::STANDARD.decode(b64).ok()
            })
            .collect(),
    )
}

fn pointer(p: Node<'_, '_>) -> Pointer {
    let territory = p
        .descendants()
        .find(|n| n.is_element() && n.tag_name().name() == "SchemeTerritory")
        .map(|n| text(Some(n)));
    Pointer {
        location: text(child(p, "TSLLocation")),
        territory,
        certificates: certificates(child(p, "ServiceDigitalIdentities")),
    }
}

fn service(s: Node<'_, '_>, provider: &str) -> Option<Service> {
    let info = child(s, "ServiceInformation")?;
    let mut states = vec![state(info)?];
    if let Some(h) = child(s, "ServiceHistory") {
        states.extend(children(h, "ServiceHistoryInstance").filter_map(state));
    }
    // §5.6: history instances are ordered newest first; sort anyway (edited lists exist).
    states.sort_by_key(|s| std::cmp::Reverse(s.start));
    Some(Service {
        provider: provider.to_string(),
        name: first_name(child(info, "ServiceName")),
        certificates: certificates(child(info, "ServiceDigitalIdentity")),
        states,
    })
}

fn state(n: Node<'_, '_>) -> Option<ServiceState> {
    let mut st = ServiceState {
        service_type: text(child(n, "ServiceTypeIdentifier")),
        status: text(child(n, "ServiceStatus")),
        start: time(child(n, "StatusStartingTime"))?,
        qualifications: Vec::new(),
        additional: Vec::new(),
    };
    if let Some(ext) = child(n, "ServiceInformationExtensions") {
        for e in children(ext, "Extension") {
            for q in e
                .descendants()
                .filter(|d| d.is_element() && d.tag_name().name() == "QualificationElement")
            {
                st.qualifications.push(qualification(q));
            }
            if let Some(a) = child(e, "AdditionalServiceInformation") {
                st.additional.push(text(child(a, "URI")));
            }
        }
    }
    Some(st)
}

fn qualification(q: Node<'_, '_>) -> Qualification {
    // The schema's element is `Qualifiers`; `QualifierList` is accepted from older drafts.
    let qualifiers = child(q, "Qualifiers")
        .or_else(|| child(q, "QualifierList"))
        .map(|l| {
            children(l, "Qualifier")
                .filter_map(|x| x.attribute("uri").map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    Qualification {
        qualifiers,
        criteria: child(q, "CriteriaList").map(criteria).unwrap_or_default(),
    }
}

fn criteria(c: Node<'_, '_>) -> Criteria {
    let key_usage = children(c, "KeyUsage")
        .map(|k| {
            children(k, "KeyUsageBit")
                .filter_map(|b| Some((b.attribute("name")?.to_string(), text(Some(b)) == "true")))
                .collect()
        })
        .collect();
    let policy_sets = children(c, "PolicySet")
        .map(|p| {
            children(p, "PolicyIdentifier")
                .map(|i| {
                    let id = text(child(i, "Identifier"));
                    id.strip_prefix("urn:oid:").unwrap_or(&id).to_string()
                })
                .collect()
        })
        .collect();
    Criteria {
        assert: c.attribute("assert").unwrap_or("all").to_string(),
        key_usage,
        policy_sets,
        nested: children(c, "CriteriaList").map(criteria).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corpus(rel: &str) -> String {
        let base = std::env::var("PODAWCZA_CORPUS")
            .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus").into());
        std::fs::read_to_string(format!("{base}/{rel}")).unwrap()
    }

    #[test]
    fn reads_the_polish_list_with_its_qualified_ca_services_and_history() {
        let l = parse(&corpus("dss/trusted-lists/PL.xml")).unwrap();
        assert_eq!(l.territory, "PL");
        let qc: Vec<_> = l
            .services
            .iter()
            .filter(|s| {
                s.states
                    .iter()
                    .any(|st| st.service_type == super::super::CA_QC)
            })
            .collect();
        assert!(qc.len() >= 30, "{}", qc.len());
        let text = |s: &Service| {
            let subjects = s
                .certificates
                .iter()
                .map(|c| crate::signature::xml::certinfo::name_to_string(c.subject_name()));
            let all: Vec<String> = std::iter::once(s.provider.clone())
                .chain(subjects)
                .collect();
            all.join(" | ").to_lowercase()
        };
        // Certum (Asseco), KIR (COPE SZAFIR), EuroCert, PWPW (Sigillum), CenCert (Enigma).
        for name in [
            "certum qca 2017",
            "szafir",
            "centrum kwalifikowane eurocert",
            "sigillum",
            "cencert",
        ] {
            assert!(qc.iter().any(|s| text(s).contains(name)), "{name}");
        }
        assert!(l.services.iter().any(|s| s.states.len() > 1));
        assert!(qc.iter().all(|s| !s.certificates.is_empty()));
    }

    #[test]
    fn reads_the_pointers_of_the_eu_list_of_lists() {
        let l = parse(&corpus("dss/trusted-lists/EU.xml")).unwrap();
        let pl = l
            .pointers
            .iter()
            .find(|p| p.territory.as_deref() == Some("PL"))
            .unwrap();
        assert!(!pl.certificates.is_empty());
    }

    #[test]
    fn refuses_a_document_that_is_not_a_list() {
        assert!(matches!(parse("<a/>"), Err(ListError::NotAList(_))));
    }
}
