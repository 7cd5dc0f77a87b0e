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

/// Four registering processes (each its own pool) send overlapping batches at the same time: the
/// same letters in several processes' batches, copies inside a batch, and "twins" (the same bytes
/// and Message-ID arriving under two different years, which the year's counter lock does not keep
/// apart: when they overlap, the later insert fails and its batch is run again; the next test
/// makes that certain). Every letter is registered once, every copy points at it, and each year's
/// numbers are 1..=n without gaps or repeats, with the counter at n.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_batches_with_copies_keep_numbers_unique_and_gap_free() {
    use chrono::TimeZone;
    let t = env(&[]).await;
    // 120 letters of 2020, 120 of 2021, and 24 twins with an IMAP arrival time in 2020 in one
    // copy and in 2021 in the other.
    let mut letters: Vec<RawMail> = Vec::new();
    for i in 0..120 {
        letters.push(mail(
            &format!("a{i}"),
            "Mon, 20 Apr 2020 10:11:12 +0200",
            &format!("a{i}@x"),
        ));
        letters.push(mail(
            &format!("b{i}"),
            "Tue, 20 Apr 2021 10:11:12 +0200",
            &format!("b{i}@x"),
        ));
    }
    let twins = |year| -> Vec<RawMail> {
        (0..24)
            .map(|i| RawMail {
                channel_time: Some((
                    chrono::Utc.with_ymd_and_hms(year, 6, 1, 8, 0, 0).unwrap(),
                    ArrivalSource::ImapInternaldate,
                )),
                ..mail(
                    &format!("t{i}"),
                    "Mon, 20 Apr 2020 10:11:12 +0200",
                    &format!("t{i}@x"),
                )
            })
            .collect()
    };
    let distinct = 120 * 2 + 24;
    // The blobs are stored before the race (the workers find them and skip writing): the apps
    // share this process, and two blob stores in one process name their temporary files alike.
    let all: Vec<RawMail> = letters.iter().cloned().chain(twins(2020)).collect();
    let items: Vec<(String, &[u8])> = all
        .iter()
        .map(|m| {
            (
                podawcza::storage::blobs::sha256_hex(&m.bytes),
                m.bytes.as_slice(),
            )
        })
        .collect();
    let items: Vec<(&str, &[u8])> = items.iter().map(|(k, b)| (k.as_str(), *b)).collect();
    t.app.blobs.put_many(&items).unwrap();
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(4));
    let mut tasks = tokio::task::JoinSet::new();
    for w in 0..4usize {
        let app = t.second_app(&[]).await;
        // Each process starts with the twins of one year (even: 2020, odd: 2021), all at once,
        // then walks every letter from its own starting point, in batches of 37 with the
        // batch's first letter repeated at its end.
        let mut walk: Vec<RawMail> = letters
            .iter()
            .cycle()
            .skip(w * 71)
            .take(letters.len())
            .cloned()
            .collect();
        if w % 2 == 1 {
            walk.reverse();
        }
        let mine: Vec<RawMail> = twins(2020 + (w % 2) as i32)
            .into_iter()
            .chain(walk)
            .collect();
        let start = start.clone();
        tasks.spawn(async move {
            start.wait().await;
            let mut outcomes = Vec::new();
            for chunk in mine.chunks(37) {
                let mut batch = chunk.to_vec();
                batch.push(chunk[0].clone());
                let r = register_mails(&app, batch.clone(), "test", podawcza::clock::now())
                    .await
                    .unwrap();
                outcomes.extend(batch.into_iter().zip(r));
            }
            outcomes
        });
    }
    let mut new_ids = HashSet::new();
    let mut dup_ids = Vec::new();
    while let Some(r) = tasks.join_next().await {
        for (_, outcome) in r.unwrap() {
            match outcome {
                Registered::New { id, .. } => assert!(new_ids.insert(id.0), "one id given twice"),
                Registered::Duplicate { id } => dup_ids.push(id.0),
            }
        }
    }
    assert_eq!(
        new_ids.len(),
        distinct,
        "every letter registered exactly once"
    );
    assert!(dup_ids.iter().all(|id| new_ids.contains(id)));
    assert_eq!(
        t.count("SELECT COUNT(*) FROM submissions").await,
        distinct as i64
    );
    for year in [2020i64, 2021] {
        let seqs: Vec<i64> = sqlx::query_scalar(
            "SELECT reg_seq FROM submissions WHERE reg_year = $1 ORDER BY reg_seq",
        )
        .bind(year)
        .fetch_all(t.app.db.pool())
        .await
        .unwrap();
        assert_eq!(
            seqs,
            (1..=seqs.len() as i64).collect::<Vec<i64>>(),
            "{year}"
        );
        let last: i64 = sqlx::query_scalar("SELECT last FROM reg_counters WHERE year = $1")
            .bind(year)
            .fetch_one(t.app.db.pool())
            .await
            .unwrap();
        assert_eq!(
            last,
            seqs.len() as i64,
            "the counter of {year} matches its rows"
        );
    }
    let numbers: HashSet<String> =
        sqlx::query_scalar("SELECT registration_number FROM submissions")
            .fetch_all(t.app.db.pool())
            .await
            .unwrap()
            .into_iter()
            .collect();
    assert_eq!(numbers.len(), distinct);
    // Every copy left an audit event on the registered letter.
    assert_eq!(
        t.count("SELECT COUNT(*) FROM audit_events WHERE action = 'duplicate_ignored'")
            .await,
        dup_ids.len() as i64
    );
}

/// The one collision the year's counter lock cannot prevent, made certain: a copy of a letter (same
/// bytes and Message-ID) is being registered under 2021 while another process holds the original
/// under 2020, uncommitted. When the first commits, the second one's insert fails, its
/// transaction (with the numbers it had taken) is rolled back and run again, and it records a
/// duplicate. No number of 2021 is lost: the next letter of 2021 is still number 1.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_registered_meanwhile_under_another_year_is_redone_as_a_duplicate() {
    use chrono::TimeZone;
    let t = env(&[]).await;
    let at = |year| {
        Some((
            chrono::Utc.with_ymd_and_hms(year, 6, 1, 8, 0, 0).unwrap(),
            ArrivalSource::ImapInternaldate,
        ))
    };
    let letter = mail("x", "Mon, 20 Apr 2020 10:11:12 +0200", "copy@x");
    let first = RawMail {
        channel_time: at(2020),
        ..letter.clone()
    };
    let second = RawMail {
        channel_time: at(2021),
        ..letter
    };
    let other = RawMail {
        channel_time: at(2021),
        ..mail("y", "Mon, 20 Apr 2020 10:11:12 +0200", "other@x")
    };
    let now = podawcza::clock::now();
    let news = podawcza::ingest::email::store_mails(&t.app, vec![first], "test", now)
        .await
        .unwrap();
    let cfg = &t.app.config;
    let app2 = t.second_app(&[]).await;
    let mut tx = t.app.db.begin_write().await.unwrap();
    let r = podawcza::storage::register::register_batch_in(
        &mut tx,
        &cfg.register.number_pattern,
        cfg.timezone(),
        now,
        &news,
    )
    .await
    .unwrap();
    let Registered::New { id, number } = &r[0] else {
        panic!("{r:?}")
    };
    assert_eq!(number, "RPW/1/2020");
    let racing = tokio::spawn(async move {
        register_mails(&app2, vec![second, other], "test", podawcza::clock::now()).await
    });
    // The second registration is waiting (PostgreSQL: on the copy's key; SQLite: for the writer).
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!racing.is_finished());
    tx.commit().await.unwrap();
    let r2 = racing.await.unwrap().unwrap();
    assert_eq!(r2[0], Registered::Duplicate { id: id.clone() });
    assert!(
        matches!(&r2[1], Registered::New { number, .. } if number == "RPW/1/2021"),
        "{r2:?}"
    );
    assert_eq!(
        t.count("SELECT last FROM reg_counters WHERE year = 2021")
            .await,
        1
    );
}

/// A script's values arrive as bound (PostgreSQL: written into one simple query as typed
/// literals; SQLite: bound): quotes, backslashes, `$n` look-alikes, Polish letters, NULLs,
/// negative numbers and bytes come back unchanged, and a failing statement leaves nothing.
#[tokio::test]
async fn script_values_arrive_exactly_as_given_on_either_database() {
    use podawcza::storage::db::{Arg, Backend, Script};
    let env = env(&[]).await;
    let db = &env.app.db;
    let blob = if db.backend() == Backend::Postgres {
        "BYTEA"
    } else {
        "BLOB"
    };
    sqlx::query(&format!(
        "CREATE TABLE probe (k TEXT PRIMARY KEY, t TEXT, n BIGINT, b {blob})"
    ))
    .execute(db.pool())
    .await
    .unwrap();
    let texts = [
        "O'Brien '' \\ \\x00 $1 $2 -- /* */ ; ROLLBACK;",
        "Zażółć gęślą jaźń — „cytat”",
        "",
    ];
    let bytes: Vec<u8> = (0..=255u8).collect();
    let mut script = Script::new();
    for (i, t) in texts.iter().enumerate() {
        script.push(
            "INSERT INTO probe (k, t, n, b) VALUES ($1, $2, $3, $4) RETURNING t, n, b",
            vec![
                format!("k{i}").into(),
                (*t).into(),
                (-(i as i64) * 1_000_000_000_000).into(),
                bytes.clone().into(),
            ],
        );
    }
    script.push(
        "INSERT INTO probe (k, t, n, b) VALUES ($1, $2, $3, $4) RETURNING t, n, b",
        vec![
            "null".into(),
            Arg::Text(None),
            Arg::Int(None),
            Arg::Bytes(None),
        ],
    );
    let rows = db.run(script).await.unwrap();
    assert_eq!(rows.len(), 4);
    for (row, t) in rows.iter().zip(texts) {
        use sqlx::Row;
        assert_eq!(row.get::<String, _>("t"), t);
        assert_eq!(row.get::<Vec<u8>, _>("b"), bytes);
    }
    use sqlx::Row;
    let first: i64 = rows[1].get("n");
    assert_eq!(first, -1_000_000_000_000);
    assert_eq!(rows[3].get::<Option<String>, _>("t"), None);
    assert_eq!(rows[3].get::<Option<i64>, _>("n"), None);
    // A script whose second statement fails leaves nothing of its first.
    let mut script = Script::new();
    script.push(
        "INSERT INTO probe (k, t) VALUES ($1, $2)",
        vec!["new".into(), "x".into()],
    );
    script.push(
        "INSERT INTO probe (k, t) VALUES ($1, $2)",
        vec!["k0".into(), "duplicate key".into()],
    );
    assert!(db.run(script).await.is_err());
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM probe")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(n, 4);
}
