//! Issue 3 acceptance 4, in one run: the in-process verification time of a 100 KB XAdES-B
//! (median and p99; goal under 1 ms), then every XML file of the corpus verified in one process
//! against `xmlsec1 --verify` run file by file (goal at least 10 times the throughput).
//!
//! `cargo bench --bench xml` (release). `PODAWCZA_BENCH_RUNS` sets the number of timed runs
//! (500 by default); `PODAWCZA_CORPUS` the corpus folder (default `../shared/corpus`).
//! `PODAWCZA_BENCH_ONLY=fast|tree` times only that path of the 100 KB verification and skips
//! the rest (for `valgrind --tool=callgrind`). xmlsec1 must be installed (`scripts/lib/setup.sh`
//! does it).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a benchmark may fail loudly

use podawcza::fixtures::{pki, xades};
use podawcza::signature::report::Report;
use podawcza::signature::xml::c14n::Method;
use podawcza::signature::xml::c14n::{canonicalize, Params};
use podawcza::signature::xml::nodeset::NodeSet;
use podawcza::signature::xml::{parse, stream, verify_xml, verify_xml_tree};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The 100 KB form of the benchmark: many small elements with attributes and escaped text,
/// the dense case for parsing and canonicalization.
fn document_of_100_kb() -> String {
    let mut body = String::from("<wniosek xmlns=\"urn:test:wniosek\">");
    let mut i = 0;
    while body.len() < 100 * 1024 {
        body.push_str(&format!(
            "<pozycja nr=\"{i}\" typ=\"a&amp;b\"><opis>Wniosek o wydanie dowodu {i} &lt;pilne&gt;</opis><kwota>{i}.00</kwota></pozycja>\n"
        ));
        i += 1;
    }
    body.push_str("</wniosek>");
    body
}

fn runs() -> usize {
    std::env::var("PODAWCZA_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500)
}

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    let i = (sorted.len() * p / 100).min(sorted.len().saturating_sub(1));
    sorted.get(i).copied().unwrap_or_default()
}

/// A verifier of the public API.
type Verify = fn(&str, &[u8], podawcza::signature::xml::refs::Resolver) -> Report;

/// Enveloped XAdES-B-B, RSA-2048 (`qes-signer` of the test PKI), exclusive C14N.
fn bench_100_kb() {
    let pki = pki::committed().expect("the committed test PKI (fixtures/pki)");
    let signer = pki.get("qes-signer").unwrap();
    let signed = xades::sign(
        &document_of_100_kb(),
        &signer.key,
        &signer.cert,
        &xades::Options::default(),
    )
    .unwrap();
    let none = |_: &str| None;
    let only = std::env::var("PODAWCZA_BENCH_ONLY").ok();
    let paths: [(&str, Verify); 2] = [
        ("streaming path (verify_xml)", verify_xml),
        (
            "whole-tree path (verify_xml_tree, as before)",
            verify_xml_tree,
        ),
    ];
    for (label, verify) in paths {
        let key = if label.starts_with("streaming") {
            "fast"
        } else {
            "tree"
        };
        if only.as_deref().is_some_and(|o| o != key) {
            continue;
        }
        let first = verify("b.xml", signed.as_bytes(), &none);
        assert_eq!(first.signatures.first().and_then(|s| s.intact), Some(true));
        for _ in 0..20 {
            verify("b.xml", signed.as_bytes(), &none);
        }
        let mut times: Vec<Duration> = (0..runs())
            .map(|_| {
                let started = Instant::now();
                let report = verify("b.xml", signed.as_bytes(), &none);
                let elapsed = started.elapsed();
                assert_eq!(report.signatures.len(), 1);
                elapsed
            })
            .collect();
        times.sort();
        println!(
            "100 KB XAdES-B ({} bytes signed), in-process, {label}: median {:?}, p99 {:?} over {} runs (goal: median under 1 ms)",
            signed.len(),
            percentile(&times, 50),
            percentile(&times, 99),
            times.len()
        );
    }
    if only.is_none() {
        phases(&signed);
    }
}

/// Median of `f` over the benchmark's runs.
fn median_of(mut f: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..runs())
        .map(|_| {
            let started = Instant::now();
            f();
            started.elapsed()
        })
        .collect();
    times.sort();
    percentile(&times, 50)
}

/// Where the time goes: parsing (roxmltree, with our limits) and the whole-document exclusive
/// canonicalization of the data reference, each alone.
fn phases(signed: &str) {
    let parse = median_of(|| {
        std::hint::black_box(parse::parse(signed).map(|d| d.descendants().count()).ok());
    });
    let options = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit: parse::MAX_NODES,
    };
    let tree_only = median_of(|| {
        let doc = roxmltree::Document::parse_with_options(signed, options);
        std::hint::black_box(doc.map(|d| d.descendants().count()).ok());
    });
    let doc = parse::parse(signed).unwrap();
    let params = Params::from_uri("http://www.w3.org/2001/10/xml-exc-c14n#").unwrap();
    let mut set = NodeSet::whole(&doc);
    if let Some(sig) = doc
        .descendants()
        .find(|n| n.tag_name().name() == "Signature")
    {
        set.remove_subtree(sig);
    }
    let c14n = median_of(|| {
        std::hint::black_box(canonicalize(&doc, &set, &params).len());
    });
    let scan = median_of(|| {
        std::hint::black_box(stream::scan(signed).map(|s| s.signatures).ok());
    });
    let skip = stream::scan(signed).unwrap().signature.map(|s| s.0);
    let streamed = median_of(|| {
        let mut n = 0;
        stream::canonicalize_without(signed, skip, Method::Exclusive, &mut |c| n += c.len())
            .unwrap();
        std::hint::black_box(n);
    });
    let inclusive = median_of(|| {
        let mut n = 0;
        stream::canonicalize_without(signed, skip, Method::Inclusive10, &mut |c| n += c.len())
            .unwrap();
        std::hint::black_box(n);
    });
    println!(
        "  tree path: parse median {parse:?} (roxmltree alone {tree_only:?}), document C14N median {c14n:?}"
    );
    println!(
        "  streaming path: scan median {scan:?}, document C14N into a byte counter: exclusive median {streamed:?}, inclusive median {inclusive:?}"
    );
}

fn corpus_dir() -> PathBuf {
    std::env::var_os("PODAWCZA_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus")))
}

/// The `.xml` files of the XML rows of the corpus index.
fn corpus_xml_files(corpus: &Path) -> Vec<(String, Vec<u8>)> {
    let index = std::fs::read_to_string(corpus.join("index.tsv")).unwrap_or_default();
    let mut paths: Vec<&str> = index
        .lines()
        .filter_map(|line| {
            let mut cols = line.split('\t');
            let (path, format) = (cols.next()?, cols.next()?);
            let xml = matches!(format, "xades" | "xmldsig") && path.ends_with(".xml");
            xml.then_some(path)
        })
        .collect();
    paths.sort_unstable();
    paths.dedup();
    paths
        .into_iter()
        .filter_map(|p| Some((p.to_string(), std::fs::read(corpus.join(p)).ok()?)))
        .collect()
}

/// Detached data beside the signature or among the DSS companions, by a plain relative name.
fn beside(corpus: &Path, row: &str, name: &str) -> Option<Vec<u8>> {
    let safe = !name.is_empty() && !name.starts_with('/') && !name.split('/').any(|p| p == "..");
    if !safe {
        return None;
    }
    let dir = corpus.join(row);
    let dir = dir.parent()?;
    std::fs::read(dir.join(name))
        .or_else(|_| std::fs::read(corpus.join("dss/xades/_companions").join(name)))
        .ok()
}

/// `xmlsec1 --verify` with the flags of TEST-SERVERS.md; true when it could run.
fn xmlsec1(path: &Path) -> bool {
    std::process::Command::new("xmlsec1")
        .args(["--verify", "--insecure"])
        .args([
            "--id-attr:Id",
            "http://uri.etsi.org/01903/v1.3.2#:SignedProperties",
        ])
        .arg(path)
        .output()
        .is_ok()
}

fn bench_corpus() {
    let corpus = corpus_dir();
    let files = corpus_xml_files(&corpus);
    assert!(!files.is_empty(), "no corpus under {}", corpus.display());
    let bytes: usize = files.iter().map(|(_, b)| b.len()).sum();
    let started = Instant::now();
    let mut signatures = 0;
    for (path, data) in &files {
        let resolve = |name: &str| beside(&corpus, path, name);
        signatures += verify_xml(path, data, &resolve).signatures.len();
    }
    let ours = started.elapsed();
    let started = Instant::now();
    for (path, data) in &files {
        let resolve = |name: &str| beside(&corpus, path, name);
        std::hint::black_box(verify_xml_tree(path, data, &resolve).signatures.len());
    }
    let tree = started.elapsed();
    let started = Instant::now();
    let ran = files
        .iter()
        .filter(|(path, _)| xmlsec1(&corpus.join(path)))
        .count();
    let peer = started.elapsed();
    assert_eq!(
        ran,
        files.len(),
        "xmlsec1 is required: apt-get install -y xmlsec1"
    );
    println!(
        "corpus, {} XML files ({bytes} bytes, {signatures} signatures): podawcza in-process {ours:?} (whole-tree path {tree:?}) | xmlsec1 --verify loop {peer:?} | {:.1}x the throughput (goal: 10x)",
        files.len(),
        peer.as_secs_f64() / ours.as_secs_f64().max(1e-9)
    );
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing and only wants a
    // quick check that the benchmark still runs.
    if !std::env::args().any(|a| a == "--bench") {
        println!("xml benchmark: run with cargo bench --bench xml");
        return;
    }
    bench_100_kb();
    if std::env::var_os("PODAWCZA_BENCH_ONLY").is_none() {
        bench_corpus();
    }
}
