//! ASiC containers with CAdES signatures (ETSI EN 319 162-1): ASiC-S, where
//! `META-INF/signature.p7s` signs the one data object beside it (§4.3.3.2), and ASiC-E,
//! where each `META-INF/*signature*.p7s` signs an `ASiCManifest` that lists the data objects
//! with their digests (§4.4.3.2). Entries are read with size limits and only when needed, so
//! a zip bomb is never expanded beyond [`MAX_ENTRY_BYTES`].

use super::asic_manifest::{self, Manifest};
use super::certs;
use super::evidence::{Evidence, Failure, Scope};
use super::parse;
use super::report::signature_report;
use super::timestamp;
use super::verify;
use crate::signature::report::Report;
use std::io::{Cursor, Read};

/// Largest entry read from a container.
pub const MAX_ENTRY_BYTES: u64 = 100 * 1024 * 1024;
/// Most entries looked at in one container.
pub const MAX_ENTRIES: usize = 10_000;

/// Most bytes inflated from one container in all (a zip bomb stops here).
pub const MAX_TOTAL_BYTES: u64 = 256 * 1024 * 1024;

/// The archive and what is left of its inflation budget.
struct Zip<'a> {
    archive: zip::ZipArchive<Cursor<&'a [u8]>>,
    left: u64,
}

/// Verifies the CAdES signatures of an ASiC container; `None` when the bytes are not a ZIP
/// or hold no `META-INF/*.p7s` (an ASiC with XAdES is the XML verifier's).
pub fn verify_asic(name: &str, bytes: &[u8]) -> Option<Report> {
    if !bytes.starts_with(b"PK\x03\x04") {
        return None;
    }
    let archive = zip::ZipArchive::new(Cursor::new(bytes)).ok()?;
    let mut zip = Zip {
        archive,
        left: MAX_TOTAL_BYTES,
    };
    let names: Vec<String> = zip
        .archive
        .file_names()
        .take(MAX_ENTRIES)
        .map(str::to_string)
        .collect();
    let in_meta = |ext: &str| -> Vec<&String> {
        names
            .iter()
            .filter(|n| n.starts_with("META-INF/") && n.to_ascii_lowercase().ends_with(ext))
            .collect()
    };
    let signatures = in_meta(".p7s");
    let stamps = in_meta(".tst");
    if signatures.is_empty() && stamps.is_empty() {
        return None;
    }
    let manifests: Vec<&String> = names
        .iter()
        .filter(|n| n.starts_with("META-INF/ASiCManifest"))
        .collect();
    let mut out = Report {
        file: name.to_string(),
        sha256: certs::sha256_hex(bytes),
        container: if manifests.is_empty() {
            "asic-s"
        } else {
            "asic-e"
        }
        .to_string(),
        ..Report::default()
    };
    container_notes(&mut zip, &mut out.warnings);
    let mut broken = Vec::new();
    for tst in &stamps {
        let note = time_stamp(&mut zip, &names, tst, &mut broken);
        out.warnings.push(note);
    }
    let mut evidence = Vec::new();
    for (i, sig) in signatures.iter().enumerate() {
        let ev = if manifests.is_empty() {
            asic_s(&mut zip, &names, sig, i)
        } else {
            asic_e(&mut zip, &names, sig, i)
        };
        evidence.push(ev);
    }
    // A signature file that no longer matches an archive manifest was changed after it was
    // archived (EN 319 162-1 Annex A.5): intact as a CMS, but its archive chain is broken.
    for (ev, sig) in evidence.iter_mut().zip(&signatures) {
        if broken.iter().any(|b| b == *sig) {
            ev.errors.push(format!(
                "{sig} differs from the digest its archive manifest time-stamped"
            ));
        }
    }
    out.signatures = evidence.iter().map(signature_report).collect();
    Some(out)
}

/// EN 319 162-1 §4.3.1 / §4.4.1: the `mimetype` entry, archive manifests and time-stamps.
fn container_notes(zip: &mut Zip<'_>, notes: &mut Vec<String>) {
    match read(zip, "mimetype", 1024) {
        Ok(m) if m.starts_with(b"application/vnd.etsi.asic-") => {}
        Ok(_) => notes.push("mimetype is not an ASiC media type".into()),
        Err(_) => notes.push("container without mimetype".into()),
    }
}

/// A time-stamp token (`META-INF/*.tst`, EN 319 162-1 §4.3.3.1 / §4.4.3.1 and the archive
/// manifests of Annex A.5): its signature, its imprint over the manifest that names it (or,
/// in ASiC-S, over the data object), and that manifest's digests. Reported as a note.
fn time_stamp(zip: &mut Zip<'_>, names: &[String], tst: &str, broken: &mut Vec<String>) -> String {
    let Ok(token) = read(zip, tst, 16 * 1024 * 1024) else {
        return format!("{tst}: unreadable");
    };
    let mut problems = Vec::new();
    let (what, ts) = match manifest_naming(zip, names, tst) {
        Some((m, bytes, parsed)) => {
            for r in &parsed.references {
                if let Err((_, e)) = asic_manifest::check(r, |n| read(zip, n, MAX_ENTRY_BYTES).ok())
                {
                    problems.push(e);
                    broken.push(r.uri.clone());
                }
            }
            (
                m,
                timestamp::check("TimeStamp", &token, Some(&[bytes.as_slice()])),
            )
        }
        None => {
            let Some(data) = data_objects(names).first().map(|d| d.to_string()) else {
                return format!("{tst}: no manifest names it and no data object to time-stamp");
            };
            let Ok(content) = read(zip, &data, MAX_ENTRY_BYTES) else {
                return format!("{tst}: {data} unreadable");
            };
            (
                data,
                timestamp::check("TimeStamp", &token, Some(&[content.as_slice()])),
            )
        }
    };
    problems.extend(ts.errors.iter().cloned());
    let verdict = if ts.intact && ts.imprint_matches == Some(true) && problems.is_empty() {
        "intact".to_string()
    } else {
        format!("not intact ({})", problems.join("; "))
    };
    let at = ts.time.as_deref().unwrap_or("?");
    format!("time-stamp {tst} at {at} over {what}: {verdict}")
}

/// The manifest (ASiCManifest or ASiCArchiveManifest) whose `SigReference` is `target`.
fn manifest_naming(
    zip: &mut Zip<'_>,
    names: &[String],
    target: &str,
) -> Option<(String, Vec<u8>, Manifest)> {
    let manifests = names
        .iter()
        .filter(|n| n.starts_with("META-INF/") && n.contains("Manifest") && n.ends_with(".xml"));
    for m in manifests {
        let Ok(bytes) = read(zip, m, 1024 * 1024) else {
            continue;
        };
        if let Ok(parsed) = asic_manifest::parse(&bytes) {
            if parsed.signature.as_deref() == Some(target) {
                return Some((m.to_string(), bytes, parsed));
            }
        }
    }
    None
}

/// The entries outside `META-INF/` other than `mimetype`.
fn data_objects(names: &[String]) -> Vec<&String> {
    names
        .iter()
        .filter(|n| *n != "mimetype" && !n.starts_with("META-INF/") && !n.ends_with('/'))
        .collect()
}

/// ASiC-S: the signature covers the one data object at the root (§4.3.3.2).
fn asic_s(zip: &mut Zip<'_>, names: &[String], sig: &str, index: usize) -> Evidence {
    let data = data_objects(names);
    let [only] = data.as_slice() else {
        return failed(
            index,
            Failure::Format,
            format!("ASiC-S must hold one data object, found {}", data.len()),
        );
    };
    let content = match read(zip, only, MAX_ENTRY_BYTES) {
        Ok(c) => c,
        Err(e) => return failed(index, Failure::SignedDataNotFound, e),
    };
    let mut ev = cms(zip, sig, &content, index);
    ev.scope.push(Scope {
        name: only.to_string(),
        sha256: Some(certs::sha256_hex(&content)),
        whole_file: true,
    });
    ev
}

/// ASiC-E: the signature covers the manifest that names it; the manifest's digests cover the
/// data objects (§4.4.3.2, Annex A.4).
fn asic_e(zip: &mut Zip<'_>, names: &[String], sig: &str, index: usize) -> Evidence {
    let Some((manifest_name, manifest_bytes, manifest)) = manifest_naming(zip, names, sig) else {
        return failed(
            index,
            Failure::Format,
            format!("no ASiCManifest names {sig}"),
        );
    };
    let mut ev = cms(zip, sig, &manifest_bytes, index);
    for reference in &manifest.references {
        match asic_manifest::check(reference, |n| read(zip, n, MAX_ENTRY_BYTES).ok()) {
            Ok(sha256) => ev.scope.push(Scope {
                name: reference.uri.clone(),
                sha256: Some(sha256),
                whole_file: true,
            }),
            Err((failure, message)) => ev.fail(failure, message),
        }
    }
    ev.warnings
        .push(format!("signed manifest: {manifest_name}"));
    ev
}

/// The CMS of `sig` over `content`, as the first of its SignerInfos.
fn cms(zip: &mut Zip<'_>, sig: &str, content: &[u8], index: usize) -> Evidence {
    let der = match read(zip, sig, 16 * 1024 * 1024) {
        Ok(d) => d,
        Err(e) => return failed(index, Failure::Format, e),
    };
    let sd = match parse::content_info(&der) {
        Ok(sd) => sd,
        Err(e) => return failed(index, Failure::Format, format!("{sig}: {e}")),
    };
    let parts: [&[u8]; 1] = [sd.content.as_deref().unwrap_or(content)];
    let mut list = verify::evidence(&sd, Some(&parts), "CAdES", index);
    // §4.4.3.2 wants it detached; a copy of the very bytes it covers is tolerated (as DSS).
    match sd.content.as_deref() {
        Some(inner) if inner != content => {
            if let Some(ev) = list.first_mut() {
                ev.fail(
                    Failure::Format,
                    format!("{sig}: encapsulates other content than it covers"),
                );
            }
        }
        Some(_) => {
            if let Some(ev) = list.first_mut() {
                ev.warnings
                    .push(format!("{sig}: encapsulates a copy of what it covers"));
            }
        }
        None => {}
    }
    if list.is_empty() {
        return failed(
            index,
            Failure::Format,
            format!("{sig}: SignedData without SignerInfo"),
        );
    }
    let mut ev = list.swap_remove(0);
    ev.warnings.push(format!("signature file: {sig}"));
    ev
}

fn failed(index: usize, failure: Failure, message: String) -> Evidence {
    let mut ev = Evidence {
        id: format!("S{}", index + 1),
        format: "CAdES".into(),
        ..Evidence::default()
    };
    ev.fail(failure, message);
    ev
}

/// One entry, at most `limit` bytes (a larger one is an error, never expanded further).
fn read(zip: &mut Zip<'_>, name: &str, limit: u64) -> Result<Vec<u8>, String> {
    let limit = limit.min(zip.left);
    let entry = zip
        .archive
        .by_name(name)
        .map_err(|_| format!("{name}: not in the container"))?;
    let mut out = Vec::new();
    entry
        .take(limit + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("{name}: unreadable ({e})"))?;
    let read = u64::try_from(out.len()).unwrap_or(u64::MAX);
    zip.left = zip.left.saturating_sub(read);
    if read > limit {
        return Err(format!(
            "{name}: larger than {limit} bytes (the container's inflation budget)"
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signature::cms::testkit::{self, Options};
    use std::io::Write;

    fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        for (name, data) in entries {
            w.start_file(*name, opts).unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    fn detached(data: &[u8]) -> Vec<u8> {
        let pki = testkit::pki();
        let opts = Options {
            detached: true,
            ..Options::default()
        };
        testkit::sign(&pki, &pki.ec, data, &opts)
    }

    fn manifest(data: &[u8]) -> Vec<u8> {
        use base64::Engine;
        let digest = openssl::hash::hash(openssl::hash::MessageDigest::sha256(), data).unwrap();
        let b64 = base64::engine::general_purpose::STANDARD.encode(digest);
        format!(r#"<asic:ASiCManifest xmlns:asic="http://uri.etsi.org/02918/v1.2.1#"><asic:SigReference URI="META-INF/signature001.p7s"/><asic:DataObjectReference URI="wniosek.txt"><DigestMethod xmlns="http://www.w3.org/2000/09/xmldsig#" Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><DigestValue xmlns="http://www.w3.org/2000/09/xmldsig#">{b64}</DigestValue></asic:DataObjectReference></asic:ASiCManifest>"#).into_bytes()
    }

    #[test]
    fn stops_inflating_at_the_budget() {
        let big = vec![0u8; 4096];
        let asic = zip_of(&[("a.txt", &big), ("META-INF/signature.p7s", b"x")]);
        let archive = zip::ZipArchive::new(Cursor::new(asic.as_slice())).unwrap();
        let mut zip = Zip {
            archive,
            left: 1000,
        };
        assert!(read(&mut zip, "a.txt", MAX_ENTRY_BYTES)
            .unwrap_err()
            .contains("budget"));
        assert!(zip.left < 1000);
    }

    #[test]
    fn verifies_an_asic_s_with_a_cades_signature() {
        let data = b"wniosek";
        let asic = zip_of(&[
            ("mimetype", b"application/vnd.etsi.asic-s+zip"),
            ("wniosek.txt", data),
            ("META-INF/signature.p7s", &detached(data)),
        ]);
        let report = verify_asic("x.asics", &asic).unwrap();
        assert_eq!(report.container, "asic-s");
        assert_eq!(report.signatures[0].intact, Some(true), "{report:?}");
        assert_eq!(report.signatures[0].signed_data[0].name, "wniosek.txt");
        assert!(report.warnings.is_empty(), "{report:?}");
    }

    #[test]
    fn verifies_an_asic_e_manifest_and_catches_an_altered_data_object() {
        let data = b"wniosek";
        let m = manifest(data);
        let entries = |d: &'static [u8]| {
            zip_of(&[
                ("mimetype", b"application/vnd.etsi.asic-e+zip"),
                ("wniosek.txt", d),
                ("META-INF/ASiCManifest.xml", &m),
                ("META-INF/signature001.p7s", &detached(&m)),
            ])
        };
        let good = verify_asic("x.asice", &entries(b"wniosek")).unwrap();
        assert_eq!(good.container, "asic-e");
        assert_eq!(good.signatures[0].intact, Some(true), "{good:?}");
        let bad = verify_asic("x.asice", &entries(b"zmieniony")).unwrap();
        assert_eq!(
            bad.signatures[0].sub_indication.as_deref(),
            Some("HASH_FAILURE")
        );
        let plain = zip_of(&[("a.txt", b"a")]);
        assert!(verify_asic("a.zip", &plain).is_none());
    }
}
