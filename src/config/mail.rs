//! The mail sections of the configuration: `[mailbox]` (IMAP intake, with further mailboxes under
//! `[[mailbox.more]]`), `[smtp]` (the server outgoing mail goes through) and `[outbox]`
//! (acknowledgements and notifications). Passwords are read from files, never from the config.

use super::ConfigError;
use serde::Deserialize;
use std::fmt;

/// How the connection is encrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    /// TLS from the first byte (IMAPS 993, SMTPS 465).
    Implicit,
    /// Plain connection upgraded with STARTTLS before login (IMAP 143, submission 587).
    Starttls,
}

/// What the poller does to a message once it is registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MarkMode {
    /// Set the keyword and `\\Seen`; the message stays in its folder.
    Keyword,
    /// Set the keyword and `\\Seen`, then move it to `move_to`.
    Move,
}

/// `[mailbox]` and each `[[mailbox.more]]`: one IMAP account polled for submissions.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailboxConfig {
    /// Poll this mailbox at all.
    pub enabled: bool,
    /// Short name: the key of its lease, its records and its health.
    pub name: String,
    /// Server host name (checked against its certificate).
    pub host: String,
    /// Server port.
    pub port: u16,
    /// `implicit` or `starttls`.
    pub tls: TlsMode,
    /// Extra CA certificates (PEM) trusted for this server; empty: the system's.
    pub ca_file: String,
    /// Login name.
    pub user: String,
    /// File holding the password.
    pub password_file: String,
    /// Folders polled, in order.
    pub folders: Vec<String>,
    /// Seconds between polls (and the longest IDLE wait).
    pub poll_interval_secs: u64,
    /// Wait for new mail with IDLE between polls when the server offers it, on every folder (one
    /// connection per folder).
    pub idle: bool,
    /// Messages fetched and registered per transaction.
    pub batch_size: usize,
    /// Larger messages (by `RFC822.SIZE`) are recorded with their headers and left on the server.
    pub max_message_bytes: u64,
    /// Seconds any single step (connect, login, search, fetch, store) may take.
    pub timeout_secs: u64,
    /// Seconds the poller's lease holds; another process takes the mailbox over after it.
    pub lease_secs: u64,
    /// Longest wait between attempts while the server or the database is down, in seconds.
    pub max_backoff_secs: u64,
    /// `keyword` or `move`.
    pub mark: MarkMode,
    /// The keyword set on registered messages.
    pub keyword: String,
    /// Folder registered messages are moved to when `mark = "move"`.
    pub move_to: String,
    /// Delete (expunge) registered messages from the server.
    pub delete: bool,
    /// Further mailboxes, each with every key above (`[[mailbox.more]]`).
    #[serde(default)]
    pub more: Vec<MailboxConfig>,
    /// The password, read from `password_file`.
    #[serde(skip)]
    pub password: String,
}

impl fmt::Debug for MailboxConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MailboxConfig")
            .field("enabled", &self.enabled)
            .field("name", &self.name)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("user", &self.user)
            .field("folders", &self.folders)
            .field("mark", &self.mark)
            .field("more", &self.more)
            .finish_non_exhaustive()
    }
}

impl MailboxConfig {
    /// This mailbox and the further ones.
    pub fn all(&self) -> Vec<&MailboxConfig> {
        std::iter::once(self).chain(self.more.iter()).collect()
    }

    /// Reads the password files of this mailbox and the further ones.
    pub(super) fn read_passwords(&mut self) -> Result<(), ConfigError> {
        self.password = super::read_secret("mailbox.password_file", &self.password_file)?;
        for m in &mut self.more {
            m.read_passwords()?;
        }
        Ok(())
    }

    /// The mailboxes that are switched on.
    pub fn enabled(&self) -> Vec<&MailboxConfig> {
        self.all().into_iter().filter(|m| m.enabled).collect()
    }

    /// Checks every mailbox, and that their names are unique (a name keys the lease).
    pub(super) fn check_all(&self) -> Result<(), ConfigError> {
        let all = self.all();
        for (i, m) in all.iter().enumerate() {
            m.check()?;
            if all.iter().skip(i + 1).any(|o| o.name == m.name) {
                return Err(ConfigError::Value {
                    key: "mailbox",
                    message: format!("two mailboxes are named {:?}", m.name),
                });
            }
        }
        Ok(())
    }

    fn check(&self) -> Result<(), ConfigError> {
        let bad = |message: &str| ConfigError::Value {
            key: "mailbox",
            message: format!("{}: {message}", self.name),
        };
        if self.name.is_empty() {
            return Err(bad("name must not be empty"));
        }
        if self.batch_size == 0 || self.timeout_secs == 0 || self.lease_secs == 0 {
            return Err(bad(
                "batch_size, timeout_secs and lease_secs must be at least 1",
            ));
        }
        if self.keyword.is_empty()
            || self
                .keyword
                .contains([' ', '(', ')', '{', '%', '*', '"', '\\', ']'])
        {
            return Err(bad("keyword must be an IMAP atom"));
        }
        if self.mark == MarkMode::Move && self.move_to.is_empty() {
            return Err(bad("mark = \"move\" needs move_to"));
        }
        if self.enabled && self.folders.is_empty() {
            return Err(bad("folders must name at least one folder"));
        }
        Ok(())
    }
}

/// `[smtp]`: the server acknowledgements and notifications are sent through.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    /// Send mail at all (off: the outbox keeps its rows until switched on).
    pub enabled: bool,
    /// Server host name (checked against its certificate).
    pub host: String,
    /// Server port.
    pub port: u16,
    /// `implicit` or `starttls`.
    pub tls: TlsMode,
    /// Extra CA certificates (PEM) trusted for this server; empty: the system's.
    pub ca_file: String,
    /// Login name (empty: no AUTH).
    pub user: String,
    /// File holding the password.
    pub password_file: String,
    /// The `From:` address of everything the office sends.
    pub from: String,
    /// Seconds one delivery may take.
    pub timeout_secs: u64,
    /// The password, read from `password_file`.
    #[serde(skip)]
    pub password: String,
}

impl fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("enabled", &self.enabled)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("user", &self.user)
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

/// `[outbox]`: what is sent, how often it is retried, and loop protection.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboxConfig {
    /// Acknowledge every registered e-mail to its sender.
    pub acknowledge_email: bool,
    /// Notify a department's address when a submission is dispatched to it.
    pub notify_departments: bool,
    /// The notice about legally effective channels printed in acknowledgements of e-mail.
    pub email_notice: String,
    /// At most this many acknowledgements to one sender per hour (the rest are recorded, not sent).
    pub max_per_sender_per_hour: i64,
    /// Attempts before a message is given up (and shown as failed).
    pub max_attempts: i64,
    /// Seconds before the first retry; doubled on every further failure.
    pub retry_base_secs: u64,
    /// Longest wait between retries, in seconds.
    pub retry_max_secs: u64,
    /// Milliseconds an idle outbox worker waits before looking for mail to send.
    pub idle_poll_ms: u64,
}
