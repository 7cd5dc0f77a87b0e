//! XML: finds `ds:Signature` elements (W3C XML Signature) and tells XAdES (a
//! `QualifyingProperties` inside the signature or targeting its Id, EN 319 132-1 §4.3) from plain
//! XML-DSig. Parsed with roxmltree, whose default rejects DTDs (so entity bombs and external
//! entities never expand), with the input size and the node count bounded.

use super::{unverified, Found};
use crate::signature::report::{SignatureReport, Signer};
use roxmltree::{Document, Node, ParsingOptions};
use std::borrow::Cow;

/// Largest XML document parsed, in bytes.
pub const MAX_XML_BYTES: usize = 50 * 1024 * 1024;

/// Most nodes (elements, text, attributes' owners) in one document.
const MAX_NODES: u32 = 2_000_000;

const DSIG: &str = "http://www.w3.org/2000/09/xmldsig#";
const XADES: &[&str] = &[
    "http://uri.etsi.org/01903/v1.3.2#",
    "http://uri.etsi.org/01903/v1.4.1#",
    "http://uri.etsi.org/01903/v1.1.1#",
    "http://uri.etsi.org/01903/v1.2.2#",
];
const PPZP: &str = "http://crd.gov.pl/xml/schematy/ppzp/";
const PODPIS_ZAUFANY: &str = "http://crd.gov.pl/xml/schematy/podpis_zaufany/";

/// How much the first bytes look like XML.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Looks {
    /// An XML declaration (or a UTF-16 byte order mark).
    Declared,
    /// Markup without a declaration: XML or HTML.
    Markup,
    /// Not markup.
    No,
}

/// Whether the bytes start (after a BOM and white space) with `<?xml`, or with `<`.
pub fn looks_like_xml(bytes: &[u8]) -> Looks {
    if bytes.starts_with(&[0xff, 0xfe]) || bytes.starts_with(&[0xfe, 0xff]) {
        return Looks::Declared;
    }
    let body = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let start = body.iter().position(|b| !b.is_ascii_whitespace());
    let body = start.and_then(|s| body.get(s..)).unwrap_or_default();
    if body.starts_with(b"<?xml") {
        Looks::Declared
    } else if body.starts_with(b"<") {
        Looks::Markup
    } else {
        Looks::No
    }
}

/// Like [`find`] for markup not declared nor named XML: when it does not parse, it is `other`
/// (an HTML page, say), not an unreadable file.
pub fn find_lenient(bytes: &[u8]) -> Found {
    match signatures(bytes) {
        Ok((signatures, warnings)) => Found {
            container: "xml",
            signatures,
            warnings,
            error: None,
        },
        Err(_) => Found::new("other"),
    }
}

/// Finds the signatures of an XML document (container `xml`).
pub fn find(bytes: &[u8]) -> Found {
    match signatures(bytes) {
        Ok((signatures, warnings)) => Found {
            container: "xml",
            signatures,
            warnings,
            error: None,
        },
        Err(e) => Found::failed("xml", e),
    }
}

/// The signatures of an XML document and notes about it, or why it cannot be parsed.
pub fn signatures(bytes: &[u8]) -> Result<(Vec<SignatureReport>, Vec<String>), String> {
    if bytes.len() > MAX_XML_BYTES {
        return Err(format!(
            "xml too large: {} bytes, limit {MAX_XML_BYTES}",
            bytes.len()
        ));
    }
    let text = decode(bytes)?;
    let options = ParsingOptions {
        allow_dtd: false,
        nodes_limit: MAX_NODES,
    };
    let doc = Document::parse_with_options(&text, options).map_err(|e| format!("xml: {e}"))?;
    Ok(in_document(&doc))
}

/// UTF-8 (with or without BOM), UTF-16 with a BOM, or the encoding the declaration names.
fn decode(bytes: &[u8]) -> Result<Cow<'_, str>, String> {
    if let Some((encoding, _)) = encoding_rs::Encoding::for_bom(bytes) {
        let (text, _, bad) = encoding.decode(bytes);
        return if bad {
            Err(format!("xml: bad {} text", encoding.name()))
        } else {
            Ok(text)
        };
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(Cow::Borrowed(text));
    }
    let label = declared_encoding(bytes).ok_or("xml: not UTF-8 and no encoding declared")?;
    let encoding = encoding_rs::Encoding::for_label(label.as_bytes())
        .ok_or_else(|| format!("xml: unknown encoding {label:?}"))?;
    let (text, _, _) = encoding.decode(bytes);
    Ok(text)
}

/// The `encoding="..."` of the XML declaration.
fn declared_encoding(bytes: &[u8]) -> Option<String> {
    let head = bytes.get(..200).unwrap_or(bytes);
    let head = String::from_utf8_lossy(head);
    let decl = head.strip_prefix("<?xml")?.split("?>").next()?;
    let after = decl.split("encoding").nth(1)?;
    let value = after.trim_start().strip_prefix('=')?.trim_start();
    let quote = value.chars().next()?;
    value.get(1..)?.split(quote).next().map(str::to_string)
}

fn is_signature(node: &Node<'_, '_>) -> bool {
    node.is_element()
        && node.tag_name().name() == "Signature"
        && node.tag_name().namespace() == Some(DSIG)
}

fn is_qualifying_properties(node: &Node<'_, '_>) -> bool {
    node.is_element()
        && node.tag_name().name() == "QualifyingProperties"
        && node
            .tag_name()
            .namespace()
            .is_some_and(|ns| XADES.contains(&ns))
}

/// One report per outermost `ds:Signature`, in document order; nested ones (counter-signatures)
/// are counted in a note.
fn in_document(doc: &Document<'_>) -> (Vec<SignatureReport>, Vec<String>) {
    let qualifying: Vec<Node<'_, '_>> =
        doc.descendants().filter(is_qualifying_properties).collect();
    let mut reports = Vec::new();
    let mut nested = 0usize;
    for sig in doc.descendants().filter(is_signature) {
        if sig.ancestors().skip(1).any(|a| is_signature(&a)) {
            nested += 1;
            continue;
        }
        let qp = qualifying_properties_of(&sig, &qualifying);
        reports.push(report_for(&sig, qp.as_ref()));
    }
    let mut notes = Vec::new();
    if nested > 0 {
        notes.push(format!(
            "{nested} nested ds:Signature element(s) (counter-signatures) not listed separately"
        ));
    }
    (reports, notes)
}

/// The `QualifyingProperties` inside the signature, or one whose `Target` is `#` + its Id.
fn qualifying_properties_of<'a, 'i>(
    sig: &Node<'a, 'i>,
    qualifying: &[Node<'a, 'i>],
) -> Option<Node<'a, 'i>> {
    let target = sig.attribute("Id").map(|id| format!("#{id}"));
    qualifying
        .iter()
        .find(|qp| {
            qp.ancestors().any(|a| a == *sig)
                || (target.is_some() && qp.attribute("Target") == target.as_deref())
        })
        .copied()
}

fn report_for(sig: &Node<'_, '_>, qp: Option<&Node<'_, '_>>) -> SignatureReport {
    let Some(qp) = qp else {
        return unverified("XMLDSig");
    };
    let mut report = unverified("XAdES");
    report.signing_time = signing_time(qp);
    report.signer = podpis_zaufany(qp).or_else(|| podpis_zaufany(sig));
    report
}

/// `SignedSignatureProperties/SigningTime`, normalised to RFC 3339 UTC when it parses.
fn signing_time(qp: &Node<'_, '_>) -> Option<String> {
    let node = qp
        .descendants()
        .find(|n| n.is_element() && n.tag_name().name() == "SigningTime")?;
    let text = node.text()?.trim();
    let time = chrono::DateTime::parse_from_rfc3339(text).ok()?;
    Some(
        time.with_timezone(&chrono::Utc)
            .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
    )
}

/// The citizen of a podpis zaufany: `ppZP:PodpisZP` (older form) or `EPSignature` (newer).
fn podpis_zaufany(scope: &Node<'_, '_>) -> Option<Signer> {
    let in_ns = |ns: &str, name: &str| {
        scope.descendants().find(|n| {
            n.is_element() && n.tag_name().name() == name && n.tag_name().namespace() == Some(ns)
        })
    };
    if let Some(pz) = in_ns(PPZP, "PodpisZP") {
        return Some(signer(&pz, "Imie", "Nazwisko", "PESEL"));
    }
    let ep = in_ns(PODPIS_ZAUFANY, "EPSignature")?;
    Some(signer(
        &ep,
        "FirstName",
        "CurrentFamilyName",
        "PersonalIdentifier",
    ))
}

fn signer(block: &Node<'_, '_>, given: &str, family: &str, id: &str) -> Signer {
    let text = |name: &str| {
        block
            .descendants()
            .find(|n| n.is_element() && n.tag_name().name() == name)
            .and_then(|n| n.text())
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
    };
    let given_name = text(given);
    let surname = text(family);
    let name = match (&given_name, &surname) {
        (Some(g), Some(s)) => Some(format!("{g} {s}")),
        (g, s) => g.clone().or_else(|| s.clone()),
    };
    Signer {
        name,
        given_name,
        surname,
        pesel: text(id),
        ..Signer::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENVELOPED: &str = r##"<?xml version="1.0"?>
<doc xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
  <a>tekst</a>
  <ds:Signature Id="s1"><ds:SignedInfo/><ds:SignatureValue>AA==</ds:SignatureValue></ds:Signature>
  <ds:Signature Id="s2"><ds:SignedInfo/><ds:SignatureValue>AA==</ds:SignatureValue>
    <ds:Object><xades:QualifyingProperties xmlns:xades="http://uri.etsi.org/01903/v1.3.2#" Target="#s2">
      <xades:SignedProperties><xades:SignedSignatureProperties>
        <xades:SigningTime>2020-04-20T12:11:12+02:00</xades:SigningTime>
      </xades:SignedSignatureProperties></xades:SignedProperties>
    </xades:QualifyingProperties></ds:Object>
  </ds:Signature>
  <other:Signature xmlns:other="urn:not-dsig"/>
</doc>"##;

    #[test]
    fn finds_each_ds_signature_in_document_order_and_tells_xades_from_xmldsig() {
        let found = find(ENVELOPED.as_bytes());
        assert_eq!(found.container, "xml");
        assert_eq!(found.error, None);
        let formats: Vec<_> = found.signatures.iter().map(|s| s.format.as_str()).collect();
        assert_eq!(formats, ["XMLDSig", "XAdES"]);
        let xades = &found.signatures[1];
        assert_eq!(xades.signing_time.as_deref(), Some("2020-04-20T10:11:12Z"));
        assert!(!xades.checked);
        assert_eq!(xades.intact, None);
        assert_eq!(xades.indication, None);
    }

    #[test]
    fn xades_qualifying_properties_outside_the_signature_count_by_target() {
        let xml = r##"<r xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:Signature Id="x"/>
            <q:QualifyingProperties xmlns:q="http://uri.etsi.org/01903/v1.4.1#" Target="#x"/></r>"##;
        assert_eq!(find(xml.as_bytes()).signatures[0].format, "XAdES");
    }

    #[test]
    fn reads_the_citizen_of_a_podpis_zaufany() {
        let xml = r##"<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:Object>
          <x:QualifyingProperties xmlns:x="http://uri.etsi.org/01903/v1.3.2#">
          <p:PodpisZP xmlns:p="http://crd.gov.pl/xml/schematy/ppzp/"
              xmlns:os="http://crd.gov.pl/xml/schematy/osoba/2009/03/06/"><p:DaneZP>
            <p:DaneZPOsobyFizycznej><os:Nazwisko>Testowy</os:Nazwisko><os:Imie>Jan</os:Imie>
            <os:PESEL>00000000000</os:PESEL></p:DaneZPOsobyFizycznej></p:DaneZP></p:PodpisZP>
          </x:QualifyingProperties></ds:Object></ds:Signature>"##;
        let signer = find(xml.as_bytes()).signatures[0].signer.clone().unwrap();
        assert_eq!(signer.name.as_deref(), Some("Jan Testowy"));
        assert_eq!(signer.pesel.as_deref(), Some("00000000000"));
    }

    #[test]
    fn counter_signatures_are_noted_not_listed() {
        let xml = r##"<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:Object>
            <ds:Signature/></ds:Object></ds:Signature>"##;
        let found = find(xml.as_bytes());
        assert_eq!(found.signatures.len(), 1);
        assert_eq!(found.warnings.len(), 1);
    }

    #[test]
    fn rejects_dtds_so_entity_bombs_never_expand() {
        let xml = r#"<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaa"><!ENTITY b "&a;&a;&a;">]><l>&b;</l>"#;
        let found = find(xml.as_bytes());
        assert!(found.error.is_some());
        assert!(found.signatures.is_empty());
    }

    #[test]
    fn decodes_a_declared_single_byte_encoding() {
        let mut bytes = br#"<?xml version="1.0" encoding="ISO-8859-2"?><a>"#.to_vec();
        bytes.push(0xb1); // "ą" in ISO-8859-2, invalid alone in UTF-8
        bytes.extend(b"</a>");
        assert_eq!(find(&bytes).error, None);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(find(b"<a><b></a>").error.is_some());
        assert!(find(&[0x3c, 0xff, 0xfe, 0x00]).error.is_some());
    }
}
