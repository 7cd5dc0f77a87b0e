//! Configuration: [`Config`] mirrors `config.toml` key for key (unknown keys are an error), with
//! `PODAWCZA_<SECTION>__<KEY>` environment overrides and secrets readable from files.
//!
//! Lookup order for the file: `--config FILE`, else `$PODAWCZA_CONFIG`, else `./config.toml`, else
//! the embedded defaults (which are the reference `config.toml` itself, so the two cannot drift).

use serde::Deserialize;
use std::fmt;
use std::path::{Path, PathBuf};

/// The reference configuration, compiled in: the defaults when no file is found.
pub const REFERENCE_CONFIG: &str = include_str!("../config.toml");

/// Errors while reading the configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The TOML is malformed or a key is unknown or mistyped.
    #[error("invalid config {origin}: {source}")]
    Invalid {
        /// Which file (or "defaults").
        origin: String,
        /// The parser's message.
        source: toml::de::Error,
    },
    /// An environment override names something that is not a section.
    #[error("environment override {var} does not name a config key (expected PODAWCZA_<SECTION>__<KEY>)")]
    BadOverride {
        /// The variable.
        var: String,
    },
    /// A secret file could not be read.
    #[error("cannot read secret file {path} for {key}: {source}")]
    Secret {
        /// The config key.
        key: &'static str,
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A value is out of range or inconsistent.
    #[error("config {key}: {message}")]
    Value {
        /// The config key.
        key: &'static str,
        /// What is wrong.
        message: String,
    },
}

/// The whole configuration.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The office itself.
    pub office: OfficeConfig,
    /// Database.
    pub database: DatabaseConfig,
    /// Blob store.
    pub storage: StorageConfig,
    /// Web server.
    pub web: WebConfig,
    /// The register (numbering).
    pub register: RegisterConfig,
    /// Pipeline workers.
    pub pipeline: PipelineConfig,
    /// Parser limits for untrusted input.
    pub limits: LimitsConfig,
    /// Departments and routing rules (dekretacja).
    pub routing: RoutingConfig,
    /// The IMAP mailbox poller.
    pub mailbox: MailboxConfig,
    /// The SMTP server for outgoing mail.
    pub smtp: SmtpConfig,
    /// Acknowledgements and notifications (the outbox).
    pub outbox: OutboxConfig,
    /// Trust material and the recognition of Polish signature kinds (absent: the defaults).
    #[serde(default)]
    pub trust: TrustConfig,
    /// The seal of the receipts (absent: receipts unsigned).
    #[serde(default)]
    pub receipt: ReceiptConfig,
    /// The public upload page and the JSON API.
    pub upload: UploadConfig,
}

/// `[upload]`: the public upload page and the JSON API.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UploadConfig {
    /// Most files in one submission.
    pub max_files: usize,
    /// Largest file, in bytes.
    pub max_file_bytes: u64,
    /// Largest request (all files and fields together), in bytes.
    pub max_request_bytes: u64,
    /// File name extensions accepted (lowercase, without the dot).
    pub accepted_extensions: Vec<String>,
    /// Submissions verified at once while their senders wait for the result.
    pub verify_workers: usize,
    /// Submissions that may wait for a verification slot; beyond that: 503 with Retry-After.
    pub verify_queue: usize,
    /// The address residents reach the gateway at (links on receipts); empty: relative links.
    pub public_url: String,
    /// The longest message text accepted, in characters.
    pub max_message_chars: usize,
}

/// `[office]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfficeConfig {
    /// Full official name, printed on receipts.
    pub name: String,
    /// IANA time zone of the office: registration years and local times shown to people.
    pub timezone: String,
}

/// `[database]`.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite://PATH` (embedded) or `postgres://...`.
    pub url: String,
    /// Read the URL from this file instead (for a password kept out of the config).
    pub url_file: String,
    /// Connection pool size.
    pub max_connections: u32,
    /// How long to wait for a connection or a lock, in seconds.
    pub acquire_timeout_secs: u64,
}

impl fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseConfig")
            .field("url", &redact_url(&self.url))
            .field("url_file", &self.url_file)
            .field("max_connections", &self.max_connections)
            .field("acquire_timeout_secs", &self.acquire_timeout_secs)
            .finish()
    }
}

/// `[storage]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageConfig {
    /// Data directory: blobs under `blobs/`, the SQLite database by default.
    pub dir: PathBuf,
    /// Call fsync on every blob and its directory before the row naming it is committed.
    pub fsync: bool,
}

/// `[web]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebConfig {
    /// Address and port to listen on.
    pub listen: String,
    /// Mark session cookies `Secure` (serve behind TLS).
    pub secure_cookies: bool,
    /// Lifetime of a session after login, in minutes.
    pub session_minutes: u32,
    /// Failed logins in a row that lock an account.
    pub login_max_failures: u32,
    /// How long a locked account stays locked, in minutes.
    pub login_lockout_minutes: u32,
    /// The KPA time limit from arrival shown in the inbox, in months.
    pub deadline_months: u32,
    /// Submissions per page of the inbox list.
    pub page_size: u32,
    /// Take the client address from `X-Forwarded-For` (behind a reverse proxy that sets it).
    pub trust_forwarded_for: bool,
    /// Requests per minute per client on the public endpoints (upload, status, API); 0 = no limit.
    pub public_rate_per_minute: u32,
    /// Requests a client may make at once before the per-minute rate applies.
    pub public_rate_burst: u32,
    /// Login attempts per minute per client address; 0 = no limit.
    pub login_rate_per_minute: u32,
    /// Login attempts a client may make at once.
    pub login_rate_burst: u32,
}

/// `[register]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterConfig {
    /// Pattern of registration numbers: `{n}` the number within the year, `{yyyy}` the year.
    pub number_pattern: String,
}

/// `[pipeline]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineConfig {
    /// Worker tasks per process.
    pub workers: usize,
    /// Submissions a worker claims at once (one transaction per step per batch).
    pub batch_size: usize,
    /// How long a claim holds before another worker may take the row over, in seconds.
    pub lease_secs: u64,
    /// How long an idle worker waits before looking for work again, in milliseconds.
    pub idle_poll_ms: u64,
}

/// `[limits]`: bounds on everything parsed from outside.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    /// Largest raw message accepted for unpacking, in bytes (larger ones are stored and quarantined).
    pub max_message_bytes: u64,
    /// Deepest MIME nesting (multipart and message/rfc822 levels together).
    pub max_mime_depth: usize,
    /// Most MIME parts in one message.
    pub max_parts: usize,
    /// Most documents extracted from one submission (all containers together).
    pub max_documents: usize,
    /// Largest total of uncompressed bytes taken out of the archives of one submission.
    pub zip_max_total_bytes: u64,
    /// Largest compression ratio of one archive entry.
    pub zip_max_ratio: u64,
    /// Most entries in one archive.
    pub zip_max_entries: usize,
    /// Deepest nesting of archives in archives.
    pub zip_max_depth: usize,
}

/// `[routing]`: departments and the rules that choose one.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingConfig {
    /// The department that gets what no rule claims (the intake office).
    pub default_department: String,
    /// Departments with an inbox.
    pub departments: Vec<DepartmentConfig>,
    /// Rules, tried in order; the first that matches decides.
    pub rules: Vec<RuleConfig>,
}

/// `[trust]`: where trust material lives (never inside the binary) and how the Polish kinds
/// are recognised (ETSI TS 119 612 lists, EN 319 102-1 validation; issue 5).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrustConfig {
    /// Folder of PEM trust anchors, cached CRLs (`*.crl`) and `intermediates/`.
    pub anchors_dir: String,
    /// Trusted list files (the EU list of lists first, then national lists), checked on load.
    pub trusted_lists: Vec<String>,
    /// PEM files of list signers accepted without a parent list (the EU list of lists'
    /// signers as published in the Official Journal; a test list's signer).
    pub list_signers: Vec<String>,
    /// SHA-256 (hex) of the `pl.ID Root CA` certificates: a path there is podpis osobisty.
    pub personal_root_sha256: Vec<String>,
    /// `attribute=value` pairs that all must be in the subject of the podpis zaufany seal.
    pub trusted_profile_subject: Vec<String>,
    /// Without revocation data for the signing certificate, INDETERMINATE / TRY_LATER.
    pub require_revocation: bool,
    /// Fetch OCSP answers and CRLs from the addresses in certificates when nothing fresh is at
    /// hand (off: embedded data, `anchors_dir` CRLs and the revocation cache only).
    pub online_revocation: bool,
    /// Folder of fetched OCSP answers and CRLs, kept as evidence and read also offline
    /// (empty: `<anchors_dir>/revocation`).
    pub revocation_cache_dir: String,
    /// Seconds one fetch (connect, send, receive) may take.
    pub fetch_timeout_secs: u64,
    /// Largest OCSP answer, CRL or trusted list fetched, in bytes.
    pub fetch_max_bytes: usize,
    /// Send a nonce in OCSP requests (RFC 8954).
    pub ocsp_nonce: bool,
    /// Seconds revocation data without nextUpdate stays fresh after its thisUpdate.
    pub revocation_max_age_secs: u64,
    /// Address of the EU list of lists, for `podawcza trust update`.
    pub lotl_url: String,
    /// Territories whose national lists `podawcza trust update` fetches (ISO 3166 codes).
    pub update_territories: Vec<String>,
    /// Folder where `podawcza trust update` stores the lists it fetched and checked.
    pub lists_dir: String,
}

impl Default for TrustConfig {
    fn default() -> Self {
        TrustConfig {
            anchors_dir: "certs".into(),
            trusted_lists: Vec::new(),
            list_signers: Vec::new(),
            personal_root_sha256: vec![
                "5a545dc780b8400900b2c1400e871c43f0e0f3ad33ca31c508a9e9b1ab731095".into(),
            ],
            trusted_profile_subject: vec!["organizationIdentifier=VATPL-5252955037".into()],
            require_revocation: true,
            online_revocation: false,
            revocation_cache_dir: String::new(),
            fetch_timeout_secs: 10,
            fetch_max_bytes: 10 * 1024 * 1024,
            ocsp_nonce: false,
            revocation_max_age_secs: 86_400,
            lotl_url: "https://ec.europa.eu/tools/lotl/eu-lotl.xml".into(),
            update_territories: vec!["PL".into()],
            lists_dir: "certs/lists".into(),
        }
    }
}

/// `[receipt]`: the office's seal for receipts (UPP). Both empty: receipts are unsigned.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptConfig {
    /// PEM private key file of the seal (empty: unsigned receipts).
    pub seal_key: String,
    /// PEM certificate file of the seal, optionally followed by its chain.
    pub seal_cert: String,
}

/// `[[routing.departments]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DepartmentConfig {
    /// Short code.
    pub code: String,
    /// Full Polish name.
    pub name: String,
    /// Address notified when something is dispatched to it (empty: none).
    pub email: String,
    /// The time limit of its matters in months, when it differs from `[web] deadline_months`
    /// (a rule's own limit wins).
    #[serde(default)]
    pub deadline_months: Option<u32>,
    /// The time limit of its matters in days (instead of months).
    #[serde(default)]
    pub deadline_days: Option<u32>,
}

/// `[[routing.rules]]`: a rule matches when any of its non-empty criteria matches.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    /// Name recorded with each decision.
    pub name: String,
    /// Department code it routes to.
    pub department: String,
    /// Recipient addresses (exact, case-insensitive) that route here.
    #[serde(default)]
    pub to: Vec<String>,
    /// Sender addresses or `@domain` suffixes that route here.
    #[serde(default)]
    pub sender: Vec<String>,
    /// Keywords or phrases looked for in the subject, text and file names (diacritics folded,
    /// inflected forms matched).
    #[serde(default)]
    pub keywords: Vec<String>,
    /// The time limit of the matters this rule routes, in months (e.g. 2 for particularly
    /// complicated cases, KPA art. 35 § 3); unset: the department's, else `[web] deadline_months`.
    #[serde(default)]
    pub deadline_months: Option<u32>,
    /// The time limit in days instead (e.g. 14 for access to public information, 7 for a civil
    /// status certificate).
    #[serde(default)]
    pub deadline_days: Option<u32>,
}

pub use mail::{MailboxConfig, MarkMode, OutboxConfig, SmtpConfig, TlsMode};

mod mail;

impl Config {
    /// Loads the configuration: the file found by the lookup order (or the embedded defaults),
    /// then environment overrides from `vars`, then secret files.
    pub fn load(
        explicit: Option<&Path>,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let vars: Vec<(String, String)> = vars.into_iter().collect();
        let from_env = vars
            .iter()
            .find(|(k, _)| k == "PODAWCZA_CONFIG")
            .map(|(_, v)| PathBuf::from(v));
        let path = explicit.map(Path::to_path_buf).or(from_env).or_else(|| {
            let p = PathBuf::from("config.toml");
            p.exists().then_some(p)
        });
        let (origin, text) = match path {
            Some(p) => {
                let text = std::fs::read_to_string(&p).map_err(|source| ConfigError::Read {
                    path: p.clone(),
                    source,
                })?;
                (p.display().to_string(), text)
            }
            None => ("defaults".to_string(), REFERENCE_CONFIG.to_string()),
        };
        Self::from_toml(&origin, &text, vars)
    }

    /// Parses TOML text and applies environment overrides (`PODAWCZA_<SECTION>__<KEY>`).
    pub fn from_toml(
        origin: &str,
        text: &str,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let invalid = |source| ConfigError::Invalid {
            origin: origin.to_string(),
            source,
        };
        let mut value: toml::Table = toml::from_str(text).map_err(invalid)?;
        for (var, raw) in vars {
            apply_override(&mut value, &var, &raw)?;
        }
        let mut config: Config = value.try_into().map_err(invalid)?;
        config.read_secrets()?;
        config.check()?;
        Ok(config)
    }

    fn read_secrets(&mut self) -> Result<(), ConfigError> {
        self.mailbox.read_passwords()?;
        self.smtp.password = read_secret("smtp.password_file", &self.smtp.password_file)?;
        if !self.database.url_file.is_empty() {
            let path = PathBuf::from(&self.database.url_file);
            let url = std::fs::read_to_string(&path).map_err(|source| ConfigError::Secret {
                key: "database.url_file",
                path,
                source,
            })?;
            self.database.url = url.trim().to_string();
        }
        Ok(())
    }

    fn check(&self) -> Result<(), ConfigError> {
        let value = |key, message: &str| ConfigError::Value {
            key,
            message: message.to_string(),
        };
        if !self.register.number_pattern.contains("{n}") {
            return Err(value("register.number_pattern", "must contain {n}"));
        }
        if self.office.timezone.parse::<chrono_tz::Tz>().is_err() {
            return Err(value("office.timezone", "not an IANA time zone name"));
        }
        if self.pipeline.workers == 0 || self.pipeline.batch_size == 0 {
            return Err(value(
                "pipeline",
                "workers and batch_size must be at least 1",
            ));
        }
        self.mailbox.check_all()?;
        if self.web.page_size == 0 || self.web.page_size > 1000 {
            return Err(value("web.page_size", "must be between 1 and 1000"));
        }
        if self.web.login_max_failures == 0 || self.web.session_minutes == 0 {
            return Err(value(
                "web",
                "login_max_failures and session_minutes must be at least 1",
            ));
        }
        let limits = self
            .routing
            .rules
            .iter()
            .map(|r| (&r.name, r.deadline_months, r.deadline_days))
            .chain(
                self.routing
                    .departments
                    .iter()
                    .map(|d| (&d.code, d.deadline_months, d.deadline_days)),
            );
        for (name, months, days) in limits {
            if months.is_some() && days.is_some() || months == Some(0) || days == Some(0) {
                return Err(ConfigError::Value {
                    key: "routing",
                    message: format!(
                        "{name:?}: set one of deadline_months and deadline_days, at least 1"
                    ),
                });
            }
        }
        let known = |code: &str| self.routing.departments.iter().any(|d| d.code == code);
        if !known(&self.routing.default_department) {
            return Err(value("routing.default_department", "names no department"));
        }
        if let Some(rule) = self.routing.rules.iter().find(|r| !known(&r.department)) {
            return Err(ConfigError::Value {
                key: "routing.rules",
                message: format!(
                    "rule {:?} names unknown department {:?}",
                    rule.name, rule.department
                ),
            });
        }
        Ok(())
    }

    /// The office's time zone.
    pub fn timezone(&self) -> chrono_tz::Tz {
        self.office
            .timezone
            .parse()
            .unwrap_or(chrono_tz::Europe::Warsaw)
    }

    /// The database URL, with the default SQLite file under the data directory when it is empty.
    pub fn database_url(&self) -> String {
        if self.database.url.is_empty() {
            format!(
                "sqlite://{}?mode=rwc",
                self.storage.dir.join("podawcza.db").display()
            )
        } else {
            self.database.url.clone()
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("office", &self.office)
            .field("database", &self.database)
            .field("storage", &self.storage)
            .field("web", &self.web)
            .field("register", &self.register)
            .field("pipeline", &self.pipeline)
            .field("limits", &self.limits)
            .field("routing", &self.routing)
            .field("mailbox", &self.mailbox)
            .field("smtp", &self.smtp)
            .field("outbox", &self.outbox)
            .field("trust", &self.trust)
            .field("receipt", &self.receipt)
            .finish()
    }
}

/// Reads a secret from a file (trimmed); an empty path gives an empty secret.
fn read_secret(key: &'static str, path: &str) -> Result<String, ConfigError> {
    if path.is_empty() {
        return Ok(String::new());
    }
    let path = PathBuf::from(path);
    std::fs::read_to_string(&path)
        .map(|s| s.trim().to_string())
        .map_err(|source| ConfigError::Secret { key, path, source })
}

/// Applies one `PODAWCZA_<SECTION>__<KEY>` variable; other variables are ignored.
fn apply_override(table: &mut toml::Table, var: &str, raw: &str) -> Result<(), ConfigError> {
    let Some(rest) = var.strip_prefix("PODAWCZA_") else {
        return Ok(());
    };
    if rest == "CONFIG" || rest.starts_with("TEST_") || rest == "LOG" {
        return Ok(());
    }
    let Some((section, key)) = rest.split_once("__") else {
        return Err(ConfigError::BadOverride {
            var: var.to_string(),
        });
    };
    let (section, key) = (section.to_ascii_lowercase(), key.to_ascii_lowercase());
    let Some(toml::Value::Table(sect)) = table.get_mut(&section) else {
        return Err(ConfigError::BadOverride {
            var: var.to_string(),
        });
    };
    // Keep the type of the key being overridden: a number stays a number, text stays text.
    let parsed = match sect.get(&key) {
        Some(toml::Value::String(_)) | None => toml::Value::String(raw.to_string()),
        Some(_) => format!("v = {raw}")
            .parse::<toml::Table>()
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or_else(|| toml::Value::String(raw.to_string())),
    };
    sect.insert(key, parsed);
    Ok(())
}

/// Hides the password of a database URL.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            let user = creds.split(':').next().unwrap_or("");
            format!("{}://{}:***@{}", &url[..s], user, &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn reference_config_parses_and_is_consistent() {
        let c = Config::from_toml("reference", REFERENCE_CONFIG, env(&[])).unwrap();
        assert_eq!(c.routing.default_department, "BP");
        assert_eq!(c.web.listen, "127.0.0.1:8080");
        assert!(c.database_url().starts_with("sqlite://"));
    }

    #[test]
    fn environment_overrides_keep_the_type_of_the_key() {
        let c = Config::from_toml(
            "reference",
            REFERENCE_CONFIG,
            env(&[
                ("PODAWCZA_DATABASE__URL", "postgres://u:secret@localhost/db"),
                ("PODAWCZA_PIPELINE__WORKERS", "7"),
                ("PODAWCZA_STORAGE__FSYNC", "false"),
                ("HOME", "/root"),
            ]),
        )
        .unwrap();
        assert_eq!(c.pipeline.workers, 7);
        assert!(!c.storage.fsync);
        assert!(
            !format!("{c:?}").contains("secret"),
            "Debug must redact the password"
        );
    }

    #[test]
    fn rejects_unknown_keys_and_bad_overrides() {
        let bad = format!("{REFERENCE_CONFIG}\n[extra]\nx = 1\n");
        assert!(Config::from_toml("t", &bad, env(&[])).is_err());
        let e = Config::from_toml(
            "t",
            REFERENCE_CONFIG,
            env(&[("PODAWCZA_NOSECTION__X", "1")]),
        );
        assert!(matches!(e, Err(ConfigError::BadOverride { .. })));
    }

    #[test]
    fn further_mailboxes_need_names_of_their_own() {
        let more = REFERENCE_CONFIG.replace(
            "# Further mailboxes:",
            "[[mailbox.more]]\nenabled = true\nname = \"ogolna\"\nhost = \"h\"\nport = 993\n\
             tls = \"implicit\"\nca_file = \"\"\nuser = \"u\"\npassword_file = \"\"\n\
             folders = [\"INBOX\"]\npoll_interval_secs = 60\nidle = true\nbatch_size = 50\n\
             max_message_bytes = 1000\ntimeout_secs = 60\nlease_secs = 120\nmax_backoff_secs = 300\n\
             mark = \"keyword\"\nkeyword = \"$Podawcza\"\nmove_to = \"X\"\ndelete = false\n\
             # Further mailboxes:",
        );
        assert!(matches!(
            Config::from_toml("t", &more, env(&[])),
            Err(ConfigError::Value { key: "mailbox", .. })
        ));
        let renamed = more.replace(
            "name = \"ogolna\"\nhost = \"h\"",
            "name = \"usc\"\nhost = \"h\"",
        );
        let c = Config::from_toml("t", &renamed, env(&[])).unwrap();
        assert_eq!(c.mailbox.enabled().len(), 1);
        assert_eq!(c.mailbox.enabled()[0].name, "usc");
    }

    #[test]
    fn reads_the_database_url_from_a_secret_file() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("url");
        std::fs::write(&f, "postgres://x:y@h/d\n").unwrap();
        let c = Config::from_toml(
            "t",
            REFERENCE_CONFIG,
            env(&[("PODAWCZA_DATABASE__URL_FILE", f.to_str().unwrap())]),
        )
        .unwrap();
        assert_eq!(c.database.url, "postgres://x:y@h/d");
    }
}
