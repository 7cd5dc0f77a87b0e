//! End-to-end tests of the PDF verifier on documents made and signed at test time
//! (EN 319 142-1 §5.3 coverage, §5.4 document time-stamps, incremental updates).

use super::testkit;
use super::verify_pdf;
use crate::signature::cms::testkit as cms_kit;
use crate::signature::report::Report;
use std::sync::OnceLock;

fn pki() -> &'static cms_kit::Pki {
    static PKI: OnceLock<cms_kit::Pki> = OnceLock::new();
    PKI.get_or_init(cms_kit::pki)
}

fn signed_once() -> Vec<u8> {
    let pdf = testkit::unsigned("ETSI.CAdES.detached", "Zatwierdzam");
    testkit::sign(pki(), &pki().rsa, &pdf)
}

fn verify(pdf: &[u8]) -> Report {
    verify_pdf("wniosek.pdf", pdf)
}

#[test]
fn a_signed_pdf_is_intact_covers_the_whole_file_and_reads_its_claims() {
    let report = verify(&signed_once());
    assert_eq!(report.container, "pdf");
    assert_eq!(report.signatures.len(), 1, "{report:?}");
    let s = &report.signatures[0];
    assert_eq!(s.intact, Some(true), "{s:?}");
    assert_eq!(s.format, "PAdES");
    assert_eq!(s.level.as_deref(), Some("B-B"));
    assert_eq!(s.indication.as_deref(), Some("INDETERMINATE"));
    assert!(s.signed_data[0].whole_file);
    assert!(
        s.warnings.iter().any(|w| w == "/Reason: Zatwierdzam"),
        "{s:?}"
    );
    assert_eq!(s.signing_time.as_deref(), Some("2020-04-20T10:11:12Z"));
}

#[test]
fn a_byte_changed_inside_the_signed_range_breaks_the_signature() {
    let mut pdf = signed_once();
    let at = super::objects::find(&pdf, b"(Wniosek)", 0).unwrap() + 1;
    pdf[at] = b'X';
    let s = &verify(&pdf).signatures[0];
    assert_eq!(s.intact, Some(false));
    assert_eq!(s.sub_indication.as_deref(), Some("HASH_FAILURE"), "{s:?}");
}

#[test]
fn a_page_changed_after_signing_is_intact_but_fails() {
    let pdf = testkit::change_page_content(&signed_once());
    let s = &verify(&pdf).signatures[0];
    assert_eq!(s.intact, Some(true), "{s:?}");
    assert_eq!(s.indication.as_deref(), Some("TOTAL_FAILED"));
    assert_eq!(s.sub_indication.as_deref(), Some("FORMAT_FAILURE"));
    assert!(s.errors[0].starts_with("modified after signing"), "{s:?}");
    assert!(!s.signed_data[0].whole_file);
}

#[test]
fn a_pdf_signed_twice_keeps_both_signatures_intact() {
    let twice = testkit::add_signature_field(&signed_once(), false);
    let twice = testkit::sign(pki(), &pki().ec, &twice);
    let report = verify(&twice);
    assert_eq!(report.signatures.len(), 2, "{report:?}");
    for s in &report.signatures {
        assert_eq!(s.intact, Some(true), "{s:?}");
        assert_eq!(s.indication.as_deref(), Some("INDETERMINATE"), "{s:?}");
    }
    assert!(!report.signatures[0].signed_data[0].whole_file);
    assert!(report.signatures[1].signed_data[0].whole_file);
    assert_eq!(
        report.signatures[1]
            .signer
            .as_ref()
            .unwrap()
            .name
            .as_deref(),
        Some("Anna Nowak")
    );
}

#[test]
fn a_document_time_stamp_is_checked_and_raises_the_level() {
    let stamped = testkit::add_signature_field(&signed_once(), true);
    let stamped = testkit::timestamp(pki(), &stamped);
    let report = verify(&stamped);
    assert_eq!(report.signatures.len(), 1, "{report:?}");
    let note = report
        .warnings
        .iter()
        .find(|w| w.starts_with("document time-stamp"));
    assert!(note.is_some_and(|n| n.ends_with(": intact")), "{report:?}");
    assert_eq!(report.signatures[0].level.as_deref(), Some("B-T"));
}

#[test]
fn a_trusted_profile_seal_names_the_citizen_from_the_reason() {
    let reason =
        "Opatrzono piecz\\352ci\\261 w imieniu: JAN KOWALSKI, PESEL: 44051401458, PZ ID: 77";
    let pdf = testkit::unsigned("ETSI.CAdES.detached", reason);
    let pdf = testkit::sign(pki(), &pki().ec, &pdf);
    let s = &verify(&pdf).signatures[0];
    assert_eq!(s.intact, Some(true), "{s:?}");
    let signer = s.signer.as_ref().unwrap();
    assert_eq!(signer.name.as_deref(), Some("JAN KOWALSKI"));
    assert_eq!(signer.surname.as_deref(), Some("KOWALSKI"));
    assert_eq!(signer.pesel.as_deref(), Some("44051401458"));
}

#[test]
fn a_contents_hole_moved_off_the_signature_is_a_format_failure() {
    let pdf = signed_once();
    let text = String::from_utf8_lossy(&pdf).into_owned();
    let start = text.find("/ByteRange [").unwrap() + "/ByteRange [".len();
    let end = start + text[start..].find(']').unwrap();
    let nums: Vec<usize> = text[start..end]
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect();
    let moved = format!("0 {:>10} {:>10} {:>10}", nums[1] - 1, nums[2], nums[3]);
    let mut bad = pdf.clone();
    bad.splice(start..end, moved.bytes());
    let s = &verify(&bad).signatures[0];
    assert_eq!(s.intact, Some(false));
    assert!(s.errors.iter().any(|e| e.contains("hole")), "{s:?}");
}

#[test]
fn hostile_pdfs_end_quickly_with_a_reason() {
    let started = std::time::Instant::now();
    let mut nested = b"%PDF-1.7\n1 0 obj\n".to_vec();
    nested.extend(std::iter::repeat_n(b'[', 100_000));
    assert!(verify(&nested).signatures.is_empty());
    let mut many = b"%PDF-1.7\n".to_vec();
    for i in 0..20_000 {
        many.extend_from_slice(
            format!("{i} 0 obj << /ByteRange [0 1 2 3] /Contents <00> >> endobj\n").as_bytes(),
        );
    }
    let report = verify(&many);
    assert!(report.signatures.len() <= super::sigdict::MAX_SIGNATURES);
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
}

/// A 10 MB single-signature PDF and a 100-signature PDF (the shapes the benchmark times, in
/// `benches/pdf.rs`) verify intact, every signature found.
#[test]
fn a_large_and_a_many_times_signed_pdf_verify_intact() {
    let large = testkit::sign(
        pki(),
        &pki().rsa,
        &testkit::large_unsigned(10 * 1024 * 1024),
    );
    let report = verify(&large);
    assert_eq!(report.signatures.len(), 1);
    assert_eq!(report.signatures[0].intact, Some(true));
    let mut many = testkit::sign(
        pki(),
        &pki().ec,
        &testkit::unsigned("ETSI.CAdES.detached", "1"),
    );
    for k in 1..100 {
        many = testkit::add_numbered_field(&many, false, k);
        many = testkit::sign(pki(), &pki().ec, &many);
    }
    let report = verify(&many);
    assert_eq!(report.signatures.len(), 100);
    assert!(
        report
            .signatures
            .iter()
            .all(|s| s.intact == Some(true) && s.errors.is_empty()),
        "{:?}",
        report.signatures.iter().find(|s| !s.errors.is_empty())
    );
}

/// A small deterministic generator for mutations (xorshift64).
fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[test]
fn mutated_pdfs_and_cms_never_panic_and_end_quickly() {
    let pdf = testkit::add_signature_field(&signed_once(), true);
    let pdf = testkit::timestamp(pki(), &pdf);
    let cms = cms_kit::sign(pki(), &pki().rsa, b"data", &cms_kit::Options::default());
    let started = std::time::Instant::now();
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    for round in 0..300 {
        for (name, original) in [("x.pdf", &pdf), ("x.p7m", &cms)] {
            let mut bytes = original.clone();
            for _ in 0..1 + round % 8 {
                let at = (next(&mut state) as usize) % bytes.len();
                match next(&mut state) % 3 {
                    0 => bytes[at] = next(&mut state) as u8,
                    1 => bytes.truncate(at.max(1)),
                    _ => bytes.insert(at, b'0'),
                }
            }
            let none = |_: &str| None;
            let _ = crate::signature::cms::verify_cms_family(name, &bytes, &none);
        }
    }
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
}

#[test]
fn verifies_a_pdf_whose_cms_openssl_made() {
    use openssl::cms::{CMSOptions, CmsContentInfo};
    let pdf = testkit::unsigned("adbe.pkcs7.detached", "Zatwierdzam");
    let id = &pki().rsa;
    let signed = testkit::fill(&pdf, |data| {
        let flags = CMSOptions::DETACHED | CMSOptions::BINARY;
        CmsContentInfo::sign(Some(&id.cert), Some(&id.key), None, Some(data), flags)
            .unwrap()
            .to_der()
            .unwrap()
    });
    let s = &verify(&signed).signatures[0];
    assert_eq!(s.intact, Some(true), "{s:?}");
    assert!(s.warnings.iter().any(|w| w.contains("legacy sub-filter")));
}

/// The hash states an upload keeps while it streams in (every [`crate::digest::STEP`] bytes).
fn streamed(data: &[u8]) -> (String, crate::digest::Prefixes) {
    let mut h = crate::digest::StreamHasher::new();
    for piece in data.chunks(8 * 1024 + 3) {
        h.update(piece);
    }
    let (digest, prefixes) = h.finish();
    (crate::signature::cms::certs::hex(&digest), prefixes)
}

fn verify_streamed(pdf: &[u8], prefixes: &crate::digest::Prefixes) -> Report {
    let (sha256, _) = streamed(pdf);
    super::verify_pdf_stored(
        "wniosek.pdf",
        pdf,
        crate::digest::Known {
            sha256: &sha256,
            prefixes: Some(prefixes),
        },
    )
}

/// A PDF of about `bytes` signed by the project's test PKI (SHA-256, as the upload benchmark
/// sends), and one signed in an incremental update after the document.
fn large_pair(bytes: usize) -> (Vec<u8>, Vec<u8>) {
    static PKI: OnceLock<crate::fixtures::pki::Pki> = OnceLock::new();
    let pki = PKI.get_or_init(|| {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/pki");
        crate::fixtures::pki::load(&dir).unwrap()
    });
    let once = crate::fixtures::pdf::large_signed(pki, "qes-signer", bytes).unwrap();
    let updated = crate::fixtures::pdf::large_signed_incremental(pki, "qes-signer", bytes).unwrap();
    (once, updated)
}

#[test]
fn digests_started_from_the_states_kept_while_streaming_give_the_same_report() {
    // Large enough for several kept states before the hole; signed at the end, and signed in an
    // incremental update.
    let (once, updated) = large_pair(300 * 1024);
    for pdf in [&once, &updated] {
        let (_, prefixes) = streamed(pdf);
        let plain = verify(pdf);
        let stored = verify_streamed(pdf, &prefixes);
        assert_eq!(
            serde_json::to_value(&plain).unwrap(),
            serde_json::to_value(&stored).unwrap()
        );
        assert!(stored.signatures.iter().all(|s| s.intact == Some(true)));
    }
    // A byte changed before the last kept state and after it: the same verdict as verifying the
    // changed file from scratch (the states are of the bytes as they came).
    for at in [1000, 200 * 1024, 300 * 1024 - 10] {
        let mut changed = updated.clone();
        changed[at] ^= 0x01;
        let (_, prefixes) = streamed(&changed);
        let stored = verify_streamed(&changed, &prefixes);
        assert_eq!(stored.signatures[0].intact, Some(false), "{at}");
        assert_eq!(
            serde_json::to_value(verify(&changed)).unwrap(),
            serde_json::to_value(&stored).unwrap()
        );
    }
}

#[test]
fn the_kept_states_are_what_the_digest_starts_from() {
    // States of other bytes of the same length: the signed prefix is not hashed again, so the
    // digest is wrong — which is why only the stream's own states may be handed over. (The
    // signature of an incremental update: its hole is near the end, after many kept states.)
    let (_, pdf) = large_pair(300 * 1024);
    let mut other = pdf.clone();
    other[100] ^= 0x01;
    let (_, foreign) = streamed(&other);
    let s = &verify_streamed(&pdf, &foreign).signatures[0];
    assert_eq!(s.intact, Some(false), "{s:?}");
    // States of a stream of another length are not used at all.
    let (_, short) = streamed(&pdf[..pdf.len() - 1]);
    let s = &verify_streamed(&pdf, &short).signatures[0];
    assert_eq!(s.intact, Some(true), "{s:?}");
}
