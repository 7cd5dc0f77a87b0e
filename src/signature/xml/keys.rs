//! Bare public keys in `ds:KeyInfo` (W3C XML-DSig 1.1 §4.5.2 KeyValue: RSA, DSA, ECKeyValue;
//! §4.5.6 DEREncodedKeyValue), as the W3C interop vectors use them. A bare key identifies no
//! signer; the report says so.

use super::transforms::{decode_base64, is_dsig};
use openssl::bn::BigNum;
use openssl::dsa::Dsa;
use openssl::ec::{EcGroup, EcKey, EcPoint};
use openssl::nid::Nid;
use openssl::pkey::{PKey, Public};
use openssl::rsa::Rsa;
use roxmltree::Node;

fn number(parent: Node, local: &str) -> Option<BigNum> {
    let n = parent.children().find(|c| is_dsig(*c, local))?;
    let bytes = decode_base64(n.text().unwrap_or("").as_bytes())?;
    BigNum::from_slice(&bytes).ok()
}

const DSIG11_NS: &str = "http://www.w3.org/2009/xmldsig11#";

fn dsig11<'a, 'i>(parent: Node<'a, 'i>, local: &str) -> Option<Node<'a, 'i>> {
    parent
        .children()
        .find(|c| c.tag_name().name() == local && c.tag_name().namespace() == Some(DSIG11_NS))
}

/// Where keys and certificates may be: `ds:KeyInfo`, and the same-document elements its
/// `RetrievalMethod` (§4.5.3) and `dsig11:KeyInfoReference` (§4.5.10) point at by `#id`
/// (only an id carried by exactly one element is followed).
pub fn key_sources<'a, 'i>(signature: Node<'a, 'i>) -> Vec<Node<'a, 'i>> {
    let Some(key_info) = signature.children().find(|c| is_dsig(*c, "KeyInfo")) else {
        return Vec::new();
    };
    let mut out = vec![key_info];
    let pointers = key_info.children().filter(|c| {
        is_dsig(*c, "RetrievalMethod")
            || (c.tag_name().name() == "KeyInfoReference"
                && c.tag_name().namespace() == Some(DSIG11_NS))
    });
    for pointer in pointers {
        let Some(id) = pointer.attribute("URI").and_then(|u| u.strip_prefix('#')) else {
            continue;
        };
        let mut found = signature.document().descendants().filter(|n| {
            n.is_element()
                && ["Id", "ID", "id"]
                    .iter()
                    .any(|a| n.attribute(*a) == Some(id))
        });
        if let (Some(target), None) = (found.next(), found.next()) {
            out.push(target);
        }
    }
    out
}

/// The first bare key found in the [`key_sources`] of a signature.
pub fn key_value(signature: Node) -> Option<PKey<Public>> {
    key_sources(signature).into_iter().find_map(key_in)
}

fn key_in(n: Node) -> Option<PKey<Public>> {
    match n.tag_name().name() {
        "KeyInfo" => {
            if let Some(der) = dsig11(n, "DEREncodedKeyValue") {
                let bytes = decode_base64(der.text().unwrap_or("").as_bytes())?;
                return PKey::public_key_from_der(&bytes).ok();
            }
            key_in(n.children().find(|c| is_dsig(*c, "KeyValue"))?)
        }
        "KeyValue" => n.children().filter(|c| c.is_element()).find_map(key_in),
        "RSAKeyValue" => rsa_key(n),
        "DSAKeyValue" => dsa_key(n),
        "ECKeyValue" => ec_key(n),
        _ => None,
    }
}

fn rsa_key(rsa: Node) -> Option<PKey<Public>> {
    let key = Rsa::from_public_components(number(rsa, "Modulus")?, number(rsa, "Exponent")?);
    PKey::from_rsa(key.ok()?).ok()
}

fn dsa_key(dsa: Node) -> Option<PKey<Public>> {
    let key = Dsa::from_public_components(
        number(dsa, "P")?,
        number(dsa, "Q")?,
        number(dsa, "G")?,
        number(dsa, "Y")?,
    );
    PKey::from_dsa(key.ok()?).ok()
}

/// XML-DSig 1.1 §4.5.2.3: a named curve (by OID URN) and an uncompressed point.
fn ec_key(ec: Node) -> Option<PKey<Public>> {
    let curve = dsig11(ec, "NamedCurve")?.attribute("URI")?;
    let nid = match curve.trim_start_matches("urn:oid:") {
        "1.2.840.10045.3.1.7" => Nid::X9_62_PRIME256V1,
        "1.3.132.0.34" => Nid::SECP384R1,
        "1.3.132.0.35" => Nid::SECP521R1,
        _ => return None,
    };
    let group = EcGroup::from_curve_name(nid).ok()?;
    let point_bytes = decode_base64(dsig11(ec, "PublicKey")?.text().unwrap_or("").as_bytes())?;
    let mut ctx = openssl::bn::BigNumContext::new().ok()?;
    let point = EcPoint::from_bytes(&group, &point_bytes, &mut ctx).ok()?;
    let key = EcKey::from_public_key(&group, &point).ok()?;
    PKey::from_ec_key(key).ok()
}
