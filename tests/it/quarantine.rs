//! Acceptance 5 of the register: hostile and broken mail is stored, registered, quarantined with a
//! clear reason, and the rest of the batch goes on to its department.

use crate::common::{env, write_synthetic};
use podawcza::model::State;
use podawcza::storage::queries;

/// A message nested `levels` deep in multiparts.
fn deeply_nested(levels: usize) -> Vec<u8> {
    let mut m = String::from("From: a@example.pl\r\nTo: um@um.gliwice.pl\r\nSubject: deep\r\nMessage-ID: <deep@x>\r\nMIME-Version: 1.0\r\n");
    for i in 0..levels {
        m.push_str(&format!(
            "Content-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n--b{i}\r\n"
        ));
    }
    m.push_str("Content-Type: text/plain\r\n\r\nhello\r\n");
    for i in (0..levels).rev() {
        m.push_str(&format!("--b{i}--\r\n"));
    }
    m.into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bombs_deep_nesting_and_truncation_are_quarantined_and_the_rest_goes_on() {
    let t = env(&[]).await;
    let src = t.dir.path().join("in");
    write_synthetic(&src, 0, 10, 2020);
    let eml = crate::common::fixtures().join("eml");
    for case in [
        "zip-bomb",
        "truncated-multipart",
        "truncated-base64",
        "garbage",
    ] {
        std::fs::copy(
            eml.join(format!("{case}.eml")),
            src.join(format!("{case}.eml")),
        )
        .unwrap();
    }
    std::fs::write(src.join("nested-10000.eml"), deeply_nested(10_000)).unwrap();

    let files = podawcza::ingest::files::collect(&[src]).unwrap();
    let reg = podawcza::ingest::files::ingest_files(&t.app, &files, 8, podawcza::clock::now)
        .await
        .unwrap();
    assert_eq!(
        reg.registered, 15,
        "everything is registered, hostile or not"
    );
    let run = podawcza::pipeline::run_until_idle(&t.app, 2).await.unwrap();
    assert_eq!((run.dispatched, run.quarantined), (10, 5));

    let filter = queries::ListFilter {
        state: Some(State::Quarantined),
        ..Default::default()
    };
    let quarantined = queries::list(&t.app.db, &filter).await.unwrap();
    let reason_of = |subject: &str| {
        quarantined
            .iter()
            .find(|s| s.subject.as_deref().is_some_and(|x| x.contains(subject)))
            .and_then(|s| s.quarantine_reason.clone())
            .unwrap_or_else(|| panic!("no quarantined submission with subject {subject:?}"))
    };
    assert!(
        reason_of("deep").contains("nested too deep"),
        "{}",
        reason_of("deep")
    );
    let all: Vec<String> = quarantined
        .iter()
        .filter_map(|s| s.quarantine_reason.clone())
        .collect();
    assert!(
        all.iter().any(|r| r.contains("expands more than")),
        "zip bomb reason in {all:?}"
    );
    assert_eq!(
        all.iter()
            .filter(|r| r.starts_with("truncated message"))
            .count(),
        2,
        "{all:?}"
    );
    assert!(
        all.iter().any(|r| r.starts_with("unparseable message")),
        "{all:?}"
    );
    // The originals of quarantined mail are kept byte-exact.
    for s in &quarantined {
        assert_eq!(
            t.app.blobs.get_verified(&s.raw_sha256).unwrap().len() as i64,
            s.raw_size
        );
    }
}
