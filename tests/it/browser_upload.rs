//! The residents' upload page in a real browser (headless Chromium through chromedriver, as in
//! [`crate::browser`]): a resident picks a signed PDF, sends it, sees the verdict, downloads the
//! PDF receipt, and looks the submission up by its number and access code. Screenshots are kept
//! under `target/test-artifacts/browser/`.

use crate::browser::{browser, downloaded, shot, start_driver};
use fantoccini::Locator;
use std::time::Duration;

/// A one-page PDF signed (PAdES baseline B) by the test PKI's qualified signer.
fn signed_pdf() -> Vec<u8> {
    let pki = podawcza::fixtures::pki::committed().unwrap();
    podawcza::fixtures::pdf::large_signed(&pki, "qes-signer", 4_000).unwrap()
}

#[tokio::test]
async fn a_resident_uploads_a_signed_pdf_sees_the_verdict_and_downloads_the_receipt() {
    let site = crate::upload::site(&[]).await;
    let files = tempfile::tempdir().unwrap();
    let path = files.path().join("wniosek-o-dowod.pdf");
    std::fs::write(&path, signed_pdf()).unwrap();

    let driver = start_driver().await;
    let profile = tempfile::tempdir().unwrap();
    let downloads = tempfile::tempdir().unwrap();
    let c = browser(&driver, profile.path(), downloads.path()).await;

    c.goto(&format!("{}/", site.base)).await.unwrap();
    shot(&c, "upload-01-form").await;
    let page = c.source().await.unwrap();
    assert!(page.contains("Złóż pismo do urzędu"));
    assert!(page.contains("20 MB"), "limits stated on the page");
    // The script from this origin ran (drag and drop and the list of chosen files).
    c.find(Locator::Css("body.has-js"))
        .await
        .expect("upload.js ran");

    c.find(Locator::Id("file"))
        .await
        .unwrap()
        .send_keys(&path.display().to_string())
        .await
        .unwrap();
    let chosen = c
        .find(Locator::Id("chosen"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(chosen.contains("wniosek-o-dowod.pdf"), "{chosen}");
    c.find(Locator::Id("email"))
        .await
        .unwrap()
        .send_keys("mieszkaniec@example.pl")
        .await
        .unwrap();
    c.find(Locator::Id("subject"))
        .await
        .unwrap()
        .send_keys("Wniosek o wydanie dowodu osobistego")
        .await
        .unwrap();
    shot(&c, "upload-02-chosen").await;
    c.find(Locator::Id("send"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .at_most(Duration::from_secs(60))
        .for_element(Locator::Id("number"))
        .await
        .expect("the result page");
    shot(&c, "upload-03-result").await;
    let page = c.source().await.unwrap();
    assert!(
        page.contains("Podpis kwalifikowany — ważny. Podpisał:"),
        "the verdict: {page}"
    );
    let number = c
        .find(Locator::Id("number"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(number.starts_with("RPW/"), "{number}");
    let code = c
        .find(Locator::Id("code"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();

    // The PDF receipt downloads (a link with Content-Disposition: attachment).
    c.find(Locator::Id("receipt-pdf"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let name = format!("UPP-{}.pdf", number.replace('/', "-"));
    let id: String = sqlx::query_scalar("SELECT submission_id FROM receipts")
        .fetch_one(site.env.app.db.pool())
        .await
        .unwrap();
    let issued = podawcza::storage::public::receipt(&site.env.app.db, &id)
        .await
        .unwrap()
        .unwrap()
        .issued
        .unwrap();
    let expected = podawcza::storage::public::receipt_document(
        &site.env.app.db,
        &site.env.app.blobs,
        &id,
        &issued,
        true,
    )
    .await
    .unwrap();
    assert_eq!(
        podawcza::storage::blobs::sha256_hex(&expected),
        issued.pdf_sha256
    );
    let got = downloaded(downloads.path(), &name, expected.len()).await;
    assert_eq!(std::fs::read(&got).unwrap(), expected);
    std::fs::copy(&got, crate::browser::artifacts().join("upload-receipt.pdf")).unwrap();

    // The status lookup with the number and code from the page.
    c.goto(&format!("{}/status", site.base)).await.unwrap();
    c.find(Locator::Id("number"))
        .await
        .unwrap()
        .send_keys(&number)
        .await
        .unwrap();
    c.find(Locator::Id("code"))
        .await
        .unwrap()
        .send_keys(&code.to_lowercase())
        .await
        .unwrap();
    c.find(Locator::Css("form.status button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let state = c
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Id("status-state"))
        .await
        .expect("the status answer");
    assert_eq!(state.text().await.unwrap(), "Przekazane do wydziału");
    shot(&c, "upload-04-status").await;
    c.close().await.unwrap();
}
