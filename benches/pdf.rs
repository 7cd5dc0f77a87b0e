//! Issue 4 acceptance 4, in one run: PAdES integrity throughput on a 10 MB PDF (the size the issue names) signed at
//! bench time with the test PKI (criterion, MB/s; goal at least 500 MB/s on one core, the
//! ceiling being one SHA-256 pass, printed beside it), the same file validated by pyHanko
//! (median of a few runs inside one Python process, without interpreter start), a
//! 100-signature PDF, and every PDF of the corpus verified in one process against pyHanko
//! validating the same files in one Python process (goal: at least 10 times its throughput).
//!
//! `cargo bench --bench pdf` or `bash scripts/bench.sh pdf` (which installs pyHanko).
//! `PODAWCZA_BENCH_PDF_MB` sets the size in MB (10), `PODAWCZA_TEST_PYHANKO_PYTHON` the Python of the
//! pyHanko venv (skipped with a note when it cannot run), `PODAWCZA_CORPUS` the corpus folder.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a benchmark may fail loudly

use criterion::{Criterion, Throughput};
use podawcza::fixtures::{pdf, pki};
use podawcza::signature::cms::verify_cms_family;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn none(_: &str) -> Option<Vec<u8>> {
    None
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn mbps(bytes: usize, t: Duration) -> f64 {
    bytes as f64 / 1e6 / t.as_secs_f64()
}

/// Our integrity check of `data`, asserting the one signature is intact.
fn ours(data: &[u8]) {
    let r = verify_cms_family("big.pdf", data, &none).unwrap();
    assert_eq!(r.signatures.len(), 1);
    assert_eq!(r.signatures[0].intact, Some(true), "{:?}", r.signatures[0]);
}

/// The same with the file's SHA-256 known (as the pipeline knows its blob key).
fn ours_known(data: &[u8], sha256: &str) {
    let known = podawcza::digest::Known {
        sha256,
        prefixes: None,
    };
    let r = podawcza::signature::pdf::verify_pdf_stored("big.pdf", data, known);
    assert_eq!(r.signatures[0].intact, Some(true), "{:?}", r.signatures[0]);
}

fn pyhanko_python() -> Option<String> {
    let py = std::env::var("PODAWCZA_TEST_PYHANKO_PYTHON")
        .ok()
        .or_else(|| {
            let home = std::env::var("HOME").ok()?;
            Some(format!("{home}/.cache/podawcza/pyhanko-0.38.0/bin/python"))
        })?;
    let ok = Command::new(&py)
        .args(["-c", "import pyhanko"])
        .status()
        .is_ok_and(|s| s.success());
    ok.then_some(py)
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/pyhanko-validate.py")
}

/// pyHanko's JSON lines for `args`.
fn pyhanko(py: &str, args: &[&str]) -> Vec<serde_json::Value> {
    let out = Command::new(py).arg(script()).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn corpus_pdfs() -> Vec<PathBuf> {
    let root = std::env::var_os("PODAWCZA_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    let index = std::fs::read_to_string(root.join("index.tsv")).unwrap_or_default();
    index
        .lines()
        .skip(1)
        .filter_map(|l| {
            let mut f = l.split('\t');
            let (path, format) = (f.next()?, f.next()?);
            (format == "pades" && path.ends_with(".pdf")).then(|| root.join(path))
        })
        // The two infinite-loop samples: pyHanko stops on them at once, we too; kept in.
        .filter(|p| p.is_file())
        .collect()
}

fn main() {
    let mb: usize = std::env::var("PODAWCZA_BENCH_PDF_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let pki = pki::committed().unwrap();
    let started = Instant::now();
    // Signed in an incremental update after the document (the common case: a resident signs
    // an existing PDF), and signed in the first revision (the hole near the start).
    let big = pdf::large_signed_incremental(&pki, "qes-signer", mb * 1_000_000).unwrap();
    let first = pdf::large_signed(&pki, "qes-signer", mb * 1_000_000).unwrap();
    println!(
        "signed PDFs of {} and {} bytes made with the test PKI in {:?}",
        big.len(),
        first.len(),
        started.elapsed()
    );
    ours(&big);
    ours(&first);

    let mut c = Criterion::default()
        .sample_size(10)
        .measurement_time(Duration::from_secs(8))
        .configure_from_args();
    let mut group = c.benchmark_group("pdf");
    group.throughput(Throughput::BytesDecimal(big.len() as u64));
    group.bench_function(format!("pades_integrity_{mb}MB_incremental"), |b| {
        b.iter(|| ours(&big))
    });
    group.bench_function(format!("pades_integrity_{mb}MB_first_revision"), |b| {
        b.iter(|| ours(&first))
    });
    let first_sha = podawcza::signature::cms::certs::sha256_hex(&first);
    group.bench_function(
        format!("pades_integrity_{mb}MB_first_revision_known_sha256"),
        |b| b.iter(|| ours_known(&first, &first_sha)),
    );
    group.bench_function(format!("sha256_alone_{mb}MB"), |b| {
        b.iter(|| openssl::sha::sha256(&big))
    });
    group.finish();

    let sha_t = median(
        (0..5)
            .map(|_| {
                time(|| {
                    std::hint::black_box(openssl::sha::sha256(&big));
                })
            })
            .collect(),
    );
    let mut ours_t = Duration::ZERO;
    for (label, file) in [
        ("signed in an incremental update", &big),
        ("signed in its first revision", &first),
    ] {
        let t = median((0..5).map(|_| time(|| ours(file))).collect());
        if ours_t.is_zero() {
            ours_t = t;
        }
        println!(
            "PAdES integrity, {mb} MB PDF {label}: median {t:?} = {:.0} MB/s (one SHA-256 pass alone: {:.0} MB/s)",
            mbps(file.len(), t),
            mbps(big.len(), sha_t)
        );
    }
    let t = median(
        (0..5)
            .map(|_| time(|| ours_known(&first, &first_sha)))
            .collect(),
    );
    println!(
        "PAdES integrity, {mb} MB PDF signed in its first revision, file SHA-256 given by the caller (blob key): median {t:?} = {:.0} MB/s",
        mbps(first.len(), t)
    );

    let mut many = pdf::sign(
        &pki,
        "qes-signer",
        &pdf::unsigned_with(&pdf::SigOptions::approval("1"), 0),
    )
    .unwrap();
    for k in 1..100 {
        many = pdf::add_signature_field(
            &many,
            &pdf::SigOptions::approval("Kolejny podpis"),
            6 + 2 * k,
        );
        many = pdf::sign(&pki, "advanced-signer", &many).unwrap();
    }
    let many_t = median(
        (0..3)
            .map(|_| {
                time(|| {
                    let r = verify_cms_family("many.pdf", &many, &none).unwrap();
                    assert_eq!(r.signatures.len(), 100);
                    assert!(r.signatures.iter().all(|s| s.intact == Some(true)));
                })
            })
            .collect(),
    );
    println!(
        "100-signature PDF ({} bytes): median {many_t:?}",
        many.len()
    );

    let Some(py) = pyhanko_python() else {
        println!("pyHanko not installed (scripts/lib/setup.sh installs it): comparison skipped");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let big_path = dir.path().join("big.pdf");
    std::fs::write(&big_path, &big).unwrap();
    let peer = pyhanko(py.as_str(), &["--repeat", "3", big_path.to_str().unwrap()]);
    let peer_t = Duration::from_secs_f64(peer[0]["median_seconds"].as_f64().unwrap());
    assert_eq!(peer[0]["signatures"][0]["intact"], true, "{}", peer[0]);
    println!(
        "pyHanko 0.38 on the same {mb} MB PDF: median {peer_t:?} = {:.0} MB/s; ours is {:.1} times faster",
        mbps(big.len(), peer_t),
        peer_t.as_secs_f64() / ours_t.as_secs_f64()
    );

    let files = corpus_pdfs();
    let data: Vec<(String, Vec<u8>)> = files
        .iter()
        .map(|p| (p.display().to_string(), std::fs::read(p).unwrap()))
        .collect();
    let total: usize = data.iter().map(|(_, d)| d.len()).sum();
    let ours_corpus = median(
        (0..3)
            .map(|_| {
                time(|| {
                    for (name, d) in &data {
                        std::hint::black_box(verify_cms_family(name, d, &none));
                    }
                })
            })
            .collect(),
    );
    let args: Vec<&str> = files.iter().map(|p| p.to_str().unwrap()).collect();
    let started = Instant::now();
    let lines = pyhanko(py.as_str(), &args);
    let peer_wall = started.elapsed();
    let peer_sum: f64 = lines.iter().filter_map(|l| l["seconds"].as_f64()).sum();
    println!(
        "corpus, {} PDFs ({:.1} MB): ours {ours_corpus:?} in one process ({:.0} MB/s); pyHanko {:.2} s of validation in one process ({:.2} s with interpreter start; {:.1} MB/s): ours {:.0} times faster",
        files.len(),
        total as f64 / 1e6,
        mbps(total, ours_corpus),
        peer_sum,
        peer_wall.as_secs_f64(),
        total as f64 / 1e6 / peer_sum,
        peer_sum / ours_corpus.as_secs_f64()
    );
}

fn time(f: impl FnOnce()) -> Duration {
    let t = Instant::now();
    f();
    t.elapsed()
}
