//! The register: numbering, duplicates, concurrency, immutability, the pipeline end to end.

use crate::common::{env, write_synthetic};
use podawcza::ingest::email::{register_mails, RawMail};
use podawcza::model::ArrivalSource;
use podawcza::storage::register::Registered;
use podawcza::storage::{audit, queries};
use std::collections::HashSet;

fn mail(subject: &str, received: &str, message_id: &str) -> RawMail {
    let bytes = format!(
        "Received: from x by mail.um.gliwice.pl; {received}\r\nFrom: Jan <jan@example.pl>\r\n\
         To: boi@um.gliwice.pl\r\nSubject: {subject}\r\nMessage-ID: <{message_id}>\r\n\r\nTreść.\r\n"
    );
    RawMail {
        bytes: bytes.into_bytes(),
        channel_time: None,
        source: None,
    }
}

#[tokio::test]
async fn registers_a_message_once_and_recognises_its_duplicate() {
    let t = env(&[]).await;
    let now = podawcza::clock::now();
    let m = mail("Wniosek", "Mon, 20 Apr 2020 10:11:12 +0200", "dup@x");
    let first = register_mails(&t.app, vec![m.clone()], "test", now)
        .await
        .unwrap();
    let again = register_mails(&t.app, vec![m.clone(), m], "test", now)
        .await
        .unwrap();
    let Registered::New { id, number } = &first[0] else {
        panic!("first copy must register: {first:?}")
    };
    assert_eq!(number, "RPW/1/2020");
    assert_eq!(
        again,
        vec![
            Registered::Duplicate { id: id.clone() },
            Registered::Duplicate { id: id.clone() }
        ]
    );
    assert_eq!(t.count("SELECT COUNT(*) FROM submissions").await, 1);
    let events = audit::events(&t.app.db, id).await.unwrap();
    assert_eq!(
        events
            .iter()
            .filter(|e| e.action == "duplicate_ignored")
            .count(),
        2
    );
}

#[tokio::test]
async fn the_same_bytes_with_another_message_id_are_another_letter() {
    let t = env(&[]).await;
    let now = podawcza::clock::now();
    let a = mail("Wniosek", "Mon, 20 Apr 2020 10:11:12 +0200", "a@x");
    let b = mail("Wniosek", "Mon, 20 Apr 2020 10:11:12 +0200", "b@x");
    let r = register_mails(&t.app, vec![a, b], "test", now)
        .await
        .unwrap();
    assert!(r.iter().all(|r| matches!(r, Registered::New { .. })));
}

#[tokio::test]
async fn numbers_follow_the_year_of_arrival_in_the_offices_time_zone() {
    let t = env(&[]).await;
    let now = podawcza::clock::now();
    // 23:30 UTC on 31 December is already New Year in Warsaw.
    let late = mail("a", "Thu, 31 Dec 2020 23:30:00 +0000", "1@x");
    let early = mail("b", "Thu, 31 Dec 2020 12:00:00 +0000", "2@x");
    let r = register_mails(&t.app, vec![early, late], "test", now)
        .await
        .unwrap();
    let numbers: Vec<String> = r
        .into_iter()
        .map(|r| match r {
            Registered::New { number, .. } => number,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(numbers, ["RPW/1/2020", "RPW/1/2021"]);
}

#[tokio::test]
async fn arrival_time_from_the_channel_is_kept_and_cannot_be_changed() {
    let t = env(&[]).await;
    let now = podawcza::clock::now();
    let internal = podawcza::model::parse_time("2020-04-20T08:00:00Z").unwrap();
    let mut m = mail("x", "Mon, 20 Apr 2020 10:11:12 +0200", "t@x");
    m.channel_time = Some((internal, ArrivalSource::ImapInternaldate));
    let r = register_mails(&t.app, vec![m], "test", now).await.unwrap();
    let Registered::New { id, .. } = &r[0] else {
        panic!()
    };
    let s = queries::find(&t.app.db, &id.0).await.unwrap().unwrap();
    assert_eq!(s.received_at, internal);
    assert_eq!(s.arrival_source, "imap_internaldate");
    let changed = sqlx::query(
        "UPDATE submissions SET received_at = '2021-01-01T00:00:00.000000Z' WHERE id = $1",
    )
    .bind(&id.0)
    .execute(t.app.db.pool())
    .await;
    assert!(
        changed.is_err(),
        "the database must refuse to change an arrival time"
    );
    let renumbered =
        sqlx::query("UPDATE submissions SET registration_number = 'RPW/9/2020' WHERE id = $1")
            .bind(&id.0)
            .execute(t.app.db.pool())
            .await;
    assert!(
        renumbered.is_err(),
        "the database must refuse to change a registration number"
    );
}

#[tokio::test]
async fn audit_events_are_append_only() {
    let t = env(&[]).await;
    let r = register_mails(
        &t.app,
        vec![mail("x", "Mon, 20 Apr 2020 10:11:12 +0200", "au@x")],
        "test",
        podawcza::clock::now(),
    )
    .await
    .unwrap();
    assert!(matches!(r[0], Registered::New { .. }));
    let upd = sqlx::query("UPDATE audit_events SET actor = 'mallory'")
        .execute(t.app.db.pool())
        .await;
    let del = sqlx::query("DELETE FROM audit_events")
        .execute(t.app.db.pool())
        .await;
    assert!(upd.is_err() && del.is_err());
    assert_eq!(t.count("SELECT COUNT(*) FROM audit_events").await, 1);
}

/// Acceptance 4: four registering workers and four pipeline workers, each with its own pool
/// (as separate processes would be), over 2,000 submissions: numbers unique and gap-free, every
/// submission dispatched exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn four_concurrent_workers_give_unique_gap_free_numbers() {
    let t = env(&[]).await;
    let src = t.dir.path().join("mail");
    write_synthetic(&src, 0, 2000, 2020);
    let files = podawcza::ingest::files::collect(&[src]).unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for w in 0..4 {
        let app = t.second_app(&[]).await;
        let mine: Vec<_> = files.iter().skip(w).step_by(4).cloned().collect();
        tasks.spawn(async move {
            let reg = podawcza::ingest::files::ingest_files(&app, &mine, 25, podawcza::clock::now)
                .await
                .unwrap();
            let run = podawcza::pipeline::run_until_idle(&app, 1).await.unwrap();
            (reg, run)
        });
    }
    let mut registered = 0;
    let mut dispatched = 0;
    while let Some(r) = tasks.join_next().await {
        let (reg, run) = r.unwrap();
        registered += reg.registered;
        dispatched += run.dispatched + run.quarantined;
    }
    assert_eq!(registered, 2000);
    assert_eq!(
        dispatched, 2000,
        "every submission is finished by exactly one worker"
    );
    let seqs: Vec<i64> = sqlx::query_scalar("SELECT reg_seq FROM submissions ORDER BY reg_seq")
        .fetch_all(t.app.db.pool())
        .await
        .unwrap();
    assert_eq!(
        seqs,
        (1..=2000).collect::<Vec<i64>>(),
        "numbers must be 1..=2000 without gaps"
    );
    let numbers: HashSet<String> =
        sqlx::query_scalar("SELECT registration_number FROM submissions")
            .fetch_all(t.app.db.pool())
            .await
            .unwrap()
            .into_iter()
            .collect();
    assert_eq!(numbers.len(), 2000);
    let finished_twice = t
        .count(
            "SELECT COUNT(*) FROM (SELECT submission_id FROM audit_events
             WHERE action IN ('quarantined', 'state_changed') AND detail LIKE '%\"to\":\"dispatched\"%'
                OR action = 'quarantined'
             GROUP BY submission_id HAVING COUNT(*) > 1) x",
        )
        .await;
    assert_eq!(finished_twice, 0);
    assert_eq!(
        t.count("SELECT COUNT(*) FROM assignments").await,
        t.count("SELECT COUNT(*) FROM submissions WHERE state = 'dispatched'")
            .await
    );
}

/// The fixture pair shares a Message-ID but not its bytes: two letters (a mailer that reuses
/// Message-IDs must not make the office lose one). A byte-identical copy under another file name
/// is the same letter.
#[tokio::test]
async fn a_reused_message_id_with_other_bytes_is_a_second_letter_but_a_copy_is_not() {
    let t = env(&[]).await;
    let eml = crate::common::fixtures().join("eml");
    let copy = t.dir.path().join("kopia.eml");
    std::fs::copy(eml.join("duplicate-a.eml"), &copy).unwrap();
    let files = vec![
        eml.join("duplicate-a.eml"),
        eml.join("duplicate-b.eml"),
        copy,
    ];
    let s = podawcza::ingest::files::ingest_files(&t.app, &files, 2, podawcza::clock::now)
        .await
        .unwrap();
    assert_eq!((s.registered, s.duplicates), (2, 1));
}

#[tokio::test]
async fn two_copies_in_one_batch_register_once() {
    let t = env(&[]).await;
    let m = mail("x", "Mon, 20 Apr 2020 10:11:12 +0200", "twice@x");
    let other = mail("y", "Mon, 20 Apr 2020 10:12:12 +0200", "other@x");
    let r = register_mails(
        &t.app,
        vec![m.clone(), other, m],
        "test",
        podawcza::clock::now(),
    )
    .await
    .unwrap();
    let Registered::New { id, number } = &r[0] else {
        panic!("{r:?}")
    };
    assert_eq!(number, "RPW/1/2020");
    assert!(
        matches!(&r[1], Registered::New { number, .. } if number == "RPW/2/2020"),
        "{r:?}"
    );
    assert_eq!(r[2], Registered::Duplicate { id: id.clone() });
}
