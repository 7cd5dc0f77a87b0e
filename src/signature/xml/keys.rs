//! Bare public keys in `ds:KeyInfo/ds:KeyValue` (W3C XML-DSig §4.5.2): RSA and DSA, as the W3C
//! interop vectors use them. A bare key identifies no signer; the report says so.

use super::transforms::{decode_base64, is_dsig};
use openssl::bn::BigNum;
use openssl::dsa::Dsa;
use openssl::pkey::{PKey, Public};
use openssl::rsa::Rsa;
use roxmltree::Node;

fn number(parent: Node, local: &str) -> Option<BigNum> {
    let n = parent.children().find(|c| is_dsig(*c, local))?;
    let bytes = decode_base64(n.text().unwrap_or("").as_bytes())?;
    BigNum::from_slice(&bytes).ok()
}

/// The key of `KeyInfo/KeyValue` (RSAKeyValue or DSAKeyValue), if any.
pub fn key_value(signature: Node) -> Option<PKey<Public>> {
    let key_info = signature.children().find(|c| is_dsig(*c, "KeyInfo"))?;
    let value = key_info.children().find(|c| is_dsig(*c, "KeyValue"))?;
    if let Some(rsa) = value.children().find(|c| is_dsig(*c, "RSAKeyValue")) {
        let key = Rsa::from_public_components(number(rsa, "Modulus")?, number(rsa, "Exponent")?);
        return PKey::from_rsa(key.ok()?).ok();
    }
    let dsa = value.children().find(|c| is_dsig(*c, "DSAKeyValue"))?;
    let key = Dsa::from_public_components(
        number(dsa, "P")?,
        number(dsa, "Q")?,
        number(dsa, "G")?,
        number(dsa, "Y")?,
    );
    PKey::from_dsa(key.ok()?).ok()
}
