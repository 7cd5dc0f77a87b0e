//! The inbox in a real browser: headless Chromium driven through chromedriver (WebDriver) with
//! fantoccini. chromedriver is started by the test on a free port and stopped by its pid; the
//! browser gets a fresh profile and the flags of TEST-SERVERS.md. Screenshots are kept under
//! `target/test-artifacts/browser/`.

use crate::inbox::{report, seed, server, Seed, PASSWORD};
use fantoccini::{Client, ClientBuilder, Locator};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// chromedriver, stopped (by its pid) when dropped.
pub(crate) struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

pub(crate) async fn start_driver() -> Driver {
    let port = free_port();
    let child = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver (Debian chromium-driver; scripts/test.sh installs it)");
    let driver = Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ready = http.get(format!("{}/status", driver.url)).send().await;
        if ready.is_ok_and(|r| r.status().is_success()) {
            return driver;
        }
        assert!(Instant::now() < deadline, "chromedriver did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub(crate) async fn browser(driver: &Driver, profile: &Path, downloads: &Path) -> Client {
    let caps = serde_json::json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--window-size=1400,1000",
                format!("--user-data-dir={}", profile.display()),
            ],
            "prefs": {
                "download.default_directory": downloads.display().to_string(),
                "download.prompt_for_download": false,
            }
        }
    });
    let caps = caps.as_object().unwrap().clone();
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a Chromium session")
}

pub(crate) fn artifacts() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/test-artifacts/browser");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub(crate) async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.unwrap();
    std::fs::write(artifacts().join(format!("{name}.png")), png).unwrap();
}

async fn login(c: &Client, base: &str, user: &str) {
    c.goto(&format!("{base}/login")).await.unwrap();
    c.find(Locator::Id("login"))
        .await
        .unwrap()
        .send_keys(user)
        .await
        .unwrap();
    let pw = c.find(Locator::Id("password")).await.unwrap();
    pw.send_keys(PASSWORD).await.unwrap();
    c.find(Locator::Id("login-submit"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Id("inbox"))
        .await
        .expect("the inbox after login");
}

/// Waits until a complete file (not a `.crdownload`) appears in `dir`, and returns it.
/// Waits for Chromium to finish writing `name` into `dir`: it may first create an empty
/// placeholder under the final name, and writes the bytes to temporary files beside it, so done
/// means the file has the expected length.
pub(crate) async fn downloaded(dir: &Path, name: &str, len: usize) -> PathBuf {
    let deadline = Instant::now() + Duration::from_secs(30);
    let path = dir.join(name);
    loop {
        if std::fs::metadata(&path).is_ok_and(|m| m.len() == len as u64) {
            return path;
        }
        assert!(
            Instant::now() < deadline,
            "no complete download of {name} in {}: {:?}",
            dir.display(),
            std::fs::read_dir(dir).map(|d| d
                .filter_map(Result::ok)
                .map(|e| e.file_name())
                .collect::<Vec<_>>())
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_clerk_finds_a_failed_signature_downloads_it_and_reassigns_it_to_another_department() {
    let s = server(&[]).await;
    let original: &[u8] = b"<?xml version=\"1.0\"?><wniosek>rejestracja</wniosek>\n";
    let failed = Seed {
        department: "KM",
        subject: "Wniosek o rejestrację z nieważnym podpisem",
        documents: vec![(
            "wniosek-rejestracja.xml",
            original,
            Some(report("w", "TOTAL_FAILED", Some("HASH_FAILURE"), "qes")),
        )],
        received_at: "2020-04-20T08:00:00.000000Z",
    };
    let valid = Seed {
        department: "KM",
        subject: "Wniosek z ważnym podpisem zaufanym",
        documents: vec![(
            "wniosek-pz.xml",
            b"<ok/>",
            Some(report("p", "TOTAL_PASSED", None, "trusted_profile")),
        )],
        received_at: "2020-04-21T08:00:00.000000Z",
    };
    let (id, _) = seed(&s.env, 1, failed).await;
    seed(&s.env, 2, valid).await;

    let driver = start_driver().await;
    let profile = tempfile::tempdir().unwrap();
    let downloads = tempfile::tempdir().unwrap();
    let c = browser(&driver, profile.path(), downloads.path()).await;

    login(&c, &s.base, "km1").await;
    shot(&c, "01-km-inbox").await;
    let page = c.source().await.unwrap();
    assert!(page.contains("PODPIS NIEWAŻNY") && page.contains("ważnym podpisem zaufanym"));

    // Filter to failed signatures.
    c.find(Locator::Id("f-waznosc"))
        .await
        .unwrap()
        .select_by_value("failed")
        .await
        .unwrap();
    c.find(Locator::Id("f-submit"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(
            "select#f-waznosc option[value=failed][selected]",
        ))
        .await
        .unwrap();
    let rows = c
        .find_all(Locator::Css("#inbox tbody tr[data-id]"))
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        rows[0].attr("data-id").await.unwrap().as_deref(),
        Some(id.as_str())
    );
    shot(&c, "02-km-failed-filter").await;

    // Open it: the badge and the reason in Polish.
    c.find(Locator::Css("a.subject"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let subject = c.wait().for_element(Locator::Id("subject")).await.unwrap();
    assert!(subject.text().await.unwrap().contains("nieważnym podpisem"));
    let page = c.source().await.unwrap();
    assert!(
        page.contains("zmieniony po złożeniu podpisu"),
        "the reason in Polish"
    );
    shot(&c, "03-km-detail").await;

    // Download the exact original document.
    c.find(Locator::Css("a.download"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let file = downloaded(downloads.path(), "wniosek-rejestracja.xml", original.len()).await;
    assert_eq!(std::fs::read(&file).unwrap(), original);
    assert_eq!(file.file_name().unwrap(), "wniosek-rejestracja.xml");

    // Re-assign it to SO with a note.
    let dept = c.find(Locator::Id("assign-department")).await.unwrap();
    dept.select_by_value("SO").await.unwrap();
    let note = c.find(Locator::Id("assign-note")).await.unwrap();
    note.send_keys("Dotyczy meldunku, nie pojazdu")
        .await
        .unwrap();
    c.find(Locator::Id("assign"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait().for_element(Locator::Id("inbox")).await.unwrap();
    let page = c.source().await.unwrap();
    assert!(!page.contains("nieważnym podpisem"), "gone from KM");
    shot(&c, "04-km-after-reassign").await;
    c.find(Locator::Id("logout"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait().for_element(Locator::Id("login")).await.unwrap();

    // The other department's clerk now sees it, with the note in the timeline.
    login(&c, &s.base, "so1").await;
    let page = c.source().await.unwrap();
    assert!(page.contains("nieważnym podpisem"));
    shot(&c, "05-so-inbox").await;
    c.find(Locator::Css("a.subject"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let timeline = c.wait().for_element(Locator::Id("timeline")).await.unwrap();
    let text = timeline.text().await.unwrap();
    assert!(text.contains("km1") && text.contains("Dotyczy meldunku, nie pojazdu"));
    shot(&c, "06-so-detail").await;
    c.close().await.unwrap();
}

#[tokio::test]
async fn a_pdf_is_previewed_in_the_detail_page_and_not_downloaded() {
    let s = server(&[]).await;
    // A real one-page PDF, read in place from the shared corpus.
    let corpus = std::env::var("PODAWCZA_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    let pdf = std::fs::read(corpus.join("dss/pades/DSS-2155.pdf")).unwrap();
    let (id, _) = seed(
        &s.env,
        1,
        Seed {
            department: "KM",
            subject: "Wniosek w PDF",
            documents: vec![("wniosek.pdf", pdf.as_slice(), None)],
            received_at: "2020-04-21T08:00:00.000000Z",
        },
    )
    .await;
    let driver = start_driver().await;
    let profile = tempfile::tempdir().unwrap();
    let downloads = tempfile::tempdir().unwrap();
    let c = browser(&driver, profile.path(), downloads.path()).await;
    login(&c, &s.base, "km1").await;
    c.goto(&format!("{}/inbox/{id}", s.base)).await.unwrap();
    let frame = c
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Id("preview-1"))
        .await
        .unwrap();
    assert!(frame
        .attr("src")
        .await
        .unwrap()
        .unwrap()
        .ends_with("?preview=1"));
    // Shown by the browser's PDF viewer (not sniffed into anything else, not downloaded).
    let kind = c
        .execute(
            "const f = document.getElementById('preview-1'); f.scrollIntoView(); \
             return f.contentDocument && f.contentDocument.contentType;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(kind, serde_json::json!("application/pdf"));
    tokio::time::sleep(Duration::from_secs(2)).await;
    shot(&c, "07-km-pdf-preview").await;
    // Previewing downloads nothing.
    assert_eq!(std::fs::read_dir(downloads.path()).unwrap().count(), 0);
    c.close().await.unwrap();
}
