//! Benchmark of the validation stage (issue 5, acceptance 1 and 4): loading the real Polish
//! trusted list with its XAdES signature checked against the signers the EU list announces
//! (goal: under 50 ms), and the cost validation adds to the integrity check of a XAdES-B
//! signed with the test PKI (paths + cached CRLs + qualification from the test trusted list;
//! goal: under 1 ms), and the validation alone of a XAdES-B-LT and a PAdES-B-LT from the
//! corpus from their embedded OCSP responses and CRLs. Prints median and p99.
//!
//! Decoded certificates are kept by the trust material for later validations (the CA and
//! OCSP responder certificates recur in every signature of a CA): each B-LT is measured with
//! every certificate new (`new`), with only the signing certificate new (`leaf new`, the usual
//! case once a CA was seen), and validated again (`again`).
//!
//! Run: `cargo bench --bench trust` (`PODAWCZA_BENCH_N` changes the number of rounds;
//! `PODAWCZA_BENCH_ONLY=lt` runs only the B-LT validations, `lt-new`, `lt-leaf`, `lt-again` one
//! case of them, `lt-new-XAdES` / `lt-new-PAdES` … one case of one format, e.g. under
//! `valgrind --tool=callgrind`, whose instruction counts stay stable on a loaded machine).

#![allow(clippy::expect_used, clippy::unwrap_used)] // a benchmark may stop loudly

use podawcza::signature::trust::{self, tl, KindSettings, Trust};
use std::path::Path;
use std::time::{Duration, Instant};

fn stats(label: &str, mut times: Vec<Duration>) {
    times.sort();
    let at = |q: f64| times[((times.len() as f64 - 1.0) * q).round() as usize];
    println!(
        "{label:<48} median {:>9.3} ms   p99 {:>9.3} ms   ({} runs)",
        at(0.5).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3,
        times.len()
    );
}

fn time(n: usize, mut f: impl FnMut()) -> Vec<Duration> {
    (0..n)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect()
}

fn main() {
    let n: usize = std::env::var("PODAWCZA_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    // `PODAWCZA_BENCH_ONLY=lt` runs only the B-LT validations (for profiling under callgrind),
    // `lt-new` / `lt-leaf` / `lt-again` one case of them.
    let only = std::env::var("PODAWCZA_BENCH_ONLY").unwrap_or_default();
    let only_lt = only.starts_with("lt");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let corpus = std::env::var("PODAWCZA_CORPUS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| root.join("../shared/corpus"));
    if !only_lt {
        lists_and_test_pki(n, root, &corpus);
    }
    b_lt(n, &corpus, only.strip_prefix("lt-"));
}

fn lists_and_test_pki(n: usize, root: &Path, corpus: &Path) {
    let eu = std::fs::read(corpus.join("dss/trusted-lists/EU.xml")).unwrap();
    let pl = std::fs::read(corpus.join("dss/trusted-lists/PL.xml")).unwrap();
    let lotl = tl::load::load("EU.xml", &eu, None).unwrap();
    let announced: Vec<_> = lotl
        .pointers
        .iter()
        .filter(|p| p.territory.as_deref() == Some("PL"))
        .flat_map(|p| p.certificates.iter().cloned())
        .collect();
    // What `tl::load::load` did before: the list's reader and the signature's verifier each
    // parsed the 700 KB document, and every certificate was decoded while reading.
    stats(
        "PL.xml as before: parsed twice, certs decoded",
        time(n.min(100), || {
            let l = tl::parse::parse(std::str::from_utf8(&pl).unwrap()).unwrap();
            let decoded: usize = l.services.iter().map(|s| s.certificates.len()).sum();
            let ev = podawcza::signature::xml::verify::evidence("PL.xml", &pl, &|_| None).unwrap();
            assert!(ev[0].intact() && decoded > 100);
        }),
    );
    let text = std::str::from_utf8(&pl).unwrap();
    stats(
        "  of which: XML parse",
        time(n.min(100), || {
            podawcza::signature::xml::parse::parse(text).unwrap();
        }),
    );
    let doc = podawcza::signature::xml::parse::parse(text).unwrap();
    stats(
        "  of which: the list read from the parsed XML",
        time(n.min(100), || {
            tl::parse::from_document(&doc).unwrap();
        }),
    );
    let ders: Vec<Vec<u8>> = tl::parse::from_document(&doc)
        .unwrap()
        .services
        .iter()
        .flat_map(|s| s.certificates.iter().map(|c| c.to_der().unwrap()))
        .collect();
    stats(
        &format!("  of which: {} certificates decoded", ders.len()),
        time(n.min(100), || {
            for d in &ders {
                openssl::x509::X509::from_der(d).unwrap();
            }
        }),
    );
    stats(
        "  of which: the signature checked on the parsed XML",
        time(n.min(100), || {
            podawcza::signature::xml::verify::evidence_in("PL.xml", &doc, &|_| None);
        }),
    );
    stats(
        "PL.xml load + signature check (700 KB)",
        time(n.min(100), || {
            let l = tl::load::load("PL.xml", &pl, Some(&announced)).unwrap();
            assert_eq!(l.signature, tl::SignatureCheck::Verified);
        }),
    );
    // Certificates are decoded on first use; the first validation against the list pays this.
    stats(
        "PL.xml load, then every certificate decoded",
        time(n.min(100), || {
            let l = tl::load::load("PL.xml", &pl, Some(&announced)).unwrap();
            let decoded: usize = l.services.iter().map(|s| s.certificates.len()).sum();
            assert!(decoded > 100);
        }),
    );

    let pki = root.join("fixtures/pki");
    let mut t = Trust::load_dir(&pki.join("anchors"), KindSettings::default()).unwrap();
    let signer =
        openssl::x509::X509::from_pem(&std::fs::read(pki.join("tl-signer.crt.pem")).unwrap())
            .unwrap();
    t.add_lists(
        &[(
            "trusted-list.xml".into(),
            std::fs::read(pki.join("trusted-list.xml")).unwrap(),
        )],
        &[signer],
    );
    let sample = std::fs::read(pki.join("samples/qes.xml")).unwrap();
    let at = trust::input::parse_time("2026-01-01T00:00:00Z").unwrap();
    let integrity = time(n, || {
        let r = podawcza::signature::inspect_with("qes.xml", "application/xml", &sample, &|_| None);
        assert_eq!(r.signatures.len(), 1);
    });
    // Every certificate new each round (the trust material keeps decoded ones).
    let full = time(n, || {
        t.cache.forget_certificates();
        let r = podawcza::signature::inspect_validated(
            "qes.xml",
            "application/xml",
            &sample,
            &|_| None,
            &t,
            at,
        );
        assert_eq!(r.signatures[0].kind, "qes");
    });
    stats("XAdES-B integrity only", integrity);
    stats("XAdES-B integrity + validation (qes)", full);
    let report =
        podawcza::signature::inspect_with("qes.xml", "application/xml", &sample, &|_| None);
    let input = report.signatures[0].validation_input.clone().unwrap();
    let alone = |forget: bool| {
        (0..n)
            .map(|_| {
                if forget {
                    t.cache.forget_certificates();
                }
                let start = Instant::now();
                let v = trust::validate(&input, &t, at);
                let took = start.elapsed();
                assert!(v.passed());
                took
            })
            .collect()
    };
    stats("validation alone (path, CRLs, qualification)", alone(true));
    stats("  the same signature validated again", alone(false));
}

fn b_lt(n: usize, corpus: &Path, case: Option<&str>) {
    // A XAdES-B-LT of the ETSI plugtests (Spain, 2015) validated in 2026 from what it carries:
    // path to its own root, its OCSP responses and CRL, its time-stamp as proof of existence.
    let lt_name = "dss/xades/Signature-X-ES-100.xml";
    let lt = std::fs::read(corpus.join(lt_name)).unwrap();
    let report = podawcza::signature::inspect_with(lt_name, "application/xml", &lt, &|_| None);
    let lt_input = report.signatures[0].validation_input.clone().unwrap();
    let roots: Vec<openssl::x509::X509> = lt_input
        .certificates
        .iter()
        .filter_map(|d| openssl::x509::X509::from_der(d).ok())
        .filter(|c| c.issuer_name().to_der().ok() == c.subject_name().to_der().ok())
        .collect();
    let lt_trust = Trust {
        anchors: roots,
        ..Trust::default()
    };
    let at_2026 = trust::input::parse_time("2026-01-01T00:00:00Z").unwrap();
    lt_cases(n, "XAdES-B-LT", &lt_input, &lt_trust, at_2026, case);

    // A PAdES-B-LT of the ETSI plugtests (Hungary) whose CMS carries OCSP responses in
    // Adobe's revocationInfoArchival, likewise.
    let pdf_name = "dss/pades/Signature-P-HU_MIC-3.pdf";
    let pdf = std::fs::read(corpus.join(pdf_name)).unwrap();
    let report = podawcza::signature::inspect_with(pdf_name, "application/pdf", &pdf, &|_| None);
    let pdf_input = report.signatures[0].validation_input.clone().unwrap();
    let pdf_trust = Trust {
        anchors: pdf_input
            .certificates
            .iter()
            .filter_map(|d| openssl::x509::X509::from_der(d).ok())
            .filter(|c| c.issuer_name().to_der().ok() == c.subject_name().to_der().ok())
            .collect(),
        ..Trust::default()
    };
    lt_cases(n, "PAdES-B-LT", &pdf_input, &pdf_trust, at_2026, case);
}

/// Validation alone of one B-LT from its embedded OCSP responses and CRLs: every certificate
/// new, only the signing certificate new, everything seen before.
fn lt_cases(
    n: usize,
    name: &str,
    input: &trust::ValidationInput,
    t: &Trust,
    at: chrono::DateTime<chrono::Utc>,
    case: Option<&str>,
) {
    // `lt-new-XAdES`: the case, then the format.
    let (case, format) = match case.map(|c| c.split_once('-')) {
        Some(Some((c, f))) => (Some(c), Some(f)),
        _ => (case, None),
    };
    if format.is_some_and(|f| !name.starts_with(f)) {
        return;
    }
    let leaf = input.signing_certificate.clone().unwrap();
    let run = |prepare: &dyn Fn()| -> Vec<Duration> {
        (0..n)
            .map(|_| {
                prepare();
                let start = Instant::now();
                let v = trust::validate(input, t, at);
                let took = start.elapsed();
                assert!(v.passed(), "{v:?}");
                took
            })
            .collect()
    };
    if case.is_none_or(|c| c == "new") {
        let times = run(&|| t.cache.forget_certificates());
        stats(&format!("{name} validation alone, certificates new"), times);
    }
    if case.is_none_or(|c| c == "leaf") {
        trust::validate(input, t, at);
        let times = run(&|| t.cache.forget_certificate(&leaf));
        stats(&format!("{name} validation alone, leaf new"), times);
    }
    if case.is_none_or(|c| c == "again") {
        let times = run(&|| {});
        stats(&format!("{name} validation alone, again"), times);
    }
}
