//! Differential test of the PDF verifier against pyHanko (issue 4, acceptance 3): over the PDFs
//! of `../shared/corpus` (rows `pades` of `index.tsv`, read in place) and the own fixtures of
//! [`podawcza::fixtures::pdf::cases`] (made at test time with the committed test PKI), each
//! signature's verdict — intact (digest and value), and unchanged (the ByteRange covers its
//! revision and nothing after it goes beyond what DocMDP/FieldMDP allow) — must be pyHanko's.
//! pyHanko runs once over all files, without trust roots (`scripts/pyhanko-validate.py`; the
//! pinned version comes from `scripts/lib/setup.sh`). Where we keep another verdict the file
//! is in [`DISAGREEMENTS`] with the reason; a listed file that agrees again fails the test too,
//! so the list stays true. The test does not skip: pyHanko must be installed.

use podawcza::fixtures::{pdf, pki};
use podawcza::signature::cms::verify_cms_family;
use podawcza::signature::Report;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Files on which our verdicts differ from pyHanko's, and why we keep ours (VERIFY-NOTES
/// "peer verifiers").
const DISAGREEMENTS: &[(&str, &str)] = &[
    // pyHanko's diff policy (a whitelist of update patterns) calls a later LTV or form update
    // OTHER (docmdp_ok false) where our object comparison finds only validation data,
    // signatures, document time-stamps and form fields; DSS labels every one of these valid.
    (
        "dss/pades/AD-RB.pdf",
        "Adobe Reader LTV update before the envelope signature: pyHanko OTHER, DSS valid",
    ),
    (
        "dss/pades/PAdES-LT.pdf",
        "DSS added after the first signature: pyHanko OTHER for one signature, DSS valid",
    ),
    (
        "dss/pades/Signature-P-HU_POL-7.pdf",
        "plugtest LT extension (DSS + document time-stamp): pyHanko OTHER, DSS valid",
    ),
    (
        "dss/pades/adbe_crl_signed.pdf",
        "adbe.pkcs7.detached with CRLs then two document time-stamps: pyHanko OTHER, DSS valid \
         (label invalid is about the CRL, not the bytes)",
    ),
    (
        "dss/pades/dss-1376/DSS1376-rev_n.pdf",
        "second signature's revision rewrites form fields: pyHanko OTHER, DSS valid",
    ),
    (
        "dss/pades/dss-1959/pades-tst-with-orphan-refs.pdf",
        "orphan references left by an LTV update: pyHanko OTHER, DSS valid",
    ),
    (
        "dss/pades/lt-short.pdf",
        "24 signatures each followed by DSS updates: pyHanko OTHER for 22, DSS valid",
    ),
    (
        "dss/pades/pades-signed-filled-form.pdf",
        "form filled and signed after the first signature: pyHanko OTHER and lists one \
         signature, we two (both intact), DSS valid",
    ),
    (
        "dss/pades/dss-2236/annotation-and-visible-change.pdf",
        "annotations added under a certification with DocMDP P=3, which permits them: pyHanko \
         OTHER, DSS valid (its test only warns about the visual change)",
    ),
    // pyHanko cannot read the file, or stops on the signature: nothing to compare.
    (
        "dss/pades/dss-2236/hide.pdf",
        "pyHanko: PdfReadError (no endstream); DSS: INDETERMINATE on the signing certificate",
    ),
    (
        "dss/pades/pades-t-duplicated-doctst.pdf",
        "pyHanko: KeyError on a duplicated document time-stamp reference; DSS valid",
    ),
    (
        "dss/pades/dss-PLAIN-ECDSA/TeleSec_PKS_eIDAS_QES_CA_1-baseline-b.pdf",
        "plain-ECDSA (BSI TR-03111) signature value: pyHanko does not verify it, we do",
    ),
    (
        "dss/pades/encrypted.pdf",
        "encrypted: pyHanko needs the password; we verify the signature (/Contents is never \
         encrypted) and note that /Reason etc. were not read",
    ),
    (
        "pyhanko/pdf/signed-encrypted-pubkey-with-catalog-ref.pdf",
        "public-key encrypted: pyHanko needs the key; we verify the signature",
    ),
    (
        "dss/pades/pades-5-signatures-and-1-document-timestamp.pdf",
        "pyHanko: ValueError (negative seek) reading the file; DSS reads five signatures",
    ),
    (
        "dss/pades/pades_infinite_loop.pdf",
        "cyclic xref: pyHanko stops reading (PdfStreamError); we report the signature broken",
    ),
    (
        "dss/pades/pades_opposite_infinite_loop.pdf",
        "cyclic xref: pyHanko stops reading (PdfStreamError); we report the signature broken",
    ),
    (
        "dss/pades/pdf-signed-corrupted.pdf",
        "pyHanko: PdfReadError; we report the signature broken (label invalid)",
    ),
    (
        "dss/pades/pdf-with-empty-sig.pdf",
        "empty /Contents: pyHanko raises reading the CMS, we report it broken",
    ),
    (
        "pyhanko/pdf/coverage-anomalies/base.pdf",
        "an unsigned placeholder: pyHanko raises reading the CMS, we report it broken",
    ),
    (
        "dss/pades/wrong-digest-algo.pdf",
        "digestAlgorithm is an RSA OID: pyHanko lists only the document time-stamps, we report \
         the signature broken (label invalid)",
    ),
    // Both fail the file, differently.
    (
        "dss/pades/pdf-eof.pdf",
        "ByteRange past the end of the file: pyHanko hashes what is there (digest matches) and \
         fails the coverage; we refuse the range, so the digest does not match either",
    ),
    (
        "pyhanko/pdf/ed448-disallowed-hash.pdf",
        "Ed448 with a digest other than SHAKE256: RFC 8419 §3.1 forbids it (label invalid); \
         pyHanko 0.38 accepts it",
    ),
];

/// One signature's verdict, in an order-free form.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Verdict {
    intact: bool,
    unchanged: bool,
}

impl Verdict {
    /// Whether a signature is unchanged is compared only for intact ones: a broken signature
    /// fails whatever its coverage.
    fn new(intact: bool, unchanged: bool) -> Verdict {
        Verdict {
            intact,
            unchanged: unchanged || !intact,
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let i = if self.intact { "intact" } else { "broken" };
        let u = match (self.intact, self.unchanged) {
            (false, _) => "",
            (true, true) => "/unchanged",
            (true, false) => "/modified",
        };
        write!(f, "{i}{u}")
    }
}

fn show(v: &[Verdict]) -> String {
    if v.is_empty() {
        return "no signature".into();
    }
    v.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

fn corpus() -> PathBuf {
    std::env::var_os("PODAWCZA_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus")))
}

fn corpus_pdfs() -> Vec<String> {
    let index = std::fs::read_to_string(corpus().join("index.tsv")).expect("corpus index.tsv");
    index
        .lines()
        .skip(1)
        .filter_map(|l| {
            let mut f = l.split('\t');
            let (path, format) = (f.next()?, f.next()?);
            (format == "pades" && path.ends_with(".pdf")).then(|| path.to_string())
        })
        .collect()
}

/// The Python of the pinned pyHanko venv.
fn python() -> String {
    let py = std::env::var("PODAWCZA_TEST_PYHANKO_PYTHON").unwrap_or_else(|_| {
        let home = std::env::var("HOME").unwrap_or_default();
        format!("{home}/.cache/podawcza/pyhanko-0.38.0/bin/python")
    });
    let ok = Command::new(&py)
        .args(["-c", "import pyhanko"])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "pyHanko is required ({py}): `source scripts/lib/setup.sh` installs it, or set PODAWCZA_TEST_PYHANKO_PYTHON"
    );
    py
}

/// pyHanko's verdicts per file path.
fn pyhanko(paths: &[PathBuf]) -> BTreeMap<PathBuf, Vec<Verdict>> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/pyhanko-validate.py");
    let out = Command::new(python())
        .arg(script)
        .args(paths)
        .output()
        .expect("pyhanko-validate.py");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("json line");
            let file = PathBuf::from(v["file"].as_str().unwrap_or_default());
            let mut verdicts: Vec<Verdict> = v["signatures"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .filter(|s| s["timestamp"] != Value::Bool(true))
                .map(|s| {
                    Verdict::new(
                        s["intact"] == Value::Bool(true) && s["valid"] == Value::Bool(true),
                        matches!(
                            s["coverage"].as_str(),
                            Some("ENTIRE_FILE" | "ENTIRE_REVISION")
                        ) && s["docmdp_ok"] != Value::Bool(false),
                    )
                })
                .collect();
            verdicts.sort();
            (file, verdicts)
        })
        .collect()
}

/// A coverage failure of ours (`signature::pdf::coverage`).
fn coverage_error(e: &str) -> bool {
    e.contains("ByteRange") || e.contains("signed range")
}

fn ours(report: &Report) -> Vec<Verdict> {
    let mut v: Vec<Verdict> = report
        .signatures
        .iter()
        .map(|s| {
            let placement =
                |e: &String| e.starts_with("modified after signing") || coverage_error(e);
            // pyHanko's `intact` is the digest of what the ByteRange covers; we also fail
            // integrity on a bad ByteRange, which is its coverage verdict.
            let crypto =
                s.intact == Some(true) || (!s.errors.is_empty() && s.errors.iter().all(placement));
            Verdict::new(crypto, !s.errors.iter().any(placement))
        })
        .collect();
    v.sort();
    v
}

fn none(_: &str) -> Option<Vec<u8>> {
    None
}

#[test]
fn pdf_verdicts_agree_with_pyhanko() {
    let root = corpus();
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = pki::committed().expect("committed test PKI");
    let mut files: Vec<(String, PathBuf)> = Vec::new();
    for (name, bytes) in pdf::cases(&pki).expect("own PDF fixtures") {
        let path = dir.path().join(&name);
        std::fs::write(&path, bytes).expect("write fixture");
        files.push((format!("own/{name}"), path));
    }
    let own = files.len();
    for rel in corpus_pdfs() {
        let path = root.join(&rel);
        if path.is_file() {
            files.push((rel, path));
        }
    }
    assert!(
        files.len() > own + 50,
        "corpus PDFs missing in {}",
        root.display()
    );
    let paths: Vec<PathBuf> = files.iter().map(|(_, p)| p.clone()).collect();
    let theirs = pyhanko(&paths);
    let (mut agree, mut kept) = (0, 0);
    let mut wrong = Vec::new();
    let mut listed_but_agreeing = Vec::new();
    for (name, path) in &files {
        let bytes = std::fs::read(path).expect("read");
        let report = verify_cms_family(name, &bytes, &none).expect("a pdf");
        let mine = ours(&report);
        let peer = theirs.get(path).cloned().unwrap_or_default();
        let listed = DISAGREEMENTS.iter().any(|(p, _)| p == name);
        println!("{name}\tours {}\tpyHanko {}", show(&mine), show(&peer));
        match (mine == peer, listed) {
            (true, false) => agree += 1,
            (true, true) => listed_but_agreeing.push(name.clone()),
            (false, true) => kept += 1,
            (false, false) => wrong.push(format!(
                "{name}: ours {}, pyHanko {}",
                show(&mine),
                show(&peer)
            )),
        }
    }
    println!(
        "pyHanko agreement: {agree}/{} files agree, {kept} known disagreements ({own} own fixtures)",
        files.len()
    );
    assert!(
        wrong.is_empty(),
        "verdicts other than pyHanko's:\n{}",
        wrong.join("\n")
    );
    assert!(
        listed_but_agreeing.is_empty(),
        "listed in DISAGREEMENTS but agreeing now: {listed_but_agreeing:?}"
    );
}
