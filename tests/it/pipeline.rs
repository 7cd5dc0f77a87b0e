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

/// With the test PKI as trust material, the pipeline validates every signature at the arrival
/// time: a qualified XAdES attachment comes out TOTAL_PASSED / qes, a podpis zaufany as
/// trusted_profile, and an altered copy never passes.
#[tokio::test]
async fn signatures_are_validated_against_the_configured_trust_at_arrival() {
    let pki = crate::common::fixtures().join("pki");
    let plid =
        openssl::x509::X509::from_pem(&std::fs::read(pki.join("plid-root.crt.pem")).unwrap())
            .unwrap();
    let plid_sha = podawcza::storage::blobs::sha256_hex(&plid.to_der().unwrap());
    let anchors = pki.join("anchors").display().to_string();
    let lists = format!("[\"{}\"]", pki.join("trusted-list.xml").display());
    let signers = format!("[\"{}\"]", pki.join("tl-signer.crt.pem").display());
    let personal = format!("[\"{plid_sha}\"]");
    let t = env(&[
        ("PODAWCZA_TRUST__ANCHORS_DIR", anchors.as_str()),
        ("PODAWCZA_TRUST__TRUSTED_LISTS", lists.as_str()),
        ("PODAWCZA_TRUST__LIST_SIGNERS", signers.as_str()),
        ("PODAWCZA_TRUST__PERSONAL_ROOT_SHA256", personal.as_str()),
    ])
    .await;
    let samples = pki.join("samples");
    let b64 = |p: &str| {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(std::fs::read(samples.join(p)).unwrap())
    };
    let altered = String::from_utf8(std::fs::read(samples.join("qes.xml")).unwrap())
        .unwrap()
        .replacen("</", " zmiana</", 1);
    let body = format!(
        "Received: from x by mail.um.gliwice.pl; Thu, 1 Jan 2026 10:00:00 +0000\r\nFrom: a@example.pl\r\n\
         To: um@um.gliwice.pl\r\nSubject: Wnioski\r\nMessage-ID: <trust@x>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"B\"\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nW za\u{142}\u{105}czeniu.\r\n\
         --B\r\nContent-Type: application/xml; name=\"qes.xml\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n\
         --B\r\nContent-Type: application/xml; name=\"pz.xml\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n\
         --B\r\nContent-Type: application/xml; name=\"zmieniony.xml\"\r\n\r\n{altered}\r\n--B--\r\n",
        b64("qes.xml"),
        b64("podpis-zaufany.xml"),
    );
    let m = RawMail {
        bytes: body.into_bytes(),
        channel_time: None,
        source: None,
    };
    register_mails(&t.app, vec![m], "test", podawcza::clock::now())
        .await
        .unwrap();
    podawcza::pipeline::run_until_idle(&t.app, 1).await.unwrap();
    let subs = podawcza::storage::queries::list(&t.app.db, &Default::default())
        .await
        .unwrap();
    let docs = podawcza::storage::queries::documents(&t.app.db, &subs[0].id)
        .await
        .unwrap();
    let verdict = |name: &str| {
        let d = docs
            .iter()
            .find(|d| d.name == name)
            .unwrap_or_else(|| panic!("{name}: {docs:?}"));
        let s = &d.report.as_ref().unwrap()["signatures"][0];
        (
            s["indication"].as_str().unwrap_or("").to_string(),
            s["kind"].as_str().unwrap_or("").to_string(),
        )
    };
    assert_eq!(
        verdict("qes.xml"),
        ("TOTAL_PASSED".to_string(), "qes".to_string())
    );
    assert_eq!(
        verdict("pz.xml"),
        ("TOTAL_PASSED".to_string(), "trusted_profile".to_string())
    );
    assert_ne!(verdict("zmieniony.xml").0, "TOTAL_PASSED");
}
