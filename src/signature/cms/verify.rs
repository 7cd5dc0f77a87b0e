//! SignedData → [`Evidence`] per SignerInfo (RFC 5652 §5.6): the integrity check of
//! [`signer`], then the unsigned attributes of CAdES (EN 319 122-1 §5.3 signature time-stamp,
//! §5.5 validation data and archive time-stamps) and counter-signatures (RFC 5652 §11.4).

use super::certs;
use super::evidence::{Evidence, TimeStamp};
use super::oids;
use super::parse::{self, SignedData, SignerInfo};
use super::signer::{self, Role};
use super::timestamp;
use crate::signature::der;

/// Verifies every SignerInfo of `sd` over `content` (the signed bytes in parts; `None` when
/// detached and not supplied). Ids are numbered from `first_index + 1`.
pub fn evidence(
    sd: &SignedData<'_>,
    content: Option<&[&[u8]]>,
    format: &str,
    first_index: usize,
) -> Vec<Evidence> {
    evidence_with(sd, content, None, format, first_index)
}

/// [`evidence`] with the content digest already computed (see [`signer::check_with`]).
pub fn evidence_with(
    sd: &SignedData<'_>,
    content: Option<&[&[u8]]>,
    prehashed: Option<(&[u8], &[u8])>,
    format: &str,
    first_index: usize,
) -> Vec<Evidence> {
    sd.signer_infos
        .iter()
        .enumerate()
        .map(|(i, si)| one(sd, si, content, prehashed, format, first_index + i))
        .collect()
}

fn one(
    sd: &SignedData<'_>,
    si: &SignerInfo<'_>,
    content: Option<&[&[u8]]>,
    prehashed: Option<(&[u8], &[u8])>,
    format: &str,
    index: usize,
) -> Evidence {
    let check = signer::check_with(sd, si, content, prehashed, Role::Content(sd.content_type));
    let mut ev = Evidence {
        id: format!("S{}", index + 1),
        format: format.to_string(),
        value_intact: check.value_intact,
        content_intact: check.content_intact,
        signing_certificate_bound: check.bound,
        failure: check.failure,
        signing_time: check.signing_time,
        warnings: check.warnings,
        errors: check.errors,
        ..Evidence::default()
    };
    ev.certificates = sd
        .certificates
        .iter()
        .filter(|c| Some(**c) != check.signing_certificate.as_deref())
        .map(|c| c.to_vec())
        .collect();
    ev.signing_certificate = check.signing_certificate;
    ev.revocation_data = sd.revocation_entries > 0
        || !si.unsigned(oids::REVOCATION_VALUES).is_empty()
        || !si.signed(oids::ADBE_REVOCATION).is_empty();
    let found = super::revocation::extract(sd, si);
    ev.crls = found.crls;
    ev.ocsp_responses = found.ocsp_responses;
    time_stamps(&mut ev, sd, si, content);
    counter_signatures(&mut ev, sd, si);
    ev.decide_level();
    ev
}

/// A time-stamp attribute: its type, its kind, the bytes it stamps, whether it is signed.
type TokenKind<'a> = (&'a [u8], &'a str, Option<&'a [&'a [u8]]>, bool);

/// Signature time-stamps over the signature value (EN 319 122-1 §5.3), content time-stamps
/// over the content (§5.2.8), archive time-stamps noted with their own signature checked.
fn time_stamps(
    ev: &mut Evidence,
    sd: &SignedData<'_>,
    si: &SignerInfo<'_>,
    content: Option<&[&[u8]]>,
) {
    let value: &[&[u8]] = &[si.signature];
    let kinds: [TokenKind<'_>; 3] = [
        (
            oids::SIGNATURE_TIME_STAMP,
            "SignatureTimeStamp",
            Some(value),
            false,
        ),
        (oids::CONTENT_TIME_STAMP, "ContentTimeStamp", content, true),
        (oids::ARCHIVE_TIME_STAMP_V2, "ArchiveTimeStamp", None, false),
    ];
    for (oid, kind, imprinted, signed) in kinds {
        let attrs = if signed {
            si.signed(oid)
        } else {
            si.unsigned(oid)
        };
        for token in attrs.iter().flat_map(|a| a.values.iter()) {
            let ts = timestamp::check(kind, token, imprinted);
            if !ts.intact || ts.imprint_matches == Some(false) {
                ev.warnings.extend(ts.errors.iter().cloned());
            }
            ev.timestamps.push(ts);
        }
    }
    for token in si
        .unsigned(oids::ARCHIVE_TIME_STAMP_V3)
        .iter()
        .flat_map(|a| a.values.iter())
    {
        let ts = timestamp::check_archive_v3(token, sd.content_type, content, si.archived);
        if !ts.intact || ts.imprint_matches != Some(true) {
            ev.warnings.extend(ts.errors.iter().cloned());
        }
        ev.timestamps.push(ts);
    }
    ev.timestamp_time = ev
        .timestamps
        .iter()
        .filter(|t| t.kind == "SignatureTimeStamp" && usable(t))
        .filter_map(|t| t.time.clone())
        .min();
}

fn usable(t: &TimeStamp) -> bool {
    t.intact && t.imprint_matches == Some(true)
}

/// Counter-signatures (RFC 5652 §11.4) sign this signature value; they are reported, and a
/// broken one does not break the signature it counter-signs.
fn counter_signatures(ev: &mut Evidence, sd: &SignedData<'_>, si: &SignerInfo<'_>) {
    for raw in si
        .unsigned(oids::COUNTER_SIGNATURE)
        .iter()
        .flat_map(|a| a.values.iter())
    {
        let parsed = der::read(raw)
            .map_err(parse::CmsError::from)
            .and_then(|(tlv, _)| parse::signer_info(&tlv));
        let note = match parsed {
            Ok(csi) => {
                let check = signer::check(sd, &csi, Some(&[si.signature]), Role::CounterSignature);
                let who = check
                    .signing_certificate
                    .as_deref()
                    .and_then(certs::certificate_info)
                    .map(|c| c.subject)
                    .unwrap_or_else(|| "an unknown signer".into());
                match check.failure {
                    None => format!("counter-signature by {who}: intact"),
                    Some(_) => format!(
                        "counter-signature by {who}: not intact ({})",
                        check.errors.join("; ")
                    ),
                }
            }
            Err(e) => format!("counter-signature unreadable: {e}"),
        };
        ev.warnings.push(note);
    }
}
