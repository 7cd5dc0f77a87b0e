//! The pipeline's durability: steps are idempotent, leases are taken over, late commits refused.

use crate::common::env;
use podawcza::ingest::email::{register_mails, RawMail};
use podawcza::model::State;
use podawcza::storage::work::{self, StepResult};

fn raw(i: u32) -> RawMail {
    let m = podawcza::fixtures::synthetic::message(u64::from(i), 2020);
    RawMail {
        bytes: m.bytes,
        channel_time: None,
        source: None,
    }
}

#[tokio::test]
async fn a_step_committed_twice_changes_nothing_the_second_time() {
    let t = env(&[]).await;
    let now = podawcza::clock::now();
    register_mails(&t.app, vec![raw(1)], "test", now)
        .await
        .unwrap();
    let claimed = work::claim(&t.app.db, "w1", 10, chrono::Duration::seconds(60), now)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    let doc = work::NewDocument {
        name: "a.pdf".into(),
        media_type: "application/pdf".into(),
        declared_type: None,
        size: 1,
        sha256: t.app.blobs.put(b"x").unwrap(),
        container: String::new(),
        role: "attachment".into(),
    };
    let result = StepResult::Unpacked {
        text: Some("t".into()),
        documents: vec![doc],
        warnings: vec![],
    };
    let batch = vec![(claimed[0].id.clone(), State::Received, result)];
    assert_eq!(
        work::commit_step(&t.app.db, "w1", "test", now, &batch)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        work::commit_step(&t.app.db, "w1", "test", now, &batch)
            .await
            .unwrap(),
        0
    );
    assert_eq!(t.count("SELECT COUNT(*) FROM documents").await, 1);
    assert_eq!(
        t.count("SELECT COUNT(*) FROM audit_events WHERE action = 'state_changed'")
            .await,
        1
    );
}

#[tokio::test]
async fn a_lease_that_ran_out_is_taken_over_and_the_late_owner_is_refused() {
    let t = env(&[]).await;
    let now = podawcza::clock::now();
    register_mails(&t.app, vec![raw(2)], "test", now)
        .await
        .unwrap();
    let lease = chrono::Duration::seconds(30);
    let a = work::claim(&t.app.db, "A", 10, lease, now).await.unwrap();
    assert_eq!(a.len(), 1);
    assert!(
        work::claim(&t.app.db, "B", 10, lease, now)
            .await
            .unwrap()
            .is_empty(),
        "held by A"
    );
    let later = now + chrono::Duration::seconds(31);
    let b = work::claim(&t.app.db, "B", 10, lease, later).await.unwrap();
    assert_eq!(b.len(), 1, "A's lease ran out: B takes over");
    let q = |who: &str| {
        vec![(
            a[0].id.clone(),
            State::Received,
            StepResult::Quarantined {
                reason: format!("by {who}"),
            },
        )]
    };
    assert_eq!(
        work::commit_step(&t.app.db, "A", "test", later, &q("A"))
            .await
            .unwrap(),
        0,
        "A no longer owns it"
    );
    assert_eq!(
        work::commit_step(&t.app.db, "B", "test", later, &q("B"))
            .await
            .unwrap(),
        1
    );
    let s = podawcza::storage::queries::find(&t.app.db, &a[0].id.0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(s.quarantine_reason.as_deref(), Some("by B"));
}

#[tokio::test]
async fn the_pipeline_takes_every_message_to_dispatched_with_an_audit_trail() {
    let t = env(&[]).await;
    let now = podawcza::clock::now();
    register_mails(&t.app, (0..20).map(raw).collect(), "test", now)
        .await
        .unwrap();
    let stats = podawcza::pipeline::run_until_idle(&t.app, 2).await.unwrap();
    assert_eq!(stats.dispatched + stats.quarantined, 20);
    assert_eq!(stats.dispatched, 20, "synthetic mail is well formed");
    // registered + 4 transitions per submission.
    assert_eq!(t.count("SELECT COUNT(*) FROM audit_events").await, 20 * 5);
    assert_eq!(t.count("SELECT COUNT(*) FROM assignments").await, 20);
    assert_eq!(
        t.count("SELECT COUNT(*) FROM submissions WHERE department IS NULL")
            .await,
        0
    );
}

/// A `multipart/signed` mail: its `smime.p7s` is verified over the exact signed body part of the
/// raw message; the submission counts as signed.
#[tokio::test]
async fn an_smime_signed_mail_is_verified_over_its_exact_signed_part() {
    let t = env(&[]).await;
    let raw = std::fs::read(crate::common::fixtures().join("eml/smime-signed.eml")).unwrap();
    let m = RawMail {
        bytes: raw,
        channel_time: None,
        source: None,
    };
    let r = register_mails(&t.app, vec![m], "test", podawcza::clock::now())
        .await
        .unwrap();
    let podawcza::storage::register::Registered::New { id, .. } = &r[0] else {
        panic!("{r:?}")
    };
    podawcza::pipeline::run_until_idle(&t.app, 1).await.unwrap();
    let s = podawcza::storage::queries::find(&t.app.db, &id.0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(s.signed, Some(true));
    let docs = podawcza::storage::queries::documents(&t.app.db, id)
        .await
        .unwrap();
    let p7s = docs.iter().find(|d| d.name == "smime.p7s").unwrap();
    let sig = &p7s.report.as_ref().unwrap()["signatures"][0];
    assert_eq!(sig["format"], "S/MIME");
    assert_eq!(sig["checked"], true);
    assert_eq!(sig["intact"], true, "{sig}");
    assert_eq!(
        sig["indication"], "INDETERMINATE",
        "no trust anchors yet: never passed"
    );
}
