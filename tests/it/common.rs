//! Test environments: a fresh database and data folder per test, on the backend chosen by
//! `PODAWCZA_TEST_DB` (`sqlite`, the default, or `postgres` with `PODAWCZA_TEST_PG_URL`).

use podawcza::app::App;
use podawcza::config::{Config, REFERENCE_CONFIG};
use std::sync::Arc;

/// One test's world.
pub struct TestEnv {
    /// Data folder (removed at drop).
    pub dir: tempfile::TempDir,
    /// Database URL of this test.
    pub db_url: String,
    /// Opened gateway.
    pub app: Arc<App>,
}

/// Whether the tests run on PostgreSQL.
pub fn on_postgres() -> bool {
    std::env::var("PODAWCZA_TEST_DB").is_ok_and(|v| v == "postgres")
}

/// The project's own fixtures folder.
pub fn fixtures() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// A fresh database URL: a new SQLite file in `dir`, or a new PostgreSQL database.
pub async fn fresh_db_url(dir: &std::path::Path) -> String {
    if !on_postgres() {
        return format!("sqlite://{}?mode=rwc", dir.join("podawcza.db").display());
    }
    let admin = std::env::var("PODAWCZA_TEST_PG_URL").expect(
        "PODAWCZA_TEST_DB=postgres needs PODAWCZA_TEST_PG_URL (scripts/test.sh starts a server)",
    );
    let name = format!("t_{}", uuid::Uuid::now_v7().simple());
    sqlx::any::install_default_drivers();
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin)
        .await
        .expect("connect admin");
    sqlx::Executor::execute(&mut conn, format!("CREATE DATABASE {name}").as_str())
        .await
        .expect("create test database");
    let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
    format!("{base}/{name}")
}

/// The configuration of a test: the reference config with the data folder and database replaced
/// and `extra` overrides applied.
pub fn config(dir: &std::path::Path, db_url: &str, extra: &[(&str, &str)]) -> Config {
    let mut vars = vec![
        (
            "PODAWCZA_STORAGE__DIR".to_string(),
            dir.display().to_string(),
        ),
        ("PODAWCZA_DATABASE__URL".to_string(), db_url.to_string()),
        (
            "PODAWCZA_PIPELINE__IDLE_POLL_MS".to_string(),
            "50".to_string(),
        ),
    ];
    vars.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Config::from_toml("test", REFERENCE_CONFIG, vars).expect("test config")
}

/// A fresh environment.
pub async fn env(extra: &[(&str, &str)]) -> TestEnv {
    let dir = tempfile::tempdir().expect("tempdir");
    let db_url = fresh_db_url(dir.path()).await;
    let app = App::open(config(dir.path(), &db_url, extra))
        .await
        .expect("open app");
    TestEnv { dir, db_url, app }
}

impl TestEnv {
    /// Another process-like handle on the same database and data folder (its own pool).
    pub async fn second_app(&self, extra: &[(&str, &str)]) -> Arc<App> {
        App::open(config(self.dir.path(), &self.db_url, extra))
            .await
            .expect("open second app")
    }

    /// The environment variables that point the `podawcza` binary at this test's world.
    pub fn cli_env(&self) -> Vec<(String, String)> {
        vec![
            (
                "PODAWCZA_STORAGE__DIR".into(),
                self.dir.path().display().to_string(),
            ),
            ("PODAWCZA_DATABASE__URL".into(), self.db_url.clone()),
            ("PODAWCZA_PIPELINE__IDLE_POLL_MS".into(), "50".into()),
            (
                "PODAWCZA_CONFIG".into(),
                format!("{}/config.toml", env!("CARGO_MANIFEST_DIR")),
            ),
        ]
    }

    /// One scalar query.
    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar::<_, i64>(sql)
            .fetch_one(self.app.db.pool())
            .await
            .expect(sql)
    }
}

/// Writes synthetic messages `from..to` as `.eml` files into `dir`.
pub fn write_synthetic(dir: &std::path::Path, from: u64, to: u64, year: i32) {
    std::fs::create_dir_all(dir).unwrap();
    for i in from..to {
        let m = podawcza::fixtures::synthetic::message(i, year);
        std::fs::write(dir.join(format!("{i:06}.eml")), &m.bytes).unwrap();
    }
}
