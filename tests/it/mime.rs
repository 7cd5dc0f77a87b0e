//! E-mail to documents: golden tests over `fixtures/eml/<case>.eml` (made by
//! `scripts/make-eml-fixtures.py`), each compared with `<case>.expected.json`. On a mismatch the
//! actual result is written to `<case>.actual.json` beside it; `PODAWCZA_ACCEPT=1` accepts it.
//! Bombs (deep nesting, a ZIP bomb) must end in an error, which proves they end at all.

// Helpers outside `#[test]` functions fail loudly on a broken fixture tree, like the tests.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use base64::Engine as _;
use podawcza::config::LimitsConfig;
use podawcza::ingest::mime::{unpack_email, unpack_file, Role, UnpackError, Unpacked};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/eml")
}

/// The `[limits]` of the reference `config.toml`.
fn limits() -> LimitsConfig {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("config.toml"))
        .expect("config.toml");
    let config: toml::Value = toml::from_str(&text).expect("config.toml parses");
    config
        .get("limits")
        .cloned()
        .expect("[limits]")
        .try_into()
        .expect("[limits] fits LimitsConfig")
}

fn sha256_hex(bytes: &[u8]) -> String {
    openssl::sha::sha256(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn to_json(result: &Result<Unpacked, UnpackError>) -> Value {
    match result {
        Err(e) => json!({ "error": e.to_string() }),
        Ok(u) => json!({
            "header": u.header,
            "text": u.text,
            "documents": u.documents.iter().map(|d| json!({
                "name": d.name,
                "media_type": d.media_type,
                "declared_type": d.declared_type,
                "size": d.bytes.len(),
                "sha256": sha256_hex(&d.bytes),
                "container": d.container,
                "role": d.role.as_str(),
            })).collect::<Vec<_>>(),
            "warnings": u.warnings,
        }),
    }
}

fn cases() -> Vec<String> {
    let mut cases: Vec<String> = std::fs::read_dir(fixtures())
        .expect("fixtures/eml")
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            e.file_name()
                .to_str()
                .and_then(|n| n.strip_suffix(".eml"))
                .map(str::to_string)
        })
        .collect();
    cases.sort();
    cases
}

#[test]
fn every_fixture_unpacks_as_expected() {
    let accept = std::env::var("PODAWCZA_ACCEPT").is_ok_and(|v| v == "1");
    let mut failed = Vec::new();
    let cases = cases();
    assert!(
        cases.len() >= 20,
        "fixtures missing: run scripts/make-eml-fixtures.py"
    );
    for case in cases {
        let dir = fixtures();
        let raw = std::fs::read(dir.join(format!("{case}.eml"))).unwrap();
        let actual = to_json(&unpack_email(&raw, &limits()));
        let text = serde_json::to_string_pretty(&actual).unwrap() + "\n";
        let expected_path = dir.join(format!("{case}.expected.json"));
        let actual_path = dir.join(format!("{case}.actual.json"));
        if accept {
            std::fs::write(&expected_path, &text).unwrap();
            let _ = std::fs::remove_file(&actual_path);
            continue;
        }
        let expected: Option<Value> = std::fs::read_to_string(&expected_path)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok());
        if expected.as_ref() == Some(&actual) {
            let _ = std::fs::remove_file(&actual_path);
        } else {
            std::fs::write(&actual_path, &text).unwrap();
            failed.push(case);
        }
    }
    assert!(
        failed.is_empty(),
        "mismatch (see fixtures/eml/<case>.actual.json): {failed:?}"
    );
}

/// Every base64 body in a raw message, decoded (a crude scan, independent of the parser).
fn base64_bodies(raw: &[u8]) -> Vec<Vec<u8>> {
    let text = String::from_utf8_lossy(raw);
    let mut bodies = Vec::new();
    let mut in_base64_head = false;
    let mut collecting: Option<String> = None;
    for line in text.split("\r\n") {
        let is_b64_line = !line.is_empty()
            && line
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='));
        if let Some(acc) = collecting.as_mut() {
            if is_b64_line {
                acc.push_str(line);
                continue;
            }
            if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(acc.as_bytes()) {
                bodies.push(bytes);
            }
            collecting = None;
        }
        if line
            .to_ascii_lowercase()
            .starts_with("content-transfer-encoding: base64")
        {
            in_base64_head = true;
        } else if line.is_empty() && in_base64_head {
            in_base64_head = false;
            collecting = Some(String::new());
        }
    }
    bodies
}

#[test]
fn extracted_parts_are_the_exact_bytes_inside_the_raw_message() {
    for case in cases() {
        let raw = std::fs::read(fixtures().join(format!("{case}.eml"))).unwrap();
        let Ok(unpacked) = unpack_email(&raw, &limits()) else {
            continue;
        };
        let bodies: Vec<String> = base64_bodies(&raw).iter().map(|b| sha256_hex(b)).collect();
        for doc in &unpacked.documents {
            let derived_text = doc.name.ends_with(".txt")
                && doc
                    .container
                    .last()
                    .is_some_and(|c| c.starts_with("message/rfc822"));
            if doc.role == Role::Entry || derived_text {
                continue;
            }
            let sha = sha256_hex(&doc.bytes);
            let verbatim = !doc.bytes.is_empty()
                && raw
                    .windows(doc.bytes.len())
                    .any(|w| w == doc.bytes.as_slice());
            assert!(
                bodies.contains(&sha) || verbatim,
                "{case}: {} is not a body of the raw message",
                doc.name
            );
        }
    }
}

/// A message nested `levels` deep, by multiparts or by forwarded messages.
fn nested(levels: usize, forwarded: bool) -> Vec<u8> {
    let mut m = String::from("From: a@example.pl\r\nSubject: deep\r\n");
    for i in 0..levels {
        if forwarded {
            m.push_str("Content-Type: message/rfc822\r\n\r\nSubject: level\r\n");
        } else {
            m.push_str(&format!(
                "Content-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n--b{i}\r\n"
            ));
        }
    }
    m.push_str("Content-Type: text/plain\r\n\r\nx\r\n");
    if !forwarded {
        for i in (0..levels).rev() {
            m.push_str(&format!("--b{i}--\r\n"));
        }
    }
    m.into_bytes()
}

#[test]
fn ten_thousand_nested_multiparts_end_in_too_deep() {
    let result = unpack_email(&nested(10_000, false), &limits());
    assert_eq!(result.err(), Some(UnpackError::TooDeep { limit: 32 }));
}

#[test]
fn ten_thousand_nested_forwarded_messages_end_in_too_deep() {
    let result = unpack_email(&nested(10_000, true), &limits());
    assert_eq!(result.err(), Some(UnpackError::TooDeep { limit: 32 }));
}

#[test]
fn deep_nesting_hidden_in_base64_ends_in_too_deep() {
    let inner = base64::engine::general_purpose::STANDARD.encode(nested(10_000, false));
    let raw = format!(
        "From: a@example.pl\r\nContent-Type: message/rfc822\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{inner}\r\n"
    );
    let result = unpack_email(raw.as_bytes(), &limits());
    assert_eq!(result.err(), Some(UnpackError::TooDeep { limit: 32 }));
}

#[test]
fn nesting_within_the_limit_unpacks() {
    let result = unpack_email(&nested(20, false), &limits()).unwrap();
    assert_eq!(result.text.as_deref(), Some("x"));
}

#[test]
fn the_zip_bomb_is_rejected_naming_the_archive_and_the_limit() {
    let raw = std::fs::read(fixtures().join("zip-bomb.eml")).unwrap();
    match unpack_email(&raw, &limits()) {
        Err(UnpackError::Archive { name, reason }) => {
            assert_eq!(name, "bomba.zip");
            assert!(reason.contains("200:1"), "{reason}");
        }
        other => panic!("expected an archive error, got {other:?}"),
    }
}

#[test]
fn the_zip_bomb_uploaded_alone_is_rejected_too() {
    let raw = std::fs::read(fixtures().join("zip-bomb.eml")).unwrap();
    let unpacked = unpack_email(
        &raw,
        &LimitsConfig {
            zip_max_ratio: 10_000,
            zip_max_total_bytes: 1 << 20,
            ..limits()
        },
    );
    assert!(
        matches!(&unpacked, Err(UnpackError::Archive { reason, .. }) if reason.contains("total")),
        "{unpacked:?}"
    );
}

#[test]
fn an_uploaded_zip_gives_the_file_and_its_entries() {
    let raw = std::fs::read(fixtures().join("zip-nested.eml")).unwrap();
    let zip = unpack_email(&raw, &limits())
        .unwrap()
        .documents
        .into_iter()
        .find(|d| d.name == "zewnetrzne.zip")
        .unwrap();
    let docs = unpack_file("archiwum.zip", &zip.bytes, &limits()).unwrap();
    let names: Vec<_> = docs.iter().map(|d| (d.name.as_str(), d.role)).collect();
    assert_eq!(
        names,
        vec![
            ("archiwum.zip", Role::Upload),
            ("wewnetrzne.zip", Role::Entry),
            ("wniosek.pdf", Role::Entry),
            ("opis.txt", Role::Entry),
            ("lista.txt", Role::Entry),
        ]
    );
    assert_eq!(
        docs.get(2).unwrap().container,
        vec!["archiwum.zip", "wewnetrzne.zip"]
    );
}

#[test]
fn archives_nested_beyond_the_limit_are_rejected() {
    let raw = std::fs::read(fixtures().join("zip-nested.eml")).unwrap();
    let result = unpack_email(
        &raw,
        &LimitsConfig {
            zip_max_depth: 1,
            ..limits()
        },
    );
    assert!(
        matches!(&result, Err(UnpackError::Archive { name, .. }) if name == "zewnetrzne.zip/wewnetrzne.zip"),
        "{result:?}"
    );
}

#[test]
fn a_message_over_the_size_limit_is_too_large() {
    let raw = std::fs::read(fixtures().join("iso-8859-2-plain.eml")).unwrap();
    let result = unpack_email(
        &raw,
        &LimitsConfig {
            max_message_bytes: 100,
            ..limits()
        },
    );
    assert!(matches!(
        result,
        Err(UnpackError::TooLarge { limit: 100, .. })
    ));
}

#[test]
fn too_many_documents_are_refused() {
    let raw = std::fs::read(fixtures().join("zip-utf8-names.eml")).unwrap();
    let result = unpack_email(
        &raw,
        &LimitsConfig {
            max_documents: 2,
            ..limits()
        },
    );
    assert_eq!(
        result.err(),
        Some(UnpackError::TooManyDocuments { limit: 2 })
    );
}

#[test]
fn never_panics_on_any_prefix_of_the_fixtures() {
    for case in cases() {
        if case == "zip-bomb" {
            continue;
        }
        let raw = std::fs::read(fixtures().join(format!("{case}.eml"))).unwrap();
        for cut in (0..raw.len()).step_by(7) {
            let prefix = raw.get(..cut).unwrap();
            let _ = unpack_email(prefix, &limits());
            let _ = podawcza::ingest::mime::read_header(prefix);
        }
    }
}

#[test]
fn an_inner_multipart_left_open_is_closed_by_its_parent_with_a_warning() {
    let raw = b"From: a@example.pl\r\nContent-Type: multipart/mixed; boundary=out\r\n\r\n--out\r\n\
Content-Type: multipart/alternative; boundary=in\r\n\r\n--in\r\n\
Content-Type: text/plain\r\n\r\ntekst\r\n--out\r\n\
Content-Type: application/pdf; name=a.pdf\r\n\r\n%PDF-1.4\r\n--out--\r\n";
    let unpacked = unpack_email(raw, &limits()).unwrap();
    assert_eq!(unpacked.text.as_deref(), Some("tekst"));
    let names: Vec<_> = unpacked.documents.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, vec!["a.pdf"]);
    assert_eq!(unpacked.warnings.len(), 1, "{:?}", unpacked.warnings);
}

#[test]
fn never_panics_on_mutated_fixtures() {
    // A fixed xorshift: the same mutations every run, so a failure can be replayed.
    let mut seed: u64 = 0x5eed_0f70_da3c_2a11;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        usize::try_from(seed % 1_000_000_007).unwrap()
    };
    let tokens: [&[u8]; 6] = [
        b"\r\n",
        b"--",
        b"\r\n\r\n",
        b"Content-Type: message/rfc822\r\n",
        b"Content-Type: multipart/digest; boundary=b-outer\r\n",
        b"Content-Transfer-Encoding: base64\r\n",
    ];
    let files: Vec<Vec<u8>> = cases()
        .iter()
        .filter(|c| *c != "zip-bomb")
        .map(|c| std::fs::read(fixtures().join(format!("{c}.eml"))).unwrap())
        .collect();
    for _ in 0..3000 {
        let mut m = files[next() % files.len()].clone();
        for _ in 0..1 + next() % 5 {
            let at = next() % (m.len() + 1);
            match next() % 3 {
                0 if at < m.len() => m[at] = (next() % 256) as u8,
                1 if at < m.len() => {
                    m.remove(at);
                }
                _ => {
                    let token = tokens[next() % tokens.len()];
                    m.splice(at..at, token.iter().copied());
                }
            }
        }
        let _ = unpack_email(&m, &limits());
    }
}

#[test]
fn a_corrupt_uploaded_zip_is_kept_with_a_warning() {
    let raw = std::fs::read(fixtures().join("zip-corrupt.eml")).unwrap();
    let cut = unpack_email(&raw, &limits())
        .unwrap()
        .documents
        .into_iter()
        .find(|d| d.name == "uciete.zip")
        .unwrap();
    let (docs, warnings) =
        podawcza::ingest::mime::unpack_file_with_warnings("skany.zip", &cut.bytes, &limits())
            .unwrap();
    assert_eq!(docs.len(), 1);
    assert_eq!(docs.first().unwrap().role, Role::Upload);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
}
