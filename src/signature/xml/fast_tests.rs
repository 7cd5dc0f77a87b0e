//! The streaming path ([`super::stream`], [`super::fast`]) against the tree path it shortcuts:
//! byte-for-byte the same canonical form, and the same report, on every XML file of the shared
//! corpus it accepts and on signatures made here; and back to the tree for what it must not
//! vouch for (wrapping by a duplicated ID, DTDs, more than one signature).

use super::c14n::{canonicalize, Method, Params};
use super::c14n_conformance::corpus_dir;
use super::nodeset::NodeSet;
use super::testkit::{self, Options};
use super::transforms::is_dsig;
use super::verify::{evidence_in, signature_report};
use super::{fast, parse, stream, verify_xml};
use std::path::{Path, PathBuf};

fn none(_: &str) -> Option<Vec<u8>> {
    None
}

fn xml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            xml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "xml") {
            out.push(path);
        }
    }
}

/// Every `.xml` file of the corpus, decoded (files that do not decode are skipped).
fn corpus() -> Vec<(PathBuf, String)> {
    let mut paths = Vec::new();
    xml_files(&corpus_dir(), &mut paths);
    paths.sort();
    paths
        .into_iter()
        .filter_map(|p| {
            let bytes = std::fs::read(&p).ok()?;
            let text = parse::decode(&bytes).ok()?.into_owned();
            Some((p, text))
        })
        .collect()
}

/// The tree's canonical form of the document without comments and without its first
/// `ds:Signature`.
fn tree_form(text: &str, method: Method) -> Option<Vec<u8>> {
    let doc = parse::parse(text).ok()?;
    let mut set = NodeSet::whole(&doc);
    set.remove_comments(&doc);
    if let Some(sig) = doc.descendants().find(|n| is_dsig(*n, "Signature")) {
        set.remove_subtree(sig);
    }
    let params = Params {
        method,
        with_comments: false,
        inclusive_prefixes: Vec::new(),
    };
    Some(canonicalize(&doc, &set, &params))
}

/// The streaming canonical form, made both ways (a pass of its own after the scan, and in the
/// scanning pass), which must agree.
fn stream_form(text: &str, method: Method) -> Option<Vec<u8>> {
    let skip = stream::scan(text).ok()?.signature.map(|s| s.0);
    let mut out = Vec::new();
    stream::canonicalize_without(text, skip, method, &mut |c| out.extend_from_slice(c)).ok()?;
    let (_, in_scan) = stream::scan_and_canonicalize(text, method).ok()?;
    assert!(
        in_scan.is_none() || in_scan.as_ref() == Some(&out),
        "the one-pass form differs"
    );
    Some(out)
}

const METHODS: [Method; 3] = [Method::Exclusive, Method::Inclusive10, Method::Inclusive11];

/// Namespaces declared, redeclared and undeclared, a signature-like element in the middle,
/// attributes to sort, references and whitespace in text and attributes.
const TRICKY: &str = "<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n<!-- c -->\n\
<r xmlns=\"urn:d\" xmlns:p=\"urn:p\" xmlns:q=\"urn:q\" xml:lang=\"pl\" z=\"1\" p:b=\"&lt;&#9;&#10;&#13;\t\n'\" q:c='\"&amp;&gt;' a=\"&#x17C;\">\
<p:e p:x=\"1\"><f xmlns=\"\"><g xmlns=\"urn:d\" q:y=\"2\"/></f></p:e>t&amp;&lt;&gt;>&#13;&#xA;&#x10348;]]\
<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:SignedInfo a=\"b\"/></ds:Signature>\
<s xmlns:p=\"urn:p2\" xmlns:q=\"urn:q\"><p:t/><!-- d --><q:u xmlns:q=\"urn:q3\"/></s>\n<p:e  p:x = '1'  />\
</r>\n<!-- after -->\n";

#[test]
fn the_streaming_canonical_form_is_the_trees_on_a_tricky_document() {
    assert!(stream::scan(TRICKY).is_ok());
    for method in METHODS {
        let tree = tree_form(TRICKY, method).unwrap();
        let streamed = stream_form(TRICKY, method).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&streamed),
            String::from_utf8_lossy(&tree),
            "{method:?}"
        );
    }
}

#[test]
fn the_streaming_canonical_form_is_the_trees_on_every_corpus_file_it_reads() {
    let files = corpus();
    assert!(
        files.len() > 100,
        "corpus not found under {:?}",
        corpus_dir()
    );
    let mut read = 0;
    for (path, text) in &files {
        if stream::scan(text).is_err() {
            continue;
        }
        // What the streaming reader accepts, the tree parser accepts too.
        assert!(parse::parse(text).is_ok(), "{}", path.display());
        read += 1;
        for method in METHODS {
            let tree = tree_form(text, method).unwrap();
            let streamed = stream_form(text, method).unwrap();
            assert!(
                streamed == tree,
                "{} {method:?}:\n{}\n---\n{}",
                path.display(),
                String::from_utf8_lossy(&streamed),
                String::from_utf8_lossy(&tree)
            );
        }
    }
    assert!(read * 2 > files.len(), "read {read} of {}", files.len());
}

#[test]
fn a_canonical_form_much_larger_than_the_input_is_not_kept_in_memory() {
    let uri = format!("urn:{}", "x".repeat(200));
    let xml = format!("<r xmlns:p=\"{uri}\">{}</r>", "<p:a/>".repeat(2000));
    let (_, kept) = stream::scan_and_canonicalize(&xml, Method::Exclusive).unwrap();
    assert!(
        kept.is_none(),
        "exclusive C14N re-renders the declaration 2000 times"
    );
    let (_, kept) = stream::scan_and_canonicalize(&xml, Method::Inclusive10).unwrap();
    assert!(kept.is_some());
    assert_eq!(
        stream_form(&xml, Method::Exclusive),
        tree_form(&xml, Method::Exclusive)
    );
}

/// Detached data beside a corpus file or among the DSS companions.
fn beside(path: &Path, name: &str) -> Option<Vec<u8>> {
    let safe = !name.is_empty() && !name.starts_with('/') && !name.split('/').any(|p| p == "..");
    if !safe {
        return None;
    }
    std::fs::read(path.parent()?.join(name))
        .or_else(|_| std::fs::read(corpus_dir().join("dss/xades/_companions").join(name)))
        .ok()
}

fn tree_reports(name: &str, text: &str, detached: super::refs::Resolver) -> serde_json::Value {
    let doc = parse::parse(text).unwrap();
    let list: Vec<_> = evidence_in(name, &doc, detached)
        .iter()
        .map(signature_report)
        .collect();
    serde_json::to_value(list).unwrap()
}

fn fast_reports(
    name: &str,
    text: &str,
    detached: super::refs::Resolver,
) -> Option<serde_json::Value> {
    let list: Vec<_> = fast::evidence(name, text, detached)?
        .iter()
        .map(signature_report)
        .collect();
    Some(serde_json::to_value(list).unwrap())
}

#[test]
fn the_fast_path_reports_what_the_tree_reports_on_the_corpus() {
    let mut fast_count = 0;
    let files = corpus();
    let total = files.len();
    for (path, text) in files {
        let resolve = |name: &str| beside(&path, name);
        let Some(fast) = fast_reports("f.xml", &text, &resolve) else {
            continue;
        };
        fast_count += 1;
        assert_eq!(
            fast,
            tree_reports("f.xml", &text, &resolve),
            "{}",
            path.display()
        );
    }
    eprintln!("{fast_count} of {total} corpus XML files took the fast path");
    assert!(
        fast_count >= 10,
        "only {fast_count} corpus files took the fast path"
    );
}

const DOC: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<wniosek xmlns="urn:test:wniosek"><dane Id="dane-1" typ="a&amp;b"><imie>Jan</imie><kwota>100 &amp; 0 &lt;pilne&gt;</kwota></dane></wniosek>"#;

#[test]
fn the_fast_path_verifies_our_xades_and_sees_an_alteration() {
    for ec in [false, true] {
        let signed = testkit::sign(DOC, &testkit::signer("Jan", ec), &Options::default());
        let fast = fast_reports("w.xml", &signed, &none).expect("the fast path takes it");
        assert_eq!(fast, tree_reports("w.xml", &signed, &none));
        assert_eq!(fast[0]["intact"], serde_json::json!(true), "{fast}");
        assert_eq!(
            fast[0]["signed_data"][0]["whole_file"],
            serde_json::json!(true)
        );

        let altered = signed.replace("<imie>Jan</imie>", "<imie>Jana</imie>");
        let fast = fast_reports("w.xml", &altered, &none).expect("the fast path takes it");
        assert_eq!(fast, tree_reports("w.xml", &altered, &none));
        assert_eq!(fast[0]["sub_indication"], serde_json::json!("HASH_FAILURE"));
    }
}

#[test]
fn a_duplicated_id_outside_the_signature_goes_back_to_the_tree() {
    let signed = testkit::sign(DOC, &testkit::signer("A", false), &Options::default());
    let props = signed
        .split("SignedProperties Id=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_string();
    let wrapped = signed.replace(
        "<wniosek xmlns=\"urn:test:wniosek\">",
        &format!("<wniosek xmlns=\"urn:test:wniosek\"><x Id=\"{props}\"/>"),
    );
    assert!(fast::evidence("w.xml", &wrapped, &none).is_none());
    let report = verify_xml("w.xml", wrapped.as_bytes(), &none);
    assert_eq!(report.signatures[0].intact, Some(false));
    assert_eq!(
        report.signatures[0].sub_indication.as_deref(),
        Some("FORMAT_FAILURE")
    );
}

#[test]
fn an_element_reference_and_two_signatures_go_back_to_the_tree() {
    let opts = Options {
        element_id: Some("dane-1".into()),
        ..Options::default()
    };
    let signed = testkit::sign(DOC, &testkit::signer("A", false), &opts);
    assert!(fast::evidence("w.xml", &signed, &none).is_none());
    let once = testkit::sign(DOC, &testkit::signer("A", false), &Options::default());
    let twice = testkit::sign(&once, &testkit::signer("B", false), &Options::default());
    assert!(fast::evidence("w.xml", &twice, &none).is_none());
    assert_eq!(
        verify_xml("w.xml", twice.as_bytes(), &none)
            .signatures
            .len(),
        2
    );
}

#[test]
fn the_streaming_reader_leaves_everything_unusual_to_the_tree() {
    let refused = [
        "<!DOCTYPE a><a/>",
        "<a><![CDATA[x]]></a>",
        "<a><?pi x?></a>",
        "<?xml version=\"1.1\"?><a/>",
        " <?xml version=\"1.0\"?><a/>",
        "<a>\r\n</a>",
        "<a b=\"1\"c=\"2\"/>",
        "<a b=\"1\" b=\"2\"/>",
        "<a xmlns:p=\"urn:p\" xmlns:q=\"urn:p\" p:b=\"1\" q:b=\"2\"/>",
        "<p:a/>",
        "<a p:b=\"1\"/>",
        "<a></b>",
        "<a>",
        "<a/><b/>",
        "x<a/>",
        "<a>]]></a>",
        "<a>&unknown;</a>",
        "<a>&#0;</a>",
        "<a>&#xD800;</a>",
        "<a b=\"<\"/>",
        "<a><!-- x -- y --></a>",
        "<a xmlns:xml=\"http://www.w3.org/XML/1998/namespace\"/>",
        "<a xmlns:p=\"\"/>",
        "<\u{17C}/>",
        "<a>\u{1}</a>",
        "<a>\u{FFFE}</a>",
    ];
    for xml in refused {
        assert!(stream::scan(xml).is_err(), "{xml:?}");
    }
    let deep = format!(
        "{}{}",
        "<a>".repeat(parse::MAX_DEPTH),
        "</a>".repeat(parse::MAX_DEPTH)
    );
    assert!(stream::scan(&deep).is_err());
    assert!(stream::scan("<a b='1' c=\"&#x17C;\">\u{17C}</a>").is_ok());
}
